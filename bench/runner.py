"""The runner: one cell (dataset, selector) over seeds x budgets, written as tidy rows.

:func:`run_cell` reads the cell's settings (refusing a bad value before any row is
written), lists the (seed, k) that are not done yet, loads the data, and then for each
seed makes the split (it depends on dataset, protocol and seed only, so the design is
paired), fits the selector on the training part, times the fit, scores the selected
columns with every evaluator, and writes the rows of each (seed, k) atomically before
going on. Ranking selectors (``refit_per_budget = False``) are fit once per seed and serve
every budget; the others are refit per budget.

A selector that raises gives ``failed`` rows and the cell goes on. A fit past
``timeout_s`` gives ``timeout`` rows; then the cell goes on (``after_timeout: continue``)
or, with ``after_timeout: skip_cell``, its remaining (seed, k) get ``timeout`` rows without
being fitted, whose error names the fit that ran past the limit. On resume a (seed, k) is
done when every evaluator it needs has an ``ok`` row of the current config hash; with
``retry_timeouts: false`` a ``timeout`` row counts as done too, so a known runaway fit is
not run again every sitting.

Rows of a ranking selector also record how many of the K columns its scores chose rather
than index order (``n_separated``, ``n_tiebroken``; see ``selector_contract.RankingSelector``).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from tqdm.auto import tqdm

from bench.evaluation import evaluate, evaluator_applies
from bench.factory import build_selector, selector_class, selector_overrides
from bench.provenance import config_hash, derive_seed, git_commit, machine, utc_now, versions
from bench.records import ResultStore, error_text
from bench.timeout import FitTimeout, time_limit
from datasets.base import PROTOCOLS, make_split
from selector_contract import selects_all_features

__all__ = ["AFTER_TIMEOUT", "CellFailures", "CellSummary", "run_cell"]

#: What a cell does once one of its fits ran past ``timeout_s``.
AFTER_TIMEOUT = ("continue", "skip_cell")


class CellFailures(RuntimeError):
    """Raised at the end of a cell that produced failed rows (after they were written)."""


@dataclass
class CellSummary:
    dataset: str
    selector: str
    rows: pd.DataFrame
    n_new: int = 0
    n_failed: int = 0
    n_skipped_done: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, rows: list[dict], failure: str | None = None) -> None:
        """Count rows just written; the failed ones are listed, or summed up as ``failure``."""
        failed = [r for r in rows if r["status"] == "failed"]
        self.n_new += len(rows)
        self.n_failed += len(failed)
        if failure is not None:
            self.failures.append(failure)
        else:
            self.failures += [f"seed={r['seed']} k={r['k']} {r['evaluator']}: {r['error']}"
                              for r in failed]

    def table(self) -> str:
        """Mean accuracy per selector x k x evaluator of this cell's ok rows."""
        ok = self.rows[self.rows.status == "ok"]
        if ok.empty:
            return "(no ok rows)"
        tab = (ok.groupby(["selector", "k", "evaluator"])["accuracy"]
               .agg(["mean", "std", "count"]).round(4))
        return tab.to_string()

    def failure_line(self) -> str:
        head = "; ".join(self.failures[:3])
        more = f" (+{len(self.failures) - 3} more)" if len(self.failures) > 3 else ""
        return (f"{self.n_failed} failed row(s) in cell {self.dataset}/{self.selector}: "
                f"{head}{more}")


