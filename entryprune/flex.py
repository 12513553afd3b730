"""The flex variant of EntryPrune: a candidate pool that shrinks or grows in stage 1.

Zimmer, Okanovic, Hoefler, arXiv 2410.02344 ("flex"). After ``resize_patience`` updates
without validation improvement, the number of candidates is halved (never below a total
input size of ``round(min_ratio * K)``) or doubled (never above D); the direction reverses
when the validation loss at this resize is worse than at the previous resize. Adam is
rebuilt after a resize. Stage 2 moves the input size linearly from the start size to the
size at stage 1's best update, in at most ``max_stage2_steps`` equal steps.
"""

from __future__ import annotations

import math

import numpy as np

from entryprune.selector import EntryPruneSelector

__all__ = ["EntryPruneFlexSelector"]


class EntryPruneFlexSelector(EntryPruneSelector):
    """EntryPrune with an adaptive candidate pool (the paper's flex variant).

    Parameters
    ----------
    resize_patience : int, default=10
        Stage 1 updates without validation improvement (or since the last resize) that
        trigger a resize.
    min_ratio : float, default=1.2
        The input layer never shrinks below ``round(min_ratio * K)`` inputs (and always
        keeps at least one candidate).
    max_stage2_steps : int, default=10
        Stage 2 reaches the best stage 1 input size in at most this many equal steps.
    **others
        As :class:`~entryprune.selector.EntryPruneSelector`.

    Attributes
    ----------
    best_input_size_ : int
        Input-layer size at stage 1's best update (stage 2's final size).
    resizes_ : list of (update, old_size, new_size)
        Every stage 1 resize, for inspection and tests.

    Notes
    -----
    As in the authors' code (github.com/flxzimmer/entryprune, ``entryprune/code.py``):
    halving keeps ``K + round(candidates / 2)`` inputs with NumPy's rounding, half to
    even (l.275), doubling keeps ``K + 2 candidates`` (l.300), capped at
    ``round(1.2 K)`` and D (l.67-69; no shrinking at or below the floor); the resize
    counter advances at each update after the random start without improvement and
    restarts at an improvement or a resize (l.171-176, l.320). In stage 2 with ``N``
    scorings (``N = best_update_ - 1``, the reference's ``n_updates``) there are
    ``S = min(N, max_stage2_steps)`` steps (l.61); step ``j`` follows the scoring at
    update ``j * (N // S)`` (l.62, l.190, l.257) and sets the size to
    ``round(final + (start - final) (S - j) / S)`` (l.272, l.297).

    Where the reference's size schedule has defects, they are deliberately not copied:

    - Stage 2 overshoot: the step counter keeps going after step ``S`` when ``N`` is not
      a multiple of ``S`` (l.190, l.257, l.271, l.296), so the formula of l.272/l.297
      moves the size past the final size (``N = 19``: ten steps reach it, nine more go
      beyond), stopped only by the floor or D (l.268, l.293), and past D the refill of
      l.327 fails. Here the size stays at the final size after step ``S``.
    - Stage 2 with equal start and final size: the direction is "grow" (l.63), and every
      step rebuilds Adam (l.304-310) without changing the size. Here a step that keeps
      the size is skipped, so the optimiser state is kept.
    - The final size is read at the update of lowest validation loss over all updates,
      the random start included (l.224-228, ``experiments/entryprune_models.py`` l.58),
      while stage 2's length excludes it (l.146). When the random start has the lowest
      loss, length and size come from different updates. Here both come from
      ``best_update_``.
    - For K <= 2 the floor ``round(1.2 K)`` is K (l.67), so halving can leave no
      candidate, and doubling zero candidates (l.300) never regrows the pool. Here the
      floor keeps one candidate, and growing from none adds one.
    - With ``patience_ident`` set, the reference's resize patience becomes
      ``round(patience_ident / 4)`` (l.23-26). Here ``resize_patience`` stays its own
      setting; set it to that value to reproduce the coupling.
    """

    def __init__(self, n_features_to_select=50, *, regime="auto", c_ratio=None, n_mb=None,
                 n_hidden=100, lr=1e-3, batch_size=1024, patience=100, patience_ident=None,
                 max_epochs=100000, fit_mode="two_stage", n_updates=None, n_epochs=None,
                 validation_fraction=0.2, stage1_split="stratified", score="entry",
                 regrowth="random", init_score=-100.0, track_train_loss=False,
                 track_topk=False, device="auto", random_state=None, resize_patience=10,
                 min_ratio=1.2, max_stage2_steps=10):
        super().__init__(
            n_features_to_select, regime=regime, c_ratio=c_ratio, n_mb=n_mb,
            n_hidden=n_hidden, lr=lr, batch_size=batch_size, patience=patience,
            patience_ident=patience_ident, max_epochs=max_epochs, fit_mode=fit_mode,
            n_updates=n_updates, n_epochs=n_epochs, validation_fraction=validation_fraction,
            stage1_split=stage1_split, score=score, regrowth=regrowth, init_score=init_score,
            track_train_loss=track_train_loss, track_topk=track_topk, device=device,
            random_state=random_state)
        self.resize_patience = resize_patience
        self.min_ratio = min_ratio
        self.max_stage2_steps = max_stage2_steps

    def _size_bounds(self, engine):
        lo = min(engine.D, max(engine.K + 1, int(np.round(float(self.min_ratio) * engine.K))))
        return lo, engine.D

    @staticmethod
    def _next_size(m, K, shrink, lo, hi):
        """Input size after a stage 1 resize from ``m`` inputs (reference l.268-300)."""
        if shrink:
            if m <= lo:
                return m
            return max(lo, K + int(np.round((m - K) * 0.5)))
        if m >= hi:
            return m
        return min(hi, K + max(1, 2 * (m - K)))

    @staticmethod
    def _stage2_sizes(total, start, end, max_steps):
        """Input size during each of stage 2's ``total`` update intervals.

        Stage 2 scores at updates ``1 .. total - 1`` and stops at ``total``; step ``j`` of
        ``S = min(total - 1, max_steps)`` follows the scoring at update ``j * period``,
        ``period = (total - 1) // S``, and holds from the next interval on.
        """
        sizes = [int(start)] * total
        n_scorings = total - 1
        if n_scorings < 1:
            return sizes
        n_steps = min(n_scorings, int(max_steps))
        period = n_scorings // n_steps
        for j in range(1, n_steps + 1):
            # the reference's expression (l.272), so that ties round the same way
            size = int(np.round(end + (start - end) * ((n_steps - j) / n_steps)))
            sizes[j * period:] = [size] * (total - j * period)
        return sizes

    def _stage1(self, engine):
        self.resizes_ = []
        self._start_size = engine.m
        state = super()._stage1(engine)
        self.best_input_size_ = int(state["best_m"])
        return state

    def _stage1_after(self, state):
        state.update(quiet=0, shrink=True, last_resize_loss=None, last_best=math.inf)
        lo, hi = None, None

        def after_update(engine):
            nonlocal lo, hi
            if engine.updates == 1:  # the random start counts for no patience (l.146)
                return
            if lo is None:
                lo, hi = self._size_bounds(engine)
            # count updates without improvement since the last improvement or resize
            if state["best"] < state["last_best"]:
                state["last_best"] = state["best"]
                state["quiet"] = 0
                return
            state["quiet"] += 1
            if state["quiet"] < int(self.resize_patience):
                return
            state["quiet"] = 0
            loss = self._trace.rows["val_loss"][-1]
            if state["last_resize_loss"] is not None and loss > state["last_resize_loss"]:
                state["shrink"] = not state["shrink"]
            state["last_resize_loss"] = loss
            new = self._next_size(engine.m, engine.K, state["shrink"], lo, hi)
            if new != engine.m:
                self.resizes_.append((engine.updates, engine.m, new))
                engine.resize(new)

        return after_update

    def _stage2_after(self, total):
        """Resize after stage 2's scorings along the linear schedule to the best size."""
        sizes = self._stage2_sizes(total, self._start_size, self.best_input_size_,
                                   self.max_stage2_steps)

        def after_update(engine):
            size = sizes[engine.updates]  # the size of the next interval
            if size != engine.m:
                engine.resize(size)

        return after_update
