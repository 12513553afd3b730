"""`make clean`: what it removes and keeps, and that a run after it recomputes its rows.

The target runs on a copy of the Makefile in a temporary folder with a fake results tree,
never on the checkout, whose results/ holds committed data and rows of running jobs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from _paths import ROOT
from _run import run_py

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")

RUN_OUTPUTS = [
    "results/default.csv",
    "results/.default.lock",
    "results/default/cells/digits__random.csv",
    "results/default/cells/digits__random.csv.lock",
    "results/demo/cells/digits__entryprune.csv",
    "results/.demo.csv.123.0123abcd.tmp",
    "results/hydra/demo/multirun-2026-01-01_00-00-00/0/.hydra/config.yaml",
    "results/perf/selectors.csv",
    "results/report/quick/report.md",
    "results/report/quick/tables/accuracy_per_k.tex",
    "outputs/2026-01-01/00-00-00/.hydra/config.yaml",
    "multirun/2026-01-01/00-00-00/0/run.log",
]
COMMITTED = [
    "results/reference/README.md",
    "results/reference/neurofs_tables.csv",
    "results/published/fidelity.csv",
    "results/published/fidelity/cells/coil20__neurofs.csv",
    "results/published/hydra/fidelity/multirun-2026-01-01_00-00-00/0/run.log",
    "results/published/report/fidelity/report.md",
]
ELSEWHERE = ["configs/config.yaml", "notes.txt"]  # outside the run outputs: never touched


def make_clean(where: Path) -> subprocess.CompletedProcess:
    """`make -f Makefile clean` on a copy of the project's Makefile, with cwd ``where``."""
    shutil.copy(ROOT / "Makefile", where / "Makefile")
    return subprocess.run(["make", "-f", "Makefile", "clean"], cwd=where, capture_output=True,
                          text=True, timeout=60)


def test_clean_removes_every_run_output_and_keeps_committed_data(tmp_path):
    for rel in RUN_OUTPUTS + COMMITTED + ELSEWHERE:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    r = make_clean(tmp_path)
    assert r.returncode == 0, r.stderr
    for rel in RUN_OUTPUTS:
        assert not (tmp_path / rel).exists(), f"clean left {rel}"
    for rel in COMMITTED + ELSEWHERE:
        assert (tmp_path / rel).read_text() == "x", f"clean touched {rel}"
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["published",
                                                                        "reference"]
    assert not (tmp_path / "outputs").exists() and not (tmp_path / "multirun").exists()
    # it says what it keeps and why, and what it removes
    assert "kept results/reference: the published numbers" in r.stdout
    assert "kept results/published: committed rows" in r.stdout
    assert "rm -rf results/default\n" in r.stdout and "rm -rf results/.default.lock" in r.stdout

    again = make_clean(tmp_path)  # nothing left to remove: still fine
    assert again.returncode == 0, again.stderr
    assert "rm -rf results/" not in again.stdout
    assert "kept results/published" in again.stdout


def test_clean_without_a_results_folder_succeeds(tmp_path):
    r = make_clean(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "kept" not in r.stdout and not (tmp_path / "results").exists()


def _started(csv: Path) -> set:
    return set(pd.read_csv(csv)["started_at"])


def test_a_run_after_clean_recomputes_its_rows(tmp_path):
    results = tmp_path / "results"
    args = ["selector=random", "budgets=[5]", "seeds=[0]", "evaluator=svm", "exp_name=t",
            f"results_dir={results}"]
    first = run_py(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "1 new row(s)" in first.stdout
    before = _started(results / "t.csv")

    # Removing the merged CSV alone is not enough to force a recompute: the rows
    # come back from the per-cell file without being recomputed.
    (results / "t.csv").unlink()
    reused = run_py(*args)
    assert reused.returncode == 0, reused.stderr[-2000:]
    assert "0 new row(s), 1 (seed, k) already done" in reused.stdout
    assert _started(results / "t.csv") == before

    r = make_clean(tmp_path)
    assert r.returncode == 0, r.stderr
    assert not results.exists() or not any(results.iterdir())
    again = run_py(*args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "1 new row(s), 0 (seed, k) already done" in again.stdout
    after = _started(results / "t.csv")
    assert len(after) == 1 and after != before and min(after) > max(before)
