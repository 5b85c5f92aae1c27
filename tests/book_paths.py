"""Where the book lives, for the tests that check it: the repository root, the built
HTML, the book's configuration and table of contents, and its chapters.

A plain module (not a test module, not a conftest), so that any test can import it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def is_chapter(md: Path) -> bool:
    """A chapter is a jupytext MyST notebook; plain pages (the bibliography) are not."""
    return "format_name: myst" in md.read_text().split("\n---", 1)[0]


CHAPTERS = sorted(md for md in BOOK.glob("*.md") if is_chapter(md))


def toc_files(node) -> list[str]:
    """Every `file:` entry of the table of contents, in order."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root"):
                found.append(value)
            else:
                found += toc_files(value)
    elif isinstance(node, list):
        for item in node:
            found += toc_files(item)
    return found
