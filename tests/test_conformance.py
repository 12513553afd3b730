"""check_selector catches broken selectors, and every selector works as a library component.

The first part feeds ``bench.testing.check_selector`` a correct selector written the way a
user would (scikit-learn's ``validate_data``, no code from this project) and copies of it
with one defect each; every defect must fail the check that names it, and only the checks
it breaks. The second part runs each selector config inside a scikit-learn ``Pipeline``
under ``GridSearchCV`` over ``n_features_to_select``.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
from _paths import PLUGINS_DOC
from sklearn.base import BaseEstimator
from sklearn.datasets import load_digits
from sklearn.feature_selection import SelectorMixin, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.validation import check_is_fitted, validate_data
from test_selectors_api import CONFIGS, FAST, build

from bench.testing import CHECKS, SelectorCheckError, check_selector
from entryprune import EntryPruneSelector

# ---------------------------------------------------------------- selectors under test


class FRanker(SelectorMixin, BaseEstimator):
    """A correct ranking selector: ANOVA F plus seeded jitter that breaks exact ties."""

    refit_per_budget = False

    def __init__(self, n_features_to_select=5, *, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.random_state = random_state

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        k = self.n_features_to_select
        if not 1 <= k <= X.shape[1]:
            raise ValueError(f"n_features_to_select={k} is outside 1..{X.shape[1]}")
        if np.unique(y).size < 2:
            raise ValueError("y has a single class; at least two are needed")
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Features [...] are constant."
            f = np.nan_to_num(f_classif(X, y)[0], nan=0.0)
        self.scores_ = f + 1e-9 * self._jitter(X.shape[1])
        return self

    def _jitter(self, n):
        return np.random.default_rng(self.random_state).random(n)

    def _get_support_mask(self):
        check_is_fitted(self, "scores_")
        mask = np.zeros(self.n_features_in_, dtype=bool)
        mask[np.argsort(-self.scores_, kind="stable")[: self.n_features_to_select]] = True
        return mask


class IgnoresBudget(FRanker):
    """Keeps twice the budget."""

    def _get_support_mask(self):
        mask = np.zeros(self.n_features_in_, dtype=bool)
        keep = min(2 * self.n_features_to_select, self.n_features_in_)
        mask[np.argsort(-self.scores_, kind="stable")[:keep]] = True
        return mask


class SeedsNumPyGlobally(FRanker):
    """The classic: seeds and draws from NumPy's global generator."""

    def _jitter(self, n):
        np.random.seed(self.random_state)  # noqa: NPY002 - the defect under test
        return np.random.rand(n)  # noqa: NPY002


class SeedsTorchGlobally(FRanker):
    """Seeds torch's global generator, as a network's initialisation often does."""

    def _jitter(self, n):
        torch.manual_seed(0 if self.random_state is None else self.random_state)
        return torch.rand(n).double().numpy()


class Unseeded(FRanker):
    """Draws its jitter from fresh entropy, whatever random_state says."""

    def _jitter(self, n):
        return np.random.default_rng().random(n)


class ScoresDisagree(FRanker):
    """Selects by F but publishes the reversed ranking as scores_."""

    def _get_support_mask(self):
        mask = np.zeros(self.n_features_in_, dtype=bool)
        mask[np.argsort(self.scores_, kind="stable")[: self.n_features_to_select]] = True
        return mask

    def fit(self, X, y):
        super().fit(X, y)
        self.scores_ = -self.scores_
        return self


class NoInputChecks(FRanker):
    """Skips validation: bad input goes straight into a hand-written statistic."""

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        self.n_features_in_ = X.shape[1]
        means = [X[y == c].mean(0) for c in np.unique(y)]
        with np.errstate(all="ignore"):
            self.scores_ = np.var(means, axis=0)
        return self


# ---------------------------------------------------------------- check_selector


def test_a_correct_user_selector_passes():
    est = FRanker(random_state=None)
    report = check_selector(est, problem="marginal")
    assert set(report.results) == set(CHECKS)
    assert {r.status for r in report.results.values()} <= {"passed", "not applicable"}
    assert report.results["device"].status == "not applicable"
    # the user's object is only ever copied: not fitted, random_state still None
    assert not hasattr(est, "scores_") and est.random_state is None


@pytest.mark.parametrize("broken,failed,check,words", [
    (IgnoresBudget, {"budget", "labels_and_constant_columns"}, "budget",
     "with n_features_to_select=8, get_support() keeps 16 columns"),
    (SeedsNumPyGlobally, {"global_rng"}, "global_rng",
     "fit changed the global random state of NumPy's"),
    (SeedsTorchGlobally, {"global_rng"}, "global_rng",
     "fit changed the global random state of torch's"),
    (Unseeded, {"deterministic"}, "deterministic",
     "two fits with random_state=0 on the same data gave different scores_"),
    (ScoresDisagree, {"scores"}, "scores",
     "a ranking selector must keep the K columns of largest scores_"),
    # NumPy's own "could not convert string to float" is a fine message for strings
    (NoInputChecks, {"bad_input[nan]", "bad_input[inf]", "bad_input[k0]", "bad_input[k_big]",
                     "bad_input[one_class]", "bad_input[lengths]"}, "bad_input[nan]",
     "fit accepted X holding NaN values without an error"),
])
def test_a_broken_selector_fails_the_check_that_names_its_defect(broken, failed, check, words):
    with pytest.raises(SelectorCheckError) as info:
        check_selector(broken(random_state=0), problem="marginal")
    err = info.value
    assert isinstance(err, AssertionError)
    assert set(err.failures) == failed, str(err)
    assert words in err.failures[check]
    assert str(err).startswith(f"{broken.__name__} failed {len(failed)} of ")
    assert f"\n  - {check}: {err.failures[check]}" in str(err)


