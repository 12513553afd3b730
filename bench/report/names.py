"""Where the papers' names meet ours: name maps, roles, display orders, published numbers.

The published numbers are those of Atashgahi et al., "Supervised Feature Selection with
Neuron Evolution in Sparse Neural Networks", TMLR 2023 (Tables 6 and 7), kept in
``results/reference/neurofs_tables.csv`` (see ``results/reference/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = [
    "CEILING",
    "DATASET_CAVEATS",
    "DATASET_NAMES",
    "DATASET_ORDER",
    "EVALUATOR_NAMES",
    "EVALUATOR_ORDER",
    "PUBLISHED_K",
    "RANK_EVALUATOR",
    "PUBLISHED_CSV",
    "FOCAL_SELECTOR",
    "SELECTOR_NAMES",
    "SELECTOR_ORDER",
    "SETTING_VARIANTS",
    "load_published",
    "ordered",
    "sort_long",
]

#: Paper learner -> our evaluator.
EVALUATOR_NAMES = {"SVM": "svm", "KNN": "knn1", "ExtraTrees": "extra_trees"}
#: Paper method -> our selector (methods without an implementation here are left out).
SELECTOR_NAMES = {
    "NeuroFS": "neurofs",
    "LassoNet": "lassonet",
    "STG": "stg",
    "Fisher_score": "fisher_score",
    "all_features": "all_features",
}
#: Our selectors that run a published method with other settings -> that method's selector:
#: each is set beside the same published numbers.
SETTING_VARIANTS = {"lassonet_bench": "lassonet", "neurofs_released": "neurofs"}
#: Paper dataset -> our dataset config.
DATASET_NAMES = {
    "COIL-20": "coil20",
    "MNIST": "mnist",
    "Fashion-MNIST": "fashion_mnist",
    "USPS": "usps",
    "Isolet": "isolet",
    "HAR": "har",
    "BASEHOCK": "basehock",
    "Prostate_GE": "prostate_ge",
    "Arcene": "arcene",
    "SMK": "smk_can_187",
    "GLA-BRA-180": "gla_bra_180",
}
#: Why some of our files cannot reproduce the paper's numbers exactly
#: (results/reference/README.md).
DATASET_CAVEATS = {
    "usps": "substitute file (other row order): loosely comparable",
    "isolet": "substitute file (a subset): loosely comparable",
    "basehock": "later release of the data: approximate",
}

CEILING = "all_features"  # every column; shown in accuracy tables, never ranked or tested
#: The focal selector: the method this benchmark is built around, which the report tests
#: against every other one (Wilcoxon). "Reference" is kept for published numbers alone.
FOCAL_SELECTOR = "entryprune"
#: The budget of the paper's Table 7.
PUBLISHED_K = 50
#: The evaluator of ranks, tests, per-K tables and the figures.
RANK_EVALUATOR = "svm"
PUBLISHED_CSV = (Path(__file__).resolve().parents[2] / "results" / "reference"
                 / "neurofs_tables.csv")

# Display orders: the paper's first, anything else alphabetically after.
DATASET_ORDER = ["coil20", "usps", "mnist", "fashion_mnist", "isolet", "har", "basehock",
                 "prostate_ge", "arcene", "smk_can_187", "gla_bra_180", "madelon", "digits"]
SELECTOR_ORDER = ["entryprune", "entryprune_flex", "neurofs", "neurofs_released", "lassonet",
                  "lassonet_bench",
                  "stg", "cancelout", "random_forest", "xgboost", "anova_f", "mutual_info",
                  "fisher_score", "l1_logreg", "random", "all_features"]
EVALUATOR_ORDER = ["svm", "knn1", "extra_trees", "xgboost", "logreg"]


def ordered(values, order) -> list:
    """The distinct non-empty ``values``: those in ``order`` first, the rest sorted after."""
    values = {v for v in values if v == v and v != ""}  # v == v drops NaN
    first = [v for v in order if v in values]
    return first + sorted(values - set(first), key=str)


def sort_long(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of a long table with ``dataset``, ``selector`` and ``k`` columns in display order."""
    if df.empty:
        return df
    od = {d: i for i, d in enumerate(ordered(df["dataset"], DATASET_ORDER))}
    os_ = {s: i for i, s in enumerate(ordered(df["selector"], SELECTOR_ORDER))}
    df = df.assign(_d=df["dataset"].map(od), _s=df["selector"].map(os_))
    return df.sort_values(["_d", "_s", "k"]).drop(columns=["_d", "_s"]).reset_index(drop=True)


def load_published(path=PUBLISHED_CSV) -> pd.DataFrame:
    """Read the published NeuroFS numbers and translate their names to ours.

    Parameters
    ----------
    path : path-like
        ``neurofs_tables.csv`` (columns table, learner, method, dataset, accuracy_mean,
        accuracy_sd, note).

    Returns
    -------
    DataFrame
        Columns ``table, evaluator, selector, dataset, published_mean, published_sd, note``
        plus the paper's names (``learner, method, paper_dataset``). Methods without a
        selector here have an empty ``selector``. An empty frame when the file is absent.
    """
    cols = ["table", "evaluator", "selector", "dataset", "published_mean", "published_sd",
            "note", "learner", "method", "paper_dataset"]
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=cols)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = pd.DataFrame({
        "table": raw["table"].str.strip(),
        "evaluator": raw["learner"].map(EVALUATOR_NAMES).fillna(""),
        "selector": raw["method"].map(SELECTOR_NAMES).fillna(""),
        "dataset": raw["dataset"].map(DATASET_NAMES).fillna(""),
        "published_mean": pd.to_numeric(raw["accuracy_mean"], errors="coerce"),
        "published_sd": pd.to_numeric(raw["accuracy_sd"], errors="coerce"),
        "note": raw["note"].str.strip(),
        "learner": raw["learner"],
        "method": raw["method"],
        "paper_dataset": raw["dataset"],
    })
    return out[cols]
