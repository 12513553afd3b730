"""USPS digits in the ESL text format (Hastie, Tibshirani, Friedman): ``label p1 .. p256``."""

from __future__ import annotations

import gzip

import numpy as np

from datasets.base import Dataset, encode_labels
from datasets.fetch import fetch

__all__ = ["load_usps"]


def _read(path):
    try:
        with gzip.open(path, "rt") as fh:
            data = np.loadtxt(fh, dtype=np.float32)
    except (EOFError, gzip.BadGzipFile, OSError, ValueError) as exc:
        raise ValueError(f"{path}: truncated or malformed USPS text file ({exc})") from exc
    if data.ndim != 2 or data.shape[1] != 257:
        raise ValueError(f"{path}: expected 257 columns (label + 256 pixels), got {data.shape}")
    return data[:, 1:], data[:, 0].astype(np.int64)


def load_usps(name: str = "usps", scaler: str = "minmax") -> Dataset:
    """7291 training + 2007 test 16x16 digits (official split), pixels in [-1, 1].

    A substitute for scikit-feature's USPS.mat (the same 9298 digits in another order and
    scale), so the paper's random split cannot be reproduced exactly.
    """
    Xtr, ytr = _read(fetch("usps/zip.train.gz"))
    Xte, yte = _read(fetch("usps/zip.test.gz"))
    y, classes = encode_labels(np.concatenate([ytr, yte]))
    split = (np.arange(len(ytr)), np.arange(len(ytr), len(ytr) + len(yte)))
    return Dataset(name=name, X=np.ascontiguousarray(np.vstack([Xtr, Xte])), y=y,
                   classes=classes, official_split=split, scaler=scaler, source="usps (ESL)")