def run_cell(cfg: DictConfig, *, show_progress: bool = True) -> CellSummary:
    """Run one (dataset, selector) cell of the experiment described by ``cfg``.

    Parameters
    ----------
    cfg : DictConfig
        The composed config (``dataset``, ``selector``, ``evaluator``, ``seeds``,
        ``budgets``, ``device``, ``protocol``, ``exp_name``, ``results_dir``, ``resume``,
        ``timeout_s``, ``after_timeout``, ``retry_timeouts``, ``torch_threads``,
        ``not_run``). A cell that ``not_run`` names gets ``skipped`` rows with the reason it
        gives, for every (seed, k) without an ok row, and is never loaded or fitted.

    Returns
    -------
    CellSummary
        The cell's rows and counts, failed rows included (``run.py`` turns those into
        :class:`CellFailures` once they are written).

    Raises
    ------
    ValueError
        For an unknown ``protocol`` or ``after_timeout``, a ``retry_timeouts`` that is not
        a boolean, or a malformed ``not_run`` entry, before any row is written.
    """
    cell = _Cell.from_config(cfg)
    _set_torch_threads(cfg.get("torch_threads"))
    store = ResultStore(cfg.results_dir, cell.exp_name)
    store.cleanup()
    summary = CellSummary(cell.dataset, cell.selector,
                          store.load_cell(cell.dataset, cell.selector))
    todo = _pending(cell, summary, resume=cfg.get("resume", True))
    if todo and cell.not_run is not None:
        _record_not_run(cell, store, summary, todo)
    elif todo:
        try:
            dataset = cell.load()
        except Exception as exc:
            # A missing or broken data file fails this cell's rows with the loader's
            # message (which file, where, which checksum); the rest of a sweep goes on.
            _record_load_failure(cell, store, summary, todo, exc)
        else:
            _run_seeds(cell, dataset, todo, store, summary, show_progress)
    store.merge()
    summary.rows = store.load_cell(cell.dataset, cell.selector)
    return summary


# -- the cell's settings ------------------------------------------------------------------
def _plain(cfg) -> dict:
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)


@dataclass
class _Cell:
    """What one cell runs, read and checked once from the composed config."""

    dataset: str
    selector: str
    dataset_cfg: dict
    spec: dict  # the selector's _target_ spec, its per-selector overrides applied
    evaluators: dict
    protocol: str
    exp_name: str
    seeds: list[int]
    budgets: list[int]
    device: str
    timeout_s: float | None
    after_timeout: str
    retry_timeouts: bool
    config_hash: str
    refit: bool
    selects_all: bool
    # Why the experiment leaves this cell out (its `not_run` entry); None: the cell runs.
    not_run: str | None = None
    # The fit that ran past timeout_s, once after_timeout=skip_cell stops the cell.
    stopped_by: str | None = field(default=None, init=False)
    _data: object = field(default=None, init=False, repr=False)
    _load_error: Exception | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_config(cls, cfg: DictConfig) -> _Cell:
        ds_cfg = _plain(cfg.dataset)
        spec = _plain(cfg.selector)
        evaluators = _plain(cfg.evaluator)
        selector = str(spec.pop("name"))
        # Per-selector settings of a dataset (NeuroFS's batch size 20 on small wide sets),
        # then of the experiment (lighter budgets in `quick`), a variant's parent's first;
        # they enter the hash below.
        spec.update(selector_overrides(
            selector, [ds_cfg.pop("selector_overrides", None),
                       _plain(cfg.get("selector_overrides") or {})],
            extends=spec.pop("extends", None)))
        # Refused before any row is written, not mid-cell.
        protocol = str(cfg.get("protocol", "clean"))
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}")
        after_timeout = str(cfg.get("after_timeout", "continue"))
        if after_timeout not in AFTER_TIMEOUT:
            raise ValueError(f"after_timeout must be one of {AFTER_TIMEOUT}; "
                             f"got {after_timeout!r}")
        retry_timeouts = cfg.get("retry_timeouts", True)
        if not isinstance(retry_timeouts, bool):
            raise ValueError(f"retry_timeouts must be true or false; got {retry_timeouts!r}")
        not_run = _not_run_reason(cfg.get("not_run"), str(ds_cfg["name"]), selector)
        # The hash covers what decides a row's value, not the sweep axes (seed, k), the
        # device or what to do after a timeout. A (seed, k) counts as done only if every
        # evaluator row carries the current hash of its own config; one shared hash per
        # (seed, k) is then enough to test.
        hashes = {name: config_hash({"dataset": ds_cfg, "selector": spec,
                                     "protocol": protocol, "evaluator": ev})
                  for name, ev in evaluators.items()}
        target = selector_class(spec)
        return cls(
            dataset=str(ds_cfg["name"]), selector=selector, dataset_cfg=ds_cfg, spec=spec,
            evaluators=evaluators, protocol=protocol, exp_name=str(cfg.exp_name),
            seeds=[int(s) for s in cfg.seeds], budgets=[int(k) for k in cfg.budgets],
            device=str(cfg.get("device", "auto")), timeout_s=cfg.get("timeout_s"),
            after_timeout=after_timeout, retry_timeouts=retry_timeouts,
            config_hash=config_hash(hashes),
            refit=bool(getattr(target, "refit_per_budget", True)),
            selects_all=selects_all_features(target), not_run=not_run)

    def load(self):
        """The dataset, loaded once; a loader's exception is kept and raised again."""
        if self._data is None and self._load_error is None:
            try:
                self._data = instantiate(self.dataset_cfg)
            except Exception as exc:
                self._load_error = exc
        if self._load_error is not None:
            raise self._load_error
        return self._data

    def budgets_to_run(self) -> list[int]:
        """The configured budgets; the ceiling, which ignores K, has one: D, as recorded.

        The ceiling needs the data for that; if it cannot load, its failed rows carry the
        configured budgets instead.
        """
        if self.selects_all:
            try:
                return [self.load().n_features]
            except Exception:
                return self.budgets
        return self.budgets

    def evaluators_at(self, k: int) -> list[str]:
        """Evaluators that run at budget ``k``; the all-features ceiling (whose K is D)
        takes them all, as NeuroFS Table 6 scores all features with every learner."""
        return [name for name, spec in self.evaluators.items()
                if self.selects_all or evaluator_applies(spec, k)]

    def selector_for(self, seed: int, k: int):
        """The unfitted selector of one fit, seeded from (dataset, selector, seed)."""
        fit_seed = derive_seed(self.dataset, self.selector, seed)
        return build_selector(self.spec, k, random_state=fit_seed, device=self.device)


