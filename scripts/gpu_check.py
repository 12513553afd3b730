"""GPU readiness in one command: the CUDA tests, then EntryPrune on MNIST at K=50 on the GPU.

    make gpu-check                      # = python scripts/gpu_check.py
    python scripts/gpu_check.py --dataset digits --k 10 --device cpu --skip-tests   # dry run

Prints what README's GPU section needs: the device, the ``gpu``-marked tests' outcome, the
selection time of EntryPrune at the paper's settings (both stages of its protocol, the
published split of seed 0, timed around ``fit`` after a CUDA synchronise), the time of each
stage, the peak GPU memory of torch's allocator and the SVM accuracy of the K columns on the
test split. The row is written atomically to ``--out`` (CSV), beside the commit and the
library versions. The target of the EntryPrune paper's setting is MNIST in under 60 s.

A requested ``cuda`` device that is not there is an error (exit 2) rather than a silent CPU
run, so the printed numbers are always the device they name.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.factory import build_selector, parse_overrides, selector_spec  # noqa: E402
from bench.markdown import markdown_table  # noqa: E402
from bench.provenance import derive_seed, git_commit, utc_now, versions  # noqa: E402
from bench.records import atomic_write_csv  # noqa: E402
from datasets.base import make_split  # noqa: E402
from datasets.registry import dataset_selector_overrides, load_dataset  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", help="dataset config (default: mnist)")
    parser.add_argument("--k", type=int, default=50, help="feature budget (default: 50)")
    parser.add_argument("--device", default="cuda", help="cuda | cuda:N | cpu (default: cuda)")
    parser.add_argument("--seed", type=int, default=0, help="split and selector seed")
    parser.add_argument("--override", action="append", default=[],
                        metavar="entryprune.PARAM=VALUE",
                        help="selector setting, as in scripts/bench_selectors.py")
    parser.add_argument("--skip-tests", action="store_true",
                        help="do not run the gpu-marked tests first")
    parser.add_argument("--out", default=str(ROOT / "results" / "perf" / "gpu_check.csv"))
    return parser.parse_args(argv)


def run_gpu_tests() -> str:
    """Run ``pytest -m gpu`` and return its closing summary line."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "gpu", "-q",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()]
    summary = lines[-1] if lines else f"pytest printed nothing (exit {proc.returncode})"
    if proc.returncode not in (0, 5):  # 5: no test collected
        print(proc.stdout[-4000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
    return f"{summary} (exit {proc.returncode})"


def check_device(device: str):
    """The torch device for ``device``; SystemExit(2) when CUDA is asked for and absent."""
    from selector_contract import resolve_device

    try:
        return resolve_device(device)
    except ValueError as exc:
        print(f"gpu_check: {exc}; run it on a machine with a GPU, or pass --device cpu for "
              "a dry run", file=sys.stderr)
        raise SystemExit(2) from None


def stage_seconds(history: pd.DataFrame) -> dict:
    """Seconds to the end of each stage's last update, from ``history_``'s ``seconds`` (one
    clock per fit, so the stage-1 figure includes the set-up before its first update)."""
    history = pd.DataFrame({key: history[key] for key in ("stage", "seconds")})
    out, start = {}, 0.0
    for stage, rows in history.groupby("stage", sort=False):
        end = float(rows["seconds"].max())
        out[f"stage{stage}_seconds"] = end - start
        start = end
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    from sklearn.svm import SVC

    dev = check_device(args.device)
    on_cuda = dev.type == "cuda"
    name = torch.cuda.get_device_name(dev) if on_cuda else "cpu"
    print(f"device {dev} ({name}); torch {torch.__version__}, CUDA {torch.version.cuda}")

    tests = "not run (--skip-tests)" if args.skip_tests else run_gpu_tests()
    print(f"gpu-marked tests: {tests}")

    overrides = parse_overrides(args.override).get("entryprune", {})
    spec = selector_spec("entryprune", overrides,
                         sources=[dataset_selector_overrides(args.dataset)])
    data = load_dataset(args.dataset)
    split = make_split(data, "paper", args.seed)
    sel = build_selector(spec, args.k, random_state=derive_seed(args.dataset, "entryprune",
                                                                args.seed),
                         device=str(dev))
    if on_cuda:
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    sel.fit(split.X_train, split.y_train)
    if on_cuda:
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(dev) / 2**20 if on_cuda else np.nan
    idx = np.flatnonzero(sel.get_support())
    svm = SVC().fit(split.X_train[:, idx], split.y_train)
    accuracy = float((svm.predict(split.X_test[:, idx]) == split.y_test).mean())

    row = dict(dataset=args.dataset, k=args.k, seed=args.seed, device=sel.device_,
               device_name=name, select_seconds=seconds, **stage_seconds(sel.history_),
               best_update=int(sel.best_update_), stage1_updates=int(sel.stage1_updates_),
               peak_gpu_mib=peak, svm_accuracy=accuracy, n_train=int(split.X_train.shape[0]),
               gpu_tests=tests, overrides=" ".join(args.override), git_commit=git_commit(),
               versions=versions(), started_at=utc_now())
    atomic_write_csv(pd.DataFrame([row]), args.out)
    shown = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()
             if k not in ("versions", "started_at")}
    print(markdown_table([{"setting": k, "value": v} for k, v in shown.items()],
                         ["setting", "value"]))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
