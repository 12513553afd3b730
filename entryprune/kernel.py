"""The network EntryPrune trains: a two-layer MLP with a hand-written backward pass and Adam.

Zimmer, Okanovic, Hoefler, "EntryPrune: Neural Network Feature Selection using First
Impressions", arXiv 2410.02344: a dense one-hidden-layer MLP over the inputs wired in at
the moment. The training engine (:mod:`entryprune.engine`) rewires those inputs; this
module only knows a network of ``m`` inputs.

Forward and backward are written out by hand (it is four matrix products), which removes
autograd's per-step graph bookkeeping and gives the gradient of W1 that the entry score
accumulates for free; Adam runs as one fused kernel call.
"""

from __future__ import annotations

import math

import torch

__all__ = ["MLP"]


def _uniform(shape, bound, gen, device):
    """Uniform in ``[-bound, bound)`` from ``gen``: the initialisation of every weight.

    The engine uses it too, with ``bound=1e-8``, for the weights of a candidate that has
    just been wired in (the paper's near-zero entry), so one draw rule serves both.
    """
    return (torch.rand(shape, generator=gen, device=device) * 2.0 - 1.0) * bound


class MLP:
    """``Linear(m, h) -> ReLU -> Linear(h, C)`` with a hand-written backward pass and Adam.

    Weights are initialised as ``torch.nn.Linear`` does (uniform in +-1/sqrt(fan_in)) but
    from an explicit generator, so no global random state is touched.

    Why by hand: on a CPU this network is so small that per-step overheads rival the
    matrix products. Logits are kept transposed, (C, batch), because softmax over a short
    last axis is many times slower than over a long contiguous one; ReLU's backward reads
    the activations directly (one fused pass); and Adam runs as one fused kernel call.

    Parameters
    ----------
    m : int
        Number of inputs.
    n_hidden : int
        Hidden units.
    n_classes : int
        Output units.
    lr : float
        Adam learning rate.
    gen : torch.Generator
        Source of the initial weights.
    device : torch.device

    Attributes
    ----------
    W1, b1, W2, b2 : torch.Tensor
        Weights, shapes (h, m), (h,), (C, h) and (C, 1); each holds its last gradient in
        ``.grad`` after :meth:`step`.
    """

    def __init__(self, m, n_hidden, n_classes, lr, gen, device):
        self.device = device
        b1 = 1.0 / math.sqrt(m)
        b2 = 1.0 / math.sqrt(n_hidden)
        self.W1 = _uniform((n_hidden, m), b1, gen, device)
        self.b1 = _uniform((n_hidden,), b1, gen, device)
        self.W2 = _uniform((n_classes, n_hidden), b2, gen, device)
        self.b2 = _uniform((n_classes, 1), b2, gen, device)  # a column: logits are (C, n)
        self.lr = lr
        self.reset_optimizer()

    @property
    def params(self):
        """The weights in a fixed order: W1, b1, W2, b2."""
        return [self.W1, self.b1, self.W2, self.b2]

    def reset_optimizer(self):
        """A fresh Adam state (at start, and after an input-layer resize)."""
        for p in self.params:
            p.grad = None
        self._m = [torch.zeros_like(p) for p in self.params]
        self._v = [torch.zeros_like(p) for p in self.params]
        self._steps = [torch.zeros((), dtype=torch.float32, device=self.device)
                       for _ in self.params]
        self._opt = None  # the torch.optim fallback, built on first use

    def adam_step(self):
        """Adam (PyTorch defaults: betas 0.9/0.999, eps 1e-8) on the current grads."""
        params = self.params
        grads = [p.grad for p in params]
        if MLP._fused_ok is not False:
            try:
                torch._foreach_add_(self._steps, 1.0)
                torch._fused_adam_(params, grads, self._m, self._v, [], self._steps,
                                   lr=self.lr, beta1=0.9, beta2=0.999, weight_decay=0.0,
                                   eps=1e-8, amsgrad=False, maximize=False)
                MLP._fused_ok = True
                return
            except (AttributeError, RuntimeError, NotImplementedError):
                if MLP._fused_ok:
                    raise
                MLP._fused_ok = False
                torch._foreach_add_(self._steps, -1.0)
        if self._opt is None:
            self._opt = torch.optim.Adam(params, lr=self.lr)
        self._opt.step()

    #: whether torch's fused Adam kernel works here (None: not tried yet)
    _fused_ok = None

    def swap_input_columns(self, a, b):
        """Exchange W1 columns ``a`` and ``b`` together with their Adam moments."""
        tensors = [self.W1, self._m[0], self._v[0]]
        if self._opt is not None:
            st = self._opt.state.get(self.W1, {})
            tensors += [st[k] for k in ("exp_avg", "exp_avg_sq") if k in st]
        for t in tensors:
            ta, tb = t.index_select(1, a), t.index_select(1, b)
            t.index_copy_(1, a, tb)
            t.index_copy_(1, b, ta)

    def forward(self, x):
        """Return (hidden activations (n, h), transposed logits (C, n))."""
        h = torch.addmm(self.b1, x, self.W1.t()).relu_()
        return h, torch.addmm(self.b2, self.W2, h.t())

    def loss(self, x, y):
        """Mean cross-entropy on ``(x, y)``."""
        return torch.nn.functional.cross_entropy(self.forward(x)[1].t(), y)

    def output_grad(self, logits_t, y):
        """d(mean CE)/d(logits), transposed: (softmax - onehot) / n, in place."""
        g = torch.softmax(logits_t, dim=0)
        g[y, torch.arange(y.shape[0], device=y.device)] -= 1.0
        return g.div_(y.shape[0])

    def hidden_grad(self, g_t, h):
        """Gradient of the pre-activations (n, h) through W2 and ReLU's backward on ``h``."""
        return torch.ops.aten.threshold_backward(g_t.t() @ self.W2, h, 0)

    def step(self, x, y):
        """One Adam step on a batch; the W1 gradient is left in ``self.W1.grad``."""
        h, logits_t = self.forward(x)
        g_t = self.output_grad(logits_t, y)
        self.W2.grad = g_t @ h
        self.b2.grad = g_t.sum(1, keepdim=True)
        gpre = self.hidden_grad(g_t, h)
        self.W1.grad = gpre.t() @ x
        self.b1.grad = gpre.sum(0)
        self.adam_step()
