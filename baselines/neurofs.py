"""NeuroFS: supervised feature selection with neuron evolution in sparse neural networks.

Atashgahi et al., TMLR 2023 (openreview GcO6ugrLKp, arXiv 2303.07200), re-implemented in
PyTorch from the method's description (the authors' code is TensorFlow 1).

A ``D -> 1000 -> 1000 -> 1000 -> C`` MLP whose weight matrices are sparse with
Erdos-Renyi masks. After every epoch the hidden layers are rewired (drop the smallest
positive and negative weights, regrow where the dense gradient is largest, as RigL), and
from the third epoch on the *input neurons* evolve: the weakest mature ones are switched
off on a schedule that ends at ``frac_epoch_remove`` of training, and some are swapped for
inactive neurons with the largest input gradient. The K active input neurons with the
largest strength (sum of |outgoing weights|) are selected.

Masks are enforced as dense tensors: weights (and their momentum) are multiplied by the
mask after every optimiser step and every topology change, so no weight outside a mask is
ever non-zero.
"""

from __future__ import annotations

import math
import time

import torch

from baselines._torch import to_device
from entryprune.base import (
    PerBudgetSelector,
    check_selector_input,
    resolve_device,
    top_k_mask,
    torch_generator,
)

__all__ = ["NeuroFSSelector"]


def _er_mask(n_in, n_out, epsilon, gen, device):
    """Erdos-Renyi mask (n_out, n_in): keep probability epsilon*(n_in+n_out)/(n_in*n_out)."""
    p = min(1.0, epsilon * (n_in + n_out) / (n_in * n_out))
    return torch.rand((n_out, n_in), generator=gen, device=device) < p


def _drop_set(W, mask, zeta, cols=None):
    """SET pruning: remove the ``zeta`` fraction of the smallest positive weights and of the
    negative weights closest to zero, within ``cols`` (a bool over input columns) if given.
    Returns the number of connections removed."""
    live = mask if cols is None else mask & cols[None, :]
    removed = 0
    for sign in (1.0, -1.0):
        sel = live & ((W * sign) > 0)
        n = int(sel.sum())
        k = int(zeta * n)
        if k == 0:
            continue
        vals = (W * sign)[sel]
        thresh = torch.kthvalue(vals, k).values
        drop = sel & ((W * sign) <= thresh)
        mask &= ~drop
        removed += int(drop.sum())
    W.mul_(mask)
    return removed


def _regrow(W, mask, grad, n, cols=None):
    """RigL growth: switch on the ``n`` absent connections with the largest |grad|
    (within ``cols``); they start at zero."""
    if n <= 0:
        return 0
    score = grad.abs().masked_fill(mask, -1.0)
    if cols is not None:
        score = score.masked_fill(~cols[None, :], -1.0)
    n = min(n, int((score >= 0).sum()))
    if n <= 0:
        return 0
    idx = torch.topk(score.flatten(), n, sorted=False).indices
    mask.view(-1)[idx] = True
    W.view(-1)[idx] = 0.0
    return n


