"""EntryPrune speed: selection bookkeeping versus bare training, and end-to-end fits.

Two measurements (issue "EntryPrune: the method"; targets: bookkeeping at most 15 % of bare
training on long data and at most 30 % on wide data):

``loop``
    The EntryPrune training loop against the same number of *bare* training steps: the
    same network (``m = K + ceil(c_ratio (D - K))`` inputs, 100 hidden units), the same
    mini-batches (row gathers, or the whole matrix when the batch is all the data) and
    Adam steps, without the selection bookkeeping (gradient accumulation, scoring, top-K,
    refill of candidate columns and weights). Two loops are
    timed: ``fixed`` (the bookkeeping alone, ``fit_mode="fixed"``) and ``stage1`` (plus the
    validation loss of the top-K subset and the one host read per update that stage 1's
    stopping rules need). Bare and EntryPrune runs alternate, ``--reps`` times each, and
    the median is reported. The shapes are those of the paper's data regimes, on random
    data (the cost of a step does not depend on the values): ``long`` is MNIST-shaped
    (48 000 x 784, c_ratio 0.2, 100 mini-batches per update) and ``wide`` Arcene-shaped
    (160 x 10 000, c_ratio 0.5, 5 mini-batches per update, full batch).
``end_to_end``
    ``EntryPruneSelector(n_features_to_select=50)`` with the paper's settings and two-stage
    protocol on real data (``protocol=paper`` split and scaling), timing the whole ``fit``
    (both stages) and scoring the selected columns with ``SVC()``. Datasets whose files are
    absent here are reported as ``missing`` with the loader's message.

Writes ``results/perf/entryprune.csv`` (tidy, one row per measurement) and prints markdown
tables. Run with ``make bench-entryprune`` or ``python scripts/bench_entryprune.py --help``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.markdown import markdown_table  # noqa: E402
from bench.provenance import git_commit, machine  # noqa: E402
from bench.records import atomic_write_csv, error_text  # noqa: E402
from entryprune.engine import Engine, Trace  # noqa: E402
from entryprune.selector import EntryPruneSelector, input_size  # noqa: E402
from selector_contract import resolve_device  # noqa: E402

#: Data shapes of the two regimes for the loop benchmark: (n_train, D).
SHAPES = {"long": (48_000, 784), "wide": (160, 10_000)}
DATASETS = ("digits", "madelon", "coil20", "arcene", "mnist")


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _make_engine(X, y, n_classes, K, regime, seed, dev, X_val=None, y_val=None):
    """A fresh EntryPrune engine with the paper's settings for ``regime``."""
    settings = EntryPruneSelector(K, regime=regime).engine_settings(*X.shape)
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    return Engine(settings, X, y, n_classes, gen, dev, X_val, y_val)


def _bare_steps(engine, n_steps):
    """The Adam steps of ``engine.run`` on the same batches, without selection bookkeeping."""
    # Engine.epoch_batches is the one source of the steps' data for both loops, so the
    # bare loop does exactly the data work EntryPrune does (on a full batch: no shuffle, no
    # row copy) and the difference is the bookkeeping alone.
    steps = 0
    while True:
        for x, y in engine.epoch_batches():
            engine.net.step(x, y)
            steps += 1
            if steps == n_steps:
                return


def _timed(fn, dev):
    _sync(dev)
    t0 = time.perf_counter()
    fn()
    _sync(dev)
    return time.perf_counter() - t0