def test_global_seeding_is_caught_every_time_and_the_callers_state_is_kept():
    # reading the global states is what this test is about
    numpy_before = pickle.dumps(np.random.get_state())  # noqa: NPY002
    torch_before = torch.random.get_rng_state()
    # a selector that seeds with a fixed value ends in the same state on every fit, so the
    # second run starts where the first ended: it must still be caught
    for broken in (SeedsNumPyGlobally, SeedsNumPyGlobally, SeedsTorchGlobally):
        report = check_selector(broken(random_state=0), problem="marginal",
                                raise_errors=False)
        assert set(report.failures) == {"global_rng"}
    assert pickle.dumps(np.random.get_state()) == numpy_before  # noqa: NPY002
    assert torch.equal(torch.random.get_rng_state(), torch_before)


@pytest.mark.parametrize("broken", [SeedsNumPyGlobally, IgnoresBudget])
def test_the_docs_show_real_messages(broken):
    with pytest.raises(SelectorCheckError) as info:
        check_selector(broken(random_state=0), problem="marginal")
    assert f"```text\n{info.value}\n```" in PLUGINS_DOC.read_text()


def test_a_selector_that_finds_nothing_fails_informative():
    class LowestIndex(FRanker):
        def fit(self, X, y):
            super().fit(X, y)
            self.scores_ = -np.arange(X.shape[1], dtype=float)  # ranks by column index
            return self

    report = check_selector(LowestIndex(), problem="marginal", raise_errors=False)
    assert set(report.failures) == {"informative"}
    assert "0 of the 8 informative ones, at least 8 needed" in report.failures["informative"]


def test_strict_mode_holds_this_projects_wording():
    # FRanker's one-class message says "at least two", not this project's "at least 2"
    report = check_selector(FRanker(), problem="marginal", strict=True, raise_errors=False)
    assert "bad_input[one_class]" in report.failures
    assert "'at least 2'" in report.failures["bad_input[one_class]"]
    # and classes_, which FRanker does not set
    assert "classes_" in report.failures["labels_and_constant_columns"]


def test_skip_and_assert_passed():
    report = check_selector(FRanker(), problem="marginal", skip=["bad_input", "informative"])
    assert report.results["informative"].status == "skipped"
    assert all(report.results[c].status == "skipped" for c in CHECKS if "bad_input" in c)
    with pytest.raises(SelectorCheckError, match="informative: did not run"):
        report.assert_passed("informative")
    with pytest.raises(ValueError, match="unknown check 'budgets'"):
        check_selector(FRanker(), skip=["budgets"])
    with pytest.raises(ValueError, match="problem must be one of"):
        check_selector(FRanker(), problem="xor")


# ---------------------------------------------------------------- Pipeline + GridSearchCV


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    # 600 rows: 300 per cross-validation fit, and 1197 held out
    return X[:600], y[:600], X[600:], y[600:]


def _search(selector, grid, X, y):
    pipe = Pipeline([("scale", MinMaxScaler()), ("select", selector),
                     ("clf", LogisticRegression(max_iter=500))])
    search = GridSearchCV(pipe, {"select__n_features_to_select": grid}, cv=2,
                          error_score="raise")
    return search.fit(X, y)


def test_entryprune_in_a_pipeline_with_grid_search(digits):
    X, y, X_test, y_test = digits
    sel = EntryPruneSelector(n_hidden=32, patience=10, n_mb=20, device="cpu", random_state=0)
    search = _search(sel, [4, 16], X, y)
    scores = search.cv_results_["mean_test_score"]
    # the grid really changed K: 16 pixels classify digits far better than 4
    assert scores[1] > scores[0] + 0.1, scores
    assert search.best_params_ == {"select__n_features_to_select": 16}
    best = search.best_estimator_
    assert best.named_steps["select"].get_support().sum() == 16
    assert best[:-1].transform(X_test).shape == (X_test.shape[0], 16)
    assert search.score(X_test, y_test) > 0.6


@pytest.mark.parametrize("name", CONFIGS)
def test_every_selector_in_a_pipeline_with_grid_search(name, digits):
    X, y, X_test, y_test = digits
    search = _search(build(name, 2, **FAST[name]), [2, 8], X, y)
    select = search.best_estimator_.named_steps["select"]
    kept = select.get_support().sum()
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    if name == "all_features":  # the ceiling ignores K
        assert kept == X.shape[1]
        return
    assert kept == search.best_params_["select__n_features_to_select"]
    scores = search.cv_results_["mean_test_score"]
    # K reached the selector: 8 columns carry more of the digits than 2
    assert scores[1] > scores[0], scores
    assert search.score(X_test, y_test) > 0.3  # 10 classes: chance is 0.1
