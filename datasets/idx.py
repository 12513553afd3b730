"""MNIST-style IDX files (MNIST, Fashion-MNIST), gzip or plain, with the official split."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from datasets.base import Dataset, encode_labels
from datasets.fetch import fetch

__all__ = ["load_idx", "read_idx"]

_MAGIC = {2049: 1, 2051: 3}  # labels (1-D), images (3-D)


def read_idx(path) -> np.ndarray:
    """Read one IDX file of unsigned bytes into a uint8 array (no float64 copy)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise ValueError(f"{path}: truncated or corrupt file ({exc})") from exc
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in _MAGIC:
        raise ValueError(f"{path}: bad IDX magic number {magic} (expected 2049 or 2051)")
    ndim = _MAGIC[magic]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    need = offset + int(np.prod(dims))
    if len(raw) != need:
        raise ValueError(f"{path}: {len(raw)} bytes, expected {need} for shape {dims}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def load_idx(name: str, folder: str, scaler: str = "minmax",
             files: dict | None = None) -> Dataset:
    """Load an MNIST-layout folder: train/t10k images and labels, official 60k/10k split.

    Images are returned as float32 (n, 784) straight from the uint8 bytes.
    """
    files = files or {
        "train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
        "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}
    arr = {k: read_idx(fetch(f"{folder}/{v}")) for k, v in files.items()}
    n_tr, n_te = arr["train_images"].shape[0], arr["test_images"].shape[0]
    for part, n in (("train", n_tr), ("test", n_te)):
        if arr[f"{part}_labels"].shape[0] != n:
            raise ValueError(f"{folder}: {n} {part} images but "
                             f"{arr[f'{part}_labels'].shape[0]} labels")
    X = np.empty((n_tr + n_te, int(np.prod(arr["train_images"].shape[1:]))), dtype=np.float32)
    X[:n_tr] = arr["train_images"].reshape(n_tr, -1)
    X[n_tr:] = arr["test_images"].reshape(n_te, -1)
    y, classes = encode_labels(np.concatenate([arr["train_labels"], arr["test_labels"]]))
    split = (np.arange(n_tr), np.arange(n_tr, n_tr + n_te))
    return Dataset(name=name, X=X, y=y, classes=classes, official_split=split, scaler=scaler,
                   source=folder)
