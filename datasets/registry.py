"""Load a dataset by its config name, outside Hydra (scripts, tests, benchmarks)."""

from __future__ import annotations

from pathlib import Path

from datasets.base import Dataset

__all__ = ["CONFIG_DIR", "dataset_selector_overrides", "list_datasets", "load_dataset"]

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs" / "dataset"


def list_datasets() -> list[str]:
    """Names of every dataset config (``configs/dataset/*.yaml``)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def _config(name: str) -> dict:
    from omegaconf import OmegaConf

    path = CONFIG_DIR / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(list_datasets())}")
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def load_dataset(name: str, **overrides) -> Dataset:
    """Instantiate ``configs/dataset/<name>.yaml`` with ``overrides`` applied.

    The config's ``selector_overrides`` are not part of the dataset; a script that builds a
    selector for it reads them with :func:`dataset_selector_overrides`, as the runner does.
    """
    from hydra.utils import instantiate

    cfg = _config(name)
    cfg.pop("selector_overrides", None)
    cfg.update(overrides)
    return instantiate(cfg)


def dataset_selector_overrides(name: str) -> dict:
    """The per-selector settings of ``configs/dataset/<name>.yaml`` (``selector_overrides``).

    Selector name to a mapping of settings; pass it in ``sources`` of
    :func:`bench.factory.selector_spec` to build a selector as a run on this dataset would.
    """
    return dict(_config(name).get("selector_overrides") or {})
