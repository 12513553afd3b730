"""A selector and datasets from outside the repository, run through run.py as a user would.

The user's files are the code blocks of docs/plugins.md (each starts with a comment naming
its path), written into a temporary project folder; the commands are the documented ones,
run from that folder in a subprocess, with the folder on PYTHONPATH. So the page is tested
as written.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from _paths import PLUGINS_DOC, ROOT
from _run import run_env

from bench.provenance import derive_seed
from bench.testing import check_selector
from datasets.base import make_split
from datasets.registry import load_dataset

# a fenced python or yaml block whose first line is "# <relative path of the file>"
FILE_BLOCK = re.compile(r"```(?:python|yaml)\n# ([\w./-]+\.(?:py|yaml))\n(.*?)```", re.S)

SELECTOR_RUN = ("hydra.searchpath=[file://my_configs] selector=mysel dataset=digits seeds=[0] "
                "budgets=[5,10]")
REPORT = "--exp-name default"
LOADER_RUN = ("hydra.searchpath=[pkg://mysel.conf] dataset=shifted selector=anova_f seeds=[0] "
              "budgets=[5]")
TABLE_RUN = ("hydra.searchpath=[file://my_configs] dataset=mytable selector=mysel seeds=[0] "
             "budgets=[3]")


def doc_files() -> dict:
    text = PLUGINS_DOC.read_text()
    return {m.group(1): f"# {m.group(1)}\n{m.group(2)}" for m in FILE_BLOCK.finditer(text)}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The user's folder: the documented package and configs, and a small CSV table."""
    root = tmp_path_factory.mktemp("myproject")
    for rel, text in doc_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    rng = np.random.default_rng(0)
    label = np.array(["spam", "ham"])[np.arange(200) % 2]
    table = pd.DataFrame(rng.normal(size=(200, 8)), columns=[f"f{i}" for i in range(8)])
    table["f7"] += 2.0 * (label == "spam")
    table["label"] = label
    (root / "data").mkdir()
    table.to_csv(root / "data" / "mytable.csv", index=False)
    return root


def user_run(project, script, args, *, on_path=True):
    """Run ``script`` of this repository from ``project``, as the docs' commands do."""
    env = run_env()
    # an empty PYTHONPATH entry would put the working directory, the project, on the path
    paths = [p for p in env["PYTHONPATH"].split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(project)] * on_path + paths)
    return subprocess.run([sys.executable, str(ROOT / script), *args.split()], cwd=project,
                          env=env, capture_output=True, text=True, timeout=300)


def rows_of(project, dataset, selector):
    df = pd.read_csv(project / "results" / "default.csv")
    return df[(df.dataset == dataset) & (df.selector == selector)]


def test_the_docs_show_the_files_and_commands_tested_here():
    files = doc_files()
    assert {"mysel/__init__.py", "my_configs/selector/mysel.yaml", "mysel/data.py",
            "mysel/conf/dataset/shifted.yaml", "my_configs/dataset/mytable.yaml",
            "pipeline_example.py"} <= set(files)
    text = PLUGINS_DOC.read_text()
    for args in (SELECTOR_RUN, LOADER_RUN, TABLE_RUN):
        assert f"python $BENCH/run.py {args}\n" in text
    assert f"python $BENCH/scripts/report.py {REPORT}\n" in text


def test_selector_plugin_gives_rows_resume_and_report(project, monkeypatch):
    first = user_run(project, "run.py", SELECTOR_RUN)
    assert first.returncode == 0, first.stderr[-3000:]
    rows = rows_of(project, "digits", "mysel")
    assert len(rows) == 2 * 3  # budgets x the default evaluators
    assert (rows.status == "ok").all(), rows.error.tolist()
    assert rows.select_shared.all()  # refit_per_budget = False: one fit per seed
    # the selected columns are the user's class's own choice, at the runner's seed
    monkeypatch.syspath_prepend(str(project))
    mysel = importlib.import_module("mysel")
    split = make_split(load_dataset("digits"), "clean", 0)
    sel = mysel.ExtraTreesSelector(10, random_state=derive_seed("digits", "mysel", 0))
    sel.fit(split.X_train, split.y_train)
    for k in (5, 10):
        sel.set_params(n_features_to_select=k)
        expected = " ".join(map(str, np.flatnonzero(sel.get_support())))
        assert set(rows[rows.k == k].selected) == {expected}

    again = user_run(project, "run.py", SELECTOR_RUN)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 new row(s), 2 (seed, k) already done" in again.stdout
    assert rows_of(project, "digits", "mysel").equals(rows)

    report = user_run(project, "scripts/report.py", REPORT)
    assert report.returncode == 0, report.stderr[-3000:]
    text = (project / "results" / "report" / "default" / "report.md").read_text()
    assert "mysel" in text


