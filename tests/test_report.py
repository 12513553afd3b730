"""The report: tables, comparisons, statistics and figures from generated result rows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import report as R
from bench.records import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _load_cli():
    # scripts/ is not a package: load the CLI module from its file, as a user runs it.
    spec = importlib.util.spec_from_file_location("report_cli", ROOT / "scripts" / "report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def row(dataset, selector, seed, k, evaluator="svm", accuracy=0.9, *, status="ok",
        selected=None, n_features=100, select_seconds=1.0, select_shared=False,
        true_support=""):
    """One result row with the fixed columns; ``selected`` defaults to the first k columns."""
    if selected is None:
        selected = " ".join(map(str, range(min(k, n_features))))
    r = dict.fromkeys(COLUMNS, "")
    r.update(dataset=dataset, selector=selector, seed=seed, k=k, evaluator=evaluator,
             accuracy=accuracy if status == "ok" else np.nan,
             balanced_accuracy=accuracy if status == "ok" else np.nan,
             select_seconds=select_seconds, eval_seconds=0.1, select_shared=select_shared,
             n_train=80, n_test=20, n_features=n_features, n_classes=2,
             selected=selected if status == "ok" else "", status=status,
             error="" if status == "ok" else "boom", device="cpu", protocol="paper",
             exp_name="t", git_commit="abc123", config_hash="h", versions="v",
             started_at="2024-01-01T00:00:00Z", true_support=true_support)
    return r


def frame(rows) -> pd.DataFrame:
    return R.prepare(pd.DataFrame(rows, columns=COLUMNS))


def demo_rows(seed_count=3) -> list[dict]:
    """A small experiment: 4 datasets, 4 selectors + the ceiling, K in 25/50, svm and knn1.

    EntryPrune is best everywhere, then stg, neurofs, random; a dataset offset and a seed
    wobble make the numbers distinct. Selections of entryprune are identical over seeds.
    """
    rng = np.random.default_rng(0)
    quality = {"entryprune": 0.06, "stg": 0.04, "neurofs": 0.02, "random": 0.0}
    rows = []
    for di, ds in enumerate(["coil20", "usps", "madelon", "synthetic_d50"]):
        d = 50 if ds == "synthetic_d50" else 100
        truth = "0 1 2 3 4" if ds == "synthetic_d50" else ""
        for seed in range(seed_count):
            for ev in ("svm", "knn1"):
                rows.append(row(ds, "all_features", seed, d, ev, 0.95 - 0.01 * di,
                                selected=" ".join(map(str, range(d))), n_features=d,
                                select_seconds=0.001, true_support=truth))
            for sel, q in quality.items():
                for k in (25, 50):
                    if k > d:
                        continue
                    if sel == "entryprune":
                        chosen = np.arange(k)
                    else:
                        chosen = np.sort(rng.choice(d, size=k, replace=False))
                    acc = 0.8 + q - 0.01 * di + 0.002 * seed + (0.01 if k == 50 else 0.0)
                    for ev in ("svm", "knn1"):
                        rows.append(row(ds, sel, seed, k, ev, acc,
                                        selected=" ".join(map(str, chosen)), n_features=d,
                                        select_seconds=10.0 if sel == "neurofs" else 0.5,
                                        select_shared=sel == "random", true_support=truth))
    return rows


# --- accuracy tables --------------------------------------------------------------------------


def test_accuracy_table_has_mean_and_sd_over_seeds():
    rows = [row("coil20", "neurofs", s, 50, "svm", a) for s, a in enumerate([0.90, 0.92, 0.94])]
    rows += [row("coil20", "neurofs", 0, 25, "svm", 0.10)]  # another K: must not leak in
    rows += [row("coil20", "all_features", 0, 1024, "svm", 1.0, n_features=1024)]
    tab = R.accuracy_table(frame(rows), "svm", 50)
    assert tab.loc["neurofs", "coil20"] == "92.00 ± 2.00"
    # the ceiling joins the K=50 table at its own K = D, with one seed (no sd)
    assert tab.loc["all_features", "coil20"].startswith("100.00")


def test_missing_cells_are_marked_with_their_status():
    rows = [row("coil20", "neurofs", s, 50) for s in range(2)]
    rows += [row("coil20", "stg", s, 50, status="timeout") for s in range(2)]
    rows += [row("usps", "stg", 0, 50, accuracy=0.5)]
    rows += [row("usps", "stg", 1, 50, accuracy=0.7)]
    tab = R.accuracy_table(frame(rows), "svm", 50)
    assert tab.loc["stg", "coil20"] == f"{R.MISSING} (timeout)"
    assert tab.loc["neurofs", "usps"] == R.MISSING  # never run: plain marker
    assert tab.loc["stg", "usps"] == "60.00 ± 14.14"


def test_cells_with_fewer_seeds_say_so():
    rows = [row("coil20", "neurofs", s, 50) for s in range(3)]
    rows += [row("coil20", "stg", 0, 50, accuracy=0.5)]
    tab = R.accuracy_table(frame(rows), "svm", 50)
    assert tab.loc["stg", "coil20"] == "50.00 (n=1)"


def test_accuracy_per_k_puts_the_ceiling_in_its_own_column():
    rows = [row("coil20", "stg", 0, k, "svm", a) for k, a in [(25, 0.8), (50, 0.9)]]
    rows += [row("coil20", "all_features", 0, 1024, "svm", 0.99, n_features=1024)]
    tab = R.accuracy_per_k(frame(rows))
    assert list(tab.columns) == ["K=25", "K=50", "all (K=D)"]
    assert tab.loc[("coil20", "stg"), "K=25"] == "80.00"
    assert tab.loc[("coil20", "all_features"), "all (K=D)"] == "99.00"
    assert tab.loc[("coil20", "all_features"), "K=50"] == R.MISSING


# --- published numbers ------------------------------------------------------------------------


def test_reference_copy_matches_the_expected_layout():
    pub = R.load_published(ROOT / "results" / "reference" / "neurofs_tables.csv")
    assert set(pub["table"]) == {"table6_all_features", "table7_k50"}
    assert set(pub["evaluator"]) == {"svm", "knn1", "extra_trees"}
    assert set(R.DATASET_NAMES.values()) == set(pub["dataset"])
    # methods without a selector here stay unmapped rather than guessed
    assert set(pub.loc[pub["selector"] == "", "method"]) == {"QuickSelection", "CIFE", "ICAP",
                                                             "RFS"}


def test_published_numbers_are_placed_beside_ours_with_the_difference():
    pub = R.load_published(R.REFERENCE_CSV)
    rows = [row("coil20", "neurofs", s, 50, "svm", 0.99) for s in range(3)]   # published 98.78
    rows += [row("coil20", "stg", s, 50, "svm", 0.97) for s in range(3)]      # published 99.32
    rows += [row("usps", "neurofs", 0, 50, "svm", status="failed")]           # published 96.78
    rows += [row("coil20", "entryprune", 0, 50, "svm", 0.99)]                 # no published
    cmp = R.compare_published(frame(rows), pub, "table7_k50", 50).set_index(
        ["dataset", "method", "evaluator"])
    assert len(cmp) == 4  # coil20 and usps x neurofs and stg, svm only
    nf = cmp.loc[("coil20", "neurofs", "svm")]
    assert nf["published_mean"] == pytest.approx(98.78)
    assert nf["diff"] == pytest.approx(0.22)
    assert nf["within"] is True  # |0.22| <= max(0.29, 1)
    st = cmp.loc[("coil20", "stg", "svm")]
    assert st["diff"] == pytest.approx(-2.32)
    assert st["within"] is False
    us = cmp.loc[("usps", "neurofs", "svm")]
    assert us["ours_status"] == "failed" and us["within"] is None
    assert "loosely comparable" in us["note"]
    text = R.markdown_table(R._format_comparison(cmp.reset_index()), index=False)
    assert "| coil20 | neurofs | svm | 99.00 ± 0.00 | 98.78 ± 0.29 | +0.22 | yes |" in text


def test_table6_check_uses_the_ceiling_at_its_own_k():
    pub = R.load_published(R.REFERENCE_CSV)
    rows = [row("coil20", "all_features", s, 1024, "knn1", 0.995, n_features=1024)
            for s in range(2)]
    cmp = R.compare_published(frame(rows), pub, "table6_all_features")
    assert len(cmp) == 1
    assert cmp.loc[0, "published_mean"] == pytest.approx(100.0)
    assert cmp.loc[0, "diff"] == pytest.approx(-0.5)
    assert cmp.loc[0, "within"]


# --- ranks, Friedman, Wilcoxon ----------------------------------------------------------------


def test_choose_k_prefers_50_then_the_commonest_budget():
    df = frame([row("a", "stg", 0, k) for k in (10, 50)])
    assert R.choose_k(df) == 50
    df = frame([row("a", "stg", s, 10) for s in range(3)] + [row("a", "stg", 0, 20)])
    assert R.choose_k(df) == 10
    assert R.choose_k(frame([row("a", "stg", 0, 10, "knn1")])) is None


def test_friedman_matches_a_hand_computed_case():
    # a beats b beats c on each of 4 datasets: ranks 1, 2, 3, and
    # chi2 = 12 / (n k (k+1)) * sum(R_j^2) - 3 n (k+1) = 12/48 * (16+64+144) - 48 = 8.
    mat = pd.DataFrame({"a": [90, 80, 70, 60.0], "b": [85, 75, 65, 55.0],
                        "c": [80, 70, 60, 50.0]}, index=list("wxyz"))
    res = R.friedman_nemenyi(mat)
    assert res.skipped == ""
    assert res.average_ranks.to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert res.statistic == pytest.approx(8.0)
    assert res.pvalue == pytest.approx(np.exp(-4.0))  # chi2 with 2 df: p = exp(-x/2)
    assert res.nemenyi.shape == (3, 3)


def test_friedman_drops_incomplete_blocks_and_skips_when_too_small():
    mat = pd.DataFrame({"a": [90, 80, np.nan], "b": [85, 75, 70.0], "c": [80, 70, 60.0]},
                       index=["w", "x", "y"])
    res = R.friedman_nemenyi(mat)
    assert res.dropped_datasets == ["y"] and res.matrix.shape == (2, 3)
    two = R.friedman_nemenyi(mat[["b", "c"]])
    assert "at least 3 selectors" in two.skipped
    assert R.plot_critical_difference(two, "unused.png") is None


def test_ties_share_the_average_rank():
    mat = pd.DataFrame({"a": [90.0, 90.0], "b": [90.0, 80.0], "c": [70.0, 70.0]})
    res = R.friedman_nemenyi(mat)
    assert res.average_ranks["a"] == pytest.approx(1.25)  # 1.5 then 1
    assert res.average_ranks["b"] == pytest.approx(1.75)  # 1.5 then 2


def test_rank_biserial_and_holm_by_hand():
    # |d| ranks 1,2,3,4; W+ = 1+2+3 = 6, W- = 4: r = (6-4)/10
    assert R.rank_biserial([1, 2, 3, -4]) == pytest.approx(0.2)
    assert R.rank_biserial([1, 0, 2]) == pytest.approx(1.0)  # zeros dropped
    assert np.isnan(R.rank_biserial([0, 0]))
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(0.03, 2*0.03), max(0.06, 1*0.04)
    np.testing.assert_allclose(R.holm([0.01, 0.04, 0.03, np.nan]), [0.03, 0.06, 0.06, np.nan])


def test_wilcoxon_against_each_method_on_matched_pairs():
    rows = []
    diffs = [1, 2, 3, 4, 5]  # entryprune better in each of 5 (dataset, seed) pairs
    for s, d in enumerate(diffs):
        rows.append(row("coil20", "stg", s, 50, accuracy=0.80))
        rows.append(row("coil20", "entryprune", s, 50, accuracy=0.80 + d / 100))
        rows.append(row("coil20", "random", s, 50, accuracy=0.5))
    rows.append(row("coil20", "neurofs", 0, 50, accuracy=0.9))  # a single pair
    rows.append(row("coil20", "neurofs", 1, 50, status="failed"))
    rows.append(row("coil20", "all_features", 0, 1024, accuracy=1.0, n_features=1024))
    pw = R.pairwise_wilcoxon(frame(rows), 50).set_index("method")
    assert "all_features" not in pw.index  # the ceiling is not a selector
    stg = pw.loc["stg"]
    assert stg["n_pairs"] == 5 and stg["wins"] == 5
    assert stg["median_diff"] == pytest.approx(3.0)
    # exact two-sided p for 5 positive differences: 2 / 2^5
    assert stg["p_value"] == pytest.approx(0.0625)
    assert stg["rank_biserial"] == pytest.approx(1.0)
    assert pw.loc["neurofs", "note"] == "not enough data"
    assert pw.loc["neurofs", "n_pairs"] == 1


def test_wilcoxon_without_entryprune_is_empty():
    df = frame([row("coil20", "stg", s, 50) for s in range(3)])
    assert R.pairwise_wilcoxon(df, 50).empty


# --- stability and recall ---------------------------------------------------------------------


def test_nogueira_stability_hand_cases():
    same = np.array([[1, 1, 0, 0]] * 4)
    assert R.nogueira_stability(same) == pytest.approx(1.0)
    # {0,1} vs {0,2} in d=4: s^2 = (0, .5, .5, 0), mean .25; kbar/d = .5 -> 1 - .25/.25 = 0
    assert R.nogueira_stability([[1, 1, 0, 0], [1, 0, 1, 0]]) == pytest.approx(0.0)
    # {0,1,2} vs {0,1,3} in d=6: mean s^2 = 1/6; (3/6)(3/6) = 1/4 -> 1 - 2/3
    assert R.nogueira_stability([[1, 1, 1, 0, 0, 0], [1, 1, 0, 1, 0, 0]]) == pytest.approx(1 / 3)
    assert np.isnan(R.nogueira_stability([[1, 0, 1]]))       # one run: undefined
    assert np.isnan(R.nogueira_stability([[1, 1], [1, 1]]))  # every feature kept


def test_nogueira_stability_of_random_subsets_is_near_zero():
    rng = np.random.default_rng(0)
    Z = np.zeros((50, 200))
    for i in range(50):
        Z[i, rng.choice(200, size=20, replace=False)] = 1
    assert abs(R.nogueira_stability(Z)) < 0.05


def test_stability_table_uses_one_row_per_seed():
    rows = []
    for s, sel in enumerate(["0 1", "0 2"]):
        for ev in ("svm", "knn1"):  # same selection for every evaluator: count it once
            rows.append(row("d", "stg", s, 2, ev, selected=sel, n_features=4))
    rows.append(row("d", "random", 0, 2, selected="0 1", n_features=4))
    stab = R.stability_table(frame(rows)).set_index("selector")
    assert stab.loc["stg", "n_seeds"] == 2
    assert stab.loc["stg", "stability"] == pytest.approx(0.0)
    assert np.isnan(stab.loc["random", "stability"])  # one seed


def test_recall_of_true_features():
    assert R.true_feature_recall([0, 1, 7], [0, 1, 2, 3], 3) == pytest.approx(2 / 3)
    assert R.true_feature_recall(range(10), [0, 1, 2, 3], 10) == pytest.approx(1.0)
    rows = [row("synthetic_d50", "stg", 0, 2, selected="0 9", true_support="0 1 2"),
            row("synthetic_d50", "stg", 1, 2, selected="0 1", true_support="0 1 2"),
            row("digits", "stg", 0, 2, selected="0 1")]  # unknown support: left out
    rec = R.recall_table(frame(rows))
    assert list(rec["dataset"]) == ["synthetic_d50"]
    assert rec.loc[0, "recall"] == pytest.approx(0.75)  # mean of 1/2 and 2/2


def test_shared_fits_count_once_per_seed():
    rows = [row("d", "random", 0, k, ev, select_seconds=2.0, select_shared=True)
            for k in (5, 10) for ev in ("svm", "knn1")]
    rows += [row("d", "stg", 0, k, "svm", select_seconds=float(k)) for k in (5, 10)]
    fits = R.selection_fits(frame(rows))
    assert (fits["selector"] == "random").sum() == 1
    assert (fits["selector"] == "stg").sum() == 2
    tab = R.selection_time_table(fits)
    assert tab.loc["stg", "d"] == "7.50"


# --- the whole report and the CLI -------------------------------------------------------------


def test_cli_exits_non_zero_without_a_csv(tmp_path, capsys):
    cli = _load_cli()
    status = cli.main(["--exp-name", "nope", "--results-dir", str(tmp_path)])
    assert status != 0
    err = capsys.readouterr().err
    assert "nope.csv" in err and "does not exist" in err
    assert not (tmp_path / "report").exists()


def test_cli_builds_the_report_and_figures(tmp_path, capsys):
    rows = demo_rows()
    # partial results: a timed-out cell and a failed one must not break anything
    rows += [row("coil20", "lassonet", s, 50, ev, status="timeout") for s in range(3)
             for ev in ("svm", "knn1")]
    rows += [row("usps", "neurofs", 9, 25, "svm", status="failed")]
    pd.DataFrame(rows, columns=COLUMNS).to_csv(tmp_path / "demo.csv", index=False)
    cli = _load_cli()
    assert cli.main(["--exp-name", "demo", "--results-dir", str(tmp_path)]) == 0
    out_dir = tmp_path / "report" / "demo"
    printed = capsys.readouterr().out
    assert str(out_dir / "report.md") in printed

    md = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "# Report: demo" in md
    assert "ok 216" in md and "timeout 6" in md and "failed 1" in md
    assert f"{R.MISSING} (timeout)" in md  # lassonet on coil20
    assert "Friedman test: χ² =" in md
    assert "Beside the published numbers" in md and "| coil20 | neurofs | svm |" in md
    for name in ("accuracy_vs_k", "selection_time", "critical_difference", "stability"):
        png = out_dir / f"{name}.png"
        assert png.is_file(), name
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert f"]({name}.png)" in md
    # entryprune is best on every dataset, so it ranks first
    tables = out_dir / "tables"
    ranks = pd.read_csv(tables / "ranks.csv", index_col=0)
    assert (ranks["entryprune"] == 1.0).all()
    stab = pd.read_csv(tables / "stability.csv")
    ep = stab[stab["selector"] == "entryprune"].set_index(["dataset", "k"])["stability"]
    assert np.isnan(ep.pop(("synthetic_d50", 50)))  # K = D: every feature kept, undefined
    assert (ep == 1.0).all()  # the same columns every seed
    assert "## 8. Recall" in md and "synthetic_d50" in md


def test_report_on_only_failed_rows_does_not_crash(tmp_path):
    rows = [row("coil20", "stg", s, 50, status="failed") for s in range(2)]
    rep = R.build_report(pd.DataFrame(rows, columns=COLUMNS), tmp_path, exp_name="broken")
    md = rep.markdown.read_text(encoding="utf-8")
    assert "failed 2" in md and "not enough data" in md
    assert rep.figures == {}
    assert {name for name, _ in rep.skipped} >= {"accuracy_vs_k", "critical_difference"}
