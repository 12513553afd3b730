"""Build the report of an experiment from its result CSV alone (nothing is re-run).

    python scripts/report.py --exp-name quick
    python scripts/report.py --exp-name paper --results-dir results --out /tmp/paper_report
    python scripts/report.py --exp-name demo --summary     # print one table, write nothing

Reads ``<results-dir>/<exp-name>.csv`` and writes ``report.md``, PNG figures and the tables
(CSV, and LaTeX for the accuracy tables) into ``<results-dir>/report/<exp-name>/`` (or
``--out``). ``--summary`` instead prints mean accuracy per dataset x K x selector x evaluator
and the CSV's path (``make run`` ends with it). Works on partial results; exits non-zero
when the CSV does not exist. Hydra is not imported, so this runs anywhere the results were
copied to.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

# Files only, no display: choose the backend before anything imports pyplot.
matplotlib.use("Agg")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.records import ResultStore  # noqa: E402
from bench.report.document import build_report  # noqa: E402
from bench.report.names import PUBLISHED_CSV, load_published  # noqa: E402
from bench.report.results import load_results, status_counts  # noqa: E402
from bench.report.tables import run_summary  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exp-name", required=True, help="experiment name (the CSV's stem)")
    parser.add_argument("--results-dir", default="results", help="default: results")
    parser.add_argument("--out", default=None,
                        help="output folder (default: <results-dir>/report/<exp-name>)")
    parser.add_argument("--published", default=str(PUBLISHED_CSV),
                        help="published numbers (default: results/reference/neurofs_tables.csv)")
    parser.add_argument("--summary", action="store_true",
                        help="print the accuracy summary of every cell and write no files")
    return parser.parse_args(argv)


def print_summary(rows, csv_path: Path, exp_name: str, results_dir: str) -> None:
    """Print :func:`bench.report.run_summary` of ``rows`` with where they are and how many."""
    counts = status_counts(rows)
    print(f"\n{exp_name}: {len(rows)} rows in {csv_path} ("
          + ", ".join(f"{s} {n}" for s, n in counts.items() if n) + ")")
    table = run_summary(rows)
    if table.empty:
        print("no ok rows: nothing to summarise (see the status and error columns)")
        return
    print("Test accuracy in %, mean ± sd over seeds; select s = median seconds of one "
          "selector fit.")
    print(table.to_string())
    print(f"Full report (tables, LaTeX, figures): python scripts/report.py --exp-name "
          f"{exp_name} --results-dir {results_dir}")


def experiment_gaps(rows, exp_name: str):
    """The rows' gaps against ``configs/experiment/<exp_name>.yaml``, or None without one.

    An ad-hoc run (``exp_name`` of the command line, no experiment config) or an experiment
    that sweeps no datasets and selectors has no grid to check.
    """
    from bench.grid import experiment_grid, grid_gaps

    try:
        grid = experiment_grid(exp_name)
    except ValueError:
        return None
    return grid_gaps(rows, grid)


def main(argv=None) -> int:
    """Build the report; return the exit status (0 on success, 2 without a result CSV)."""
    args = parse_args(argv)
    # The runner's own file naming (it makes exp names safe for file names).
    csv_path = ResultStore(args.results_dir, args.exp_name).csv_path
    if not csv_path.is_file():
        print(f"error: no results for experiment {args.exp_name!r}: {csv_path} does not exist "
              "(run the experiment first, or pass --results-dir)", file=sys.stderr)
        return 2
    rows = load_results(csv_path)
    if args.summary:
        print_summary(rows, csv_path, args.exp_name, args.results_dir)
        return 0
    out = Path(args.out) if args.out else csv_path.parent / "report" / csv_path.stem
    published = load_published(args.published)
    if published.empty:
        print(f"note: no published numbers at {args.published}; comparisons are left out",
              file=sys.stderr)
    rep = build_report(rows, out, exp_name=args.exp_name, published=published,
                       source=csv_path, gaps=experiment_gaps(rows, args.exp_name))
    print(f"report: {rep.markdown}")
    for name, path in rep.figures.items():
        print(f"figure {name}: {path}")
    for name, reason in rep.skipped:
        print(f"figure {name} skipped: {reason}")
    print(f"tables: {out / 'tables'} ({len(rep.tables)} CSV, {len(rep.latex)} LaTeX files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
