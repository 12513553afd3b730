"""The contract every selector in this project follows: EntryPrune and every baseline.

It lives apart from both so that neither owns it; selectors import it, and it imports
nothing of the harness (``bench``), of Hydra or of files.

The written contract
--------------------
1. A selector is a scikit-learn selector (``SelectorMixin`` + ``BaseEstimator``). The
   budget ``n_features_to_select`` is the first parameter, everything else is
   keyword-only, ``__init__`` only stores, and learned state ends in ``_``.
2. ``fit(X, y)`` needs the labels (``target_tags.required``) and validates its input with
   :func:`check_selector_input`, so that every selector words bad input the same way.
3. A *ranking* selector derives from :class:`RankingSelector`: it computes ``scores_``
   (one value per column, larger is more important) and sets ``refit_per_budget = False``,
   so one fit serves every K. Its support is :func:`top_k_mask`, the one tie rule for all.
4. A selector whose training depends on K derives from :class:`PerBudgetSelector`
   (``refit_per_budget = True``, ``support_`` and ``k_fitted_``).
5. A selector that keeps every column whatever K (the all-features ceiling) sets the
   class attribute ``selects_all_features = True``: the harness then records K = D for its
   rows, scores it with every evaluator and does not count its columns against K.
   :func:`selects_all_features` reads the flag; it is ``False`` when absent.
6. ``random_state`` and ``device`` are optional parameters; the harness passes them only
   to a selector that takes them. Randomness comes from ``random_state`` alone (NumPy
   generators, :func:`torch_generator`), never from global state; ``device="auto"``
   picks CUDA when present (:func:`resolve_device`) and the fitted selector records the
   device it used in ``device_``.

``count_separated`` says how much of a ranking's selection its scores decided rather than
the tie rule.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "PerBudgetSelector",
    "RankingSelector",
    "check_budget",
    "check_selector_input",
    "count_separated",
    "resolve_device",
    "selects_all_features",
    "top_k_mask",
    "torch_generator",
]


def top_k_mask(scores, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` largest scores, ties broken by the lower column index.

    The rule is fixed so that two runs (or two selectors) that produce equal scores always
    select the same columns: a stable sort of ``-scores`` keeps equal scores in index order.
    NaN scores rank below every real score (they are never preferred to a finite value).

    Parameters
    ----------
    scores : array-like of shape (n_features,)
    k : int
        Number of columns to keep, ``1 <= k <= n_features``.

    Returns
    -------
    mask : ndarray of bool, shape (n_features,)
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    check_budget(k, scores.shape[0])
    nan = np.isnan(scores)
    # lexsort sorts by the last key first: real scores before NaN, then larger scores
    # first, then the lower column index.
    order = np.lexsort((np.arange(scores.shape[0]), -np.where(nan, 0.0, scores), nan))
    mask = np.zeros(scores.shape[0], dtype=bool)
    mask[order[:k]] = True
    return mask


def count_separated(scores, support) -> int:
    """Number of selected columns whose score is strictly above every left-out column's.

    A selected column that ties the best column left out was chosen by ``top_k_mask``'s
    index rule, not by its score, so it does not count. NaN ties only with NaN and ranks
    below every number (as in :func:`top_k_mask`). With nothing left out, every selected
    column counts.

    Parameters
    ----------
    scores : array-like of shape (n_features,)
    support : array-like of bool, shape (n_features,)

    Returns
    -------
    int
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    support = np.asarray(support, dtype=bool).ravel()
    if support.shape != scores.shape:
        raise ValueError(f"support has shape {support.shape}, scores {scores.shape}")
    if support.all() or not support.any():
        return int(support.sum())
    nan = np.isnan(scores)
    # Integer levels turn "equal score" into "equal level" for -inf, inf and NaN alike.
    level = np.full(scores.shape, -1, dtype=np.int64)
    level[~nan] = np.unique(scores[~nan], return_inverse=True)[1].ravel()
    return int((level[support] > level[~support].max()).sum())


