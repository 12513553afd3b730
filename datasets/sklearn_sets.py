"""Datasets that ship inside scikit-learn: no download, so they serve defaults and tests."""

from __future__ import annotations

import numpy as np

from datasets.base import Dataset, encode_labels

__all__ = ["load_sklearn"]

_LOADERS = {
    "digits": "load_digits",
    "breast_cancer": "load_breast_cancer",
    "wine": "load_wine",
}


def load_sklearn(name: str = "digits", scaler: str = "minmax") -> Dataset:
    """Load one of scikit-learn's bundled sets (``digits``, ``breast_cancer``, ``wine``).

    ``digits`` is a real image set (1797 8x8 handwritten digits, 10 classes).
    """
    import sklearn.datasets as skd

    if name not in _LOADERS:
        raise ValueError(
            f"unknown scikit-learn dataset {name!r}; expected one of {sorted(_LOADERS)}"
        )
    bunch = getattr(skd, _LOADERS[name])()
    y, classes = encode_labels(bunch.target, source=name)
    names = [str(f) for f in bunch.feature_names] if "feature_names" in bunch else None
    return Dataset(
        name=name,
        X=np.ascontiguousarray(bunch.data, dtype=np.float32),
        y=y,
        classes=classes,
        feature_names=names,
        scaler=scaler,
        source=f"sklearn.datasets.{_LOADERS[name]}",
    )
