"""Every figure of the report, each written as a PNG; None when there is nothing to draw.

Figures are bare ``matplotlib.figure.Figure`` objects on the Agg canvas, never pyplot, so
building a report changes no global plotting state and needs no display.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bench.report.names import CEILING, DATASET_ORDER, RANK_EVALUATOR, SELECTOR_ORDER, ordered
from bench.report.results import ok_rows
from bench.report.stats import FriedmanResult

__all__ = [
    "plot_accuracy_vs_k",
    "plot_critical_difference",
    "plot_selection_time",
    "plot_stability",
    "plot_time_vs_accuracy",
]


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
    ok = ok_rows(df[df["evaluator"] == evaluator])
    if ok.empty:
        return None
    ok = ok.assign(acc=ok["accuracy"] * 100.0)
    datasets = ordered(ok["dataset"], DATASET_ORDER)
    selectors = ordered(ok["selector"], SELECTOR_ORDER)
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
    selectors = ordered(med["selector"], SELECTOR_ORDER)
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
        From :func:`~bench.report.timing.time_vs_accuracy`.
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
    order = ordered(sels["selector"], SELECTOR_ORDER)
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
    """Critical-difference diagram (scikit-posthocs) of a :class:`~.stats.FriedmanResult`.

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
    selectors = ordered(here["selector"], SELECTOR_ORDER)
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
