"""One suite over every selector config: budget, determinism, clone, recovery, bad input.

Each config under configs/selector/ must have a TINY entry (shrunken settings), so a new
selector cannot be added without going through this suite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from sklearn.base import clone
from sklearn.datasets import make_classification

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted(p.stem for p in (ROOT / "configs" / "selector").glob("*.yaml"))

TINY = {
    "entryprune": dict(n_hidden=32, patience=10, n_mb=20),
    "entryprune_flex": dict(n_hidden=32, patience=10, n_mb=20, resize_patience=3),
    "neurofs": dict(n_hidden=200, n_hidden_layers=1, epsilon=20, epochs=40, lr=0.05),
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
REFERENCES = {"random", "all_features"}
# These see one column at a time (or a linear boundary), while make_classification puts
# the informative columns on hypercube vertices with two clusters per class: several of
# them carry no marginal (or linear) signal at all. Measured on the data below they find
# 5 (anova_f, fisher_score, mutual_info) and 7 (l1_logreg) of 10; they are checked on data
# with marginal signal instead (test_marginal_methods_find_shifted_columns).
MARGINAL = {"anova_f", "fisher_score", "mutual_info", "l1_logreg"}
NEURAL = {"entryprune", "entryprune_flex", "neurofs", "lassonet", "lassonet_bench", "stg",
          "cancelout"}


def build(name, k, random_state=0, **extra):
    spec = OmegaConf.to_container(OmegaConf.load(ROOT / "configs/selector" / f"{name}.yaml"))
    if "defaults" in spec:  # entryprune_flex extends entryprune
        spec.pop("defaults")
        base = OmegaConf.to_container(OmegaConf.load(ROOT / "configs/selector/entryprune.yaml"))
        spec = {**base, **spec}
    spec.pop("name")
    factory = instantiate(spec, _partial_=True)
    kwargs = dict(TINY[name], **extra)
    params = factory.func().get_params()
    if "random_state" in params:
        kwargs["random_state"] = random_state
    if "device" in params:
        kwargs["device"] = "cpu"
    return factory(n_features_to_select=k, **kwargs)


# The informative columns are the LAST ten (make_classification puts them first; the
# columns are reversed), so a selector that fills its budget by lowest column index on
# ties gains nothing from index order.
INFORMATIVE = np.arange(50, 60)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=1000, n_features=60, n_informative=10,
                               n_redundant=0, shuffle=False, random_state=0)
    return np.ascontiguousarray(X[:, ::-1], dtype=np.float32), y


def test_every_config_has_tiny_settings():
    assert set(CONFIGS) == set(TINY), "add shrunken settings for every selector config"


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return {name: build(name, 10).fit(X, y) for name in CONFIGS}


@pytest.mark.parametrize("name", CONFIGS)
def test_budget_respected(name, data, fitted):
    X, y = data
    sel = fitted[name]
    if name == "all_features":
        assert sel.get_support().sum() == 60
        return
    assert sel.get_support().sum() == 10
    if not getattr(sel, "refit_per_budget", True):
        for k in (1, 7, 60):
            sel.set_params(n_features_to_select=k)
            assert sel.get_support().sum() == k
        sel.set_params(n_features_to_select=10)
    else:
        other = build(name, 3).fit(X, y)
        assert other.get_support().sum() == 3


@pytest.mark.parametrize("name", sorted(set(CONFIGS) - REFERENCES - MARGINAL))
def test_finds_informative_columns(name, fitted):
    found = np.flatnonzero(fitted[name].get_support())
    assert np.isin(found, INFORMATIVE).sum() >= 8, f"{name} found {found}"


@pytest.mark.parametrize("name", sorted(MARGINAL))
def test_marginal_methods_find_shifted_columns(name):
    rng = np.random.default_rng(0)
    y = np.arange(600) % 3
    X = rng.normal(size=(600, 40)).astype(np.float32)
    X[:, -8:] += (y[:, None] * 0.8).astype(np.float32)  # marginal, linear class signal
    sel = build(name, 8).fit(X, y)
    assert (np.flatnonzero(sel.get_support()) >= 32).sum() >= 8


@pytest.mark.parametrize("name", CONFIGS)
def test_same_seed_same_selection(name, data, fitted):
    X, y = data
    again = build(name, 10).fit(X, y)
    assert np.array_equal(again.get_support(), fitted[name].get_support())
    if hasattr(again, "scores_"):
        np.testing.assert_array_equal(again.scores_, fitted[name].scores_)


@pytest.mark.parametrize("name", CONFIGS)
def test_clone_round_trip(name):
    sel = build(name, 10)
    twin = clone(sel)
    assert type(twin) is type(sel)
    for key, value in sel.get_params().items():
        assert twin.get_params()[key] == value, key
    assert not hasattr(twin, "scores_") and not hasattr(twin, "support_")


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_neural_selectors_record_device_and_leave_global_rng(name, data):
    X, y = data
    torch.manual_seed(123)
    expect = torch.rand(3)
    torch.manual_seed(123)
    sel = build(name, 5).fit(X[:300], y[:300])
    assert sel.device_ == "cpu"
    assert torch.equal(torch.rand(3), expect), f"{name} touched torch's global RNG"


BAD = {
    "nan": ("NaN", lambda X, y: (np.where(np.eye(*X.shape, dtype=bool), np.nan, X), y, 3)),
    "inf": ("infinite", lambda X, y: (np.where(np.eye(*X.shape, dtype=bool), np.inf, X), y, 3)),
    "k0": (">= 1", lambda X, y: (X, y, 0)),
    "k_big": ("exceeds", lambda X, y: (X, y, 61)),
    "one_class": ("at least 2", lambda X, y: (X, np.zeros_like(y), 3)),
    "lengths": ("different lengths", lambda X, y: (X, y[:-5], 3)),
    "object": ("numeric", lambda X, y: (X.astype(object).astype(str).astype(object)[:, :2]
                                        .__add__("x"), y, 1)),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("name", CONFIGS)
def test_bad_input_gives_a_clear_error(name, case, data):
    X, y = data
    match, make = BAD[case]
    # make_classification(shuffle=False) sorts rows by class: take every 5th row so the
    # sample holds both classes and only the defect under test is wrong.
    Xb, yb, k = make(X[::5], y[::5])
    if name == "all_features" and case in ("k0", "k_big"):
        return  # the ceiling ignores K by design (documented): nothing to refuse
    with pytest.raises(ValueError, match=match):
        build(name, k).fit(Xb, yb)


@pytest.mark.parametrize("name", CONFIGS)
def test_constant_columns_and_string_labels_are_handled(name, data):
    X, y = data
    Xc = X[:300].copy()
    Xc[:, 20:30] = 1.0  # constant noise columns
    labels = np.array(["cat", "dog"])[y[:300]]
    sel = build(name, 5).fit(Xc, labels)
    assert list(sel.classes_) == ["cat", "dog"]
    assert sel.get_support().sum() == (60 if name == "all_features" else 5)
    if hasattr(sel, "scores_"):
        assert np.isfinite(sel.scores_).all()
