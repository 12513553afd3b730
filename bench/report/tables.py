"""Accuracy tables, our numbers beside the published ones, and the tie-separation table.

Every table here is a frame of display strings (LaTeX versions of the accuracy tables are
in :mod:`bench.report.latex`, Markdown is written by :func:`bench.markdown.markdown_table`).
Accuracies are test-set percentages, "mean ± sd" over seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.markdown import MISSING
from bench.report.formatting import fmt_mean_sd, fmt_percent, fmt_seconds, fmt_signed
from bench.report.names import (
    CEILING,
    DATASET_CAVEATS,
    DATASET_ORDER,
    EVALUATOR_ORDER,
    PUBLISHED_K,
    RANK_EVALUATOR,
    SELECTOR_ORDER,
    SETTING_VARIANTS,
    ordered,
)
from bench.report.results import accuracy_summary, at_k, ok_rows, why_missing

__all__ = [
    "AccuracyCells",
    "accuracy_cells",
    "accuracy_per_k",
    "accuracy_table",
    "compare_published",
    "format_comparison",
    "run_summary",
    "separation_table",
]


@dataclass
class AccuracyCells:
    """The numbers behind one Table 7 layout (see :func:`accuracy_cells`)."""

    datasets: list
    selectors: list
    summary: dict   # (dataset, selector) -> row with mean, sd, n
    why: dict       # (dataset, selector) -> status of a cell without ok rows
    n_full: int     # the most seeds any cell has


def accuracy_cells(df: pd.DataFrame, evaluator: str, k: int) -> AccuracyCells:
    """The cells of the Table 7 layout for one evaluator at budget ``k``.

    Shared by the Markdown and the LaTeX table, so both show the same cells.
    """
    sub = at_k(df[df["evaluator"] == evaluator], k)
    summ = accuracy_summary(sub, by=("dataset", "selector"))
    why = {(ds, sel): status for (ds, sel, ev), status in why_missing(sub).items()
           if ev == evaluator}
    return AccuracyCells(datasets=ordered(df["dataset"], DATASET_ORDER),
                         selectors=ordered(df["selector"], SELECTOR_ORDER),
                         summary={(r.dataset, r.selector): r
                                  for r in summ.itertuples(index=False)},
                         why=why, n_full=int(summ["n"].max()) if len(summ) else 0)


def accuracy_table(df: pd.DataFrame, evaluator: str, k: int) -> pd.DataFrame:
    """The Table 7 layout for one evaluator: selectors x datasets, "mean ± sd" at budget k.

    Cells without an ok row read ``"—"``, followed by the rows' status when they failed,
    timed out or were skipped. The ceiling ``all_features`` is shown with its own K = D.

    Parameters
    ----------
    df : DataFrame
        Prepared result rows.
    evaluator : str
    k : int

    Returns
    -------
    DataFrame of str
        Index ``selector``, one column per dataset seen in ``df``.
    """
    cells = accuracy_cells(df, evaluator, k)
    table = pd.DataFrame(MISSING, index=pd.Index(cells.selectors, name="selector"),
                         columns=cells.datasets)
    for sel in cells.selectors:
        for ds in cells.datasets:
            r = cells.summary.get((ds, sel))
            if r is not None:
                table.loc[sel, ds] = fmt_mean_sd(r.mean, r.sd, int(r.n), cells.n_full)
            elif (ds, sel) in cells.why:
                table.loc[sel, ds] = f"{MISSING} ({cells.why[(ds, sel)]})"
    return table


def compare_published(df: pd.DataFrame, published: pd.DataFrame, table: str = "table7_k50",
                      k: int = PUBLISHED_K) -> pd.DataFrame:
    """Our numbers beside the published ones, with the difference.

    Only published entries whose dataset, selector and evaluator all occur in ``df`` (any
    status) are listed, so an experiment on a subset is compared on that subset.

    Parameters
    ----------
    df : DataFrame
        Prepared result rows.
    published : DataFrame
        From :func:`bench.report.names.load_published`.
    table : {"table7_k50", "table6_all_features"}
    k : int, default=50
        Our budget to compare with (the ceiling is taken at its own K = D).

    Returns
    -------
    DataFrame
        Columns ``dataset, method, evaluator, ours_mean, ours_sd, n, ours_status,
        published_mean, published_sd, diff, within, note``. ``diff`` is ours − published
        in percentage points; ``within`` is True when |diff| <= max(published sd, 1 point),
        None when either side is missing.
    """
    cols = ["dataset", "method", "evaluator", "ours_mean", "ours_sd", "n", "ours_status",
            "published_mean", "published_sd", "diff", "within", "note"]
    if published is None or published.empty or df.empty:
        return pd.DataFrame(columns=cols)
    pub = published[(published["table"] == table) & (published["selector"] != "")
                    & (published["dataset"] != "") & (published["evaluator"] != "")]
    variants = [pub[pub["selector"] == base].assign(selector=variant)
                for variant, base in SETTING_VARIANTS.items()]
    pub = pd.concat([pub, *variants], ignore_index=True)
    pub = pub[pub["dataset"].isin(set(df["dataset"])) & pub["selector"].isin(set(df["selector"]))
              & pub["evaluator"].isin(set(df["evaluator"]))]
    if pub.empty:
        return pd.DataFrame(columns=cols)
    sub = at_k(df, k)
    summ = accuracy_summary(sub, by=("dataset", "selector", "evaluator"))
    cells = {(r.dataset, r.selector, r.evaluator): r for r in summ.itertuples(index=False)}
    why = why_missing(sub)
    rows = []
    for p in pub.itertuples(index=False):
        key = (p.dataset, p.selector, p.evaluator)
        r = cells.get(key)
        ours_mean = float(r.mean) if r is not None else np.nan
        ours_sd = float(r.sd) if r is not None else np.nan
        diff = ours_mean - p.published_mean
        tol = max(p.published_sd if np.isfinite(p.published_sd) else 0.0, 1.0)
        within = bool(abs(diff) <= tol) if np.isfinite(diff) else None
        notes = [n for n in (p.note, DATASET_CAVEATS.get(p.dataset, "")) if n]
        rows.append(dict(
            dataset=p.dataset, method=p.selector, evaluator=p.evaluator,
            ours_mean=ours_mean, ours_sd=ours_sd, n=int(r.n) if r is not None else 0,
            ours_status="ok" if r is not None else why.get(key, "missing"),
            published_mean=p.published_mean, published_sd=p.published_sd,
            diff=diff, within=within, note="; ".join(notes)))
    out = pd.DataFrame(rows, columns=cols)
    order_d = {d: i for i, d in enumerate(ordered(out["dataset"], DATASET_ORDER))}
    order_s = {s: i for i, s in enumerate(ordered(out["method"], SELECTOR_ORDER))}
    order_e = {e: i for i, e in enumerate(ordered(out["evaluator"], EVALUATOR_ORDER))}
    out = out.assign(_e=out["evaluator"].map(order_e), _d=out["dataset"].map(order_d),
                     _s=out["method"].map(order_s))
    return out.sort_values(["_e", "_d", "_s"]).drop(columns=["_e", "_d", "_s"]).reset_index(
        drop=True)


def format_comparison(cmp: pd.DataFrame) -> pd.DataFrame:
    """The display version of :func:`compare_published`.

    Parameters
    ----------
    cmp : DataFrame
        From :func:`compare_published`.

    Returns
    -------
    DataFrame of str
        Columns ``dataset, method, evaluator, ours, published, diff, within, note``; ours
        and published as "mean ± sd", ``diff`` signed, ``within`` yes / no, and a cell of
        ours without an ok row as ``"—"`` with the rows' status. ``cmp`` itself when empty.
    """
    if cmp.empty:
        return cmp
    rows = []
    for r in cmp.itertuples(index=False):
        ours = (fmt_mean_sd(r.ours_mean, r.ours_sd) if r.ours_status == "ok"
                else f"{MISSING} ({r.ours_status})")
        rows.append({
            "dataset": r.dataset, "method": r.method, "evaluator": r.evaluator,
            "ours": ours, "published": fmt_mean_sd(r.published_mean, r.published_sd),
            "diff": fmt_signed(r.diff),
            "within": MISSING if r.within is None else ("yes" if r.within else "no"),
            "note": r.note,
        })
    return pd.DataFrame(rows)


def accuracy_per_k(df: pd.DataFrame, evaluator: str = RANK_EVALUATOR) -> pd.DataFrame:
    """Mean accuracy (%) per (dataset, selector) x K for one evaluator.

    The ceiling has its own column ``"all (K=D)"`` since its K is the number of columns.

    Returns
    -------
    DataFrame of str
        Index (dataset, selector), columns ``K=<k>`` in increasing order.
    """
    sub = df[df["evaluator"] == evaluator]
    summ = accuracy_summary(sub, by=("dataset", "selector", "k"))
    if summ.empty:
        return pd.DataFrame()
    budgets = sorted({int(k) for k in summ.loc[summ["selector"] != CEILING, "k"]})
    cols = [f"K={k}" for k in budgets]
    has_ceiling = (summ["selector"] == CEILING).any()
    if has_ceiling:
        cols.append("all (K=D)")
    rows = []
    for ds in ordered(summ["dataset"], DATASET_ORDER):
        here = summ[summ["dataset"] == ds]
        for sel in ordered(here["selector"], SELECTOR_ORDER):
            cell = here[here["selector"] == sel]
            row = dict.fromkeys(cols, MISSING)
            for r in cell.itertuples(index=False):
                col = "all (K=D)" if sel == CEILING else f"K={int(r.k)}"
                row[col] = fmt_percent(r.mean)
            rows.append(dict(dataset=ds, selector=sel, **row))
    return pd.DataFrame(rows).set_index(["dataset", "selector"])[cols]


def run_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Every cell of an experiment in one small table, for the terminal after a run.

    Rows are (dataset, K, selector), one for every combination that has rows of any status,
    so a cell that failed is listed too; columns are the evaluators, then the number of
    seeds with an ok selection and the median seconds of the selector fit behind one (a fit
    shared by every K of a seed counts at each K). Cells are "mean ± sd" accuracy in percent
    over the seeds' ok rows (the mean alone for one seed), or ``"—"`` followed by the rows'
    commonest status when none is ok.

    Parameters
    ----------
    df : DataFrame
        Prepared result rows.

    Returns
    -------
    DataFrame of str
        Index ``dataset, K, selector``; empty when ``df`` has no rows.
    """
    if df.empty:
        return pd.DataFrame()
    keys = ["dataset", "k", "selector", "evaluator"]
    summ = accuracy_summary(df, by=keys)
    cells = {(r.dataset, int(r.k), r.selector, r.evaluator): r
             for r in summ.itertuples(index=False)}
    bad = df[df["status"] != "ok"]
    why = ({} if bad.empty else
           bad.groupby(keys)["status"].agg(lambda v: v.value_counts().index[0]).to_dict())
    # One row per selection (seed), whatever the number of evaluators that scored it.
    picks = ok_rows(df).drop_duplicates(["dataset", "selector", "k", "seed"])
    seeds = picks.groupby(["dataset", "selector", "k"])["seed"].nunique()
    seconds = picks.groupby(["dataset", "selector", "k"])["select_seconds"].median()
    evaluators = ordered(df["evaluator"], EVALUATOR_ORDER)
    rows = []
    for ds in ordered(df["dataset"], DATASET_ORDER):
        here = df[df["dataset"] == ds]
        for k in sorted({int(v) for v in here["k"].dropna()}):
            at_budget = here[here["k"] == k]
            for sel in ordered(at_budget["selector"], SELECTOR_ORDER):
                row = {"dataset": ds, "K": k, "selector": sel}
                for ev in evaluators:
                    r = cells.get((ds, k, sel, ev))
                    status = why.get((ds, k, sel, ev))
                    row[ev] = (fmt_mean_sd(r.mean, r.sd) if r is not None
                               else f"{MISSING} ({status})" if status else MISSING)
                row["seeds"] = int(seeds.get((ds, sel, k), 0))
                row["select s"] = fmt_seconds(float(seconds.get((ds, sel, k), np.nan)))
                rows.append(row)
    return pd.DataFrame(rows).set_index(["dataset", "K", "selector"])


