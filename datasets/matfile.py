"""scikit-feature ``.mat`` files (Li et al., "Feature Selection: A Data Perspective").

Keys ``X``/``Y`` or ``fea``/``gnd``; MATLAB v5 through scipy, v7.3 (HDF5) through h5py;
dense or sparse X. ``X_dis`` (a discretised copy some files carry) is ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.base import Dataset, encode_labels
from datasets.fetch import fetch

__all__ = ["load_scikit_feature", "read_mat"]

_KEY_PAIRS = (("X", "Y"), ("fea", "gnd"))


def _read_v73(path: Path) -> dict:
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        for key in f:
            node = f[key]
            if isinstance(node, h5py.Group) and {"data", "ir", "jc"} <= set(node):
                import scipy.sparse as sp

                # MATLAB stores sparse matrices column-compressed, as (cols x rows) here
                shape = (int(node.attrs["MATLAB_sparse"]), len(node["jc"]) - 1)
                out[key] = sp.csc_matrix((node["data"][()], node["ir"][()], node["jc"][()]),
                                         shape=shape)
            elif isinstance(node, h5py.Dataset):
                out[key] = node[()].T  # HDF5 holds MATLAB arrays transposed
    return out


def read_mat(path) -> dict:
    """Variables of a ``.mat`` file (v5 or v7.3), with clear errors for bad files."""
    import scipy.io

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such .mat file")
    import h5py

    if h5py.is_hdf5(path):  # v7.3 files are HDF5 (with or without MATLAB's header)
        try:
            return _read_v73(path)
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable MATLAB v7.3/HDF5 file ({exc})") from exc
    try:
        return scipy.io.loadmat(path)
    except (ValueError, TypeError, OSError, EOFError, NotImplementedError) as exc:
        raise ValueError(f"{path}: not a readable MATLAB .mat file ({exc})") from exc


def load_scikit_feature(name: str, file: str | None = None, path: str | None = None,
                        scaler: str = "minmax") -> Dataset:
    """Load a scikit-feature ``.mat`` file.

    Parameters
    ----------
    name : str
        Dataset name recorded in the rows.
    file : str, optional
        A registered data file (``datasets/sources.py``), found through the data directory,
        the mirror or the network.
    path : str, optional
        Any ``.mat`` file on disk (the generic ``matfile`` config); used instead of ``file``.
    scaler : {"minmax", "standard", "none"}
        The scaler of the published pipeline (StandardScaler for BASEHOCK).
    """
    if (file is None) == (path is None):
        raise ValueError(f"{name}: give exactly one of file= (registered) or path= (on disk)")
    p = Path(path).expanduser() if path is not None else fetch(file)
    mat = read_mat(p)
    keys = sorted(k for k in mat if not k.startswith("__"))
    for xk, yk in _KEY_PAIRS:
        if xk in mat and yk in mat:
            break
    else:
        raise ValueError(f"{p}: no X/Y or fea/gnd variables; the file holds {keys}")
    X = mat[xk]
    if hasattr(X, "toarray"):
        X = X.toarray()
    X = np.asarray(X)
    if X.dtype == object or not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{p}: variable {xk!r} is not numeric (dtype {X.dtype})")
    y = np.asarray(mat[yk]).ravel()
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise ValueError(f"{p}: {xk} has shape {X.shape} but {yk} has {y.shape[0]} labels")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X)).sum())
        raise ValueError(f"{p}: {xk} holds {bad} NaN or infinite values")
    codes, classes = encode_labels(y, source=f"{p}:{yk}")
    if classes.shape[0] < 2:
        raise ValueError(f"{p}: {yk} has a single class ({classes.tolist()})")
    return Dataset(name=name, X=X, y=codes, classes=classes, scaler=scaler, source=str(p))
