"""Conformance checks for a feature selector, built in or a user's own: :func:`check_selector`.

Every selector of this benchmark follows one contract (``selector_contract``,
``docs/plugins.md``): a scikit-learn selector (``SelectorMixin`` + ``BaseEstimator``) whose
first parameter is the budget ``n_features_to_select``; ``fit(X, y)`` learns and
``get_support()`` keeps exactly that many columns. A *ranking* selector says so with
``refit_per_budget = False``: it exposes ``scores_`` (larger is more important) and one fit
serves every budget through ``set_params(n_features_to_select=K)``. A selector whose
training depends on K (EntryPrune, NeuroFS) leaves ``refit_per_budget`` True and is refit
per budget.

:func:`check_selector` runs the selector on small synthetic problems and reports, in words,
every part of that contract it breaks::

    from bench.testing import check_selector
    check_selector(MySelector(10, random_state=0))  # raises SelectorCheckError if not

The project's own suite (``tests/test_selectors_api.py``) runs this same function over every
built-in selector config, with ``strict=True``.

Checks, by the name the report gives them:

``contract``
    A ``SelectorMixin`` and ``BaseEstimator``, ``n_features_to_select`` the first parameter,
    ``fit`` returns ``self``.
``clone``
    ``sklearn.base.clone`` gives the same type with equal parameters and no learned state.
``budget``
    ``get_support()`` and ``transform`` keep exactly K columns: for a ranking selector at
    every K from 1 to D after one fit, otherwise after a second fit at another K.
``scores``
    (ranking selectors) ``scores_`` has one value per column, and for every K the kept
    columns score at least as high as every column left out.
``deterministic``
    Two fits with the same ``random_state`` keep the same columns (and equal ``scores_``).
``global_rng``
    ``fit`` leaves the global random state of NumPy, Python's ``random`` and torch as it
    found it (draw from ``np.random.default_rng(random_state)`` or a seeded
    ``torch.Generator`` instead).
``device``
    (selectors with a ``device`` parameter) ``fit`` records the device it used as
    ``device_``; ``device="cpu"`` gives ``"cpu"``.
``informative``
    Finds the informative columns of an easy problem (see :func:`make_problem`), which are
    the LAST columns, so filling the budget by column index gains nothing.
``labels_and_constant_columns``
    String labels and constant columns are accepted.
``bad_input[...]``
    ``fit`` refuses, with a ``ValueError`` whose message names the problem: NaN, inf,
    ``n_features_to_select`` 0 or above the number of columns, a single class, ``X`` and
    ``y`` of different lengths, non-numeric ``X``.
"""

from __future__ import annotations

import importlib.util
import inspect
import pickle
import random
import re
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import SelectorMixin

from selector_contract import selects_all_features

__all__ = [
    "BAD_INPUTS",
    "CHECKS",
    "PROBLEMS",
    "CheckResult",
    "Problem",
    "SelectorCheckError",
    "SelectorCheckReport",
    "check_selector",
    "make_problem",
]

PASSED, FAILED, NOT_APPLICABLE, SKIPPED = "passed", "failed", "not applicable", "skipped"

#: Budget of the per-K refit in ``budget`` (when the problem's K is above it) and of the
#: fit on string labels; small enough for every problem here.
_SMALL_K = 3
#: Columns made constant in ``labels_and_constant_columns``: noise columns of both problems.
_CONSTANT_COLUMNS = slice(20, 30)
_LABEL_NAMES = np.array(["cat", "dog", "eel"])
#: Rows of the problem that the label check fits on (both classes occur among them).
_LABEL_ROWS = 300


# -- problems ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Data on which a selector is checked.

    Attributes
    ----------
    name : str
    X : ndarray of float32, shape (n_samples, n_features)
    y : ndarray of int, shape (n_samples,)
    informative : ndarray of int
        The columns that carry the class signal (the last ones).
    k : int
        The budget the checks use: the number of informative columns.
    min_found : int
        How many informative columns a selector must keep at budget ``k``.
    description : str
        One line for messages.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    informative: np.ndarray
    k: int
    min_found: int
    description: str


