r"""The accuracy tables as booktabs LaTeX: "mean $\pm$ sd", the best selector per column in bold.

A small writer of our own rather than pandas' ``Styler.to_latex``: Styler needs jinja2,
which this project does not depend on (it is only present through torch); the best entry
has to be picked from the numeric means while the cells are "mean ± sd" text with status
markers; and Styler writes a row MultiIndex with ``\multirow``, which needs another package
in the paper's preamble. Rules, escaping and bold take a few lines here.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from bench.report.names import CEILING, DATASET_ORDER, RANK_EVALUATOR, SELECTOR_ORDER, ordered
from bench.report.results import accuracy_summary
from bench.report.tables import accuracy_cells

__all__ = [
    "accuracy_per_k_latex",
    "accuracy_table_latex",
    "best_mask",
    "latex_escape",
    "latex_table",
]

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
    """The Table 7 layout of :func:`~bench.report.tables.accuracy_table` as a booktabs LaTeX table.

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
    cells = accuracy_cells(df, evaluator, k)
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
    """The per-K table of :func:`~bench.report.tables.accuracy_per_k` as a booktabs LaTeX table.

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
    for ds in ordered(summ["dataset"], DATASET_ORDER):
        here = summ[summ["dataset"] == ds]
        cells = {(r.selector, r.col): r for r in here.itertuples(index=False)}
        selectors = _ceiling_last(ordered(here["selector"], SELECTOR_ORDER))
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
