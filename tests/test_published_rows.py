"""The result rows committed in results/published: sound, and inside their experiment's grid.

These rows are data that README and docs/ quote, and that `make report` rebuilds from, so
they are checked like code: a hand edit, a torn merge or a run under a changed config would
show up here.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from bench.grid import KEY, experiment_grid, grid_gaps
from bench.records import STATUSES, ResultStore, read_rows

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "results" / "published"
EXPERIMENTS = ["paper_cpu", "fidelity"]


@functools.cache
def _rows(name: str) -> pd.DataFrame:
    # read once per experiment: every test below only reads the frame
    return read_rows(PUBLISHED / f"{name}.csv")


@functools.cache
def _grid(name: str):
    return experiment_grid(name)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_the_merged_csv_is_the_union_of_the_cell_files(name):
    store = ResultStore(PUBLISHED, name)
    cells = sorted(store.cell_dir.glob("*.csv"))
    assert cells, f"{store.cell_dir} holds no cell file"
    union = pd.concat([read_rows(p) for p in cells], ignore_index=True)
    merged = _rows(name)
    key = KEY + ["status"]
    assert not merged.duplicated(KEY).any()
    pd.testing.assert_frame_equal(
        merged[key].sort_values(KEY).reset_index(drop=True),
        union[key].sort_values(KEY).reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_committed_row_belongs_to_the_grid_and_accounts_for_itself(name):
    rows, grid = _rows(name), _grid(name)
    assert set(rows.status) <= set(STATUSES)
    assert set(rows.dataset) <= set(grid.datasets)
    assert set(rows.selector) <= set(grid.selectors)
    assert set(rows.seed) <= set(grid.seeds)
    assert set(rows.evaluator) <= set(grid.evaluators)
    ranked = rows[~rows.selector.isin(grid.ceilings)]
    assert set(ranked.k) <= set(grid.budgets)
    assert (rows.exp_name == name).all()
    # a gap may be a cell not run yet ("no row"), never a failed row or an unexplained one
    gaps = grid_gaps(rows, grid)
    assert (gaps.why == "no row").all(), gaps[gaps.why != "no row"].head().to_dict("records")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_ok_row_says_where_and_when_it_ran(name):
    ok = _rows(name).query("status == 'ok'")
    assert not ok.empty
    for col in ("git_commit", "started_at", "versions", "device"):
        assert (ok[col].astype(str).str.strip() != "").all(), col
    assert ok.accuracy.between(0, 1).all()
    assert (ok.select_seconds >= 0).all()


def test_the_fidelity_grid_is_complete():
    # README's fidelity table quotes every one of these cells
    gaps = grid_gaps(_rows("fidelity"), _grid("fidelity"))
    assert gaps.empty, gaps.head().to_dict("records")


def test_the_paper_cpu_grid_is_complete_but_for_the_two_image_sets_still_running():
    # README and docs/paper_cpu.md say every open cell is on MNIST or Fashion-MNIST: a lost
    # cell file on any other dataset, or a half-merged one, would show as a gap here
    gaps = grid_gaps(_rows("paper_cpu"), _grid("paper_cpu"))
    elsewhere = gaps[~gaps.dataset.isin(["mnist", "fashion_mnist"])]
    assert elsewhere.empty, elsewhere.head().to_dict("records")