def _hypercube() -> Problem:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=1000, n_features=60, n_informative=10,
                               n_redundant=0, shuffle=False, random_state=0)
    # make_classification puts the informative columns first; reversed they are the last
    # ten, so a selector that fills its budget by lowest column index on ties gains nothing
    X = np.ascontiguousarray(X[:, ::-1], dtype=np.float32)
    return Problem(
        "hypercube", X, y, np.arange(50, 60), k=10, min_found=8,
        description="make_classification, 1000 x 60, 2 classes, the 10 informative columns "
                    "are 50-59 (class clusters on hypercube vertices)")


def _marginal() -> Problem:
    rng = np.random.default_rng(0)
    y = np.arange(600) % 3
    X = rng.normal(size=(600, 40)).astype(np.float32)
    X[:, -8:] += (y[:, None] * 0.8).astype(np.float32)  # class signal in each column alone
    return Problem(
        "marginal", X, y, np.arange(32, 40), k=8, min_found=8,
        description="600 x 40 Gaussian noise, 3 classes, columns 32-39 shifted by 0.8 x class")


#: ``hypercube`` (the default) puts the classes on hypercube vertices in 10 of 60 columns:
#: several of them carry no signal one at a time, so a univariate filter finds about half.
#: ``marginal`` shifts 8 of 40 columns by the class: what univariate filters are for.
PROBLEMS = {"hypercube": _hypercube, "marginal": _marginal}


def make_problem(name: str = "hypercube") -> Problem:
    """The data :func:`check_selector` uses: ``"hypercube"`` or ``"marginal"``.

    Parameters
    ----------
    name : {"hypercube", "marginal"}

    Returns
    -------
    Problem
    """
    if name not in PROBLEMS:
        raise ValueError(f"problem must be one of {sorted(PROBLEMS)}; got {name!r}")
    return PROBLEMS[name]()


# -- bad inputs -------------------------------------------------------------------------------

def _mark_diagonal(value):
    def make(X, y):
        return np.where(np.eye(*X.shape, dtype=bool), value, X), y, _SMALL_K
    return make


def _non_numeric(X, y):
    strings = X[:, :2].astype(str).astype(object) + "x"
    return strings, y, 1


@dataclass(frozen=True)
class _BadInput:
    what: str
    make: object
    pattern: str
    strict_pattern: str
    needs_budget: bool = False  # meaningless for a selector that ignores the budget


#: What ``fit`` must refuse, on every 5th row of the problem. ``pattern`` is what the error
#: message must match (any wording that names the problem); ``strict_pattern`` is the
#: wording of this project's ``check_selector_input``, required with ``strict=True``.
BAD_INPUTS = {
    "nan": _BadInput("X holding NaN values", _mark_diagonal(np.nan), r"(?i)nan", "NaN"),
    "inf": _BadInput("X holding infinite values", _mark_diagonal(np.inf), r"(?i)inf",
                     "infinite"),
    "k0": _BadInput("n_features_to_select=0", lambda X, y: (X, y, 0),
                    "n_features_to_select", ">= 1", needs_budget=True),
    "k_big": _BadInput("n_features_to_select above the number of columns",
                       lambda X, y: (X, y, X.shape[1] + 1), "n_features_to_select",
                       "exceeds", needs_budget=True),
    "one_class": _BadInput("y with a single class", lambda X, y: (X, np.zeros_like(y),
                                                                   _SMALL_K),
                           r"(?i)class", "at least 2"),
    "lengths": _BadInput("X and y of different lengths", lambda X, y: (X, y[:-5], _SMALL_K),
                         r"(?i)length|inconsistent|samples|rows", "different lengths"),
    "object": _BadInput("non-numeric X (strings)", _non_numeric,
                        r"(?i)numeric|float|convert|string", "numeric"),
}

