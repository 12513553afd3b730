"""One suite over every selector config: the checks of ``bench.testing.check_selector``.

Users run the same function on their own selectors (docs/plugins.md); here it runs, with
``strict=True`` (this project's exact error wording, ``classes_``, finite scores), on every
config under configs/selector/ with shrunken settings. Each config must have a TINY entry,
so a new selector cannot be added without going through this suite. One report per config
is computed once (its fits are shared) and each test asserts one of its checks.
"""

from __future__ import annotations

import functools

import pytest

from bench.factory import build_selector, list_selector_configs, selector_spec
from bench.testing import BAD_INPUTS, CHECKS, check_selector

CONFIGS = list_selector_configs()

TINY = {
    "entryprune": dict(n_hidden=32, patience=10, n_mb=20),
    "entryprune_flex": dict(n_hidden=32, patience=10, n_mb=20, resize_patience=3),
    "neurofs": dict(n_hidden=200, n_hidden_layers=1, epsilon=20, epochs=40, lr=0.05),
    "neurofs_released": dict(n_hidden=200, n_hidden_layers=1, epsilon=20, epochs=40, lr=0.05),
    "lassonet": dict(path_multiplier=1.1, n_iters=(200, 20), patience=(20, 5)),
    "lassonet_bench": dict(path_multiplier=1.1, n_iters=(200, 20), patience=(20, 5)),
    "stg": dict(max_epochs=1000),  # 300 epochs of full-batch SGD find 7-8 of 10; 1000 find 10
    # 20 of the authors' 100 epochs: their variance term keeps pushing saturated gates apart,
    # and on this data the full 100 epochs find 4 of 10 informative columns (20: 10 of 10;
    # see CancelOutSelector's Notes).
    "cancelout": dict(max_epochs=20),
    "random_forest": dict(n_estimators=50),
    "xgboost": dict(n_estimators=50),
    "l1_logreg": dict(Cs=10),
    "mutual_info": {}, "fisher_score": {}, "anova_f": {}, "random": {}, "all_features": {},
}
# TINY shrunk further for the tests that fit each selector dozens of times on toy data
# (scikit-learn's estimator checks, the grid searches of test_conformance.py), where only
# the contract matters, not the selection. LassoNet's lambda_start="auto" search alone
# takes about 15 s per fit there, so its path starts at a fixed lambda.
FAST = {
    **TINY,
    "neurofs": dict(TINY["neurofs"], epochs=10),
    "neurofs_released": dict(TINY["neurofs_released"], epochs=10),
    "lassonet": dict(path_multiplier=1.5, n_iters=(50, 10), patience=(5, 2), lambda_start=1.0),
    "lassonet_bench": dict(path_multiplier=1.5, n_iters=(50, 10), patience=(5, 2),
                           lambda_start=1.0),
    "stg": dict(max_epochs=100),
    "random_forest": dict(n_estimators=10),
    "xgboost": dict(n_estimators=10),
}
REFERENCES = {"random", "all_features"}
# These see one column at a time (or a linear boundary), while the hypercube problem puts
# the informative columns on hypercube vertices with two clusters per class: several of
# them carry no marginal (or linear) signal at all. Measured there they find 5 (anova_f,
# fisher_score, mutual_info) and 7 (l1_logreg) of 10; they are checked on the marginal
# problem instead (test_marginal_methods_find_shifted_columns).
MARGINAL = {"anova_f", "fisher_score", "mutual_info", "l1_logreg"}
NEURAL = {"entryprune", "entryprune_flex", "neurofs", "neurofs_released", "lassonet",
          "lassonet_bench", "stg", "cancelout"}
# The ceiling keeps every column whatever K (documented), so it has nothing to refuse there.
BUDGET_CASES = {"k0", "k_big"}


# Composed once per config: the suites below build each selector many times.
_spec = functools.lru_cache(maxsize=None)(selector_spec)


