"""Torch pieces shared by the neural baselines: seeded MLPs and a mini-batch loop."""

from __future__ import annotations

import math

import torch

__all__ = ["mlp", "to_device", "train_epochs"]


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


def train_epochs(loss_fn, params, X, y, *, epochs, batch_size, lr, gen, on_epoch=None):
    """Adam over shuffled mini-batches; ``loss_fn(xb, yb)`` returns the scalar loss."""
    opt = torch.optim.Adam(params, lr=lr)
    n = X.shape[0]
    bs = min(int(batch_size), n)
    for epoch in range(int(epochs)):
        perm = torch.randperm(n, generator=gen, device=X.device)
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(X[idx], y[idx])
            loss.backward()
            opt.step()
        if on_epoch is not None:
            on_epoch(epoch)
