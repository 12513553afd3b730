"""Selection time against the number of rows n and of features D (``make bench-scaling``).

    python scripts/bench_scaling.py                                    # the full grid
    python scripts/bench_scaling.py --n-values 1000,3000 --d-values 100,500 \\
        --selectors entryprune,stg --timeout-s 60                     # a smaller one
    python scripts/bench_scaling.py --d-values ""                     # the n axis only

Data: ``make_classification`` through the project's synthetic loader (20 informative
columns, the rest noise, seeded), MinMax-scaled over all rows; every row is given to the
selector. The n axis varies n at D=``--fixed-d``; the D axis varies D at n=``--fixed-n``.
K is ``min(--k, D // 2)`` so small D still leaves a choice. The point the two axes share
(n=fixed-n, D=fixed-d, both defaults) is fitted once per method and reported on both axes
(``reused`` marks the copy).

Each point is one fit in a fresh child process (``bench/perf.py``) with a wall-clock
limit. A method that runs past it gets a ``timeout`` row, and the larger sizes of that
method on that axis get ``skipped`` rows saying so: nothing is dropped silently. Sizes run
in increasing order, all methods at one size before the next, so the data is made once.

Outputs in ``--out-dir`` (default ``results/perf``): ``scaling.csv`` (one row per method,
axis and size, rewritten atomically after every fit), ``scaling.png`` (log-log, one panel
per axis, timeouts marked x) and ``scaling.md`` (the fitted exponent per method and axis:
the least-squares slope of log time on log size over the ok points, at least two).
Exit status 1 when a fit failed, else 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.factory import list_selector_configs, parse_overrides, selector_spec  # noqa: E402
from bench.markdown import markdown_table  # noqa: E402
from bench.perf import StagedData, fit_exponent, measure_fit  # noqa: E402
from bench.provenance import git_commit, utc_now, versions  # noqa: E402
from bench.records import atomic_write_csv, atomic_write_text  # noqa: E402
from bench.workers import available_cpus  # noqa: E402

DEFAULT_SELECTORS = ("entryprune", "neurofs", "lassonet", "stg")
DEFAULT_N = (1000, 3000, 10000, 30000, 100000)
DEFAULT_D = (100, 500, 2000, 10000, 50000)
AXES = ("n", "D")

COLUMNS = [
    "selector", "axis", "size", "n", "n_features", "k", "seconds", "peak_rss_mib",
    "baseline_rss_mib", "rss_growth_mib", "peak_gpu_mib", "device", "status", "error",
    "reused", "threads", "seed", "overrides", "git_commit", "versions", "timestamp",
]


def _int_list(text: str) -> list[int]:
    values = [int(v) for v in text.replace(" ", "").split(",") if v]
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sorted(set(values))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--selectors", default=",".join(DEFAULT_SELECTORS),
                   help=f"comma-separated config names (default {','.join(DEFAULT_SELECTORS)})")
    p.add_argument("--n-values", type=_int_list, default=list(DEFAULT_N),
                   help="row counts of the n axis, comma-separated ('' skips the axis)")
    p.add_argument("--d-values", type=_int_list, default=list(DEFAULT_D),
                   help="feature counts of the D axis, comma-separated ('' skips the axis)")
    p.add_argument("--fixed-d", type=int, default=500, help="D on the n axis (default 500)")
    p.add_argument("--fixed-n", type=int, default=1000, help="n on the D axis (default 1000)")
    p.add_argument("--k", type=int, default=50, help="budget; min(k, D // 2) is used")
    p.add_argument("--timeout-s", type=float, default=600.0,
                   help="wall-clock limit per fit in seconds (default 600; 0: none)")
    p.add_argument("--threads", type=int, default=None,
                   help=f"torch/BLAS threads per fit (default all usable cores, "
                        f"{available_cpus()} here)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the selectors")
    p.add_argument("--override", action="append", default=[], metavar="SELECTOR.PARAM=VALUE",
                   help="a selector setting, repeatable (e.g. neurofs.epochs=5)")
    p.add_argument("--out-dir", type=Path, default=ROOT / "results" / "perf",
                   help="where scaling.csv, scaling.png and scaling.md go")
    return p


def make_data(n: int, D: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` x ``D`` synthetic rows (20 informative columns, or D when fewer), MinMax-scaled."""
    from datasets.synthetic import load_synthetic

    ds = load_synthetic(n_samples=n, n_features=D, n_informative=min(20, D), random_state=seed)
    X = ds.X
    lo = X.min(axis=0)
    span = X.max(axis=0) - lo
    span[span == 0] = 1.0  # a constant column maps to 0 rather than dividing by zero
    X -= lo
    X /= span
    return X, ds.y


