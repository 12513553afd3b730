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
        The input layer never shrinks below ``round(min_ratio * K)`` inputs.
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
    """

    def __init__(self, n_features_to_select=50, *, regime="auto", c_ratio=None, n_mb=None,
                 n_hidden=100, lr=1e-3, batch_size=1024, patience=100, max_epochs=100000,
                 fit_mode="two_stage", n_updates=None, n_epochs=None,
                 validation_fraction=0.2, score="entry", regrowth="random",
                 init_score=-100.0, track_train_loss=False, device="auto",
                 random_state=None, resize_patience=10, min_ratio=1.2, max_stage2_steps=10):
        super().__init__(
            n_features_to_select, regime=regime, c_ratio=c_ratio, n_mb=n_mb,
            n_hidden=n_hidden, lr=lr, batch_size=batch_size, patience=patience,
            max_epochs=max_epochs, fit_mode=fit_mode, n_updates=n_updates,
            n_epochs=n_epochs, validation_fraction=validation_fraction, score=score,
            regrowth=regrowth, init_score=init_score, track_train_loss=track_train_loss,
            device=device, random_state=random_state)
        self.resize_patience = resize_patience
        self.min_ratio = min_ratio
        self.max_stage2_steps = max_stage2_steps

    def _size_bounds(self, run):
        lo = min(run.D, max(run.K + 1, round(float(self.min_ratio) * run.K)))
        return lo, run.D

    def _stage1(self, run):
        self.resizes_ = []
        self._start_size = run.m
        state = super()._stage1(run)
        self.best_input_size_ = int(state["best_m"])
        return state

    def _stage1_after(self, state):
        state.update(quiet=0, shrink=True, last_resize_loss=None, last_best=math.inf)
        lo, hi = None, None

        def after_update(run):
            nonlocal lo, hi
            if lo is None:
                lo, hi = self._size_bounds(run)
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
            n_cand = run.m - run.K
            new = run.K + (n_cand // 2 if state["shrink"] else max(1, 2 * n_cand))
            new = int(min(hi, max(lo, new)))
            if new != run.m:
                self.resizes_.append((run.updates, run.m, new))
                run.resize(new)

        return after_update

    def _stage2(self, run):
        """Run ``best_update_`` updates, resizing linearly towards the best stage 1 size."""
        total = self.best_update_
        start, end = self._start_size, self.best_input_size_
        steps = max(1, min(int(self.max_stage2_steps), total))
        # after update u_j = round(j * total / steps) the size becomes the j-th step
        schedule = {}
        for j in range(1, steps + 1):
            u = max(1, round(j * total / steps))
            schedule[u] = round(start + (end - start) * j / steps)
        record = self._recorder(2)

        def after_update(r):
            record(r)
            size = schedule.get(r.updates)
            if size is not None and size != r.m and r.updates < total:
                r.resize(int(size))

        run.run(max_updates=total, after_update=after_update)
