"""LassoNet (Lemhadri, Ruan, Abraham, Tibshirani, JMLR 2021) through the ``lassonet`` package.

The package fits a path over the penalty lambda; a feature's importance is the lambda at
which it leaves the model, so the top-K by importance are the last K to leave. Lambda grows
in steps (x ``path_multiplier``), so several features often leave at the same step; those
are ordered by the norm of their skip-layer weights (``||theta_j||_2`` over the outputs) at
the last path point where they were still active, a quantity the method itself measures.
"""

from __future__ import annotations

import numbers
import re

import numpy as np

from selector_contract import RankingSelector, count_separated, resolve_device

__all__ = ["LassoNetSelector", "PathRecord", "lexicographic_scores", "resolve_hidden_dims"]

_RELATIVE = re.compile(r"^\s*D\s*(?:/\s*(\d+))?\s*$")


def resolve_hidden_dims(hidden_dims, n_features: int) -> tuple[int, ...]:
    """Hidden-layer widths, each an int or a size relative to the number of columns D.

    Parameters
    ----------
    hidden_dims : sequence of int or str
        A positive int is a width; ``"D"`` is D and ``"D/n"`` (n a positive int) is
        ``max(1, D // n)``, the rounding of LassoNet's own benchmark (``data_dim // 3``).
    n_features : int
        D, the number of input columns.

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        For any other entry (a float, zero, ``"D*3"``, ``"D/0"``).
    """
    dims = []
    for h in hidden_dims:
        if isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1:
            dims.append(int(h))
            continue
        m = _RELATIVE.match(h) if isinstance(h, str) else None
        if m is None or (m.group(1) is not None and int(m.group(1)) < 1):
            raise ValueError(
                f"hidden_dims entries must be positive ints, 'D' or 'D/n' with n >= 1; "
                f"got {h!r}")
        dims.append(max(1, n_features // int(m.group(1) or 1)))
    return tuple(dims)


class PathRecord:
    """When each feature leaves a LassoNet path, and its skip-layer norm just before.

    Fed one path point at a time (the dense model first), it keeps two numbers per feature
    instead of the path's state dicts. A feature leaves at the first point after the first
    one where it is inactive, and stays left even if it comes back later: the rule of the
    package's ``feature_importances_`` (``BaseLassoNet._compute_feature_importances``).

    Parameters
    ----------
    n_features : int

    Attributes
    ----------
    left_at_ : ndarray of float, shape (n_features,)
        Lambda of the point where the feature left; ``inf`` if it never did.
    last_norm_ : ndarray of float, shape (n_features,)
        Skip-layer norm at the last point before it left; for a feature that never left,
        at the latest point added.
    """

    def __init__(self, n_features: int):
        self.left_at_ = np.full(int(n_features), np.inf)
        self.last_norm_ = np.zeros(int(n_features))
        self._current = None

    def add(self, lambda_, selected, norms) -> None:
        """Record one path point: its lambda, active features and skip-layer norms."""
        selected = np.asarray(selected, dtype=bool).ravel()
        norms = np.asarray(norms, dtype=np.float64).ravel()
        if self._current is None:
            # The first point is where the path starts from: nothing can have left yet.
            self._current = selected.copy()
        else:
            self.left_at_[self._current & ~selected] = float(lambda_)
            self._current &= selected
        # Setting left_at_ first keeps a leaving feature's norm at its last active point.
        live = np.isinf(self.left_at_)
        self.last_norm_[live] = norms[live]


def lexicographic_scores(primary, secondary) -> np.ndarray:
    """One score per column that orders by ``primary``, then ``secondary`` (larger first).

    The score is the dense rank of the pair, so columns equal on both keys stay equal (and
    ``top_k_mask`` takes them by index, as for any selector).

    Parameters
    ----------
    primary, secondary : array-like of float, shape (n_features,)
        No NaN; ``inf`` is allowed.

    Returns
    -------
    ndarray of float, shape (n_features,)
        ``0 .. m-1`` for the ``m`` distinct pairs, larger = more important.
    """
    pairs = np.column_stack([np.asarray(primary, dtype=np.float64).ravel(),
                             np.asarray(secondary, dtype=np.float64).ravel()])
    if np.isnan(pairs).any():
        raise ValueError("lexicographic_scores got NaN keys")
    # np.unique over rows sorts them lexicographically, first column first.
    _, rank = np.unique(pairs, axis=0, return_inverse=True)
    return rank.ravel().astype(np.float64)


class LassoNetSelector(RankingSelector):
    """Rank features by when they leave the LassoNet regularisation path.

    Every parameter is passed to ``lassonet.LassoNetClassifier`` explicitly and it gets
    NumPy arrays only: its estimator rewrites some settings under ``clone`` and returns
    tensors for DataFrames. It seeds torch's global RNG itself; the call runs inside
    ``torch.random.fork_rng`` so the caller's global state is left as it was.

    Parameters
    ----------
    n_features_to_select : int, default=50
    hidden_dims : sequence of int or str, default=(100,)
        Hidden-layer widths; ``"D/3"`` is a third of the input columns (see
        :func:`resolve_hidden_dims`), the width of LassoNet's own benchmark.
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
        Rank of each feature by exit lambda, then by skip-layer norm (see
        :func:`lexicographic_scores`); larger = kept longer.
    lambda_scores_ : ndarray
        Lambda at which each feature left the path (``inf``: never left). This is the
        primary score that :meth:`n_separated` counts with.
    skip_norms_ : ndarray
        Skip-layer norm of each feature at the last path point where it was still active
        (the final point for a feature that never left): the tie-break.
    n_tied_in_support_ : int
        Of the current K selected features, how many leave at the same lambda as the best
        feature left out, so that lambda alone could not choose them; the tie-break did
        (:meth:`n_tiebroken` of them) or, where the norms are equal too, the index.
    hidden_dims_ : tuple of int
        The widths used, ``"D/n"`` resolved.
    path_length_ : int
    device_ : str
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

    def package_estimator(self, n_features: int, **changes):
        """The ``lassonet.LassoNetClassifier`` that :meth:`fit` runs on ``n_features`` columns.

        Every setting is explicit; ``changes`` replace some of them (a benchmark that
        times epochs shortens ``n_iters`` and disables ``patience``). Also sets
        ``hidden_dims_`` and ``device_``.
        """
        from lassonet import LassoNetClassifier

        self.hidden_dims_ = resolve_hidden_dims(self.hidden_dims, n_features)
        dev = resolve_device(self.device)
        self.device_ = str(dev)
        seed = int(np.random.SeedSequence(self.random_state).generate_state(1)[0] % (2**31))
        settings = dict(
            hidden_dims=self.hidden_dims_,
            lambda_start=self.lambda_start, lambda_seq=None, gamma=0.0, gamma_skip=0.0,
            path_multiplier=float(self.path_multiplier), M=float(self.M), groups=None,
            dropout=0, batch_size=None if self.batch_size is None else int(self.batch_size),
            optim=None, n_iters=tuple(int(i) for i in self.n_iters),
            patience=tuple(int(p) for p in self.patience), tol=0.99, backtrack=False,
            val_size=float(self.val_size), device=dev, verbose=0, random_state=seed,
            torch_seed=seed)
        unknown = sorted(set(changes) - set(settings))
        if unknown:
            raise ValueError(f"package_estimator got unknown settings {', '.join(unknown)}")
        return LassoNetClassifier(**{**settings, **changes})

    def _fit_scores(self, X, y):
        import torch

        model = self.package_estimator(X.shape[1])
        dev = model.device
        record = PathRecord(X.shape[1])

        def read_point(estimator, hist):
            # Called after every path point, while the model still holds that point's
            # weights; the first call (dense model) has an empty history if it was skipped.
            if hist:
                with torch.no_grad():
                    norms = torch.linalg.vector_norm(estimator.model.skip.weight, dim=0)
                record.add(hist[-1].lambda_, hist[-1].selected.numpy(), norms.cpu().numpy())

        devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            path = model.path(np.ascontiguousarray(X, dtype=np.float32),
                              np.asarray(y, dtype=np.int64), return_state_dicts=False,
                              callback=read_point, disable_lambda_warning=True)
        self.path_length_ = len(path)
        self.lambda_scores_ = record.left_at_
        self.skip_norms_ = record.last_norm_
        return lexicographic_scores(self.lambda_scores_, self.skip_norms_)

    def _primary_scores(self):
        return self.lambda_scores_

    @property
    def n_tied_in_support_(self) -> int:
        support = self._support_at(None)
        return int(support.sum()) - count_separated(self.lambda_scores_, support)
