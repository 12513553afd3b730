"""Cells an experiment leaves out on purpose (``not_run``): skipped rows with the reason."""

from __future__ import annotations

import pandas as pd
import pytest
from helper_selectors import Sleepy

from bench.factory import compose_config
from bench.grid import Grid, grid_gaps
from bench.runner import run_cell

WHY = "one fit needs 3 h here, past the 2 h limit"
ENTRY = f"+not_run=[{{dataset: digits, selector: random, reason: '{WHY}'}}]"


@pytest.fixture
def fits(monkeypatch):
    """The budget of every fit of the (fast) sleeping selector, in order."""
    calls = []
    fit = Sleepy.fit

    def counted(self, X, y):
        calls.append(self.n_features_to_select)
        return fit(self, X, y)

    monkeypatch.setattr(Sleepy, "fit", counted)
    return calls


def _cell(tmp_path, *extra):
    return compose_config(["selector=random", "selector._target_=helper_selectors.Sleepy",
                           "+selector.sleep_s=0", "seeds=[0,1]", "budgets=[2,3]",
                           "evaluator=knn1", f"results_dir={tmp_path}", "exp_name=t", *extra])


def _rows(tmp_path):
    return pd.read_csv(tmp_path / "t.csv", keep_default_na=False).sort_values(["seed", "k"])


def test_a_named_cell_gets_skipped_rows_with_the_reason_and_no_fit(tmp_path, fits):
    # the data cannot load either: a not_run cell must not even try
    entry = ENTRY.replace("+not_run", "not_run").replace("digits", "no_such_set")
    s = run_cell(_cell(tmp_path, entry, "dataset.name=no_such_set"), show_progress=False)
    assert fits == [] and s.n_failed == 0 and s.n_new == 4
    df = _rows(tmp_path)
    assert df.status.tolist() == ["skipped"] * 4
    assert df.error.tolist() == [f"not run: {WHY} (the experiment's not_run)"] * 4
    assert [(r.seed, r.k) for r in df.itertuples()] == [(0, 2), (0, 3), (1, 2), (1, 3)]


def test_skipped_rows_count_as_done_while_the_entry_stands(tmp_path, fits):
    entry = ENTRY.replace("+not_run", "not_run")
    run_cell(_cell(tmp_path, entry), show_progress=False)
    before = _rows(tmp_path)
    again = run_cell(_cell(tmp_path, entry), show_progress=False)
    assert fits == [] and again.n_new == 0 and again.n_skipped_done == 4
    assert _rows(tmp_path).equals(before)


def test_without_the_entry_the_cell_runs_and_replaces_its_skipped_rows(tmp_path, fits):
    run_cell(_cell(tmp_path, ENTRY.replace("+not_run", "not_run")), show_progress=False)
    s = run_cell(_cell(tmp_path), show_progress=False)
    assert fits == [2, 3, 2, 3] and s.n_new == 4
    df = _rows(tmp_path)
    assert len(df) == 4 and df.status.tolist() == ["ok"] * 4


def test_an_entry_for_another_cell_leaves_this_one_running(tmp_path, fits):
    other = ENTRY.replace("+not_run", "not_run").replace("selector: random", "selector: stg")
    run_cell(_cell(tmp_path, other), show_progress=False)
    assert fits == [2, 3, 2, 3] and _rows(tmp_path).status.tolist() == ["ok"] * 4


def test_ok_rows_stay_when_an_entry_is_added_later(tmp_path, fits):
    run_cell(_cell(tmp_path, "seeds=[0]"), show_progress=False)
    first = _rows(tmp_path)
    run_cell(_cell(tmp_path, ENTRY.replace("+not_run", "not_run")), show_progress=False)
    df = _rows(tmp_path)
    # (as text: the other seed's empty accuracy turns the column into strings)
    kept = df[df.seed == 0].reset_index(drop=True).astype(str)
    assert kept.equals(first.reset_index(drop=True).astype(str)), "seed 0's rows are kept"
    assert df[df.seed == 1].status.tolist() == ["skipped"] * 2


@pytest.mark.parametrize("entry, words", [
    ("not_run=[{dataset: digits, selector: random}]", r"not_run\[0\] must have exactly"),
    ("not_run=[{dataset: digits, selector: random, reason: ''}]", "non-empty reason"),
    ("not_run=[{dataset: digits, selector: random, reason: x, why: y}]", "exactly the keys"),
])
def test_a_malformed_entry_is_refused_before_any_row(tmp_path, fits, entry, words):
    with pytest.raises(ValueError, match=words):
        run_cell(_cell(tmp_path, entry), show_progress=False)
    assert fits == [] and not (tmp_path / "t.csv").exists()


def test_the_grid_accounts_for_a_skipped_row_only_with_its_reason():
    grid = Grid(("digits",), ("random",), (0,), (2,), {"knn1": {"budgets": None}})
    rows = grid.expected().assign(status="skipped", error=f"not run: {WHY}")
    rows = rows.astype({"k": "int64"})
    assert grid_gaps(rows, grid).empty
    rows["error"] = ""
    assert grid_gaps(rows, grid).why.tolist() == ["skipped without a reason"]