CHECKS = ("contract", "clone", "budget", "scores", "deterministic", "global_rng", "device",
          "informative", "labels_and_constant_columns",
          *(f"bad_input[{case}]" for case in BAD_INPUTS))


# -- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ``status`` is passed, failed, not applicable or skipped."""

    name: str
    status: str
    message: str = ""


class SelectorCheckError(AssertionError):
    """Raised when a selector fails checks; the message says which ones and why.

    Attributes
    ----------
    estimator_name : str
    failures : dict of str to str
        Check name to the reason it failed.
    """

    def __init__(self, estimator_name: str, failures: dict, n_checks: int | None = None):
        self.estimator_name = estimator_name
        self.failures = dict(failures)
        of = "" if n_checks is None else f" of {n_checks}"
        lines = [f"{estimator_name} failed {len(self.failures)}{of} selector check(s):"]
        lines += [f"  - {name}: {why}" for name, why in self.failures.items()]
        super().__init__("\n".join(lines))


class SelectorCheckReport:
    """Every check's outcome for one selector, as :func:`check_selector` returns it.

    Attributes
    ----------
    estimator_name : str
    results : dict of str to CheckResult
        In the order of :data:`CHECKS`.
    """

    def __init__(self, estimator_name: str, results: dict):
        self.estimator_name = estimator_name
        self.results = dict(results)

    @property
    def failures(self) -> dict:
        """Check name to the reason, for the checks that failed."""
        return {n: r.message for n, r in self.results.items() if r.status == FAILED}

    def raise_for_failures(self) -> None:
        """Raise :class:`SelectorCheckError` naming every failed check, if any failed."""
        ran = sum(r.status in (PASSED, FAILED) for r in self.results.values())
        if self.failures:
            raise SelectorCheckError(self.estimator_name, self.failures, ran)

    def assert_passed(self, name: str) -> None:
        """Raise :class:`SelectorCheckError` unless check ``name`` ran and passed."""
        result = self.results[name]
        if result.status == FAILED:
            raise SelectorCheckError(self.estimator_name, {name: result.message})
        if result.status != PASSED:
            raise SelectorCheckError(
                self.estimator_name, {name: f"did not run ({result.status}: {result.message})"})

    def __str__(self) -> str:
        width = max(len(n) for n in self.results)
        lines = [f"selector checks of {self.estimator_name}:"]
        for name, r in self.results.items():
            tail = f"  {r.message}" if r.message and r.status != PASSED else ""
            lines.append(f"  {name:<{width}}  {r.status}{tail}")
        return "\n".join(lines)


class _Fail(Exception):
    """A check failed; the message says why, for the user."""


class _NotApplicable(Exception):
    """The check does not concern this selector; the message says why."""


# -- helpers ----------------------------------------------------------------------------------

def _same_value(a, b) -> bool:
    """Parameter equality that also holds for arrays, NaN and nested estimators."""
    if a is b:
        return True
    if hasattr(a, "get_params") and hasattr(b, "get_params"):
        pa, pb = a.get_params(deep=False), b.get_params(deep=False)
        return type(a) is type(b) and pa.keys() == pb.keys() and all(
            _same_value(pa[key], pb[key]) for key in pa)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except Exception:  # values NumPy cannot hold side by side: fall back to ==
        return bool(a == b)


def _columns(mask) -> str:
    idx = np.flatnonzero(mask)
    text = " ".join(map(str, idx[:20].tolist()))
    return f"[{text}{' ...' if idx.size > 20 else ''}]"


