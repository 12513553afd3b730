"""CancelOut (Borisov, Haug, Kasneci, ICANN 2019): a learned sigmoid gate per input feature.

The first layer multiplies each input by ``sigmoid(w_d)``; the loss adds the authors'
penalty (``cancelout_penalty``)::

    lam * sum_d sigmoid(w_d)  -  lam_var * Var(w)

The first term is the L1 norm of the gate activations, summed over features (not
averaged), so each gate feels the same pull whatever the width D. The second, applied at
every step as in the authors' training loop, subtracts the unbiased variance of the raw
gate weights: it rewards spreading the weights apart. Its gradient is zero while all
gates sit at their common start and grows as they separate. Gates start at ``w = 4``
(sigmoid ~ 0.98, all features open); the top-K by ``w`` are kept.

Defaults follow the authors' PyTorch example (github.com/unnir/CancelOut,
``pytorch_example.ipynb``, functions ``NeuralNet`` and ``train_ann``): two ReLU hidden
layers of width D + 10, ``nn.Linear``'s own initialisation, Adam at learning rate 5e-3
without weight decay, batches of 32 reshuffled every epoch, 100 epochs, ``lam`` and
``lam_var`` both 1e-3. One deviation: the hidden width is capped at ``max_hidden`` (1024).
The authors ran their rule on 30 features only; on Arcene (D = 10 000) the literal
10 010-wide layers hold 2e8 weights and took 33 s per epoch on one CPU core (about an
hour per fit), and the 49 151 columns of GLA-BRA-180 would need about 77 GB.

References
----------
V. Borisov, J. Haug, G. Kasneci. CancelOut: A Layer for Feature Selection in Deep Neural
Networks. ICANN 2019, LNCS 11728, pp. 72-83.
"""

from __future__ import annotations

import torch

from baselines._torch import gated_setup, train_epochs
from selector_contract import RankingSelector

__all__ = ["CancelOutSelector", "cancelout_penalty", "default_hidden"]

# the authors' hidden width is the input width plus this (NeuralNet(D, D + 10, classes))
_HIDDEN_EXTRA = 10


def default_hidden(n_features: int, max_hidden: int | None) -> list[int]:
    """The authors' two hidden layers of width ``n_features + 10``, capped at ``max_hidden``.

    ``max_hidden=None`` applies no cap.
    """
    width = n_features + _HIDDEN_EXTRA
    if max_hidden is not None:
        width = min(width, int(max_hidden))
    return [width, width]


def cancelout_penalty(w: torch.Tensor, lam: float, lam_var: float) -> torch.Tensor:
    """CancelOut's gate penalty, ``lam * sum(sigmoid(w)) - lam_var * Var(w)``.

    Parameters
    ----------
    w : tensor of shape (D,)
        Raw gate weights (before the sigmoid).
    lam : float
        Weight of the L1 norm of the gate activations ``sigmoid(w)`` (all positive, so the
        norm is their sum).
    lam_var : float
        Weight of the unbiased variance of ``w``; it is subtracted.

    Returns
    -------
    tensor
        The scalar penalty, to add to the task loss.

    References
    ----------
    V. Borisov, J. Haug, G. Kasneci. CancelOut: A Layer for Feature Selection in Deep
    Neural Networks. ICANN 2019.
    """
    return lam * torch.sigmoid(w).sum() - lam_var * torch.var(w)


class CancelOutSelector(RankingSelector):
    """CancelOut gate ranking (Borisov et al., ICANN 2019); keeps the top-K gate weights.

    Parameters
    ----------
    n_features_to_select : int, default=50
    lam : float, default=1e-3
        Weight of the summed gate activations in ``cancelout_penalty`` (the authors'
        ``lambda_1``).
    lam_var : float, default=1e-3
        Weight of the gate weights' variance, subtracted (the authors' ``lambda_2``).
        Once a gate's sigmoid saturates, this is the only penalty gradient it still gets,
        and Adam scales it to full-size steps, so the extreme gates keep drifting apart:
        on ``make_classification`` (1000 x 60, 10 informative) 20 epochs find all 10
        informative columns and 100 epochs 4. 0 drops the term.
    init : float, default=4.0
        Initial gate weight.
    hidden_dims : sequence of int or None, default=None
        None is the authors' network, two hidden layers of width D + 10, each capped at
        ``max_hidden``.
    max_hidden : int or None, default=1024
        Cap on the width chosen by ``hidden_dims=None`` (ignored otherwise); None gives
        the literal D + 10. Uncapped, the first two weight matrices hold about 2 D^2
        numbers: 2e8 at D = 10 000, 3.2 GB in float32 with their gradients and Adam's two
        moments. The cap leaves every D up to 1014 at the authors' width.
    activation : str, default="relu"
    lr : float, default=5e-3
        Adam's learning rate (no weight decay).
    max_epochs : int, default=100
    batch_size : int or None, default=32
        Rows are reshuffled every epoch. None trains on the whole set at every step.
    device : {"auto", "cpu", "cuda"}, default="auto"
    random_state : int or None, default=None

    References
    ----------
    V. Borisov, J. Haug, G. Kasneci. CancelOut: A Layer for Feature Selection in Deep
    Neural Networks. ICANN 2019.
    """

    def __init__(self, n_features_to_select=50, *, lam=1e-3, lam_var=1e-3, init=4.0,
                 hidden_dims=None, max_hidden=1024, activation="relu", lr=5e-3,
                 max_epochs=100, batch_size=32, device="auto", random_state=None):
        self.n_features_to_select = n_features_to_select
        self.lam = lam
        self.lam_var = lam_var
        self.init = init
        self.hidden_dims = hidden_dims
        self.max_hidden = max_hidden
        self.activation = activation
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _fit_scores(self, X, y):
        D = X.shape[1]
        hidden = self.hidden_dims
        if hidden is None:
            hidden = default_hidden(D, self.max_hidden)
        # the authors' layers are plain nn.Linear, so PyTorch's default initialisation
        dev, gen, Xt, yt, net = gated_setup(self, X, y, hidden_dims=hidden, init="torch")
        w = torch.full((D,), float(self.init), device=dev, requires_grad=True)
        lam, lam_var = float(self.lam), float(self.lam_var)

        def loss_fn(xb, yb):
            ce = torch.nn.functional.cross_entropy(net(xb * torch.sigmoid(w)), yb)
            return ce + cancelout_penalty(w, lam, lam_var)

        train_epochs(loss_fn, [*net.parameters(), w], Xt, yt, epochs=self.max_epochs,
                     batch_size=self.batch_size, lr=self.lr, gen=gen, optimizer="adam")
        return w.detach().double().cpu().numpy()
