"""Synthetic data with known ground truth, for checking that selectors find what matters."""

from __future__ import annotations

import numpy as np

from datasets.base import Dataset

__all__ = ["load_synthetic", "load_xor"]


def load_synthetic(name: str = "synthetic", n_samples: int = 2000, n_features: int = 500,
                   n_informative: int = 20, n_classes: int = 2, class_sep: float = 1.0,
                   random_state: int = 0, scaler: str = "minmax") -> Dataset:
    """Madelon-style data (Guyon's generator in ``make_classification``).

    Informative columns are clusters on hypercube vertices; the rest is noise. Columns are
    shuffled with a seeded permutation and ``true_support`` records where the informative
    ones went.
    """
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n_samples, n_features=n_features,
                               n_informative=n_informative, n_redundant=0, n_repeated=0,
                               n_classes=n_classes, class_sep=class_sep, shuffle=False,
                               random_state=random_state)
    perm = np.random.default_rng(random_state).permutation(n_features)
    X = X[:, perm]
    true = np.flatnonzero(perm < n_informative)  # new positions of the informative columns
    return Dataset(name=name, X=np.ascontiguousarray(X, dtype=np.float32),
                   y=y.astype(np.int64), classes=np.arange(n_classes), true_support=true,
                   scaler=scaler, source="sklearn.datasets.make_classification")


def load_xor(name: str = "xor", n_samples: int = 2000, n_features: int = 50,
             n_relevant: int = 2, noise: float = 0.0, random_state: int = 0,
             scaler: str = "minmax") -> Dataset:
    """Parity of ``n_relevant`` uniform columns: each matters only through the interaction.

    Every column is Uniform(-1, 1); the label is the parity of the signs of the relevant
    ones, so each relevant column alone carries no information (univariate filters fail).
    ``noise`` flips that fraction of labels.
    """
    rng = np.random.default_rng(random_state)
    X = rng.uniform(-1, 1, size=(n_samples, n_features)).astype(np.float32)
    true = np.sort(rng.choice(n_features, size=n_relevant, replace=False))
    y = (np.sum(X[:, true] > 0, axis=1) % 2).astype(np.int64)
    if noise > 0:
        flip = rng.random(n_samples) < noise
        y[flip] = 1 - y[flip]
    return Dataset(name=name, X=X, y=y, classes=np.array([0, 1]), true_support=true,
                   scaler=scaler, source="xor parity")
