"""EntryPrune: neural-network feature selection using first impressions.

Zimmer, Okanovic, Hoefler, "EntryPrune: Neural Network Feature Selection using First
Impressions", arXiv 2410.02344 (first version titled "RelChaNet").

A dense one-hidden-layer MLP whose input layer is sparse and dynamic: only
``m = K + ceil(c_ratio * (D - K))`` of the D features are wired in at a time. Every
``n_mb`` mini-batches, the candidate features (the active ones outside the current top-K)
are scored by the standardised gradient magnitude they drew since they entered (their
"first impression"), the top-K by best-ever score is kept, and the other input slots are
refilled with random features whose weights start near zero.

The method lives in three modules: :mod:`entryprune.kernel` (the network and its Adam),
:mod:`entryprune.engine` (one training run: scoring, top-K, refill) and this one, the
scikit-learn estimator: its parameters and their checks, the paper's settings per data
regime, and the two-stage protocol that decides when runs stop and which top-K is kept.
This module is longer than 400 lines because the estimator's docstring documents every
parameter and how the protocol matches the authors' code; the code is about 220 lines.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from entryprune.engine import Engine, EngineSettings, Trace
from selector_contract import PerBudgetSelector, check_selector_input, resolve_device

__all__ = ["EntryPruneSelector", "input_size", "regime_settings"]

#: Paper settings per data regime (Section "Hyperparameters"): (c_ratio, n_mb).
REGIMES = {"long": (0.2, 100), "wide": (0.5, 5)}


def regime_settings(regime: str, n_train: int, n_features: int) -> tuple[str, float, int]:
    """Resolve ``regime="auto"`` to ``long`` (n_train >= D) or ``wide``; return its settings."""
    if regime == "auto":
        regime = "long" if n_train >= n_features else "wide"
    if regime not in REGIMES:
        raise ValueError(f"regime must be 'auto', 'long' or 'wide'; got {regime!r}")
    c_ratio, n_mb = REGIMES[regime]
    return regime, c_ratio, n_mb


def input_size(n_select: int, n_features: int, c_ratio: float) -> int:
    """Input-layer size ``m = min(D, K + ceil(c_ratio (D - K)))`` (the paper's network)."""
    return min(n_features, n_select + math.ceil(c_ratio * (n_features - n_select)))


class EntryPruneSelector(PerBudgetSelector):
    """EntryPrune feature selection (Zimmer, Okanovic, Hoefler, arXiv 2410.02344).

    Parameters
    ----------
    n_features_to_select : int, default=50
        The budget K.
    regime : {"auto", "long", "wide"}, default="auto"
        Paper settings: ``long`` (n_train >= D) uses ``c_ratio=0.2, n_mb=100``, ``wide``
        uses ``c_ratio=0.5, n_mb=5``; ``auto`` picks by the shape of the training data.
    c_ratio : float or None, default=None
        Fraction of the D - K non-top-K features wired in as candidates (overrides regime).
    n_mb : int or None, default=None
        Mini-batches per update (overrides regime).
    n_hidden : int, default=100
    lr : float, default=1e-3
        Adam learning rate.
    batch_size : int, default=1024
        Full batch when the training data has fewer rows. A last partial batch is dropped.
    patience : int, default=100
        Stage 1 stops when the validation loss of the top-K subset has not improved, or the
        top-K set has not changed, for this many consecutive updates.
    patience_ident : int or None, default=None
        Stop a run as soon as the top-K set has been unchanged for this many consecutive
        updates, whatever the validation loss (the reference's ``patience_ident``). With
        ``fit_mode="fixed"`` and neither ``n_updates`` nor ``n_epochs`` this is the
        reference's ``stopping="ident"``: one run on all training data, bounded only by
        ``max_epochs``. In stage 1 it is an extra stopping rule, checked before the
        validation loss, so the update at which it fires is never the best update. Stage 2
        ignores it: its length comes from stage 1. ``None`` turns it off.
    max_epochs : int, default=100000
        Upper bound on stage 1 epochs (effectively unlimited, as in the paper).
    fit_mode : {"two_stage", "fixed"}, default="two_stage"
        ``two_stage``: the paper's protocol (stage 1 on a validation split with patience,
        stage 2 from scratch on all training data up to ``best_update_``, see Notes).
        ``fixed``: one run on all data for ``n_updates`` updates or ``n_epochs`` epochs
        (at most one of them; neither only with ``patience_ident``), no validation split.
    n_updates, n_epochs : int or None, default=None
        Length of a ``fixed`` run. With ``n_epochs``, pending steps after the last full
        update interval are scored in a final update so every epoch counts.
    validation_fraction : float, default=0.2
        Stage 1 validation share of the training data.
    stage1_split : {"stratified", "reference"}, default="stratified"
        How stage 1 carves its validation rows out of the training data. ``stratified``
        draws a split from ``random_state``, stratified by class when every class has two
        members and the validation share can hold every class. ``reference`` is the split
        of the authors' experiment scripts, the ones their README gives for reproducing
        the paper: ``train_test_split(test_size=validation_fraction, random_state=42)``,
        not stratified and the same rows for every ``random_state``. The paper protocol
        as run for the published results therefore uses ``reference``; the paper's text
        asks only for an 80/20 split. Use ``reference`` to reproduce it exactly.
        The default stays ``stratified`` because one fixed split makes every repetition
        validate on the same rows, so the spread over seeds leaves out the variance due
        to the split, and on small wide data (a handful of samples per class) an
        unstratified 20 % can leave a class almost out of the validation loss that
        decides when stage 1 stops.
    score : {"entry", "magnitude", "delta_weight"}, default="entry"
        ``entry``: standardised sum of |dL/dW1| over the interval (the paper's first
        impression, and the reference's default). ``magnitude``: the ablation using |W1|
        column sums instead. Measured here, magnitude recovers 0-1 of 10 informative
        columns where the entry score recovers 9-10 (``make_classification``, 2000 x 100):
        a candidate enters at +-1e-8 and Adam moves every weight by about ``lr`` per step
        whatever its gradient, so magnitudes barely separate candidates after one
        interval, while the first interval's full-size initial weights dominate the
        best-ever maxima. ``delta_weight``: standardised column sums of |W1 - W1'|, W1'
        being the weights right after the previous update (a candidate's entry value
        +-1e-8): the "relative change in first layer weights" with which the reference's
        README introduces the method; its code offers it as ``method="delta_weight"``
        but runs the gradient score by default and in its experiments.
    regrowth : {"random", "gradient"}, default="random"
        How freed input slots are refilled: uniformly at random (the paper) or, as the
        ablation the paper discusses, with the non-top-K features of largest input gradient.
    init_score : float, default=-100.0
        Entry score of a feature that was never scored.
    track_train_loss : bool, default=False
        Also record the training loss of the top-K subset at every update (a full pass).
    track_topk : bool, default=False
        Also record, at every update, the sorted feature ids of the top-K set that the
        history row describes (``history_["topk"]``; one copy of K ids to the host per
        update).
    device : {"auto", "cpu", "cuda"}, default="auto"
    random_state : int or None, default=None

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features,)
        The final top-K.
    scores_ : ndarray of float, shape (n_features,)
        Best entry score of each feature in the final run (``init_score`` if never scored).
    history_ : dict of lists
        Per update: ``stage`` (1 or 2; 0 in fixed mode), ``update``, ``val_loss`` (stage 1),
        ``n_changes`` (top-K members replaced), ``n_active`` (input-layer size),
        ``seconds`` (since fit started; on CUDA this is host time, kernels run async),
        ``train_loss`` (only with ``track_train_loss``) and ``topk`` (only with
        ``track_topk``). Stage 1 and stage 2 rows are recorded at the update before its
        scoring: they describe the top-K that the validation loss measures, and
        ``n_changes`` counts what the previous scoring replaced (0 at update 1). Fixed
        mode rows are recorded after the scoring and describe its result.
    best_update_ : int
        The stage 1 update whose top-K had the lowest validation loss, counted from 1
        (the random start is update 1 and is never chosen, so ``best_update_ >= 2``);
        stage 2 ends there. In fixed mode the number of scorings run.
    stage1_updates_ : int
        Updates run in stage 1 (two-stage fits only).
    validation_indices_ : ndarray of int or None
        Sorted rows of the training data that stage 1 validated on (None in fixed mode).
    device_ : str
        The device the fit ran on.
    regime_, c_ratio_, n_mb_ : resolved settings.

    Notes
    -----
    Update ``u`` comes after ``u * n_mb`` mini-batches; the top-K in place then has been
    through ``u - 1`` scorings. The reference (github.com/flxzimmer/entryprune,
    ``entryprune/code.py``) counts the same updates from 0, so its ``best_update`` is this
    ``best_update_ - 1``. As there:

    - the validation loss at an update is taken before that update's scoring (code.py
      l.131-143 record it, l.207 scores), so it measures the current top-K;
    - the random initial top-K (update 1 here, 0 there) is measured but can be neither the
      best update nor count towards either patience (l.146);
    - stage 2 reruns from scratch on all training data and stops at update
      ``best_update_`` before scoring it (l.194-198 with ``n_updates = best_update``,
      ``experiments/entryprune_models.py`` l.30): its selection has had exactly the
      scorings and Adam steps of the best-validated top-K;
    - ``patience_ident`` is checked before the validation loss (l.157 before l.167), and
      ``patience`` also stops stage 1 on an unchanged top-K (l.178).
    """

    method_name = "EntryPrune"

    def __init__(self, n_features_to_select=50, *, regime="auto", c_ratio=None, n_mb=None,
                 n_hidden=100, lr=1e-3, batch_size=1024, patience=100, patience_ident=None,
                 max_epochs=100000, fit_mode="two_stage", n_updates=None, n_epochs=None,
                 validation_fraction=0.2, stage1_split="stratified", score="entry",
                 regrowth="random", init_score=-100.0, track_train_loss=False,
                 track_topk=False, device="auto", random_state=None):
        self.n_features_to_select = n_features_to_select
        self.regime = regime
        self.c_ratio = c_ratio
        self.n_mb = n_mb
        self.n_hidden = n_hidden
        self.lr = lr
        self.batch_size = batch_size
        self.patience = patience
        self.patience_ident = patience_ident
        self.max_epochs = max_epochs
        self.fit_mode = fit_mode
        self.n_updates = n_updates
        self.n_epochs = n_epochs
        self.validation_fraction = validation_fraction
        self.stage1_split = stage1_split
        self.score = score
        self.regrowth = regrowth
        self.init_score = init_score
        self.track_train_loss = track_train_loss
        self.track_topk = track_topk
        self.device = device
        self.random_state = random_state

    # -- checks ---------------------------------------------------------------------------
    def _check_params(self):
        if self.score not in ("entry", "magnitude", "delta_weight"):
            raise ValueError(
                f"score must be 'entry', 'magnitude' or 'delta_weight'; got {self.score!r}")
        if self.regrowth not in ("random", "gradient"):
            raise ValueError(f"regrowth must be 'random' or 'gradient'; got {self.regrowth!r}")
        if self.fit_mode not in ("two_stage", "fixed"):
            raise ValueError(f"fit_mode must be 'two_stage' or 'fixed'; got {self.fit_mode!r}")
        if self.stage1_split not in ("stratified", "reference"):
            raise ValueError("stage1_split must be 'stratified' or 'reference'; "
                             f"got {self.stage1_split!r}")
        names = ["n_hidden", "batch_size", "patience", "max_epochs"]
        if self.patience_ident is not None:
            names.append("patience_ident")
        for name in names:
            v = getattr(self, name)
            if isinstance(v, bool) or not (isinstance(v, int | np.integer) and v >= 1):
                raise ValueError(f"{name} must be a positive integer; got {v!r}")
        if self.fit_mode == "fixed":
            given = (self.n_updates is not None) + (self.n_epochs is not None)
            if given == 2 or (given == 0 and self.patience_ident is None):
                raise ValueError("fit_mode='fixed' needs exactly one of n_updates or "
                                 "n_epochs (or neither, with patience_ident)")
        if not 0.0 < float(self.validation_fraction) < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1); got {self.validation_fraction!r}")
        if self.c_ratio is not None and not 0.0 <= float(self.c_ratio) <= 1.0:
            raise ValueError(f"c_ratio must be in [0, 1]; got {self.c_ratio!r}")


    def _resolved_regime(self, n_train, n_features):
        """(regime, c_ratio, n_mb): the regime's settings, overridden where given."""
        regime, c_ratio, n_mb = regime_settings(self.regime, n_train, n_features)
        c_ratio = float(self.c_ratio) if self.c_ratio is not None else c_ratio
        n_mb = int(self.n_mb) if self.n_mb is not None else n_mb
        return regime, c_ratio, n_mb

    def engine_settings(self, n_train, n_features):
        """The :class:`~entryprune.engine.EngineSettings` that ``fit`` uses on data of this shape.

        Parameters
        ----------
        n_train : int
            Rows of the training data (decides ``regime="auto"``).
        n_features : int
            Columns D.

        Returns
        -------
        EngineSettings
            Every run of a fit (stage 1, stage 2, or the fixed run) uses these.
        """
        self._check_params()
        _, c_ratio, n_mb = self._resolved_regime(n_train, n_features)
        K = int(self.n_features_to_select)
        return EngineSettings(
            n_select=K, n_inputs=input_size(K, n_features, c_ratio), n_mb=n_mb,
            n_hidden=int(self.n_hidden), lr=float(self.lr), batch_size=int(self.batch_size),
            score=self.score, regrowth=self.regrowth, init_score=float(self.init_score))

    # -- fit ------------------------------------------------------------------------------
    def fit(self, X, y, *, observer=None):
        """Select ``n_features_to_select`` features of ``X`` for predicting ``y``.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
        y : array-like, shape (n_samples,)
        observer : EngineObserver or None, default=None
            Passed to every :class:`~entryprune.engine.Engine` the fit runs (stage 1, then
            stage 2; or the one fixed run), in that order, to watch them without
            changing the result.

        Returns
        -------
        self
        """
        self._check_params()
        X, y_enc, classes = check_selector_input(X, y, self.n_features_to_select)
        n, D = X.shape
        K = int(self.n_features_to_select)
        self.n_features_in_ = D
        self.classes_ = classes
        self.regime_, self.c_ratio_, self.n_mb_ = self._resolved_regime(n, D)
        settings = self.engine_settings(n, D)
        dev = resolve_device(self.device)
        self.device_ = str(dev)
        seeds = np.random.SeedSequence(self.random_state).generate_state(4)
        Xt = torch.from_numpy(X).to(dev)
        yt = torch.from_numpy(y_enc).to(dev)
        C = len(classes)
        self._trace = Trace(track_train_loss=self.track_train_loss, track_topk=self.track_topk)

        def new_engine(X, y, seed, X_val=None, y_val=None):
            return Engine(settings, X, y, C, self._gen(seed, dev), dev, X_val, y_val,
                          observer=observer)

        if self.fit_mode == "fixed":
            engine = new_engine(Xt, yt, seeds[1])
            self.best_update_ = self._run_fixed(engine)
            self.validation_indices_ = None
        else:
            tr, va = self._validation_split(y_enc, int(seeds[0]))
            self.validation_indices_ = va.numpy()
            engine1 = new_engine(Xt[tr], yt[tr], seeds[1], X_val=Xt[va], y_val=yt[va])
            self._stage1(engine1)
            del engine1  # its copies of the data (X subset, transposed) are not needed now
            engine = new_engine(Xt, yt, seeds[2])
            self._stage2(engine)
        support = torch.zeros(D, dtype=torch.bool, device=dev)
        support[engine.topk_features()] = True
        self.support_ = support.cpu().numpy()
        self.scores_ = engine.entry_score.double().cpu().numpy()
        self.k_fitted_ = K
        self.history_ = self._trace.rows
        del self._trace
        return self

    @staticmethod
    def _gen(seed, dev):
        g = torch.Generator(device=dev)
        g.manual_seed(int(seed))
        return g

    #: ``random_state`` of the stage 1 split in the authors' experiments, for every repeat
    #: (experiments/entryprune_models.py l.26 and l.56)
    REFERENCE_SPLIT_SEED = 42

    def _validation_split(self, y, seed):
        from sklearn.model_selection import train_test_split

        idx = np.arange(y.shape[0])
        if self.stage1_split == "reference":
            tr, va = train_test_split(idx, test_size=self.validation_fraction,
                                      random_state=self.REFERENCE_SPLIT_SEED)
        else:
            _, counts = np.unique(y, return_counts=True)
            n_val = math.ceil(self.validation_fraction * y.shape[0])
            stratify = y if counts.min() >= 2 and n_val >= len(counts) else None
            tr, va = train_test_split(idx, test_size=self.validation_fraction,
                                      random_state=seed, stratify=stratify)
        # sorted: which rows are in each part is what matters; the training loop shuffles
        return torch.from_numpy(np.sort(tr)), torch.from_numpy(np.sort(va))

    def _run_fixed(self, engine):
        """One run on all data; return the number of scorings it made."""
        if self.n_updates is not None:
            limit = {"max_updates": int(self.n_updates)}
        else:
            n_epochs = self.max_epochs if self.n_epochs is None else self.n_epochs
            limit = {"max_epochs": int(n_epochs)}

        def record(r):
            self._trace.record(r, 0)

        if self.patience_ident is None:
            engine.run(**limit, after_update=record)
            fired = stable = False
        else:
            fired, stable = self._run_until_stable(engine, limit)
        # a fired stability check stopped at an update without scoring it
        scorings = engine.updates - 1 if fired else engine.updates
        if "max_epochs" in limit and not stable and engine.steps % engine.n_mb:
            # score the steps after the last full interval
            engine.close_interval()
            record(engine)
            scorings += 1
        return scorings

    def _run_until_stable(self, engine, limit):
        """Fixed run that also stops once the top-K was unchanged ``patience_ident`` times.

        As in the reference (code.py l.149-161), the check happens at the update after the
        last of those scorings, before scoring it: the result is the stable top-K, after
        one more interval of training. Returns whether the rule fired, and whether the
        top-K was stable when the run ended (also when a limit ended it first).
        """
        patience = int(self.patience_ident)
        state = {"unchanged": 0, "stop": False}

        def after_update(r):
            row = self._trace.record(r, 0)  # the host read this update already pays for
            state["unchanged"] = state["unchanged"] + 1 if row["n_changes"] == 0 else 0

        def before_update(r):
            state["stop"] = state["unchanged"] >= patience
            return state["stop"]

        engine.run(**limit, before_update=before_update, after_update=after_update)
        return state["stop"], state["unchanged"] >= patience

    def _stage1(self, engine):
        """Train with validation patience; set ``best_update_`` (the paper's stage 1)."""
        state = {"best": math.inf, "best_update": None, "since_best": 0, "unchanged": 0,
                 "best_m": engine.m}
        patience = int(self.patience)

        def before_update(r):
            row = self._trace.record(r, 1, val_loss=r.validation_loss())
            return self._stage1_stop(r, row, state, patience)

        engine.run(max_epochs=int(self.max_epochs), before_update=before_update,
                   after_update=self._stage1_after(state))
        self.stage1_updates_ = engine.updates
        if state["best_update"] is None:
            # no scored top-K was validated (stage 1 ended within two updates, or every
            # validation loss was NaN); the reference fails here (best_update unset)
            state["best_update"] = max(2, engine.updates)
            warnings.warn(
                f"EntryPrune stage 1 validated no scored top-K in {engine.updates} updates; "
                f"stage 2 runs {state['best_update']} updates", RuntimeWarning, stacklevel=3)
        self.best_update_ = int(state["best_update"])
        return state

    def _stage1_after(self, state):
        """Hook after a stage 1 update (the flex variant resizes here)."""
        return None

    def _stage1_stop(self, engine, row, state, patience):
        if engine.updates == 1:
            # the random initial top-K: recorded, but neither a candidate for the best
            # update nor counted by either patience (reference code.py l.146)
            return False
        state["unchanged"] = state["unchanged"] + 1 if row["n_changes"] == 0 else 0
        if self.patience_ident is not None and state["unchanged"] >= self.patience_ident:
            return True  # before this update's loss can become the best (l.157, l.167)
        if row["val_loss"] < state["best"]:
            state.update(best=row["val_loss"], best_update=engine.updates, since_best=0,
                         best_m=engine.m)
        else:
            state["since_best"] += 1
        return state["since_best"] >= patience or state["unchanged"] >= patience

    def _stage2(self, engine):
        """From scratch on all data, up to update ``best_update_`` and before its scoring."""
        total = self.best_update_

        def before_update(r):
            self._trace.record(r, 2)
            return r.updates >= total

        engine.run(before_update=before_update, after_update=self._stage2_after(total))

    def _stage2_after(self, total):
        """Hook after a stage 2 update (the flex variant resizes here)."""
        return None
