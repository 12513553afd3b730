"""The runner: one cell (dataset, selector) over seeds x budgets, written as tidy rows.

For each seed: split (depends on dataset, protocol and seed only, so the design is paired),
fit the selector on the training part, time the fit, score the selected columns with
every evaluator, and write the rows of each (seed, k) atomically before going on. Ranking
selectors (``refit_per_budget = False``) are fit once per seed and serve every budget;
the others are refit per budget. A selector that raises gives ``failed`` rows and the
cell goes on; a fit past ``timeout_s`` gives ``timeout`` rows. Rows of a ranking selector
also record how many of the K columns its scores chose rather than index order
(``n_separated``, ``n_tiebroken``; see ``selector_contract.RankingSelector``).
"""

from __future__ import annotations

import inspect
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from bench.evaluation import evaluate, evaluator_applies
from bench.provenance import config_hash, derive_seed, git_commit, utc_now, versions
from bench.records import ResultStore, error_text
from bench.timeout import FitTimeout, time_limit
from datasets.base import PROTOCOLS, make_split
from selector_contract import selects_all_features

__all__ = ["CellFailures", "CellSummary", "run_cell"]


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


def _accepts(factory, name: str) -> bool:
    target = factory.func if hasattr(factory, "func") else factory
    try:
        return name in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def _plain(cfg) -> dict:
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)


def _expected_evaluators(evaluators: dict, k: int, every: bool = False) -> list[str]:
    """Evaluators that run at budget ``k``; ``every`` (the all-features ceiling, whose K is
    D) takes them all, as NeuroFS Table 6 scores all features with every learner."""
    return [name for name, spec in evaluators.items() if every or evaluator_applies(spec, k)]


def _done(existing: pd.DataFrame, seed: int, k: int, evals: list[str], chash: str) -> bool:
    """True when every expected evaluator has an ok row with this config hash."""
    if existing.empty:
        return False
    sub = existing[(existing.seed == seed) & (existing.k == k) & (existing.status == "ok")
                   & (existing.config_hash == chash)]
    return set(evals) <= set(sub.evaluator)




