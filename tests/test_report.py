"""The report: tables, comparisons, statistics and figures from generated result rows."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from _paths import ROOT

from bench import report as R
from bench.markdown import MISSING, NO_DATA, markdown_table
from bench.records import COLUMNS

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
    pub = R.load_published(R.PUBLISHED_CSV)
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
    text = R.markdown_table(R.format_comparison(cmp.reset_index()))
    assert "| coil20 | neurofs | svm | 99.00 ± 0.00 | 98.78 ± 0.29 | +0.22 | yes |" in text


def test_the_one_markdown_writer_marks_missing_cells_the_same_for_frames_and_mappings():
    table = pd.DataFrame({"a": [1.5, np.nan], "b": ["x|y", ""]},
                         index=pd.Index(["r1", "r2"], name="row"))
    assert markdown_table(table, index=True).splitlines() == [
        "| row | a | b |", "|---|---|---|", "| r1 | 1.5 | x\\|y |", f"| r2 | {MISSING} |  |"]
    rows = [{"a": 1.5, "b": "x|y"}, {"a": None, "b": ""}]
    assert markdown_table(rows, ["a", "b"]) == markdown_table(table)
    # pandas' missing values, and a key the row lacks, read the same
    assert markdown_table([{"a": pd.NA}, {"a": pd.NaT}, {}], ["a"]).count(MISSING) == 3
    assert markdown_table([], ["a"]) == markdown_table(pd.DataFrame()) == NO_DATA


def test_a_setting_variant_is_set_beside_its_methods_published_numbers():
    pub = R.load_published(R.PUBLISHED_CSV)
    rows = [row("coil20", "lassonet", s, 50, "svm", 0.95) for s in range(2)]
    rows += [row("coil20", "lassonet_bench", s, 50, "svm", 0.97) for s in range(2)]
    cmp = R.compare_published(frame(rows), pub, "table7_k50", 50).set_index(
        ["dataset", "method", "evaluator"])
    assert len(cmp) == 2
    for method, ours in (("lassonet", 95.0), ("lassonet_bench", 97.0)):
        r = cmp.loc[("coil20", method, "svm")]
        assert r["published_mean"] == pytest.approx(97.16)  # LassoNet, COIL-20, SVM
        assert r["diff"] == pytest.approx(ours - 97.16)


def test_table6_check_uses_the_ceiling_at_its_own_k():
    pub = R.load_published(R.PUBLISHED_CSV)
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


# --- LaTeX tables, time vs accuracy, the run summary ----------------------------------------


def _tex_body(tex: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and body rows of the one tabular in ``tex`` (booktabs layout)."""
    lines = tex.splitlines()
    top, bottom = lines.index(r"\toprule"), lines.index(r"\bottomrule")
    header = lines[top + 1].removesuffix(r" \\").split(" & ")
    assert lines[top + 2] == r"\midrule"
    body = [ln.removesuffix(r" \\").split(" & ") for ln in lines[top + 3:bottom]
            if ln != r"\midrule"]
    return header, body


def _bold_per_column(tex: str, n_index: int) -> dict:
    """Column title -> the row labels whose cell in that column is in bold."""
    header, body = _tex_body(tex)
    labels, group = [], ""
    for r in body:
        group = r[0] or group  # a group's later rows leave its first label column empty
        labels.append(" / ".join([group, *r[1:n_index]]))
    return {title: {lab for lab, r in zip(labels, body, strict=True)
                    if r[j].startswith(r"\textbf{")}
            for j, title in enumerate(header[n_index:], start=n_index)}


def tie_rows() -> list[dict]:
    """coil20: entryprune best alone; madelon: entryprune and random_forest equal at two
    decimals (80.00 vs 80.0004), anova_f lower; the ceiling above all but not a selector."""
    rows = []
    for s in range(2):
        rows += [row("coil20", "entryprune", s, 50, accuracy=0.95 + 0.01 * s),
                 row("coil20", "random_forest", s, 50, accuracy=0.90),
                 row("coil20", "anova_f", s, 50, accuracy=0.85),
                 row("madelon", "entryprune", s, 50, accuracy=0.80),
                 row("madelon", "random_forest", s, 50, accuracy=0.800004),
                 row("madelon", "anova_f", s, 50, accuracy=0.70),
                 row("coil20", "all_features", s, 1024, accuracy=1.0, n_features=1024),
                 row("madelon", "all_features", s, 500, accuracy=0.99, n_features=500)]
        rows += [row("coil20", sel, s, 25, accuracy=acc)
                 for sel, acc in [("entryprune", 0.6), ("random_forest", 0.7), ("anova_f", 0.7)]]
    return rows


