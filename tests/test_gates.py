"""STG and CancelOut against their authors' code: initialisation, loss, defaults, gate motion.

References: Yamada et al., "Feature Selection using Stochastic Gates", ICML 2020 (code:
github.com/runopti/stg, ``python/stg``); Borisov, Haug, Kasneci, "CancelOut: A Layer for
Feature Selection in Deep Neural Networks", ICANN 2019 (code: github.com/unnir/CancelOut,
``pytorch_example.ipynb``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import baselines.cancelout as cancelout_module
import baselines.stg as stg_module
from baselines.cancelout import CancelOutSelector
from baselines.stg import STGSelector
from bench.factory import selector_spec

# Arcene's shape: few rows, many columns, a handful of them informative.
N_ROWS, N_COLS, N_INFORMATIVE = 160, 10_000, 5

# Standard deviation of N(0, 1) truncated to [-0.2, 0.2], the STG authors' weight init:
# var = 1 - 2 a phi(a) / (2 Phi(a) - 1) with a = 0.2.
_A = 0.2
TRUNC_STD = math.sqrt(1 - 2 * _A * math.exp(-_A**2 / 2) / math.sqrt(2 * math.pi)
                      / math.erf(_A / math.sqrt(2)))


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(0)
    y = np.arange(N_ROWS) % 2
    X = rng.normal(size=(N_ROWS, N_COLS)).astype(np.float32)
    # each informative column alone separates the classes (means 3 sd apart)
    X[:, :N_INFORMATIVE] += (1.5 * (2 * y - 1)).astype(np.float32)[:, None]
    return X, y


def spy_on_net(monkeypatch, module):
    """Record the network that ``module``'s selector builds, through its ``gated_setup``."""
    seen = {}
    real = module.gated_setup

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen["net"] = out[-1]
        return out

    monkeypatch.setattr(module, "gated_setup", spy)
    return seen


def linears(net):
    return [m for m in net.modules() if isinstance(m, torch.nn.Linear)]


def small_data(n=50, d=400, seed=1):
    X = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return X, np.arange(n) % 2


# --- STG -------------------------------------------------------------------------------


def test_stg_theoretical_init_std():
    # guards the constant itself: about uniform on [-0.2, 0.2] (0.2 / sqrt 3 = 0.1155)
    assert TRUNC_STD == pytest.approx(0.11516, abs=1e-4)


def test_stg_linear_init_follows_reference(monkeypatch):
    seen = spy_on_net(monkeypatch, stg_module)
    X, y = small_data()
    STGSelector(5, hidden_dims=[300, 200], max_epochs=0, device="cpu", random_state=0).fit(X, y)
    layers = linears(seen["net"])
    assert [lin.weight.shape[1] for lin in layers] == [400, 300, 200]
    for lin in layers:
        assert float(lin.weight.detach().abs().max()) <= 0.2
        assert torch.count_nonzero(lin.bias) == 0
    # the spread does not depend on fan-in (nn.Linear's default would give 0.029 and 0.033)
    for lin in layers[:2]:
        assert float(lin.weight.detach().std()) == pytest.approx(TRUNC_STD, abs=0.002)
        assert abs(float(lin.weight.detach().mean())) < 0.002


def test_stg_weight_decay_and_gate_init_follow_reference():
    # X = 0 gives the gates no gradient from the loss and lam = 0 none from the
    # regulariser, so one SGD step changes mu by weight decay alone: mu (1 - lr * wd).
    X = np.zeros((40, 30), dtype=np.float32)
    y = np.arange(40) % 2
    kw = dict(lam=0.0, hidden_dims=[8], device="cpu", random_state=0)
    mu0 = STGSelector(5, max_epochs=0, **kw).fit(X, y).scores_
    mu1 = STGSelector(5, max_epochs=1, **kw).fit(X, y).scores_
    # gate means start at 0.01 N(0, 1), not all at zero
    assert np.all(mu0 != 0) and 0.005 < mu0.std() < 0.02
    np.testing.assert_allclose(mu1, mu0 * (1 - 0.1 * 1e-3), rtol=2e-6)
    assert not np.allclose(mu1, mu0, rtol=1e-5, atol=0)


# The STG authors' classification example (runopti/stg,
# python/examples/Classification-example.ipynb), spelled out so that the wide-data test
# checks the initialisation and weight decay even where the defaults differ.
REFERENCE_SETTINGS = dict(optimizer="sgd", lr=0.1, batch_size=None, hidden_dims=[60, 20],
                          activation="tanh", lam=0.5, sigma=0.5, weight_decay=1e-3,
                          max_epochs=6000)


def test_stg_defaults_are_the_reference_example():
    params = STGSelector().get_params()
    got = {key: params[key] for key in REFERENCE_SETTINGS}
    got["hidden_dims"] = list(got["hidden_dims"])
    assert got == REFERENCE_SETTINGS