def _not_run_reason(entries, dataset: str, selector: str) -> str | None:
    """The reason an experiment's ``not_run`` list gives for this cell, or None.

    Each entry is a mapping with ``dataset``, ``selector`` and a non-empty ``reason``;
    anything else is refused before a row is written.
    """
    if isinstance(entries, (DictConfig, ListConfig)):
        entries = OmegaConf.to_container(entries, resolve=True)
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise ValueError(f"not_run must be a list of {{dataset, selector, reason}}; "
                         f"got {entries!r}")
    reason = None
    for i, entry in enumerate(entries):
        if (not isinstance(entry, dict) or set(entry) != {"dataset", "selector", "reason"}
                or not str(entry["reason"]).strip()):
            raise ValueError(f"not_run[{i}] must have exactly the keys dataset, selector "
                             f"and a non-empty reason; got {entry!r}")
        if entry["dataset"] == dataset and entry["selector"] == selector:
            reason = str(entry["reason"]).strip()
    return reason


def _set_torch_threads(threads) -> None:
    if threads:
        import torch

        torch.set_num_threads(int(threads))


# -- what is left to do -------------------------------------------------------------------
def _pending(cell: _Cell, summary: CellSummary, resume: bool) -> list[tuple[int, list[int]]]:
    """(seed, budgets not done yet) per seed that has any; counts the done ones."""
    existing = summary.rows if resume else summary.rows.iloc[0:0]
    statuses = ("ok",) if cell.retry_timeouts else ("ok", "timeout")
    if cell.not_run is not None:
        statuses += ("skipped",)
    budgets = cell.budgets_to_run()
    todo = []
    for seed in cell.seeds:
        ks = [k for k in budgets
              if not _done(existing, seed, k, cell.evaluators_at(k), cell.config_hash,
                           statuses)]
        summary.n_skipped_done += len(budgets) - len(ks)
        if ks:
            todo.append((seed, ks))
    return todo


def _done(existing: pd.DataFrame, seed: int, k: int, evals: list[str], chash: str,
          statuses: tuple[str, ...] = ("ok",)) -> bool:
    """True when every expected evaluator has a row of ``statuses`` with this config hash."""
    if existing.empty:
        return False
    sub = existing[(existing.seed == seed) & (existing.k == k)
                   & existing.status.isin(statuses) & (existing.config_hash == chash)]
    return set(evals) <= set(sub.evaluator)