def separation_table(df: pd.DataFrame) -> pd.DataFrame:
    """How many of the K columns a ranking selector's scores chose, per dataset x selector x K.

    Means over seeds (ok rows, one per fit whatever the evaluators) of ``n_separated``
    ("by score"), ``n_tiebroken`` ("by tie-break", the method's own second key) and the
    rest, ``K - both`` ("by index order": columns whose score ties the best column left
    out, taken by lower index). Only cells where the score did not decide all K columns
    are listed; rows without the counts (selectors trained per budget, the ceiling, rows
    written before the counts existed) are left out.

    Returns
    -------
    DataFrame of str
        Columns ``dataset, selector, K, by score, by tie-break, by index order, seeds``.
    """
    cols = ["dataset", "selector", "K", "by score", "by tie-break", "by index order", "seeds"]
    ok = df[(df["status"] == "ok") & df["n_separated"].notna()]
    if ok.empty:
        return pd.DataFrame(columns=cols)
    fits = ok.drop_duplicates(["dataset", "selector", "seed", "k"])
    fits = fits.assign(tb=fits["n_tiebroken"].fillna(0.0))
    summ = (fits.groupby(["dataset", "selector", "k"])
            .agg(sep=("n_separated", "mean"), tb=("tb", "mean"), seeds=("seed", "nunique"))
            .reset_index())
    summ = summ[summ["sep"] < summ["k"]]
    rows = []
    for ds in ordered(summ["dataset"], DATASET_ORDER):
        here = summ[summ["dataset"] == ds]
        for sel in ordered(here["selector"], SELECTOR_ORDER):
            for r in here[here["selector"] == sel].sort_values("k").itertuples(index=False):
                rows.append([ds, sel, int(r.k), f"{r.sep:.1f}", f"{r.tb:.1f}",
                             f"{r.k - r.sep - r.tb:.1f}", int(r.seeds)])
    return pd.DataFrame(rows, columns=cols)
