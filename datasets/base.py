"""The dataset object every loader returns, and the split protocols.

A loader (one module per source format) returns a :class:`Dataset`: the raw feature matrix
as float32, labels encoded to ``0..C-1``, and what is known about it (an official train/test
split, the scaler the published pipeline used, the true informative columns for synthetic
data). :func:`make_split` turns a dataset, a protocol and a seed into scaled train/test
arrays. The runner decides when to split; this module decides how.

Protocols
---------
``paper``
    The published setup (NeuroFS, EntryPrune): the official split where one exists,
    otherwise ``train_test_split(test_size=0.2, random_state=42)`` for every seed; the
    scaler (MinMax, or Standard for BASEHOCK) is fit on train and test together, as the
    published code does, so that the all-feature accuracies of NeuroFS Table 6 reproduce.
``clean``
    The default for new work: a stratified 80/20 split that depends on the seed (the
    official split where one exists), scaler fit on the training part only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PROTOCOLS", "Dataset", "Split", "encode_labels", "make_split"]

PROTOCOLS = ("paper", "clean")
SCALERS = ("minmax", "standard", "none")


def encode_labels(y, *, source: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Map any labels to ``0..C-1`` (int64); return ``(codes, classes)``.

    Uses ``np.unique`` rather than ``y - 1`` so 1-based, -1/+1, string and
    non-contiguous labels are all handled the same way.
    """
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{source}: labels must be 1-D, got shape {y.shape}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{source}: labels contain NaN or infinite values")
    classes, codes = np.unique(y, return_inverse=True)
    return codes.astype(np.int64), classes


@dataclass
class Dataset:
    """A loaded dataset.

    Attributes
    ----------
    name : str
    X : ndarray of float32, shape (n_samples, n_features)
        Unscaled features (scaling belongs to the protocol).
    y : ndarray of int64, shape (n_samples,)
        Labels in ``0..n_classes-1``.
    classes : ndarray
        Original label values, ``classes[y]`` gives them back.
    feature_names : list of str or None
    official_split : tuple (train_idx, test_idx) or None
        Row indices of the published train/test split (MNIST, Fashion-MNIST, USPS, HAR).
    scaler : {"minmax", "standard", "none"}
        Scaler of the published pipeline.
    true_support : ndarray of int or None
        Indices of the truly informative columns (synthetic data).
    source : str
        Where the data came from (path, URL or package), for provenance.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: np.ndarray
    feature_names: list[str] | None = None
    official_split: tuple[np.ndarray, np.ndarray] | None = None
    scaler: str = "minmax"
    true_support: np.ndarray | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.X.ndim != 2:
            raise ValueError(f"{self.name}: X must be 2-D, got shape {self.X.shape}")
        if self.X.shape[0] != self.y.shape[0]:
            raise ValueError(
                f"{self.name}: X has {self.X.shape[0]} rows but y has {self.y.shape[0]}"
            )
        if self.scaler not in SCALERS:
            raise ValueError(f"{self.name}: scaler must be one of {SCALERS}, got {self.scaler!r}")

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.classes.shape[0])


@dataclass
class Split:
    """Scaled train/test arrays of one (dataset, protocol, seed)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    protocol: str
    seed: int


def _scale(X_fit: np.ndarray, arrays: list[np.ndarray], kind: str) -> list[np.ndarray]:
    """Fit a scaler on ``X_fit`` and apply it to ``arrays``, in float32 throughout.

    Written by hand rather than with scikit-learn's scalers because those cast to float64,
    which doubles the memory of MNIST-sized data; the arithmetic is the same (MinMax maps
    each column to [0, 1], constant columns to 0; Standard divides by the population std,
    constant columns by 1).
    """
    if kind == "none":
        return [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]
    X_fit = np.asarray(X_fit, dtype=np.float32)
    if kind == "minmax":
        lo = X_fit.min(axis=0)
        span = X_fit.max(axis=0) - lo
        span[span == 0] = 1.0
        shift, scale = lo, span
    elif kind == "standard":
        shift = X_fit.mean(axis=0, dtype=np.float64).astype(np.float32)
        scale = X_fit.std(axis=0, dtype=np.float64).astype(np.float32)
        scale[scale == 0] = 1.0
    else:
        raise ValueError(f"unknown scaler {kind!r}; expected one of {SCALERS}")
    out = []
    for a in arrays:
        a = np.array(a, dtype=np.float32, copy=True)
        a -= shift
        a /= scale
        out.append(a)
    return out


def make_split(dataset: Dataset, protocol: str = "clean", seed: int = 0,
               test_size: float = 0.2) -> Split:
    """Split and scale ``dataset`` under ``protocol`` (see the module docstring).

    The split depends on (dataset, protocol, seed) only, so every selector of a paired
    comparison sees the same rows.
    """
    from sklearn.model_selection import train_test_split

    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    n = dataset.n_samples
    if dataset.official_split is not None:
        tr, te = (np.asarray(i) for i in dataset.official_split)
    elif protocol == "paper":
        tr, te = train_test_split(np.arange(n), test_size=test_size, random_state=42)
    else:
        _, counts = np.unique(dataset.y, return_counts=True)
        stratify = dataset.y if counts.min() >= 2 else None
        tr, te = train_test_split(
            np.arange(n), test_size=test_size, random_state=seed, stratify=stratify
        )
    X_tr, X_te = dataset.X[tr], dataset.X[te]
    if protocol == "paper":
        both = np.concatenate([X_tr, X_te])
        X_tr, X_te = _scale(both, [X_tr, X_te], dataset.scaler)
    else:
        X_tr, X_te = _scale(X_tr, [X_tr, X_te], dataset.scaler)
    return Split(X_tr, X_te, dataset.y[tr], dataset.y[te], protocol, int(seed))
