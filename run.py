"""Run one cell (dataset x selector) of a feature-selection benchmark, or sweep with -m.

    python run.py dataset=madelon selector=entryprune budgets=[25,50] seeds=[0,1,2]
    python run.py -m selector=random,random_forest,anova_f
    python run.py -m hydra/launcher=parallel experiment=quick
"""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from bench.runner import CellFailures, run_cell
from bench.workers import threads_per_worker, worker_device


def _fit_to_launcher(cfg: DictConfig, hc) -> None:
    """Give this job its share of the machine when a launcher runs jobs side by side."""
    launcher = hc.launcher
    target = str(launcher.get("_target_", ""))
    with open_dict(cfg):
        if cfg.get("torch_threads") is None:
            if "JoblibLauncher" in target:
                n_jobs = int(launcher.get("n_jobs") or 1)
                cfg.torch_threads = threads_per_worker(n_jobs if n_jobs > 0 else 1)
            elif "submitit" in target and launcher.get("cpus_per_task"):
                cfg.torch_threads = int(launcher.cpus_per_task)
        if "JoblibLauncher" in target:
            import torch

            n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
            cfg.device = worker_device(str(cfg.device), int(hc.job.get("num", 0)), n_gpus)


def _check_names(cfg: DictConfig, hc) -> None:
    """Refuse a dataset or selector config without ``name`` before anything runs."""
    for group in ("dataset", "selector"):
        if not cfg[group].get("name"):
            choice = hc.runtime.choices.get(group)
            raise ValueError(f"the {group} config {choice!r} has no 'name:' key; add one (rows, "
                             "result files and resume are keyed on it)")


def _run(cfg: DictConfig):
    try:
        return run_cell(cfg)
    except InstantiationException as exc:
        # Hydra says which target it could not locate but hides why (a missing package, a
        # typo) behind HYDRA_FULL_ERROR; a user's plugin most often fails right here.
        target = cfg.selector.get("_target_")
        if not isinstance(exc.__cause__, ImportError) or f"'{target}'" not in str(exc):
            raise
        why = " ".join(str(exc.__cause__).split())
        raise ImportError(f"selector {cfg.selector.name!r}: cannot import its _target_ "
                          f"{target!r}: {why} The module must be importable: install its "
                          "package, or add the folder that holds it to PYTHONPATH.") from exc


@hydra.main(config_path="configs", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> int:
    hc = HydraConfig.get()
    _check_names(cfg, hc)
    _fit_to_launcher(cfg, hc)
    summary = _run(cfg)
    print(f"\n{summary.dataset} / {summary.selector}: {summary.n_new} new row(s), "
          f"{summary.n_skipped_done} (seed, k) already done -> "
          f"{cfg.results_dir}/{cfg.exp_name}.csv")
    print(summary.table())
    if summary.n_failed:
        line = summary.failure_line()
        if hc.mode == RunMode.MULTIRUN:
            # Raising lets the sweep finish its other cells; Hydra then exits non-zero.
            raise CellFailures(line)
        print(f"FAILED: {line}", file=sys.stderr)
        sys.exit(1)
    return summary.n_new


if __name__ == "__main__":
    main()
