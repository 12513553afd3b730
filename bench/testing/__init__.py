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

The package: ``problems`` (the synthetic data and the bad inputs), ``session`` (one selector
on one problem: fresh copies, the shared fit, the watch on the global random state),
``checks`` (one function per check), ``outcome`` (statuses, the report, the error) and this
module, which runs them.

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

from bench.records import error_text
from bench.testing.checks import _CHECK_FUNCTIONS, CHECKS
from bench.testing.outcome import (
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    SKIPPED,
    CheckResult,
    SelectorCheckError,
    SelectorCheckReport,
    _Fail,
    _NotApplicable,
)
from bench.testing.problems import BAD_INPUTS, PROBLEMS, Problem, make_problem
from bench.testing.session import _GlobalRandomState, _Session

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
               f"{error_text(exc, limit=None, first_line=True)}; no check can run without "
               "fresh copies")
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
            raised = error_text(exc, limit=None, first_line=True)
            results[check] = CheckResult(
                check, FAILED, f"the selector raised {raised} during this check")
        else:
            results[check] = CheckResult(check, PASSED)
    return SelectorCheckReport(name, results)
