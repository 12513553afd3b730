"""Selection time: one row per selector fit, the median-seconds table, time beside accuracy.

A ranking selector fit once per seed serves every budget (``select_shared``); such a fit
counts once where fits are counted, and in full at every K where a K's selection is priced.
"""

from __future__ import annotations

import pandas as pd

from bench.markdown import MISSING
from bench.report.formatting import fmt_seconds
from bench.report.names import DATASET_ORDER, RANK_EVALUATOR, SELECTOR_ORDER, ordered, sort_long
from bench.report.results import at_k, ok_rows

__all__ = ["selection_fits", "selection_time_table", "time_vs_accuracy"]


def selection_fits(df: pd.DataFrame) -> pd.DataFrame:
    """One row per selector fit, with its ``select_seconds``.

    A shared fit (``select_shared``: one fit served every K of a seed) counts once per
    (dataset, selector, seed); any other fit once per (dataset, selector, seed, k). Only
    ok rows count: a failed or timed-out fit did not produce a selection.

    Returns
    -------
    DataFrame
        Columns ``dataset, selector, seed, k, select_seconds, shared``.
    """
    ok = df[(df["status"] == "ok") & df["select_seconds"].notna()]
    cols = ["dataset", "selector", "seed", "k", "select_seconds", "shared"]
    if ok.empty:
        return pd.DataFrame(columns=cols)
    shared = ok[ok["select_shared"]].drop_duplicates(["dataset", "selector", "seed"])
    own = ok[~ok["select_shared"]].drop_duplicates(["dataset", "selector", "seed", "k"])
    fits = pd.concat([shared, own], ignore_index=True)
    return fits.assign(shared=fits["select_shared"])[cols].reset_index(drop=True)


def selection_time_table(fits: pd.DataFrame) -> pd.DataFrame:
    """Median selection seconds per selector x dataset from :func:`selection_fits`."""
    if fits.empty:
        return pd.DataFrame()
    med = fits.groupby(["selector", "dataset"])["select_seconds"].median()
    datasets = ordered(fits["dataset"], DATASET_ORDER)
    selectors = ordered(fits["selector"], SELECTOR_ORDER)
    table = pd.DataFrame(MISSING, index=pd.Index(selectors, name="selector"), columns=datasets)
    for (sel, ds), v in med.items():
        table.loc[sel, ds] = fmt_seconds(float(v))
    return table


def time_vs_accuracy(df: pd.DataFrame, k: int, evaluator: str = RANK_EVALUATOR) -> pd.DataFrame:
    """Accuracy and selection time per dataset x selector at budget ``k``, over seeds.

    Each seed's ok row of ``evaluator`` gives both numbers: its accuracy and the seconds of
    the fit that made its selection (a fit shared by every K counts in full at this K too:
    it is what this K's selection cost). The ceiling is taken at its own K = D.

    Returns
    -------
    DataFrame
        Columns ``dataset, selector, k, n, acc_mean, acc_sd`` (percent; sd NaN for one
        seed) and ``sec_mean, sec_min, sec_max``.
    """
    cols = ["dataset", "selector", "k", "n", "acc_mean", "acc_sd", "sec_mean", "sec_min",
            "sec_max"]
    ok = ok_rows(at_k(df[df["evaluator"] == evaluator], k))
    ok = ok[ok["select_seconds"].notna()]
    if ok.empty:
        return pd.DataFrame(columns=cols)
    out = (ok.assign(acc=ok["accuracy"] * 100.0)
           .groupby(["dataset", "selector", "k"], sort=False)
           .agg(n=("seed", "nunique"), acc_mean=("acc", "mean"), acc_sd=("acc", "std"),
                sec_mean=("select_seconds", "mean"), sec_min=("select_seconds", "min"),
                sec_max=("select_seconds", "max"))
           .reset_index())
    out["k"] = out["k"].astype(int)
    return sort_long(out[cols])
