"""Ties in a ranking: which of the K columns a score chose, and which index order filled.

A ranking selector keeps the K best ``scores_``; ``top_k_mask`` breaks equal scores by the
lower column index. These tests pin down (i) the count of selected columns that a score
really separated from the columns left out (``n_separated``), (ii) LassoNet's own
tie-break, the skip-layer norm at the last path point where a feature was still active,
and (iii) that the runner and the report carry the count.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from bench.factory import compose_config
from bench.runner import run_cell
from selector_contract import top_k_mask

# ---------------------------------------------------------------- the generic count


def test_count_separated_treats_a_tie_at_the_boundary_as_unseparated():
    from selector_contract import count_separated

    scores = np.array([0.0, 5.0, 0.0, 3.0, 0.0, 3.0])
    # K=2 keeps 5 and the first 3 (index 3); index 5 also scores 3: only 5 is separated
    assert count_separated(scores, top_k_mask(scores, 2)) == 1
    # K=3 keeps both 3s; the best column left out scores 0
    assert count_separated(scores, top_k_mask(scores, 3)) == 3
    # K=4 takes one of four zeros by index order
    assert count_separated(scores, top_k_mask(scores, 4)) == 3
    # NaN ranks below every number and ties only with NaN; -inf is a number
    with_nan = np.array([np.nan, -np.inf, 1.0, np.nan])
    assert count_separated(with_nan, top_k_mask(with_nan, 2)) == 2
    assert count_separated(with_nan, top_k_mask(with_nan, 3)) == 2
    # nothing left out: nothing to be confused with
    assert count_separated(scores, np.ones(6, dtype=bool)) == 6


# ---------------------------------------------------------------- XGBoost


def test_xgboost_counts_only_columns_with_gain_as_separated():
    from baselines.boosting import XGBoostSelector

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 30)).astype(np.float32)
    y = (X[:, 25] + 0.5 * X[:, 17] > 0).astype(int)
    # three stumps can split on at most three columns: the rest get no gain at all
    sel = XGBoostSelector(10, n_estimators=3, max_depth=1, device="cpu",
                          random_state=0).fit(X, y)
    support = sel.get_support()
    with_gain = int(((sel.scores_ > 0) & support).sum())
    assert 1 <= with_gain <= 3
    assert sel.n_separated() == with_gain < 10
    # the other columns of the ten are the lowest-index columns without gain
    filled = np.flatnonzero(support & (sel.scores_ == 0))
    assert filled.tolist() == np.flatnonzero(sel.scores_ == 0)[: 10 - with_gain].tolist()
    assert sel.n_tiebroken() == 0  # XGBoost has no tie-break of its own
    # the count follows the budget set after the fit, as the runner reads every K
    sel.set_params(n_features_to_select=with_gain)
    assert sel.n_separated() == with_gain
    assert sel.n_separated(k=12) == with_gain


# ---------------------------------------------------------------- LassoNet's tie-break


def _item(lambda_, norms):
    norms = np.asarray(norms, dtype=np.float64)
    return SimpleNamespace(lambda_=lambda_, selected=torch.from_numpy(norms != 0), norms=norms)


def test_lassonet_path_record_keeps_the_norm_of_the_last_active_point():
    from lassonet import LassoNetClassifier

    from baselines.lassonet import PathRecord

    # five features; 1, 2 and 4 leave together at lambda 2, 0 at lambda 3, 3 never leaves
    path = [
        _item(0.0, [1.0, 0.9, 0.8, 2.0, 0.7]),
        _item(1.0, [0.5, 0.2, 0.1, 1.5, 0.6]),
        _item(2.0, [0.4, 0.0, 0.0, 1.2, 0.0]),
        _item(3.0, [0.0, 0.0, 0.3, 1.1, 0.0]),  # 2 comes back: it still left at 2
    ]
    rec = PathRecord(5)
    for it in path:
        rec.add(it.lambda_, it.selected.numpy(), it.norms)
    np.testing.assert_array_equal(rec.left_at_, [3.0, 2.0, 2.0, np.inf, 2.0])
    # the package's own "when does each feature leave" agrees with the record
    ref = LassoNetClassifier._compute_feature_importances(path).numpy()
    np.testing.assert_array_equal(rec.left_at_, ref)
    # norms at lambda 1 for the three that left at 2, at 2 for feature 0, final for 3
    np.testing.assert_allclose(rec.last_norm_, [0.4, 0.2, 0.1, 1.1, 0.6])


def test_lassonet_ties_in_lambda_are_broken_by_the_skip_norm_not_the_index():
    from baselines.lassonet import lexicographic_scores

    left_at = np.array([2.0, 2.0, 2.0, np.inf, 3.0, 1.0])
    norms = np.array([0.1, 0.2, 0.6, 0.5, 0.3, 0.9])
    scores = lexicographic_scores(left_at, norms)
    # never dropped first, then lambda 3, then the lambda-2 group by norm (2 > 1 > 0)
    assert np.argsort(-scores, kind="stable").tolist() == [3, 4, 2, 1, 0, 5]
    # K=3 takes one of the lambda-2 group: the largest norm (index 2), not index 0
    assert np.flatnonzero(top_k_mask(scores, 3)).tolist() == [2, 3, 4]
    # equal on both keys stays equal, so top_k_mask's index rule is the last resort
    tied = lexicographic_scores(np.array([1.0, 1.0, 0.5]), np.array([0.2, 0.2, 0.2]))
    assert tied[0] == tied[1] > tied[2]


@pytest.fixture(scope="module")
def lassonet_fit():
    from baselines.lassonet import LassoNetSelector

    rng = np.random.default_rng(1)
    n, d = 300, 24
    y = np.arange(n) % 3
    X = rng.normal(size=(n, d)).astype(np.float32)
    # the class signal sits in the LAST columns, so index order and norm order disagree
    X[:, -6:] += (0.6 * y[:, None] * np.linspace(0.4, 1.4, 6)).astype(np.float32)
    # a coarse path (x1.6 per step) makes several features leave at the same lambda; a
    # fixed lambda_start skips the package's slow search for one
    sel = LassoNetSelector(5, hidden_dims=(8,), path_multiplier=1.6, lambda_start=1.0,
                           n_iters=(100, 10), patience=(10, 3), device="cpu", random_state=0)
    return sel.fit(X, y)


def test_lassonet_real_fit_breaks_exit_ties_by_skip_norm(lassonet_fit):
    sel = lassonet_fit
    lam, norm = sel.lambda_scores_, sel.skip_norms_
    assert np.all(norm > 0), "every feature is active until it leaves"
    # pick a lambda shared by several features whose largest norm is not the lowest index
    groups = [np.flatnonzero(lam == v) for v in np.unique(lam[np.isfinite(lam)])]
    groups = [g for g in groups if g.size >= 2 and np.argmax(norm[g]) != 0]
    assert groups, f"no exit tie to test on: exit lambdas {lam}"
    g = groups[0]
    above = int((lam > lam[g[0]]).sum())
    k = above + 1  # the budget ends inside the tie: one member of g gets in
    sel.set_params(n_features_to_select=k)
    chosen = np.flatnonzero(sel.get_support())
    assert np.intersect1d(chosen, g).tolist() == [g[np.argmax(norm[g])]]
    assert sel.n_tied_in_support_ == 1
    assert sel.n_separated() == above  # lambda alone decided the rest
    assert sel.n_tiebroken() == 1      # the skip norm decided this one
    sel.set_params(n_features_to_select=5)


def test_lassonet_scores_agree_with_the_support_for_every_budget(lassonet_fit):
    sel = lassonet_fit
    lam, norm = sel.lambda_scores_, sel.skip_norms_
    assert np.isfinite(sel.scores_).all()
    for k in range(1, sel.n_features_in_ + 1):
        sel.set_params(n_features_to_select=k)
        mask = sel.get_support()
        assert mask.sum() == k
        np.testing.assert_array_equal(mask, top_k_mask(sel.scores_, k))
        # every column kept beats every column left out on (lambda, norm), in that order
        kept = list(zip(lam[mask], norm[mask], strict=True))
        left = list(zip(lam[~mask], norm[~mask], strict=True))
        if left:
            assert min(kept) >= max(left)
        assert sel.n_tied_in_support_ == k - sel.n_separated()
        assert 0 <= sel.n_tiebroken() <= sel.n_tied_in_support_
    sel.set_params(n_features_to_select=5)


def test_lassonet_hidden_layer_relative_to_the_number_of_columns():
    from baselines.lassonet import LassoNetSelector, resolve_hidden_dims

    assert resolve_hidden_dims(["D/3"], 100) == (33,)  # as their benchmark's D // 3
    assert resolve_hidden_dims([64, "D/2", "D"], 10) == (64, 5, 10)
    assert resolve_hidden_dims(["D/3"], 2) == (1,)  # never an empty layer
    for bad in (["D*3"], ["D/0"], [0], ["x"], [2.5]):
        with pytest.raises(ValueError, match="hidden_dims"):
            resolve_hidden_dims(bad, 10)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 9)).astype(np.float32)
    y = np.arange(60) % 2
    sel = LassoNetSelector(3, hidden_dims=["D/3"], n_iters=(5, 2), patience=(2, 1),
                           path_multiplier=2.0, lambda_start=1.0, batch_size=16,
                           device="cpu", random_state=0).fit(X, y)
    assert sel.hidden_dims_ == (3,)
    assert sel.get_support().sum() == 3


def test_lassonet_bench_config_holds_their_benchmark_settings():
    cfg = compose_config(["selector=lassonet_bench"]).selector
    assert cfg.name == "lassonet_bench"
    assert list(cfg.hidden_dims) == ["D/3"]
    assert list(cfg.n_iters) == [1000, 1000] and cfg.batch_size == 256
    assert cfg.M == 10 and cfg.path_multiplier == 1.02 and cfg.lambda_start == "auto"
    assert list(cfg.patience) == [100, 10] and cfg.val_size == 0.125


# ---------------------------------------------------------------- runner and report


def test_runner_rows_carry_the_separation_count_and_old_rows_still_load(tmp_path):
    base = ["selector=xgboost", "selector.n_estimators=5", "seeds=[0]", "evaluator=knn1",
            f"results_dir={tmp_path}", "exp_name=ties", "device=cpu"]
    run_cell(compose_config(base + ["budgets=[5]"]), show_progress=False)
    df = pd.read_csv(tmp_path / "ties.csv")
    assert {"n_separated", "n_tiebroken"} <= set(df.columns)
    assert df.loc[0, "n_separated"] == 5 and df.loc[0, "n_tiebroken"] == 0

    # rows written before the columns existed: drop them from every file, then resume
    cell = tmp_path / "ties" / "cells" / "digits__xgboost.csv"
    for path in (cell, tmp_path / "ties.csv"):
        pd.read_csv(path).drop(columns=["n_separated", "n_tiebroken"]).to_csv(path,
                                                                              index=False)
    # digits has constant pixel columns, which no tree can split: K=60 ends in a tie
    s = run_cell(compose_config(base + ["budgets=[5,60]"]), show_progress=False)
    assert s.n_skipped_done == 1 and s.n_new == 1
    df = pd.read_csv(tmp_path / "ties.csv").set_index("k")
    assert np.isnan(df.loc[5, "n_separated"])  # the old row loads, its count unknown
    assert 0 < df.loc[60, "n_separated"] < 60
    assert df.loc[60, "n_tiebroken"] == 0


def test_runner_leaves_the_count_empty_for_the_ceiling(tmp_path):
    run_cell(compose_config(["selector=all_features", "seeds=[0]", "budgets=[5]", "evaluator=knn1",
                       f"results_dir={tmp_path}", "exp_name=ceil"]), show_progress=False)
    df = pd.read_csv(tmp_path / "ceil.csv")
    assert df["n_separated"].isna().all()


def test_report_lists_cells_filled_by_index_order(tmp_path):
    from bench import report as R
    from bench.records import COLUMNS

    def row(selector, seed, k, n_sep, n_tb):
        r = dict.fromkeys(COLUMNS, "")
        r.update(dataset="prostate_ge", selector=selector, seed=seed, k=k, evaluator="svm",
                 accuracy=0.9, balanced_accuracy=0.9, status="ok", n_features=5966,
                 selected=" ".join(map(str, range(k))), n_separated=n_sep,
                 n_tiebroken=n_tb)
        return r

    rows = [row("xgboost", s, 50, n, 0) for s, n in enumerate([31, 33])]
    rows += [row("lassonet", s, 50, 40, 10) for s in range(2)]
    rows += [row("random_forest", s, 50, 50, 0) for s in range(2)]  # fully separated
    rows += [row("entryprune", s, 50, "", "") for s in range(2)]     # no ranking: empty
    tab = R.separation_table(R.prepare(pd.DataFrame(rows)))
    cells = tab.set_index(["dataset", "selector", "K"])
    assert set(cells.index) == {("prostate_ge", "xgboost", 50), ("prostate_ge", "lassonet", 50)}
    assert cells.loc[("prostate_ge", "xgboost", 50), "by score"] == "32.0"
    assert cells.loc[("prostate_ge", "xgboost", 50), "by index order"] == "18.0"
    assert cells.loc[("prostate_ge", "lassonet", 50), "by tie-break"] == "10.0"
    assert cells.loc[("prostate_ge", "lassonet", 50), "by index order"] == "0.0"
    rep = R.build_report(pd.DataFrame(rows), tmp_path, exp_name="ties")
    md = rep.markdown.read_text(encoding="utf-8")
    assert "Columns chosen by score vs by index order" in md
    assert "| prostate_ge | xgboost | 50 | 32.0 |" in md


def test_selects_all_features_is_read_off_class_instance_and_partial():
    from functools import partial

    from baselines.bounds import AllFeaturesSelector, RandomSelector
    from selector_contract import selects_all_features

    for ceiling in (AllFeaturesSelector, AllFeaturesSelector(), partial(AllFeaturesSelector)):
        assert selects_all_features(ceiling)
    for other in (RandomSelector, RandomSelector(), partial(RandomSelector), object()):
        assert not selects_all_features(other)


def test_lassonet_package_estimator_is_the_one_fit_runs():
    from baselines.lassonet import LassoNetSelector

    sel = LassoNetSelector(5, hidden_dims=("D/3",), n_iters=(7, 3), patience=(4, 2),
                           batch_size=32, M=5.0, device="cpu", random_state=2)
    est = sel.package_estimator(90)
    assert est.hidden_dims == (30,) and sel.hidden_dims_ == (30,)
    assert (est.n_iters_init, est.n_iters_path) == (7, 3)
    assert (est.patience_init, est.patience_path) == (4, 2)
    assert est.batch_size == 32 and est.M == 5.0 and str(est.device) == "cpu"
    changed = sel.package_estimator(90, n_iters=(2, 1))
    assert (changed.n_iters_init, changed.n_iters_path) == (2, 1)
    assert changed.random_state == est.random_state, "the same seed as the fit's"
    with pytest.raises(ValueError, match="unknown settings epochs"):
        sel.package_estimator(90, epochs=3)
