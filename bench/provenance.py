"""Where a row came from: git commit, config hash, library versions, machine, time, seeds."""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path

__all__ = ["config_hash", "derive_seed", "git_commit", "machine", "utc_now", "versions"]

_ROOT = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=4)
def git_commit(root: Path | str = _ROOT) -> str:
    """Commit of the checkout at ``root``, ``-dirty`` when tracked code differs from it.

    Changes under ``results/`` do not count: the committed result rows live there, so a
    run that adds rows to them would otherwise call every later row of the same clean code
    dirty. ``unknown`` outside git.
    """
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)results"], cwd=root, capture_output=True,
                               text=True, timeout=10, check=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@functools.lru_cache(maxsize=1)
def versions() -> str:
    """Versions of the libraries that decide the numbers, as one compact string."""
    out = [f"python={platform.python_version()}"]
    for mod in ("numpy", "sklearn", "torch", "xgboost"):
        try:
            out.append(f"{mod}={__import__(mod).__version__}")
        except ImportError:
            pass
    return " ".join(out)


@functools.lru_cache(maxsize=1)
def machine() -> str:
    """The processor this process runs on and how many CPUs it may use, e.g.
    ``AMD EPYC, 2 CPUs``; a CUDA device's name is added when torch sees one.

    Timings are only comparable on one machine, and this project's sessions run on
    different CPUs (Intel AVX-512 or AMD AVX2), so every row says which it came from.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    out = f"{_cpu_model()}, {cpus} CPUs"
    try:
        import torch

        if torch.cuda.is_available():
            out += f", {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return out


def _cpu_model() -> str:
    # platform.processor() is only the architecture on Linux; the model is in /proc/cpuinfo
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def config_hash(obj) -> str:
    """Short sha256 of a JSON-serialisable config (key order does not matter)."""
    blob = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def derive_seed(*keys) -> int:
    """A 32-bit seed from its keys through sha256.

    Python's ``hash()`` of a str changes between processes, so it cannot be used: the same
    (dataset, selector, seed) must give the same selector seed on every machine.
    """
    blob = "\x1f".join(str(k) for k in keys).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "little")


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
