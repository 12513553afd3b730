"""CIFAR-10/100 from the official python tarballs (flattened 32x32x3 images)."""

from __future__ import annotations

import io
import pickle
import tarfile

import numpy as np

from datasets.base import Dataset, encode_labels
from datasets.fetch import fetch

__all__ = ["load_cifar"]


class _ArraysOnly(pickle.Unpickler):
    """Unpickle the batch dicts but refuse any class other than numpy's array machinery."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray",
               "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")


def _batch(tar, member):
    fh = tar.extractfile(member)
    if fh is None:
        raise ValueError(f"{member}: missing in the CIFAR tarball")
    return _ArraysOnly(io.BytesIO(fh.read()), encoding="bytes").load()


def load_cifar(name: str = "cifar10", n_classes: int = 10, scaler: str = "minmax") -> Dataset:
    """CIFAR-10 (``n_classes=10``) or CIFAR-100 fine labels, official 50k/10k split."""
    if n_classes == 10:
        path, folder, parts, key = (fetch("cifar10/cifar-10-python.tar.gz"),
                                    "cifar-10-batches-py",
                                    [f"data_batch_{i}" for i in range(1, 6)], b"labels")
        test = ["test_batch"]
    elif n_classes == 100:
        path, folder, parts, key = (fetch("cifar100/cifar-100-python.tar.gz"),
                                    "cifar-100-python", ["train"], b"fine_labels")
        test = ["test"]
    else:
        raise ValueError(f"{name}: n_classes must be 10 or 100, got {n_classes}")
    with tarfile.open(path, "r:gz") as tar:
        tr = [_batch(tar, f"{folder}/{p}") for p in parts]
        te = [_batch(tar, f"{folder}/{p}") for p in test]
    Xtr = np.vstack([b[b"data"] for b in tr]).astype(np.float32)
    Xte = np.vstack([b[b"data"] for b in te]).astype(np.float32)
    y, classes = encode_labels(np.concatenate([np.concatenate([b[key] for b in tr]),
                                               np.concatenate([b[key] for b in te])]))
    split = (np.arange(len(Xtr)), np.arange(len(Xtr), len(Xtr) + len(Xte)))
    return Dataset(name=name, X=np.vstack([Xtr, Xte]), y=y, classes=classes,
                   official_split=split, scaler=scaler, source=str(path))
