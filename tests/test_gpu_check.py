"""scripts/gpu_check.py: the dry run on the CPU, and the refusal of a CUDA device that is absent."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import torch
from _paths import ROOT

SCRIPT = ROOT / "scripts" / "gpu_check.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)


def test_dry_run_on_digits_times_both_stages_and_writes_the_row(tmp_path):
    out = tmp_path / "gpu_check.csv"
    proc = _run("--dataset", "digits", "--k", "8", "--device", "cpu", "--skip-tests",
                "--override", "entryprune.patience=2", "--override", "entryprune.n_hidden=16",
                "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = pd.read_csv(out).iloc[0]
    assert row["device"] == "cpu" and row["k"] == 8 and row["dataset"] == "digits"
    # both stages ran and their times add up to no more than the timed fit
    assert row["stage1_seconds"] > 0 and row["stage2_seconds"] > 0
    assert row["stage1_seconds"] + row["stage2_seconds"] <= row["select_seconds"]
    assert row["stage1_updates"] >= row["best_update"] >= 1
    assert 0.5 < row["svm_accuracy"] <= 1.0  # 8 pixels of digits: far above chance (0.1)
    assert "| select_seconds |" in proc.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine "
                    "without CUDA; on a GPU machine the CUDA run itself is the check")
def test_cuda_requested_without_cuda_is_refused_before_any_work(tmp_path):
    out = tmp_path / "gpu_check.csv"
    proc = _run("--skip-tests", "--out", str(out))
    assert proc.returncode == 2
    assert "CUDA is not available" in proc.stderr
    assert not out.exists()
