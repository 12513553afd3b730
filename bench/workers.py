"""Sharing one machine between parallel workers: torch threads and GPUs per worker."""

from __future__ import annotations

import os

__all__ = ["available_cpus", "threads_per_worker", "worker_device"]


def available_cpus() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_worker(n_workers: int, n_cpus: int | None = None) -> int:
    """Torch intra-op threads for one of ``n_workers`` processes on ``n_cpus`` cores.

    Each of N processes running torch with all cores would oversubscribe the machine N
    times over; splitting the cores evenly keeps every worker busy without contention.
    """
    if n_cpus is None:
        n_cpus = available_cpus()
    n_workers = max(1, int(n_workers))
    return max(1, int(n_cpus) // n_workers)


def worker_device(device: str, job_num: int, n_gpus: int) -> str:
    """The device of worker ``job_num``: on a multi-GPU machine, GPU ``job_num mod n_gpus``.

    Only ``auto`` and a bare ``cuda`` are spread over GPUs; an explicit ``cuda:N`` or
    ``cpu`` is kept as given. With no GPU, ``auto`` stays ``auto`` (the selector resolves it
    to the CPU and records that).
    """
    if n_gpus > 1 and device in ("auto", "cuda"):
        return f"cuda:{int(job_num) % n_gpus}"
    return device
