"""Selection time and peak memory of every selector on the same data (``make bench``).

    python scripts/bench_selectors.py                      # every selector, K=50, 3 reps
    python scripts/bench_selectors.py --dataset digits --selectors entryprune,stg --reps 5
    python scripts/bench_selectors.py --reps 1 --override neurofs.epochs=2 \\
        --override lassonet.n_iters=[20,5]                  # a quick check

Each fit runs in a fresh child process (``bench/perf.py``), so its peak RSS is its own.
Measurements are interleaved: in every repetition each selector is measured once, in an
order shuffled per repetition with a fixed seed, so a slow drift of the machine is spread
over all selectors rather than charged to one. A selector that times out is not run again
in later repetitions (its rows say ``skipped``), so a hopeless method costs one time limit,
not one per repetition.

The data is the training part of split ``paper``/seed 0 of a dataset config, through the
project's data layer (the rows a selector sees in a run), with that dataset's
``selector_overrides`` applied. The default dataset is COIL-20 when its file can be found
(data directory or ``ENTRYPRUNE_DATA_MIRROR``); otherwise digits, with a printed note.

Outputs: one tidy CSV row per measurement (``--out``, default
``results/perf/selectors.csv``, rewritten atomically after every fit so an interrupted run
keeps what it measured) and a markdown summary beside it (``selectors.md``), also printed.
Exit status 1 when a fit failed (its rows hold the message), else 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.factory import (  # noqa: E402
    CONFIG_DIR,
    list_selector_configs,
    parse_overrides,
    selector_spec,
)
from bench.markdown import markdown_table  # noqa: E402
from bench.perf import StagedData, interleaved_order, measure_fit  # noqa: E402
from bench.provenance import git_commit, utc_now, versions  # noqa: E402
from bench.records import atomic_write_csv, atomic_write_text, error_text  # noqa: E402
from bench.workers import available_cpus  # noqa: E402

DATASETS = ("coil20", "madelon", "mnist", "digits", "synthetic")
DEFAULT_DATASET = "coil20"
FALLBACK_DATASET = "digits"
REFERENCE = "entryprune"
EXCLUDED_BY_DEFAULT = ("all_features",)  # the ceiling selects nothing: no fit to time

COLUMNS = [
    "selector", "dataset", "n_train", "n_features", "k", "rep", "position", "seed",
    "seconds", "peak_rss_mib", "baseline_rss_mib", "rss_growth_mib", "peak_gpu_mib",
    "device", "status", "error", "threads", "overrides", "git_commit", "versions",
    "timestamp",
]


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Training rows of ``configs/dataset/<name>.yaml`` (protocol ``paper``, seed 0).

    Returns
    -------
    X_train, y_train : ndarray
    selector_overrides : dict
        The dataset's per-selector settings (as the runner applies them).
    """
    from datasets import registry
    from datasets.base import make_split

    split = make_split(registry.load_dataset(name), "paper", 0)
    return split.X_train, split.y_train, registry.dataset_selector_overrides(name)


def _default_dataset() -> tuple[str, tuple]:
    """COIL-20 when its file is already on disk, else digits (no download attempted)."""
    from omegaconf import OmegaConf

    from datasets.fetch import fetch

    try:
        cfg = OmegaConf.load(CONFIG_DIR / "dataset" / f"{DEFAULT_DATASET}.yaml")
        # Look without downloading: a benchmark default should not wait on the network.
        fetch(str(cfg.file), allow_download=False)
        return DEFAULT_DATASET, load_dataset(DEFAULT_DATASET)
    except Exception as exc:
        first = error_text(exc, limit=None, first_line=True)
        print(f"note: {DEFAULT_DATASET} could not be loaded ({first}); using "
              f"{FALLBACK_DATASET} instead. Set ENTRYPRUNE_DATA_MIRROR (make does) or run "
              f"`make data`, or pick one with --dataset.", flush=True)
        return FALLBACK_DATASET, load_dataset(FALLBACK_DATASET)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help=f"default: {DEFAULT_DATASET} when present, else {FALLBACK_DATASET}")
    p.add_argument("--selectors", default=None,
                   help="comma-separated config names (default: every selector config "
                        f"except {', '.join(EXCLUDED_BY_DEFAULT)})")
    p.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    p.add_argument("--k", type=int, default=50, help="feature budget K (default 50)")
    p.add_argument("--timeout-s", type=float, default=1800.0,
                   help="wall-clock limit per fit in seconds (default 1800; 0: none)")
    p.add_argument("--threads", type=int, default=None,
                   help=f"torch/BLAS threads per fit (default all usable cores, "
                        f"{available_cpus()} here)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of repetition 0 (rep r uses seed+r) and of the order shuffle")
    p.add_argument("--override", action="append", default=[], metavar="SELECTOR.PARAM=VALUE",
                   help="a selector setting, repeatable (e.g. neurofs.epochs=5)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "perf" / "selectors.csv",
                   help="CSV of every measurement; the summary goes beside it as .md")
    return p


def summarise(df: pd.DataFrame, reference: str = REFERENCE) -> list[dict]:
    """One summary row per selector, in order of median time (failing ones last)."""
    ok = df[df.status == "ok"]
    ref = ok[ok.selector == reference]["seconds"]
    ref_median = float(ref.median()) if not ref.empty else float("nan")
    out = []
    for name, rows in df.groupby("selector", sort=False):
        good = rows[rows.status == "ok"]
        counts = rows.status.value_counts()
        statuses = ", ".join(f"{n} {s}" for s, n in counts.items())
        row = {"selector": name, "runs": statuses,
               "device": ",".join(sorted(set(good.device.astype(str)))) or "",
               "_sort": float("inf")}
        if not good.empty:
            med = float(good.seconds.median())
            row.update({
                "median s": f"{med:.3g}",
                "min–max s": f"{good.seconds.min():.3g}–{good.seconds.max():.3g}",
                "median peak RSS MiB": f"{good.peak_rss_mib.median():.0f}",
                "median RSS growth MiB": f"{good.rss_growth_mib.median():.0f}",
                "time / entryprune": (f"{med / ref_median:.3g}" if np.isfinite(ref_median)
                                      and ref_median > 0 else ""),
                "_sort": med,
            })
            gpu = pd.to_numeric(good.peak_gpu_mib, errors="coerce").dropna()
            if not gpu.empty:
                row["median peak GPU MiB"] = f"{gpu.median():.0f}"
        out.append(row)
    out.sort(key=lambda r: r["_sort"])
    return out


