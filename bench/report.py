"""The report of an experiment: tables, statistics and figures from its result rows alone.

Everything here takes the tidy rows of ``results/<exp_name>.csv`` (see :mod:`bench.records`)
as a pandas frame and returns frames, numbers or figure files; nothing re-runs a selector.
The rows may be partial (a sweep still running, cells that failed or timed out): missing
cells are marked, never an error.

The accuracy tables are also written as LaTeX (booktabs rules, "mean ± sd", the best
selector per column in bold; see :func:`accuracy_table_latex`), and each dataset gets a
figure of selection time against accuracy (:func:`plot_time_vs_accuracy`). Every text file
is written atomically (:func:`bench.records.atomic_write_text`).

Accuracies are shown in percent with two decimals. The published numbers are those of
Atashgahi et al., "Supervised Feature Selection with Neuron Evolution in Sparse Neural
Networks", TMLR 2023 (Tables 6 and 7), kept in ``results/reference/neurofs_tables.csv``.

Statistics
----------
- Average ranks and the Friedman test over datasets (blocks) at one budget K with the SVM
  evaluator, the Nemenyi post-hoc test and critical-difference diagram from
  scikit-posthocs (Demšar, JMLR 2006).
- Wilcoxon signed-rank tests of EntryPrune against each other selector over matched
  (dataset, seed) pairs, with the matched-pairs rank-biserial correlation as effect size
  (Kerby, 2014) and Holm's correction over the comparisons.
- The stability index of Nogueira, Sechidis and Brown, "On the Stability of Feature
  Selection Algorithms", JMLR 18 (2018).
- Recall of the truly informative columns on synthetic data.
- How many of the K columns of a ranking selector its scores chose rather than the lower
  column index among equal scores (``n_separated``, ``n_tiebroken``).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from bench.records import atomic_write_text

__all__ = [
    "CEILING",
    "DATASET_NAMES",
    "EVALUATOR_NAMES",
    "MISSING",
    "PUBLISHED_K",
    "REFERENCE_CSV",
    "REFERENCE_SELECTOR",
    "SELECTOR_NAMES",
    "FriedmanResult",
    "Report",
    "accuracy_per_k",
    "accuracy_per_k_latex",
    "accuracy_summary",
    "accuracy_table",
    "accuracy_table_latex",
    "best_mask",
    "build_report",
    "choose_k",
    "compare_published",
    "complete_block_matrix",
    "friedman_nemenyi",
    "holm",
    "latex_escape",
    "latex_table",
    "load_published",
    "load_results",
    "markdown_table",
    "nogueira_stability",
    "one_selection_per_seed",
    "pairwise_wilcoxon",
    "parse_indices",
    "plot_accuracy_vs_k",
    "plot_critical_difference",
    "plot_selection_time",
    "plot_stability",
    "plot_time_vs_accuracy",
    "prepare",
    "rank_biserial",
    "ranks_matrix",
    "recall_table",
    "run_summary",
    "selection_fits",
    "selection_time_table",
    "separation_table",
    "stability_table",
    "status_counts",
    "time_vs_accuracy",
    "true_feature_recall",
]

# --- names: the one place where the paper's names meet ours --------------------------------

#: Paper learner -> our evaluator.
EVALUATOR_NAMES = {"SVM": "svm", "KNN": "knn1", "ExtraTrees": "extra_trees"}
#: Paper method -> our selector (methods without an implementation here are left out).
SELECTOR_NAMES = {
    "NeuroFS": "neurofs",
    "LassoNet": "lassonet",
    "STG": "stg",
    "Fisher_score": "fisher_score",
    "all_features": "all_features",
}
#: Our selectors that run a published method with other settings -> that method's selector:
#: each is set beside the same published numbers.
SETTING_VARIANTS = {"lassonet_bench": "lassonet", "neurofs_released": "neurofs"}
#: Paper dataset -> our dataset config.
DATASET_NAMES = {
    "COIL-20": "coil20",
    "MNIST": "mnist",
    "Fashion-MNIST": "fashion_mnist",
    "USPS": "usps",
    "Isolet": "isolet",
    "HAR": "har",
    "BASEHOCK": "basehock",
    "Prostate_GE": "prostate_ge",
    "Arcene": "arcene",
    "SMK": "smk_can_187",
    "GLA-BRA-180": "gla_bra_180",
}
# Why some of our files cannot reproduce the paper's numbers exactly
# (results/reference/README.md).
DATASET_CAVEATS = {
    "usps": "substitute file (other row order): loosely comparable",
    "isolet": "substitute file (a subset): loosely comparable",
    "basehock": "later release of the data: approximate",
}

CEILING = "all_features"  # every column; shown in accuracy tables, never ranked or tested
REFERENCE_SELECTOR = "entryprune"
PUBLISHED_K = 50
RANK_EVALUATOR = "svm"
MISSING = "—"
REFERENCE_CSV = Path(__file__).resolve().parent.parent / "results" / "reference" / (
    "neurofs_tables.csv")

# Display orders: the paper's first, anything else alphabetically after.
_DATASET_ORDER = ["coil20", "usps", "mnist", "fashion_mnist", "isolet", "har", "basehock",
                  "prostate_ge", "arcene", "smk_can_187", "gla_bra_180", "madelon", "digits"]
_SELECTOR_ORDER = ["entryprune", "entryprune_flex", "neurofs", "neurofs_released", "lassonet",
                   "lassonet_bench",
                   "stg", "cancelout", "random_forest", "xgboost", "anova_f", "mutual_info",
                   "fisher_score", "l1_logreg", "random", "all_features"]
_EVALUATOR_ORDER = ["svm", "knn1", "extra_trees", "xgboost", "logreg"]

_NUMERIC = ["seed", "k", "accuracy", "balanced_accuracy", "select_seconds", "eval_seconds",
            "n_train", "n_test", "n_features", "n_classes", "n_separated", "n_tiebroken"]
_TEXT = ["dataset", "selector", "evaluator", "selected", "status", "error", "device",
         "protocol", "exp_name", "git_commit", "config_hash", "versions", "started_at",
         "true_support"]
_STATUSES = ("ok", "failed", "timeout", "skipped")


def _ordered(values, order) -> list:
    values = {v for v in values if v == v and v != ""}  # v == v drops NaN
    first = [v for v in order if v in values]
    return first + sorted(values - set(first), key=str)


# --- loading ----------------------------------------------------------------------------------


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
    for col in _TEXT:
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

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no result file at {path}")
    try:
        # Everything as text first: a half-written sweep can mix empty and numeric cells.
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raw = pd.DataFrame()
    return prepare(raw)


def load_published(path=REFERENCE_CSV) -> pd.DataFrame:
    """Read the published NeuroFS numbers and translate their names to ours.

    Parameters
    ----------
    path : path-like
        ``neurofs_tables.csv`` (columns table, learner, method, dataset, accuracy_mean,
        accuracy_sd, note).

    Returns
    -------
    DataFrame
        Columns ``table, evaluator, selector, dataset, published_mean, published_sd, note``
        plus the paper's names (``learner, method, paper_dataset``). Methods without a
        selector here have an empty ``selector``. An empty frame when the file is absent.
    """
    cols = ["table", "evaluator", "selector", "dataset", "published_mean", "published_sd",
            "note", "learner", "method", "paper_dataset"]
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=cols)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = pd.DataFrame({
        "table": raw["table"].str.strip(),
        "evaluator": raw["learner"].map(EVALUATOR_NAMES).fillna(""),
        "selector": raw["method"].map(SELECTOR_NAMES).fillna(""),
        "dataset": raw["dataset"].map(DATASET_NAMES).fillna(""),
        "published_mean": pd.to_numeric(raw["accuracy_mean"], errors="coerce"),
        "published_sd": pd.to_numeric(raw["accuracy_sd"], errors="coerce"),
        "note": raw["note"].str.strip(),
        "learner": raw["learner"],
        "method": raw["method"],
        "paper_dataset": raw["dataset"],
    })
    return out[cols]


def parse_indices(text) -> np.ndarray:
    """Column indices from a space-separated string (``""`` or NaN give an empty array)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return np.array([], dtype=np.int64)
    parts = str(text).split()
    return np.array([int(p) for p in parts], dtype=np.int64)