def run_cell(cfg: DictConfig, *, show_progress: bool = True) -> CellSummary:
    """Run one (dataset, selector) cell of the experiment described by ``cfg``.

    Parameters
    ----------
    cfg : DictConfig
        The composed config (``dataset``, ``selector``, ``evaluator``, ``seeds``,
        ``budgets``, ``device``, ``protocol``, ``exp_name``, ``results_dir``, ``resume``,
        ``timeout_s``, ``torch_threads``).

    Returns
    -------
    CellSummary
        Raises :class:`CellFailures` instead when rows failed (they are written first).
    """
    ds_cfg = _plain(cfg.dataset)
    sel_cfg = _plain(cfg.selector)
    evaluators = _plain(cfg.evaluator)
    dataset_name = str(ds_cfg["name"])
    selector_name = str(sel_cfg.pop("name"))
    # Per-selector settings of a dataset (NeuroFS's batch size 20 on small wide sets), then
    # of the experiment (lighter budgets in `quick`); both enter the config hash below.
    for source in (ds_cfg.pop("selector_overrides", None),
                   _plain(cfg.get("selector_overrides") or {})):
        sel_cfg.update((source or {}).get(selector_name, {}) or {})
    protocol = str(cfg.get("protocol", "clean"))
    if protocol not in PROTOCOLS:  # refuse before any row is written, not mid-cell
        raise ValueError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}")
    seeds = [int(s) for s in cfg.seeds]
    budgets = [int(k) for k in cfg.budgets]
    timeout_s = cfg.get("timeout_s")
    threads = cfg.get("torch_threads")
    if threads:
        import torch

        torch.set_num_threads(int(threads))

    # The hash covers what decides a row's value, not the sweep axes (seed, k) or device.
    hashes = {
        name: config_hash({"dataset": ds_cfg, "selector": sel_cfg, "protocol": protocol,
                           "evaluator": spec})
        for name, spec in evaluators.items()
    }
    # A cell counts as done per (seed, k) only if every evaluator row carries the current
    # hash of its own config; one shared hash per (seed, k) is then enough to test.
    cell_hash = config_hash(hashes)

    store = ResultStore(cfg.results_dir, cfg.exp_name)
    store.cleanup()
    existing = store.load_cell(dataset_name, selector_name)
    if not cfg.get("resume", True):
        existing = existing.iloc[0:0]

    factory = instantiate(sel_cfg, _partial_=True)
    refit = bool(getattr(factory.func, "refit_per_budget", True))
    selects_all = selects_all_features(factory)

    summary = CellSummary(dataset_name, selector_name, existing)
    dataset = load_error = None
    if selects_all:
        # The ceiling ignores K: one budget per seed, recorded as D (needs the data first;
        # if it cannot load, its failed rows carry the configured budgets instead).
        try:
            dataset = instantiate(ds_cfg)
            budgets = [dataset.n_features]
        except Exception as exc:
            load_error = exc
    todo = []
    for seed in seeds:
        ks = [k for k in budgets
              if not _done(existing, seed, k, _expected_evaluators(evaluators, k, selects_all),
                           cell_hash)]
        summary.n_skipped_done += len(budgets) - len(ks)
        if ks:
            todo.append((seed, ks))
    if not todo:
        store.merge()
        summary.rows = store.load_cell(dataset_name, selector_name)
        return summary

    if dataset is None:
        try:
            if load_error is not None:
                raise load_error
            dataset = instantiate(ds_cfg)
        except Exception as exc:
            # A missing or broken data file fails this cell's rows with the loader's
            # message (which file, where, which checksum); the rest of a sweep goes on.
            return _fail_cell(summary, store, todo, evaluators, exc, cell_hash, protocol,
                              str(cfg.exp_name), selects_all)
    D = dataset.n_features
    true_support = ("" if dataset.true_support is None
                    else " ".join(map(str, np.asarray(dataset.true_support).tolist())))
    total = sum(len(ks) for _, ks in todo)
    bar = tqdm(total=total, desc=f"{dataset_name}/{selector_name}", unit="fit",
               disable=not show_progress, file=sys.stderr, leave=True)

    for seed, ks in todo:
        split = make_split(dataset, protocol, seed)
        sel_seed = derive_seed(dataset_name, selector_name, seed)
        common = dict(
            dataset=dataset_name, selector=selector_name, seed=seed,
            n_train=int(split.X_train.shape[0]), n_test=int(split.X_test.shape[0]),
            n_features=D, n_classes=dataset.n_classes, protocol=protocol,
            exp_name=str(cfg.exp_name), git_commit=git_commit(), config_hash=cell_hash,
            versions=versions(), true_support=true_support,
        )

        def make(k, _seed=sel_seed):
            kwargs = {"n_features_to_select": k}
            if _accepts(factory, "random_state"):
                kwargs["random_state"] = _seed
            if _accepts(factory, "device"):
                kwargs["device"] = str(cfg.get("device", "auto"))
            return factory(**kwargs)

        shared = None  # (estimator, seconds, error, status) of the one fit for all budgets
        valid = [k for k in ks if 1 <= k <= D]
        if not refit and valid:
            shared = _fit(make(max(valid)), split, timeout_s)

        for k in ks:
            started = utc_now()
            evals = _expected_evaluators(evaluators, k, selects_all)
            rows = []
            if not 1 <= k <= D:
                reason = f"k={k} is outside 1..n_features={D}"
                rows = [dict(common, k=k, evaluator=e, status="skipped", error=reason,
                             select_shared=False, started_at=started, device="")
                        for e in evals]
            else:
                if shared is not None:
                    est, seconds, err, status = shared
                    if est is not None:
                        est.set_params(n_features_to_select=k)
                else:
                    est, seconds, err, status = _fit(make(k), split, timeout_s)
                device = str(getattr(est, "device_", "cpu")) if est is not None else ""
                base = dict(common, k=k, select_seconds=seconds, select_shared=shared is not None,
                            started_at=started, device=device)
                if est is None:
                    rows = [dict(base, evaluator=e, status=status, error=err) for e in evals]
                else:
                    rows = _evaluate_all(est, k, evals, evaluators, split, seed, base)
            for r in rows:
                if r["status"] == "failed":
                    summary.n_failed += 1
                    summary.failures.append(f"seed={seed} k={k} {r['evaluator']}: {r['error']}")
            summary.n_new += len(rows)
            existing = store.write_cell(dataset_name, selector_name, rows)
            bar.update(1)
    bar.close()
    store.merge()
    summary.rows = store.load_cell(dataset_name, selector_name)
    return summary


def _fail_cell(summary, store, todo, evaluators, exc, cell_hash, protocol, exp_name,
               every=False):
    # Hydra wraps the loader's exception; the loader's own message is the useful one.
    while isinstance(exc, InstantiationException) and exc.__cause__ is not None:
        exc = exc.__cause__
    err = error_text(exc)
    rows = [dict(dataset=summary.dataset, selector=summary.selector, seed=seed, k=k,
                 evaluator=e, status="failed", error=err, protocol=protocol,
                 exp_name=exp_name, git_commit=git_commit(), config_hash=cell_hash,
                 versions=versions(), started_at=utc_now(), select_shared=False, device="")
            for seed, ks in todo for k in ks
            for e in _expected_evaluators(evaluators, k, every)]
    summary.n_failed += len(rows)
    summary.n_new += len(rows)
    summary.failures.append(f"dataset could not be loaded: {err}")
    store.write_cell(summary.dataset, summary.selector, rows)
    store.merge()
    summary.rows = store.load_cell(summary.dataset, summary.selector)
    return summary


def _fit(estimator, split, timeout_s):
    """Fit with a time limit; return (estimator or None, seconds, error, status)."""
    t0 = time.perf_counter()
    try:
        with time_limit(timeout_s):
            estimator.fit(split.X_train, split.y_train)
    except FitTimeout as exc:
        return None, time.perf_counter() - t0, error_text(exc), "timeout"
    except Exception as exc:  # a broken selector must not stop the sweep
        return None, time.perf_counter() - t0, error_text(exc), "failed"
    return estimator, time.perf_counter() - t0, "", "ok"


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
