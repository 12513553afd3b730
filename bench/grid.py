"""The grid an experiment promises, and which of its rows a results table still lacks.

An experiment config (``configs/experiment/<name>.yaml``) sweeps datasets and selectors
through Hydra's ``hydra.sweeper.params`` and sets ``seeds``, ``budgets`` and the evaluator
group; :func:`experiment_grid` reads those into a :class:`Grid`. :func:`grid_gaps` then
lists every (dataset, selector, seed, k, evaluator) of the grid without an accounted-for
row: an ``ok`` row, or a ``timeout`` or ``skipped`` row (a cell the experiment leaves out
in ``not_run``, a K above D) that says why in ``error``. A ``failed`` row, a ``timeout`` or
``skipped`` row without a reason, or no row at all is a gap. The all-features ceiling, whose K
is D whatever the budgets, needs one budget per seed with every evaluator.

This is what a committed result file is checked against (a published grid must hold every
cell or say why not), and it is how a long run shows what is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from bench.evaluation import evaluator_applies
from bench.factory import CONFIG_DIR, compose_config, selector_class, selector_spec
from selector_contract import selects_all_features

__all__ = ["Grid", "experiment_grid", "grid_gaps"]

KEY = ["dataset", "selector", "seed", "k", "evaluator"]


@dataclass(frozen=True)
class Grid:
    """The sweep of one experiment.

    Attributes
    ----------
    datasets, selectors : tuple of str
    seeds, budgets : tuple of int
    evaluators : dict
        Evaluator name to its spec (``budgets`` limits the K it runs at).
    ceilings : frozenset of str
        Selectors that keep every column (K = D), per the selector contract.
    """

    datasets: tuple
    selectors: tuple
    seeds: tuple
    budgets: tuple
    evaluators: Mapping
    ceilings: frozenset = frozenset()

    def expected(self) -> pd.DataFrame:
        """Every (dataset, selector, seed, k, evaluator) the grid asks for; a ceiling's k is
        NaN (it runs at D, which the configs do not state)."""
        rows = []
        for dataset in self.datasets:
            for selector in self.selectors:
                ceiling = selector in self.ceilings
                for seed in self.seeds:
                    for k in ([None] if ceiling else self.budgets):
                        for name, spec in self.evaluators.items():
                            if ceiling or evaluator_applies(spec, k):
                                rows.append((dataset, selector, seed, k, name))
        return pd.DataFrame(rows, columns=KEY).astype({"k": "float64"})


def _sweep_values(text) -> tuple:
    return tuple(v.strip() for v in str(text).split(",") if v.strip())


def experiment_grid(name: str, config_dir: Path | str = CONFIG_DIR) -> Grid:
    """The grid of ``configs/experiment/<name>.yaml``.

    Raises
    ------
    ValueError
        When the experiment does not exist or sweeps no dataset or no selector.
    """
    path = Path(config_dir) / "experiment" / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no experiment config {path}")
    params = OmegaConf.select(OmegaConf.load(path), "hydra.sweeper.params") or {}
    datasets = _sweep_values(params.get("dataset", ""))
    selectors = _sweep_values(params.get("selector", ""))
    if not datasets or not selectors:
        raise ValueError(f"{path}: hydra.sweeper.params must sweep dataset and selector; "
                         f"got {dict(params)}")
    cfg = compose_config([f"experiment={name}"], config_dir=config_dir)
    evaluators = OmegaConf.to_container(cfg.evaluator, resolve=True)
    ceilings = {selector for selector in selectors
                if selects_all_features(selector_class(selector_spec(selector,
                                                                     config_dir=config_dir)))}
    return Grid(datasets, selectors, tuple(int(s) for s in cfg.seeds),
                tuple(int(k) for k in cfg.budgets), evaluators, frozenset(ceilings))


def grid_gaps(rows: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """The grid's cells that ``rows`` does not account for, with the reason.

    Parameters
    ----------
    rows : DataFrame
        Result rows (``dataset``, ``selector``, ``seed``, ``k``, ``evaluator``, ``status``,
        ``error``), e.g. from :func:`bench.records.read_rows`.
    grid : Grid

    Returns
    -------
    DataFrame
        One row per gap: the key and ``why`` ("no row", "failed: ...", "timeout without a
        reason", "skipped without a reason"); empty when the grid is complete.
    """
    rows = rows.copy()
    rows["error"] = rows.get("error", pd.Series(index=rows.index, dtype=object)).fillna("")
    explained = rows["status"].isin(["timeout", "skipped"])
    reason = rows["error"].astype(str).str.strip() != ""
    good = (rows["status"] == "ok") | (explained & reason)
    rows["why"] = ""
    rows.loc[~good & explained, "why"] = rows["status"].astype(str) + " without a reason"
    rows.loc[~good & ~explained, "why"] = (
        rows["status"].astype(str) + ": " + rows["error"].astype(str))
    rows["good"] = rows["why"] == ""
    rows["k"] = rows["k"].astype("float64")  # the grid's k is float (NaN for a ceiling)
    expected = grid.expected()
    ceiling = expected["selector"].isin(grid.ceilings)
    parts = []
    # one lookup per key by a merge; a ceiling runs at K = D, so any of its k will do
    for part, on in ((expected[~ceiling], KEY), (expected[ceiling], [c for c in KEY if c != "k"])):
        if part.empty:
            continue
        have = rows.groupby(on, sort=False).agg(good=("good", "any"), first=("why", "first"))
        parts.append(part.reset_index().merge(have.reset_index(), on=on, how="left")
                     .set_index("index"))
    if not parts:
        return pd.DataFrame(columns=[*KEY, "why"])
    found = pd.concat(parts).sort_index()
    found["why"] = found["first"].where(found["good"].notna(), "no row")
    gaps = found[~found["good"].eq(True)]  # no row (NaN), or no row that accounts for it
    return gaps[[*KEY, "why"]].reset_index(drop=True)
