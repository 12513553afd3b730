"""The report of an experiment: tables, statistics and figures from its result rows alone.

Everything here takes the tidy rows of ``results/<exp_name>.csv`` (see :mod:`bench.records`)
as a pandas frame and returns frames, numbers or figure files; nothing re-runs a selector.
The rows may be partial (a sweep still running, cells that failed or timed out): missing
cells are marked, never an error.

Modules, one job each:

- :mod:`~bench.report.names`: the papers' names and ours, display orders, published numbers.
- :mod:`~bench.report.results`: loading and typing the rows; the filters every section uses.
- :mod:`~bench.report.formatting`: how numbers read in the Markdown tables.
- :mod:`~bench.report.tables`: accuracy tables, comparison with the published numbers,
  the run summary and the tie-separation table.
- :mod:`~bench.report.latex`: the accuracy tables as booktabs LaTeX.
- :mod:`~bench.report.timing`: selection time per fit, and time beside accuracy.
- :mod:`~bench.report.stats`: average ranks, Friedman / Nemenyi, Wilcoxon / Holm.
- :mod:`~bench.report.stability`: Nogueira stability and recall of the true features.
- :mod:`~bench.report.figures`: every figure.
- :mod:`~bench.report.document`: ``build_report``, which writes ``report.md``.

Markdown tables are written by :func:`bench.markdown.markdown_table`, the project's one
table writer. The names below are re-exported so that ``import bench.report as R`` reaches
the whole public API.
"""

from __future__ import annotations

from bench.markdown import MISSING, markdown_table
from bench.report.document import Report, build_report
from bench.report.figures import (
    plot_accuracy_vs_k,
    plot_critical_difference,
    plot_selection_time,
    plot_stability,
    plot_time_vs_accuracy,
)
from bench.report.latex import (
    accuracy_per_k_latex,
    accuracy_table_latex,
    best_mask,
    latex_escape,
    latex_table,
)
from bench.report.names import (
    CEILING,
    DATASET_NAMES,
    EVALUATOR_NAMES,
    FOCAL_SELECTOR,
    PUBLISHED_CSV,
    PUBLISHED_K,
    SELECTOR_NAMES,
    load_published,
)
from bench.report.results import (
    accuracy_summary,
    load_results,
    parse_indices,
    prepare,
    status_counts,
)
from bench.report.stability import (
    nogueira_stability,
    one_selection_per_seed,
    recall_table,
    stability_table,
    true_feature_recall,
)
from bench.report.stats import (
    FriedmanResult,
    choose_k,
    complete_block_matrix,
    format_pairwise,
    friedman_nemenyi,
    holm,
    pairwise_wilcoxon,
    rank_biserial,
    ranks_matrix,
)
from bench.report.tables import (
    accuracy_per_k,
    accuracy_table,
    compare_published,
    format_comparison,
    run_summary,
    separation_table,
)
from bench.report.timing import selection_fits, selection_time_table, time_vs_accuracy

__all__ = [
    "CEILING",
    "DATASET_NAMES",
    "EVALUATOR_NAMES",
    "MISSING",
    "PUBLISHED_K",
    "PUBLISHED_CSV",
    "FOCAL_SELECTOR",
    "SELECTOR_NAMES",
    "FriedmanResult",
    "Report",
    "accuracy_per_k",
    "accuracy_per_k_latex",
    "accuracy_summary",
    "accuracy_table",
    "accuracy_table_latex",
    "best_mask",
    "build_report",
    "choose_k",
    "compare_published",
    "complete_block_matrix",
    "format_comparison",
    "format_pairwise",
    "friedman_nemenyi",
    "holm",
    "latex_escape",
    "latex_table",
    "load_published",
    "load_results",
    "markdown_table",
    "nogueira_stability",
    "one_selection_per_seed",
    "pairwise_wilcoxon",
    "parse_indices",
    "plot_accuracy_vs_k",
    "plot_critical_difference",
    "plot_selection_time",
    "plot_stability",
    "plot_time_vs_accuracy",
    "prepare",
    "rank_biserial",
    "ranks_matrix",
    "recall_table",
    "run_summary",
    "selection_fits",
    "selection_time_table",
    "separation_table",
    "stability_table",
    "status_counts",
    "time_vs_accuracy",
    "true_feature_recall",
]
