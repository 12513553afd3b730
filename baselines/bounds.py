"""Reference selectors: the floor (random columns) and the ceiling (all columns)."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from selector_contract import RankingSelector, check_selector_input

__all__ = ["AllFeaturesSelector", "RandomSelector"]


class RandomSelector(RankingSelector):
    """K columns drawn uniformly at random: the floor every selector must beat.

    The ranking is a seeded random permutation, so one fit serves every budget and the
    K-column set is nested in the (K+1)-column set, as for any ranking selector.

    Parameters
    ----------
    n_features_to_select : int, default=50
    random_state : int or None, default=None
    """

    def __init__(self, n_features_to_select=50, *, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.random_state = random_state

    def _fit_scores(self, X, y):
        rng = np.random.default_rng(self.random_state)
        return rng.permutation(X.shape[1]).astype(np.float64)


class AllFeaturesSelector(RankingSelector):
    """Every column: the ceiling the selectors are compared with.

    The budget is ignored (the runner records K = D for its rows); ``scores_`` are all
    equal so that a forced top-K would simply take the first K columns.
    """

    selects_all_features = True

    def __init__(self, n_features_to_select=None, *, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.random_state = random_state

    def fit(self, X, y):
        X, y_enc, classes = check_selector_input(X, y)
        self.n_features_in_ = X.shape[1]
        self.classes_ = classes
        self.scores_ = np.ones(X.shape[1])
        return self

    def _get_support_mask(self):
        check_is_fitted(self, "scores_")
        return np.ones(self.n_features_in_, dtype=bool)
