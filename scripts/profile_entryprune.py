"""Where EntryPrune's time goes: the torch profiler over a fixed-length fit.

    python scripts/profile_entryprune.py                       # COIL-20-shaped, 1152 x 1024
    python scripts/profile_entryprune.py --shape 48000,784     # MNIST-shaped
    python scripts/profile_entryprune.py --shape 160,10000 --threads 1

The profile depends on the shape of the data, not its values, so the data is random
(seeded). The fit runs in ``fixed`` mode for ``--updates`` updates with the paper's regime
settings for that shape, after one warm-up fit. Prints the operators by self CPU time and
the share of the time spent in matrix products (``mm``/``addmm``): when that share is
high, the loop is bound by arithmetic, not by per-step overhead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from entryprune.selector import EntryPruneSelector  # noqa: E402

MATMUL_OPS = ("aten::mm", "aten::addmm")


def _shape(text: str) -> tuple[int, int]:
    try:
        n, d = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shape must be 'n,D' (two integers); got {text!r}") from None
    if n < 2 or d < 2:
        raise argparse.ArgumentTypeError(f"--shape needs n >= 2 and D >= 2; got {text!r}")
    return n, d


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", type=_shape, default=(1152, 1024), help="n,D (default 1152,1024)")
    p.add_argument("--k", type=int, default=50, help="budget K (default 50)")
    p.add_argument("--classes", type=int, default=20, help="number of classes (default 20)")
    p.add_argument("--updates", type=int, default=10, help="updates profiled (default 10)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default torch's)")
    p.add_argument("--rows", type=int, default=15, help="operators listed (default 15)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    n, D = args.shape
    rng = np.random.default_rng(0)
    X = rng.random((n, D), dtype=np.float32)
    y = np.arange(n) % args.classes

    def fit():
        return EntryPruneSelector(args.k, fit_mode="fixed", n_updates=args.updates,
                                  device="cpu", random_state=0).fit(X, y)

    fit()  # warm-up: first-call costs (allocator, kernels) are not the loop's
    t0 = time.perf_counter()
    sel = fit()
    wall = time.perf_counter() - t0
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fit()
    steps = args.updates * sel.n_mb_
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    matmul = sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS)
    print(events.table(sort_by="self_cpu_time_total", row_limit=args.rows))
    print(f"shape {n} x {D}, K={args.k}, regime {sel.regime_}, {steps} steps, "
          f"{torch.get_num_threads()} thread(s): {wall / steps * 1e3:.3f} ms per step "
          f"(whole fit, unprofiled); matrix products {matmul / total:.0%} of the "
          f"profiled operator time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
