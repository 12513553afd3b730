"""One selector on one problem: fresh copies, the shared fit, the global RNG watch."""

from __future__ import annotations

import importlib.util
import pickle
import random

import numpy as np
from sklearn.base import clone

from bench.records import error_text
from bench.testing.outcome import _Fail
from bench.testing.problems import Problem
from selector_contract import selects_all_features


def _same_value(a, b) -> bool:
    """Parameter equality that also holds for arrays, NaN and nested estimators."""
    if a is b:
        return True
    if hasattr(a, "get_params") and hasattr(b, "get_params"):
        pa, pb = a.get_params(deep=False), b.get_params(deep=False)
        return type(a) is type(b) and pa.keys() == pb.keys() and all(
            _same_value(pa[key], pb[key]) for key in pa)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except Exception:  # values NumPy cannot hold side by side: fall back to ==
        return bool(a == b)


def _columns(mask) -> str:
    idx = np.flatnonzero(mask)
    text = " ".join(map(str, idx[:20].tolist()))
    return f"[{text}{' ...' if idx.size > 20 else ''}]"


class _GlobalRandomState:
    """The global generators of NumPy, Python's ``random`` and torch's CPU (when installed).

    A selector that seeds a global generator with a fixed value leaves it in the same
    state every time, so a fit that starts where such a fit ended shows no change. A watched
    fit therefore starts from fresh states that no selector can have seeded, and
    :func:`check_selector` puts the caller's states back when it is done.
    """

    NUMPY = "NumPy's (np.random.*)"
    PYTHON = "Python's (random.*)"
    TORCH = "torch's (torch.manual_seed, torch.rand without generator=)"

    def __init__(self):
        self.torch = None
        if importlib.util.find_spec("torch") is not None:
            import torch

            self.torch = torch

    def get(self) -> dict:
        # reading and setting the legacy global state is the point here: it is what a
        # selector must not move
        states = {self.NUMPY: np.random.get_state(),  # noqa: NPY002
                  self.PYTHON: random.getstate()}
        if self.torch is not None:
            states[self.TORCH] = self.torch.random.get_rng_state()
        return states

    def set(self, states: dict) -> None:
        np.random.set_state(states[self.NUMPY])  # noqa: NPY002
        random.setstate(states[self.PYTHON])
        if self.torch is not None:
            self.torch.random.set_rng_state(states[self.TORCH])

    def start_fresh(self) -> None:
        seeds = np.random.SeedSequence().generate_state(4)
        fresh = {self.NUMPY: np.random.RandomState(seeds).get_state(),
                 self.PYTHON: random.Random(int(seeds[0])).getstate()}
        if self.torch is not None:
            gen = self.torch.Generator()
            gen.manual_seed(int(seeds[1]))
            fresh[self.TORCH] = gen.get_state()
        self.set(fresh)

    @staticmethod
    def changed(before: dict, after: dict) -> list:
        def raw(state):
            return state.numpy().tobytes() if hasattr(state, "numpy") else pickle.dumps(state)

        return [name for name in before if raw(before[name]) != raw(after[name])]


class _Session:
    """One selector on one problem: fresh copies, and the one fit the checks share."""

    def __init__(self, estimator, problem: Problem, strict: bool, rng: _GlobalRandomState):
        self.original = estimator
        self.rng = rng
        self.problem = problem
        self.strict = strict
        self.name = type(estimator).__name__
        self.template = clone(estimator)
        params = self.template.get_params(deep=False)
        self.seeded = "random_state" in params
        if self.seeded and params["random_state"] is None:
            # random_state=None asks for fresh randomness; determinism needs a fixed seed
            self.template.set_params(random_state=0)
        self.ranking = getattr(estimator, "refit_per_budget", True) is False
        self.selects_all = selects_all_features(estimator)
        self._shared = None

    def fresh(self, k):
        est = clone(self.template)
        est.set_params(n_features_to_select=k)
        return est

    @property
    def seed_words(self) -> str:
        seed = self.template.get_params(deep=False).get("random_state")
        return f"with random_state={seed!r} " if self.seeded else ""

    def shared_fit(self):
        """The fit at the problem's budget, made once, with the global RNGs watched."""
        if self._shared is None:
            est = self.fresh(self.problem.k)
            self.rng.start_fresh()
            before = self.rng.get()
            try:
                returned = est.fit(self.problem.X, self.problem.y)
                error = None
            except Exception as exc:  # every check that needs the fit reports it
                returned, error = None, exc
            changed = self.rng.changed(before, self.rng.get())
            self._shared = (est, returned, error, changed)
        est, returned, error, changed = self._shared
        if error is not None:
            raised = error_text(error, limit=None, first_line=True)
            raise _Fail(f"fit(X, y) on the {self.problem.name} problem "
                        f"({self.problem.description}) raised {raised}")
        return est, returned, changed

    def expected_size(self, k) -> int:
        return self.problem.X.shape[1] if self.selects_all else int(k)

    def support(self, est, k=None) -> np.ndarray:
        """``get_support()`` checked for shape and dtype; at budget ``k`` if given."""
        if k is not None:
            est.set_params(n_features_to_select=k)
        mask = np.asarray(est.get_support())
        D = self.problem.X.shape[1]
        if mask.shape != (D,) or mask.dtype != bool:
            raise _Fail(f"get_support() returned an array of shape {mask.shape} and dtype "
                        f"{mask.dtype}; it must be a boolean mask of shape ({D},)")
        return mask


