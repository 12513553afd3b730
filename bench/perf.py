"""Speed and memory of one selector fit, measured in a fresh child process.

Each measurement starts its own Python process, so the peak resident set size (RSS) it
reports belongs to that fit alone and not to whatever the calling process held before
(earlier fits, other datasets, a plotting library). The child

1. sets its thread counts (torch intra-op threads, and the OpenMP/BLAS pools through the
   environment, before any library reads it),
2. imports torch and loads the data from ``.npy`` files written by the parent (``np.load``
   reads straight into the array, so loading adds no transient copy to the peak),
3. builds the selector from its spec exactly as the runner does
   (:func:`bench.factory.build_selector`: the budget, and the seed and device where the
   class takes them),
4. records its RSS just before ``fit`` (the *baseline*: interpreter, torch, scikit-learn
   and the data, a few hundred MiB that every selector pays) and resets the kernel's RSS
   high-water mark to it, and
5. times ``fit`` alone with ``time.perf_counter`` (after a CUDA synchronise on the GPU, so
   queued kernels are counted) and reads the high-water mark again: the peak of the fit.

On Linux the peak is ``VmHWM`` of ``/proc/self/status`` rather than
``getrusage(RUSAGE_SELF).ru_maxrss``: the latter also keeps the high-water mark of the
memory image the child was forked from before ``exec``, i.e. the *parent's* RSS, so a
parent holding a large dataset would show up as the child's peak. Elsewhere ``ru_maxrss``
is the fallback. ``rss_growth_mib = peak - baseline`` is what the fit itself added.
On CUDA, ``peak_gpu_mib`` is ``torch.cuda.max_memory_allocated``: memory taken by torch's
allocator only (XGBoost's GPU memory, for one, is not seen).

The parent enforces a wall-clock limit on the fit: the clock starts when the child says
the fit begins (start-up, imports and data loading are not counted) and at the limit the
child's whole process group is killed, so a fit stuck in one long C call is stopped too,
unlike the ``SIGALRM`` limit of the runner.

The module runs past 400 lines because both ends of a measurement live here: the parent
(:func:`measure_fit`, its supervision and the kill at the limit) and the child
(``python -m bench.perf``) speak one line protocol, and keeping them side by side keeps it
in one place; the two small analysis helpers at the end serve the same benchmark scripts.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

# The spec helpers are re-exported: measure_fit takes a config name or a spec they made,
# so they belong to this module's interface.
from bench.factory import (
    CONFIG_DIR,
    build_selector,
    list_selector_configs,
    parse_overrides,
    selector_spec,
)
from bench.records import error_text
from bench.workers import available_cpus

__all__ = [
    "CONFIG_DIR",
    "FitResult",
    "StagedData",
    "fit_exponent",
    "interleaved_order",
    "list_selector_configs",
    "measure_fit",
    "parse_overrides",
    "selector_spec",
]

ROOT = Path(__file__).resolve().parent.parent
_MIB = 1024.0 * 1024.0
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


# -- data ---------------------------------------------------------------------------------
class StagedData:
    """``X`` and ``y`` written once as ``.npy`` files, for measurement children to load.

    Passing arrays through a pipe would make the child hold the pickled bytes and the
    array at once, which would inflate the very peak being measured; ``np.load`` of a
    ``.npy`` file reads into the final buffer. Staging once also spares a benchmark that
    fits many selectors on the same data from writing it again for every fit.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Stored as float32 (what every selector here works in).
    y : array-like of shape (n_samples,)
    directory : path, optional
        Where to write; by default a temporary directory removed by :meth:`close`.
    """

    def __init__(self, X, y, directory: Path | str | None = None):
        X = np.ascontiguousarray(X, dtype=np.float32)
        y = np.asarray(y)
        if X.ndim != 2 or y.shape[0] != X.shape[0]:
            raise ValueError(f"X must be 2-D with one label per row; got {X.shape}, {y.shape}")
        self._tmp = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="perf-data-")
            directory = self._tmp.name
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.x_path = self.directory / "X.npy"
        self.y_path = self.directory / "y.npy"
        np.save(self.x_path, X)
        np.save(self.y_path, y)
        self.n_samples, self.n_features = (int(s) for s in X.shape)

    def close(self) -> None:
        """Remove the files (only when the directory was a temporary one)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> StagedData:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- the measurement ----------------------------------------------------------------------
@dataclass
class FitResult:
    """What one measured fit gave.

    Attributes
    ----------
    status : {"ok", "failed", "timeout"}
    error : str
        Empty when ok; the exception, the time limit or how the child died otherwise.
    seconds : float
        Wall-clock seconds of ``fit`` alone (up to the kill for a timeout, up to the
        exception for a failure; NaN when the fit never started).
    peak_rss_mib : float
        Peak RSS of the child (NaN when unknown).
    baseline_rss_mib : float
        RSS of the child just before ``fit``: interpreter, libraries, data.
    rss_growth_mib : float
        ``peak_rss_mib - baseline_rss_mib``.
    peak_gpu_mib : float or None
        Peak memory of torch's CUDA allocator during the fit; None off CUDA.
    device : str
        The fitted selector's ``device_`` (``cpu`` when it has none); for a fit that did
        not finish, the device it was set to run on.
    threads : int
    seed : int
    """

    status: str
    error: str = ""
    seconds: float = math.nan
    peak_rss_mib: float = math.nan
    baseline_rss_mib: float = math.nan
    rss_growth_mib: float = math.nan
    peak_gpu_mib: float | None = None
    device: str = ""
    threads: int = 0
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _vm_hwm_mib(pid: int) -> float:
    """Peak RSS so far of a live process from /proc (Linux); NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return math.nan


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the child and anything it started (it leads its own session)."""
    # start_new_session makes the child a group leader before exec, so its pid is the
    # group id from the start, even for a limit that strikes during start-up.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