def test_dataset_plugin_from_a_loader_in_the_package(project):
    result = user_run(project, "run.py", LOADER_RUN)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = rows_of(project, "shifted", "anova_f")
    assert len(rows) == 3 and (rows.status == "ok").all(), rows.error.tolist()
    assert (rows.n_features == 30).all() and (rows.n_train + rows.n_test == 400).all()
    # the loader's true support is recorded, and five strongly shifted columns are found
    assert set(rows.true_support) == {"25 26 27 28 29"}
    assert set(rows.selected) == {"25 26 27 28 29"}
    again = user_run(project, "run.py", LOADER_RUN)
    assert "0 new row(s), 1 (seed, k) already done" in again.stdout


def test_dataset_plugin_from_the_users_own_table(project):
    result = user_run(project, "run.py", TABLE_RUN)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = rows_of(project, "mytable", "mysel")
    assert len(rows) == 3 and (rows.status == "ok").all(), rows.error.tolist()
    assert (rows.n_features == 8).all() and (rows.n_classes == 2).all()
    assert all("7" in s.split() for s in rows.selected)  # the one informative column


def test_a_target_that_cannot_be_imported_is_named(project):
    # the package not on PYTHONPATH: the error the docs show, word for word
    missing = user_run(project, "run.py", SELECTOR_RUN, on_path=False)
    assert missing.returncode != 0
    shown = re.search(r"```text\n(ImportError: selector 'mysel'.*?)\n```",
                      PLUGINS_DOC.read_text(), re.S)
    assert shown.group(1) in missing.stderr, missing.stderr[-3000:]

    (project / "my_configs/selector/typo.yaml").write_text(
        "name: typo\n_target_: mysel.ExtraTreeSelector\n")
    typo = user_run(project, "run.py", SELECTOR_RUN.replace("mysel", "typo"))
    assert typo.returncode != 0
    assert "cannot import its _target_ 'mysel.ExtraTreeSelector'" in typo.stderr

    # a dataset's loader fails its rows (the sweep goes on), with the target in the error
    (project / "my_configs/dataset/typo.yaml").write_text(
        "name: typodata\n_target_: mysel.data.load_shiftd\n")
    data = user_run(project, "run.py", TABLE_RUN.replace("mytable", "typo"))
    assert data.returncode != 0
    rows = rows_of(project, "typodata", "mysel")
    assert len(rows) == 3 and (rows.status == "failed").all()
    assert all("mysel.data.load_shiftd" in e for e in rows.error)


def test_a_config_without_a_name_is_refused(project):
    (project / "my_configs/selector/noname.yaml").write_text(
        "_target_: mysel.ExtraTreesSelector\n")
    result = user_run(project, "run.py", SELECTOR_RUN.replace("mysel", "noname"))
    assert result.returncode != 0
    assert "the selector config 'noname' has no 'name:' key" in result.stderr


def test_the_documented_selector_passes_check_selector(project, monkeypatch):
    monkeypatch.syspath_prepend(str(project))
    mysel = importlib.import_module("mysel")
    report = check_selector(mysel.ExtraTreesSelector(random_state=0))
    assert not report.failures


def test_the_pipeline_example_prints_what_the_docs_say(project):
    result = subprocess.run([sys.executable, "pipeline_example.py"], cwd=project,
                            env=run_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.strip()
    assert printed == "{'entrypruneselector__n_features_to_select': 16}"
    assert f"It prints `{printed}`" in PLUGINS_DOC.read_text()
