"""How numbers read in the report's Markdown tables: percentages, seconds, p-values.

Accuracies are shown in percent with two decimals; a number that is absent or not finite
reads :data:`bench.markdown.MISSING`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.markdown import MISSING

__all__ = ["fmt_mean_sd", "fmt_percent", "fmt_pvalue", "fmt_seconds", "fmt_signed", "wide_by_k"]


def _absent(x) -> bool:
    return x is None or not np.isfinite(x)


def fmt_percent(x: float) -> str:
    """``x`` with two decimals (a percentage already scaled to 0..100)."""
    return MISSING if _absent(x) else f"{x:.2f}"


def fmt_signed(x: float) -> str:
    """``x`` with two decimals and its sign (a difference in points)."""
    return MISSING if _absent(x) else f"{x:+.2f}"


def fmt_mean_sd(mean: float, sd: float, n: int = 0, n_full: int = 0) -> str:
    """``"mean ± sd"`` with two decimals, and ``" (n=...)"`` when ``0 < n < n_full``.

    The sd is left out when it is absent (one seed).
    """
    if _absent(mean):
        return MISSING
    text = f"{mean:.2f}" if _absent(sd) else f"{mean:.2f} ± {sd:.2f}"
    # Fewer seeds than elsewhere in the same table: say so, the mean is less certain.
    if n and n_full and n < n_full:
        text += f" (n={n})"
    return text


def fmt_seconds(x: float) -> str:
    """Seconds: whole from 100 s up, else three significant digits."""
    if _absent(x):
        return MISSING
    if x >= 100:
        return f"{x:.0f}"
    # Three significant digits keep 0.00123 s and 12.3 s equally readable.
    return f"{x:#.3g}"


def fmt_pvalue(p: float) -> str:
    """A p-value: scientific below 0.001, else four decimals."""
    if _absent(p):
        return MISSING
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"


def wide_by_k(long: pd.DataFrame, fmt) -> pd.DataFrame:
    """(dataset, selector) x K table of a long frame, each row formatted with ``fmt``.

    Parameters
    ----------
    long : DataFrame
        Columns ``dataset``, ``selector``, ``k`` and whatever ``fmt`` reads.
    fmt : callable
        Row (a namedtuple of ``long``) -> cell text.

    Returns
    -------
    DataFrame of str
        Index (dataset, selector), columns ``K=<k>`` in increasing order; a K that a
        (dataset, selector) lacks reads :data:`~bench.markdown.MISSING`.
    """
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