# -- the fits -----------------------------------------------------------------------------
@dataclass
class _Fit:
    """One fit: the fitted estimator (None unless ``status`` is ok), its time and budget."""

    estimator: object
    seconds: float
    error: str
    status: str
    k: int
    shared: bool = False


def _fit(estimator, split, timeout_s, k: int, shared: bool = False) -> _Fit:
    """Fit with a time limit; a failure or a timeout is recorded, not raised."""
    t0 = time.perf_counter()
    try:
        with time_limit(timeout_s):
            estimator.fit(split.X_train, split.y_train)
    except FitTimeout as exc:
        return _Fit(None, time.perf_counter() - t0, error_text(exc), "timeout", k, shared)
    except Exception as exc:  # a broken selector must not stop the sweep
        return _Fit(None, time.perf_counter() - t0, error_text(exc), "failed", k, shared)
    return _Fit(estimator, time.perf_counter() - t0, "", "ok", k, shared)


def _run_seeds(cell, dataset, todo, store, summary, show_progress) -> None:
    """Split, fit, evaluate and record every pending (seed, k)."""
    bar = tqdm(total=sum(len(ks) for _, ks in todo), desc=f"{cell.dataset}/{cell.selector}",
               unit="fit", disable=not show_progress, file=sys.stderr, leave=True)
    for seed, ks in todo:
        split = make_split(dataset, cell.protocol, seed)
        common = _common_fields(cell, dataset, split, seed)
        shared = _shared_fit(cell, split, seed, ks, dataset.n_features)
        for k in ks:
            rows = _budget_rows(cell, split, seed, k, shared, common, dataset.n_features)
            store.write_cell(cell.dataset, cell.selector, rows)
            summary.add(rows)
            bar.update(1)
    bar.close()


def _common_fields(cell: _Cell, dataset, split, seed: int) -> dict:
    """The columns every row of one seed shares."""
    true_support = ("" if dataset.true_support is None
                    else " ".join(map(str, np.asarray(dataset.true_support).tolist())))
    return dict(
        dataset=cell.dataset, selector=cell.selector, seed=seed,
        n_train=int(split.X_train.shape[0]), n_test=int(split.X_test.shape[0]),
        n_features=dataset.n_features, n_classes=dataset.n_classes, protocol=cell.protocol,
        exp_name=cell.exp_name, git_commit=git_commit(), config_hash=cell.config_hash,
        versions=versions(), machine=machine(), true_support=true_support,
    )


def _shared_fit(cell: _Cell, split, seed: int, ks: list[int], D: int) -> _Fit | None:
    """The one fit of a ranking selector that serves every budget of this seed, at the
    largest valid one; None for a selector refit per budget or a cell already stopped."""
    valid = [k for k in ks if 1 <= k <= D]
    if cell.refit or not valid or cell.stopped_by is not None:
        return None
    k = max(valid)
    return _note_timeout(cell, seed, _fit(cell.selector_for(seed, k), split, cell.timeout_s,
                                          k, shared=True))


def _note_timeout(cell: _Cell, seed: int, fit: _Fit) -> _Fit:
    """With after_timeout=skip_cell, the first fit past the limit stops the cell."""
    if fit.status == "timeout" and cell.after_timeout == "skip_cell":
        cell.stopped_by = f"seed {seed} k={fit.k}"
    return fit


