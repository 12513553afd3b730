"""Random-forest impurity importances (Breiman 2001) as a feature ranking."""

from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier

from selector_contract import RankingSelector

__all__ = ["RandomForestSelector"]


class RandomForestSelector(RankingSelector):
    """Rank columns by the mean decrease in impurity of a random forest.

    Parameters
    ----------
    n_features_to_select : int, default=50
    n_estimators : int, default=100
    max_depth : int or None, default=None
    n_jobs : int or None, default=None
        Threads for tree building (``None``: one, so parallel sweeps do not oversubscribe).
    random_state : int or None, default=None
    """

    def __init__(self, n_features_to_select=50, *, n_estimators=100, max_depth=None,
                 n_jobs=None, random_state=None):
        self.n_features_to_select = n_features_to_select
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit_scores(self, X, y):
        forest = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(X, y)
        return forest.feature_importances_
