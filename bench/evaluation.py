"""Downstream evaluation: train a classifier on the selected columns, score the test split."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from bench.factory import build_estimator

__all__ = ["EvalResult", "build_evaluator", "evaluate", "evaluator_applies"]


@dataclass
class EvalResult:
    accuracy: float
    balanced_accuracy: float
    seconds: float


def evaluator_applies(spec: dict, k: int) -> bool:
    """Whether an evaluator runs at budget ``k`` (``budgets: null`` means every budget)."""
    budgets = spec.get("budgets")
    return budgets is None or int(k) in {int(b) for b in budgets}


def build_evaluator(spec: dict, seed: int):
    """Instantiate the evaluator's estimator; seed it when it takes a ``random_state``."""
    return build_estimator(spec["estimator"], random_state=int(seed))


def evaluate(spec: dict, seed: int, X_train, y_train, X_test, y_test) -> EvalResult:
    """Fit the evaluator on the training columns and score accuracy on the test split."""
    est = build_evaluator(spec, seed)
    t0 = time.perf_counter()
    est.fit(np.ascontiguousarray(X_train), y_train)
    pred = est.predict(np.ascontiguousarray(X_test))
    seconds = time.perf_counter() - t0
    return EvalResult(
        accuracy=float(accuracy_score(y_test, pred)),
        balanced_accuracy=float(balanced_accuracy_score(y_test, pred)),
        seconds=seconds,
    )
