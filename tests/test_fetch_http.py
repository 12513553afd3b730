"""The real download path against an HTTP server on 127.0.0.1 serving generated files."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading

import pytest

from datasets import fetch as fetch_mod
from datasets.fetch import ChecksumError, MissingDataError, fetch
from datasets.sources import Source

PAYLOAD = b"label,x\n" + b"1,0.5\n" * 1000


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "good.csv").write_bytes(PAYLOAD)
    (root / "good.csv.gz").write_bytes(gzip.compress(PAYLOAD, mtime=0))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def registry(monkeypatch, tmp_path):
    monkeypatch.setenv("ENTRYPRUNE_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("ENTRYPRUNE_DATA_MIRROR", raising=False)
    entries = {}
    monkeypatch.setattr(fetch_mod, "SOURCES", entries)
    return entries


def _sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def _leftovers(tmp_path):
    return [p for p in (tmp_path / "data").rglob("*") if p.is_file() and p.suffix != ".lock"]


def test_download_verify_rename(server, registry, tmp_path):
    registry["t/good.csv"] = Source("t/good.csv", (f"{server}/good.csv",), _sha(PAYLOAD))
    path = fetch("t/good.csv")
    assert path == tmp_path / "data" / "t" / "good.csv" and path.read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == [path]
    assert fetch("t/good.csv") == path  # second call: found in the data directory


def test_gzip_content_digest(server, registry):
    registry["t/good.csv.gz"] = Source("t/good.csv.gz", (f"{server}/good.csv.gz",),
                                       _sha(PAYLOAD), content=True)
    assert gzip.decompress(fetch("t/good.csv.gz").read_bytes()) == PAYLOAD


def test_checksum_mismatch_leaves_nothing(server, registry, tmp_path):
    registry["t/good.csv"] = Source("t/good.csv", (f"{server}/good.csv",), _sha(b"other"))
    with pytest.raises(ChecksumError, match="expected"):
        fetch("t/good.csv")
    assert _leftovers(tmp_path) == []


def test_404_then_next_url(server, registry, tmp_path):
    registry["t/good.csv"] = Source("t/good.csv", (f"{server}/missing.csv",
                                                   f"{server}/good.csv"), _sha(PAYLOAD))
    assert fetch("t/good.csv").read_bytes() == PAYLOAD
    registry["t/none.csv"] = Source("t/none.csv", (f"{server}/missing.csv",), _sha(PAYLOAD))
    with pytest.raises(MissingDataError, match="404"):
        fetch("t/none.csv")
    assert not (tmp_path / "data" / "t" / "none.csv").exists()


def test_connection_refused(registry, tmp_path):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry["t/x.csv"] = Source("t/x.csv", (f"http://127.0.0.1:{port}/x.csv",), _sha(PAYLOAD))
    with pytest.raises(MissingDataError) as info:
        fetch("t/x.csv", timeout=5)
    msg = str(info.value)
    assert "refused" in msg.lower() and "t/x.csv" in msg and _sha(PAYLOAD) in msg
    assert _leftovers(tmp_path) == []


def test_mirror_is_read_in_place_and_verified(registry, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "t").mkdir(parents=True)
    (mirror / "t" / "m.csv").write_bytes(PAYLOAD)
    monkeypatch.setenv("ENTRYPRUNE_DATA_MIRROR", str(mirror))
    registry["t/m.csv"] = Source("t/m.csv", (), _sha(PAYLOAD))
    assert fetch("t/m.csv") == mirror / "t" / "m.csv"
    registry["t/m.csv"] = Source("t/m.csv", (), _sha(b"tampered"))
    fetch_mod._VERIFIED.clear()
    with pytest.raises(ChecksumError):
        fetch("t/m.csv")


def test_concurrent_first_loads_download_once(server, registry, tmp_path):
    registry["t/good.csv"] = Source("t/good.csv", (f"{server}/good.csv",), _sha(PAYLOAD))
    calls = []
    real = fetch_mod.download

    def counting(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    fetch_mod.download = counting
    try:
        results = []
        threads = [threading.Thread(target=lambda: results.append(fetch("t/good.csv")))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        fetch_mod.download = real
    assert len(results) == 4 and len(set(results)) == 1 and len(calls) == 1
