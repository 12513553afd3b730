"""NeuroFS (Atashgahi et al., TMLR 2023): input-neuron evolution and the released-code variant.

The evolution tests read ``history_["grown"]`` / ``history_["removed"]`` (the input neurons
switched on / off by each topology update) of small runs, replay them, and check them
against the reference implementation's rules (zahraatashgahi/NeuroFS, ``code/NeuroFS.py``):
a neuron grown at update e cannot be removed at update e+1 while removal is still running,
and neurons are grown only from those that were inactive before the update's removal.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from baselines.neurofs import NeuroFSSelector

D, K = 100, 5
# One hidden layer of 50 and 20 epochs: removal runs for updates 2..12 and swaps input
# neurons from update 3 on, which is enough to exercise protection and regrowth in seconds.
SMALL = dict(n_hidden=50, n_hidden_layers=1, epsilon=5, epochs=20, lr=0.05, batch_size=50,
             device="cpu", random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=200, n_features=D, n_informative=8, n_redundant=0,
                               shuffle=False, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module", params=["gradient", "random"])
def run(request, data):
    X, y = data
    return NeuroFSSelector(K, growth=request.param, **SMALL).fit(X, y)


def _dim_to_remove(sel):
    return int((1 - sel.zeta_in) * D - K)


def _replay(sel):
    """Active input neurons before each update, rebuilt from the recorded removals and
    growths; checks on the way that the replay agrees with the recorded counts."""
    h = sel.history_
    active = np.ones(D, dtype=bool)
    before = []
    for e, (grown, removed) in enumerate(zip(h["grown"], h["removed"], strict=True)):
        before.append(active.copy())
        active[removed] = False
        active[grown] = True
        assert active.sum() == h["n_active_inputs"][e], e
    return before, active


def test_history_replays_to_the_final_active_set(run):
    before, final = _replay(run)
    assert len(before) == run.epochs
    assert final.sum() == run.n_active_inputs_
    # only active neurons carry strength, so the selection lies inside the replayed set
    assert not (run.scores_[~final] != 0).any()
    assert final[run.support_].all()
    # epochs 0-1 rewire connections only, and the last epoch has no update at all
    for e in (0, 1, run.epochs - 1):
        assert run.history_["grown"][e].size == 0 and run.history_["removed"][e].size == 0


def test_grown_neuron_survives_the_next_update_while_removal_runs(run):
    """Reference: a grown neuron's protection counter is 0 (it was set to 0 when the neuron
    was removed), neurons with a counter below 1 are never removed, and the counter of every
    active immature neuron is raised at that update (code/NeuroFS.py l.197-216, l.234)."""
    h = run.history_
    checked = 0
    for e in range(run.epochs - 1):
        # removal still running after update e+1: fewer neurons are off than the target
        still_removing = D - h["n_active_inputs"][e + 1] < _dim_to_remove(run)
        if still_removing and h["grown"][e].size:
            both = np.intersect1d(h["grown"][e], h["removed"][e + 1])
            assert both.size == 0, f"grown at update {e}, removed at {e + 1}: {both}"
            checked += h["grown"][e].size
    assert checked >= 3, "the run grew too few neurons during removal to test protection"


def test_protection_lasts_one_update_only(run):
    """After their protected update grown neurons are ranked like every other neuron, so new
    neurons (whose added connections start at zero) are often removed two updates later."""
    h = run.history_
    removed_two_later = sum(np.intersect1d(h["grown"][e], h["removed"][e + 2]).size
                            for e in range(run.epochs - 2))
    assert removed_two_later > 0


def test_growth_draws_only_on_neurons_inactive_before_the_update(run):
    """Reference: the neurons to add are drawn from ``idx_active_neurons``'s complement, which
    is computed before removal and refreshed only after the weights are added
    (code/NeuroFS.py l.337, l.266, l.352), so a neuron removed at an update cannot come back
    at that same update."""
    before, _ = _replay(run)
    h = run.history_
    n_grown = 0
    for e, active in enumerate(before):
        grown, removed = h["grown"][e], h["removed"][e]
        assert np.intersect1d(grown, removed).size == 0, f"update {e}: removed and regrown"
        assert not active[grown].any(), f"update {e}: grew an already active neuron"
        assert active[removed].all(), f"update {e}: removed an inactive neuron"
        n_grown += grown.size
    assert n_grown > 0


def test_removal_reaches_its_target_and_respects_k(run):
    assert D - run.n_active_inputs_ == _dim_to_remove(run)
    assert run.support_.sum() == K
    assert min(run.history_["n_active_inputs"]) >= K


# -- initialisation ---------------------------------------------------------------------------
def _initial_weights(variant, data):
    """Weights as built: one epoch has no topology update, and lr=0 leaves them as drawn."""
    X, y = data
    params = dict(SMALL, n_hidden=40, epsilon=4, epochs=1, lr=0.0, variant=variant)
    sel = NeuroFSSelector(K, **params).fit(X, y)
    return sel


@pytest.mark.parametrize("variant", ["paper", "released_code"])
def test_initial_weight_scale(variant, data):
    """``released_code``: Keras ``glorot_uniform`` over the dense fan, U(-a, a) with
    a = sqrt(6 / (fan_in + fan_out)), then masked (std a / sqrt(3)). ``paper`` keeps this
    port's Xavier bound over the sparse fan, a factor 1 / sqrt(density) larger."""
    sel = _initial_weights(variant, data)
    for W, M in zip(sel.W_[:-1], sel.masks_[:-1], strict=True):
        n_out, n_in = W.shape
        density = M.float().mean().item()
        assert 0.05 < density < 0.5  # sparse enough for the two scales to differ
        bound = math.sqrt(6.0 / (n_in + n_out))
        if variant == "paper":
            bound /= math.sqrt(density)
        w = W.detach()[M]
        assert w.numel() > 500
        assert (W.detach()[~M] == 0).all()
        assert abs(w.std().item() / (bound / math.sqrt(3)) - 1) < 0.1
        assert 0.9 * bound < w.abs().max().item() <= bound