class _GlobalRandomState:
    """The global generators of NumPy, Python's ``random`` and torch's CPU (when installed).

    A selector that seeds a global generator with a fixed value leaves it in the same
    state every time, so a fit that starts where such a fit ended shows no change. A watched
    fit therefore starts from fresh states that no selector can have seeded, and
    :func:`check_selector` puts the caller's states back when it is done.
    """

    NUMPY = "NumPy's (np.random.*)"
    PYTHON = "Python's (random.*)"
    TORCH = "torch's (torch.manual_seed, torch.rand without generator=)"

    def __init__(self):
        self.torch = None
        if importlib.util.find_spec("torch") is not None:
            import torch

            self.torch = torch

    def get(self) -> dict:
        # reading and setting the legacy global state is the point here: it is what a
        # selector must not move
        states = {self.NUMPY: np.random.get_state(),  # noqa: NPY002
                  self.PYTHON: random.getstate()}
        if self.torch is not None:
            states[self.TORCH] = self.torch.random.get_rng_state()
        return states

    def set(self, states: dict) -> None:
        np.random.set_state(states[self.NUMPY])  # noqa: NPY002
        random.setstate(states[self.PYTHON])
        if self.torch is not None:
            self.torch.random.set_rng_state(states[self.TORCH])

    def start_fresh(self) -> None:
        seeds = np.random.SeedSequence().generate_state(4)
        fresh = {self.NUMPY: np.random.RandomState(seeds).get_state(),
                 self.PYTHON: random.Random(int(seeds[0])).getstate()}
        if self.torch is not None:
            gen = self.torch.Generator()
            gen.manual_seed(int(seeds[1]))
            fresh[self.TORCH] = gen.get_state()
        self.set(fresh)

    @staticmethod
    def changed(before: dict, after: dict) -> list:
        def raw(state):
            return state.numpy().tobytes() if hasattr(state, "numpy") else pickle.dumps(state)

        return [name for name in before if raw(before[name]) != raw(after[name])]


def _first_error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class _Session:
    """One selector on one problem: fresh copies, and the one fit the checks share."""

    def __init__(self, estimator, problem: Problem, strict: bool, rng: _GlobalRandomState):
        self.original = estimator
        self.rng = rng
        self.problem = problem
        self.strict = strict
        self.name = type(estimator).__name__
        self.template = clone(estimator)
        params = self.template.get_params(deep=False)
        self.seeded = "random_state" in params
        if self.seeded and params["random_state"] is None:
            # random_state=None asks for fresh randomness; determinism needs a fixed seed
            self.template.set_params(random_state=0)
        self.ranking = getattr(estimator, "refit_per_budget", True) is False
        self.selects_all = selects_all_features(estimator)
        self._shared = None

    def fresh(self, k):
        est = clone(self.template)
        est.set_params(n_features_to_select=k)
        return est

    @property
    def seed_words(self) -> str:
        seed = self.template.get_params(deep=False).get("random_state")
        return f"with random_state={seed!r} " if self.seeded else ""

    def shared_fit(self):
        """The fit at the problem's budget, made once, with the global RNGs watched."""
        if self._shared is None:
            est = self.fresh(self.problem.k)
            self.rng.start_fresh()
            before = self.rng.get()
            try:
                returned = est.fit(self.problem.X, self.problem.y)
                error = None
            except Exception as exc:  # every check that needs the fit reports it
                returned, error = None, exc
            changed = self.rng.changed(before, self.rng.get())
            self._shared = (est, returned, error, changed)
        est, returned, error, changed = self._shared
        if error is not None:
            raise _Fail(f"fit(X, y) on the {self.problem.name} problem "
                        f"({self.problem.description}) raised {_first_error_line(error)}")
        return est, returned, changed

    def expected_size(self, k) -> int:
        return self.problem.X.shape[1] if self.selects_all else int(k)

    def support(self, est, k=None) -> np.ndarray:
        """``get_support()`` checked for shape and dtype; at budget ``k`` if given."""
        if k is not None:
            est.set_params(n_features_to_select=k)
        mask = np.asarray(est.get_support())
        D = self.problem.X.shape[1]
        if mask.shape != (D,) or mask.dtype != bool:
            raise _Fail(f"get_support() returned an array of shape {mask.shape} and dtype "
                        f"{mask.dtype}; it must be a boolean mask of shape ({D},)")
        return mask


