"""What a cell does after a fit runs past ``timeout_s``: ``after_timeout`` and ``retry_timeouts``.

The selectors sleep 30 s in short steps under a 0.5 s limit, so every fit that runs is cut
at the limit; the fits are counted by wrapping ``Sleepy.fit``, so a fit that should have
been skipped cannot hide behind a fast timeout.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
from helper_selectors import Sleepy

from bench.factory import compose_config
from bench.runner import run_cell

NOT_RUN = ("not run: seed 0 k=2 of this cell ran past timeout_s=0.5 "
           "(after_timeout=skip_cell)")


@pytest.fixture
def fits(monkeypatch):
    """The (random_state, budget) of every fit of a sleeping selector, in order."""
    calls = []
    fit = Sleepy.fit

    def counted(self, X, y):
        calls.append((self.random_state, self.n_features_to_select))
        return fit(self, X, y)

    monkeypatch.setattr(Sleepy, "fit", counted)
    return calls


def _cell(tmp_path, *extra, target="Sleepy"):
    return compose_config(["selector=random", f"selector._target_=helper_selectors.{target}",
                           "+selector.sleep_s=30", "seeds=[0,1]", "budgets=[2,3]",
                           "evaluator=knn1", "timeout_s=0.5", f"results_dir={tmp_path}",
                           "exp_name=t", *extra])


def _rows(tmp_path):
    return pd.read_csv(tmp_path / "t.csv", keep_default_na=False).sort_values(["seed", "k"])


def test_defaults_keep_fitting_and_retrying():
    cfg = compose_config([])
    assert cfg.after_timeout == "continue" and cfg.retry_timeouts is True
    for name in ("fidelity", "paper"):
        cfg = compose_config([f"experiment={name}"])
        assert cfg.after_timeout == "skip_cell" and cfg.retry_timeouts is False, name


def test_continue_fits_every_seed_and_budget(tmp_path, fits):
    s = run_cell(_cell(tmp_path), show_progress=False)
    assert [k for _, k in fits] == [2, 3, 2, 3]
    assert len({seed for seed, _ in fits}) == 2, "each seed's fit has its own random_state"
    df = _rows(tmp_path)
    assert df.status.tolist() == ["timeout"] * 4 and s.n_new == 4
    assert df.error.str.contains("fit exceeded timeout_s=0.5").all()
    assert (pd.to_numeric(df.select_seconds) >= 0.4).all(), "every row comes from a fit"


def test_skip_cell_fits_once_and_records_the_rest_as_not_run(tmp_path, fits):
    t0 = time.monotonic()
    s = run_cell(_cell(tmp_path, "after_timeout=skip_cell"), show_progress=False)
    elapsed = time.monotonic() - t0
    assert [k for _, k in fits] == [2], "only the first fit may run"
    df = _rows(tmp_path)
    assert df.status.tolist() == ["timeout"] * 4 and s.n_new == 4 and s.n_failed == 0
    first, rest = df.iloc[0], df.iloc[1:]
    assert (first.seed, first.k) == (0, 2) and "fit exceeded timeout_s=0.5" in first.error
    assert rest.error.tolist() == [NOT_RUN] * 3
    assert (rest.select_seconds == "").all() and (rest.device == "").all()
    # one fit cut at 0.5 s, not four; a loose bound for a loaded machine
    assert elapsed < 15


def test_skip_cell_after_a_shared_fit_keeps_that_fits_rows(tmp_path, fits):
    # a ranking selector's one fit per seed serves both budgets: both are its own rows
    run_cell(_cell(tmp_path, "after_timeout=skip_cell", target="SleepyRanking"),
             show_progress=False)
    assert [k for _, k in fits] == [3], "one fit, at the largest budget"
    df = _rows(tmp_path)
    seed0, seed1 = df[df.seed == 0], df[df.seed == 1]
    assert seed0.error.str.contains("fit exceeded").all() and seed0.select_shared.all()
    assert seed1.error.tolist() == [NOT_RUN.replace("k=2", "k=3")] * 2


def test_retry_timeouts_false_leaves_timed_out_fits_alone(tmp_path, fits):
    run_cell(_cell(tmp_path), show_progress=False)
    before = _rows(tmp_path)
    fits.clear()
    again = run_cell(_cell(tmp_path, "retry_timeouts=false"), show_progress=False)
    assert fits == [] and again.n_new == 0 and again.n_skipped_done == 4
    assert _rows(tmp_path).equals(before)
    # a changed config is a different experiment: its fits run
    changed = run_cell(_cell(tmp_path, "retry_timeouts=false", "selector.sleep_s=31"),
                       show_progress=False)
    assert len(fits) == 4 and changed.n_new == 4


def test_skip_cell_rows_count_as_done_without_retry(tmp_path, fits):
    run_cell(_cell(tmp_path, "after_timeout=skip_cell"), show_progress=False)
    fits.clear()
    again = run_cell(_cell(tmp_path, "after_timeout=skip_cell", "retry_timeouts=false"),
                     show_progress=False)
    assert fits == [] and again.n_new == 0


def test_retry_timeouts_true_fits_them_again(tmp_path, fits):
    run_cell(_cell(tmp_path), show_progress=False)
    first = _rows(tmp_path)
    fits.clear()
    again = run_cell(_cell(tmp_path, "retry_timeouts=true"), show_progress=False)
    assert len(fits) == 4 and again.n_new == 4 and again.n_skipped_done == 0
    df = _rows(tmp_path)
    assert len(df) == 4, "the new rows replace the old ones"
    assert (df.started_at.to_numpy() >= first.started_at.to_numpy()).all()


@pytest.mark.parametrize("setting, words", [
    ("after_timeout=skip", "after_timeout must be one of .* got 'skip'"),
    ("retry_timeouts=sometimes", "retry_timeouts must be true or false; got 'sometimes'"),
])
def test_bad_value_is_refused_before_any_row(tmp_path, fits, setting, words):
    with pytest.raises(ValueError, match=words):
        run_cell(_cell(tmp_path, setting), show_progress=False)
    assert fits == []
    assert not (tmp_path / "t.csv").exists() and not (tmp_path / "t").exists()
