"""EntryPrune and its flex variant: recovery, protocol, ablations, determinism, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification

from entryprune import EntryPruneFlexSelector, EntryPruneSelector
from entryprune.engine import Engine, EngineObserver, EngineSettings
from entryprune.kernel import MLP
from entryprune.selector import regime_settings

FAST = dict(n_hidden=32, patience=5, device="cpu")


@pytest.fixture(scope="module")
def informative():
    X, y = make_classification(n_samples=2000, n_features=100, n_informative=10,
                               n_redundant=0, shuffle=False, random_state=0)
    return X.astype(np.float32), y


def test_finds_nine_of_ten_informative_columns_with_paper_defaults(informative):
    """Typically 9 or 10 of 10: median over 5 seeds. Single seeds vary (7-10 measured over
    seeds 0-7, mean 9.1), so one seed alone would make a flaky test; random picks ~1."""
    X, y = informative
    hits = []
    for seed in range(5):
        sel = EntryPruneSelector(10, device="cpu", random_state=seed).fit(X, y)
        hits.append(int((np.flatnonzero(sel.get_support()) < 10).sum()))
    assert np.median(hits) >= 9 and min(hits) >= 7, hits
    assert sel.regime_ == "long" and sel.c_ratio_ == 0.2 and sel.n_mb_ == 100


@pytest.mark.parametrize("k", [1, 5, 17, 100])
def test_budget_respected(informative, k):
    X, y = informative
    sel = EntryPruneSelector(k, fit_mode="fixed", n_updates=3, n_mb=5, **FAST).fit(X, y)
    assert sel.get_support().sum() == k
    assert sel.transform(X).shape == (X.shape[0], k)
    assert sel.scores_.shape == (100,)


def test_same_random_state_same_selection_and_history(informative):
    X, y = informative
    a = EntryPruneSelector(10, random_state=3, **FAST).fit(X, y)
    b = EntryPruneSelector(10, random_state=3, **FAST).fit(X, y)
    assert np.array_equal(a.support_, b.support_)
    assert np.array_equal(a.scores_, b.scores_)
    np.testing.assert_array_equal(a.history_["val_loss"], b.history_["val_loss"])
    c = EntryPruneSelector(10, random_state=4, **FAST).fit(X, y)
    assert a.history_["val_loss"][:3] != c.history_["val_loss"][:3]


def test_no_global_rng_is_touched(informative):
    X, y = informative
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 - the legacy global RNG is what must stay untouched
    expect_t, expect_n = torch.rand(3), np.random.rand(3)  # noqa: NPY002
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 - the legacy global RNG is what must stay untouched
    EntryPruneSelector(5, fit_mode="fixed", n_updates=2, n_mb=3, random_state=1,
                       **FAST).fit(X, y)
    assert torch.equal(torch.rand(3), expect_t)
    assert np.array_equal(np.random.rand(3), expect_n)  # noqa: NPY002


def test_clone_round_trip():
    sel = EntryPruneFlexSelector(7, c_ratio=0.3, score="magnitude", resize_patience=4,
                                 random_state=2)
    twin = clone(sel)
    assert twin.get_params() == sel.get_params()
    assert not hasattr(twin, "support_")


def test_two_stage_protocol_history(informative):
    X, y = informative
    sel = EntryPruneSelector(10, track_train_loss=True, random_state=0, **FAST).fit(X, y)
    h = sel.history_
    stages = np.array(h["stage"])
    n1, n2 = (stages == 1).sum(), (stages == 2).sum()
    assert n1 == sel.stage1_updates_ and n2 == sel.best_update_
    assert 2 <= sel.best_update_ <= n1
    val = np.array(h["val_loss"])
    assert np.isfinite(val[stages == 1]).all() and np.isnan(val[stages == 2]).all()
    # best_update is the argmin of the stage 1 validation losses after the random start
    assert np.argmin(val[stages == 1][1:]) + 2 == sel.best_update_
    # stage 1 stopped by one of its patience rules (patience=5): exactly 5 updates without
    # a better validation loss, or a top-K left unchanged by the last 5 scorings
    changes = np.array(h["n_changes"])[stages == 1]
    assert n1 - sel.best_update_ == 5 or (n1 >= 6 and np.all(changes[-5:] == 0))
    assert np.isfinite(h["train_loss"]).all()
    assert set(h["n_active"]) == {10 + int(np.ceil(0.2 * 90))}
    assert np.all(np.diff(h["seconds"]) >= 0)


def test_fixed_mode_by_updates_and_by_epochs(informative):
    X, y = informative
    sel = EntryPruneSelector(10, fit_mode="fixed", n_updates=4, n_mb=3, **FAST).fit(X, y)
    assert sel.history_["update"] == [1, 2, 3, 4] and set(sel.history_["stage"]) == {0}
    # 2000 rows, batch 1024: one step per epoch; 7 epochs = 2 full intervals of 3 + 1 step
    sel = EntryPruneSelector(10, fit_mode="fixed", n_epochs=7, n_mb=3, **FAST).fit(X, y)
    assert sel.history_["update"] == [1, 2, 3]
    with pytest.raises(ValueError, match="exactly one of n_updates or n_epochs"):
        EntryPruneSelector(10, fit_mode="fixed", **FAST).fit(X, y)


def test_regime_auto():
    assert regime_settings("auto", 1000, 500) == ("long", 0.2, 100)
    assert regime_settings("auto", 80, 6000) == ("wide", 0.5, 5)
    X, y = make_classification(n_samples=60, n_features=200, n_informative=5,
                               n_redundant=0, shuffle=False, random_state=0)
    sel = EntryPruneSelector(5, patience=3, n_hidden=16, device="cpu").fit(X, y)
    assert sel.regime_ == "wide" and sel.n_mb_ == 5
    assert sel.history_["n_active"][0] == 5 + int(np.ceil(0.5 * 195))


def test_gradient_regrowth_finds_informative_columns(informative):
    X, y = informative
    sel = EntryPruneSelector(10, regrowth="gradient", n_mb=20, random_state=0,
                             **FAST).fit(X, y)
    assert (np.flatnonzero(sel.support_) < 10).sum() >= 8
    base = EntryPruneSelector(10, n_mb=20, random_state=0, **FAST).fit(X, y)
    assert not np.array_equal(sel.scores_, base.scores_), "the switch must change the run"


@pytest.mark.parametrize("regrowth", ["random", "gradient"])
def test_magnitude_score_ablation_runs_and_is_worse_than_entry(informative, regrowth):
    # Documented finding: |W1| of a candidate that entered at 1e-8 says little after one
    # interval of Adam (every weight moves about lr per step), so magnitude scoring
    # recovers far fewer informative columns than the entry score.
    X, y = informative
    mag = EntryPruneSelector(10, score="magnitude", regrowth=regrowth, n_mb=20,
                             random_state=0, **FAST).fit(X, y)
    ent = EntryPruneSelector(10, regrowth=regrowth, n_mb=20, random_state=0,
                             **FAST).fit(X, y)
    assert mag.support_.sum() == 10
    recall = {n: (np.flatnonzero(s.support_) < 10).sum() for n, s in
              (("magnitude", mag), ("entry", ent))}
    assert recall["entry"] >= 8 and recall["magnitude"] < recall["entry"], recall


def test_flex_resizes_within_bounds_and_stage2_follows(informative):
    X, y = informative
    sel = EntryPruneFlexSelector(10, resize_patience=2, patience=40, n_mb=10, n_hidden=32,
                                 device="cpu", random_state=0).fit(X, y)
    assert sel.resizes_, "with resize_patience=2 stage 1 must resize"
    lo, start = round(1.2 * 10), 10 + int(np.ceil(0.2 * 90))
    sizes = [new for _, _, new in sel.resizes_]
    assert all(lo <= s <= 100 for s in sizes)
    assert sel.resizes_[0][2] < start, "the first resize halves the candidates"
    assert len(set(sizes)) >= 2 or sizes[0] == lo
    h = sel.history_
    stage2 = [n for st, n in zip(h["stage"], h["n_active"], strict=True) if st == 2]
    assert len(stage2) == sel.best_update_
    assert stage2[0] in (start, sel.best_input_size_) or len(stage2) == 1
    # monotone path from the start size to the best stage 1 size
    d = np.diff(stage2)
    assert np.all(d <= 0) or np.all(d >= 0)
    assert len(set(stage2)) <= 11


class _Events(EngineObserver):
    def __init__(self):
        self.events = []

    def on_start(self, engine):
        self.events.append(("start", engine.m))

    def before_scoring(self, engine):
        self.events.append(("before", engine.updates))

    def after_scoring(self, engine):
        self.events.append(("after", engine.updates))

    def after_resize(self, engine):
        self.events.append(("resize", engine.m))


def test_observer_sees_every_engine_event_and_changes_nothing(informative):
    X, y = informative
    kw = dict(FAST, resize_patience=2, patience=10, n_mb=10, random_state=0)
    plain = EntryPruneFlexSelector(10, **kw).fit(X, y)
    obs = _Events()
    sel = EntryPruneFlexSelector(10, **kw).fit(X, y, observer=obs)
    assert np.array_equal(plain.support_, sel.support_)
    assert np.array_equal(plain.scores_, sel.scores_)
    np.testing.assert_array_equal(plain.history_["val_loss"], sel.history_["val_loss"])
    kinds = [k for k, _ in obs.events]
    first, second = [i for i, k in enumerate(kinds) if k == "start"]
    assert first == 0
    for part, n_scorings in ((obs.events[first + 1:second], sel.stage1_updates_ - 1),
                             (obs.events[second + 1:], sel.best_update_ - 1)):
        scorings = [e for e in part if e[0] != "resize"]
        # each stage stops at an update before scoring it; every scoring is announced
        # before and after, at the update it belongs to
        assert scorings == [(k, u) for u in range(1, n_scorings + 1)
                            for k in ("before", "after")]
    resized = [m for k, m in obs.events[:second] if k == "resize"]
    assert sel.resizes_ and resized == [new for _, _, new in sel.resizes_]


def test_engine_runs_alone_with_explicit_settings(informative):
    X, y = informative
    settings = EngineSettings(n_select=5, n_inputs=20, n_mb=3, n_hidden=8, lr=1e-3,
                              batch_size=256, score="entry", regrowth="random",
                              init_score=-100.0)
    gen = torch.Generator().manual_seed(0)
    engine = Engine(settings, torch.from_numpy(X), torch.from_numpy(y), 2, gen,
                    torch.device("cpu"))
    engine.run(max_updates=4)
    assert (engine.updates, engine.steps, engine.m) == (4, 12, 20)
    assert engine.topk_features().unique().numel() == 5
    assert torch.isfinite(engine.train_loss())
    assert (engine.entry_score > -100.0).sum() >= 20  # the first interval scores all 20
    with pytest.raises(ValueError, match="score must be"):
        dataclasses.replace(settings, score="nope")
    with pytest.raises(ValueError, match="n_select <= n_inputs"):
        dataclasses.replace(settings, n_inputs=4)


def test_adam_kernel_matches_torch_optim():
    gen = torch.Generator().manual_seed(0)
    net = MLP(6, 8, 3, 1e-2, gen, torch.device("cpu"))
    ref = [p.clone().requires_grad_(True) for p in net.params]
    opt = torch.optim.Adam(ref, lr=1e-2)
    x = torch.rand(16, 6, generator=gen)
    y = torch.randint(0, 3, (16,), generator=gen)
    for _ in range(3):
        net.step(x, y)
        opt.zero_grad()
        h = torch.relu(x @ ref[0].t() + ref[1])
        loss = torch.nn.functional.cross_entropy(h @ ref[2].t() + ref[3].t(), y)
        loss.backward()
        opt.step()
    for p, r in zip(net.params, ref, strict=True):
        torch.testing.assert_close(p, r.detach(), rtol=1e-5, atol=1e-6)


def test_string_and_noncontiguous_labels(informative):
    X, y = informative
    labels = np.where(y == 1, "yes", "no")
    a = EntryPruneSelector(5, random_state=0, fit_mode="fixed", n_updates=3, n_mb=5,
                           **FAST).fit(X, labels)
    b = EntryPruneSelector(5, random_state=0, fit_mode="fixed", n_updates=3, n_mb=5,
                           **FAST).fit(X, y * 7 + 3)
    assert list(a.classes_) == ["no", "yes"]
    assert np.array_equal(a.support_, b.support_)


@pytest.mark.parametrize("case,match", [
    ("k0", ">= 1"), ("kbig", "exceeds"), ("nan", "NaN"), ("inf", "NaN or infinite"),
    ("one_class", "at least 2"), ("lengths", "different lengths"),
    ("score", "score must be"), ("mode", "fit_mode must be"),
])
def test_bad_input_gives_clear_errors(case, match):
    X = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    y = np.arange(40) % 2
    k, kw = 2, {}
    if case == "k0":
        k = 0
    elif case == "kbig":
        k = 7
    elif case == "nan":
        X[3, 2] = np.nan
    elif case == "inf":
        X[0, 0] = np.inf
    elif case == "one_class":
        y = np.zeros(40)
    elif case == "lengths":
        y = y[:30]
    elif case == "score":
        kw = {"score": "nope"}
    elif case == "mode":
        kw = {"fit_mode": "nope"}
    with pytest.raises(ValueError, match=match):
        EntryPruneSelector(k, **FAST, **kw).fit(X, y)


def test_changing_k_after_fit_is_refused(informative):
    X, y = informative
    sel = EntryPruneSelector(5, fit_mode="fixed", n_updates=2, n_mb=3, **FAST).fit(X, y)
    sel.set_params(n_features_to_select=6)
    with pytest.raises(ValueError, match="needs a new fit"):
        sel.get_support()


def test_device_auto_resolves_and_is_recorded(informative):
    X, y = informative
    sel = EntryPruneSelector(5, fit_mode="fixed", n_updates=1, n_mb=2, n_hidden=8,
                             device="auto").fit(X, y)
    assert sel.device_ == ("cuda:0" if torch.cuda.is_available() else "cpu") or \
        sel.device_.startswith("cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            EntryPruneSelector(5, device="cuda").fit(X, y)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_keeps_state_on_the_gpu(informative):
    X, y = informative
    sel = EntryPruneSelector(10, device="cuda", random_state=0).fit(X, y)
    assert sel.device_.startswith("cuda")
    assert (np.flatnonzero(sel.support_) < 10).sum() >= 9