# --- small formatting helpers -----------------------------------------------------------------


def _pct(x: float) -> str:
    return MISSING if x is None or not np.isfinite(x) else f"{x:.2f}"


def _signed(x: float) -> str:
    return MISSING if x is None or not np.isfinite(x) else f"{x:+.2f}"


def _mean_sd(mean: float, sd: float, n: int = 0, n_full: int = 0) -> str:
    if mean is None or not np.isfinite(mean):
        return MISSING
    text = f"{mean:.2f}" if sd is None or not np.isfinite(sd) else f"{mean:.2f} ± {sd:.2f}"
    # Fewer seeds than elsewhere in the same table: say so, the mean is less certain.
    if n and n_full and n < n_full:
        text += f" (n={n})"
    return text


def _seconds(x: float) -> str:
    if x is None or not np.isfinite(x):
        return MISSING
    if x >= 100:
        return f"{x:.0f}"
    # Three significant digits keep 0.00123 s and 12.3 s equally readable.
    return f"{x:#.3g}"


def _pvalue(p: float) -> str:
    if p is None or not np.isfinite(p):
        return MISSING
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"


def markdown_table(df: pd.DataFrame, index: bool = True) -> str:
    """Render a frame as a GitHub markdown table (no extra dependency).

    Parameters
    ----------
    df : DataFrame
        Cells are converted with ``str``; a MultiIndex gives one column per level.
    index : bool, default=True
        Whether to write the index as the first column(s).

    Returns
    -------
    str
        The table, or ``"_(no data)_"`` for an empty frame.
    """
    if df is None or df.empty:
        return "_(no data)_"
    frame = df.reset_index() if index else df
    header = [str(c) for c in frame.columns]

    def cell(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return MISSING
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


# --- accuracy ---------------------------------------------------------------------------------


def status_counts(df: pd.DataFrame) -> dict:
    """Number of rows per status, every known status present (0 when absent)."""
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    out = {s: int(counts.get(s, 0)) for s in _STATUSES}
    for s, n in counts.items():
        if s not in out:
            out[s or "(empty)"] = int(n)
    return out


def _at_k(df: pd.DataFrame, k) -> pd.DataFrame:
    # The ceiling is recorded with k = n_features, so it joins every budget's table.
    return df[(df["k"] == k) | (df["selector"] == CEILING)]


def _ok(df: pd.DataFrame) -> pd.DataFrame:
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
    ok = _ok(df)
    by = list(by)
    if ok.empty:
        return pd.DataFrame(columns=by + ["mean", "sd", "n"])
    acc = ok.assign(acc=ok["accuracy"] * 100.0)
    out = acc.groupby(by, sort=False)["acc"].agg(mean="mean", sd="std", n="count")
    return out.reset_index()


def _why_missing(df: pd.DataFrame) -> dict:
    """(dataset, selector, evaluator) -> the commonest non-ok status of those rows."""
    bad = df[df["status"] != "ok"]
    if bad.empty:
        return {}
    top = (bad.groupby(["dataset", "selector", "evaluator"])["status"]
           .agg(lambda s: s.value_counts().index[0]))
    return top.to_dict()


@dataclass
class _Cells:
    """The numbers behind one Table 7 layout (see :func:`_accuracy_cells`)."""

    datasets: list
    selectors: list
    summary: dict   # (dataset, selector) -> row with mean, sd, n
    why: dict       # (dataset, selector) -> status of a cell without ok rows
    n_full: int     # the most seeds any cell has


def _accuracy_cells(df: pd.DataFrame, evaluator: str, k: int) -> _Cells:
    # Shared by the Markdown and the LaTeX table, so both show the same cells.
    sub = _at_k(df[df["evaluator"] == evaluator], k)
    summ = accuracy_summary(sub, by=("dataset", "selector"))
    why = {(ds, sel): status for (ds, sel, ev), status in _why_missing(sub).items()
           if ev == evaluator}
    return _Cells(datasets=_ordered(df["dataset"], _DATASET_ORDER),
                  selectors=_ordered(df["selector"], _SELECTOR_ORDER),
                  summary={(r.dataset, r.selector): r for r in summ.itertuples(index=False)},
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
    cells = _accuracy_cells(df, evaluator, k)
    table = pd.DataFrame(MISSING, index=pd.Index(cells.selectors, name="selector"),
                         columns=cells.datasets)
    for sel in cells.selectors:
        for ds in cells.datasets:
            r = cells.summary.get((ds, sel))
            if r is not None:
                table.loc[sel, ds] = _mean_sd(r.mean, r.sd, int(r.n), cells.n_full)
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
        From :func:`load_published`.
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
    sub = _at_k(df, k)
    summ = accuracy_summary(sub, by=("dataset", "selector", "evaluator"))
    cells = {(r.dataset, r.selector, r.evaluator): r for r in summ.itertuples(index=False)}
    why = _why_missing(sub)
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
    order_d = {d: i for i, d in enumerate(_ordered(out["dataset"], _DATASET_ORDER))}
    order_s = {s: i for i, s in enumerate(_ordered(out["method"], _SELECTOR_ORDER))}
    order_e = {e: i for i, e in enumerate(_ordered(out["evaluator"], _EVALUATOR_ORDER))}
    out = out.assign(_e=out["evaluator"].map(order_e), _d=out["dataset"].map(order_d),
                     _s=out["method"].map(order_s))
    return out.sort_values(["_e", "_d", "_s"]).drop(columns=["_e", "_d", "_s"]).reset_index(
        drop=True)


def _format_comparison(cmp: pd.DataFrame) -> pd.DataFrame:
    if cmp.empty:
        return cmp
    rows = []
    for r in cmp.itertuples(index=False):
        ours = (_mean_sd(r.ours_mean, r.ours_sd) if r.ours_status == "ok"
                else f"{MISSING} ({r.ours_status})")
        rows.append({
            "dataset": r.dataset, "method": r.method, "evaluator": r.evaluator,
            "ours": ours, "published": _mean_sd(r.published_mean, r.published_sd),
            "diff": _signed(r.diff),
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
    for ds in _ordered(summ["dataset"], _DATASET_ORDER):
        here = summ[summ["dataset"] == ds]
        for sel in _ordered(here["selector"], _SELECTOR_ORDER):
            cell = here[here["selector"] == sel]
            row = dict.fromkeys(cols, MISSING)
            for r in cell.itertuples(index=False):
                col = "all (K=D)" if sel == CEILING else f"K={int(r.k)}"
                row[col] = _pct(r.mean)
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
    picks = _ok(df).drop_duplicates(["dataset", "selector", "k", "seed"])
    seeds = picks.groupby(["dataset", "selector", "k"])["seed"].nunique()
    seconds = picks.groupby(["dataset", "selector", "k"])["select_seconds"].median()
    evaluators = _ordered(df["evaluator"], _EVALUATOR_ORDER)
    rows = []
    for ds in _ordered(df["dataset"], _DATASET_ORDER):
        here = df[df["dataset"] == ds]
        for k in sorted({int(v) for v in here["k"].dropna()}):
            at_k = here[here["k"] == k]
            for sel in _ordered(at_k["selector"], _SELECTOR_ORDER):
                row = {"dataset": ds, "K": k, "selector": sel}
                for ev in evaluators:
                    r = cells.get((ds, k, sel, ev))
                    status = why.get((ds, k, sel, ev))
                    row[ev] = (_mean_sd(r.mean, r.sd) if r is not None
                               else f"{MISSING} ({status})" if status else MISSING)
                row["seeds"] = int(seeds.get((ds, sel, k), 0))
                row["select s"] = _seconds(float(seconds.get((ds, sel, k), np.nan)))
                rows.append(row)
    return pd.DataFrame(rows).set_index(["dataset", "K", "selector"])


# --- LaTeX tables -----------------------------------------------------------------------------
#
# A small writer of our own rather than pandas' Styler.to_latex (pandas 3.1 here): Styler
# needs jinja2, which this project does not depend on (it is only present through torch);
# the best entry has to be picked from the numeric means while the cells are "mean ± sd"
# text with status markers; and Styler writes a row MultiIndex with \multirow, which needs
# another package in the paper's preamble. Rules, escaping and bold take a few lines here.

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    # In LaTeX's default OT1 font encoding "<" and ">" print as inverted ! and ?.
    "<": r"\textless{}", ">": r"\textgreater{}",
}
_LATEX_MISSING = "---"


def latex_escape(text) -> str:
    """``text`` with every character that LaTeX treats specially made literal.

    Parameters
    ----------
    text : object
        Converted with ``str``; a selector name such as ``random_forest`` becomes
        ``random\\_forest`` and ``50%`` becomes ``50\\%``.

    Returns
    -------
    str
    """
    return "".join(_LATEX_SPECIALS.get(c, c) for c in str(text))


def _shown(x: float) -> float:
    # The number as printed with two decimals: ties are decided on what the reader sees.
    return float(f"{x:.2f}") if x is not None and np.isfinite(x) else np.nan


def best_mask(means: pd.DataFrame, exclude=()) -> pd.DataFrame:
    """True where a mean is the best (highest) of its column, as printed with two decimals.

    Means equal at two decimals are all marked: the reader cannot tell them apart, so none
    is singled out.

    Parameters
    ----------
    means : DataFrame of float
        Rows are selectors, columns what is compared separately (datasets, budgets); NaN
        for a cell without a result.
    exclude : sequence
        Row labels that are shown but not ranked (the all-features ceiling); they are never
        marked and do not set the best.

    Returns
    -------
    DataFrame of bool
        Same shape as ``means``; a column without any finite mean has no mark.
    """
    shown = means.astype(float).map(_shown)
    skip = [r for r in exclude if r in shown.index]
    best = shown.drop(index=skip).max(axis=0, skipna=True)
    mask = shown.eq(best, axis=1)  # NaN equals nothing, so empty cells and columns stay False
    mask.loc[skip] = False
    return mask


def _latex_mean_sd(mean: float, sd: float, n: int, n_full: int, bold: bool) -> str:
    if mean is None or not np.isfinite(mean):
        return _LATEX_MISSING
    text = f"{mean:.2f}" if sd is None or not np.isfinite(sd) else f"{mean:.2f} $\\pm$ {sd:.2f}"
    if bold:
        text = f"\\textbf{{{text}}}"
    if n and n_full and n < n_full:
        text += f" ($n={n}$)"
    return text


def _latex_label(*parts) -> str:
    return "tab:" + "-".join(re.sub(r"[^A-Za-z0-9]+", "-", str(p)).strip("-") for p in parts)


def latex_table(header: list, rows: list, *, n_index: int, caption: str, label: str,
                rules_before=()) -> str:
    """A booktabs ``table`` float from cells that are already LaTeX.

    Parameters
    ----------
    header : list of str
        Column titles (LaTeX).
    rows : list of list of str
        Body cells (LaTeX), each row as long as ``header``.
    n_index : int
        How many leading columns are labels (left-aligned); the rest are numbers
        (right-aligned).
    caption, label : str
        ``\\caption`` (LaTeX) and ``\\label`` of the float; the caption goes above the
        table, as is usual for tables.
    rules_before : iterable of int
        Body row positions that get a ``\\midrule`` above them (groups).

    Returns
    -------
    str
        The float, ending in a newline; it needs ``\\usepackage{booktabs}``.
    """
    width = len(header)
    bad = [i for i, r in enumerate(rows) if len(r) != width]
    if bad:
        raise ValueError(f"rows {bad} do not have {width} cells like the header")
    rules = set(rules_before)
    lines = [
        "% Needs \\usepackage{booktabs}. Wide tables: wrap the tabular in",
        "% \\resizebox{\\textwidth}{!}{...} (graphicx).",
        "\\begin{table}[t]",
        "\\centering",
        f"\\caption{{{caption}}}",
        f"\\label{{{label}}}",
        f"\\begin{{tabular}}{{{'l' * n_index}{'r' * (width - n_index)}}}",
        "\\toprule",
        " & ".join(header) + " \\\\",
        "\\midrule",
    ]
    for i, r in enumerate(rows):
        if i in rules and i > 0:
            lines.append("\\midrule")
        lines.append(" & ".join(r) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def _ceiling_last(selectors: list) -> list:
    return [s for s in selectors if s != CEILING] + [s for s in selectors if s == CEILING]


def accuracy_table_latex(df: pd.DataFrame, evaluator: str, k: int, *,
                         exp_name: str = "") -> str:
    """The Table 7 layout of :func:`accuracy_table` as a booktabs LaTeX table.

    Selectors are rows and datasets columns; a cell is ``mean $\\pm$ sd`` in percent over
    seeds, ``($n=...$)`` when it has fewer seeds than the fullest cell, and ``---`` (with
    the rows' status) without an ok row. The best selector of each dataset is in bold,
    compared as printed, so ties at two decimals are all bold (:func:`best_mask`); the
    all-features ceiling is set apart below a rule and never bold.

    Parameters
    ----------
    df : DataFrame
        Prepared result rows.
    evaluator : str
    k : int
    exp_name : str, optional
        Goes into the ``\\label``.

    Returns
    -------
    str
    """
    cells = _accuracy_cells(df, evaluator, k)
    selectors = _ceiling_last(cells.selectors)
    means = pd.DataFrame(np.nan, index=selectors, columns=cells.datasets)
    for (ds, sel), r in cells.summary.items():
        means.loc[sel, ds] = r.mean
    bold = best_mask(means, exclude=[CEILING])
    rows = []
    for sel in selectors:
        row = [latex_escape(sel)]
        for ds in cells.datasets:
            r = cells.summary.get((ds, sel))
            if r is not None:
                row.append(_latex_mean_sd(r.mean, r.sd, int(r.n), cells.n_full,
                                          bool(bold.loc[sel, ds])))
            elif (ds, sel) in cells.why:
                row.append(f"{_LATEX_MISSING} ({latex_escape(cells.why[(ds, sel)])})")
            else:
                row.append(_LATEX_MISSING)
        rows.append(row)
    caption = (f"Test accuracy (\\%) of {latex_escape(evaluator)} on the $K={k}$ selected "
               "features, mean $\\pm$ sd over seeds. Bold: the best selector per dataset "
               "(equal at two decimals: all bold). "
               f"{latex_escape(CEILING)} uses every feature ($K=D$) and is not ranked; "
               f"{_LATEX_MISSING}: no successful run.")
    rules = [selectors.index(CEILING)] if CEILING in selectors else []
    return latex_table(["selector"] + [latex_escape(d) for d in cells.datasets], rows,
                       n_index=1, caption=caption,
                       label=_latex_label(exp_name or "exp", "accuracy", f"k{k}", evaluator),
                       rules_before=rules)


def accuracy_per_k_latex(df: pd.DataFrame, evaluator: str = RANK_EVALUATOR, *,
                         exp_name: str = "") -> str | None:
    """The per-K table of :func:`accuracy_per_k` as a booktabs LaTeX table.

    One group of rows per dataset (selectors, the ceiling last), one column per budget K
    plus ``all ($K=D$)`` for the ceiling; cells are ``mean $\\pm$ sd`` in percent over
    seeds. Within each dataset the best selector per K is in bold, ties at two decimals
    all bold; the ceiling is never bold.

    Returns
    -------
    str or None
        None when ``evaluator`` has no ok rows.
    """
    summ = accuracy_summary(df[df["evaluator"] == evaluator], by=("dataset", "selector", "k"))
    if summ.empty:
        return None
    n_full = int(summ["n"].max())
    budgets = sorted({int(k) for k in summ.loc[summ["selector"] != CEILING, "k"]})
    cols = [f"K={k}" for k in budgets]
    if (summ["selector"] == CEILING).any():
        cols.append("all")
    summ = summ.assign(col=[
        "all" if s == CEILING else f"K={int(k)}" for s, k in zip(summ["selector"], summ["k"],
                                                                  strict=True)])
    rows, rules = [], []
    for ds in _ordered(summ["dataset"], _DATASET_ORDER):
        here = summ[summ["dataset"] == ds]
        cells = {(r.selector, r.col): r for r in here.itertuples(index=False)}
        selectors = _ceiling_last(_ordered(here["selector"], _SELECTOR_ORDER))
        means = pd.DataFrame(np.nan, index=selectors, columns=cols)
        for (sel, col), r in cells.items():
            means.loc[sel, col] = r.mean
        bold = best_mask(means, exclude=[CEILING])
        rules.append(len(rows))
        for i, sel in enumerate(selectors):
            row = [latex_escape(ds) if i == 0 else "", latex_escape(sel)]
            for col in cols:
                r = cells.get((sel, col))
                row.append(_LATEX_MISSING if r is None else _latex_mean_sd(
                    r.mean, r.sd, int(r.n), n_full, bool(bold.loc[sel, col])))
            rows.append(row)
    header = ["dataset", "selector"] + [f"$K={c[2:]}$" if c != "all" else "all ($K=D$)"
                                        for c in cols]
    caption = (f"Test accuracy (\\%) of {latex_escape(evaluator)} per budget $K$, mean "
               "$\\pm$ sd over seeds. Bold: the best selector per dataset and $K$ (equal at "
               f"two decimals: all bold). {latex_escape(CEILING)} uses every feature and is "
               "not ranked.")
    return latex_table(header, rows, n_index=2, caption=caption,
                       label=_latex_label(exp_name or "exp", "accuracy-per-k", evaluator),
                       rules_before=rules)


# --- time -------------------------------------------------------------------------------------


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
    datasets = _ordered(fits["dataset"], _DATASET_ORDER)
    selectors = _ordered(fits["selector"], _SELECTOR_ORDER)
    table = pd.DataFrame(MISSING, index=pd.Index(selectors, name="selector"), columns=datasets)
    for (sel, ds), v in med.items():
        table.loc[sel, ds] = _seconds(float(v))
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
    ok = _ok(_at_k(df[df["evaluator"] == evaluator], k))
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
    return _sort_long(out[cols])


# --- ranks and tests --------------------------------------------------------------------------


def choose_k(df: pd.DataFrame, evaluator: str = RANK_EVALUATOR) -> int | None:
    """The budget for ranks and tests: 50 (the paper's) when present, else the commonest K.

    Counts ok rows of ``evaluator`` other than the ceiling; ties go to the smaller K.
    Returns None when there are no such rows.
    """
    ok = _ok(df)
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
    return mat.loc[_ordered(mat.index, _DATASET_ORDER), _ordered(mat.columns, _SELECTOR_ORDER)]


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
                      reference: str = REFERENCE_SELECTOR) -> pd.DataFrame:
    """Wilcoxon signed-rank test of ``reference`` against each other selector.

    Pairs are matched (dataset, seed) blocks where both selectors have an ok row at budget
    ``k`` with ``evaluator``; the difference is reference − other in percentage points.
    The two-sided p-value comes from :func:`scipy.stats.wilcoxon` (zero differences
    dropped); the effect size is :func:`rank_biserial`; ``p_holm`` adjusts over the rows.

    Returns
    -------
    DataFrame
        Columns ``method, n_pairs, wins, ties, losses, median_diff, p_value, p_holm,
        rank_biserial, note``; ``note`` is "not enough data" below 2 pairs. Empty when the
        reference has no ok rows.
    """
    cols = ["method", "n_pairs", "wins", "ties", "losses", "median_diff", "p_value", "p_holm",
            "rank_biserial", "note"]
    ok = _ok(df)
    ok = ok[(ok["evaluator"] == evaluator) & (ok["k"] == k) & (ok["selector"] != CEILING)]
    if not (ok["selector"] == reference).any():
        return pd.DataFrame(columns=cols)
    acc = (ok.assign(acc=ok["accuracy"] * 100.0)
           .pivot_table(index=["dataset", "seed"], columns="selector", values="acc",
                        aggfunc="mean"))
    rows = []
    for other in _ordered(acc.columns, _SELECTOR_ORDER):
        if other == reference:
            continue
        pair = acc[[reference, other]].dropna()
        d = (pair[reference] - pair[other]).to_numpy()
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


# --- stability and recall ---------------------------------------------------------------------


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
    rank = {e: i for i, e in enumerate(_ordered(has["evaluator"], _EVALUATOR_ORDER))}
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
    return _sort_long(pd.DataFrame(rows, columns=cols))


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
    return _sort_long(out[cols])


def _sort_long(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return df
    od = {d: i for i, d in enumerate(_ordered(df["dataset"], _DATASET_ORDER))}
    os_ = {s: i for i, s in enumerate(_ordered(df["selector"], _SELECTOR_ORDER))}
    df = df.assign(_d=df["dataset"].map(od), _s=df["selector"].map(os_))
    return df.sort_values(["_d", "_s", "k"]).drop(columns=["_d", "_s"]).reset_index(drop=True)


def _wide(long: pd.DataFrame, fmt) -> pd.DataFrame:
    """(dataset, selector) x K table of a long frame, each row formatted with ``fmt``."""
    if long.empty:
        return pd.DataFrame()
    budgets = sorted(long["k"].astype(int).unique())
    rows = []
    for (ds, sel), g in long.groupby(["dataset", "selector"], sort=False):
        row = {f"K={k}": MISSING for k in budgets}
        for r in g.itertuples(index=False):
            row[f"K={int(r.k)}"] = fmt(r)
        rows.append(dict(dataset=ds, selector=sel, **row))
    return pd.DataFrame(rows).set_index(["dataset", "selector"])


# --- figures ----------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    # A bare Figure on the Agg canvas: no pyplot state, nothing to close, no display needed.
    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _colours(names) -> dict:
    import matplotlib

    cmap = matplotlib.colormaps["tab20" if len(names) > 10 else "tab10"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def plot_accuracy_vs_k(df: pd.DataFrame, path, evaluator: str = RANK_EVALUATOR) -> Path | None:
    """Accuracy (%) against K, one subplot per dataset, one line per selector.

    The line is the mean over seeds and the band spans min..max over seeds; the ceiling is a
    dashed horizontal line. Returns the PNG path, or None when there is nothing to plot.
    """
    ok = _ok(df[df["evaluator"] == evaluator])
    if ok.empty:
        return None
    ok = ok.assign(acc=ok["accuracy"] * 100.0)
    datasets = _ordered(ok["dataset"], _DATASET_ORDER)
    selectors = _ordered(ok["selector"], _SELECTOR_ORDER)
    colours = _colours([s for s in selectors if s != CEILING])
    ncols = min(4, len(datasets))
    nrows = math.ceil(len(datasets) / ncols)
    legend_cols = min(len(selectors), 7)
    legend_h = 0.15 + 0.25 * math.ceil(len(selectors) / legend_cols)  # inches below the grid
    fig = _figure(4.2 * ncols, 3.2 * nrows + legend_h)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    handles = {}
    for ax, ds in zip(axes, datasets, strict=False):
        here = ok[ok["dataset"] == ds]
        for sel in selectors:
            g = here[here["selector"] == sel]
            if g.empty:
                continue
            if sel == CEILING:
                h = ax.axhline(g["acc"].mean(), color="black", linestyle="--", linewidth=1)
            else:
                agg = g.groupby("k")["acc"].agg(["mean", "min", "max"]).sort_index()
                ks = agg.index.to_numpy(dtype=float)
                (h,) = ax.plot(ks, agg["mean"], marker="o", markersize=3, color=colours[sel])
                ax.fill_between(ks, agg["min"], agg["max"], color=colours[sel], alpha=0.15,
                                linewidth=0)
            handles.setdefault(sel, h)
        ax.set_title(ds)
        ax.set_xlabel("K (selected features)")
        ax.set_ylabel(f"{evaluator} accuracy (%)")
        ax.grid(alpha=0.3)
    for ax in axes[len(datasets):]:
        ax.set_visible(False)
    names = [s for s in selectors if s in handles]
    fig.legend([handles[s] for s in names], names, loc="lower center",
               ncol=legend_cols, fontsize="small", frameon=False)
    fig.tight_layout(rect=(0, legend_h / fig.get_figheight(), 1, 1))
    path = Path(path)
    fig.savefig(path)
    return path


def plot_selection_time(fits: pd.DataFrame, path) -> Path | None:
    """Box plot over datasets of each selector's median selection time (log scale).

    The ceiling selects nothing and is left out. Returns None when there are no fits.
    """
    fits = fits[fits["selector"] != CEILING]
    if fits.empty:
        return None
    med = fits.groupby(["selector", "dataset"])["select_seconds"].median().reset_index()
    selectors = _ordered(med["selector"], _SELECTOR_ORDER)
    # Log axes cannot show 0 s; a tenth of a millisecond is below anything measured.
    values = [np.clip(med.loc[med["selector"] == s, "select_seconds"].to_numpy(), 1e-4, None)
              for s in selectors]
    fig = _figure(max(5.0, 0.7 * len(selectors) + 2), 4.2)
    ax = fig.subplots()
    ax.boxplot(values, showfliers=False)
    rng = np.random.default_rng(0)  # fixed jitter, so the figure is reproducible
    for i, v in enumerate(values, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, v.size), v, s=10, alpha=0.7, zorder=3)
    ax.set_xticks(range(1, len(selectors) + 1), selectors, rotation=45, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("selection time per fit (s, median per dataset)")
    ax.set_title("Selection time (one point per dataset)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def plot_time_vs_accuracy(points: pd.DataFrame, dataset: str, path, k: int,
                          evaluator: str = RANK_EVALUATOR) -> Path | None:
    """Selection seconds (log x axis) against accuracy on one dataset, a point per selector.

    Parameters
    ----------
    points : DataFrame
        From :func:`time_vs_accuracy`.
    dataset : str
    path : path-like
        The PNG to write.
    k : int
        The budget of ``points``, for the title.
    evaluator : str, default="svm"
        For the axis label.

    Returns
    -------
    Path or None
        None when no selector has a point on ``dataset``.

    Notes
    -----
    A point is the mean over seeds, labelled with the selector's name; the vertical bar is
    ± one sd of the accuracy, the horizontal bar spans the fastest to the slowest fit. The
    ceiling selects nothing, so it is a dashed line at its accuracy rather than a point.
    """
    here = points[points["dataset"] == dataset]
    sels = here[here["selector"] != CEILING]
    if sels.empty:
        return None
    order = _ordered(sels["selector"], _SELECTOR_ORDER)
    colours = _colours(order)
    fig = _figure(6.0, 4.4)
    ax = fig.subplots()
    for r in sels.itertuples(index=False):
        # Log axes cannot show 0 s; a tenth of a millisecond is below anything measured.
        x, lo, hi = (max(float(v), 1e-4) for v in (r.sec_mean, r.sec_min, r.sec_max))
        yerr = r.acc_sd if np.isfinite(r.acc_sd) else None
        ax.errorbar(x, r.acc_mean, xerr=[[x - lo], [hi - x]], yerr=yerr, fmt="o",
                    color=colours[r.selector], capsize=3, markersize=5)
        ax.annotate(r.selector, (x, r.acc_mean), xytext=(5, 4), textcoords="offset points",
                    fontsize="small")
    ceiling = here[here["selector"] == CEILING]
    if not ceiling.empty:
        ax.axhline(float(ceiling["acc_mean"].iloc[0]), color="black", linestyle="--",
                   linewidth=1, label=f"{CEILING} (K=D)")
        ax.legend(loc="lower right", fontsize="small", frameon=False)
    ax.set_xscale("log")
    ax.margins(x=0.2, y=0.1)  # room for the labels right of the outermost points
    ax.set_xlabel("selection time per fit (s, log scale)")
    ax.set_ylabel(f"{evaluator} accuracy (%)")
    ax.set_title(f"{dataset}: accuracy vs selection time, K={k} (mean over seeds)",
                 fontsize="medium")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def plot_critical_difference(result: FriedmanResult, path, alpha: float = 0.05) -> Path | None:
    """Critical-difference diagram (scikit-posthocs) of a :class:`FriedmanResult`.

    Returns None when the test was skipped.
    """
    if result.skipped or result.nemenyi is None:
        return None
    import scikit_posthocs as sp

    fig = _figure(7.5, max(2.5, 0.35 * len(result.average_ranks) + 1.5))
    ax = fig.subplots()
    sp.critical_difference_diagram(result.average_ranks, result.nemenyi, ax=ax, alpha=alpha)
    ax.set_title(f"Average rank (1 = best) over {result.matrix.shape[0]} datasets; "
                 f"bars join selectors Nemenyi cannot separate (α = {alpha})",
                 fontsize="small", pad=24)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def plot_stability(stab: pd.DataFrame, k: int, path) -> Path | None:
    """Bar per selector of the mean stability over datasets at budget k, datasets as dots."""
    if stab.empty:
        return None
    here = stab[(stab["k"] == k) & stab["stability"].notna()]
    if here.empty:
        return None
    selectors = _ordered(here["selector"], _SELECTOR_ORDER)
    fig = _figure(max(6.0, 0.7 * len(selectors) + 2), 4.0)
    ax = fig.subplots()
    means = [here.loc[here["selector"] == s, "stability"].mean() for s in selectors]
    x = np.arange(len(selectors))
    ax.bar(x, means, color="tab:blue", alpha=0.6)
    for i, s in enumerate(selectors):
        v = here.loc[here["selector"] == s, "stability"].to_numpy()
        ax.scatter(np.full(v.size, i), v, color="black", s=10, zorder=3)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(x, selectors, rotation=45, ha="right")
    ax.set_ylim(min(-0.1, float(np.nanmin(here["stability"])) - 0.05), 1.05)
    ax.set_ylabel("Nogueira stability")
    ax.set_title(f"Stability across seeds, K={k} (bar: mean over datasets)", fontsize="medium")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


# --- the whole report -------------------------------------------------------------------------


@dataclass
class Report:
    """Where :func:`build_report` wrote things."""

    out_dir: Path
    markdown: Path
    figures: dict = field(default_factory=dict)  # name -> PNG path
    tables: dict = field(default_factory=dict)   # name -> CSV path
    latex: dict = field(default_factory=dict)    # name -> .tex path (booktabs tables)
    skipped: list = field(default_factory=list)  # figures not drawn, with the reason


def _save_table(df: pd.DataFrame, out_dir: Path, name: str, tables: dict, index=False) -> None:
    if df is None or df.empty:
        return
    path = out_dir / "tables" / f"{name}.csv"
    atomic_write_text(path, df.to_csv(index=index))
    tables[name] = path


def _save_latex(text: str | None, out_dir: Path, name: str, rep: Report, md: list) -> None:
    # Beside the CSV of the same name; written whole or not at all, since a paper may
    # \input it while a rebuild is under way.
    if not text:
        return
    path = out_dir / "tables" / f"{name}.tex"
    atomic_write_text(path, text)
    rep.latex[name] = path
    md += [f"LaTeX (booktabs, best in bold): `{path.relative_to(out_dir)}`", ""]


def _unique(df: pd.DataFrame, col: str) -> str:
    vals = sorted({v for v in df[col] if v})
    return ", ".join(vals) if vals else MISSING


def build_report(df: pd.DataFrame, out_dir, *, exp_name: str,
                 published: pd.DataFrame | None = None, source=None) -> Report:
    """Write ``report.md``, its figures (PNG) and its tables (CSV) into ``out_dir``.

    Parameters
    ----------
    df : DataFrame
        Result rows (prepared here again, so raw rows work too).
    out_dir : path-like
        Created if needed; existing files of the same names are replaced.
    exp_name : str
    published : DataFrame, optional
        From :func:`load_published`; without it the comparisons say so.
    source : path-like, optional
        The CSV the rows came from, named in the header.

    Returns
    -------
    Report
    """
    df = prepare(df)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rep = Report(out_dir=out_dir, markdown=out_dir / "report.md")
    published = published if published is not None else pd.DataFrame()
    md: list[str] = []

    # 1. header
    counts = status_counts(df)
    md += [f"# Report: {exp_name}", ""]
    if source is not None:
        md.append(f"Source: `{source}`  ")
    md.append(f"Rows: {len(df)} (" + ", ".join(f"{s} {n}" for s, n in counts.items()) + ")  ")
    md.append(f"Protocols: {_unique(df, 'protocol')}  ")
    md.append(f"Devices: {_unique(df, 'device')}  ")
    md.append(f"Git commits: {_unique(df, 'git_commit')}  ")
    md.append(f"Datasets: {', '.join(_ordered(df['dataset'], _DATASET_ORDER)) or MISSING}  ")
    md.append(f"Selectors: {', '.join(_ordered(df['selector'], _SELECTOR_ORDER)) or MISSING}  ")
    md.append("Evaluators: "
              f"{', '.join(_ordered(df['evaluator'], _EVALUATOR_ORDER)) or MISSING}  ")
    budgets = sorted({int(k) for k in df.loc[df["selector"] != CEILING, "k"].dropna()})
    seeds = sorted({int(s) for s in df["seed"].dropna()})
    md.append(f"Budgets K: {', '.join(map(str, budgets)) or MISSING}; "
              f"seeds: {', '.join(map(str, seeds)) or MISSING}")
    md += ["", "Accuracies are test-set percentages, mean ± sample sd over seeds; "
           f"`{MISSING}` marks a cell without an ok row (with the rows' status when they "
           "failed, timed out or were skipped); `(n=...)` marks a cell with fewer seeds than "
           f"the rest of its table. `{CEILING}` uses every column (K = D).", ""]

    k_rank = choose_k(df)
    k_table = PUBLISHED_K if (df["k"] == PUBLISHED_K).any() else k_rank

    # 2. Table 7 layout
    md += [f"## 1. Accuracy at K={k_table if k_table is not None else MISSING} "
           "(Table 7 layout)", ""]
    evaluators = _ordered(df["evaluator"], _EVALUATOR_ORDER)
    if k_table is None or not evaluators:
        md += ["No ok rows.", ""]
    else:
        for ev in evaluators:
            tab = accuracy_table(df, ev, k_table)
            md += [f"### {ev}", "", markdown_table(tab), ""]
            _save_table(tab, out_dir, f"accuracy_k{k_table}_{ev}", rep.tables, index=True)
            _save_latex(accuracy_table_latex(df, ev, k_table, exp_name=exp_name), out_dir,
                        f"accuracy_k{k_table}_{ev}", rep, md)
    md += ["### Beside the published numbers (NeuroFS paper, Table 7, K=50)", ""]
    if published.empty:
        md += ["No published numbers were found.", ""]
    elif not (df["k"] == PUBLISHED_K).any():
        md += ["This experiment has no K=50 rows; the published numbers are at K=50.", ""]
    else:
        cmp7 = compare_published(df, published, "table7_k50", PUBLISHED_K)
        md += ["`diff` = ours − published (points); `within` = yes when |diff| ≤ "
               "max(published sd, 1 point).", "", markdown_table(_format_comparison(cmp7),
                                                                 index=False), ""]
        _save_table(cmp7, out_dir, "published_table7", rep.tables)

    # 3. Table 6 check
    md += ["## 2. All features vs the published Table 6", ""]
    cmp6 = compare_published(df, published, "table6_all_features", PUBLISHED_K)
    if cmp6.empty:
        md += [f"No `{CEILING}` rows on a dataset of the paper (or no published numbers).", ""]
    else:
        md += [markdown_table(_format_comparison(cmp6), index=False), ""]
        _save_table(cmp6, out_dir, "published_table6", rep.tables)

    # 4. accuracy per K
    md += [f"## 3. {RANK_EVALUATOR} accuracy per K (mean over seeds)", ""]
    per_k = accuracy_per_k(df)
    md += [markdown_table(per_k), ""]
    _save_table(per_k, out_dir, "accuracy_per_k", rep.tables, index=True)
    _save_latex(accuracy_per_k_latex(df, exp_name=exp_name), out_dir, "accuracy_per_k", rep,
                md)
    fig = plot_accuracy_vs_k(df, out_dir / "accuracy_vs_k.png")
    _figure_line(md, rep, "accuracy_vs_k", fig, "accuracy vs K",
                 f"no ok {RANK_EVALUATOR} rows")

    # 5. selection time
    md += ["## 4. Selection time (median seconds per fit)", "",
           "Each fit counts once: a fit shared by every K of a seed is one value per "
           "(dataset, selector, seed). Only ok rows.", ""]
    fits = selection_fits(df)
    md += [markdown_table(selection_time_table(fits)), ""]
    _save_table(fits, out_dir, "selection_fits", rep.tables)
    fig = plot_selection_time(fits, out_dir / "selection_time.png")
    _figure_line(md, rep, "selection_time", fig, "selection time", "no timed fits")
    md += [f"### Time vs accuracy ({RANK_EVALUATOR}, "
           f"K={k_table if k_table is not None else MISSING})", "",
           "One point per selector: mean over seeds of the selection seconds (log axis) and "
           f"the {RANK_EVALUATOR} accuracy; bars: fastest to slowest fit, ± one sd of the "
           f"accuracy. `{CEILING}` is the dashed line.", ""]
    points = (time_vs_accuracy(df, k_table) if k_table is not None
              else pd.DataFrame(columns=["dataset"]))
    if points.empty:
        rep.skipped.append(("time_vs_accuracy", f"no ok {RANK_EVALUATOR} rows with a time"))
        md += [f"_Figures skipped: no ok {RANK_EVALUATOR} rows with a time._", ""]
    for ds in _ordered(points["dataset"], _DATASET_ORDER):
        name = f"time_vs_accuracy_{_file_stem(ds)}"
        fig = plot_time_vs_accuracy(points, ds, out_dir / f"{name}.png", k_table)
        _figure_line(md, rep, name, fig, f"time vs accuracy, {ds}",
                     f"{ds}: only {CEILING} has a point")

    # 6. ranks + Friedman + CD
    md += [f"## 5. Average ranks ({RANK_EVALUATOR}, K={k_rank if k_rank is not None else '—'})",
           ""]
    if k_rank is None:
        md += [f"No ok {RANK_EVALUATOR} rows: not enough data.", ""]
        rep.skipped.append(("critical_difference", f"no ok {RANK_EVALUATOR} rows"))
    else:
        if k_rank != PUBLISHED_K:
            md += [f"No K=50 rows; K={k_rank} is the budget with the most ok rows.", ""]
        fr = friedman_nemenyi(ranks_matrix(df, k_rank))
        _ranks_section(md, fr)
        _save_table(fr.ranks, out_dir, "ranks", rep.tables, index=True)
        fig = plot_critical_difference(fr, out_dir / "critical_difference.png")
        _figure_line(md, rep, "critical_difference", fig, "critical-difference diagram",
                     fr.skipped)

    # 7. pairwise
    md += [f"## 6. {REFERENCE_SELECTOR} vs each method (Wilcoxon signed-rank)", ""]
    pw = (pairwise_wilcoxon(df, k_rank) if k_rank is not None else pd.DataFrame())
    if pw.empty:
        md += [f"not enough data (no ok `{REFERENCE_SELECTOR}` rows with {RANK_EVALUATOR}"
               f" at K={k_rank if k_rank is not None else MISSING})", ""]
    elif (pw["n_pairs"] < 2).all():
        md += ["not enough data (fewer than 2 matched (dataset, seed) pairs per method)", ""]
    else:
        md += [f"Matched (dataset, seed) pairs at K={k_rank} with {RANK_EVALUATOR}; "
               f"difference = {REFERENCE_SELECTOR} − method (points). Two-sided p-value "
               "from scipy.stats.wilcoxon (zero differences dropped), Holm-adjusted over "
               "the methods. Effect size: matched-pairs rank-biserial correlation "
               "r = (W+ − W−)/(W+ + W−), positive when "
               f"{REFERENCE_SELECTOR} is better.", "",
               markdown_table(_format_pairwise(pw), index=False), ""]
    _save_table(pw, out_dir, "wilcoxon", rep.tables)

    # 8. stability
    md += ["## 7. Stability across seeds (Nogueira et al., JMLR 2018)", "",
           "1 = the same features every seed; about 0 = no more agreement than random "
           f"subsets of the same size. Needs 2 seeds or more. `{CEILING}` is left out "
           "(undefined when every feature is kept).", ""]
    stab = stability_table(df)
    md += [markdown_table(_wide(stab, _fmt_stability)), ""]
    _save_table(stab, out_dir, "stability", rep.tables)
    k_stab = k_rank
    if k_stab is None or stab.empty or not ((stab["k"] == k_stab)
                                            & stab["stability"].notna()).any():
        valid = stab[stab["stability"].notna()] if not stab.empty else stab
        k_stab = int(valid["k"].value_counts().index[0]) if len(valid) else None
    fig = (plot_stability(stab, k_stab, out_dir / "stability.png")
           if k_stab is not None else None)
    _figure_line(md, rep, "stability", fig, "stability", "no selector has 2 seeds or more")

    # 9. recall
    md += ["## 8. Recall of the truly informative features (synthetic data)", "",
           "recall = |selected ∩ true| / min(K, |true|), mean over seeds.", ""]
    rec = recall_table(df)
    if rec.empty:
        md += ["No rows with a known true support.", ""]
    else:
        md += [markdown_table(_wide(rec, _fmt_recall)), ""]
        _save_table(rec, out_dir, "recall", rep.tables)

    # 10. ties in rankings
    md += ["## 9. Columns chosen by score vs by index order", "",
           "A ranking selector keeps the K best scores; columns whose score ties the best "
           "column left out are taken by lower column index, a choice the data did not make "
           "(on images, the top pixel rows). Mean over seeds of how many of the K columns "
           "the selector's score chose, how many its own tie-break chose (LassoNet: the "
           "skip-layer norm of features that leave the path at the same lambda) and how many "
           "index order filled; only cells where the score did not decide all K.", ""]
    sep = separation_table(df)
    if sep.empty:
        md += ["Every ranking selector's scores decided all K columns (or no rows carry "
               "the counts).", ""]
    else:
        md += [markdown_table(sep, index=False), ""]
        _save_table(sep, out_dir, "separation", rep.tables)

    atomic_write_text(rep.markdown, "\n".join(md).rstrip() + "\n")
    return rep


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))


def _figure_line(md, rep, name, path, alt, reason) -> None:
    if path is not None:
        rep.figures[name] = path
        md += [f"![{alt}]({path.name})", ""]
    else:
        rep.skipped.append((name, reason))
        md += [f"_Figure skipped: {reason}._", ""]


def _ranks_section(md: list, fr: FriedmanResult) -> None:
    if fr.average_ranks.empty:
        md += ["No dataset has two or more selectors with ok rows: not enough data.", ""]
        return
    if fr.dropped_datasets or fr.dropped_selectors:
        md += ["Ranks need every selector on every dataset; left out for missing cells: "
               f"datasets {', '.join(map(str, fr.dropped_datasets)) or 'none'}; "
               f"selectors {', '.join(map(str, fr.dropped_selectors)) or 'none'}.", ""]
    table = pd.DataFrame({"average rank": fr.average_ranks.map(lambda v: f"{v:.2f}")})
    table.index.name = "selector"
    md += [f"Rank 1 = best mean accuracy on a dataset, ties averaged; averaged over "
           f"{fr.matrix.shape[0]} dataset(s).", "", markdown_table(table), ""]
    if fr.skipped:
        md += [f"Friedman test skipped: {fr.skipped}.", ""]
        return
    md += [f"Friedman test: χ² = {fr.statistic:.3f}, p = {_pvalue(fr.pvalue)} "
           f"({fr.matrix.shape[1]} selectors, {fr.matrix.shape[0]} datasets).", ""]
    if fr.nemenyi is not None:
        order = list(fr.average_ranks.index)
        nem = fr.nemenyi.loc[order, order].map(lambda v: f"{v:.3f}")
        nem.index.name = "Nemenyi p"
        md += ["<details><summary>Nemenyi post-hoc p-values</summary>", "",
               markdown_table(nem), "", "</details>", ""]


def _format_pairwise(pw: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in pw.itertuples(index=False):
        rows.append({
            "method": r.method, "n pairs": r.n_pairs, "W/T/L": f"{r.wins}/{r.ties}/{r.losses}",
            "median diff": _signed(r.median_diff), "p": _pvalue(r.p_value),
            "p (Holm)": _pvalue(r.p_holm),
            "r (rank-biserial)": MISSING if not np.isfinite(r.rank_biserial)
            else f"{r.rank_biserial:+.2f}",
            "note": r.note,
        })
    return pd.DataFrame(rows)


def _fmt_stability(r) -> str:
    if np.isfinite(r.stability):
        return f"{r.stability:.3f}"
    if r.n_seeds < 2:
        return f"{MISSING} (1 seed)"
    return f"{MISSING} (undefined: no or every feature kept)"


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
    for ds in _ordered(summ["dataset"], _DATASET_ORDER):
        here = summ[summ["dataset"] == ds]
        for sel in _ordered(here["selector"], _SELECTOR_ORDER):
            for r in here[here["selector"] == sel].sort_values("k").itertuples(index=False):
                rows.append([ds, sel, int(r.k), f"{r.sep:.1f}", f"{r.tb:.1f}",
                             f"{r.k - r.sep - r.tb:.1f}", int(r.seeds)])
    return pd.DataFrame(rows, columns=cols)


def _fmt_recall(r) -> str:
    return MISSING if not np.isfinite(r.recall) else f"{r.recall:.3f}"
