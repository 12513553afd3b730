"""Load a dataset by its config name, outside Hydra (scripts, tests, benchmarks)."""

from __future__ import annotations

from pathlib import Path

from datasets.base import Dataset

__all__ = ["CONFIG_DIR", "list_datasets", "load_dataset"]

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs" / "dataset"


def list_datasets() -> list[str]:
    """Names of every dataset config (``configs/dataset/*.yaml``)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_dataset(name: str, **overrides) -> Dataset:
    """Instantiate ``configs/dataset/<name>.yaml`` with ``overrides`` applied."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    path = CONFIG_DIR / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(list_datasets())}")
    cfg = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    cfg.pop("selector_overrides", None)
    cfg.update(overrides)
    return instantiate(cfg)
