"""bench/perf.py and the two speed-benchmark scripts, on tiny data.

Every measurement starts a Python child (about 4 s of imports on a small machine), so the
four fits of ``measured`` share one fixture and run two at a time, and each script run
makes one fit.
"""

from __future__ import annotations

import importlib.util
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from bench.perf import (
    StagedData,
    fit_exponent,
    interleaved_order,
    list_selector_configs,
    measure_fit,
    parse_overrides,
    selector_spec,
)

ROOT = Path(__file__).resolve().parent.parent
TINY_ENTRYPRUNE = {"fit_mode": "fixed", "n_updates": 3, "n_hidden": 16}


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(fn, *args, **kwargs):
    t0 = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - t0


@pytest.fixture(scope="module")
def measured():
    """Four fits in children: two that succeed, one past its limit, one that raises."""
    X, y = make_classification(n_samples=200, n_features=20, n_informative=5,
                               shuffle=False, random_state=0)
    # Composed here, in one thread: Hydra's global state is not meant for threads.
    jobs = {
        "random_forest": (selector_spec("random_forest"), 5, None),
        "entryprune": (selector_spec("entryprune", TINY_ENTRYPRUNE), 5, None),
        # Tens of thousands of trees would take minutes: only the limit can end it early.
        "timeout": (selector_spec("random_forest", {"n_estimators": 50000}), 5, 0.01),
        "failed": (selector_spec("anova_f"), 50, None),  # K=50 > D=20
    }
    with StagedData(X, y) as data, ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(_timed, measure_fit, spec, data, k, device="cpu", seed=0,
                              threads=1, timeout_s=limit)
            for name, (spec, k, limit) in jobs.items()
        }
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", ["random_forest", "entryprune"])
def test_fit_is_measured(measured, name):
    res, _ = measured[name]
    assert res.status == "ok", res.error
    assert res.error == ""
    assert res.seconds > 0
    assert res.peak_rss_mib > 0 and res.baseline_rss_mib > 0
    # The high-water mark is reset to the baseline just before fit.
    assert res.peak_rss_mib >= res.baseline_rss_mib - 1
    assert math.isclose(res.rss_growth_mib, res.peak_rss_mib - res.baseline_rss_mib)
    assert res.peak_gpu_mib is None
    assert res.device == "cpu"
    assert res.threads == 1


def test_timeout_kills_the_child(measured):
    res, wall = measured["timeout"]
    assert res.status == "timeout"
    assert "timeout_s=0.01" in res.error
    assert res.seconds >= 0.01
    # The 50000-tree fit would run for minutes; returning soon means the child was killed.
    assert wall < 60
    assert res.device == "cpu"


def test_failing_fit_reports_the_message(measured):
    res, _ = measured["failed"]
    assert res.status == "failed"
    assert "ValueError" in res.error and "exceeds the number of features" in res.error
    assert res.baseline_rss_mib > 0


def test_fit_exponent_recovers_a_known_slope():
    rng = np.random.default_rng(0)
    sizes = np.array([100, 300, 1000, 3000, 10000])
    seconds = 2e-4 * sizes**1.5 * np.exp(rng.normal(0, 0.02, sizes.size))
    assert fit_exponent(sizes, seconds) == pytest.approx(1.5, abs=0.05)
    assert fit_exponent([10, 100], [1.0, 10.0]) == pytest.approx(1.0)
    # Points that cannot be on a log scale are left out; one size left is no slope.
    assert math.isnan(fit_exponent([10, 100, 1000], [1.0, 0.0, float("nan")]))
    assert math.isnan(fit_exponent([], []))


def test_interleaved_order_is_a_seeded_permutation_per_rep():
    names = ["a", "b", "c", "d"]
    order = interleaved_order(names, reps=3, seed=1)
    assert order == interleaved_order(names, reps=3, seed=1)
    for rep in range(3):
        assert sorted(n for r, n in order if r == rep) == names
    assert [r for r, _ in order] == [0] * 4 + [1] * 4 + [2] * 4


def test_overrides_and_specs():
    parsed = parse_overrides(["lassonet.n_iters=[20,5]", "entryprune.lr=1e-3",
                              "entryprune.c_ratio=null", "neurofs.epochs=2"])
    assert parsed == {"lassonet": {"n_iters": [20, 5]}, "neurofs": {"epochs": 2},
                      "entryprune": {"lr": 1e-3, "c_ratio": None}}
    with pytest.raises(ValueError, match="selector.param=value"):
        parse_overrides(["epochs=2"])
    # The flex config's defaults list pulls in EntryPrune's settings.
    flex = selector_spec("entryprune_flex", {"patience": 7})
    assert flex["_target_"].endswith("EntryPruneFlexSelector")
    assert flex["patience"] == 7 and "n_hidden" in flex and "name" not in flex
    with pytest.raises(ValueError, match="no_such_param"):
        selector_spec("stg", {"no_such_param": 1})
    with pytest.raises(ValueError, match="no selector config"):
        selector_spec("no_such_selector")
    assert "all_features" in list_selector_configs()


