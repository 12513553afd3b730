"""From config to estimator: compose a config through Hydra, then build what it names.

Every part of the harness that turns a config into an object goes through here: the runner
(one selector per fit), the measurement child of :mod:`bench.perf`, the downstream
evaluators and the tests. So a selector is built the same way wherever it is fitted:

1. its config is composed as ``run.py`` composes it (``selector=<name>`` under
   ``configs/config.yaml``), so a ``defaults`` list, such as the one of ``entryprune_flex``,
   is resolved exactly as in a run (:func:`selector_spec`);
2. ``hydra.utils.instantiate(spec, _partial_=True)`` binds the configured settings, and
   the budget, ``random_state`` and ``device`` are passed on top, the last two only to a
   class whose constructor takes them (:func:`build_selector`); an evaluator's estimator
   is built the same way with its seed (:func:`build_estimator`).

Settings passed as keyword arguments reach the constructor as given (a tuple stays a
tuple); settings in the spec go through OmegaConf, which turns sequences into lists.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

__all__ = [
    "CONFIG_DIR",
    "CONFIG_ONLY_KEYS",
    "build_estimator",
    "build_selector",
    "compose_config",
    "config_names",
    "list_selector_configs",
    "parse_overrides",
    "selector_class",
    "selector_overrides",
    "selector_spec",
]

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
#: Keys of a selector config that describe the config, not the selector: its ``name`` and
#: the selector it is a variant of (``extends``, see :func:`selector_overrides`).
CONFIG_ONLY_KEYS = ("name", "extends")


# -- composing configs --------------------------------------------------------------------
def compose_config(overrides: Sequence[str] = (), *,
                   config_dir: Path | str = CONFIG_DIR) -> DictConfig:
    """The config ``run.py`` would run with these command-line ``overrides``.

    Parameters
    ----------
    overrides : sequence of str
        Hydra overrides, e.g. ``["selector=stg", "seeds=[0]", "selector.lam=0.5"]``.
    config_dir : path, default=the project's ``configs``

    Returns
    -------
    DictConfig
        The composed ``config.yaml`` (without the ``hydra`` node).
    """
    # The context manager restores whatever Hydra state the caller had (a test's compose).
    with initialize_config_dir(config_dir=str(Path(config_dir).resolve()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def config_names(group: str, config_dir: Path | str = CONFIG_DIR) -> list[str]:
    """Names of the options of config group ``group`` (``configs/<group>/*.yaml``), sorted."""
    return sorted(p.stem for p in (Path(config_dir) / group).glob("*.yaml"))


def list_selector_configs(config_dir: Path | str = CONFIG_DIR) -> list[str]:
    """Names of the selector configs (``configs/selector/<name>.yaml``), sorted."""
    return config_names("selector", config_dir)


def parse_overrides(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Parse ``selector.param=value`` strings into ``{selector: {param: value}}``.

    Values are read with OmegaConf's grammar, the one ``run.py`` uses on the command line,
    so ``5`` is an int, ``1e-3`` a float, ``null`` is None and ``[20,5]`` a list.

    Parameters
    ----------
    items : sequence of str
        For example ``["neurofs.epochs=5", "lassonet.n_iters=[20,5]"]``.

    Returns
    -------
    dict
        Selector name to a mapping of parameter to value.
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        name, dot, param = key.strip().partition(".")
        if not sep or not dot or not name or not param:
            raise ValueError(f"override {item!r} is not of the form selector.param=value")
        parsed = OmegaConf.to_container(OmegaConf.from_dotlist([f"{param}={value}"]))
        out.setdefault(name, {}).update(parsed)
    return out


def selector_overrides(name: str, sources: Sequence[Mapping | None], *,
                       extends: str | None = None) -> dict[str, Any]:
    """The per-selector settings that apply to selector ``name``, merged in order.

    A dataset config (NeuroFS's batch size 20 on the small wide sets) and an experiment
    (lighter settings in ``quick``) each hold a ``selector_overrides`` mapping from selector
    name to settings. A selector config that is a variant of another one says so with
    ``extends: <parent>`` (``neurofs_released`` extends ``neurofs``); it then gets the
    parent's settings from each source first and its own on top, so a dataset states a
    method's settings once for every variant of it.

    Parameters
    ----------
    name : str
        The selector config's ``name``.
    sources : sequence of mapping or None
        ``selector_overrides`` mappings, lowest priority first; None is skipped.
    extends : str or None
        The parent selector's name (the config's ``extends`` key).

    Returns
    -------
    dict
    """
    out: dict[str, Any] = {}
    for source in sources:
        for key in (extends, name):
            if key is not None and source:
                out.update(source.get(key) or {})
    return out


def selector_spec(name: str, overrides: Mapping[str, Any] | None = None,
                  config_dir: Path | str = CONFIG_DIR, *,
                  sources: Sequence[Mapping | None] = ()) -> dict[str, Any]:
    """The ``_target_`` spec of selector config ``name``, with ``overrides`` applied.

    The config is composed through Hydra (see :func:`compose_config`). The ``name`` key is
    dropped; what is left is what :func:`build_selector` takes.

    Parameters
    ----------
    name : str
        A file stem in ``configs/selector``.
    overrides : mapping, optional
        Parameter to value, applied on top of the config (nested keys as nested mappings).
    config_dir : path, default=the project's ``configs``
    sources : sequence of mapping, optional
        ``selector_overrides`` mappings (a dataset's, say) applied before ``overrides``, as
        :func:`selector_overrides` merges them.

    Returns
    -------
    dict
        A plain, JSON-serialisable spec.

    Raises
    ------
    ValueError
        When ``name`` has no config or an override names a parameter the selector's
        constructor does not take (found here, not after an hour of failed fits).
    """
    known = list_selector_configs(config_dir)
    if name not in known:
        raise ValueError(f"no selector config {name!r}; known: {', '.join(known)}")
    cfg = compose_config([f"selector={name}"], config_dir=config_dir)
    plain = OmegaConf.to_container(cfg.selector, resolve=True)
    plain.pop("name", None)
    extends = plain.pop("extends", None)
    overrides = {**selector_overrides(name, sources, extends=extends), **(overrides or {})}
    if overrides:
        merged = OmegaConf.merge(OmegaConf.create(plain), OmegaConf.create(dict(overrides)))
        plain = OmegaConf.to_container(merged, resolve=True)
        accepted = _parameters(get_class(plain["_target_"]))
        unknown = sorted(set(overrides) - set(accepted))
        if unknown:
            raise ValueError(f"selector {name!r} ({plain['_target_']}) takes no parameter "
                             f"{', '.join(unknown)}; it takes {', '.join(accepted)}")
    return plain


# -- building -----------------------------------------------------------------------------
def _parameters(target) -> list[str]:
    """Parameter names of a class's constructor (or a function's); empty if unreadable."""
    try:
        return list(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return []


def build_estimator(spec: Mapping[str, Any], *, random_state: int | None = None,
                    device: str | None = None, **params):
    """Build the estimator of a ``_target_`` spec, seeded and placed where it allows.

    Parameters
    ----------
    spec : mapping
        ``_target_`` and the configured settings (a dict or a DictConfig).
    random_state : int, optional
        Passed when the constructor takes ``random_state``; None passes nothing, so the
        class default holds.
    device : str, optional
        Passed when the constructor takes ``device``; None passes nothing.
    **params
        Further constructor arguments, passed as given and on top of the spec's.

    Returns
    -------
    object
        The new, unfitted estimator.
    """
    factory = instantiate(spec, _partial_=True)
    accepted = _parameters(factory.func)
    for key, value in (("random_state", random_state), ("device", device)):
        if value is not None and key in accepted:
            params[key] = value
    return factory(**params)


def build_selector(spec: Mapping[str, Any], k: int, *, random_state: int | None = None,
                   device: str | None = None, **params):
    """Build the selector of a ``_target_`` spec with budget ``k``.

    Parameters
    ----------
    spec : mapping
        From :func:`selector_spec`, or a run's ``selector`` config without its ``name``.
    k : int
        The budget, ``n_features_to_select``.
    random_state, device : optional
        Passed only to a selector whose constructor takes them; None passes nothing.
    **params
        Further settings, passed as given (see the module docstring).

    Returns
    -------
    sklearn selector
        Unfitted.
    """
    return build_estimator(spec, random_state=random_state, device=device,
                           n_features_to_select=k, **params)


def selector_class(spec: Mapping[str, Any]) -> type:
    """The class a selector spec names, imported as :func:`build_selector` imports it.

    For what a cell must know before its first fit (``refit_per_budget``, whether it is
    the all-features ceiling); a target that cannot be imported fails here the same way.
    """
    return instantiate(spec, _partial_=True).func
