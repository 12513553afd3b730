"""The data every check runs on: two small synthetic problems and the bad inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

