"""Reliability at scale: kill and resume, concurrent writers, the submitit path."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time

import pandas as pd
import pytest
from _run import popen_py, run_py

from bench.records import KEY, ResultStore
from bench.workers import threads_per_worker, worker_device

SLEEPY = ["selector=random", "selector._target_=helper_selectors.Sleepy",
          "+selector.sleep_s=1.0", "evaluator=knn1"]


def _no_temp_files(root):
    return [p for p in root.rglob("*.tmp")]


def test_sigkill_mid_cell_then_resume_loses_and_duplicates_nothing(tmp_path):
    args = [*SLEEPY, "seeds=[0,1]", "budgets=[2,3,4]", f"results_dir={tmp_path}",
            "exp_name=kill"]
    store = ResultStore(tmp_path, "kill")
    cell = store.cell_path("digits", "random")
    proc = popen_py(*args)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if cell.exists() and len(pd.read_csv(cell)) >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the sweep never wrote its first rows")
        # mid-cell: at least two fits done, more to come
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = pd.read_csv(cell)  # parses: the file is whole, never torn
    assert 2 <= len(before) < 6
    assert not before.duplicated(KEY).any()

    r = run_py(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    after = pd.read_csv(tmp_path / "kill.csv")
    assert len(after) == 6 and not after.duplicated(KEY).any()
    assert set(after.status) == {"ok"}
    # finished work was not redone: the rows from before the kill are unchanged
    merged = before.merge(after, on=KEY, suffixes=("_before", "_after"))
    assert len(merged) == len(before)
    assert (merged.started_at_before == merged.started_at_after).all()
    assert f"{len(before)} (seed, k) already done" in r.stdout
    assert not _no_temp_files(tmp_path)


def _writer(args):
    root, cell_id, n_rows = args
    store = ResultStore(root, "conc")
    for i in range(n_rows):
        row = dict(dataset=f"d{cell_id}", selector="s", seed=i, k=1, evaluator="e",
                   status="ok", accuracy=0.5, error="")
        store.write_cell(f"d{cell_id}", "s", [row])
        store.merge()
    return cell_id


def test_concurrent_writers_lose_no_rows(tmp_path):
    n_workers, n_rows = 4, 15
    ctx = mp.get_context("spawn")
    with ctx.Pool(n_workers) as pool:
        done = pool.map(_writer, [(str(tmp_path), c, n_rows) for c in range(n_workers)])
    assert sorted(done) == list(range(n_workers))
    merged = pd.read_csv(tmp_path / "conc.csv")
    assert len(merged) == n_workers * n_rows
    assert not merged.duplicated(KEY).any()
    assert not _no_temp_files(tmp_path)


def test_two_processes_finishing_cells_of_one_experiment_together(tmp_path):
    common = ["seeds=[0]", "budgets=[5]", "evaluator=knn1", f"results_dir={tmp_path}",
              "exp_name=pair"]
    procs = [popen_py(f"selector={s}", *common) for s in ("random", "anova_f", "random_forest")]
    for p in procs:
        p.wait(timeout=300)
        assert p.returncode == 0, p.stdout.read()[-2000:]
    df = pd.read_csv(tmp_path / "pair.csv")
    assert sorted(df.selector) == ["anova_f", "random", "random_forest"]


def test_stale_temp_file_of_a_killed_writer_is_removed(tmp_path):
    store = ResultStore(tmp_path, "x")
    store.cell_dir.mkdir(parents=True)
    dead = subprocess_dead_pid()
    stale = store.cell_dir / f".a__b.csv.{dead}.0123abcd.tmp"
    stale.write_text("dataset,sel")  # a torn half-write
    live = store.cell_dir / f".a__b.csv.{os.getpid()}.0123abcd.tmp"
    live.write_text("in progress")
    removed = store.cleanup()
    assert removed == [stale] and not stale.exists() and live.exists()


def subprocess_dead_pid() -> int:
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                       capture_output=True, text=True, check=True)
    return int(p.stdout)


def test_submitit_local_sweep_runs_two_cells(tmp_path):
    r = run_py("-m", "hydra/launcher=submitit_smoke", "selector=random,anova_f",
               "seeds=[0]", "budgets=[5]", "evaluator=knn1", f"results_dir={tmp_path}",
               "exp_name=sub", timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    df = pd.read_csv(tmp_path / "sub.csv")
    assert sorted(df.selector) == ["anova_f", "random"]
    assert set(df.status) == {"ok"}
    # the jobs really went through submitit: its job folders hold their logs
    assert list(tmp_path.rglob(".submitit/*/*_log.out"))


def test_joblib_parallel_sweep(tmp_path):
    r = run_py("-m", "hydra/launcher=parallel", "hydra.launcher.n_jobs=2",
               "selector=random,anova_f", "seeds=[0]", "budgets=[5]", "evaluator=knn1",
               f"results_dir={tmp_path}", "exp_name=par", timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert len(pd.read_csv(tmp_path / "par.csv")) == 2


def test_worker_shares_of_the_machine():
    assert threads_per_worker(2, n_cpus=16) == 8
    assert threads_per_worker(32, n_cpus=16) == 1
    assert threads_per_worker(0, n_cpus=4) == 4
    assert worker_device("auto", 5, n_gpus=4) == "cuda:1"
    assert worker_device("cuda", 2, n_gpus=2) == "cuda:0"
    assert worker_device("cuda:3", 0, n_gpus=4) == "cuda:3"
    assert worker_device("auto", 3, n_gpus=0) == "auto"
    assert worker_device("cpu", 1, n_gpus=8) == "cpu"
