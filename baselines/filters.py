"""Univariate filter rankings (scored column by column, no model)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.feature_selection import f_classif

from entryprune.base import RankingSelector

__all__ = ["AnovaFSelector"]


class AnovaFSelector(RankingSelector):
    """Rank columns by the one-way ANOVA F statistic between classes.

    Constant columns have an undefined F (0/0); they get score 0 rather than NaN so that
    they rank last among real scores but still deterministically.

    Parameters
    ----------
    n_features_to_select : int, default=50
    random_state : None
        Unused (the filter is deterministic); accepted so the runner can pass a seed to
        every selector alike.
    """

    def __init__(self, n_features_to_select=50, *, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.random_state = random_state

    def _fit_scores(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            f, _ = f_classif(X, y)
        return np.nan_to_num(f, nan=0.0, posinf=np.finfo(np.float64).max)
