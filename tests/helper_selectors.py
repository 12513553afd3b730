"""Selectors that exist only to test the harness: one that fails, two that are slow."""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin

from selector_contract import RankingSelector, check_selector_input, top_k_mask


class AlwaysFails(RankingSelector):
    """Raises in fit, to check that a broken selector gives failed rows, not a crash."""

    def __init__(self, n_features_to_select=5, *, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.random_state = random_state

    def _fit_scores(self, X, y):
        raise ValueError("deliberate failure for the harness test")


class Sleepy(SelectorMixin, BaseEstimator):
    """Refit per budget and sleep ``sleep_s`` in short steps (interruptible by SIGALRM/kill)."""

    refit_per_budget = True

    def __init__(self, n_features_to_select=5, *, sleep_s=0.5, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.sleep_s = sleep_s
        self.random_state = random_state

    def fit(self, X, y):
        X, y, _ = check_selector_input(X, y, self.n_features_to_select)
        end = time.monotonic() + self.sleep_s
        while time.monotonic() < end:
            time.sleep(0.02)
        rng = np.random.default_rng(self.random_state)
        self.scores_ = rng.random(X.shape[1])
        return self

    def _get_support_mask(self):
        return top_k_mask(self.scores_, self.n_features_to_select)


class SleepyRanking(Sleepy):
    """:class:`Sleepy` as a ranking selector: one fit per seed serves every budget."""

    refit_per_budget = False