def test_scaling_grid_skips_after_a_timeout():
    scaling = _script("bench_scaling")
    points = scaling.plan([10, 20, 40], [5, 50], fixed_n=10, fixed_d=50)
    calls = []

    def fake(name, n, D):
        calls.append((name, n, D))
        slow = name == "slow" and n * D >= 1000
        return {"status": "timeout" if slow else "ok", "error": "", "seconds": 1.0}

    rows = scaling.run_grid(points, ["fast", "slow"], fake)
    by = {(r["selector"], r["axis"], r["size"]): r for r in rows}
    assert len(rows) == 2 * len(points)
    assert by["slow", "n", 20]["status"] == "timeout"
    assert by["slow", "n", 40]["status"] == "skipped"
    assert "previous size timed out (n=20)" in by["slow", "n", 40]["error"]
    # (n=10, D=50) is on both axes: fitted once, reported twice.
    assert by["fast", "D", 50]["reused"] and not by["fast", "n", 10]["reused"]
    assert calls.count(("fast", 10, 50)) == 1
    assert ("slow", 40, 50) not in calls


def test_selector_summary_relative_to_entryprune():
    bench = _script("bench_selectors")
    df = pd.DataFrame({
        "selector": ["entryprune", "entryprune", "random", "stg"],
        "status": ["ok", "ok", "ok", "timeout"],
        "seconds": [2.0, 4.0, 1.5, 9.0],
        "peak_rss_mib": [500.0, 510.0, 470.0, 600.0],
        "rss_growth_mib": [30.0, 40.0, 0.0, 100.0],
        "peak_gpu_mib": [None] * 4,
        "device": ["cpu"] * 4,
    })
    rows = {r["selector"]: r for r in bench.summarise(df)}
    assert rows["entryprune"]["time / entryprune"] == "1"
    assert rows["random"]["time / entryprune"] == "0.5"
    assert rows["stg"]["runs"] == "1 timeout" and "median s" not in rows["stg"]


def test_bench_selectors_end_to_end(tmp_path):
    bench = _script("bench_selectors")
    out = tmp_path / "perf" / "selectors.csv"
    rc = bench.main(["--dataset", "digits", "--selectors", "random", "--reps", "1",
                     "--threads", "1", "--device", "cpu", "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert list(df.columns) == bench.COLUMNS
    assert len(df) == 1 and df.status.tolist() == ["ok"]
    assert df.n_features.tolist() == [64] and df.k.tolist() == [50]
    report = out.with_suffix(".md").read_text()
    assert "| random |" in report


def test_bench_scaling_end_to_end(tmp_path):
    scaling = _script("bench_scaling")
    # One point on both axes: a single fit, reported twice (the grid logic is tested above).
    rc = scaling.main(["--selectors", "random", "--n-values", "100", "--d-values", "30",
                       "--fixed-d", "30", "--fixed-n", "100", "--threads", "1",
                       "--device", "cpu", "--out-dir", str(tmp_path)])
    assert rc == 0
    df = pd.read_csv(tmp_path / "scaling.csv")
    assert list(df.columns) == scaling.COLUMNS
    assert df.axis.tolist() == ["n", "D"] and (df.status == "ok").all()
    assert df.reused.tolist() == [False, True]
    assert df.k.tolist() == [15, 15]
    assert (tmp_path / "scaling.png").stat().st_size > 0
    report = (tmp_path / "scaling.md").read_text()
    assert "| random | n |" in report and "| random | D |" in report


def test_profile_script_reports_the_matmul_share(capsys):
    prof = _script("profile_entryprune")
    assert prof.main(["--shape", "300,40", "--k", "5", "--classes", "3", "--updates", "2",
                      "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "aten::addmm" in out  # the forward's product shows up in the operator table
    share = int(out.rsplit("matrix products ", 1)[1].split("%")[0])
    assert 0 < share <= 100
    assert "regime long, 200 steps" in out  # 2 updates x 100 mini-batches (paper, long)


def test_profile_script_rejects_a_bad_shape():
    prof = _script("profile_entryprune")
    with pytest.raises(SystemExit):
        prof.main(["--shape", "300x40"])


def test_lassonet_epoch_benchmark_times_each_config_s_own_model(tmp_path, monkeypatch):
    bench = _script("bench_lassonet_epochs")
    epochs_run = []
    from lassonet.interfaces import BaseLassoNet

    train = BaseLassoNet._train

    def counted(self, *args, epochs, **kwargs):
        epochs_run.append((self.hidden_dims, self.batch_size, epochs))
        return train(self, *args, epochs=epochs, **kwargs)

    monkeypatch.setattr(BaseLassoNet, "_train", counted)
    out = tmp_path / "epochs.csv"
    assert bench.main(["--datasets", "digits", "--epochs", "2,4", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert df.selector.tolist() == ["lassonet", "lassonet_bench"]
    # each config's own width and batch (lassonet_bench: D/3 = 21 of 64, batch 256), and
    # only the dense model: an untimed epoch, then E1 and E2
    assert df.hidden.astype(str).tolist() == ["100", "21"]
    assert df.batch_size.astype(str).tolist() == ["full", "256"]
    assert epochs_run == [((100,), None, e) for e in (1, 2, 4)] + \
        [((21,), 256, e) for e in (1, 2, 4)]
    secs = [list(map(float, s.split())) for s in df.seconds]
    assert np.allclose(df.seconds_per_epoch, [(b - a) / 2 for a, b in secs], atol=1e-4)


def test_lassonet_epoch_benchmark_rejects_bad_epochs():
    bench = _script("bench_lassonet_epochs")
    with pytest.raises(SystemExit):
        bench.main(["--epochs", "5,5"])
