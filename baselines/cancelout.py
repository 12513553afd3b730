"""CancelOut (Borisov, Haug, Kasneci, 2019): a learned sigmoid gate per input feature.

The first layer multiplies each input by ``sigmoid(w_d)``; the loss adds a penalty
``lam * mean(sigmoid(w))`` that pushes gates closed (the paper's L1-style term on the
gate activations; its variance term is omitted, as in the authors' reference usage).
Gates start at ``w = 4`` (sigmoid ~ 0.98, all features open). The top-K by ``w`` are kept.
"""

from __future__ import annotations

import torch

from baselines._torch import gated_setup, train_epochs
from entryprune.base import RankingSelector

__all__ = ["CancelOutSelector"]


class CancelOutSelector(RankingSelector):
    """CancelOut gate ranking (Borisov et al. 2019); keeps the top-K gate weights.

    Parameters
    ----------
    n_features_to_select : int, default=50
    lam : float, default=0.1
        Weight of the gate penalty. The paper gives no value for this setting; 0.01 left
        the gates near their start (2 of 10 informative columns found on the
        ``make_classification`` check), 0.1 moves them (10 of 10).
    init : float, default=4.0
        Initial gate weight.
    hidden_dims : sequence of int, default=(100,)
    activation : str, default="relu"
    lr : float, default=1e-3
    max_epochs : int, default=100
    batch_size : int, default=256
    device : {"auto", "cpu", "cuda"}, default="auto"
    random_state : int or None, default=None
    """

    def __init__(self, n_features_to_select=50, *, lam=0.1, init=4.0, hidden_dims=(100,),
                 activation="relu", lr=1e-3, max_epochs=100, batch_size=256, device="auto",
                 random_state=None):
        self.n_features_to_select = n_features_to_select
        self.lam = lam
        self.init = init
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _fit_scores(self, X, y):
        dev, gen, Xt, yt, net = gated_setup(self, X, y)
        D = X.shape[1]
        w = torch.full((D,), float(self.init), device=dev, requires_grad=True)
        lam = float(self.lam)

        def loss_fn(xb, yb):
            gate = torch.sigmoid(w)
            return torch.nn.functional.cross_entropy(net(xb * gate), yb) + lam * gate.mean()

        train_epochs(loss_fn, [*net.parameters(), w], Xt, yt, epochs=self.max_epochs,
                     batch_size=self.batch_size, lr=self.lr, gen=gen)
        return w.detach().double().cpu().numpy()