def _budget_rows(cell, split, seed, k, shared, common, D) -> list[dict]:
    """The rows of one (seed, k): skipped, not run, the fit's failure, or evaluated."""
    started = utc_now()
    evals = cell.evaluators_at(k)
    unfitted = dict(common, k=k, select_shared=False, started_at=started, device="")
    if not 1 <= k <= D:
        reason = f"k={k} is outside 1..n_features={D}"
        return [dict(unfitted, evaluator=e, status="skipped", error=reason) for e in evals]
    if shared is None and cell.stopped_by is not None:
        reason = (f"not run: {cell.stopped_by} of this cell ran past "
                  f"timeout_s={cell.timeout_s:g} (after_timeout=skip_cell)")
        return [dict(unfitted, evaluator=e, status="timeout", error=reason) for e in evals]
    if shared is not None:
        fit = shared
        if fit.estimator is not None:
            fit.estimator.set_params(n_features_to_select=k)
    else:
        fit = _note_timeout(cell, seed, _fit(cell.selector_for(seed, k), split,
                                             cell.timeout_s, k))
    est = fit.estimator
    device = str(getattr(est, "device_", "cpu")) if est is not None else ""
    base = dict(common, k=k, select_seconds=fit.seconds, select_shared=fit.shared,
                started_at=started, device=device)
    if est is None:
        return [dict(base, evaluator=e, status=fit.status, error=fit.error) for e in evals]
    return _evaluate_all(est, k, evals, cell.evaluators, split, seed, base)


# -- evaluation ---------------------------------------------------------------------------
def _separation(est) -> dict:
    """``n_separated`` and ``n_tiebroken`` at the estimator's current budget, if it ranks.

    Empty for a selector without the counts (trained per budget: no shared ranking whose
    ties could fill the support) and for the all-features ceiling (nothing left out).
    """
    if selects_all_features(est) or not callable(
            getattr(est, "n_separated", None)):
        return {}
    return {"n_separated": int(est.n_separated()), "n_tiebroken": int(est.n_tiebroken())}


def _evaluate_all(est, k, evals, evaluators, split, seed, base):
    rows = []
    try:
        mask = np.asarray(est.get_support(), dtype=bool)
        idx = np.flatnonzero(mask)
        if idx.size != k and not selects_all_features(est):
            raise RuntimeError(f"selector returned {idx.size} features, expected k={k}")
        base = dict(base, **_separation(est))
    except Exception as exc:
        return [dict(base, evaluator=e, status="failed", error=error_text(exc)) for e in evals]
    selected = " ".join(map(str, idx.tolist()))
    Xtr, Xte = split.X_train[:, idx], split.X_test[:, idx]
    for name in evals:
        try:
            res = evaluate(evaluators[name], seed, Xtr, split.y_train, Xte, split.y_test)
            rows.append(dict(base, evaluator=name, accuracy=res.accuracy,
                             balanced_accuracy=res.balanced_accuracy,
                             eval_seconds=res.seconds, selected=selected, status="ok",
                             error=""))
        except Exception as exc:
            rows.append(dict(base, evaluator=name, selected=selected, status="failed",
                             error=error_text(exc)))
    return rows


# -- a cell that fits nothing: left out by the experiment, or its data cannot load --------
def _unfitted_rows(cell, todo, status: str, error: str) -> list[dict]:
    """One row per pending (seed, k, evaluator) of a cell that fits nothing."""
    return [dict(dataset=cell.dataset, selector=cell.selector, seed=seed, k=k,
                 evaluator=e, status=status, error=error, protocol=cell.protocol,
                 exp_name=cell.exp_name, git_commit=git_commit(),
                 config_hash=cell.config_hash, versions=versions(), machine=machine(),
                 started_at=utc_now(), select_shared=False, device="")
            for seed, ks in todo for k in ks for e in cell.evaluators_at(k)]


def _record_not_run(cell, store, summary, todo) -> None:
    """Write a skipped row per pending (seed, k, evaluator) with the experiment's reason;
    nothing is loaded or fitted."""
    rows = _unfitted_rows(cell, todo, "skipped", f"not run: {cell.not_run} "
                                                 "(the experiment's not_run)")
    store.write_cell(cell.dataset, cell.selector, rows)
    summary.add(rows)


def _record_load_failure(cell, store, summary, todo, exc) -> None:
    """Write a failed row per pending (seed, k, evaluator), with the loader's message."""
    # Hydra wraps the loader's exception; the loader's own message is the useful one.
    while isinstance(exc, InstantiationException) and exc.__cause__ is not None:
        exc = exc.__cause__
    err = error_text(exc)
    rows = _unfitted_rows(cell, todo, "failed", err)
    store.write_cell(cell.dataset, cell.selector, rows)
    summary.add(rows, failure=f"dataset could not be loaded: {err}")
