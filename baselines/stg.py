"""Stochastic gates (Yamada, Lindenbaum, Negahban, Kluger, ICML 2020).

Each feature has a gate ``z_d = clamp(mu_d + sigma * eps_d + 0.5, 0, 1)`` with
``eps ~ N(0, 1)`` during training (a Gaussian-based relaxation of Bernoulli gates); the
network sees ``x * z``. The expected number of open gates,
``sum_d Phi((mu_d + 0.5) / sigma)``, is the regulariser, weighted by ``lam``. At the end
the gates are deterministic, ``clamp(mu + 0.5, 0, 1)``, and the top-K by ``mu`` are kept.
Implemented here because the PyPI ``stg`` package does not run on Python 3.10+.
"""

from __future__ import annotations

import torch

from baselines._torch import gated_setup, train_epochs
from entryprune.base import RankingSelector

__all__ = ["STGSelector"]


class STGSelector(RankingSelector):
    """Stochastic-gates feature ranking (Yamada et al., ICML 2020); keeps the top-K ``mu``.

    Parameters
    ----------
    n_features_to_select : int, default=50
    lam : float, default=0.1
        Weight of the expected-open-gates regulariser.
    sigma : float, default=0.5
        Gate noise standard deviation (the paper's default).
    hidden_dims : sequence of int, default=(100,)
    activation : str, default="tanh"
    optimizer : {"adam", "sgd"}, default="adam"
    lr : float, default=1e-3
    max_epochs : int, default=200
    batch_size : int or None, default=256
        None trains on the whole training set at every step.
    device : {"auto", "cpu", "cuda"}, default="auto"
    random_state : int or None, default=None

    Attributes
    ----------
    scores_ : ndarray, the learned gate means ``mu``.
    gates_ : ndarray, deterministic gates ``clamp(mu + 0.5, 0, 1)``.
    """

    def __init__(self, n_features_to_select=50, *, lam=0.1, sigma=0.5, hidden_dims=(100,),
                 activation="tanh", optimizer="adam", lr=1e-3, max_epochs=200, batch_size=256,
                 device="auto", random_state=None):
        self.n_features_to_select = n_features_to_select
        self.lam = lam
        self.sigma = sigma
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _fit_scores(self, X, y):
        dev, gen, Xt, yt, net = gated_setup(self, X, y)
        D = X.shape[1]
        # mu starts at 0: every gate half open in expectation (the paper's initialisation)
        mu = torch.zeros(D, device=dev, requires_grad=True)
        sigma, lam = float(self.sigma), float(self.lam)
        normal = torch.distributions.Normal(0.0, 1.0)

        def loss_fn(xb, yb):
            eps = torch.randn(D, generator=gen, device=dev)
            z = torch.clamp(mu + sigma * eps + 0.5, 0.0, 1.0)
            ce = torch.nn.functional.cross_entropy(net(xb * z), yb)
            reg = normal.cdf((mu + 0.5) / sigma).sum()
            return ce + lam * reg / D  # per-feature mean keeps lam comparable across D

        train_epochs(loss_fn, [*net.parameters(), mu], Xt, yt, epochs=self.max_epochs,
                     batch_size=self.batch_size, lr=self.lr, gen=gen,
                     optimizer=self.optimizer)
        mu_final = mu.detach().double().cpu().numpy()
        self.gates_ = mu_final.clip(-0.5, 0.5) + 0.5
        return mu_final
