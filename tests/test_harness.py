"""The harness end to end: configs, runner, records, resume, failures, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _run import run_py
from hydra.utils import instantiate

from bench.factory import (
    CONFIG_ONLY_KEYS,
    build_estimator,
    build_selector,
    compose_config,
    config_names,
)
from bench.records import COLUMNS
from bench.runner import run_cell
from selector_contract import check_selector_input, top_k_mask

# ---------------------------------------------------------------- configs

@pytest.mark.parametrize("name", config_names("selector"))
def test_selector_configs_compose_and_instantiate(name):
    cfg = compose_config([f"selector={name}"])
    assert cfg.selector.name == name, "a selector config's name must equal its file name"
    spec = {k: v for k, v in cfg.selector.items() if k not in CONFIG_ONLY_KEYS}
    est = build_selector(spec, 3)
    assert est.get_params()["n_features_to_select"] == 3


@pytest.mark.parametrize("name", config_names("evaluator"))
def test_evaluator_configs_compose_and_instantiate(name):
    cfg = compose_config([f"evaluator={name}"])
    assert len(cfg.evaluator) >= 1
    for ev_name, spec in cfg.evaluator.items():
        est = build_estimator(spec.estimator, random_state=0)
        assert hasattr(est, "fit") and hasattr(est, "predict"), ev_name


@pytest.mark.parametrize("name", config_names("dataset"))
def test_dataset_configs_compose(name):
    cfg = compose_config([f"dataset={name}", *GENERIC.get(name, [])])
    assert "_target_" in cfg.dataset and cfg.dataset.name


# The generic configs take their file or id from the command line.
GENERIC = {
    "openml": ["dataset.data_id=1590"],
    "matfile": ["dataset.path=/data/X.mat"],
    "table": ["dataset.path=/data/t.csv", "dataset.target=label"],
}


@pytest.mark.parametrize("name", sorted(GENERIC))
def test_generic_dataset_configs_demand_their_path_or_id(name):
    from omegaconf.errors import MissingMandatoryValue

    cfg = compose_config([f"dataset={name}"])
    with pytest.raises(MissingMandatoryValue):
        instantiate(cfg.dataset)
    assert compose_config([f"dataset={name}", *GENERIC[name]]).dataset.name


@pytest.mark.parametrize("name", config_names("experiment"))
def test_experiment_configs_compose(name):
    cfg = compose_config([f"experiment={name}"])
    assert cfg.exp_name == name
    assert len(cfg.seeds) >= 1 and len(cfg.budgets) >= 1


def test_default_evaluator_group_runs_all_three():
    cfg = compose_config([])
    assert set(cfg.evaluator) == {"svm", "knn1", "extra_trees"}
    assert cfg.dataset.name == "digits"


# ---------------------------------------------------------------- contract

def test_top_k_mask_breaks_ties_by_lower_index_every_time():
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0, np.nan])
    masks = {tuple(top_k_mask(scores, 2)) for _ in range(20)}
    assert masks == {(False, True, True, False, False, False)}
    assert np.flatnonzero(top_k_mask(np.zeros(10), 4)).tolist() == [0, 1, 2, 3]
    # NaN ranks below every real score, -inf included
    assert not top_k_mask(np.array([np.nan, -np.inf]), 1)[0]


@pytest.mark.parametrize("k", [0, -1, 7, 2.5, True])
def test_top_k_mask_rejects_bad_budgets(k):
    with pytest.raises(ValueError, match="n_features_to_select"):
        top_k_mask(np.arange(6.0), k)


def test_input_checks_name_the_problem():
    X = np.ones((6, 3))
    y = np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="different lengths"):
        check_selector_input(X, y[:5])
    Xn = X.copy()
    Xn[2, 1] = np.nan
    with pytest.raises(ValueError, match="row 2, column 1"):
        check_selector_input(Xn, y)
    with pytest.raises(ValueError, match="at least 2"):
        check_selector_input(X, np.zeros(6))
    with pytest.raises(ValueError, match="exceeds"):
        check_selector_input(X, y, k=4)
    _, enc, classes = check_selector_input(X, np.array(list("bcbcbc")))
    assert enc.tolist() == [0, 1, 0, 1, 0, 1] and classes.tolist() == ["b", "c"]


# ---------------------------------------------------------------- runner

def test_run_cell_writes_tidy_rows_and_resumes(tmp_path):
    overrides = ["selector=anova_f", "seeds=[0,1]", "budgets=[5,10]",
                 f"results_dir={tmp_path}", "exp_name=e2e"]
    first = run_cell(compose_config(overrides), show_progress=False)
    df = pd.read_csv(tmp_path / "e2e.csv")
    assert len(df) == 2 * 2 * 3 == first.n_new
    assert list(df.columns[: len(COLUMNS)]) == COLUMNS
    assert set(df.status) == {"ok"}
    assert (df.accuracy > 0.3).all(), "ANOVA on digits at K>=5 is far above chance (0.1)"
    assert all(len(s.split()) == k for s, k in zip(df.selected, df.k, strict=True))
    # the split depends on (dataset, seed) only: n_train equal for all rows of a seed
    assert df.groupby("seed").n_train.nunique().eq(1).all()
    assert df.select_shared.all(), "a ranking selector is fit once per seed"
    from bench.provenance import machine
    assert set(df.machine) == {machine()}, "timings are only comparable on one machine"

    second = run_cell(compose_config(overrides), show_progress=False)
    assert second.n_new == 0 and second.n_skipped_done == 4
    assert len(pd.read_csv(tmp_path / "e2e.csv")) == len(df)
    assert not list(tmp_path.rglob("*.tmp")), "no temporary file may be left behind"


def test_changed_hyperparameters_are_not_skipped(tmp_path):
    base = ["selector=random_forest", "seeds=[0]", "budgets=[5]", "evaluator=knn1",
            f"results_dir={tmp_path}", "exp_name=h"]
    run_cell(compose_config(base + ["selector.n_estimators=5"]), show_progress=False)
    again = run_cell(compose_config(base + ["selector.n_estimators=6"]), show_progress=False)
    assert again.n_new == 1, "a new config hash must rerun the combination"
    df = pd.read_csv(tmp_path / "h.csv")
    assert len(df) == 1, "the rerun replaces the old row instead of duplicating it"


def test_experiment_selector_overrides_apply_to_their_selector_only(tmp_path):
    base = ["seeds=[0]", "budgets=[5]", "evaluator=knn1", f"results_dir={tmp_path}",
            "exp_name=o", "++selector_overrides={random_forest: {n_estimators: 3}}"]
    s = run_cell(compose_config(base + ["selector=random_forest", "selector.n_estimators=50"]),
                 show_progress=False)
    assert s.n_new == 1
    plain = run_cell(compose_config(["selector=random_forest", "selector.n_estimators=3",
                                     "seeds=[0]", "budgets=[5]", "evaluator=knn1",
                                     f"results_dir={tmp_path}", "exp_name=o2"]),
                     show_progress=False)
    rows = [pd.read_csv(tmp_path / f"{e}.csv").iloc[0] for e in ("o", "o2")]
    # the override won: same settings, same hash and the same selection as n_estimators=3
    assert rows[0].config_hash == rows[1].config_hash and rows[0].selected == rows[1].selected
    assert plain.n_new == 1
    other = run_cell(compose_config(base + ["selector=anova_f"]), show_progress=False)
    assert other.n_new == 1 and other.n_failed == 0


def test_all_features_ceiling_gets_every_evaluator_and_k_equal_d(tmp_path):
    # the paper group runs 1-NN and ExtraTrees at K=50 only; the ceiling (K = D) gets all
    run_cell(compose_config(["selector=all_features", "evaluator=paper", "seeds=[0]",
                       "budgets=[50]", f"results_dir={tmp_path}", "exp_name=c"]),
             show_progress=False)
    df = pd.read_csv(tmp_path / "c.csv")
    assert sorted(df.evaluator) == ["extra_trees", "knn1", "svm"]
    assert (df.k == 64).all() and (df.status == "ok").all()


def test_all_features_on_a_dataset_that_cannot_load_gives_failed_rows(tmp_path):
    s = run_cell(compose_config(["selector=all_features", "dataset.name=no_such_set", "seeds=[0]",
                           "budgets=[5]", "evaluator=knn1", f"results_dir={tmp_path}",
                           "exp_name=cf"]), show_progress=False)
    df = pd.read_csv(tmp_path / "cf.csv")
    assert df.status.tolist() == ["failed"] and "no_such_set" in df.error[0]
    assert s.n_failed == 1


def test_budget_larger_than_d_is_skipped_not_failed(tmp_path):
    s = run_cell(compose_config(["selector=random", "seeds=[0]", "budgets=[5,100]",
                           "evaluator=knn1", f"results_dir={tmp_path}", "exp_name=big"]),
                 show_progress=False)
    df = pd.read_csv(tmp_path / "big.csv").set_index("k")
    assert df.loc[5, "status"] == "ok"
    assert df.loc[100, "status"] == "skipped" and "n_features=64" in df.loc[100, "error"]
    assert s.n_failed == 0


def test_timeout_gives_timeout_rows_and_the_cell_goes_on(tmp_path):
    cfg = compose_config(["selector=random", "+selector.sleep_s=30",
                    "selector._target_=helper_selectors.Sleepy", "seeds=[0]",
                    "budgets=[2,3]", "evaluator=knn1", "timeout_s=0.5",
                    f"results_dir={tmp_path}", "exp_name=t"])
    s = run_cell(cfg, show_progress=False)
    df = pd.read_csv(tmp_path / "t.csv")
    assert df.status.tolist() == ["timeout", "timeout"]
    assert df.error.str.contains("timeout_s=0.5").all()
    # a generous bound against a hang, far below the 30 s the fit would take if not stopped
    assert (df.select_seconds < 15).all(), "the fit must be stopped, not run to the end"
    assert s.n_failed == 0


# ---------------------------------------------------------------- CLI

def test_cli_multirun_three_selectors_then_resume(tmp_path):
    args = ["-m", "selector=random,random_forest,anova_f", "budgets=[5,10]", "seeds=[0,1]",
            f"results_dir={tmp_path}"]
    r = run_py(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    df = pd.read_csv(tmp_path / "default.csv")
    assert df.groupby("selector").size().to_dict() == {
        "anova_f": 12, "random": 12, "random_forest": 12}
    again = run_py(*args)
    assert again.returncode == 0
    assert again.stdout.count("0 new row(s)") == 3
    assert len(pd.read_csv(tmp_path / "default.csv")) == 36


def test_cli_failing_selector_writes_failed_rows_and_exits_nonzero(tmp_path):
    r = run_py("-m", "selector=anova_f,random",
               "selector._target_=helper_selectors.AlwaysFails", "budgets=[5]",
               "seeds=[0]", "evaluator=knn1", f"results_dir={tmp_path}")
    # both cells fail (the target override applies to both); the sweep still ran both
    assert r.returncode != 0
    df = pd.read_csv(tmp_path / "default.csv")
    assert set(df.selector) == {"anova_f", "random"}
    assert set(df.status) == {"failed"}
    assert df.error.str.contains("deliberate failure").all()
    assert "failed row(s)" in r.stderr + r.stdout


def test_cli_single_run_failure_prints_one_line_summary(tmp_path):
    r = run_py("selector=random", "selector._target_=helper_selectors.AlwaysFails",
               "budgets=[5]", "seeds=[0,1]", "evaluator=knn1", f"results_dir={tmp_path}")
    assert r.returncode == 1
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("FAILED:")]
    assert len(line) == 1 and "2 failed row(s) in cell digits/random" in line[0]


def test_cli_unknown_selector_is_a_clear_hydra_error(tmp_path):
    r = run_py("selector=nope", f"results_dir={tmp_path}")
    assert r.returncode != 0
    assert "nope" in r.stderr and "selector" in r.stderr
    assert not (Path(tmp_path) / "default.csv").exists()


def test_dataset_that_cannot_load_gives_failed_rows_with_its_message(tmp_path):
    r = run_py("-m", "selector=random,anova_f", "dataset.name=no_such_set", "budgets=[5]",
               "seeds=[0]", "evaluator=knn1", f"results_dir={tmp_path}")
    assert r.returncode != 0
    df = pd.read_csv(tmp_path / "default.csv")
    assert len(df) == 2 and set(df.status) == {"failed"}
    assert df.error.str.contains("unknown scikit-learn dataset 'no_such_set'").all()
    # the loader's own exception, not Hydra's wrapper around it
    assert not df.error.str.contains("InstantiationException").any(), df.error[0]


def test_a_variant_takes_its_parents_per_dataset_settings_then_its_own():
    from bench.factory import selector_overrides, selector_spec
    from bench.runner import _Cell

    # arcene states NeuroFS's batch size once; neurofs_released (extends: neurofs) gets it
    cell = _Cell.from_config(compose_config(["selector=neurofs_released", "dataset=arcene"]))
    assert cell.spec["batch_size"] == 20 and "extends" not in cell.spec
    default = _Cell.from_config(compose_config(["selector=neurofs_released", "dataset=coil20"]))
    assert default.spec["batch_size"] != 20
    # each source: parent first, the variant's own on top; later sources win
    sources = [{"neurofs": {"a": 1, "b": 1}, "neurofs_released": {"b": 2}},
               {"neurofs": {"a": 3}}]
    assert selector_overrides("neurofs_released", sources, extends="neurofs") == {"a": 3, "b": 2}
    assert selector_overrides("neurofs", sources) == {"a": 3, "b": 1}
    # the spec helper applies a source the same way and drops the key
    spec = selector_spec("neurofs_released", sources=[{"neurofs": {"batch_size": 7}}])
    assert spec["batch_size"] == 7 and "extends" not in spec


@pytest.mark.parametrize("dataset", ["arcene", "prostate_ge", "coil20"])
@pytest.mark.parametrize("selector", ["neurofs", "neurofs_released", "entryprune"])
def test_scripts_build_a_selector_for_a_dataset_as_the_runner_does(dataset, selector):
    # gpu_check and bench_selectors build outside Hydra's run; the dataset's per-selector
    # settings (arcene: NeuroFS batch 20) must reach them exactly as they reach a cell.
    from bench.factory import selector_spec
    from bench.runner import _Cell
    from datasets.registry import dataset_selector_overrides

    cell = _Cell.from_config(compose_config([f"selector={selector}", f"dataset={dataset}"]))
    spec = selector_spec(selector, sources=[dataset_selector_overrides(dataset)])
    assert spec == cell.spec


def test_dataset_selector_overrides_names_an_unknown_dataset():
    from datasets.registry import dataset_selector_overrides

    with pytest.raises(ValueError, match="unknown dataset 'no_such'"):
        dataset_selector_overrides("no_such")


def test_git_commit_is_dirty_for_changed_code_not_for_new_result_rows(tmp_path):
    import subprocess

    from bench.provenance import git_commit

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "rows.csv").write_text("a\n1\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "start")
    clean = git_commit(tmp_path)
    assert len(clean) == 12 and not clean.endswith("-dirty")
    # a run adds rows to the committed results: the code that ran is still the commit
    (tmp_path / "results" / "rows.csv").write_text("a\n1\n2\n")
    git_commit.cache_clear()
    assert git_commit(tmp_path) == clean
    (tmp_path / "code.py").write_text("x = 2\n")
    git_commit.cache_clear()
    assert git_commit(tmp_path) == clean + "-dirty"


def test_machine_names_the_cpu_model_and_the_usable_cpus(monkeypatch, tmp_path):
    import os

    from bench import provenance

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t: avx2\n")
    real_path = provenance.Path
    monkeypatch.setattr(provenance, "Path",
                        lambda p: cpuinfo if p == "/proc/cpuinfo" else real_path(p))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    provenance.machine.cache_clear()
    try:
        assert provenance.machine().startswith("Test CPU 9000, 3 CPUs")
    finally:
        provenance.machine.cache_clear()


def test_rows_written_before_the_machine_column_read_with_it_empty(tmp_path):
    from bench.records import read_rows

    old = pd.DataFrame([dict(dataset="d", selector="s", seed=0, k=5, evaluator="svm",
                             accuracy=0.5, status="ok")])
    old.to_csv(tmp_path / "old.csv", index=False)
    rows = read_rows(tmp_path / "old.csv")
    assert rows.machine.tolist() == [""]
