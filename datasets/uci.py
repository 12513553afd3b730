"""UCI text formats: ISOLET ``.data`` files, the HAR folder layout, Spambase."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import numpy as np

from datasets.base import Dataset, encode_labels
from datasets.fetch import fetch

__all__ = ["load_har", "load_isolet_uci", "load_spambase", "read_isolet"]


def _text(path: Path) -> str:
    """Text of a plain or compress(1)-ed (``.Z``) file; gzip can read the latter."""
    if path.suffix == ".Z":
        try:
            return subprocess.run(["gzip", "-dc", str(path)], check=True, capture_output=True,
                                  text=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise ValueError(f"{path}: cannot decompress ({exc})") from exc
    return path.read_text()


def read_isolet(path) -> tuple[np.ndarray, np.ndarray]:
    """One UCI ISOLET file: 617 comma-separated features then the letter (1..26)."""
    path = Path(path)
    try:
        data = np.loadtxt(io.StringIO(_text(path)), delimiter=",", dtype=np.float32, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: malformed ISOLET file ({exc})") from exc
    if data.shape[1] != 618:
        raise ValueError(f"{path}: expected 618 columns (617 features + label), "
                         f"got {data.shape[1]}")
    return data[:, :-1], data[:, -1].astype(np.int64)


def load_isolet_uci(name: str = "isolet_uci", scaler: str = "minmax") -> Dataset:
    """Full UCI ISOLET (7797 rows): isolet1+2+3+4 as train, isolet5 as test."""
    Xtr, ytr = read_isolet(fetch("isolet_uci/isolet1+2+3+4.data.Z"))
    Xte, yte = read_isolet(fetch("isolet_uci/isolet5.data.Z"))
    y, classes = encode_labels(np.concatenate([ytr, yte]))
    split = (np.arange(len(ytr)), np.arange(len(ytr), len(ytr) + len(yte)))
    return Dataset(name=name, X=np.vstack([Xtr, Xte]), y=y, classes=classes,
                   official_split=split, scaler=scaler, source="UCI ISOLET")


def _har_part(root, part):
    def read(rel):
        for cand in (root / rel, root / "UCI HAR Dataset" / rel):
            if cand.exists():
                return np.loadtxt(cand, dtype=np.float32, ndmin=2)
        raise FileNotFoundError(f"{root}: no {rel} in the UCI HAR folder layout")
    X = read(f"{part}/X_{part}.txt")
    y = read(f"{part}/y_{part}.txt").ravel().astype(np.int64)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{root}: X_{part} has {X.shape[0]} rows, y_{part} {y.shape[0]}")
    return X, y


def load_har(name: str = "har", path: str | None = None, scaler: str = "minmax") -> Dataset:
    """UCI HAR (10299 x 561): the ``train/`` and ``test/`` folders, official split.

    ``path`` is an extracted ``UCI HAR Dataset`` folder; without it the registered zip is
    fetched and read in place.
    """
    if path is not None:
        root = Path(path).expanduser()
        (Xtr, ytr), (Xte, yte) = _har_part(root, "train"), _har_part(root, "test")
    else:
        zpath = fetch("har/UCI HAR Dataset.zip")
        with zipfile.ZipFile(zpath) as z:
            def read(part, what):
                return np.loadtxt(z.open(f"UCI HAR Dataset/{part}/{what}_{part}.txt"),
                                  dtype=np.float32, ndmin=2)
            Xtr, Xte = read("train", "X"), read("test", "X")
            ytr = read("train", "y").ravel().astype(np.int64)
            yte = read("test", "y").ravel().astype(np.int64)
    y, classes = encode_labels(np.concatenate([ytr, yte]))
    split = (np.arange(len(ytr)), np.arange(len(ytr), len(ytr) + len(yte)))
    return Dataset(name=name, X=np.vstack([Xtr, Xte]), y=y, classes=classes,
                   official_split=split, scaler=scaler, source="UCI HAR")


def load_spambase(name: str = "spambase", scaler: str = "minmax") -> Dataset:
    """UCI Spambase (4601 x 57), label in the last column (1 = spam)."""
    path = fetch("extras/spambase/spam.data")
    try:
        data = np.loadtxt(path, dtype=np.float32, ndmin=2)
    except ValueError:
        data = np.loadtxt(path, dtype=np.float32, delimiter=",", ndmin=2)
    y, classes = encode_labels(data[:, -1].astype(np.int64))
    return Dataset(name=name, X=np.ascontiguousarray(data[:, :-1]), y=y, classes=classes,
                   scaler=scaler, source=str(path))
