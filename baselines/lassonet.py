"""LassoNet (Lemhadri, Ruan, Abraham, Tibshirani, JMLR 2021) through the ``lassonet`` package.

The package fits a path over the penalty lambda; a feature's importance is the lambda at
which it leaves the model, so the top-K by importance are the last K to leave.
"""

from __future__ import annotations

import numpy as np

from entryprune.base import RankingSelector, resolve_device

__all__ = ["LassoNetSelector"]


class LassoNetSelector(RankingSelector):
    """Rank features by when they leave the LassoNet regularisation path.

    Every parameter is passed to ``lassonet.LassoNetClassifier`` explicitly and it gets
    NumPy arrays only: its estimator rewrites some settings under ``clone`` and returns
    tensors for DataFrames. It seeds torch's global RNG itself; the call runs inside
    ``torch.random.fork_rng`` so the caller's global state is left as it was.

    Parameters
    ----------
    n_features_to_select : int, default=50
    hidden_dims : sequence of int, default=(100,)
    M : float, default=10
        Hierarchy coefficient (the package's and paper's default).
    path_multiplier : float, default=1.02
        Lambda grows by this factor along the path.
    lambda_start : float or "auto", default="auto"
    n_iters : (int, int), default=(1000, 100)
        Epochs for the dense model and for each path step.
    patience : (int, int), default=(100, 10)
    batch_size : int or None, default=None (full batch)
    val_size : float, default=0.1
        Validation share for the package's early stopping.
    device : {"auto", "cpu", "cuda"}, default="auto"
    random_state : int or None, default=None

    Attributes
    ----------
    scores_ : ndarray
        Lambda at which each feature left the path (features never dropped rank first,
        features that leave at the same lambda are ordered by index).
    path_length_ : int
    """

    def __init__(self, n_features_to_select=50, *, hidden_dims=(100,), M=10.0,
                 path_multiplier=1.02, lambda_start="auto", n_iters=(1000, 100),
                 patience=(100, 10), batch_size=None, val_size=0.1, device="auto",
                 random_state=None):
        self.n_features_to_select = n_features_to_select
        self.hidden_dims = hidden_dims
        self.M = M
        self.path_multiplier = path_multiplier
        self.lambda_start = lambda_start
        self.n_iters = n_iters
        self.patience = patience
        self.batch_size = batch_size
        self.val_size = val_size
        self.device = device
        self.random_state = random_state

    def _fit_scores(self, X, y):
        import torch
        from lassonet import LassoNetClassifier

        dev = resolve_device(self.device)
        self.device_ = str(dev)
        seed = int(np.random.SeedSequence(self.random_state).generate_state(1)[0] % (2**31))
        model = LassoNetClassifier(
            hidden_dims=tuple(int(h) for h in self.hidden_dims),
            lambda_start=self.lambda_start, lambda_seq=None, gamma=0.0, gamma_skip=0.0,
            path_multiplier=float(self.path_multiplier), M=float(self.M), groups=None,
            dropout=0, batch_size=None if self.batch_size is None else int(self.batch_size),
            optim=None, n_iters=tuple(int(i) for i in self.n_iters),
            patience=tuple(int(p) for p in self.patience), tol=0.99, backtrack=False,
            val_size=float(self.val_size), device=dev, verbose=0, random_state=seed,
            torch_seed=seed)
        devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            path = model.path(np.ascontiguousarray(X, dtype=np.float32),
                              np.asarray(y, dtype=np.int64), return_state_dicts=False,
                              disable_lambda_warning=True)
        self.path_length_ = len(path)
        imp = np.asarray(model.feature_importances_.cpu().numpy(), dtype=np.float64)
        finite = imp[np.isfinite(imp)]
        top = finite.max() * 2 + 1 if finite.size else 1.0
        return np.where(np.isfinite(imp), imp, top)
