"""Ranks and tests over datasets and seeds, at one budget K with one evaluator.

- Average ranks and the Friedman test over datasets (blocks), the Nemenyi post-hoc test
  from scikit-posthocs (Demšar, JMLR 2006).
- Wilcoxon signed-rank tests of EntryPrune against each other selector over matched
  (dataset, seed) pairs, with the matched-pairs rank-biserial correlation as effect size
  (Kerby, 2014) and Holm's correction over the comparisons.

The all-features ceiling is never ranked or tested: it is not a selector.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from bench.markdown import MISSING
from bench.report.formatting import fmt_pvalue, fmt_signed
from bench.report.names import (
    CEILING,
    DATASET_ORDER,
    FOCAL_SELECTOR,
    PUBLISHED_K,
    RANK_EVALUATOR,
    SELECTOR_ORDER,
    ordered,
)
from bench.report.results import accuracy_summary, ok_rows

__all__ = [
    "FriedmanResult",
    "choose_k",
    "complete_block_matrix",
    "format_pairwise",
    "friedman_nemenyi",
    "holm",
    "pairwise_wilcoxon",
    "rank_biserial",
    "ranks_matrix",
]


def choose_k(df: pd.DataFrame, evaluator: str = RANK_EVALUATOR) -> int | None:
    """The budget for ranks and tests: 50 (the paper's) when present, else the commonest K.

    Counts ok rows of ``evaluator`` other than the ceiling; ties go to the smaller K.
    Returns None when there are no such rows.
    """
    ok = ok_rows(df)
    ok = ok[(ok["evaluator"] == evaluator) & (ok["selector"] != CEILING)]
    if ok.empty:
        return None
    ks = ok["k"].astype(int)
    if (ks == PUBLISHED_K).any():
        return PUBLISHED_K
    counts = ks.value_counts()
    best = counts.max()
    return int(min(k for k, n in counts.items() if n == best))


def ranks_matrix(df: pd.DataFrame, k: int, evaluator: str = RANK_EVALUATOR) -> pd.DataFrame:
    """Mean accuracy (%) over seeds per dataset (rows) x selector (columns), ceiling left out."""
    sub = df[(df["evaluator"] == evaluator) & (df["k"] == k) & (df["selector"] != CEILING)]
    summ = accuracy_summary(sub, by=("dataset", "selector"))
    if summ.empty:
        return pd.DataFrame()
    mat = summ.pivot(index="dataset", columns="selector", values="mean")
    return mat.loc[ordered(mat.index, DATASET_ORDER), ordered(mat.columns, SELECTOR_ORDER)]


def complete_block_matrix(mat: pd.DataFrame) -> tuple[pd.DataFrame, list, list]:
    """Drop datasets or selectors until no cell is missing (the Friedman test needs that).

    Greedy: drop whichever row or column has the largest fraction of missing cells; on a
    tie drop the dataset, since the point is to compare the selectors.

    Returns
    -------
    matrix : DataFrame
        The complete sub-matrix (possibly empty).
    dropped_datasets, dropped_selectors : list
    """
    mat = mat.copy()
    dropped_d, dropped_s = [], []
    while mat.size and mat.isna().to_numpy().any():
        row_frac = mat.isna().mean(axis=1)
        col_frac = mat.isna().mean(axis=0)
        if row_frac.max() >= col_frac.max():
            name = row_frac.idxmax()
            dropped_d.append(name)
            mat = mat.drop(index=name)
        else:
            name = col_frac.idxmax()
            dropped_s.append(name)
            mat = mat.drop(columns=name)
    return mat, dropped_d, dropped_s


@dataclass
class FriedmanResult:
    """Average ranks, the Friedman test and Nemenyi p-values over complete blocks."""

    matrix: pd.DataFrame            # datasets x selectors, mean accuracy (%)
    ranks: pd.DataFrame             # per-dataset ranks, 1 = best, ties averaged
    average_ranks: pd.Series        # sorted, best first
    dropped_datasets: list = field(default_factory=list)
    dropped_selectors: list = field(default_factory=list)
    statistic: float = np.nan
    pvalue: float = np.nan
    nemenyi: pd.DataFrame | None = None
    skipped: str = ""               # why the test and diagram were skipped, if they were


def friedman_nemenyi(mat: pd.DataFrame) -> FriedmanResult:
    """Average ranks, Friedman test (scipy) and Nemenyi post-hoc (scikit-posthocs).

    Parameters
    ----------
    mat : DataFrame
        Datasets (blocks) x selectors, higher is better; missing cells allowed (see
        :func:`complete_block_matrix`).

    Returns
    -------
    FriedmanResult
        ``skipped`` explains a test that could not run (fewer than 3 selectors or 2
        datasets with every selector present).
    """
    full, dropped_d, dropped_s = complete_block_matrix(mat)
    ranks = full.rank(axis=1, ascending=False, method="average")
    avg = ranks.mean(axis=0).sort_values() if not ranks.empty else pd.Series(dtype=float)
    res = FriedmanResult(full, ranks, avg, dropped_d, dropped_s)
    n_blocks, n_methods = full.shape if full.size else (0, 0)
    if n_methods < 3 or n_blocks < 2:
        res.skipped = (f"needs at least 3 selectors and 2 datasets with every selector "
                       f"present; have {n_methods} selector(s) on {n_blocks} dataset(s)")
        return res
    with warnings.catch_warnings():
        # All-tied blocks make the statistic 0/0; reported as undefined below.
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.friedmanchisquare(*[full[c].to_numpy() for c in full.columns])
    res.statistic, res.pvalue = float(test.statistic), float(test.pvalue)
    if not np.isfinite(res.pvalue):
        res.skipped = "every dataset ranks all selectors equal: the Friedman test is undefined"
        return res
    import scikit_posthocs as sp

    res.nemenyi = sp.posthoc_nemenyi_friedman(full)
    return res


def rank_biserial(d) -> float:
    """Matched-pairs rank-biserial correlation of paired differences (Kerby, 2014).

    r = (W+ − W−) / (W+ + W−), with W± the sums of the ranks of |d| (ties averaged) over
    the positive / negative differences; zero differences are dropped, as in the default
    Wilcoxon test. In [-1, 1]; positive when the first method tends to be better. NaN when
    every difference is zero.
    """
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return np.nan
    r = stats.rankdata(np.abs(d))
    w_plus, w_minus = r[d > 0].sum(), r[d < 0].sum()
    return float((w_plus - w_minus) / (w_plus + w_minus))


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of p-values (NaN entries stay NaN, not counted)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, (m - i) * p[j])
        out[j] = min(1.0, running)
    return out


def pairwise_wilcoxon(df: pd.DataFrame, k: int, evaluator: str = RANK_EVALUATOR,
                      focal: str = FOCAL_SELECTOR) -> pd.DataFrame:
    """Wilcoxon signed-rank test of the ``focal`` selector against each other selector.

    Pairs are matched (dataset, seed) blocks where both selectors have an ok row at budget
    ``k`` with ``evaluator``; the difference is focal − other in percentage points.
    The two-sided p-value comes from :func:`scipy.stats.wilcoxon` (zero differences
    dropped); the effect size is :func:`rank_biserial`; ``p_holm`` adjusts over the rows.

    Returns
    -------
    DataFrame
        Columns ``method, n_pairs, wins, ties, losses, median_diff, p_value, p_holm,
        rank_biserial, note``; ``note`` is "not enough data" below 2 pairs. Empty when the
        focal selector has no ok rows.
    """
    cols = ["method", "n_pairs", "wins", "ties", "losses", "median_diff", "p_value", "p_holm",
            "rank_biserial", "note"]
    ok = ok_rows(df)
    ok = ok[(ok["evaluator"] == evaluator) & (ok["k"] == k) & (ok["selector"] != CEILING)]
    if not (ok["selector"] == focal).any():
        return pd.DataFrame(columns=cols)
    acc = (ok.assign(acc=ok["accuracy"] * 100.0)
           .pivot_table(index=["dataset", "seed"], columns="selector", values="acc",
                        aggfunc="mean"))
    rows = []
    for other in ordered(acc.columns, SELECTOR_ORDER):
        if other == focal:
            continue
        pair = acc[[focal, other]].dropna()
        d = (pair[focal] - pair[other]).to_numpy()
        row = dict(method=other, n_pairs=int(d.size), wins=int((d > 0).sum()),
                   ties=int((d == 0).sum()), losses=int((d < 0).sum()),
                   median_diff=float(np.median(d)) if d.size else np.nan,
                   p_value=np.nan, p_holm=np.nan, rank_biserial=np.nan, note="")
        if d.size < 2:
            row["note"] = "not enough data"
        elif np.all(d == 0):
            row.update(p_value=1.0, rank_biserial=0.0, note="all pairs tied")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # small-sample / ties notices from scipy
                row["p_value"] = float(stats.wilcoxon(d).pvalue)
            row["rank_biserial"] = rank_biserial(d)
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        out["p_holm"] = holm(out["p_value"].to_numpy())
    return out



def format_pairwise(pw: pd.DataFrame) -> pd.DataFrame:
    """The display version of :func:`pairwise_wilcoxon`.

    Parameters
    ----------
    pw : DataFrame
        From :func:`pairwise_wilcoxon`.

    Returns
    -------
    DataFrame of str
        Columns ``method, n pairs, W/T/L, median diff, p, p (Holm), r (rank-biserial),
        note``; a number that could not be computed reads ``"—"``.
    """
    rows = []
    for r in pw.itertuples(index=False):
        rows.append({
            "method": r.method, "n pairs": r.n_pairs, "W/T/L": f"{r.wins}/{r.ties}/{r.losses}",
            "median diff": fmt_signed(r.median_diff), "p": fmt_pvalue(r.p_value),
            "p (Holm)": fmt_pvalue(r.p_holm),
            "r (rank-biserial)": MISSING if not np.isfinite(r.rank_biserial)
            else f"{r.rank_biserial:+.2f}",
            "note": r.note,
        })
    return pd.DataFrame(rows)
