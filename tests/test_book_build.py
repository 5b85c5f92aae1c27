"""Build the HTML book as readers get it, with warnings as errors, and check the pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from book_paths import CHAPTERS, CONFIG, HTML, ROOT, TOC

# A check of the book, not of evalib: `pytest -m "not book"` leaves it out.
pytestmark = pytest.mark.book


def page(md: Path) -> str:
    return (HTML / "book" / f"{md.stem}.html").read_text()


def test_build_has_no_warnings(build):
    # Sphinx reports "path:line: WARNING: ..."; the kernel's own "WARNING |" log lines are not warnings of the book.
    warnings = [
        line for line in build.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL):", line)
    ]
    assert not warnings, "\n".join(warnings)
    assert (HTML / "index.html").exists()


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_colab_button_opens_the_colab_notebook(build, md):
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    expected = (
        f"https://colab.research.google.com/github/{repo}/blob/{branch}/book/colab/{md.stem}.ipynb"
    )
    assert expected in page(md), f"{md.stem}.html has no Colab link to {expected}"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_glued_values_are_rendered_and_the_install_cell_is_hidden(build, md):
    html = page(md)
    assert "{glue" not in html, f"{md.stem}.html shows an unrendered glue role"
    assert "git+" not in html, f"{md.stem}.html shows the Colab install cell"


def test_moving_averages_page_shows_its_figures_and_numbers(build):
    html = page(ROOT / "book" / "moving_averages.md")
    figures = re.findall(r'<figure[^>]*id="fig-[\w-]+"', html)
    assert len(figures) >= 5, f"expected the chapter's captioned figures, found {len(figures)}"
    # The glued effective window of beta = 0.9 is printed in the prose.
    assert re.search(r"effective windows are\s*<span[^>]*>\s*2", html)


def test_toc_captions_are_in_the_navigation(build):
    index = (HTML / "book" / "preface.html").read_text()
    for part in TOC["parts"]:
        assert part["caption"] in index
