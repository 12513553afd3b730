"""Tidy result rows: the fixed columns, atomic writes, per-cell files and the merged CSV.

Layout under ``results_dir``::

    <exp_name>.csv                      every row of the experiment (merged view)
    <exp_name>/cells/<dataset>__<selector>.csv   the rows of one cell (source of truth)

A cell (dataset, selector) is the unit of a Hydra multirun job. Each job rewrites only its
own cell file, atomically (temporary file + ``os.replace``) after every (seed, k), so a
killed job loses at most the fit in progress and never leaves a torn file. The merged CSV
is rebuilt from the cell files under a file lock, so two jobs finishing together do not
lose each other's rows (TabArena-style one-file-per-cell, merged afterwards).

Rows are keyed by (dataset, selector, seed, k, evaluator): writing a key again replaces
the old row, so reruns never duplicate rows.

``n_separated`` and ``n_tiebroken`` (ranking selectors only, empty otherwise) say how many
of the K selected columns the selector's primary score, and its own tie-break, chose; the
other ``K - n_separated - n_tiebroken`` were taken by column index among equal scores (see
``selector_contract.RankingSelector``). Rows written before these columns existed load with
them empty.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path

import pandas as pd
from filelock import FileLock

__all__ = [
    "COLUMNS",
    "KEY",
    "STATUSES",
    "TEXT_COLUMNS",
    "ResultStore",
    "atomic_write_csv",
    "atomic_write_text",
    "error_text",
    "read_rows",
    "remove_stale_temp_files",
]

KEY = ["dataset", "selector", "seed", "k", "evaluator"]

COLUMNS = [
    "dataset", "selector", "seed", "k", "evaluator",
    "accuracy", "balanced_accuracy", "select_seconds", "eval_seconds", "select_shared",
    "n_train", "n_test", "n_features", "n_classes", "selected", "n_separated", "n_tiebroken",
    "status", "error", "device", "protocol", "exp_name",
    "git_commit", "config_hash", "versions", "machine", "started_at", "true_support",
]

STATUSES = ("ok", "failed", "timeout", "skipped")

#: Columns that hold text even when every value looks like a number.
TEXT_COLUMNS = ["dataset", "selector", "evaluator", "selected", "status", "error", "device",
                "protocol", "exp_name", "git_commit", "config_hash", "versions", "machine",
                "started_at", "true_support"]

# Numbers that may be empty (a failed row, or a column added after the row was written).
_OPTIONAL_NUMBERS = ["accuracy", "balanced_accuracy", "select_seconds", "eval_seconds",
                     "n_separated", "n_tiebroken"]

_TMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def _tmp_path(path: Path) -> Path:
    # pid in the name lets a later run tell a dead writer's leftover from a live one's.
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def error_text(exc: BaseException, limit: int | None = 500, *, first_line: bool = False) -> str:
    """An exception as one line: ``"Type: message"``.

    Parameters
    ----------
    exc : BaseException
    limit : int or None, default=500
        Cut to this many characters, so a traceback-sized message cannot bloat a row's
        ``error`` column; None: no cut.
    first_line : bool, default=False
        Keep only the message's first line (to quote it inside a sentence, as the
        selector checks do); otherwise its lines are joined with spaces.
    """
    if first_line:
        lines = str(exc).strip().splitlines()
        text = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    else:
        text = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
    return text if limit is None else text[:limit]


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never a mix.

    The temporary file sits beside ``path`` and carries the writer's pid, so that a later
    run can tell a dead writer's leftover (see :func:`remove_stale_temp_files`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_csv(df: pd.DataFrame, path: Path | str) -> None:
    """Write ``df`` as CSV to ``path`` atomically (see :func:`atomic_write_text`)."""
    atomic_write_text(path, df.to_csv(index=False))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Delete temporary files left by writers that were killed (their pid is gone)."""
    removed = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for p in directory.rglob(".*.tmp"):
        m = _TMP_RE.match(p.name)
        if m and not _pid_alive(int(m["pid"])):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed


def read_rows(path: Path | str) -> pd.DataFrame:
    """Read a result CSV (merged or per cell) into rows in the fixed column order.

    This is the one reader of result files: the runner resumes from it and the report
    (:func:`bench.report.results.load_results`) builds on it.

    Parameters
    ----------
    path : path-like
        A CSV written by :class:`ResultStore`.

    Returns
    -------
    DataFrame
        The columns of :data:`COLUMNS` first (those the file lacks added as missing
        values), then any others. :data:`TEXT_COLUMNS` are strings ("" where empty)
        whatever they look like, so a git commit or config hash made of digits keeps its
        leading zeros; ``seed`` and ``k`` are integers; the optional numbers are floats
        with NaN where empty.

    Raises
    ------
    pandas.errors.EmptyDataError
        When the file has no header line (ResultStore never writes one).
    """
    df = pd.read_csv(path, dtype=dict.fromkeys(TEXT_COLUMNS, str), keep_default_na=False,
                     na_values=dict.fromkeys(_OPTIONAL_NUMBERS, [""]))
    return normalise(df)


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Put a frame into the fixed column order (extra columns kept at the end)."""
    for col in COLUMNS:
        if col not in df.columns:
            # a column added after the rows were written: text empty, as read_rows gives it
            df[col] = "" if col in TEXT_COLUMNS else pd.NA
    extra = [c for c in df.columns if c not in COLUMNS]
    df = df[COLUMNS + extra]
    for col in ("seed", "k"):
        df[col] = pd.to_numeric(df[col]).astype("int64")
    for col in ("n_separated", "n_tiebroken"):
        # Added empty to older rows above: numbers with NaN, not a column of pd.NA objects.
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df


def _upsert(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``new`` replace rows of ``old`` with the same key."""
    if old is None or old.empty:
        return normalise(new.copy()).reset_index(drop=True)
    both = pd.concat([normalise(old.copy()), normalise(new.copy())], ignore_index=True)
    both = both.drop_duplicates(subset=KEY, keep="last")
    return both.reset_index(drop=True)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))


class ResultStore:
    """Result files of one experiment (see the module docstring for the layout)."""

    def __init__(self, results_dir, exp_name: str):
        self.root = Path(results_dir)
        self.exp_name = exp_name
        self.csv_path = self.root / f"{_safe(exp_name)}.csv"
        self.cell_dir = self.root / _safe(exp_name) / "cells"
        self._lock = FileLock(str(self.root / f".{_safe(exp_name)}.lock"))

    def cell_path(self, dataset: str, selector: str) -> Path:
        return self.cell_dir / f"{_safe(dataset)}__{_safe(selector)}.csv"

    def cleanup(self) -> list[Path]:
        """Remove temporary files of killed writers; return what was removed."""
        return remove_stale_temp_files(self.root)

    def load_cell(self, dataset: str, selector: str) -> pd.DataFrame:
        """Rows of one cell: its cell file, else its rows in the merged CSV, else empty."""
        path = self.cell_path(dataset, selector)
        if path.exists():
            return read_rows(path)
        if self.csv_path.exists():
            df = read_rows(self.csv_path)
            return df[(df.dataset == dataset) & (df.selector == selector)].reset_index(drop=True)
        return normalise(pd.DataFrame(columns=COLUMNS))

    def write_cell(self, dataset: str, selector: str, rows: list[dict]) -> pd.DataFrame:
        """Upsert ``rows`` into the cell file atomically; return the cell's rows."""
        if not rows:
            return self.load_cell(dataset, selector)
        new = pd.DataFrame(rows)
        bad = set(new["status"]) - set(STATUSES)
        if bad:
            raise ValueError(f"unknown row status {sorted(bad)}; expected one of {STATUSES}")
        path = self.cell_path(dataset, selector)
        with FileLock(str(path) + ".lock"):
            merged = _upsert(self.load_cell(dataset, selector), new)
            atomic_write_csv(merged, path)
        return merged

    def merge(self) -> pd.DataFrame:
        """Rebuild ``<exp_name>.csv`` from every cell file, under the experiment lock.

        Cells that have no cell file (a merged CSV copied from elsewhere) keep their rows.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            frames = []
            have = set()
            if self.cell_dir.is_dir():
                for p in sorted(self.cell_dir.glob("*.csv")):
                    df = read_rows(p)
                    frames.append(df)
                    have.update(zip(df.dataset, df.selector, strict=True))
            if self.csv_path.exists():
                old = read_rows(self.csv_path)
                keep = [
                    (d, s) not in have for d, s in zip(old.dataset, old.selector, strict=True)
                ]
                frames.insert(0, old[keep])
            frames = [f for f in frames if not f.empty]
            if frames:
                out = pd.concat(frames, ignore_index=True)
                out = out.drop_duplicates(subset=KEY, keep="last")
                out = out.sort_values(KEY, kind="stable").reset_index(drop=True)
            else:
                out = normalise(pd.DataFrame(columns=COLUMNS))
            atomic_write_csv(out, self.csv_path)
        return out

    def read_all(self) -> pd.DataFrame:
        """The merged CSV (empty frame if there is none yet)."""
        if self.csv_path.exists():
            return read_rows(self.csv_path)
        return normalise(pd.DataFrame(columns=COLUMNS))
