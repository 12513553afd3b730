"""The checks, one function each, by the name the report gives them (:data:`CHECKS`)."""

from __future__ import annotations

import inspect
import re

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import SelectorMixin

from bench.records import error_text
from bench.testing.outcome import _Fail, _NotApplicable
from bench.testing.problems import (
    _CONSTANT_COLUMNS,
    _LABEL_NAMES,
    _LABEL_ROWS,
    _SMALL_K,
    BAD_INPUTS,
)
from bench.testing.session import _columns, _same_value, _Session

CHECKS = ("contract", "clone", "budget", "scores", "deterministic", "global_rng", "device",
          "informative", "labels_and_constant_columns",
          *(f"bad_input[{case}]" for case in BAD_INPUTS))



def _check_contract(s: _Session):
    est = s.original
    missing = [base.__name__ for base in (SelectorMixin, BaseEstimator)
               if not isinstance(est, base)]
    if missing:
        raise _Fail(f"{s.name} does not inherit from {' and '.join(missing)}: a selector is "
                    "a scikit-learn selector, class MySelector(SelectorMixin, BaseEstimator)")
    params = [p for p in inspect.signature(type(est).__init__).parameters.values()
              if p.name != "self"]
    if not params or params[0].name != "n_features_to_select":
        first = params[0].name if params else "nothing"
        raise _Fail(f"the first parameter of {s.name}.__init__ is {first}; it must be "
                    "n_features_to_select, the budget K the runner sets")
    if s.strict:
        positional = [p.name for p in params[1:] if p.kind != p.KEYWORD_ONLY]
        if positional:
            raise _Fail(f"parameters after n_features_to_select must be keyword-only "
                        f"(def __init__(self, n_features_to_select=50, *, ...)); "
                        f"{positional} are not")
    fitted, returned, _ = s.shared_fit()
    if returned is not fitted:
        raise _Fail(f"fit returned {type(returned).__name__}, not the selector itself; "
                    "end fit with 'return self'")


def _check_clone(s: _Session):
    est = s.original
    twin = clone(est)
    if type(twin) is not type(est):
        raise _Fail(f"clone() gave a {type(twin).__name__}, not a {s.name}")
    mine, theirs = est.get_params(deep=False), twin.get_params(deep=False)
    for key, value in mine.items():
        if key not in theirs or not _same_value(theirs[key], value):
            raise _Fail(f"clone() changed parameter {key}: {value!r} became "
                        f"{theirs.get(key, '(missing)')!r}; __init__ must store every "
                        "argument unchanged, under its own name, and do nothing else")
    fitted, _, _ = s.shared_fit()
    learned = [a for a in vars(fitted) if a.endswith("_") and not a.startswith("_")]
    copy = clone(fitted)
    kept = [a for a in learned if hasattr(copy, a)]
    if kept:
        raise _Fail(f"a clone of a fitted {s.name} already has the learned attributes "
                    f"{kept}; set them in fit only, never in __init__ or as class attributes")


def _check_budget(s: _Session):
    fitted, _, _ = s.shared_fit()
    k = s.problem.k
    X = s.problem.X
    kept = int(s.support(fitted).sum())
    if kept != s.expected_size(k):
        raise _Fail(f"with n_features_to_select={k}, get_support() keeps {kept} columns; a "
                    f"selector must keep exactly n_features_to_select")
    shape = np.asarray(fitted.transform(X)).shape
    if shape != (X.shape[0], s.expected_size(k)):
        raise _Fail(f"with n_features_to_select={k}, transform(X) of shape {X.shape} returned "
                    f"shape {shape}")
    if s.ranking:
        try:
            for other in range(1, X.shape[1] + 1):
                kept = int(s.support(fitted, other).sum())
                if kept != s.expected_size(other):
                    raise _Fail(
                        f"after set_params(n_features_to_select={other}) on the fitted "
                        f"selector, get_support() keeps {kept} columns; a ranking selector "
                        "(refit_per_budget = False) must serve every budget from one fit")
        finally:
            fitted.set_params(n_features_to_select=k)
    else:
        other = _SMALL_K if k > _SMALL_K else 1
        kept = int(s.support(s.fresh(other).fit(X, s.problem.y)).sum())
        if kept != s.expected_size(other):
            raise _Fail(f"fit with n_features_to_select={other} keeps {kept} columns; a "
                        "selector must keep exactly n_features_to_select")


def _check_scores(s: _Session):
    if not s.ranking:
        raise _NotApplicable("trained per budget (refit_per_budget is not False)")
    fitted, _, _ = s.shared_fit()
    D = s.problem.X.shape[1]
    if not hasattr(fitted, "scores_"):
        raise _Fail("a ranking selector (refit_per_budget = False) must set scores_ in fit, "
                    "one score per column, larger = more important")
    scores = np.asarray(fitted.scores_, dtype=np.float64)
    if scores.shape != (D,):
        raise _Fail(f"scores_ has shape {scores.shape}; it must have one value per column, "
                    f"shape ({D},)")
    if s.selects_all:
        return
    ranked = np.where(np.isnan(scores), -np.inf, scores)  # NaN ranks last
    try:
        for k in range(1, D):
            mask = s.support(fitted, k)
            if mask.all() or not mask.any():  # nothing to compare; the budget check says why
                continue
            low = np.flatnonzero(mask)[np.argmin(ranked[mask])]
            high = np.flatnonzero(~mask)[np.argmax(ranked[~mask])]
            if ranked[low] < ranked[high]:
                raise _Fail(
                    f"with n_features_to_select={k}, get_support() keeps column {low} "
                    f"(scores_ {scores[low]:.6g}) but leaves out column {high} (scores_ "
                    f"{scores[high]:.6g}); a ranking selector must keep the K columns of "
                    "largest scores_")
    finally:
        fitted.set_params(n_features_to_select=s.problem.k)