def _tail(path: Path, n_chars: int = 400) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return " ".join(text[-n_chars:].split())


def _death_message(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        sig = -returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"child was killed by {name}{hint}"
    return f"child exited with code {returncode} before reporting a result"


def measure_fit(selector: str | Mapping[str, Any], data: StagedData | tuple, k: int, *,
                overrides: Mapping[str, Any] | None = None, device: str | None = "auto",
                seed: int = 0, threads: int | None = None, timeout_s: float | None = None,
                startup_timeout_s: float = 600.0) -> FitResult:
    """Fit one selector in a fresh child process and measure time and memory.

    Parameters
    ----------
    selector : str or mapping
        A selector config name (``configs/selector/<name>.yaml``) or a spec returned by
        :func:`selector_spec`.
    data : StagedData or (X, y)
        Arrays are staged to a temporary directory for this call only; stage once with
        :class:`StagedData` when measuring many fits on the same data.
    k : int
        The budget, ``n_features_to_select``.
    overrides : mapping, optional
        Parameter overrides (only with a config name).
    device : str or None, default="auto"
        Passed to selectors whose ``get_params`` has ``device``; None keeps the default.
    seed : int, default=0
        Passed as ``random_state`` to selectors that take it.
    threads : int, optional
        Torch intra-op and OpenMP/BLAS threads of the child; default all usable cores.
    timeout_s : float, optional
        Wall-clock limit on ``fit``; None or <= 0 for none.
    startup_timeout_s : float, default=600
        Limit on the child's start-up (imports, data loading, building the selector).

    Returns
    -------
    FitResult
    """
    if isinstance(selector, str):
        spec = selector_spec(selector, overrides)
    else:
        if overrides:
            raise ValueError("overrides apply to a config name; merge them into the spec")
        spec = dict(selector)
    threads = int(threads) if threads else available_cpus()
    staged = data if isinstance(data, StagedData) else StagedData(*data)
    try:
        return _run_child(spec, staged, int(k), device, int(seed), threads, timeout_s,
                          startup_timeout_s)
    finally:
        if staged is not data:
            staged.close()


def _run_child(spec, staged, k, device, seed, threads, timeout_s, startup_timeout_s):
    limit = float(timeout_s) if timeout_s is not None and timeout_s > 0 else None
    with tempfile.TemporaryDirectory(prefix="perf-fit-") as work:
        work = Path(work)
        task = dict(spec=spec, x_path=str(staged.x_path), y_path=str(staged.y_path), k=k,
                    device=device, seed=seed, threads=threads)
        (work / "task.json").write_text(json.dumps(task))
        env = dict(os.environ)
        env.update({name: str(threads) for name in _THREAD_ENV})
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH"))
                                            if p)
        read_fd, write_fd = os.pipe()
        log_path = work / "child.log"
        try:
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "bench.perf", str(work / "task.json"),
                     str(write_fd)],
                    cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    pass_fds=(write_fd,), start_new_session=True)
        except BaseException:
            os.close(read_fd)
            os.close(write_fd)
            raise
        os.close(write_fd)  # only the child writes; EOF then means the child is gone
        base = FitResult(status="failed", threads=threads, seed=seed)
        try:
            return _supervise(proc, read_fd, base, limit, startup_timeout_s, log_path)
        finally:
            os.close(read_fd)
            if proc.poll() is None:
                _kill_group(proc)