SUMMARY_COLUMNS = ["selector", "median s", "min–max s", "time / entryprune",
                   "median peak RSS MiB", "median RSS growth MiB", "median peak GPU MiB",
                   "device", "runs"]


def render_summary(df: pd.DataFrame, header: dict) -> str:
    """The markdown report: settings, the table, and the message of each non-ok run."""
    lines = ["# Selection time and peak memory per selector", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += [
        "",
        "Times are wall-clock seconds of `fit` alone; `time / entryprune` is the median time "
        "over EntryPrune's (below 1: faster). Peak RSS is the fit's child process "
        "(interpreter, torch and the data included); RSS growth is peak minus the RSS just "
        "before `fit`. Medians and ranges are over the ok repetitions.",
        "",
        markdown_table(summarise(df), SUMMARY_COLUMNS),
    ]
    bad = df[df.status != "ok"].drop_duplicates(["selector", "status", "error"])
    if not bad.empty:
        lines += ["", "Runs that were not ok:", ""]
        lines += [f"- {r.selector} rep {r.rep}: {r.status}: {r.error}"
                  for r in bad.itertuples()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.reps < 1:
        raise SystemExit("--reps must be >= 1")

    known = list_selector_configs()
    if args.selectors:
        names = [s.strip() for s in args.selectors.split(",") if s.strip()]
        unknown = [s for s in names if s not in known]
        if unknown:
            raise SystemExit(f"unknown selector(s) {unknown}; known: {', '.join(known)}")
    else:
        names = [s for s in known if s not in EXCLUDED_BY_DEFAULT]

    if args.dataset is None:
        dataset, (X, y, ds_overrides) = _default_dataset()
    else:
        dataset = args.dataset
        X, y, ds_overrides = load_dataset(dataset)

    cli = parse_overrides(args.override)
    for name in sorted(set(cli) - set(names)):
        print(f"note: --override for {name} ignored ({name} is not measured)", flush=True)
    specs, applied = {}, {}
    for name in names:
        # The dataset's own settings first (as in a run), the command line on top.
        specs[name] = selector_spec(name, cli.get(name, {}), sources=[ds_overrides])
        plain = selector_spec(name)
        applied[name] = " ".join(f"{k}={v}" for k, v in specs[name].items()
                                 if plain.get(k) != v)

    threads = args.threads or available_cpus()
    n_train, n_features = (int(s) for s in X.shape)
    print(f"{dataset}: {n_train} training rows x {n_features} features, K={args.k}, "
          f"{len(names)} selector(s) x {args.reps} rep(s), {threads} thread(s), "
          f"timeout {args.timeout_s:g} s per fit", flush=True)

    common = dict(dataset=dataset, n_train=n_train, n_features=n_features, k=args.k,
                  threads=threads, git_commit=git_commit(), versions=versions())
    rows: list[dict] = []
    timed_out: dict[str, int] = {}
    order = interleaved_order(names, args.reps, seed=args.seed)
    with StagedData(X, y) as data:
        for i, (rep, name) in enumerate(order):
            seed = args.seed + rep
            base = dict(common, selector=name, rep=rep, position=i % len(names), seed=seed,
                        overrides=applied[name], timestamp=utc_now())
            if name in timed_out:
                row = dict(base, status="skipped",
                           error=f"timed out in rep {timed_out[name]}")
            else:
                res = measure_fit(specs[name], data, args.k, device=args.device, seed=seed,
                                  threads=threads, timeout_s=args.timeout_s)
                row = dict(base, **res.as_dict())
                if res.status == "timeout":
                    timed_out[name] = rep
            rows.append(row)
            atomic_write_csv(pd.DataFrame(rows, columns=COLUMNS), args.out)
            print(_progress(i + 1, len(order), row), flush=True)

    df = pd.DataFrame(rows, columns=COLUMNS)
    header = {"dataset": f"{dataset} ({n_train} training rows x {n_features} features)",
              "K": args.k, "repetitions": args.reps, "threads per fit": threads,
              "device requested": args.device, "timeout per fit": f"{args.timeout_s:g} s",
              "overrides": "; ".join(f"{n}: {a}" for n, a in applied.items() if a) or "none",
              "git commit": common["git_commit"], "finished": utc_now(),
              "versions": common["versions"]}
    report = render_summary(df, header)
    md_path = args.out.with_suffix(".md")
    atomic_write_text(md_path, report)
    print()
    print(report)
    print(f"rows: {args.out}\nsummary: {md_path}")
    return 1 if (df.status == "failed").any() else 0


def _progress(i: int, total: int, row: dict) -> str:
    head = f"[{i}/{total}] rep {row['rep']} {row['selector']}: {row['status']}"
    if row["status"] == "ok":
        return (f"{head} {row['seconds']:.3g} s, peak {row['peak_rss_mib']:.0f} MiB "
                f"(+{row['rss_growth_mib']:.0f}), {row['device']}")
    return f"{head} ({row.get('error', '')})"


if __name__ == "__main__":
    sys.exit(main())
