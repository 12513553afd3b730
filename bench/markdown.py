"""The project's one Markdown table writer, used by the report and the speed benchmarks.

It lives apart from :mod:`bench.report` so that the benchmark scripts can write a table
without importing the report's scipy, matplotlib and scikit-posthocs. Nothing here imports
more than the standard library; a pandas DataFrame is recognised by its methods.

pandas' own ``DataFrame.to_markdown`` is not used because it needs the ``tabulate``
package, which the project does not otherwise depend on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["MISSING", "NO_DATA", "is_missing", "markdown_table"]

#: What a table cell without a value shows.
MISSING = "—"
#: What a table without rows (or without columns) is written as.
NO_DATA = "_(no data)_"


def is_missing(value: Any) -> bool:
    """Whether a table cell has no value.

    Parameters
    ----------
    value : object

    Returns
    -------
    bool
        True for None, NaN (Python's and NumPy's floats), pandas' ``NaT`` and pandas'
        ``NA``; False for everything else, the empty string included (a caller that writes
        ``""`` means an empty cell, not an unknown one).
    """
    if value is None:
        return True
    try:
        # NaN and NaT are the only values that differ from themselves.
        return bool(value != value)
    except TypeError:
        # pandas.NA compares to NA, and NA refuses to become a bool.
        return True
    except ValueError:
        # An array in a cell compares element-wise; it is a value, not a missing one.
        return False


def _text(value: Any) -> str:
    # A "|" would end the cell and a newline the row.
    return str(value).replace("|", "\\|").replace("\n", " ")


def _cell(value: Any) -> str:
    return MISSING if is_missing(value) else _text(value)


def markdown_table(rows: Any, columns: Sequence | None = None, *, index: bool = False) -> str:
    """Render rows as a GitHub-flavoured Markdown table.

    Missing values: a cell that is None, NaN, ``NaT`` or ``NA`` (see :func:`is_missing`),
    and a column a mapping row lacks, is written as :data:`MISSING` (``"—"``); an empty
    string stays an empty cell. A table without rows or columns is written as
    :data:`NO_DATA` (``"_(no data)_"``) rather than as a bare header.

    Parameters
    ----------
    rows : DataFrame or sequence of mappings
        A pandas DataFrame (its columns become the table's), or one mapping per row,
        looked up by column name. Cells are converted with ``str``; a ``|`` is escaped and a
        newline becomes a space, so a cell cannot break the table.
    columns : sequence, optional
        The columns to write, in order. Required for mapping rows; for a DataFrame the
        default is every column.
    index : bool, default=False
        For a DataFrame: write its index as the first column(s), one per level of a
        MultiIndex. Ignored for mapping rows.

    Returns
    -------
    str
        The table without a trailing newline.

    Raises
    ------
    TypeError
        When ``rows`` are mappings and ``columns`` is not given.
    """
    if rows is None:
        return NO_DATA
    if hasattr(rows, "itertuples"):  # a pandas DataFrame
        if rows.empty:
            return NO_DATA
        frame = rows.reset_index() if index else rows
        if columns is not None:
            frame = frame[list(columns)]
        header = list(frame.columns)
        body = [list(values) for values in frame.itertuples(index=False)]
    else:
        if columns is None:
            raise TypeError("columns are required when rows are mappings")
        header = list(columns)
        body = [[r.get(c) for c in header] for r in rows]
    if not body or not header:
        return NO_DATA
    lines = ["| " + " | ".join(_text(c) for c in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in values) + " |" for values in body]
    return "\n".join(lines)