def _supervise(proc, read_fd, res, limit, startup_timeout_s, log_path) -> FitResult:
    """Read the child's messages until it reports, dies or runs out of time."""
    buf = b""
    started = time.monotonic()
    fit_started = None
    while True:
        now = time.monotonic()
        if fit_started is None:
            deadline = started + startup_timeout_s
        else:
            deadline = fit_started + limit if limit is not None else None
        wait = None if deadline is None else max(0.0, deadline - now)
        ready, _, _ = select.select([read_fd], [], [], wait)
        if not ready:
            if fit_started is None:
                _kill_group(proc)
                res.error = f"child did not start the fit within {startup_timeout_s:g} s"
                return res
            # Read the high-water mark before the kill: it is the peak so far.
            res.peak_rss_mib = _vm_hwm_mib(proc.pid)
            _kill_group(proc)
            res.status = "timeout"
            res.seconds = time.monotonic() - fit_started
            res.rss_growth_mib = res.peak_rss_mib - res.baseline_rss_mib
            res.error = f"fit exceeded timeout_s={limit:g} (child killed)"
            return res
        chunk = os.read(read_fd, 65536)
        if not chunk:  # EOF: the child exited without a final message
            proc.wait()
            res.error = _death_message(proc.returncode)
            tail = _tail(log_path)
            if tail:
                res.error += f"; log: ...{tail}"
            return res
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg["event"] == "ready":
                fit_started = time.monotonic()
                res.baseline_rss_mib = msg["baseline_rss_mib"]
                res.device = msg["device"]
            elif msg["event"] == "done":
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:  # a leftover worker keeps it alive
                    _kill_group(proc)
                for key in ("status", "error", "seconds", "peak_rss_mib", "baseline_rss_mib",
                            "peak_gpu_mib", "device"):
                    if key not in msg:
                        continue
                    value = msg[key]
                    # JSON has no NaN; None means "not measured", kept as None for the GPU.
                    if value is None and key != "peak_gpu_mib":
                        value = math.nan
                    setattr(res, key, value)
                res.rss_growth_mib = res.peak_rss_mib - res.baseline_rss_mib
                return res


# -- the child ----------------------------------------------------------------------------
def _reset_peak_rss() -> bool:
    """Set this process's RSS high-water mark to its current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mib() -> float:
    """This process's RSS high-water mark in MiB (see the module docstring)."""
    peak = _vm_hwm_mib(os.getpid())
    if not math.isnan(peak):
        return peak
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / _MIB if sys.platform == "darwin" else maxrss / 1024.0  # bytes vs KiB




def _child_main(task_path: str, fd: int) -> int:
    """Body of the measurement process (``python -m bench.perf TASK FD``)."""
    out = os.fdopen(fd, "w", buffering=1)

    def send(**msg):
        out.write(json.dumps(msg) + "\n")
        out.flush()

    task = json.loads(Path(task_path).read_text())
    t0 = None
    try:
        # Imported before the baseline for every selector, so that no fit pays torch's
        # import inside its timed region (LassoNet imports it lazily) and baselines compare.
        import psutil
        import torch

        torch.set_num_threads(int(task["threads"]))
        X = np.load(task["x_path"])
        y = np.load(task["y_path"])
        est = build_selector(task["spec"], int(task["k"]), random_state=int(task["seed"]),
                             device=task["device"])
        params = est.get_params(deep=False)
        device = "cpu"
        if "device" in params:
            from selector_contract import resolve_device

            device = str(resolve_device(params["device"]))
        on_cuda = device.startswith("cuda")
        if on_cuda:
            # Creating the CUDA context costs host memory too: pay it before the baseline.
            torch.cuda.init()
            torch.zeros(1, device=device)
            torch.cuda.reset_peak_memory_stats(device)
        baseline = psutil.Process().memory_info().rss / _MIB
        _reset_peak_rss()
        send(event="ready", baseline_rss_mib=baseline, device=device)

        t0 = time.perf_counter()
        est.fit(X, y)
        fitted_device = str(getattr(est, "device_", "cpu"))
        if fitted_device.startswith("cuda"):
            torch.cuda.synchronize(fitted_device)
        seconds = time.perf_counter() - t0
        peak = _peak_rss_mib()
        gpu = (torch.cuda.max_memory_allocated(fitted_device) / _MIB
               if fitted_device.startswith("cuda") else None)
        send(event="done", status="ok", error="", seconds=seconds, peak_rss_mib=peak,
             baseline_rss_mib=baseline, peak_gpu_mib=gpu, device=fitted_device)
    except Exception as exc:  # reported to the parent as a failed measurement
        seconds = time.perf_counter() - t0 if t0 is not None else None
        send(event="done", status="failed", error=error_text(exc), seconds=seconds,
             peak_rss_mib=_peak_rss_mib())
    out.close()
    return 0


# -- analysis helpers ---------------------------------------------------------------------
def fit_exponent(sizes, seconds) -> float:
    """Least-squares slope of log(seconds) against log(size): time grows as size**slope.

    Non-finite or non-positive points are left out; NaN when fewer than two distinct sizes
    remain.
    """
    s = np.asarray(sizes, dtype=np.float64)
    t = np.asarray(seconds, dtype=np.float64)
    keep = np.isfinite(s) & np.isfinite(t) & (s > 0) & (t > 0)
    s, t = s[keep], t[keep]
    if np.unique(s).size < 2:
        return math.nan
    slope, _ = np.polyfit(np.log(s), np.log(t), 1)
    return float(slope)


def interleaved_order(names: Sequence[str], reps: int, seed: int = 0) -> list[tuple[int, str]]:
    """(rep, name) pairs: every name once per repetition, in a seeded order per repetition.

    Interleaving spreads slow drifts of the machine (other jobs, thermal state, caches)
    over all selectors instead of charging them to whichever ran last; shuffling each
    repetition keeps a fixed position (first after start-up, say) from favouring one.
    """
    rng = np.random.default_rng(seed)
    order = []
    for rep in range(int(reps)):
        order.extend((rep, names[i]) for i in rng.permutation(len(names)))
    return order


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1], int(sys.argv[2])))