def bench_loop(regime, *, K, n_updates, reps, dev, seed=0):
    """Median seconds of bare steps and of the EntryPrune loops (fixed, stage1)."""
    n, D = SHAPES[regime]
    gen = np.random.default_rng(seed)
    C = 10
    X = torch.from_numpy(gen.random((n, D), dtype=np.float32)).to(dev)
    y = torch.from_numpy(gen.integers(0, C, n)).to(dev)
    n_val = max(1, n // 4)  # stage 1 validates on a fifth of the training data (80/20)
    X_val, y_val = X[:n_val].clone(), y[:n_val].clone()
    times = {"bare": [], "fixed": [], "stage1": []}
    info = {}

    def run_fixed():
        engine = _make_engine(X, y, C, K, regime, seed, dev)
        info.update(m=engine.m, n_mb=engine.n_mb, batch=engine.batch)
        return engine

    def run_stage1():
        engine = _make_engine(X, y, C, K, regime, seed, dev, X_val, y_val)
        trace = Trace()

        def before(e):  # stage 1's bookkeeping: subset validation loss + one host read
            trace.record(e, 1, val_loss=e.validation_loss())
            return False
        return engine, before

    run_fixed()  # warm-up (allocations, kernel selection), not timed
    for _ in range(reps):
        r = run_fixed()
        steps = n_updates * r.n_mb
        times["bare"].append(_timed(lambda r=r, s=steps: _bare_steps(r, s), dev))
        r = run_fixed()
        times["fixed"].append(_timed(lambda r=r: r.run(max_updates=n_updates), dev))
        r, before = run_stage1()
        times["stage1"].append(
            _timed(lambda r=r, b=before: r.run(max_updates=n_updates, before_update=b), dev))
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for loop in ("fixed", "stage1"):
        rows.append(dict(
            benchmark="loop", case=f"{regime}/{loop}", dataset=f"random {n}x{D}",
            n_train=n, n_features=D, k=K, m=info["m"], n_mb=info["n_mb"],
            batch_size=info["batch"], steps=n_updates * info["n_mb"], reps=reps,
            seconds=med[loop], seconds_min=min(times[loop]), seconds_max=max(times[loop]),
            bare_seconds=med["bare"], overhead=med[loop] / med["bare"] - 1.0,
            target=0.15 if regime == "long" else 0.30, status="ok"))
    return rows


def bench_end_to_end(name, *, K, seeds, dev):
    """Paper-protocol EntryPrune fits on one dataset; one row per seed."""
    from sklearn.svm import SVC

    from datasets.base import make_split
    from datasets.registry import load_dataset

    try:
        ds = load_dataset(name)
    except Exception as exc:  # no file here: say which, do not stop the benchmark
        msg = error_text(exc, limit=300)
        return [dict(benchmark="end_to_end", case=name, dataset=name, k=K, status="missing",
                     error=msg)]
    rows = []
    for seed in seeds:
        split = make_split(ds, "paper", seed)
        sel = EntryPruneSelector(K, random_state=seed, device=str(dev))
        _sync(dev)
        t0 = time.perf_counter()
        sel.fit(split.X_train, split.y_train)
        _sync(dev)
        seconds = time.perf_counter() - t0
        idx = np.flatnonzero(sel.get_support())
        svm = SVC().fit(split.X_train[:, idx], split.y_train)
        acc = float((svm.predict(split.X_test[:, idx]) == split.y_test).mean())
        rows.append(dict(
            benchmark="end_to_end", case=name, dataset=name, seed=seed,
            n_train=split.X_train.shape[0], n_features=ds.n_features, k=K,
            m=input_size(K, ds.n_features, sel.c_ratio_), n_mb=sel.n_mb_,
            regime=sel.regime_, seconds=seconds, stage1_updates=sel.stage1_updates_,
            best_update=sel.best_update_, svm_accuracy=acc, status="ok"))
        print(f"  {name} seed {seed}: {seconds:.1f} s, stage 1 {sel.stage1_updates_} updates, "
              f"best {sel.best_update_}, SVM {100 * acc:.2f}%", flush=True)
    return rows


LOOP_COLUMNS = ["case", "data", "m", "n_mb", "steps", "bare s", "EntryPrune s", "overhead",
                "target"]
END_TO_END_COLUMNS = ["dataset", "n_train x D", "regime", "seeds",
                      "selection s (median, min-max)", "stage 1 updates", "best update",
                      "SVM acc % (mean ± sd)"]


def _tables(df):
    """Markdown tables of the loop and end-to-end rows; a dataset absent here says so."""
    out = []
    loop = df[df.benchmark == "loop"]
    if not loop.empty:
        rows = []
        for r in loop.itertuples():
            ok = "met" if r.overhead <= r.target else "MISSED"
            rows.append({"case": r.case, "data": r.dataset, "m": r.m, "n_mb": r.n_mb,
                         "steps": r.steps, "bare s": f"{r.bare_seconds:.2f}",
                         "EntryPrune s": f"{r.seconds:.2f}",
                         "overhead": f"{100 * r.overhead:+.1f}%",
                         "target": f"<= {100 * r.target:.0f}% ({ok})"})
        out.append(markdown_table(rows, LOOP_COLUMNS))
    e2e = df[df.benchmark == "end_to_end"]
    if not e2e.empty:
        rows = []
        for name, g in e2e.groupby("case", sort=False):
            if (g.status != "ok").all():
                rows.append({"dataset": name, "n_train x D": "missing here"})
                continue
            g = g[g.status == "ok"]
            acc = 100 * g.svm_accuracy
            sd = f" ± {acc.std():.2f}" if len(g) > 1 else ""
            rows.append({
                "dataset": name,
                "n_train x D": f"{int(g.n_train.iloc[0])} x {int(g.n_features.iloc[0])}",
                "regime": g.regime.iloc[0], "seeds": len(g),
                "selection s (median, min-max)": (f"{g.seconds.median():.1f} "
                                                  f"({g.seconds.min():.1f}-"
                                                  f"{g.seconds.max():.1f})"),
                "stage 1 updates": int(g.stage1_updates.median()),
                "best update": int(g.best_update.median()),
                "SVM acc % (mean ± sd)": f"{acc.mean():.2f}{sd}"})
        out += ["", markdown_table(rows, END_TO_END_COLUMNS)]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3, help="repetitions of each loop timing")
    ap.add_argument("--updates-long", type=int, default=20,
                    help="updates per long-data loop timing (x 100 mini-batches)")
    ap.add_argument("--updates-wide", type=int, default=400,
                    help="updates per wide-data loop timing (x 5 mini-batches)")
    ap.add_argument("--regimes", default="long,wide")
    ap.add_argument("--datasets", default=",".join(DATASETS),
                    help="end-to-end datasets ('' for none)")
    ap.add_argument("--seeds", default="0", help="end-to-end seeds, e.g. 0,1,2")
    ap.add_argument("--threads", type=int, default=None, help="torch threads")
    ap.add_argument("--out", default=str(ROOT / "results" / "perf" / "entryprune.csv"))
    ap.add_argument("--append", action="store_true",
                    help="add these rows to an existing --out file (for runs in parts)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    meta = dict(device=str(dev), threads=torch.get_num_threads(), torch=torch.__version__,
                machine=machine(), git_commit=git_commit(),
                timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    print(f"EntryPrune benchmark on {dev} ({meta['threads']} torch threads)", flush=True)
    rows = []
    for regime in [r for r in args.regimes.split(",") if r]:
        print(f"loop: {regime} {SHAPES[regime]} ...", flush=True)
        n_updates = args.updates_long if regime == "long" else args.updates_wide
        rows += bench_loop(regime, K=args.k, n_updates=n_updates, reps=args.reps, dev=dev)
    for name in [d for d in args.datasets.split(",") if d]:
        print(f"end to end: {name} ...", flush=True)
        rows += bench_end_to_end(name, K=args.k, seeds=seeds, dev=dev)
    df = pd.DataFrame([dict(r, **meta) for r in rows])
    out = Path(args.out)
    if args.append and out.exists():
        df = pd.concat([pd.read_csv(out), df], ignore_index=True)
    atomic_write_csv(df, out)
    print()
    print(_tables(df))
    print(f"\nrows -> {out}")
    return 0  # a benchmark reports numbers; the tables say whether a target was met


if __name__ == "__main__":
    raise SystemExit(main())
