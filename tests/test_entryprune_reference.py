"""EntryPrune against the authors' public code (github.com/flxzimmer/entryprune).

Each test pins one behaviour of the reference implementation (``entryprune/code.py``,
``experiments/entryprune_models.py``) that this package reproduces, or one place where it
deliberately does not. Line numbers in the comments refer to the reference files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from entryprune import EntryPruneFlexSelector, EntryPruneSelector
from entryprune.engine import EngineObserver

ROOT = Path(__file__).resolve().parent.parent

TINY = dict(n_hidden=16, n_mb=5, device="cpu")


@pytest.fixture(scope="module")
def tiny():
    X, y = make_classification(n_samples=300, n_features=30, n_informative=5, n_redundant=0,
                               shuffle=False, class_sep=2.0, random_state=0)
    return X.astype(np.float32), y


class Spy(EngineObserver):
    """Every engine a fit runs, and per engine the top-K in place before each scoring."""

    def __init__(self):
        self.runs, self.topk_before = [], {}  # the runs list keeps every id() in use

    def on_start(self, engine):
        self.runs.append(engine)
        self.topk_before[id(engine)] = []

    def before_scoring(self, engine):
        self.topk_before[id(engine)].append(set(engine.active[: engine.K].tolist()))


# --- stage 2 ends on the top-K whose validation loss was the best ------------------------


def test_final_support_is_the_topk_whose_validation_loss_was_best(tiny):
    # Reference: the loss recorded at update u (code.py l.131-143) belongs to the top-K after
    # u scorings; stage 2 gets n_updates = best_update (entryprune_models.py l.30) and stops
    # at update_counter == n_updates *before* scoring (code.py l.194-198), so its result
    # (l.237-238) has had exactly as many scorings as the best-validated top-K.
    X, y = tiny
    spy = Spy()
    sel = EntryPruneSelector(5, patience=6, track_topk=True, random_state=1,
                             **TINY).fit(X, y, observer=spy)
    stage1, stage2 = spy.runs
    before = spy.topk_before
    h = sel.history_
    st = np.array(h["stage"])
    v = sel.best_update_
    rows1, rows2 = np.flatnonzero(st == 1), np.flatnonzero(st == 2)
    # a stage 1 row holds the top-K that the row's validation loss measured: the one in
    # place before that update's scoring, i.e. after (update - 1) scorings
    for i, r in enumerate(rows1[: len(before[id(stage1)])]):
        assert set(h["topk"][r]) == before[id(stage1)][i]
    assert h["val_loss"][rows1[v - 1]] == min(h["val_loss"][r] for r in rows1[1:])
    # stage 2: the same number of scorings (v - 1) and of Adam steps (v * n_mb) as the
    # best-validated stage 1 top-K, and the selection is the top-K after them
    assert len(before[id(stage2)]) == v - 1
    assert stage2.steps == v * sel.n_mb_ == v * 5
    assert [h["update"][r] for r in rows2] == list(range(1, v + 1))
    assert set(h["topk"][rows2[-1]]) == set(np.flatnonzero(sel.support_))


def test_random_start_is_never_the_best_update():
    # Reference: best_update is only set for update_counter > 0 (code.py l.146, l.167-169):
    # the loss of the random initial top-K (update 0 there, update 1 here) is recorded but
    # never chosen. With lr=0 and constant inputs every validation loss is the same, so a
    # rule that admitted the random start would pick it (the first strict minimum).
    X = np.zeros((60, 8), dtype=np.float32)
    y = np.arange(60) % 2
    sel = EntryPruneSelector(2, lr=0.0, patience=1, n_mb=2, n_hidden=4, device="cpu",
                             random_state=0).fit(X, y)
    val = np.array(sel.history_["val_loss"])[np.array(sel.history_["stage"]) == 1]
    assert np.all(val == val[0])
    assert sel.best_update_ == 2
    # the random start does not count towards the validation patience either (l.171-176):
    # patience=1 stops at update 3, or at update 2 on an unchanged top-K (l.178), which
    # depends on how torch.topk orders the all-equal scores of constant inputs
    changes = np.array(sel.history_["n_changes"])
    assert sel.stage1_updates_ == 3 or (sel.stage1_updates_ == 2 and changes[1] == 0)


def test_stage1_without_a_validated_scoring_warns_and_falls_back(tiny):
    # With one update in stage 1 only the random start was measured; the reference would
    # fail (best_update is never set, code.py l.146-169). Here stage 2 runs two updates
    # (one scoring) and says so.
    X, y = tiny
    with pytest.warns(RuntimeWarning, match="validated no scored top-K"):
        sel = EntryPruneSelector(5, max_epochs=5, random_state=0, **TINY).fit(X, y)
    assert sel.stage1_updates_ == 1 and sel.best_update_ == 2
    assert sel.support_.sum() == 5


@pytest.mark.parametrize("seed", range(4))
def test_best_update_is_the_argmin_after_the_random_start(tiny, seed):
    X, y = tiny
    sel = EntryPruneSelector(5, patience=4, random_state=seed, **TINY).fit(X, y)
    st = np.array(sel.history_["stage"])
    val = np.array(sel.history_["val_loss"])[st == 1]
    assert sel.best_update_ >= 2
    assert sel.best_update_ == int(np.argmin(val[1:])) + 2
    assert sel.stage1_updates_ - sel.best_update_ == 4 or \
        np.all(np.array(sel.history_["n_changes"])[st == 1][-4:] == 0)


# --- the stage 1 split --------------------------------------------------------------------


def test_reference_split_is_fixed_and_unstratified(tiny):
    # Reference: train_test_split(X, y, test_size=0.2, random_state=42), the same for every
    # repeat, not stratified (entryprune_models.py l.26 and l.56).
    X, y = tiny
    kw = dict(patience=2, max_epochs=20, **TINY)
    a = EntryPruneSelector(5, stage1_split="reference", random_state=0, **kw).fit(X, y)
    b = EntryPruneSelector(5, stage1_split="reference", random_state=1, **kw).fit(X, y)
    assert np.array_equal(a.validation_indices_, b.validation_indices_)
    _, va = train_test_split(np.arange(len(y)), test_size=0.2, random_state=42)
    assert np.array_equal(a.validation_indices_, np.sort(va))
    # the default draws a stratified split per random_state
    c = EntryPruneSelector(5, random_state=0, **kw).fit(X, y)
    d = EntryPruneSelector(5, random_state=1, **kw).fit(X, y)
    assert not np.array_equal(c.validation_indices_, d.validation_indices_)
    assert len(c.validation_indices_) == len(va) == 60
    assert np.bincount(y[c.validation_indices_]).tolist() == [30, 30]
    with pytest.raises(ValueError, match="stage1_split"):
        EntryPruneSelector(5, stage1_split="nope", **kw).fit(X, y)


# --- the delta_weight score ---------------------------------------------------------------


def test_delta_weight_scores_the_weight_change_since_the_last_update(tiny):
    # Reference, method="delta_weight": the score input is W1 now minus W1 right after the
    # previous update (code.py l.104-105, l.204-210; the snapshot follows the near-zero
    # re-initialisation of l.331-333), then /n_train, |.| summed over hidden units and
    # standardised over all active inputs (l.244-246), max-merged into the candidates'
    # best scores (l.248).
    X, y = tiny
    starts, steps = [], []

    class Watch(EngineObserver):
        def on_start(self, engine):
            starts.append(engine.net.W1.clone())

        def before_scoring(self, engine):
            self.pre = (engine.net.W1.clone(), engine.active.clone(), engine.is_cand.clone(),
                        engine.entry_score.clone())

        def after_scoring(self, engine):
            steps.append(self.pre + (engine.net.W1.clone(), engine.entry_score.clone()))

    sel = EntryPruneSelector(5, score="delta_weight", fit_mode="fixed", n_updates=4,
                             c_ratio=0.5, random_state=0, **TINY).fit(X, y, observer=Watch())
    assert len(steps) == 4
    w_prev = starts[0]
    for w_end, active, cand, score_before, w_next, score_after in steps:
        s = ((w_end - w_prev) / X.shape[0]).abs().sum(0)
        s = (s - s.mean()) / s.std()
        expect = score_before.clone()
        f = active[cand]
        expect[f] = torch.maximum(expect[f], s[cand])
        torch.testing.assert_close(score_after, expect, rtol=1e-4, atol=1e-5)
        w_prev = w_next
    np.testing.assert_allclose(sel.scores_, steps[-1][-1].double().numpy())
    entry = EntryPruneSelector(5, fit_mode="fixed", n_updates=4, c_ratio=0.5,
                               random_state=0, **TINY).fit(X, y)
    assert not np.allclose(entry.scores_, sel.scores_)


# --- stopping on top-K stability alone (patience_ident) ------------------------------------


def _first_stable_run(changes, patience):
    """1-based position where ``patience`` consecutive zeros first end, or None."""
    count = 0
    for i, c in enumerate(changes, start=1):
        count = count + 1 if c == 0 else 0
        if count >= patience:
            return i
    return None


def test_patience_ident_stops_a_fixed_run_on_topk_stability(tiny):
    # Reference, stopping="ident" (entryprune_models.py l.21-22, l.32): one run on all data;
    # at each update the top-K is compared with the previous update's (code.py l.149-154)
    # and the run stops, before scoring, once it was unchanged patience_ident times in a
    # row (l.157-161). The result is the top-K in place then (l.237-238).
    X, y = tiny
    spy = Spy()
    sel = EntryPruneSelector(5, fit_mode="fixed", patience_ident=3, c_ratio=1.0,
                             max_epochs=2000, track_topk=True, random_state=0,
                             **TINY).fit(X, y, observer=spy)
    runs, before = spy.runs, spy.topk_before
    changes = sel.history_["n_changes"]  # fixed mode: one row after each scoring
    stop = _first_stable_run(changes, 3)
    assert stop is not None and stop == len(changes) < 400, changes
    assert sel.best_update_ == len(changes) == len(before[id(runs[0])])
    # like the reference, the stability check happens at the next update point
    assert runs[0].steps == (len(changes) + 1) * 5
    assert set(sel.history_["topk"][-1]) == set(np.flatnonzero(sel.support_))


def test_patience_ident_in_stage1_is_checked_before_the_validation_loss(tiny):
    # code.py l.157 (ident stop, then break) precedes l.167 (best validation loss): the
    # update at which the ident rule fires cannot become the best update.
    X, y = tiny
    sel = EntryPruneSelector(5, patience_ident=3, patience=1000, c_ratio=1.0,
                             max_epochs=2000, random_state=0, **TINY).fit(X, y)
    st = np.array(sel.history_["stage"])
    changes = np.array(sel.history_["n_changes"])[st == 1]
    val = np.array(sel.history_["val_loss"])[st == 1]
    e = sel.stage1_updates_
    # stage 1 rows are recorded before scoring: row u's n_changes is what scoring u-1 did;
    # row 1 has no previous top-K to compare with
    assert _first_stable_run(changes[1:], 3) + 1 == e == len(val)
    assert sel.best_update_ == int(np.argmin(val[1:e - 1])) + 2


def test_patience_ident_validation():
    X = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    y = np.arange(40) % 2
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="patience_ident"):
            EntryPruneSelector(2, patience_ident=bad, **TINY).fit(X, y)
    with pytest.raises(ValueError, match="n_updates"):
        EntryPruneSelector(2, fit_mode="fixed", **TINY).fit(X, y)
    with pytest.raises(ValueError, match="n_updates"):
        EntryPruneSelector(2, fit_mode="fixed", n_updates=2, n_epochs=2, patience_ident=2,
                           **TINY).fit(X, y)


# --- the flex variant ---------------------------------------------------------------------


def test_flex_halving_rounds_like_the_reference():
    # code.py l.275: K + int(np.round((netsize - K) * 0.5)), floored at round(1.2 K) (l.67).
    # 24 features, K=10, c_ratio=0.5: 17 inputs, 7 candidates; halving gives 10 + 4 = 14
    # (rounding 3.5 up), where flooring would give 13.
    X, y = make_classification(n_samples=200, n_features=24, n_informative=4,
                               n_redundant=0, shuffle=False, random_state=0)
    sel = EntryPruneFlexSelector(10, c_ratio=0.5, resize_patience=1, patience=30,
                                 random_state=0, **TINY).fit(X.astype(np.float32), y)
    assert sel.resizes_ and sel.resizes_[0][1:] == (17, 14)
    K, lo = 10, 12
    for _, old, new in sel.resizes_:
        half = max(lo, K + int(np.round((old - K) * 0.5)))
        double = min(24, K + 2 * (old - K))
        assert new in (half, double), (old, new)


def _reference_stage2_sizes(n_updates, start, final, max_steps=10):
    """Input size during each interval of the reference's flex stage 2, as its code runs.

    Simulates code.py l.56 and l.59-64 (schedule set-up), l.188-190 (the counter advances at
    every update), l.194-198 (stop before scoring at n_updates) and l.257-320 (a resize of
    step_nr steps when the counter reaches n_updates // n_steps). The reference does not stop
    at step n_steps (it overshoots the final size when n_updates is not a multiple of the
    number of steps), so the simulation also returns the step number behind each size. The
    size floor and ceiling (l.268, l.293) are left out: they only cut that overshoot short
    when the final size is exactly round(1.2 K) or D.
    """
    n_steps = min(n_updates, max_steps)
    period = n_updates // n_steps
    size, counter, step = start, 0, 0
    sizes, steps = [], []
    for u in range(n_updates + 1):
        sizes.append(size)
        steps.append(step)
        counter += 1
        if u >= n_updates:
            break
        if counter >= period:  # shrinking and growing use one formula (l.272, l.297)
            step += 1
            size = int(np.round(final + (start - final) * ((n_steps - step) / n_steps)))
            counter = 0
    return sizes, steps


@pytest.mark.parametrize("n_updates", [1, 3, 9, 10, 11, 19, 20, 37])
@pytest.mark.parametrize("start,final", [(60, 20), (20, 60), (33, 33)])
def test_flex_stage2_size_schedule_matches_the_reference_without_overshoot(n_updates, start,
                                                                          final):
    ref, ref_step = _reference_stage2_sizes(n_updates, start, final)
    n_steps = min(n_updates, 10)
    # best_update_ here is the reference's best_update + 1 (updates are counted from 1)
    ours = EntryPruneFlexSelector._stage2_sizes(n_updates + 1, start, final, 10)
    assert len(ours) == len(ref) == n_updates + 1
    for size, r, s in zip(ours, ref, ref_step, strict=True):
        assert size == (r if s <= n_steps else final)
    assert ours[-1] == final
    if n_updates == 19 and start != final:  # the reference's overshoot, not copied
        assert ref[-1] != final


def test_flex_stage2_follows_the_schedule_in_a_fit():
    X, y = make_classification(n_samples=200, n_features=24, n_informative=4,
                               n_redundant=0, shuffle=False, random_state=0)
    sel = EntryPruneFlexSelector(10, c_ratio=0.5, resize_patience=2, patience=20,
                                 max_stage2_steps=3, random_state=1,
                                 **TINY).fit(X.astype(np.float32), y)
    st = np.array(sel.history_["stage"])
    sizes = np.array(sel.history_["n_active"])[st == 2].tolist()
    start = sel.history_["n_active"][0]
    assert start == 17 and sel.best_input_size_ < start, "this seed must shrink in stage 1"
    assert sizes == EntryPruneFlexSelector._stage2_sizes(sel.best_update_, start,
                                                         sel.best_input_size_, 3)
    assert sizes[-1] == sel.best_input_size_ and len(set(sizes)) == 4


# --- configs expose the new settings with the class defaults -------------------------------


@pytest.mark.parametrize("cls,name", [(EntryPruneSelector, "entryprune"),
                                      (EntryPruneFlexSelector, "entryprune_flex")])
def test_config_defaults_match_the_class(cls, name):
    spec = OmegaConf.to_container(OmegaConf.load(ROOT / "configs/selector/entryprune.yaml"))
    if name != "entryprune":
        spec.update(OmegaConf.to_container(
            OmegaConf.load(ROOT / "configs/selector" / f"{name}.yaml")))
    params = cls().get_params()
    for key in ("score", "patience_ident", "stage1_split", "track_topk"):
        assert key in spec, key
    for key, value in spec.items():
        if key in ("name", "_target_", "defaults"):
            continue
        assert params[key] == value, key
