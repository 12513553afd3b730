"""A user's own table: CSV or Parquet with a named target column."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.base import Dataset, encode_labels

__all__ = ["load_table"]


def load_table(path: str, target: str, name: str | None = None,
               scaler: str = "minmax") -> Dataset:
    """Load ``path`` (``.csv``, ``.tsv``, ``.parquet``); every other column is a feature.

    Non-numeric feature columns are an error (encode them first); labels may be anything.
    """
    import pandas as pd

    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such table file")
    try:
        if p.suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            df = pd.read_csv(p, sep="\t" if p.suffix == ".tsv" else ",")
    except Exception as exc:  # pandas raises many types for a malformed file
        raise ValueError(f"{p}: cannot be read as a table ({type(exc).__name__}: {exc})") from exc
    if df.empty:
        raise ValueError(f"{p}: the table is empty")
    if target not in df.columns:
        raise ValueError(f"{p}: no target column {target!r}; columns are {list(df.columns)}")
    feats = df.drop(columns=[target])
    bad = [c for c in feats.columns if not pd.api.types.is_numeric_dtype(feats[c])]
    if bad:
        raise ValueError(f"{p}: non-numeric feature columns {bad}; encode them first")
    X = feats.to_numpy(dtype=np.float32)
    if not np.isfinite(X).all():
        raise ValueError(f"{p}: feature columns hold NaN or infinite values "
                         f"({int((~np.isfinite(X)).sum())} cells)")
    yv = df[target]
    if yv.isna().any():
        raise ValueError(f"{p}: target column {target!r} has missing values")
    y, classes = encode_labels(yv.to_numpy(), source=f"{p}:{target}")
    if classes.shape[0] < 2:
        raise ValueError(f"{p}: target column {target!r} has a single class")
    return Dataset(name=name or p.stem, X=X, y=y, classes=classes,
                   feature_names=[str(c) for c in feats.columns], scaler=scaler, source=str(p))
