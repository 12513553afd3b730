"""The EntryPrune training engine: one run of a network whose input layer is rewired.

Zimmer, Okanovic, Hoefler, "EntryPrune: Neural Network Feature Selection using First
Impressions", arXiv 2410.02344. An :class:`Engine` trains the MLP of
:mod:`entryprune.kernel` on ``m`` of the D features at a time. Every ``n_mb`` mini-batches
it scores the candidate features (the active ones outside the current top-K) by the
standardised gradient magnitude they drew since they entered (their "first impression"),
keeps the top-K by best-ever score, and refills the other input slots with random features
whose weights start near zero: the paper's update.

The engine knows nothing of the estimator (:mod:`entryprune.selector`), which decides when
a run stops and how runs combine into the paper's two-stage protocol. It takes every
setting as one :class:`EngineSettings`, tells an optional :class:`EngineObserver` what it
does (the public way for tests and benchmarks to watch a run), and :class:`Trace` keeps the
per-update records that become the estimator's ``history_``. The module is longer than
400 lines (about 220 of them code): the engine's state and its update rule share one
layout of the input positions (see "Layout" below), so they stay one class, and the
settings, observer and trace beside it are its documented interface.

Why it is fast:

- X and y live on the device once. The active design matrix ``X[:, active]`` is gathered
  once and then only its candidate columns are rewritten at an update, so mini-batches are
  plain row gathers of an (n, m) matrix: no advanced column indexing per step.
- Scoring, top-K and the random refill are vectorised tensor ops on the device (``topk``
  over random keys for sampling without replacement); the only host synchronisation is one
  small read per update (:meth:`Trace.record`) for the stopping rules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from entryprune.kernel import MLP, _uniform

__all__ = ["Engine", "EngineObserver", "EngineSettings", "Trace"]

SCORES = ("entry", "magnitude", "delta_weight")
REGROWTHS = ("random", "gradient")


@dataclass(frozen=True)
class EngineSettings:
    """Every setting an :class:`Engine` reads, resolved (no ``None``, no regime names).

    :meth:`EntryPruneSelector.engine_settings
    <entryprune.selector.EntryPruneSelector.engine_settings>` builds one from the
    estimator's parameters; the fields mean what those parameters mean.

    Parameters
    ----------
    n_select : int
        K, the size of the top-K set.
    n_inputs : int
        m, the input-layer size the run starts with (K <= m <= D).
    n_mb : int
        Mini-batches per update.
    n_hidden : int
    lr : float
        Adam learning rate.
    batch_size : int
        Rows per mini-batch, capped at the number of rows (then a full batch).
    score : {"entry", "magnitude", "delta_weight"}
    regrowth : {"random", "gradient"}
    init_score : float
        Entry score of a feature that was never scored.
    """

    n_select: int
    n_inputs: int
    n_mb: int
    n_hidden: int
    lr: float
    batch_size: int
    score: str
    regrowth: str
    init_score: float

    def __post_init__(self):
        if self.score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}; got {self.score!r}")
        if self.regrowth not in REGROWTHS:
            raise ValueError(f"regrowth must be one of {REGROWTHS}; got {self.regrowth!r}")
        if not 1 <= self.n_select <= self.n_inputs:
            raise ValueError("need 1 <= n_select <= n_inputs; got "
                             f"{self.n_select} and {self.n_inputs}")


class EngineObserver:
    """Watches an :class:`Engine`; subclass it and override the events of interest.

    The methods do nothing here. Each receives the engine at one point of its run and may
    read any of its documented attributes (``active``, ``net``, ``entry_score``,
    ``is_cand``, ``steps``, ``updates``, ``m``, ...). An observer must not change the
    engine or draw from its generator: the run would no longer be the one its settings
    and seed define.
    """

    def on_start(self, engine):
        """The network is built and no step has run."""

    def before_scoring(self, engine):
        """An update is about to score: ``engine`` holds the top-K the scoring starts from.

        Every scoring passes here, also the one that
        :meth:`Engine.close_interval` adds after a partial interval.
        """

    def after_scoring(self, engine):
        """An update has scored, re-picked the top-K and refilled the candidates."""

    def after_resize(self, engine):
        """The input layer has changed size (the flex variant)."""


class Trace:
    """Per-update records of a fit, kept as host lists (filled at the update's one sync).

    Parameters
    ----------
    track_train_loss : bool, default=False
        Also record the training loss of the top-K subset (a full pass over the data).
    track_topk : bool, default=False
        Also record the sorted feature ids of the top-K set (column ``topk``).

    Attributes
    ----------
    rows : dict of lists
        One list per column (``KEYS``, then ``topk`` when tracked), one entry per record;
        NaN where a record gives no value.
    t0 : float
        ``time.perf_counter()`` when the trace was made; ``seconds`` counts from it.
    """

    KEYS = ("stage", "update", "val_loss", "n_changes", "n_active", "seconds", "train_loss")

    def __init__(self, track_train_loss=False, track_topk=False):
        self.track_train_loss = track_train_loss
        self.track_topk = track_topk
        self.t0 = time.perf_counter()
        self.rows = {k: [] for k in (*self.KEYS, *(("topk",) if track_topk else ()))}

    def add(self, **values):
        """Append one record; a column not in ``values`` gets NaN."""
        for k, column in self.rows.items():
            column.append(values.get(k, float("nan")))

    def record(self, engine, stage, val_loss=None):
        """Record ``engine``'s state now with one host read; return the row as a dict.

        Parameters
        ----------
        engine : Engine
        stage : int
            Written to the ``stage`` column (1, 2, or 0 for a fixed run).
        val_loss : torch.Tensor or None
            A 0-d loss on the device, read in the same transfer.
        """
        vals = [engine.n_changes]
        if val_loss is not None:
            vals.append(val_loss)
        if self.track_train_loss:
            vals.append(engine.train_loss())
        host = torch.stack([v.to(torch.float32) for v in vals]).tolist()
        row = {"stage": stage, "update": engine.updates, "n_changes": int(host[0]),
               "n_active": engine.m, "seconds": time.perf_counter() - self.t0}
        if val_loss is not None:
            row["val_loss"] = host[1]
        if self.track_train_loss:
            row["train_loss"] = host[-1]
        if self.track_topk:
            row["topk"] = np.sort(engine.topk_features().cpu().numpy())
        self.add(**row)
        return row


class Engine:
    """One training run of EntryPrune (a stage of the protocol): its state and update rule.

    Parameters
    ----------
    settings : EngineSettings
    X : torch.Tensor, shape (n, D)
        Training data (float32) on ``device``.
    y : torch.Tensor, shape (n,)
        Class codes ``0 .. n_classes - 1`` (int64) on ``device``.
    n_classes : int
    gen : torch.Generator
        The run's only source of randomness: initial inputs and weights, shuffles, refills.
    device : torch.device
    X_val, y_val : torch.Tensor or None, default=None
        Validation rows for :meth:`validation_loss`.
    observer : EngineObserver or None, default=None
        Told of the run's events; ``None`` costs nothing.

    Attributes
    ----------
    settings : EngineSettings
    K, n_mb : int
        ``settings.n_select`` and ``settings.n_mb``.
    n, D : int
        Shape of ``X``.
    batch, steps_per_epoch : int
        Rows per mini-batch and mini-batches per epoch (a last partial batch is dropped).
    full_batch : bool
        Whether a batch is all of ``X``; then no step shuffles or copies rows.
    m : int
        Current input-layer size.
    active : torch.Tensor of int, shape (m,)
        The feature at each input position; positions ``[0, K)`` hold the current top-K.
    is_cand : torch.Tensor of bool, shape (m,)
        The positions the next scoring scores.
    net : MLP
    entry_score : torch.Tensor, shape (D,)
        Best standardised score of every feature so far.
    n_changes : torch.Tensor
        0-d: top-K members the last scoring replaced (0 before the first).
    steps, updates, epoch : int
        Adam steps, updates (counted from 1, at every ``n_mb`` steps) and full epochs run.
    """

    def __init__(self, settings, X, y, n_classes, gen, device, X_val=None, y_val=None,
                 observer=None):
        self.settings = settings
        self.X, self.y, self.K, self.n_mb = X, y, settings.n_select, settings.n_mb
        self.gen, self.device, self.observer = gen, device, observer
        self.X_val, self.y_val = X_val, y_val
        self.n, self.D = X.shape
        if settings.n_inputs > self.D:
            raise ValueError(f"n_inputs={settings.n_inputs} exceeds the {self.D} features")
        self.n_classes = n_classes
        self.batch = min(settings.batch_size, self.n)
        self.steps_per_epoch = max(1, self.n // self.batch)
        # Full batch (n_train <= batch_size, e.g. COIL-20, Arcene): the mean loss does not
        # depend on the row order, so the shuffle and the copy of X_act it would cost at
        # every step (a fifth of the step time measured on COIL-20) are skipped.
        self.full_batch = self.batch == self.n
        self.entry_score = torch.full((self.D,), float(settings.init_score), device=device)
        # transposed copies: candidate refills and the top-K validation loss read whole
        # rows of these instead of scattered columns of X (see "Layout" below)
        self.XT = X.t().contiguous()
        self.X_valT = None if X_val is None else X_val.t().contiguous()
        # delta_weight scores the change of W1 since the last update, so it keeps a copy
        # of W1 as it was then; the other scores need none
        self._delta = settings.score == "delta_weight"
        self.W1_ref = None
        self.n_changes = torch.zeros((), device=device)
        self._new_network(settings.n_inputs)
        self.steps = 0
        self.updates = 0
        self.epoch = 0
        if observer is not None:
            observer.on_start(self)

    # -- state ---------------------------------------------------------------------------
    # Layout: input position j holds feature ``active[j]``; positions ``[0, K)`` are always
    # the current top-K and ``[K, m)`` the candidates. The MLP is equivariant to a
    # permutation of its input positions (with the matching W1 columns and Adam moments),
    # so keeping the top-K in front is the paper's update rule, and it makes the refill a
    # copy into one contiguous block of columns. Candidates are refilled from ``XT`` (the
    # data transposed, one extra copy of X): reading whole rows of ``XT`` is ~4x faster
    # than gathering scattered columns of ``X``, which touches every cache line of X.
    def _new_network(self, m):
        """Wire ``m`` random inputs; the first ``K`` of them are the initial top-K."""
        K, dev, h = self.K, self.device, self.settings.n_hidden
        self.active = torch.randperm(self.D, generator=self.gen, device=dev)[:m]
        self.is_top = torch.arange(m, device=dev) < K
        # the first interval scores every active position (spec)
        self.is_cand = torch.ones(m, dtype=torch.bool, device=dev)
        self.net = MLP(m, h, self.n_classes, self.settings.lr, self.gen, dev)
        self.m = m
        self.X_act = self.X.index_select(1, self.active)
        self.G = torch.zeros((h, m), device=dev)
        if self._delta:
            self.W1_ref = self.net.W1.clone()

    def resize(self, m):
        """Change the input layer to ``m`` inputs (flex variant), keeping the top-K.

        The top-K columns keep their weights; the new candidate slots start near zero;
        Adam is rebuilt because its state has the old shape (spec).
        """
        K = self.K
        with torch.no_grad():
            fill = self._sample_outside(self.active[:K], m - K)
            self.active = torch.cat([self.active[:K], fill])
            W1 = torch.empty((self.net.W1.shape[0], m), device=self.device)
            W1[:, :K] = self.net.W1[:, :K]
            W1[:, K:] = _uniform((W1.shape[0], m - K), 1e-8, self.gen, self.device)
            self.net.W1 = W1
            self.net.reset_optimizer()
            self.is_top = torch.arange(m, device=self.device) < K
            self.is_cand = ~self.is_top
            self.m = m
            X_act = torch.empty((self.n, m), device=self.device)
            X_act[:, :K] = self.X_act[:, :K]
            X_act[:, K:] = self.XT.index_select(0, fill).t()
            self.X_act = X_act
            self.G = torch.zeros((self.settings.n_hidden, m), device=self.device)
            if self._delta:
                self.W1_ref = W1.clone()
        if self.observer is not None:
            self.observer.after_resize(self)

    def _sample_outside(self, exclude, count):
        """``count`` features uniformly without replacement from all but ``exclude``."""
        keys = torch.rand(self.D, generator=self.gen, device=self.device)
        keys[exclude] = 2.0  # never among the smallest
        return torch.topk(keys, count, largest=False, sorted=False).indices

    def topk_features(self):
        """The current top-K feature ids (a view, in input-position order)."""
        return self.active[: self.K]

    # -- training ------------------------------------------------------------------------
    def run(self, *, max_updates=None, max_epochs=None, before_update=None,
            after_update=None):
        """Train until ``max_updates`` updates, ``max_epochs`` epochs, or a hook says stop.

        Parameters
        ----------
        max_updates, max_epochs : int or None
            Stop after this many updates (counted over the engine's life) or epochs.
        before_update : callable or None
            ``before_update(engine)`` runs at every update before the scoring and returns
            True to stop there (the paper's stopping rules are checked before scoring).
        after_update : callable or None
            ``after_update(engine)`` runs after the scoring (the flex variant resizes here).
        """
        bs = self.batch
        while max_epochs is None or self.epoch < max_epochs:
            for x, y in self.epoch_batches():
                self.net.step(x, y)
                self.G.add_(self.net.W1.grad, alpha=float(bs))
                self.steps += 1
                if self.steps % self.n_mb == 0:
                    self.updates += 1
                    if before_update is not None and before_update(self):
                        return
                    self.update()
                    if after_update is not None:
                        after_update(self)
                    if max_updates is not None and self.updates >= max_updates:
                        return
            self.epoch += 1

    def epoch_batches(self):
        """Yield the ``(x, y)`` of each training step of one epoch, as :meth:`run` takes them.

        With a full batch (``batch == n``) every step sees the whole active matrix, with no
        shuffle and no row copy: a mean loss does not depend on row order. Otherwise one
        permutation from the run's generator is cut into ``steps_per_epoch`` mini-batches.
        ``X_act`` is read at each step, so columns rewritten by an update mid-epoch are
        seen. Public so that a benchmark can take exactly these steps without the selection
        bookkeeping (``scripts/bench_entryprune.py``).
        """
        if self.full_batch:
            for _ in range(self.steps_per_epoch):
                yield self.X_act, self.y
            return
        perm = torch.randperm(self.n, generator=self.gen, device=self.device)
        bs = self.batch
        for b in range(self.steps_per_epoch):
            idx = perm[b * bs:(b + 1) * bs]
            yield self.X_act[idx], self.y[idx]

    def close_interval(self):
        """Count the steps since the last update as one more update, and score them."""
        self.updates += 1
        self.update()

    def _standardised_scores(self):
        score = self.settings.score
        if score == "entry":
            s = self.G.abs().sum(0) / self.n
        elif score == "delta_weight":
            # the reference also divides by n_train; a positive constant cancels in the
            # standardisation below
            s = (self.net.W1 - self.W1_ref).abs().sum(0)
        else:  # "magnitude" ablation: |W1| column norms
            s = self.net.W1.abs().sum(0)
        std = s.std()
        return (s - s.mean()) / torch.where(std > 0, std, torch.ones_like(std))

    def update(self):
        """Score candidates, re-pick the top-K, refill the other slots (spec 'update')."""
        if self.observer is not None:
            self.observer.before_scoring(self)
        K, m, dev = self.K, self.m, self.device
        with torch.no_grad():
            s = self._standardised_scores()
            cand = self.is_cand
            f = self.active[cand]
            self.entry_score[f] = torch.maximum(self.entry_score[f], s[cand])
            top_pos = torch.topk(self.entry_score[self.active], K, sorted=False).indices
            in_top = torch.zeros(m, dtype=torch.bool, device=dev)
            in_top[top_pos] = True
            # candidates promoted into the top-K swap places with the members they replace
            vacated = torch.nonzero(~in_top[:K]).squeeze(1)
            promoted = torch.nonzero(in_top[K:]).squeeze(1) + K
            self.n_changes = torch.tensor(promoted.shape[0], device=dev)
            if promoted.shape[0]:
                self._swap(vacated, promoted)
            self.is_top = torch.arange(m, device=dev) < K
            self.is_cand = ~self.is_top
            n_fill = m - K
            if n_fill:
                if self.settings.regrowth == "gradient":
                    fill = self._gradient_refill(self.active[:K], n_fill)
                else:
                    fill = self._sample_outside(self.active[:K], n_fill)
                self.active[K:] = fill
                self.X_act[:, K:] = self.XT.index_select(0, fill).t()
                self.net.W1[:, K:] = _uniform((self.net.W1.shape[0], n_fill), 1e-8,
                                              self.gen, dev)
            self.G.zero_()
            if self._delta:  # after the swaps and the re-initialisation, as the reference
                self.W1_ref.copy_(self.net.W1)
        if self.observer is not None:
            self.observer.after_scoring(self)

    def _swap(self, a, b):
        """Exchange input positions ``a`` and ``b``: features, columns, W1 and Adam state.

        Only the promoted side's data columns are needed (position ``b`` is refilled next),
        but W1's Adam moments travel both ways, so that a refilled position keeps the
        state of the feature that left it, as in the fixed-position rule of the paper.
        """
        fa, fb = self.active[a], self.active[b]
        self.active[a], self.active[b] = fb, fa
        self.X_act.index_copy_(1, a, self.X_act.index_select(1, b))
        self.net.swap_input_columns(a, b)
        self.G.index_fill_(1, torch.cat([a, b]), 0.0)

    def _gradient_refill(self, top, count):
        """Ablation: the ``count`` non-top-K features with the largest input gradient.

        The gradient of the loss with respect to a (zero) weight from feature j is
        ``gpre^T X[:, j]``; its column L1 norm ranks every feature, wired in or not, on one
        mini-batch drawn at the update.
        """
        idx = torch.randperm(self.n, generator=self.gen, device=self.device)[: self.batch]
        h, logits = self.net.forward(self.X_act[idx])
        gpre = self.net.hidden_grad(self.net.output_grad(logits, self.y[idx]), h)
        grad = (gpre.t() @ self.X[idx]).abs().sum(0)
        grad[top] = -1.0
        return torch.topk(grad, count, sorted=False).indices

    # -- losses of the top-K subset --------------------------------------------------------
    def subset_loss(self, XT, y):
        """CE of the net with every non-top-K input set to zero (only top-K columns used).

        ``XT`` is the data transposed (features x samples), so the top-K rows are read
        contiguously.
        """
        K = self.K
        with torch.no_grad():
            h = torch.addmm(self.net.b1, XT.index_select(0, self.active[:K]).t(),
                            self.net.W1[:, :K].t()).relu_()
            logits_t = torch.addmm(self.net.b2, self.net.W2, h.t())
            return torch.nn.functional.cross_entropy(logits_t.t(), y)

    def validation_loss(self):
        """:meth:`subset_loss` on the validation rows (0-d, on the device)."""
        return self.subset_loss(self.X_valT, self.y_val)

    def train_loss(self):
        """:meth:`subset_loss` on the training rows (0-d, on the device)."""
        return self.subset_loss(self.XT, self.y)
