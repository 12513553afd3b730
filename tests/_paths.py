"""Paths of the checkout that the tests read (configs are composed by ``bench.factory``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The plug-in guide, whose files and commands the tests run as written.
PLUGINS_DOC = ROOT / "docs" / "plugins.md"
