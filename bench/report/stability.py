"""Whether a selector picks the same columns across seeds, and the true ones on synthetic data.

- The stability index of Nogueira, Sechidis and Brown, "On the Stability of Feature
  Selection Algorithms", JMLR 18 (2018).
- Recall of the truly informative columns, for rows that carry a known support.

A selection is the same for every evaluator of a seed, so each counts once; the
all-features ceiling keeps every column and is left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.report.names import CEILING, EVALUATOR_ORDER, ordered, sort_long
from bench.report.results import parse_indices

__all__ = [
    "nogueira_stability",
    "one_selection_per_seed",
    "recall_table",
    "stability_table",
    "true_feature_recall",
]


def nogueira_stability(Z) -> float:
    """Stability index of Nogueira, Sechidis and Brown (JMLR 2018).

    phi = 1 − mean_f(s_f²) / ((k̄/d)(1 − k̄/d)), with s_f² the unbiased variance over the M
    runs of feature f's selection indicator, d the number of features and k̄ the mean
    subset size. 1 for identical selections, about 0 for random ones of a fixed size.

    Parameters
    ----------
    Z : array-like of shape (M, d)
        Binary selection matrix, one row per run (seed).

    Returns
    -------
    float
        NaN when M < 2 or when every run selects none or all of the features (the index
        is then undefined).
    """
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or Z.shape[0] < 2 or Z.shape[1] == 0:
        return np.nan
    d = Z.shape[1]
    kbar = Z.sum(axis=1).mean()
    denom = (kbar / d) * (1.0 - kbar / d)
    if denom <= 0:
        return np.nan
    s2 = Z.var(axis=0, ddof=1)
    return float(1.0 - s2.mean() / denom)


def one_selection_per_seed(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, selector, k, seed) that carries a selection.

    The selection is the same for every evaluator of a seed, so the first evaluator's row
    (in the paper's order) stands for it. Rows whose evaluator failed after a successful
    selection still count: the selection itself is valid.
    """
    has = df[df["selected"] != ""]
    if has.empty:
        return has
    rank = {e: i for i, e in enumerate(ordered(has["evaluator"], EVALUATOR_ORDER))}
    has = has.assign(_e=has["evaluator"].map(rank)).sort_values("_e", kind="stable")
    return has.drop_duplicates(["dataset", "selector", "k", "seed"]).drop(columns="_e")


def stability_table(df: pd.DataFrame) -> pd.DataFrame:
    """Nogueira stability per (dataset, selector, k) across seeds (ceiling left out).

    Returns
    -------
    DataFrame
        Columns ``dataset, selector, k, n_seeds, stability`` (NaN below 2 seeds).
    """
    cols = ["dataset", "selector", "k", "n_seeds", "stability"]
    sel = one_selection_per_seed(df[df["selector"] != CEILING])
    if sel.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (ds, name, k), g in sel.groupby(["dataset", "selector", "k"], sort=False):
        d = g["n_features"].max()
        subsets = [parse_indices(s) for s in g["selected"]]
        # n_features is missing only on odd rows; the largest index is a safe lower bound.
        d = int(d) if np.isfinite(d) else int(max(s.max() for s in subsets)) + 1
        Z = np.zeros((len(subsets), d))
        for i, s in enumerate(subsets):
            Z[i, s[s < d]] = 1.0
        rows.append(dict(dataset=ds, selector=name, k=int(k), n_seeds=len(subsets),
                         stability=nogueira_stability(Z)))
    return sort_long(pd.DataFrame(rows, columns=cols))


def true_feature_recall(selected, true, k: int) -> float:
    """|selected ∩ true| / min(k, |true|); NaN when ``true`` is empty."""
    s = set(np.asarray(selected).tolist())
    t = set(np.asarray(true).tolist())
    if not t:
        return np.nan
    return len(s & t) / min(int(k), len(t))


def recall_table(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over seeds of :func:`true_feature_recall` for rows with a known support.

    Returns
    -------
    DataFrame
        Columns ``dataset, selector, k, n_seeds, recall, recall_sd``.
    """
    cols = ["dataset", "selector", "k", "n_seeds", "recall", "recall_sd"]
    sel = one_selection_per_seed(df[(df["true_support"] != "") & (df["selector"] != CEILING)])
    if sel.empty:
        return pd.DataFrame(columns=cols)
    rec = sel.assign(recall=[true_feature_recall(parse_indices(s), parse_indices(t), k)
                             for s, t, k in zip(sel["selected"], sel["true_support"], sel["k"],
                                                strict=True)])
    out = rec.groupby(["dataset", "selector", "k"], sort=False)["recall"].agg(
        n_seeds="count", recall="mean", recall_sd="std").reset_index()
    out["k"] = out["k"].astype(int)
    return sort_long(out[cols])
