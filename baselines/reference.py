"""Reference selectors: the floor (random columns) and the ceiling (all columns)."""

from __future__ import annotations

import numpy as np

from entryprune.base import RankingSelector

__all__ = ["RandomSelector"]


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
