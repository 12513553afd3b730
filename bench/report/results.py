"""Result rows for the report: loading, the types it relies on, and the shared row filters.

The report reads ``results/<exp_name>.csv`` with the same reader as the runner
(:func:`bench.records.read_rows`), then :func:`prepare` gives the rows the types every
section relies on. The rows may be partial (a sweep still running, cells that failed or
timed out): missing cells are marked by the sections, never an error.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from bench.records import COLUMNS, STATUSES, TEXT_COLUMNS, read_rows
from bench.report.names import CEILING

__all__ = [
    "accuracy_summary",
    "at_k",
    "load_results",
    "ok_rows",
    "parse_indices",
    "prepare",
    "status_counts",
    "why_missing",
]

_NUMERIC = [c for c in COLUMNS if c not in TEXT_COLUMNS and c != "select_shared"]


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Give a frame of result rows the types the report relies on.

    Missing columns are added empty, numbers that do not parse become NaN and text columns
    become plain strings, so rows written by an older or interrupted run still load.

    Parameters
    ----------
    df : DataFrame
        Result rows, as read from ``results/<exp_name>.csv``.

    Returns
    -------
    DataFrame
        A copy with numeric columns as floats, ``select_shared`` as bool and the text
        columns as ``str`` (empty where unknown).
    """
    df = df.copy()
    for col in _NUMERIC:
        df[col] = pd.to_numeric(df[col], errors="coerce") if col in df else np.nan
    for col in TEXT_COLUMNS:
        if col in df:
            df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str).str.strip()
        else:
            df[col] = ""
    df["status"] = df["status"].str.lower()
    shared = df["select_shared"] if "select_shared" in df else pd.Series(False, index=df.index)
    df["select_shared"] = shared.astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
    return df.reset_index(drop=True)


def load_results(path) -> pd.DataFrame:
    """Read ``results/<exp_name>.csv`` into prepared rows (see :func:`prepare`).

    Parameters
    ----------
    path : path-like
        A result CSV; read with :func:`bench.records.read_rows`. An empty file gives no
        rows.

    Returns
    -------
    DataFrame

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no result file at {path}")
    try:
        raw = read_rows(path)
    except pd.errors.EmptyDataError:
        raw = pd.DataFrame()
    return prepare(raw)


def parse_indices(text) -> np.ndarray:
    """Column indices from a space-separated string (``""`` or NaN give an empty array)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return np.array([], dtype=np.int64)
    parts = str(text).split()
    return np.array([int(p) for p in parts], dtype=np.int64)


def status_counts(df: pd.DataFrame) -> dict:
    """Number of rows per status, every known status present (0 when absent)."""
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    out = {s: int(counts.get(s, 0)) for s in STATUSES}
    for s, n in counts.items():
        if s not in out:
            out[s or "(empty)"] = int(n)
    return out


def at_k(df: pd.DataFrame, k) -> pd.DataFrame:
    """Rows at budget ``k``, and the ceiling's rows at its own K = D."""
    # The ceiling is recorded with k = n_features, so it joins every budget's table.
    return df[(df["k"] == k) | (df["selector"] == CEILING)]


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with status ``ok`` and an accuracy."""
    return df[(df["status"] == "ok") & df["accuracy"].notna()]


def accuracy_summary(df: pd.DataFrame, by=("dataset", "selector", "evaluator", "k")):
    """Mean, sample sd and count over seeds of the ok rows' accuracy, in percent.

    Parameters
    ----------
    df : DataFrame
        Prepared result rows.
    by : sequence of str
        Grouping columns.

    Returns
    -------
    DataFrame
        ``by`` columns plus ``mean``, ``sd`` (ddof=1, NaN for one seed) and ``n``.
    """
    ok = ok_rows(df)
    by = list(by)
    if ok.empty:
        return pd.DataFrame(columns=by + ["mean", "sd", "n"])
    acc = ok.assign(acc=ok["accuracy"] * 100.0)
    out = acc.groupby(by, sort=False)["acc"].agg(mean="mean", sd="std", n="count")
    return out.reset_index()


def why_missing(df: pd.DataFrame) -> dict:
    """(dataset, selector, evaluator) -> the commonest non-ok status of those rows."""
    bad = df[df["status"] != "ok"]
    if bad.empty:
        return {}
    top = (bad.groupby(["dataset", "selector", "evaluator"])["status"]
           .agg(lambda s: s.value_counts().index[0]))
    return top.to_dict()
