"""Torch pieces shared by the neural baselines: seeded MLPs and a mini-batch loop."""

from __future__ import annotations

import math

import torch

from entryprune.base import resolve_device, torch_generator

__all__ = ["OPTIMIZERS", "gated_setup", "make_optimizer", "mlp", "to_device", "train_epochs"]


def mlp(sizes, activation: str, gen: torch.Generator, device) -> torch.nn.Sequential:
    """``Linear -> act -> ... -> Linear`` initialised like ``nn.Linear`` from ``gen``."""
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "selu": torch.nn.SELU,
            "sigmoid": torch.nn.Sigmoid}
    if activation not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)}; got {activation!r}")
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        # skip_init: nn.Linear's own init would draw from torch's global RNG
        lin = torch.nn.utils.skip_init(torch.nn.Linear, a, b, device=device)
        bound = 1.0 / math.sqrt(a)
        with torch.no_grad():
            lin.weight.uniform_(-bound, bound, generator=gen)
            lin.bias.uniform_(-bound, bound, generator=gen)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(acts[activation]())
    return torch.nn.Sequential(*layers)


def to_device(X, y, device):
    return (torch.as_tensor(X, dtype=torch.float32, device=device),
            torch.as_tensor(y, dtype=torch.long, device=device))


OPTIMIZERS = ("adam", "sgd")


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """``adam`` (PyTorch defaults) or plain ``sgd`` (no momentum), at learning rate ``lr``."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}")


def train_epochs(loss_fn, params, X, y, *, epochs, batch_size, lr, gen, on_epoch=None,
                 optimizer="adam"):
    """``optimizer`` over shuffled mini-batches; ``loss_fn(xb, yb)`` returns the scalar loss.

    ``batch_size=None`` (or one at least n) trains on the whole set at every step; the
    rows are then used in place, since a mean loss does not depend on their order.
    """
    opt = make_optimizer(optimizer, params, lr)
    n = X.shape[0]
    bs = n if batch_size is None else min(int(batch_size), n)
    def batches():
        if bs == n:
            yield X, y
            return
        perm = torch.randperm(n, generator=gen, device=X.device)
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            yield X[idx], y[idx]

    for epoch in range(int(epochs)):
        for xb, yb in batches():
            opt.zero_grad(set_to_none=True)
            loss_fn(xb, yb).backward()
            opt.step()
        if on_epoch is not None:
            on_epoch(epoch)


def gated_setup(sel, X, y):
    """What a per-feature-gate selector (STG, CancelOut) needs before its gates exist.

    Resolves ``sel.device`` (recorded as ``sel.device_``), seeds a generator from
    ``sel.random_state``, moves the data there and builds the MLP
    ``D -> sel.hidden_dims -> C`` with ``sel.activation``.

    Returns
    -------
    dev, gen, X (tensor), y (tensor), net
    """
    dev = resolve_device(sel.device)
    sel.device_ = str(dev)
    gen = torch_generator(sel.random_state, dev)
    Xt, yt = to_device(X, y, dev)
    D, C = X.shape[1], int(y.max()) + 1
    net = mlp([D, *[int(h) for h in sel.hidden_dims], C], sel.activation, gen, dev)
    return dev, gen, Xt, yt, net
