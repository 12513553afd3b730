"""Shared test setup: one torch thread, and the rule for tests that need the data mirror.

Tests marked ``data`` read real dataset files from ``ENTRYPRUNE_DATA_MIRROR``. Without the
mirror they are skipped on a developer's machine, but with ``ENTRYPRUNE_REQUIRE_DATA=1``
(set by ``.ci/run``) a missing mirror fails them, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Two cores: keep torch from oversubscribing when tests run beside other work.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def mirror_available() -> bool:
    """True when ``ENTRYPRUNE_DATA_MIRROR`` points at a folder holding the dataset files."""
    mirror = os.environ.get("ENTRYPRUNE_DATA_MIRROR")
    return bool(mirror) and Path(mirror, "coil20", "COIL20.mat").exists()


def pytest_runtest_setup(item):
    if item.get_closest_marker("data") is None or mirror_available():
        return
    where = os.environ.get("ENTRYPRUNE_DATA_MIRROR") or "(unset)"
    why = f"ENTRYPRUNE_DATA_MIRROR={where} does not hold the dataset files (coil20/COIL20.mat)"
    if os.environ.get("ENTRYPRUNE_REQUIRE_DATA") == "1":
        pytest.fail(f"{why}, and ENTRYPRUNE_REQUIRE_DATA=1 forbids skipping data tests")
    pytest.skip(why)