def plan(n_values, d_values, fixed_n: int, fixed_d: int) -> list[tuple[str, int, int, int]]:
    """(axis, size, n, D) of every point, each axis in increasing size."""
    points = [("n", n, n, fixed_d) for n in n_values]
    points += [("D", d, fixed_n, d) for d in d_values]
    return points


def run_grid(points, selectors, measure, on_row=None) -> list[dict]:
    """Measure every (point, selector) with the timeout rule; return the rows.

    Parameters
    ----------
    points : list of (axis, size, n, D)
        From :func:`plan`; sizes of one axis must come in increasing order.
    selectors : list of str
    measure : callable (selector, n, D) -> dict
        One measurement; its dict holds at least ``status`` (and ``error``).
    on_row : callable(dict), optional
        Called with each row as soon as it exists (progress, incremental writes).

    Notes
    -----
    After a ``timeout`` the larger sizes of that selector on that axis are ``skipped``
    with the reason. A point with the same (n, D) as one already measured for that
    selector is not measured again: its row is a copy marked ``reused``.
    """
    rows = []
    timed_out: dict[tuple[str, str], int] = {}
    done: dict[tuple[str, int, int], dict] = {}
    for axis, size, n, D in points:
        for name in selectors:
            base = dict(selector=name, axis=axis, size=size, n=n, n_features=D)
            if (name, axis) in timed_out:
                row = dict(base, status="skipped", reused=False,
                           error=f"previous size timed out ({axis}={timed_out[name, axis]})")
            elif (name, n, D) in done:
                row = dict(done[name, n, D], **base, reused=True)
            else:
                row = dict(measure(name, n, D), **base, reused=False)
                done[name, n, D] = row
            if row["status"] == "timeout":
                timed_out[name, axis] = size
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def exponents(df: pd.DataFrame) -> list[dict]:
    """Fitted exponent per selector and axis over the ok points (NaN below two)."""
    out = []
    for (name, axis), rows in df.groupby(["selector", "axis"], sort=False):
        ok = rows[rows.status == "ok"]
        slope = fit_exponent(ok["size"], ok["seconds"])
        others = rows[rows.status != "ok"].status.value_counts()
        out.append({
            "selector": name, "axis": axis,
            "exponent": "" if np.isnan(slope) else f"{slope:.2f}",
            "ok points": len(ok),
            "sizes (ok)": ", ".join(str(int(s)) for s in ok["size"]),
            "not ok": ", ".join(f"{n} {s}" for s, n in others.items()),
        })
    return out