class NeuroFSSelector(PerBudgetSelector):
    """NeuroFS (Atashgahi et al., TMLR 2023): input-neuron evolution in a sparse MLP.

    Parameters
    ----------
    n_features_to_select : int, default=50
    n_hidden : int, default=1000
    n_hidden_layers : int, default=3
    epsilon : float, default=30
        Erdos-Renyi density parameter (about ``epsilon * (n_in + n_out)`` connections).
    zeta_in, zeta_hid : float, default=0.2, 0.3
        Fractions of input / hidden connections rewired per epoch.
    frac_epoch_remove : float, default=0.65
        Input-neuron removal ends at this fraction of the epochs.
    lr, momentum, weight_decay : float, default=0.01, 0.9, 1e-5
        SGD settings of the paper.
    epochs : int, default=100
    batch_size : int, default=100
        20 on the small wide datasets (set by their dataset configs).
    activation : {"tanh", "relu"}, default="tanh"
    growth : {"gradient", "random"}, default="gradient"
        How input neurons are regrown (``random`` is the paper's ablation).
    device : {"auto", "cpu", "cuda"}, default="auto"
    random_state : int or None, default=None

    Attributes
    ----------
    scores_ : ndarray (n_features,)
        Input-neuron strength after the last epoch (0 for inactive neurons).
    support_ : ndarray of bool
        The K active neurons of largest strength.
    n_active_inputs_ : int
        Input neurons still active at the end (about ``zeta_in * D + K``).
    history_ : dict of lists
        Per epoch: ``loss`` (mean training loss), ``n_active_inputs``, ``seconds``.
    device_ : str
    """

    method_name = "NeuroFS"

    def __init__(self, n_features_to_select=50, *, n_hidden=1000, n_hidden_layers=3,
                 epsilon=30, zeta_in=0.2, zeta_hid=0.3, frac_epoch_remove=0.65, lr=0.01,
                 momentum=0.9, weight_decay=1e-5, epochs=100, batch_size=100,
                 activation="tanh", growth="gradient", device="auto", random_state=None):
        self.n_features_to_select = n_features_to_select
        self.n_hidden = n_hidden
        self.n_hidden_layers = n_hidden_layers
        self.epsilon = epsilon
        self.zeta_in = zeta_in
        self.zeta_hid = zeta_hid
        self.frac_epoch_remove = frac_epoch_remove
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.activation = activation
        self.growth = growth
        self.device = device
        self.random_state = random_state

    # -- network --------------------------------------------------------------------------
    def _build(self, D, C, gen, dev):
        sizes = [D] + [int(self.n_hidden)] * int(self.n_hidden_layers) + [C]
        self.W_, self.b_, self.masks_ = [], [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            mask = _er_mask(n_in, n_out, float(self.epsilon), gen, dev)
            # Xavier-uniform scaled to the expected fan of a sparse layer
            density = mask.float().mean().clamp_min(1e-6)
            bound = math.sqrt(6.0 / ((n_in + n_out) * float(density)))
            W = (torch.rand((n_out, n_in), generator=gen, device=dev) * 2 - 1) * bound
            W.mul_(mask)
            self.W_.append(W.requires_grad_(True))
            self.b_.append(torch.zeros(n_out, device=dev, requires_grad=True))
            self.masks_.append(mask)

    def _forward(self, x):
        act = torch.tanh if self.activation == "tanh" else torch.relu
        for W, b in zip(self.W_[:-1], self.b_[:-1], strict=True):
            x = act(torch.nn.functional.linear(x, W, b))
        return torch.nn.functional.linear(x, self.W_[-1], self.b_[-1])

    def _apply_masks(self, opt):
        with torch.no_grad():
            for W, mask in zip(self.W_, self.masks_, strict=True):
                W.mul_(mask)
                buf = opt.state.get(W, {}).get("momentum_buffer")
                if buf is not None:
                    buf.mul_(mask)

    def _dense_grads(self, X, y):
        """Gradient of the mean loss w.r.t. every weight position (inside and outside the
        masks) over the training set, in batches."""
        grads = [torch.zeros_like(W) for W in self.W_]
        bs = max(int(self.batch_size), 256)
        n = X.shape[0]
        for start in range(0, n, bs):
            xb, yb = X[start:start + bs], y[start:start + bs]
            loss = torch.nn.functional.cross_entropy(self._forward(xb), yb, reduction="sum")
            gs = torch.autograd.grad(loss, self.W_)
            for acc, g in zip(grads, gs, strict=True):
                acc.add_(g)
        return [g / n for g in grads]

    # -- fit ------------------------------------------------------------------------------
    def fit(self, X, y):
        """Train the sparse network with neuron evolution and select K input neurons."""
        X, y_enc, classes = check_selector_input(X, y, self.n_features_to_select)
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu'; got {self.activation!r}")
        if self.growth not in ("gradient", "random"):
            raise ValueError(f"growth must be 'gradient' or 'random'; got {self.growth!r}")
        n, D = X.shape
        K = int(self.n_features_to_select)
        self.n_features_in_ = D
        self.classes_ = classes
        dev = resolve_device(self.device)
        self.device_ = str(dev)
        gen = torch_generator(self.random_state, dev)
        Xt, yt = to_device(X, y_enc, dev)
        self._build(D, len(classes), gen, dev)
        opt = torch.optim.SGD([*self.W_, *self.b_], lr=float(self.lr),
                              momentum=float(self.momentum),
                              weight_decay=float(self.weight_decay))
        epochs = int(self.epochs)
        zeta_in, zeta_hid = float(self.zeta_in), float(self.zeta_hid)
        active = torch.ones(D, dtype=torch.bool, device=dev)
        grown_at = torch.full((D,), -1, dtype=torch.long, device=dev)
        n_in_budget = int(self.masks_[0].sum())
        dim_to_remove = max(0, int((1 - zeta_in) * D - K))
        epoch_remove = int(float(self.frac_epoch_remove) * epochs)
        removed = 0
        bs = min(int(self.batch_size), n)
        self.history_ = {"loss": [], "n_active_inputs": [], "seconds": []}
        t0 = time.perf_counter()

        for e in range(epochs):
            perm = torch.randperm(n, generator=gen, device=dev)
            total = torch.zeros((), device=dev)
            for start in range(0, n, bs):
                idx = perm[start:start + bs]
                opt.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(self._forward(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()
                self._apply_masks(opt)
                total += loss.detach() * idx.shape[0]
            if e < epochs - 1:  # no topology change after the last epoch
                removed = self._evolve(e, epochs, Xt, yt, gen, active, grown_at, n_in_budget,
                                       dim_to_remove, epoch_remove, removed, K, zeta_in,
                                       zeta_hid, opt)
            self.history_["loss"].append(float(total) / n)
            self.history_["n_active_inputs"].append(int(active.sum()))
            self.history_["seconds"].append(time.perf_counter() - t0)

        with torch.no_grad():
            strength = self.W_[0].abs().sum(0) * active
        self.scores_ = strength.double().cpu().numpy()
        self.n_active_inputs_ = int(active.sum())
        self.support_ = top_k_mask(self.scores_, K)
        self.k_fitted_ = K
        return self

    def _evolve(self, e, epochs, X, y, gen, active, grown_at, budget, dim_to_remove,
                epoch_remove, removed, K, zeta_in, zeta_hid, opt):
        grads = self._dense_grads(X, y)
        W0, M0, G0 = self.W_[0].data, self.masks_[0], grads[0]
        with torch.no_grad():
            if e < 2:
                # plain SET/RigL rewiring of the input layer; every active neuron matures
                dropped = _drop_set(W0, M0, zeta_in)
                _regrow(W0, M0, G0, dropped, cols=active)
            else:
                n_remove = 0
                if removed < dim_to_remove and e < epoch_remove:
                    n_remove = math.ceil((dim_to_remove - removed) / (epoch_remove - e))
                n_update = int(removed * zeta_in * (1 - e / epochs))
                mature = active & (grown_at < e)
                strength = W0.abs().sum(0)
                n_out = min(n_remove + n_update, int(mature.sum()) - K)
                if n_out > 0:
                    cand = strength.masked_fill(~mature, float("inf"))
                    out = torch.topk(cand, n_out, largest=False, sorted=False).indices
                    active[out] = False
                    M0[:, out] = False
                    W0[:, out] = 0.0
                    removed += max(0, n_out - n_update)
                _drop_set(W0, M0, zeta_in, cols=active)
                n_grow = min(n_update, int((~active).sum()))
                if n_grow > 0:
                    if self.growth == "gradient":
                        gnorm = G0.norm(dim=0).masked_fill(active, -1.0)
                        new = torch.topk(gnorm, n_grow, sorted=False).indices
                    else:
                        keys = torch.rand(active.shape[0], generator=gen,
                                          device=active.device).masked_fill(active, 2.0)
                        new = torch.topk(keys, n_grow, largest=False, sorted=False).indices
                    active[new] = True
                    grown_at[new] = e
                # keep the input layer's connection budget
                _regrow(W0, M0, G0, budget - int(M0.sum()), cols=active)
            for W, M, G in zip(self.W_[1:-1], self.masks_[1:-1], grads[1:-1], strict=True):
                _regrow(W.data, M, G, _drop_set(W.data, M, zeta_hid))
        self._apply_masks(opt)
        return removed

