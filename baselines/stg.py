"""Stochastic gates (Yamada, Lindenbaum, Negahban, Kluger, ICML 2020).

Each feature has a gate ``z_d = clamp(mu_d + sigma * eps_d + 0.5, 0, 1)`` with
``eps ~ N(0, 1)`` during training (a Gaussian-based relaxation of Bernoulli gates); the
network sees ``x * z``. The regulariser is the expected fraction of open gates,
``mean_d Phi((mu_d + 0.5) / sigma)``, weighted by ``lam``. At the end the gates are
deterministic, ``clamp(mu + 0.5, 0, 1)``, and the top-K by ``mu`` are kept.

Training follows the authors' code (github.com/runopti/stg, ``python/stg``): every Linear
layer starts from a standard normal truncated to ``[-0.2, 0.2]`` with zero bias, the gate
means from ``0.01 * N(0, 1)``, one noise vector ``eps`` is shared by the whole batch, and
the optimizer applies weight decay 1e-3 to every parameter, gate means included. The
defaults are the settings of the authors' classification example
(``python/examples/Classification-example.ipynb``).
Implemented here because the PyPI ``stg`` package does not run on Python 3.10+.

References
----------
Y. Yamada, O. Lindenbaum, S. Negahban, Y. Kluger. Feature Selection using Stochastic
Gates. Proceedings of the 37th ICML, PMLR 119, 2020.
"""

from __future__ import annotations

import torch

from baselines._torch import gated_setup, train_epochs
from selector_contract import RankingSelector

__all__ = ["STGSelector"]

# scale of the gate means' initial noise (reference: python/stg/layers.py, FeatureSelector)
_MU_INIT_SCALE = 0.01


class STGSelector(RankingSelector):
    """Stochastic-gates feature ranking (Yamada et al., ICML 2020); keeps the top-K ``mu``.

    The defaults reproduce the STG authors' classification example: hidden layers
    [60, 20] with tanh, ``lam`` 0.5, ``sigma`` 0.5, plain SGD at learning rate 0.1 with
    weight decay 1e-3 on the whole training set at every step, for 6000 epochs.

    Parameters
    ----------
    n_features_to_select : int, default=50
    lam : float, default=0.5
        Weight of the regulariser, the mean over features of the probability that a gate
        is open (the reference averages, so ``lam`` does not scale with the width D).
    sigma : float, default=0.5
        Gate noise standard deviation.
    hidden_dims : sequence of int, default=(60, 20)
    activation : str, default="tanh"
    optimizer : {"adam", "sgd"}, default="sgd"
        ``"sgd"`` is plain SGD, no momentum.
    lr : float, default=0.1
    weight_decay : float, default=1e-3
        The optimizer's L2 term, on every parameter: weights, biases and the gate means.
    max_epochs : int, default=6000
    batch_size : int or None, default=None
        None trains on the whole training set at every step.
    device : {"auto", "cpu", "cuda"}, default="auto"
    random_state : int or None, default=None

    Attributes
    ----------
    scores_ : ndarray, the learned gate means ``mu``.
    gates_ : ndarray, deterministic gates ``clamp(mu + 0.5, 0, 1)``.

    References
    ----------
    Y. Yamada, O. Lindenbaum, S. Negahban, Y. Kluger. Feature Selection using Stochastic
    Gates. ICML 2020.
    """

    def __init__(self, n_features_to_select=50, *, lam=0.5, sigma=0.5, hidden_dims=(60, 20),
                 activation="tanh", optimizer="sgd", lr=0.1, weight_decay=1e-3,
                 max_epochs=6000, batch_size=None, device="auto", random_state=None):
        self.n_features_to_select = n_features_to_select
        self.lam = lam
        self.sigma = sigma
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _fit_scores(self, X, y):
        dev, gen, Xt, yt, net = gated_setup(self, X, y, init="stg")
        D = X.shape[1]
        # small random means: every gate about half open, with ties broken from the start
        mu = (_MU_INIT_SCALE * torch.randn(D, generator=gen, device=dev)).requires_grad_()
        sigma, lam = float(self.sigma), float(self.lam)
        normal = torch.distributions.Normal(0.0, 1.0)

        def loss_fn(xb, yb):
            eps = torch.randn(D, generator=gen, device=dev)
            z = torch.clamp(mu + sigma * eps + 0.5, 0.0, 1.0)
            ce = torch.nn.functional.cross_entropy(net(xb * z), yb)
            return ce + lam * normal.cdf((mu + 0.5) / sigma).mean()

        train_epochs(loss_fn, [*net.parameters(), mu], Xt, yt, epochs=self.max_epochs,
                     batch_size=self.batch_size, lr=self.lr, gen=gen,
                     optimizer=self.optimizer, weight_decay=float(self.weight_decay))
        mu_final = mu.detach().double().cpu().numpy()
        self.gates_ = mu_final.clip(-0.5, 0.5) + 0.5
        return mu_final