# -- released-code training loop --------------------------------------------------------------
class _SpySGD(torch.optim.SGD):
    """SGD that records, for every optimiser it builds, how many steps started without any
    momentum buffer (i.e. from a reset optimiser)."""

    built: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fresh_steps = 0
        _SpySGD.built.append(self)

    def step(self, closure=None):
        if not any(s.get("momentum_buffer") is not None for s in self.state.values()):
            self.fresh_steps += 1
        return super().step(closure)


@pytest.mark.parametrize("variant", ["paper", "released_code"])
def test_released_code_resets_momentum_every_epoch_and_uses_keras_l2(variant, data,
                                                                     monkeypatch):
    """The released code compiles a fresh Keras SGD every epoch (code/NeuroFS.py l.501-503)
    and puts ``l2(wd)`` (gradient 2 * wd * w) on the sparse layers only (l.153-166)."""
    X, y = data
    monkeypatch.setattr(_SpySGD, "built", [])
    monkeypatch.setattr(torch.optim, "SGD", _SpySGD)
    epochs, wd = 4, 1e-4
    sel = NeuroFSSelector(K, **dict(SMALL, epochs=epochs, weight_decay=wd, variant=variant))
    sel.fit(X, y)
    fresh = sum(opt.fresh_steps for opt in _SpySGD.built)
    last = _SpySGD.built[-1]

    def decay_of(p):
        (group,) = [g for g in last.param_groups if any(q is p for q in g["params"])]
        return group["weight_decay"]

    if variant == "released_code":
        assert fresh == epochs
        for p in (*sel.W_[:-1], *sel.b_[:-1]):
            assert decay_of(p) == pytest.approx(2 * wd)
        assert decay_of(sel.W_[-1]) == 0.0 and decay_of(sel.b_[-1]) == 0.0
    else:
        assert fresh == 1
        for p in (*sel.W_, *sel.b_):
            assert decay_of(p) == pytest.approx(wd)


def test_unknown_variant_is_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="variant"):
        NeuroFSSelector(K, **dict(SMALL, variant="keras")).fit(X, y)


def test_default_variant_is_paper():
    assert NeuroFSSelector().get_params()["variant"] == "paper"
