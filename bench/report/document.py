"""``report.md`` assembled from the other modules, with its tables (CSV, LaTeX) and figures.

The sections, in order: accuracy at the paper's K (Table 7 layout) beside the published
numbers; all features against Table 6; accuracy per K; selection time; average ranks with
the Friedman and Nemenyi tests; EntryPrune against each method (Wilcoxon); stability;
recall of the true features; and columns chosen by score rather than by index order. Every
file is written atomically (:func:`bench.records.atomic_write_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.markdown import MISSING, markdown_table
from bench.records import atomic_write_text
from bench.report.figures import (
    plot_accuracy_vs_k,
    plot_critical_difference,
    plot_selection_time,
    plot_stability,
    plot_time_vs_accuracy,
)
from bench.report.formatting import fmt_pvalue, wide_by_k
from bench.report.latex import accuracy_per_k_latex, accuracy_table_latex
from bench.report.names import (
    CEILING,
    DATASET_ORDER,
    EVALUATOR_ORDER,
    FOCAL_SELECTOR,
    PUBLISHED_K,
    RANK_EVALUATOR,
    SELECTOR_ORDER,
    ordered,
)
from bench.report.results import prepare, status_counts
from bench.report.stability import recall_table, stability_table
from bench.report.stats import (
    FriedmanResult,
    choose_k,
    format_pairwise,
    friedman_nemenyi,
    pairwise_wilcoxon,
    ranks_matrix,
)
from bench.report.tables import (
    accuracy_per_k,
    accuracy_table,
    compare_published,
    format_comparison,
    separation_table,
)
from bench.report.timing import selection_fits, selection_time_table, time_vs_accuracy

__all__ = ["Report", "build_report"]


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
                 published: pd.DataFrame | None = None, source=None,
                 gaps: pd.DataFrame | None = None) -> Report:
    """Write ``report.md``, its figures (PNG) and its tables (CSV) into ``out_dir``.

    Parameters
    ----------
    df : DataFrame
        Result rows (prepared here again, so raw rows work too).
    out_dir : path-like
        Created if needed; existing files of the same names are replaced.
    exp_name : str
    published : DataFrame, optional
        From :func:`bench.report.names.load_published`; without it the comparisons say so.
    source : path-like, optional
        The CSV the rows came from, named in the header.
    gaps : DataFrame, optional
        :func:`bench.grid.grid_gaps` of the rows against their experiment's grid; with it
        the header says how complete the grid is and lists what is missing, by cell.

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

    # Header: what the rows are and how to read the tables.
    counts = status_counts(df)
    md += [f"# Report: {exp_name}", ""]
    if source is not None:
        md.append(f"Source: `{source}`  ")
    md.append(f"Rows: {len(df)} (" + ", ".join(f"{s} {n}" for s, n in counts.items()) + ")  ")
    md.append(f"Protocols: {_unique(df, 'protocol')}  ")
    md.append(f"Devices: {_unique(df, 'device')}  ")
    md.append(f"Git commits: {_unique(df, 'git_commit')}  ")
    machines = _unique(df, "machine")
    md.append(f"Machines: {'not recorded' if machines == MISSING else machines}  ")
    md.append(f"Datasets: {', '.join(ordered(df['dataset'], DATASET_ORDER)) or MISSING}  ")
    md.append(f"Selectors: {', '.join(ordered(df['selector'], SELECTOR_ORDER)) or MISSING}  ")
    md.append("Evaluators: "
              f"{', '.join(ordered(df['evaluator'], EVALUATOR_ORDER)) or MISSING}  ")
    budgets = sorted({int(k) for k in df.loc[df["selector"] != CEILING, "k"].dropna()})
    seeds = sorted({int(s) for s in df["seed"].dropna()})
    md.append(f"Budgets K: {', '.join(map(str, budgets)) or MISSING}; "
              f"seeds: {', '.join(map(str, seeds)) or MISSING}")
    md += ["", "Accuracies are test-set percentages, mean ± sample sd over seeds; "
           f"`{MISSING}` marks a cell without an ok row (with the rows' status when they "
           "failed, timed out or were skipped); `(n=...)` marks a cell with fewer seeds than "
           f"the rest of its table. `{CEILING}` uses every column (K = D).", ""]

    if gaps is not None:
        md += _coverage(gaps)
    md += _without_selection(df)

    k_rank = choose_k(df)
    k_table = PUBLISHED_K if (df["k"] == PUBLISHED_K).any() else k_rank

    # 1. Accuracy at the paper's K (Table 7 layout), then beside the published numbers.
    md += [f"## 1. Accuracy at K={k_table if k_table is not None else MISSING} "
           "(Table 7 layout)", ""]
    evaluators = ordered(df["evaluator"], EVALUATOR_ORDER)
    if k_table is None or not evaluators:
        md += ["No ok rows.", ""]
    else:
        for ev in evaluators:
            tab = accuracy_table(df, ev, k_table)
            md += [f"### {ev}", "", markdown_table(tab, index=True), ""]
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
               "max(published sd, 1 point).", "",
               markdown_table(format_comparison(cmp7), index=False), ""]
        _save_table(cmp7, out_dir, "published_table7", rep.tables)

    # 2. All features against the published Table 6.
    md += ["## 2. All features vs the published Table 6", ""]
    cmp6 = compare_published(df, published, "table6_all_features", PUBLISHED_K)
    if cmp6.empty:
        md += [f"No `{CEILING}` rows on a dataset of the paper (or no published numbers).", ""]
    else:
        md += [markdown_table(format_comparison(cmp6), index=False), ""]
        _save_table(cmp6, out_dir, "published_table6", rep.tables)

    # 3. Accuracy per K.
    md += [f"## 3. {RANK_EVALUATOR} accuracy per K (mean over seeds)", ""]
    per_k = accuracy_per_k(df)
    md += [markdown_table(per_k, index=True), ""]
    _save_table(per_k, out_dir, "accuracy_per_k", rep.tables, index=True)
    _save_latex(accuracy_per_k_latex(df, exp_name=exp_name), out_dir, "accuracy_per_k", rep,
                md)
    fig = plot_accuracy_vs_k(df, out_dir / "accuracy_vs_k.png")
    _figure_line(md, rep, "accuracy_vs_k", fig, "accuracy vs K",
                 f"no ok {RANK_EVALUATOR} rows")

    # 4. Selection time, and time against accuracy per dataset.
    md += ["## 4. Selection time (median seconds per fit)", "",
           "Each fit counts once: a fit shared by every K of a seed is one value per "
           "(dataset, selector, seed). Only ok rows.", ""]
    fits = selection_fits(df)
    md += [markdown_table(selection_time_table(fits), index=True), ""]
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
    for ds in ordered(points["dataset"], DATASET_ORDER):
        name = f"time_vs_accuracy_{_file_stem(ds)}"
        fig = plot_time_vs_accuracy(points, ds, out_dir / f"{name}.png", k_table)
        _figure_line(md, rep, name, fig, f"time vs accuracy, {ds}",
                     f"{ds}: only {CEILING} has a point")

    # 5. Average ranks, Friedman and Nemenyi tests, critical-difference diagram.
    md += [f"## 5. Average ranks ({RANK_EVALUATOR}, "
           f"K={k_rank if k_rank is not None else MISSING})", ""]
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

    # 6. The focal selector against each method (Wilcoxon).
    md += [f"## 6. {FOCAL_SELECTOR} vs each method (Wilcoxon signed-rank)", ""]
    pw = (pairwise_wilcoxon(df, k_rank) if k_rank is not None else pd.DataFrame())
    if pw.empty:
        md += [f"not enough data (no ok `{FOCAL_SELECTOR}` rows with {RANK_EVALUATOR}"
               f" at K={k_rank if k_rank is not None else MISSING})", ""]
    elif (pw["n_pairs"] < 2).all():
        md += ["not enough data (fewer than 2 matched (dataset, seed) pairs per method)", ""]
    else:
        md += [f"Matched (dataset, seed) pairs at K={k_rank} with {RANK_EVALUATOR}; "
               f"difference = {FOCAL_SELECTOR} − method (points). Two-sided p-value "
               "from scipy.stats.wilcoxon (zero differences dropped), Holm-adjusted over "
               "the methods. Effect size: matched-pairs rank-biserial correlation "
               "r = (W+ − W−)/(W+ + W−), positive when "
               f"{FOCAL_SELECTOR} is better.", "",
               markdown_table(format_pairwise(pw), index=False), ""]
    _save_table(pw, out_dir, "wilcoxon", rep.tables)

    # 7. Stability across seeds.
    md += ["## 7. Stability across seeds (Nogueira et al., JMLR 2018)", "",
           "1 = the same features every seed; about 0 = no more agreement than random "
           f"subsets of the same size. Needs 2 seeds or more. `{CEILING}` is left out "
           "(undefined when every feature is kept).", ""]
    stab = stability_table(df)
    md += [markdown_table(wide_by_k(stab, _fmt_stability), index=True), ""]
    _save_table(stab, out_dir, "stability", rep.tables)
    k_stab = k_rank
    if k_stab is None or stab.empty or not ((stab["k"] == k_stab)
                                            & stab["stability"].notna()).any():
        valid = stab[stab["stability"].notna()] if not stab.empty else stab
        k_stab = int(valid["k"].value_counts().index[0]) if len(valid) else None
    fig = (plot_stability(stab, k_stab, out_dir / "stability.png")
           if k_stab is not None else None)
    _figure_line(md, rep, "stability", fig, "stability", "no selector has 2 seeds or more")

    # 8. Recall of the true features.
    md += ["## 8. Recall of the truly informative features (synthetic data)", "",
           "recall = |selected ∩ true| / min(K, |true|), mean over seeds.", ""]
    rec = recall_table(df)
    if rec.empty:
        md += ["No rows with a known true support.", ""]
    else:
        md += [markdown_table(wide_by_k(rec, _fmt_recall), index=True), ""]
        _save_table(rec, out_dir, "recall", rep.tables)

    # 9. Columns chosen by score rather than by index order.
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
           f"{fr.matrix.shape[0]} dataset(s).", "", markdown_table(table, index=True), ""]
    if fr.skipped:
        md += [f"Friedman test skipped: {fr.skipped}.", ""]
        return
    md += [f"Friedman test: χ² = {fr.statistic:.3f}, p = {fmt_pvalue(fr.pvalue)} "
           f"({fr.matrix.shape[1]} selectors, {fr.matrix.shape[0]} datasets).", ""]
    if fr.nemenyi is not None:
        order = list(fr.average_ranks.index)
        nem = fr.nemenyi.loc[order, order].map(lambda v: f"{v:.3f}")
        nem.index.name = "Nemenyi p"
        md += ["<details><summary>Nemenyi post-hoc p-values</summary>", "",
               markdown_table(nem, index=True), "", "</details>", ""]


