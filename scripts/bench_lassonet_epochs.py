"""Seconds per training epoch of LassoNet at each selector config's settings.

    python scripts/bench_lassonet_epochs.py                       # lassonet vs lassonet_bench
    python scripts/bench_lassonet_epochs.py --datasets coil20 --epochs 10,40

A LassoNet fit is a sequence of epochs (the dense model, then each path point), so the cost
of one epoch at a config's settings, times the epochs a fit runs, is its fit time. This
says, without fitting the path, whether a setting can finish within a run's ``timeout_s``
(the reason ``experiment=fidelity`` leaves ``lassonet_bench`` out on Prostate_GE and Arcene).

For every (dataset, selector) it builds the package estimator exactly as the selector does
(:meth:`baselines.lassonet.LassoNetSelector.package_estimator`, the dataset's per-selector
settings applied) on the training rows of split ``paper``/seed 0, and trains only the dense
model: one untimed epoch (torch's one-time set-up), then E1 and E2 epochs with early
stopping off. Seconds per epoch is the difference of the two times over E2 - E1, so
building the model cancels out. One torch thread (``--threads``), as the fidelity runs use.

Outputs: one CSV row per (dataset, selector) (``--out``, default
``results/perf/lassonet_epochs.csv``, written atomically) and a printed table. The load of
the machine shows in the numbers; compare them only within one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.factory import build_selector, selector_spec  # noqa: E402
from bench.markdown import markdown_table  # noqa: E402
from bench.provenance import git_commit, utc_now  # noqa: E402
from bench.records import atomic_write_csv  # noqa: E402
from datasets.base import make_split  # noqa: E402
from datasets.registry import dataset_selector_overrides, load_dataset  # noqa: E402


def seconds_per_epoch(selector, X, y, epochs: tuple[int, int]) -> tuple[float, list[float]]:
    """Per-epoch seconds of ``selector``'s dense model, and the two timed runs."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    times = []
    # the first run of a process pays torch's one-time set-up: an untimed epoch first
    for e in (1, *epochs):
        # patience above the epoch count: every epoch runs; lambda_seq=[] trains the dense
        # model only (the package's documented way)
        model = selector.package_estimator(X.shape[1], n_iters=(int(e), 1),
                                           patience=(int(e) + 1, 1))
        t0 = time.perf_counter()
        model.path(X, y, lambda_seq=[], return_state_dicts=False)
        times.append(time.perf_counter() - t0)
    times = times[1:]
    return (times[1] - times[0]) / (epochs[1] - epochs[0]), times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="prostate_ge,arcene,coil20,madelon")
    p.add_argument("--selectors", default="lassonet,lassonet_bench")
    p.add_argument("--epochs", default="5,25", help="E1,E2 (default 5,25)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(ROOT / "results" / "perf" / "lassonet_epochs.csv"))
    args = p.parse_args(argv)
    epochs = tuple(int(e) for e in args.epochs.split(","))
    if len(epochs) != 2 or not 0 < epochs[0] < epochs[1]:
        p.error(f"--epochs must be E1,E2 with 0 < E1 < E2; got {args.epochs!r}")

    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for name in [d for d in args.datasets.split(",") if d]:
        split = make_split(load_dataset(name), "paper", 0)
        for sel_name in [s for s in args.selectors.split(",") if s]:
            spec = selector_spec(sel_name, sources=[dataset_selector_overrides(name)])
            sel = build_selector(spec, 50, random_state=0, device="cpu")
            per_epoch, times = seconds_per_epoch(sel, split.X_train, split.y_train, epochs)
            rows.append(dict(dataset=name, selector=sel_name,
                             n_train=int(split.X_train.shape[0]),
                             n_features=int(split.X_train.shape[1]),
                             hidden=" ".join(map(str, sel.hidden_dims_)),
                             batch_size="full" if sel.batch_size is None else sel.batch_size,
                             seconds_per_epoch=per_epoch, epochs=f"{epochs[0]},{epochs[1]}",
                             seconds=" ".join(f"{t:.4f}" for t in times),
                             threads=args.threads, git_commit=git_commit(),
                             measured_at=utc_now()))
            print(f"{name}/{sel_name}: {per_epoch:.4f} s per epoch", flush=True)
    df = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_csv(df, args.out)
    show = df.assign(seconds_per_epoch=df.seconds_per_epoch.map(lambda v: f"{v:.4f}"))
    print(markdown_table(show, ["dataset", "selector", "n_train", "n_features", "hidden",
                                "batch_size", "seconds_per_epoch"]))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
