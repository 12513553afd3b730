"""Run one cell (dataset x selector) of a feature-selection benchmark, or sweep with -m.

    python run.py dataset=madelon selector=entryprune budgets=[25,50] seeds=[0,1,2]
    python run.py -m selector=random,random_forest,anova_f
"""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from bench.runner import CellFailures, run_cell


@hydra.main(config_path="configs", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> int:
    summary = run_cell(cfg)
    print(f"\n{summary.dataset} / {summary.selector}: {summary.n_new} new row(s), "
          f"{summary.n_skipped_done} (seed, k) already done -> {cfg.results_dir}/{cfg.exp_name}.csv")
    print(summary.table())
    if summary.n_failed:
        line = summary.failure_line()
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            # Raising lets the sweep finish its other cells; Hydra then exits non-zero.
            raise CellFailures(line)
        print(f"FAILED: {line}", file=sys.stderr)
        sys.exit(1)
    return summary.n_new


if __name__ == "__main__":
    main()