def _fmt_stability(r) -> str:
    if np.isfinite(r.stability):
        return f"{r.stability:.3f}"
    if r.n_seeds < 2:
        return f"{MISSING} (1 seed)"
    return f"{MISSING} (undefined: no or every feature kept)"


def _fmt_recall(r) -> str:
    return MISSING if not np.isfinite(r.recall) else f"{r.recall:.3f}"


def _count_by_cell(rows: pd.DataFrame, label: str) -> pd.DataFrame:
    """Rows counted per (dataset, selector, ``label``), with the seeds they cover."""
    return (rows.groupby(["dataset", "selector", label], sort=False)
            .agg(seeds=("seed", lambda s: " ".join(map(str, sorted(set(s))))),
                 rows=("seed", "size")).reset_index())


def _n_cells(by_cell: pd.DataFrame) -> int:
    """The (dataset, selector) cells in a ``_count_by_cell`` table, which has one line per
    reason: a cell with two reasons is one cell."""
    return len(by_cell[["dataset", "selector"]].drop_duplicates())


def _without_selection(df: pd.DataFrame) -> list[str]:
    """The header's lists of rows without a selection, counted by cell and reason: skipped
    rows (a cell the experiment leaves out, a K above D) and timed-out ones (a fit past
    ``timeout_s``, and the rest of its cell under ``after_timeout: skip_cell``); nothing
    when there are none. A timeout leaves a cell with fewer seeds, which the tables mark
    only as ``(n=...)``: this list says why."""
    md: list[str] = []
    for status, title, what in (("skipped", "Skipped", "not fitted"),
                                ("timeout", "Timed out", "no selection")):
        rows = df[df["status"] == status]
        if rows.empty:
            continue
        by_cell = _count_by_cell(rows.assign(reason=rows["error"].fillna("").astype(str)),
                                 "reason")
        md += [f"{title}: {len(rows)} row(s) in {_n_cells(by_cell)} cell(s), {what}, "
               "with the reason each row gives:", "",
               markdown_table(by_cell, ["dataset", "selector", "reason", "seeds", "rows"]),
               ""]
    return md


def _coverage(gaps: pd.DataFrame) -> list[str]:
    """The header's grid paragraph: complete, or the missing rows counted by cell and why."""
    if gaps.empty:
        return ["Grid: every (dataset, selector, seed, K, evaluator) of the experiment's "
                "config has an ok row, or a timeout or skipped row with its reason.", ""]
    by_cell = _count_by_cell(gaps, "why")
    lines = [f"Grid: {len(gaps)} row(s) of the experiment's config are not accounted for "
             "(no row, a failed row, or a timeout or skipped row without its reason), in "
             f"{_n_cells(by_cell)} cell(s):", ""]
    lines.append(markdown_table(by_cell, ["dataset", "selector", "why", "seeds", "rows"]))
    return [*lines, ""]
