"""Gradient-boosted trees (XGBoost, Chen & Guestrin 2016): total gain as a ranking."""

from __future__ import annotations

import json

import numpy as np

from selector_contract import RankingSelector

__all__ = ["XGBoostSelector"]


class XGBoostSelector(RankingSelector):
    """Rank columns by their total split gain in an XGBoost model.

    A column that no tree uses gets gain 0 and stays in the ranking (last, by index).

    Parameters
    ----------
    n_features_to_select : int, default=50
    n_estimators : int, default=100
    max_depth : int, default=6
    learning_rate : float, default=0.3
    n_jobs : int, default=1
        One thread by default so parallel sweeps do not oversubscribe the cores.
    device : {"auto", "cpu", "cuda"}, default="auto"
        ``auto`` asks for CUDA when torch sees a GPU. XGBoost falls back to the CPU
        silently when it cannot use the GPU, so ``device_`` is read back from the booster.
    random_state : int or None, default=None
    """

    def __init__(self, n_features_to_select=50, *, n_estimators=100, max_depth=6,
                 learning_rate=0.3, n_jobs=1, device="auto", random_state=None):
        self.n_features_to_select = n_features_to_select
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.n_jobs = n_jobs
        self.device = device
        self.random_state = random_state

    def _fit_scores(self, X, y):
        import xgboost as xgb

        dev = self.device
        if dev == "auto":
            import torch

            dev = "cuda" if torch.cuda.is_available() else "cpu"
        model = xgb.XGBClassifier(
            n_estimators=int(self.n_estimators), max_depth=int(self.max_depth),
            learning_rate=float(self.learning_rate), tree_method="hist", device=dev,
            n_jobs=int(self.n_jobs), random_state=int(self.random_state or 0),
            importance_type="total_gain")
        model.fit(X, y)
        booster = model.get_booster()
        cfg = json.loads(booster.save_config())
        self.device_ = str(cfg["learner"]["generic_param"].get("device", dev))
        gain = booster.get_score(importance_type="total_gain")
        scores = np.zeros(X.shape[1])
        for key, value in gain.items():  # keys are "f<index>" for NumPy input
            scores[int(key[1:])] = value
        return scores