# -- the checks -------------------------------------------------------------------------------

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
                    f"raised {_first_error_line(exc)}") from None
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
            raise _Fail(f"fit on {bad.what} raised {_first_error_line(exc)}; it must raise a "
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


def _resolve_skip(skip) -> set:
    names = set()
    for item in skip:
        family = [c for c in CHECKS if c == item or c.startswith(f"{item}[")]
        if not family:
            raise ValueError(f"unknown check {item!r} in skip; checks are {', '.join(CHECKS)} "
                             "(or bad_input for all of its cases)")
        names.update(family)
    return names


def check_selector(estimator, *, problem: str = "hypercube", strict: bool = False,
                   skip=(), raise_errors: bool = True) -> SelectorCheckReport:
    """Check that ``estimator`` follows the selector contract of this benchmark.

    Every check runs, on copies (``estimator`` itself is never fitted); the ones that fail
    are reported together. A ``random_state`` of None is replaced by 0 so that determinism
    can be checked. The checks are listed in this module's docstring and in :data:`CHECKS`.

    Parameters
    ----------
    estimator : selector
        An unfitted selector; its ``n_features_to_select`` is replaced by the budgets the
        checks need.
    problem : {"hypercube", "marginal"}, default="hypercube"
        The data of every check (see :func:`make_problem`). Use ``"marginal"`` for a
        univariate filter, which cannot see the hypercube problem's signal.
    strict : bool, default=False
        Also hold the selector to this project's own conventions: the exact wording of
        ``selector_contract.check_selector_input``'s errors, ``classes_`` set by ``fit``, finite
        ``scores_`` on constant columns, keyword-only parameters after the budget.
    skip : iterable of str, default=()
        Checks not to run (names from :data:`CHECKS`, or ``"bad_input"`` for all of its
        cases), e.g. ``("informative",)`` for a selector that is not meant to find signal.
    raise_errors : bool, default=True
        Raise :class:`SelectorCheckError` when a check fails; with False, only return the
        report.

    Returns
    -------
    SelectorCheckReport
        The outcome of every check.

    Raises
    ------
    SelectorCheckError
        An ``AssertionError`` whose message names each failed check and why.
    ValueError
        For an unknown ``problem`` or check name in ``skip``.
    """
    skipped = _resolve_skip(skip)
    data = make_problem(problem)
    rng = _GlobalRandomState()
    callers_states = rng.get()
    try:
        report = _run_checks(estimator, data, strict, skipped, rng)
    finally:
        rng.set(callers_states)  # whatever the selector or the watch did to them
    if raise_errors:
        report.raise_for_failures()
    return report


def _run_checks(estimator, data, strict, skipped, rng) -> SelectorCheckReport:
    name = type(estimator).__name__
    try:
        session = _Session(estimator, data, strict, rng)
    except Exception as exc:
        # Without a working clone no check can make the fresh copies it needs.
        why = (f"clone(estimator) or set_params(random_state=0) raised "
               f"{_first_error_line(exc)}; no check can run without fresh copies")
        return SelectorCheckReport(name, {c: CheckResult(c, FAILED, why) for c in CHECKS})
    results = {}
    for check in CHECKS:
        if check in skipped:
            results[check] = CheckResult(check, SKIPPED, "skipped on request")
            continue
        try:
            _CHECK_FUNCTIONS[check](session)
        except _Fail as exc:
            results[check] = CheckResult(check, FAILED, str(exc))
        except _NotApplicable as exc:
            results[check] = CheckResult(check, NOT_APPLICABLE, str(exc))
        except Exception as exc:  # a crash inside the selector is that check's failure
            results[check] = CheckResult(
                check, FAILED, f"the selector raised {_first_error_line(exc)} during this check")
        else:
            results[check] = CheckResult(check, PASSED)
    return SelectorCheckReport(name, results)
