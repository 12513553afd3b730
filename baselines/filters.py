"""Filter rankings: univariate statistics and the L1 logistic-regression path."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import f_classif, mutual_info_classif

from selector_contract import RankingSelector

__all__ = ["AnovaFSelector", "FisherScoreSelector", "L1LogRegSelector", "MutualInfoSelector"]


def _finite(scores):
    """Undefined statistics (constant columns) rank last but deterministically."""
    return np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0,
                         posinf=np.finfo(np.float64).max)


class AnovaFSelector(RankingSelector):
    """Rank columns by the one-way ANOVA F statistic between classes.

    Constant columns have an undefined F (0/0); they score 0.

    Parameters
    ----------
    n_features_to_select : int, default=50
    random_state : None
        Unused (deterministic); accepted so the runner can seed every selector alike.
    """

    def __init__(self, n_features_to_select=50, *, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.random_state = random_state

    def _fit_scores(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (RuntimeWarning, UserWarning))
            f, _ = f_classif(X, y)
        return _finite(f)


class MutualInfoSelector(RankingSelector):
    """Rank columns by their mutual information with the class (k-NN estimator,
    Kraskov et al. 2004 / Ross 2014, as in scikit-learn).

    Parameters
    ----------
    n_features_to_select : int, default=50
    n_neighbors : int, default=3
    random_state : int or None, default=None
        Seeds the small noise scikit-learn adds to break ties.
    """

    def __init__(self, n_features_to_select=50, *, n_neighbors=3, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def _fit_scores(self, X, y):
        return _finite(mutual_info_classif(X, y, n_neighbors=self.n_neighbors,
                                           random_state=self.random_state))


class FisherScoreSelector(RankingSelector):
    """Fisher score (He, Cai, Niyogi 2005; the supervised form of scikit-feature).

    ``F_j = sum_c n_c (mu_cj - mu_j)^2 / sum_c n_c var_cj``: between-class scatter over
    within-class scatter of column j. Columns with no within-class variance and no
    between-class difference (constant) score 0; a column that separates the classes
    perfectly (zero within-class variance) scores the largest finite value.

    Parameters
    ----------
    n_features_to_select : int, default=50
    random_state : None
        Unused (deterministic).
    """

    def __init__(self, n_features_to_select=50, *, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.random_state = random_state

    def _fit_scores(self, X, y):
        X = X.astype(np.float64)
        C = int(y.max()) + 1
        counts = np.bincount(y, minlength=C).astype(np.float64)
        sums = np.zeros((C, X.shape[1]))
        np.add.at(sums, y, X)
        means = sums / np.maximum(counts, 1)[:, None]
        sq = np.zeros_like(sums)
        np.add.at(sq, y, X * X)
        var = sq / np.maximum(counts, 1)[:, None] - means ** 2
        between = (counts[:, None] * (means - X.mean(0)) ** 2).sum(0)
        within = (counts[:, None] * np.maximum(var, 0)).sum(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = between / within
        score[(within <= 1e-12) & (between > 1e-12)] = np.inf
        return _finite(score)


class L1LogRegSelector(RankingSelector):
    """Order columns by when they enter an L1-regularised logistic-regression path.

    The path runs from strong to weak regularisation (``Cs`` increasing, warm-started,
    ``saga``). A column's score is the position of the first ``C`` at which any of its
    coefficients becomes non-zero, counted from the end, so earlier entry = larger score;
    ties between columns that enter at the same ``C`` are broken by the coefficient
    magnitude there; columns that never enter score below all others, ordered by their
    final magnitude (all zero: by index).

    Parameters
    ----------
    n_features_to_select : int, default=50
    Cs : int, default=20
        Number of points on the path, log-spaced between ``C_min`` and ``C_max``.
    C_min, C_max : float, default=1e-3, 10.0
    max_iter : int, default=200
        Iteration limit of the solver at each point of the path.
    random_state : int or None, default=None

    Attributes
    ----------
    scores_ : ndarray of shape (n_features,)
    n_iter_ : int
        Solver iterations summed over the path points fitted (the path stops early once
        every column has entered).
    """

    def __init__(self, n_features_to_select=50, *, Cs=20, C_min=1e-3, C_max=10.0,
                 max_iter=200, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.Cs = Cs
        self.C_min = C_min
        self.C_max = C_max
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit_scores(self, X, y):
        from sklearn.linear_model import LogisticRegression

        X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)  # saga needs scale
        grid = np.logspace(np.log10(self.C_min), np.log10(self.C_max), int(self.Cs))
        D = X.shape[1]
        entered = np.full(D, -1)
        size_at_entry = np.zeros(D)
        # scikit-learn >= 1.8 spells L1 as l1_ratio=1 and deprecates `penalty`
        import inspect

        new_api = inspect.signature(LogisticRegression).parameters["penalty"].default == \
            "deprecated"
        l1 = {"l1_ratio": 1.0} if new_api else {"penalty": "l1"}
        model = LogisticRegression(solver="saga", warm_start=True, max_iter=int(self.max_iter),
                                   tol=1e-3, random_state=self.random_state, **l1)
        mag = np.zeros(D)
        n_iter = 0
        for i, C in enumerate(grid):
            model.set_params(C=float(C))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", (ConvergenceWarning, FutureWarning,
                                                 UserWarning))
                model.fit(X, y)
            n_iter += int(np.max(model.n_iter_))
            mag = np.abs(model.coef_).sum(0)
            new = (mag > 0) & (entered < 0)
            entered[new] = i
            size_at_entry[new] = mag[new]
            if (entered >= 0).all():
                break
        self.n_iter_ = n_iter
        n = len(grid)
        # entry step first (earlier = better), then magnitude at entry, in one float key
        rel = size_at_entry / (size_at_entry.max() + 1e-300)
        score = np.where(entered >= 0, (n - entered) + rel, -1.0 + mag / (mag.max() + 1e-300))
        return score