def _check_deterministic(s: _Session):
    fitted, _, _ = s.shared_fit()
    again = s.fresh(s.problem.k).fit(s.problem.X, s.problem.y)
    first, second = s.support(fitted), s.support(again)
    if not np.array_equal(first, second):
        raise _Fail(f"two fits {s.seed_words}on the same data kept different columns: "
                    f"{_columns(first)} and {_columns(second)}; draw every random number "
                    "from a generator seeded by random_state")
    if hasattr(fitted, "scores_"):
        a = np.asarray(fitted.scores_, dtype=np.float64)
        b = np.asarray(again.scores_, dtype=np.float64)
        if a.shape != b.shape:
            raise _Fail(f"two fits {s.seed_words}on the same data gave scores_ of shapes "
                        f"{a.shape} and {b.shape}")
        differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        if differ.any():
            col = int(np.flatnonzero(differ)[0])
            raise _Fail(f"two fits {s.seed_words}on the same data gave different scores_ "
                        f"(column {col}: {a[col]:.6g} and {b[col]:.6g}); draw every random "
                        "number from a generator seeded by random_state")


def _check_global_rng(s: _Session):
    _, _, changed = s.shared_fit()
    if changed:
        raise _Fail(f"fit changed the global random state of {' and '.join(changed)}; use "
                    "np.random.default_rng(random_state) or a torch.Generator seeded from "
                    "random_state, so that a run never depends on what ran before it")


def _check_device(s: _Session):
    params = s.template.get_params(deep=False)
    if "device" not in params:
        raise _NotApplicable("no device parameter")
    fitted, _, _ = s.shared_fit()
    if not hasattr(fitted, "device_"):
        raise _Fail("the selector has a device parameter but fit does not record the device "
                    "it used in device_ (the runner writes it to every row)")
    if params["device"] == "cpu" and str(fitted.device_) != "cpu":
        raise _Fail(f"device='cpu' but device_ is {fitted.device_!r}")


def _check_informative(s: _Session):
    if s.selects_all:
        raise _NotApplicable("keeps every column")
    fitted, _, _ = s.shared_fit()
    p = s.problem
    found = np.flatnonzero(s.support(fitted))
    hits = int(np.isin(found, p.informative).sum())
    if hits < p.min_found:
        raise _Fail(f"on the {p.name} problem ({p.description}), n_features_to_select={p.k} "
                    f"kept columns {_columns(s.support(fitted))}: {hits} of the "
                    f"{p.informative.size} informative ones, at least {p.min_found} needed")


def _check_labels_and_constant_columns(s: _Session):
    p = s.problem
    X = p.X[:_LABEL_ROWS].copy()
    X[:, _CONSTANT_COLUMNS] = 1.0
    labels = _LABEL_NAMES[p.y[:_LABEL_ROWS]]
    k = min(_SMALL_K + 2, X.shape[1])
    try:
        est = s.fresh(k).fit(X, labels)
    except Exception as exc:
        raise _Fail(f"fit on string labels {sorted(set(labels.tolist()))} with constant "
                    f"columns 20-29 "
                    f"raised {error_text(exc, limit=None, first_line=True)}") from None
    kept = int(s.support(est).sum())
    if kept != s.expected_size(k):
        raise _Fail(f"with string labels and constant columns, n_features_to_select={k} "
                    f"keeps {kept} columns")
    if s.strict:
        classes = list(getattr(est, "classes_", ["(not set)"]))
        if classes != sorted(set(labels.tolist())):
            raise _Fail(f"classes_ is {classes}; it must hold the original labels, sorted")
        if hasattr(est, "scores_") and not np.isfinite(est.scores_).all():
            raise _Fail("scores_ is not finite with constant columns; give undefined "
                        "statistics a finite score that ranks them last")


def _bad_input_check(case: str):
    bad = BAD_INPUTS[case]

    def check(s: _Session):
        if bad.needs_budget and s.selects_all:
            raise _NotApplicable("keeps every column whatever the budget")
        X, y, k = bad.make(s.problem.X[::5], s.problem.y[::5])
        try:
            s.fresh(k).fit(X, y)
        except ValueError as exc:
            for pattern in (bad.pattern, bad.strict_pattern) if s.strict else (bad.pattern,):
                if not re.search(pattern, str(exc)):
                    raise _Fail(f"fit on {bad.what} raised ValueError({str(exc)!r}), whose "
                                f"message does not say what is wrong (expected it to match "
                                f"{pattern!r})") from None
            return
        except Exception as exc:
            raised = error_text(exc, limit=None, first_line=True)
            raise _Fail(f"fit on {bad.what} raised {raised}; it must raise a "
                        "ValueError that names the problem") from None
        raise _Fail(f"fit accepted {bad.what} without an error; it must raise a ValueError "
                    "that names the problem")

    return check


_CHECK_FUNCTIONS = {
    "contract": _check_contract,
    "clone": _check_clone,
    "budget": _check_budget,
    "scores": _check_scores,
    "deterministic": _check_deterministic,
    "global_rng": _check_global_rng,
    "device": _check_device,
    "informative": _check_informative,
    "labels_and_constant_columns": _check_labels_and_constant_columns,
    **{f"bad_input[{case}]": _bad_input_check(case) for case in BAD_INPUTS},
}


