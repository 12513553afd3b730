"""The bad-input matrix through the runner: each case gives a clear error or a documented,
tested behaviour, and no partial file is left in the results or the dataset cache.

Loader cases write a real file of each format (CSV, gzip CSV, .mat) into a temporary
directory and run a cell on it with a cheap ranking selector and with EntryPrune (tiny
settings); the cell's rows must be ``failed`` with a message that names the file and the
problem, and the sweep must not crash. Data cases that are *valid* input (constant
columns, one sample of a class, string labels) must give ``ok`` rows; budget cases give
``skipped`` rows; an unknown config value is refused with its name.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import scipy.io

from bench.factory import compose_config
from bench.runner import run_cell

SELECTORS = {
    "anova_f": [],
    "entryprune": ["selector.n_hidden=16", "selector.fit_mode=fixed", "selector.n_updates=3",
                   "selector.n_mb=2"],
}


def _frame(n=60, d=8, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, d)) + y[:, None] * 0.5
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(d)])
    df["label"] = y
    return df


def _csv(path, df):
    df.to_csv(path, index=False)
    return path


def _nan(tmp):
    df = _frame()
    df.loc[3, "f2"] = np.nan
    return _csv(tmp / "nan.csv", df), "NaN or infinite"


def _inf(tmp):
    df = _frame()
    df.loc[5, "f1"] = np.inf
    return _csv(tmp / "inf.csv", df), "NaN or infinite"


def _single_class(tmp):
    df = _frame()
    df["label"] = 7
    return _csv(tmp / "one_class.csv", df), "single class"


def _object_dtype(tmp):
    df = _frame()
    df["f0"] = ["a", "b", "c"] * 20
    return _csv(tmp / "object.csv", df), "non-numeric feature columns"


def _empty(tmp):
    p = tmp / "empty.csv"
    p.write_text("")
    return p, "empty.csv"


def _truncated_gz(tmp):
    p = tmp / "trunc.csv.gz"
    raw = gzip.compress(_frame(n=600).to_csv(index=False).encode())
    p.write_bytes(raw[: len(raw) // 2])
    return p, "cannot be read"


def _truncated_mat(tmp):
    p = tmp / "trunc.mat"
    df = _frame()
    scipy.io.savemat(p, {"X": df.drop(columns="label").to_numpy(), "Y": df.label.to_numpy()})
    p.write_bytes(p.read_bytes()[:300])
    return p, "trunc.mat"


LOADER_CASES = {"nan": _nan, "inf": _inf, "single_class": _single_class,
                "object_dtype": _object_dtype, "empty_file": _empty,
                "truncated_gzip": _truncated_gz, "truncated_mat": _truncated_mat}


def _dataset_overrides(path):
    if path.suffix == ".mat":
        return ["dataset=matfile", f"dataset.path={path}"]
    return ["dataset=table", f"dataset.path={path}", "dataset.target=label"]


def _run(tmp_path, overrides, selector="anova_f", budgets="[3]"):
    cfg = compose_config([*overrides, f"selector={selector}", *SELECTORS[selector], "seeds=[0]",
                    f"budgets={budgets}", "evaluator=knn1", f"results_dir={tmp_path / 'res'}",
                    "exp_name=bad"])
    return run_cell(cfg, show_progress=False)


def _no_partial_files(tmp_path):
    leftovers = [p for p in tmp_path.rglob("*")
                 if p.name.endswith((".tmp", ".part", ".partial")) or p.name.startswith(".")
                 and p.is_file() and not p.name.endswith(".lock")]
    assert not leftovers, f"partial files left behind: {leftovers}"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTRYPRUNE_DATA", str(tmp_path / "cache"))


@pytest.mark.parametrize("selector", sorted(SELECTORS))
@pytest.mark.parametrize("case", sorted(LOADER_CASES))
def test_bad_file_fails_the_cell_with_a_message_naming_it(tmp_path, case, selector):
    data = tmp_path / "data"
    data.mkdir()
    path, problem = LOADER_CASES[case](data)
    summary = _run(tmp_path, _dataset_overrides(path), selector)
    df = pd.read_csv(tmp_path / "res" / "bad.csv")
    assert df.status.tolist() == ["failed"]
    assert path.name in df.error[0] and problem in df.error[0], df.error[0]
    assert summary.n_failed == 1
    _no_partial_files(tmp_path)


def _valid(tmp_path, name, df, selector):
    path = _csv(tmp_path / f"{name}.csv", df)
    _run(tmp_path, _dataset_overrides(path), selector)
    out = pd.read_csv(tmp_path / "res" / "bad.csv")
    _no_partial_files(tmp_path)
    return out


@pytest.mark.parametrize("selector", sorted(SELECTORS))
def test_constant_columns_are_valid_input(tmp_path, selector):
    df = _frame()
    df["f5"] = 1.0
    df["f6"] = 0.0
    out = _valid(tmp_path, "const", df, selector)
    assert out.status.tolist() == ["ok"]
    if selector == "anova_f":  # constant columns carry no signal and rank last
        assert not {5, 6} & set(map(int, out.selected[0].split()))


@pytest.mark.parametrize("selector", sorted(SELECTORS))
def test_one_sample_of_a_class_is_valid_input(tmp_path, selector):
    """Documented: a class with one sample disables stratification of the clean split."""
    df = _frame()
    df.loc[0, "label"] = 9  # the only sample of class 9
    out = _valid(tmp_path, "singleton", df, selector)
    assert out.status.tolist() == ["ok"] and out.n_classes[0] == 4


@pytest.mark.parametrize("selector", sorted(SELECTORS))
def test_string_labels_are_encoded(tmp_path, selector):
    df = _frame()
    df["label"] = np.array(["ant", "bee", "cat"])[df.label]
    out = _valid(tmp_path, "strings", df, selector)
    assert out.status.tolist() == ["ok"] and out.accuracy[0] > 0.4


@pytest.mark.parametrize("selector", sorted(SELECTORS))
@pytest.mark.parametrize("budget", ["0", "-2", "9"])
def test_budget_outside_one_to_d_gives_skipped_rows(tmp_path, selector, budget):
    path = _csv(tmp_path / "ok.csv", _frame())
    summary = _run(tmp_path, _dataset_overrides(path), selector, budgets=f"[{budget},3]")
    df = pd.read_csv(tmp_path / "res" / "bad.csv").set_index("k")
    assert df.loc[int(budget), "status"] == "skipped"
    assert "outside 1..n_features=8" in df.loc[int(budget), "error"]
    assert df.loc[3, "status"] == "ok" and summary.n_failed == 0
    _no_partial_files(tmp_path)


def test_unknown_selector_setting_value_fails_with_its_name(tmp_path):
    path = _csv(tmp_path / "ok.csv", _frame())
    _run(tmp_path, [*_dataset_overrides(path), "selector.score=bogus"], "entryprune")
    df = pd.read_csv(tmp_path / "res" / "bad.csv")
    assert df.status.tolist() == ["failed"] and "score must be" in df.error[0]
    assert "'bogus'" in df.error[0]


def test_unknown_protocol_is_refused_before_any_row(tmp_path):
    path = _csv(tmp_path / "ok.csv", _frame())
    with pytest.raises(ValueError, match="protocol must be one of .* got 'papr'"):
        _run(tmp_path, [*_dataset_overrides(path), "protocol=papr"])
    assert not (tmp_path / "res" / "bad.csv").exists()


def test_unknown_config_key_is_a_hydra_error():
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="nonexistent"):
        compose_config(["selector=anova_f", "selector.nonexistent=1"])


def test_unknown_optimizer_of_a_gated_selector_names_it():
    from baselines.stg import STGSelector

    X = np.random.default_rng(0).random((30, 6), dtype=np.float32)
    y = np.arange(30) % 2
    with pytest.raises(ValueError, match="optimizer must be one of .* got 'rmsprop'"):
        STGSelector(3, optimizer="rmsprop", max_epochs=1, device="cpu").fit(X, y)
