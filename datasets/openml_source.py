"""OpenML datasets by integer id, through the ``openml`` package and its cache."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from datasets.base import Dataset, encode_labels

__all__ = ["load_openml"]


def load_openml(data_id: int, name: str | None = None, target: str | None = None,
                cache_dir: str | None = None, scaler: str = "minmax") -> Dataset:
    """Load OpenML dataset ``data_id``; its default target unless ``target`` is given.

    The cache directory is ``cache_dir``, else ``$ENTRYPRUNE_OPENML_CACHE``, else the data
    directory's ``openml/``. Once a dataset is in that cache, openml reads it from there.
    Categorical feature columns are one-hot encoded.
    """
    if data_id is None or isinstance(data_id, bool) or not str(data_id).isdigit():
        raise ValueError(f"openml: data_id must be a positive integer, got {data_id!r} "
                         "(python run.py dataset=openml dataset.data_id=1590)")
    import openml
    import pandas as pd

    from datasets.fetch import data_dir

    cache = Path(cache_dir or os.environ.get("ENTRYPRUNE_OPENML_CACHE")
                 or data_dir() / "openml").expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    openml.config.set_root_cache_directory(str(cache))
    ds = openml.datasets.get_dataset(int(data_id), download_data=True,
                                     download_qualities=False,
                                     download_features_meta_data=False)
    tgt = target or ds.default_target_attribute
    if not tgt:
        raise ValueError(f"openml {data_id}: no default target; pass dataset.target=...")
    X, y, _, names = ds.get_data(target=tgt, dataset_format="dataframe")
    X = pd.get_dummies(X, dtype=np.float32) if any(
        not pd.api.types.is_numeric_dtype(X[c]) for c in X.columns) else X
    Xa = X.to_numpy(dtype=np.float32)
    if not np.isfinite(Xa).all():
        raise ValueError(f"openml {data_id}: features hold missing values "
                         f"({int((~np.isfinite(Xa)).sum())} cells); impute them first")
    codes, classes = encode_labels(np.asarray(y), source=f"openml {data_id}:{tgt}")
    return Dataset(name=name or f"openml_{data_id}", X=Xa, y=codes, classes=classes,
                   feature_names=[str(c) for c in X.columns], scaler=scaler,
                   source=f"openml:{data_id}")