def test_latex_escape_makes_special_characters_literal():
    assert R.latex_escape("random_forest") == r"random\_forest"
    assert R.latex_escape("50% & #1 $x$ {a}") == r"50\% \& \#1 \$x\$ \{a\}"
    assert R.latex_escape(r"a\b~c^d") == r"a\textbackslash{}b\textasciitilde{}c\textasciicircum{}d"


def test_best_mask_marks_ties_at_printed_precision_and_skips_the_ceiling():
    means = pd.DataFrame({"a": [90.001, 90.004, 80.0, 99.0], "b": [np.nan, 70.0, 71.0, 99.0],
                          "c": [np.nan] * 4},
                         index=["x", "y", "z", "all_features"])
    mask = R.best_mask(means, exclude=["all_features"])
    assert mask["a"].tolist() == [True, True, False, False]  # both print as 90.00
    assert mask["b"].tolist() == [False, False, True, False]
    assert not mask["c"].any()  # nothing to compare


def test_latex_accuracy_table_has_booktabs_bold_best_and_escaped_names():
    tex = R.accuracy_table_latex(frame(tie_rows()), "svm", 50, exp_name="t_1")
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert tex.count(rule) >= 1, rule
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    assert r"random\_forest" in tex and "random_forest" not in tex.replace(r"\_", "")
    assert r"all\_features" in tex and r"(\%)" in tex
    assert r"\label{tab:t-1-accuracy-k50-svm}" in tex
    header, body = _tex_body(tex)
    assert header == ["selector", "coil20", "madelon"]
    assert [r[0] for r in body] == ["entryprune", r"random\_forest", r"anova\_f",
                                    r"all\_features"]
    # best alone on coil20; a tie at two decimals on madelon bolds both; the ceiling never
    assert _bold_per_column(tex, 1) == {"coil20": {"entryprune"},
                                        "madelon": {"entryprune", r"random\_forest"}}
    cells = {r[0]: r for r in body}
    assert cells["entryprune"][1] == r"\textbf{95.50 $\pm$ 0.71}"
    assert cells[r"anova\_f"][2] == r"70.00 $\pm$ 0.00"


def test_latex_per_k_table_bolds_the_best_selector_per_dataset_and_k():
    tex = R.accuracy_per_k_latex(frame(tie_rows()), exp_name="t")
    header, body = _tex_body(tex)
    assert header == ["dataset", "selector", "$K=25$", "$K=50$", "all ($K=D$)"]
    assert [r[0] for r in body].count("coil20") == 1  # the dataset names its group once
    bold = _bold_per_column(tex, 2)
    # K=25 on coil20: random_forest and anova_f tie; K=50 as in the accuracy table
    assert bold["$K=25$"] == {r"coil20 / random\_forest", r"coil20 / anova\_f"}
    assert bold["$K=50$"] == {"coil20 / entryprune", "madelon / entryprune",
                              r"madelon / random\_forest"}
    assert bold["all ($K=D$)"] == set()
    assert tex.count(r"\midrule") == 2  # under the header, and between the two datasets
    assert R.accuracy_per_k_latex(frame(tie_rows()), evaluator="knn1") is None