def plot(df: pd.DataFrame, path: Path, fixed_n: int, fixed_d: int, timeout_s: float) -> None:
    """Two log-log panels (time vs n, time vs D); timeouts as x at the time they were cut."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    names = list(dict.fromkeys(df.selector))
    titles = {"n": f"time vs n (D = {fixed_d})", "D": f"time vs D (n = {fixed_n})"}
    for ax, axis in zip(axes, AXES, strict=True):
        sub = df[df.axis == axis]
        for i, name in enumerate(names):
            rows = sub[sub.selector == name].sort_values("size")
            colour = colours[i % len(colours)]
            ok = rows[rows.status == "ok"]
            slope = fit_exponent(ok["size"], ok["seconds"])
            label = name if np.isnan(slope) else f"{name} (slope {slope:.2f})"
            if not ok.empty:
                ax.plot(ok["size"], ok["seconds"], "o-", color=colour, label=label)
            cut = rows[rows.status == "timeout"]
            if not cut.empty:
                skipped = rows[rows.status == "skipped"]
                note = (f", larger sizes skipped ({len(skipped)})" if not skipped.empty
                        else "")
                ax.plot(cut["size"], cut["seconds"], "x", color=colour, markersize=10,
                        markeredgewidth=2, label=f"{name} timeout{note}")
        if timeout_s and timeout_s > 0 and not sub.empty:
            ax.axhline(timeout_s, color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n (rows)" if axis == "n" else "D (features)")
        ax.set_ylabel("selection time (s)")
        ax.set_title(titles[axis])
        ax.grid(True, which="both", alpha=0.3)
        if sub.empty:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center",
                    transform=ax.transAxes)
        elif ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    known = list_selector_configs()
    names = [s.strip() for s in args.selectors.split(",") if s.strip()]
    unknown = [s for s in names if s not in known]
    if unknown or not names:
        raise SystemExit(f"unknown or no selector(s) {unknown}; known: {', '.join(known)}")
    cli = parse_overrides(args.override)
    for name in sorted(set(cli) - set(names)):
        print(f"note: --override for {name} ignored ({name} is not measured)", flush=True)
    specs = {name: selector_spec(name, cli.get(name)) for name in names}
    applied = {name: " ".join(f"{k}={v}" for k, v in cli.get(name, {}).items())
               for name in names}
    threads = args.threads or available_cpus()
    points = plan(args.n_values, args.d_values, args.fixed_n, args.fixed_d)
    if not points:
        raise SystemExit("nothing to measure: --n-values and --d-values are both empty")

    out_dir = args.out_dir
    csv_path = out_dir / "scaling.csv"
    common = dict(threads=threads, seed=args.seed, git_commit=git_commit(),
                  versions=versions())
    print(f"{len(points)} point(s) x {len(names)} selector(s), {threads} thread(s), "
          f"timeout {args.timeout_s:g} s per fit", flush=True)

    staged: dict[tuple[int, int], StagedData] = {}

    def data_for(n: int, D: int) -> StagedData:
        # One size at a time: every method uses it, then its files go before the next.
        if (n, D) not in staged:
            for old in staged.values():
                old.close()
            staged.clear()
            staged[n, D] = StagedData(*make_data(n, D, args.seed))
        return staged[n, D]

    def measure(name: str, n: int, D: int) -> dict:
        k = max(1, min(args.k, D // 2))
        res = measure_fit(specs[name], data_for(n, D), k, device=args.device,
                          seed=args.seed, threads=threads, timeout_s=args.timeout_s)
        return dict(res.as_dict(), k=k)

    rows: list[dict] = []

    def on_row(row: dict) -> None:
        row.setdefault("k", max(1, min(args.k, row["n_features"] // 2)))
        row.update(common, overrides=applied[row["selector"]], timestamp=utc_now())
        rows.append(row)
        atomic_write_csv(pd.DataFrame(rows, columns=COLUMNS), csv_path)
        print(_progress(len(rows), len(points) * len(names), row), flush=True)

    try:
        run_grid(points, names, measure, on_row)
    finally:
        for data in staged.values():
            data.close()

    df = pd.DataFrame(rows, columns=COLUMNS)
    png_path = out_dir / "scaling.png"
    plot(df, png_path, args.fixed_n, args.fixed_d, args.timeout_s)
    table = exponents(df)
    report = render(df, table, args, threads, common)
    atomic_write_text(out_dir / "scaling.md", report)
    print()
    print(report)
    print(f"rows: {csv_path}\nplot: {png_path}\nexponents: {out_dir / 'scaling.md'}")
    return 1 if (df.status == "failed").any() else 0


def render(df, table, args, threads, common) -> str:
    lines = [
        "# Selection time against n and D", "",
        f"- n axis: n in {list(args.n_values)} at D = {args.fixed_d}",
        f"- D axis: D in {list(args.d_values)} at n = {args.fixed_n}",
        f"- K = min({args.k}, D // 2); synthetic data, 20 informative columns, seed {args.seed}",
        f"- threads per fit: {threads}; device requested: {args.device}; "
        f"timeout per fit: {args.timeout_s:g} s",
        f"- git commit: {common['git_commit']}; finished {utc_now()}",
        f"- versions: {common['versions']}",
        "",
        "Exponent: least-squares slope of log(seconds) on log(size) over the ok points "
        "(time ~ size^exponent; empty with fewer than two). Timed-out and skipped sizes "
        "are left out of the fit, so a method that timed out scales worse than its slope "
        "says.",
        "",
        markdown_table(table, ["selector", "axis", "exponent", "ok points", "sizes (ok)",
                               "not ok"]),
    ]
    bad = df[~df.status.isin(["ok"])]
    if not bad.empty:
        lines += ["", "Points that were not ok:", ""]
        lines += [f"- {r.selector}, {r.axis} = {r.size}: {r.status}: {r.error}"
                  for r in bad.itertuples()]
    return "\n".join(lines) + "\n"


def _progress(i: int, total: int, row: dict) -> str:
    head = (f"[{i}/{total}] {row['selector']} {row['axis']}={row['size']} "
            f"(n={row['n']}, D={row['n_features']}): {row['status']}")
    again = ", reused" if row.get("reused") else ""
    if row["status"] == "ok":
        return f"{head} {row['seconds']:.3g} s, peak {row['peak_rss_mib']:.0f} MiB{again}"
    return f"{head} ({row.get('error', '')}){again}"


if __name__ == "__main__":
    sys.exit(main())