def test_stg_gates_move_on_wide_data(wide):
    X, y = wide
    settings = dict(REFERENCE_SETTINGS, max_epochs=600)
    sel = STGSelector(N_INFORMATIVE, device="cpu", random_state=0, **settings).fit(X, y)
    mu = sel.scores_
    # nn.Linear's init left max |mu| at 0.03 here after 1000 epochs (0.07 on Arcene
    # after 3000); the reference init reaches 0.27 in 600
    assert np.abs(mu).max() > 0.2
    ranks = np.argsort(-mu)
    assert np.isin(ranks[:N_INFORMATIVE], np.arange(N_INFORMATIVE)).sum() >= N_INFORMATIVE - 1
    assert set(range(N_INFORMATIVE)) <= set(ranks[:20])


@pytest.mark.parametrize("cls, name", [(STGSelector, "stg"),
                                       (CancelOutSelector, "cancelout")])
def test_class_defaults_match_config(cls, name):
    spec = selector_spec(name)
    params = cls().get_params()
    for key, value in spec.items():
        if key in ("name", "_target_"):
            continue
        got = params[key]
        if isinstance(value, list):
            value, got = list(value), list(got)
        assert got == value, key


# --- CancelOut -------------------------------------------------------------------------


def test_cancelout_penalty_matches_authors_formula():
    from baselines.cancelout import cancelout_penalty

    w = torch.tensor([4.0, 0.0, -2.0])
    # sum of sigmoids: 0.98201379 + 0.5 + 0.11920292 = 1.60121671
    # unbiased variance of w: mean 2/3, squared deviations (100 + 4 + 64) / 9, over 2
    expect = 1e-3 * 1.60121671 - 1e-3 * (168 / 9) / 2
    assert float(cancelout_penalty(w, lam=1e-3, lam_var=1e-3)) == pytest.approx(expect,
                                                                               rel=1e-6)
    # the two weights enter separately
    assert float(cancelout_penalty(w, lam=1e-3, lam_var=0.0)) == pytest.approx(1.60121671e-3,
                                                                              rel=1e-6)


def test_cancelout_defaults_follow_authors_notebook():
    p = CancelOutSelector().get_params()
    assert (p["lam"], p["lam_var"], p["init"]) == (1e-3, 1e-3, 4.0)
    assert (p["lr"], p["batch_size"], p["max_epochs"]) == (5e-3, 32, 100)
    assert p["activation"] == "relu" and p["hidden_dims"] is None and p["max_hidden"] == 1024


def test_cancelout_default_network_and_torch_init(monkeypatch):
    seen = spy_on_net(monkeypatch, cancelout_module)
    X, y = small_data(d=400)
    CancelOutSelector(5, max_epochs=0, device="cpu", random_state=0).fit(X, y)
    layers = linears(seen["net"])
    # the authors' NeuralNet(D, D + 10, classes): two hidden layers of width D + 10
    assert [tuple(lin.weight.shape) for lin in layers] == [(410, 400), (410, 410), (2, 410)]
    # nn.Linear's own init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases
    for lin in layers:
        bound = 1 / math.sqrt(lin.weight.shape[1])
        assert float(lin.weight.detach().abs().max()) <= bound
        assert float(lin.bias.detach().abs().max()) <= bound
    for lin in layers[:2]:
        expect = 1 / math.sqrt(3 * lin.weight.shape[1])
        assert float(lin.weight.detach().std()) == pytest.approx(expect, rel=0.02)


def test_cancelout_default_width_is_capped(monkeypatch):
    seen = spy_on_net(monkeypatch, cancelout_module)
    X, y = small_data(n=20, d=1100)
    CancelOutSelector(5, max_epochs=0, device="cpu", random_state=0).fit(X, y)
    assert [lin.weight.shape[0] for lin in linears(seen["net"])] == [1024, 1024, 2]
    assert cancelout_module.default_hidden(1100, None) == [1110, 1110]
    assert cancelout_module.default_hidden(1014, 1024) == [1024, 1024]


def test_cancelout_finds_informative_columns_on_wide_data(wide):
    X, y = wide
    # a narrow network keeps this quick; the loss, optimiser, lr, batch and epochs are the
    # defaults
    sel = CancelOutSelector(N_INFORMATIVE, hidden_dims=[64, 64], device="cpu",
                            random_state=0).fit(X, y)
    w = sel.scores_
    assert set(np.flatnonzero(sel.get_support())) == set(range(N_INFORMATIVE))
    # the summed penalty moves the uninformative gates well below their start at 4
    assert np.median(w[N_INFORMATIVE:]) < 4.0 - 1.0