def test_report_writes_latex_tables_and_a_time_figure_per_dataset(tmp_path):
    rows = demo_rows() + [row("coil20", "lassonet", s, 50, ev, status="timeout")
                          for s in range(3) for ev in ("svm", "knn1")]
    pd.DataFrame(rows, columns=COLUMNS).to_csv(tmp_path / "demo.csv", index=False)
    assert _load_cli().main(["--exp-name", "demo", "--results-dir", str(tmp_path)]) == 0
    out_dir = tmp_path / "report" / "demo"
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    for name in ("accuracy_k50_svm", "accuracy_k50_knn1", "accuracy_per_k"):
        tex = out_dir / "tables" / f"{name}.tex"
        assert tex.is_file(), name
        text = tex.read_text()
        assert r"\toprule" in text and r"\bottomrule" in text
        assert f"`tables/{name}.tex`" in md
    svm = (out_dir / "tables" / "accuracy_k50_svm.tex").read_text()
    # EntryPrune is best on every dataset of demo_rows, the timed-out cell says so
    bold = _bold_per_column(svm, 1)
    assert set(bold) == {"coil20", "usps", "madelon", "synthetic\\_d50"}
    assert all(v == {"entryprune"} for v in bold.values())
    assert r"--- (timeout)" in svm
    for ds in ("coil20", "usps", "madelon", "synthetic_d50"):
        png = out_dir / f"time_vs_accuracy_{ds}.png"
        assert png.is_file() and png.read_bytes()[:8] == PNG_MAGIC, ds
        assert f"](time_vs_accuracy_{ds}.png)" in md
    # no temporary files are left beside the atomically written ones
    assert not list(out_dir.rglob(".*.tmp"))


def test_time_vs_accuracy_counts_each_seed_once_and_keeps_shared_fit_times():
    rows = [row("d", "random", s, k, ev, accuracy=0.5 + 0.1 * s, select_seconds=2.0 + s,
                select_shared=True) for s in range(2) for k in (5, 10) for ev in ("svm", "knn1")]
    rows += [row("d", "all_features", 0, 100, accuracy=0.99, select_seconds=0.0)]
    pts = R.time_vs_accuracy(frame(rows), 10).set_index("selector")
    assert pts.loc["random", "n"] == 2
    assert pts.loc["random", "acc_mean"] == pytest.approx(55.0)
    assert pts.loc["random", "sec_mean"] == pytest.approx(2.5)
    assert (pts.loc["random", "sec_min"], pts.loc["random", "sec_max"]) == (2.0, 3.0)
    assert pts.loc["all_features", "k"] == 100  # the ceiling at its own K