def check_budget(k, n_features: int) -> int:
    """Validate a feature budget against the number of columns; return it as ``int``."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"n_features_to_select must be an integer, got {k!r}")
    if k < 1:
        raise ValueError(f"n_features_to_select must be >= 1, got {k}")
    if k > n_features:
        raise ValueError(
            f"n_features_to_select={k} exceeds the number of features ({n_features})"
        )
    return int(k)


def check_selector_input(X, y, k=None, *, dtype=np.float32):
    """Validate and normalise a selector's training data.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric, finite. Returned C-contiguous in ``dtype``.
    y : array-like of shape (n_samples,)
        Any labels (strings, non-contiguous integers); encoded to ``0..C-1``.
    k : int or None
        Budget to validate against ``n_features``; ``None`` skips the check.
    dtype : numpy dtype
        Dtype of the returned ``X`` (``None`` keeps numeric input as is).

    Returns
    -------
    X : ndarray, y_encoded : ndarray of int64, classes : ndarray

    Raises
    ------
    ValueError
        With a message naming the problem: shape, length mismatch, non-numeric or complex
        values, NaN or inf, no ``y``, fewer than two classes, or a budget outside
        ``1..n_features``.
    TypeError
        For a sparse ``X``, or an object ``X`` holding values that are neither numbers nor
        strings (scikit-learn's convention for both).
    """
    if sp.issparse(X):
        # np.asarray would wrap the matrix in a 0-d object array and hide what went wrong
        raise TypeError(f"X is a sparse matrix ({type(X).__name__}); these selectors need a "
                        "dense array: pass X.toarray()")
    if y is None:
        raise ValueError("this selector requires y to be passed, but the target y is None")
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError(f"Complex data not supported: X has dtype {X.dtype}")
    if X.dtype == object or not np.issubdtype(X.dtype, np.number):
        try:
            X = X.astype(np.float64)
        except ValueError as exc:
            raise ValueError(f"X must be numeric; got dtype {X.dtype} ({exc})") from None
        except TypeError as exc:
            raise TypeError(f"X must be numeric; got dtype {X.dtype} ({exc})") from None
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
    for axis, what in ((0, "sample"), (1, "feature")):
        if X.shape[axis] == 0:
            # worded as scikit-learn's check_array words it, so its estimator checks and
            # users see the same message
            raise ValueError(f"X is empty: 0 {what}(s) (shape={X.shape}) while a minimum of "
                             "1 is required.")
    y = np.asarray(y)
    if np.iscomplexobj(y):
        raise ValueError(f"Complex data not supported: y has dtype {y.dtype}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y have different lengths: X has {X.shape[0]} rows, y has {y.shape[0]}"
        )
    if dtype is not None:
        X = np.ascontiguousarray(X, dtype=dtype)
    bad = ~np.isfinite(X)
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise ValueError(
            f"X contains {int(bad.sum())} NaN or infinite values "
            f"(first at row {rows[0]}, column {cols[0]})"
        )
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite labels")
    classes, y_enc = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"y has {classes.shape[0]} class ({classes.tolist()}); at least 2 are needed"
        )
    if k is not None:
        check_budget(k, X.shape[1])
    return X, y_enc.astype(np.int64), classes


def resolve_device(device: str = "auto"):
    """Map ``"auto" | "cpu" | "cuda" | "cuda:N"`` to a ``torch.device``.

    ``"auto"`` picks CUDA when it is available. Asking for CUDA on a machine without it is
    an error rather than a silent fallback, so that a recorded device is always the truth.
    """
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda'; got {device!r}")
    return dev


def selects_all_features(selector) -> bool:
    """Whether a selector (class or instance) keeps every column whatever its budget.

    Point 5 of the contract: the class attribute ``selects_all_features``, ``False`` when
    absent. A Hydra partial (``functools.partial``) is read through to its class.
    """
    target = getattr(selector, "func", selector)
    return bool(getattr(target, "selects_all_features", False))


def torch_generator(random_state, device):
    """Return a ``torch.Generator`` on ``device`` seeded from ``random_state`` (no global RNG).

    ``None`` draws a fresh seed from NumPy's entropy source, as scikit-learn does.
    """
    import torch

    seed = np.random.SeedSequence(random_state).generate_state(1, dtype=np.uint64)[0]
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed) & ((1 << 63) - 1))
    return gen


class _SupervisedSelector(SelectorMixin, BaseEstimator):
    """Estimator tags shared by the selectors here: ``fit`` needs the labels ``y``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn assumes a selector may ignore y (SelectKBest does not, VarianceThreshold
        # does); tools that read the tags, and its estimator checks, need to know ours do not
        tags.target_tags.required = True
        return tags


class RankingSelector(_SupervisedSelector):
    """Base for selectors that rank all columns (``scores_``) in one fit.

    Subclasses implement ``_fit_scores(X, y) -> scores`` on validated input. The support
    for any budget is ``top_k_mask(scores_, n_features_to_select)``, so the runner can fit
    once and change ``n_features_to_select`` with ``set_params`` to read every budget.

    Columns with equal scores at the edge of the support are taken in index order, which
    says nothing about the data (XGBoost gives no gain to most columns of a wide set; on
    images, low indices are the top pixel rows). :meth:`n_separated` and
    :meth:`n_tiebroken` count, for the current budget, how many of the K columns the method
    itself chose, so that a row can say how many index order filled:
    ``K - n_separated() - n_tiebroken()``.

    A subclass whose ``scores_`` combine a primary score with a tie-break of its own
    (LassoNet: exit lambda, then skip-layer norm) overrides :meth:`_primary_scores` to
    return the primary score alone.
    """

    refit_per_budget = False

    def fit(self, X, y):
        """Validate the data, compute ``scores_`` and return ``self``."""
        X, y_enc, classes = check_selector_input(X, y, self.n_features_to_select)
        self.n_features_in_ = X.shape[1]
        self.classes_ = classes
        scores = np.asarray(self._fit_scores(X, y_enc), dtype=np.float64)
        if scores.shape != (X.shape[1],):
            raise RuntimeError(
                f"{type(self).__name__} produced scores of shape {scores.shape}, "
                f"expected ({X.shape[1]},)"
            )
        self.scores_ = scores
        return self

    def _fit_scores(self, X, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_support_mask(self):
        check_is_fitted(self, "scores_")
        return top_k_mask(self.scores_, self.n_features_to_select)

    def _primary_scores(self):
        """The method's score before any tie-break of its own (``scores_`` by default)."""
        return self.scores_

    def _support_at(self, k):
        check_is_fitted(self, "scores_")
        if k is None:
            return self._get_support_mask()
        return top_k_mask(self.scores_, k)

    def n_separated(self, k=None) -> int:
        """Selected columns that the primary score ranks above every column left out.

        Parameters
        ----------
        k : int or None, default=None
            Budget; ``None`` takes the current ``n_features_to_select``.

        Returns
        -------
        int
            :func:`count_separated` of :meth:`_primary_scores` over the support of
            ``scores_`` at budget ``k``; the other selected columns tie the best column
            left out on the primary score.
        """
        return count_separated(self._primary_scores(), self._support_at(k))

    def n_tiebroken(self, k=None) -> int:
        """Selected columns that tie on the primary score but the method's tie-break kept.

        0 for a selector without a tie-break of its own (``scores_`` is its primary
        score). ``K - n_separated(k) - n_tiebroken(k)`` columns were taken by index order.

        Parameters
        ----------
        k : int or None, default=None
            Budget; ``None`` takes the current ``n_features_to_select``.

        Returns
        -------
        int
        """
        support = self._support_at(k)
        return (count_separated(self.scores_, support)
                - count_separated(self._primary_scores(), support))


class PerBudgetSelector(_SupervisedSelector):
    """Base for selectors whose training depends on the budget K (EntryPrune, NeuroFS).

    ``fit`` sets ``support_`` and ``k_fitted_``; the runner refits per budget
    (``refit_per_budget = True``), and asking a fitted selector for another K is an error
    rather than a silently wrong support. ``method_name`` names the method in that error.
    """

    refit_per_budget = True
    method_name = "This selector"

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        if int(self.n_features_to_select) != self.k_fitted_:
            raise ValueError(
                f"{self.method_name} was fit for K={self.k_fitted_}; its training depends on "
                f"K, so n_features_to_select={self.n_features_to_select} needs a new fit")
        return self.support_