def build(name, k, random_state=0, **extra):
    """The selector of ``configs/selector/<name>.yaml`` with TINY settings, on the CPU.

    The settings are passed as keyword arguments, so TINY's tuples reach the selector as
    tuples (through the spec they would become lists).
    """
    return build_selector(_spec(name), k, random_state=random_state, device="cpu",
                          **dict(TINY[name], **extra))


@pytest.fixture(scope="module")
def report():
    """``report(name)``: check_selector's report for a config, computed once per module."""
    cache = {}

    def get(name, problem="hypercube"):
        if (name, problem) not in cache:
            if problem == "marginal":  # this problem serves the recovery check only
                skip = [c for c in CHECKS if c != "informative"]
            else:
                skip = ["informative"] if name in REFERENCES | MARGINAL else []
            cache[name, problem] = check_selector(build(name, 10), problem=problem,
                                                  strict=True, skip=skip, raise_errors=False)
        return cache[name, problem]

    return get


def test_every_config_has_tiny_settings():
    assert set(CONFIGS) == set(TINY), "add shrunken settings for every selector config"


@pytest.mark.parametrize("name", CONFIGS)
def test_follows_the_selector_contract(name, report):
    report(name).assert_passed("contract")


@pytest.mark.parametrize("name", CONFIGS)
def test_budget_respected(name, report):
    report(name).assert_passed("budget")


@pytest.mark.parametrize("name", sorted(set(CONFIGS) - REFERENCES - MARGINAL))
def test_finds_informative_columns(name, report):
    report(name).assert_passed("informative")


@pytest.mark.parametrize("name", sorted(MARGINAL))
def test_marginal_methods_find_shifted_columns(name, report):
    report(name, "marginal").assert_passed("informative")


@pytest.mark.parametrize("name", CONFIGS)
def test_same_seed_same_selection(name, report):
    report(name).assert_passed("deterministic")


@pytest.mark.parametrize("name", CONFIGS)
def test_clone_round_trip(name, report):
    report(name).assert_passed("clone")


@pytest.mark.parametrize("name", CONFIGS)
def test_ranking_scores_agree_with_support(name, report):
    result = report(name).results["scores"]
    if result.status == "not applicable":
        assert build(name, 10).refit_per_budget, result.message
        return
    report(name).assert_passed("scores")


@pytest.mark.parametrize("name", CONFIGS)
def test_global_random_state_untouched(name, report):
    report(name).assert_passed("global_rng")


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_neural_selectors_record_device_and_leave_global_rng(name, report):
    report(name).assert_passed("device")
    report(name).assert_passed("global_rng")


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
@pytest.mark.parametrize("name", CONFIGS)
def test_bad_input_gives_a_clear_error(name, case, report):
    check = f"bad_input[{case}]"
    if name == "all_features" and case in BUDGET_CASES:
        assert report(name).results[check].status == "not applicable"
        return
    report(name).assert_passed(check)


@pytest.mark.parametrize("name", CONFIGS)
def test_constant_columns_and_string_labels_are_handled(name, report):
    report(name).assert_passed("labels_and_constant_columns")


@pytest.mark.parametrize("name", CONFIGS)
def test_no_check_fails(name, report):
    # a check added to bench.testing later is covered here before it gets its own test
    assert not report(name).failures, str(report(name))


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(NEURAL | {"xgboost"}))
def test_selector_fits_on_cuda_and_says_so(name):
    """On a GPU machine (`make test-gpu`, `make gpu-check`): every selector with a device
    parameter fits on CUDA, keeps K columns and records the CUDA device it used."""
    import torch

    if not torch.cuda.is_available():
        pytest.fail("the gpu tests need a CUDA device (run them on a GPU machine)")
    from bench.testing import make_problem

    problem = make_problem("hypercube")
    sel = build_selector(_spec(name), problem.k, random_state=0, device="cuda",
                         **TINY[name]).fit(problem.X, problem.y)
    assert str(sel.device_).startswith("cuda"), sel.device_
    assert sel.get_support().sum() == problem.k