def test_summary_covers_every_cell_and_writes_nothing(tmp_path, capsys):
    rows = [row("digits", sel, s, k, ev, accuracy=acc + 0.01 * s + 0.001 * k + d_ev,
                select_seconds=sec)
            for sel, acc, sec in [("entryprune", 0.93, 20.0), ("random", 0.70, 0.001)]
            for s in range(2) for k in (10, 20) for ev, d_ev in [("svm", 0.0), ("knn1", 0.05)]]
    rows.append(row("digits", "anova_f", 0, 10, "svm", status="failed"))
    pd.DataFrame(rows, columns=COLUMNS).to_csv(tmp_path / "demo.csv", index=False)
    table = R.run_summary(frame(rows))
    assert list(table.columns) == ["svm", "knn1", "seeds", "select s"]
    assert table.index.tolist() == [("digits", 10, "entryprune"), ("digits", 10, "anova_f"),
                                    ("digits", 10, "random"), ("digits", 20, "entryprune"),
                                    ("digits", 20, "random")]
    assert table.loc[("digits", 10, "entryprune"), "svm"] == "94.50 ± 0.71"
    assert table.loc[("digits", 20, "random"), "knn1"] == "77.50 ± 0.71"
    assert table.loc[("digits", 20, "random"), "seeds"] == 2
    assert table.loc[("digits", 10, "entryprune"), "select s"] == "20.0"
    # a cell without an ok row is listed with why, not left out
    assert table.loc[("digits", 10, "anova_f")].tolist() == [
        f"{R.MISSING} (failed)", R.MISSING, 0, R.MISSING]

    assert _load_cli().main(["--exp-name", "demo", "--results-dir", str(tmp_path),
                             "--summary"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "demo.csv") in out and "ok 16, failed 1" in out
    assert out.count("94.50 ± 0.71") == 1 and "77.50 ± 0.71" in out
    assert not (tmp_path / "report").exists()


def test_the_header_says_how_complete_the_experiment_grid_is(tmp_path):
    from bench.grid import Grid, grid_gaps

    rows = frame([row("coil20", "stg", s, 50) for s in range(2)])
    grid = Grid(("coil20",), ("stg", "neurofs"), (0, 1), (50,), {"svm": {"budgets": None}})
    md = R.build_report(rows, tmp_path / "a", exp_name="g",
                        gaps=grid_gaps(rows, grid)).markdown.read_text(encoding="utf-8")
    assert "Grid: 2 row(s) of the experiment's config are not accounted for" in md
    assert "| coil20 | neurofs | no row | 0 1 | 2 |" in md
    assert "in 1 cell(s):" in md
    # a failed row and a missing one in the same cell: two lines of the table, one cell
    failed = frame([*[row("coil20", "stg", s, 50) for s in range(2)],
                    row("coil20", "neurofs", 0, 50, status="failed")])
    md = R.build_report(failed, tmp_path / "c", exp_name="g",
                        gaps=grid_gaps(failed, grid)).markdown.read_text(encoding="utf-8")
    assert "| coil20 | neurofs | no row | 1 | 1 |" in md
    assert "in 1 cell(s):" in md
    full = Grid(("coil20",), ("stg",), (0, 1), (50,), {"svm": {"budgets": None}})
    md = R.build_report(rows, tmp_path / "b", exp_name="g",
                        gaps=grid_gaps(rows, full)).markdown.read_text(encoding="utf-8")
    assert "Grid: every (dataset, selector, seed, K, evaluator)" in md
    md = R.build_report(rows, tmp_path / "c", exp_name="g").markdown.read_text(encoding="utf-8")
    assert "Grid:" not in md  # no config to check against: nothing claimed


def test_the_header_lists_skipped_cells_with_their_reasons(tmp_path):
    from bench.grid import Grid, grid_gaps

    why = "not run: one fit needs 3 h here (the experiment's not_run)"
    rows = frame([row("coil20", "stg", s, 50) for s in range(2)]
                 + [{**row("arcene", "stg", s, 50, status="skipped"), "error": why}
                    for s in range(2)])
    grid = Grid(("coil20", "arcene"), ("stg",), (0, 1), (50,), {"svm": {"budgets": None}})
    md = R.build_report(rows, tmp_path / "a", exp_name="g",
                        gaps=grid_gaps(rows, grid)).markdown.read_text(encoding="utf-8")
    assert "Grid: every (dataset, selector, seed, K, evaluator)" in md
    assert "Skipped: 2 row(s) in 1 cell(s), not fitted" in md
    assert f"| arcene | stg | {why} | 0 1 | 2 |" in md
    md = R.build_report(rows[rows.status == "ok"], tmp_path / "b",
                        exp_name="g").markdown.read_text(encoding="utf-8")
    assert "Skipped:" not in md


def test_the_header_lists_timed_out_cells_with_their_reasons(tmp_path):
    # a cell that timed out after some seeds shows only "(n=...)" in the tables; the header
    # must say which seeds timed out and which were then not run (after_timeout=skip_cell)
    over = "FitTimeout: fit exceeded timeout_s=7200"
    after = "not run: seed 1 k=50 of this cell ran past timeout_s=7200 (after_timeout=skip_cell)"
    rows = frame([row("coil20", "lassonet", 0, 50), row("coil20", "stg", 0, 50)]
                 + [{**row("coil20", "lassonet", 1, 50, status="timeout"), "error": over}]
                 + [{**row("coil20", "lassonet", s, 50, status="timeout"), "error": after}
                    for s in (2, 3)])
    md = R.build_report(rows, tmp_path / "a", exp_name="g").markdown.read_text(encoding="utf-8")
    assert "Timed out: 3 row(s) in 1 cell(s), no selection" in md
    assert f"| coil20 | lassonet | {over} | 1 | 1 |" in md
    assert f"| coil20 | lassonet | {after} | 2 3 | 2 |" in md
    assert "Skipped:" not in md
    md = R.build_report(rows[rows.status == "ok"], tmp_path / "b",
                        exp_name="g").markdown.read_text(encoding="utf-8")
    assert "Timed out:" not in md


def test_the_header_names_the_machines_the_rows_came_from(tmp_path):
    rows = [row("coil20", "stg", s, 50) for s in range(2)]
    rows[0]["machine"] = "AMD EPYC, 2 CPUs"
    rows[1]["machine"] = "Intel Xeon, 2 CPUs"
    md = R.build_report(frame(rows), tmp_path / "a",
                        exp_name="g").markdown.read_text(encoding="utf-8")
    assert "Machines: AMD EPYC, 2 CPUs, Intel Xeon, 2 CPUs  " in md
    md = R.build_report(frame([row("coil20", "stg", 0, 50)]), tmp_path / "b",
                        exp_name="g").markdown.read_text(encoding="utf-8")
    assert "Machines: not recorded" in md
