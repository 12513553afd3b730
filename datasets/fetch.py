"""Finding data files: the data directory, then a local mirror, then the network.

Lookup order for a registered file (``datasets.sources.SOURCES``):

1. the data directory, ``$ENTRYPRUNE_DATA`` (default ``~/.cache/entryprune-bench``);
2. a local mirror directory, ``$ENTRYPRUNE_DATA_MIRROR`` (read in place, never copied);
3. the network: each URL in turn, into a temporary file in the data directory, verified,
   then renamed into place under a file lock, so concurrent first loads of the same file
   neither corrupt it nor download it twice, and a failed or mismatching download leaves
   nothing behind.

Files found in 1 or 2 are verified too (once per process and path).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
import uuid
import warnings
from pathlib import Path

from filelock import FileLock

from datasets.sources import SOURCES, Source

__all__ = [
    "ChecksumError",
    "MissingDataError",
    "data_dir",
    "digest_of",
    "download",
    "fetch",
    "mirror_dir",
]

_VERIFIED: set[tuple[str, float]] = set()


class MissingDataError(FileNotFoundError):
    """A data file is in none of the places searched and could not be downloaded."""


class ChecksumError(OSError):
    """A file's digest differs from the registered one."""


def data_dir() -> Path:
    return Path(os.environ.get("ENTRYPRUNE_DATA") or
                Path.home() / ".cache" / "entryprune-bench").expanduser()


def mirror_dir() -> Path | None:
    m = os.environ.get("ENTRYPRUNE_DATA_MIRROR")
    return Path(m).expanduser() if m else None


def digest_of(path: Path, algo: str = "sha256", content: bool = False) -> str:
    """Hex digest of a file, or of its decompressed content for gzip files."""
    h = hashlib.new(algo)
    opener = gzip.open if content else open
    try:
        with opener(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise ChecksumError(f"{path}: cannot be read to check its digest ({exc})") from exc
    return h.hexdigest()


def verify(path: Path, source: Source) -> None:
    """Raise :class:`ChecksumError` if ``path`` does not match ``source.digest``."""
    if source.digest is None:
        return
    key = (str(path), path.stat().st_mtime)
    if key in _VERIFIED:
        return
    algo, expected = source.digest.split(":", 1)
    got = digest_of(path, algo, source.content)
    if got != expected:
        what = "decompressed content" if source.content else "file"
        raise ChecksumError(
            f"{path}: {algo} of the {what} is {got}, expected {expected} "
            f"(registered for {source.path!r} in datasets/sources.py)")
    _VERIFIED.add(key)


def _expected_message(source: Source, searched: list[str], errors: list[str]) -> str:
    digest = source.digest or "not pinned (no published checksum was found)"
    lines = [f"data file {source.path!r} not found.",
             f"  expected checksum: {digest}" + (" of the decompressed content"
                                                 if source.content else ""),
             "  searched: " + "; ".join(searched),
             "  put the file at the first of those paths, set ENTRYPRUNE_DATA_MIRROR to a "
             "folder holding it, or run `make data` with network access."]
    if source.note:
        lines.insert(2, f"  note: {source.note}")
    if errors:
        lines.append("  download attempts: " + "; ".join(errors))
    return "\n".join(lines)


def download(url: str, dest: Path, source: Source, *, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` via a temporary file; verify; rename into place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
            shutil.copyfileobj(resp, out, 1 << 20)
        verify(tmp, source)
        if source.digest is None:
            warnings.warn(f"{source.path}: downloaded without a registered checksum; its "
                          f"sha256 is {digest_of(tmp)}", stacklevel=2)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dest


def fetch(relpath: str, *, allow_download: bool = True, timeout: float = 60.0) -> Path:
    """Path of a verified copy of the registered file ``relpath`` (see module docstring)."""
    if relpath not in SOURCES:
        raise KeyError(f"{relpath!r} is not a registered data file (datasets/sources.py)")
    source = SOURCES[relpath]
    local = data_dir() / relpath
    searched = [str(local)]
    if local.exists():
        verify(local, source)
        return local
    mirror = mirror_dir()
    if mirror is not None:
        candidate = mirror / relpath
        searched.append(str(candidate))
        if candidate.exists():
            verify(candidate, source)
            return candidate
    else:
        searched.append("(no mirror: ENTRYPRUNE_DATA_MIRROR is not set)")
    errors: list[str] = []
    if allow_download:
        local.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(local) + ".lock"):
            if local.exists():  # another process finished it while we waited
                verify(local, source)
                return local
            for url in source.urls:
                try:
                    return download(url, local, source, timeout=timeout)
                except ChecksumError:
                    raise
                except (urllib.error.URLError, OSError, TimeoutError) as exc:
                    errors.append(f"{url}: {exc}")
    searched.extend(source.urls)
    raise MissingDataError(_expected_message(source, searched, errors))
