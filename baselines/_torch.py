"""Torch pieces shared by the neural baselines: seeded MLPs and a mini-batch loop."""

from __future__ import annotations

import math

import torch

from selector_contract import resolve_device, torch_generator

__all__ = ["INITS", "OPTIMIZERS", "gated_setup", "make_optimizer", "mlp", "to_device",
           "train_epochs"]

INITS = ("torch", "stg")

# STG's bound on its truncated-normal weights (Yamada et al., ICML 2020; runopti/stg,
# python/stg/stg.py, ``init_weights``): a standard normal kept within +-2 * 0.1.
_STG_TRUNC_BOUND = 2 * 0.1


def mlp(sizes, activation: str, gen: torch.Generator, device,
        init: str = "torch") -> torch.nn.Sequential:
    """``Linear -> act -> ... -> Linear`` with every weight drawn from ``gen``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first, output last.
    activation : {"relu", "tanh", "selu", "sigmoid"}
        Applied after every layer but the last.
    gen : torch.Generator
        Source of all randomness (torch's global RNG is never used).
    device : torch.device or str
    init : {"torch", "stg"}, default="torch"
        ``"torch"``: ``nn.Linear``'s default, weights and biases uniform on
        ``+-1/sqrt(fan_in)``. ``"stg"``: the STG authors' ``init_weights`` (Yamada et al.,
        ICML 2020): weights from a standard normal truncated to ``[-0.2, 0.2]`` (standard
        deviation about 0.115, whatever the fan-in) and zero biases.
    """
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "selu": torch.nn.SELU,
            "sigmoid": torch.nn.Sigmoid}
    if activation not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)}; got {activation!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}; got {init!r}")
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        # skip_init: nn.Linear's own init would draw from torch's global RNG
        lin = torch.nn.utils.skip_init(torch.nn.Linear, a, b, device=device)
        with torch.no_grad():
            if init == "stg":
                # the reference bounds an unscaled N(0, 1), so std=1 here, not 0.1
                torch.nn.init.trunc_normal_(lin.weight, mean=0.0, std=1.0,
                                            a=-_STG_TRUNC_BOUND, b=_STG_TRUNC_BOUND,
                                            generator=gen)
                lin.bias.zero_()
            else:
                bound = 1.0 / math.sqrt(a)
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


def make_optimizer(name: str, params, lr: float,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """``adam`` (PyTorch defaults) or plain ``sgd`` (no momentum), at learning rate ``lr``.

    ``weight_decay`` is the optimizer's own L2 term (``weight_decay * p`` added to every
    gradient), on every parameter in ``params``.
    """
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}")


def train_epochs(loss_fn, params, X, y, *, epochs, batch_size, lr, gen, on_epoch=None,
                 optimizer="adam", weight_decay=0.0):
    """``optimizer`` over shuffled mini-batches; ``loss_fn(xb, yb)`` returns the scalar loss.

    ``batch_size=None`` (or one at least n) trains on the whole set at every step; the
    rows are then used in place, since a mean loss does not depend on their order.
    ``weight_decay`` goes to the optimizer (see ``make_optimizer``).
    """
    opt = make_optimizer(optimizer, params, lr, weight_decay)
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


def gated_setup(sel, X, y, *, hidden_dims=None, init="torch"):
    """What a per-feature-gate selector (STG, CancelOut) needs before its gates exist.

    Resolves ``sel.device`` (recorded as ``sel.device_``), seeds a generator from
    ``sel.random_state``, moves the data there and builds the MLP
    ``D -> hidden -> C`` with ``sel.activation`` and initialisation ``init`` (see ``mlp``).
    ``hidden`` is ``hidden_dims`` when given, else ``sel.hidden_dims``.

    Returns
    -------
    dev, gen, X (tensor), y (tensor), net
    """
    dev = resolve_device(sel.device)
    sel.device_ = str(dev)
    gen = torch_generator(sel.random_state, dev)
    Xt, yt = to_device(X, y, dev)
    D, C = X.shape[1], int(y.max()) + 1
    hidden = sel.hidden_dims if hidden_dims is None else hidden_dims
    net = mlp([D, *[int(h) for h in hidden], C], sel.activation, gen, dev, init=init)
    return dev, gen, Xt, yt, net
