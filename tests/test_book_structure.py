"""The book's sources: chapter pairs, table of contents, install cells, device use."""

from __future__ import annotations

import re
import sys

import jupytext
import nbformat
import pytest

from book_paths import BOOK, CHAPTERS, CONFIG, ROOT, TOC, toc_files

sys.path.insert(0, str(BOOK / "_ext"))
import install_cell  # book/_ext is not a package: on sys.path above

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PAGES = sorted(BOOK.glob("*.md"))  # chapters and plain pages (the bibliography)

# A check of the book, not of evalib: `pytest -m "not book"` leaves it out.
pytestmark = pytest.mark.book


def cells(notebook) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (cell.cell_type, cell.source.strip(), tuple(cell.metadata.get("tags", ())))
        for cell in notebook.cells
    ]


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2, "book/ should hold the preface and at least one chapter"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_is_in_the_table_of_contents(page):
    assert f"book/{page.stem}" in toc_files(TOC), f"{page} is missing from _toc.yml"


@pytest.mark.parametrize("entry", toc_files(TOC))
def test_every_toc_entry_exists(entry):
    assert (ROOT / f"{entry}.md").exists(), f"_toc.yml lists {entry}, which has no .md file"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_chapter_and_notebook_are_in_sync(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{md.name} has no paired notebook: run `make sync`"
    assert cells(jupytext.read(md)) == cells(jupytext.read(ipynb)), (
        f"{md.name} and {ipynb.name} differ: run `make sync` and commit both"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(md):
    notebook = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{md.with_suffix('.ipynb').name} carries outputs: strip them"
            )
    assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_first_cell_installs_evalib_from_the_configured_repository(md):
    first = next(cell for cell in jupytext.read(md).cells if cell.cell_type == "code")
    url = CONFIG["repository"]["url"]
    assert "remove-cell" in first.metadata.get("tags", ()), "the install cell is hidden in the HTML"
    assert first.source.strip() == install_cell.source().strip(), (
        f"{md.name}: the install cell is written by book/_ext/install_cell.py: run `make sync`"
    )
    tag = f"v{PYPROJECT['project']['version']}"
    assert f'"evalib @ git+{url}@{tag}"' in first.source, (
        f"{md.name}: the install cell must install evalib {tag} from {url} "
        "(repository.url in _config.yml, version in pyproject.toml), so the chapter "
        "and the package it runs on come from one release"
    )
    pins = re.findall(r"evalib @ git\+\S*?@([^\s\"']+)", first.source)
    assert pins == [tag], f"{md.name}: the install cell names {pins}, expected exactly [{tag!r}]"
    assert "%pip" not in first.source and "myst" not in first.source, "evalib alone, no magic"


def test_the_pinned_release_is_the_version_of_pyproject():
    assert install_cell.pinned_ref() == f"v{PYPROJECT['project']['version']}"
    assert f'@{install_cell.pinned_ref()}"' in install_cell.source()


def test_chapters_glue_through_evalib_not_myst_nb():
    # Colab has no myst-nb: evalib.book.glue stores values only where myst-nb is.
    for md in CHAPTERS:
        assert "myst_nb" not in md.read_text(), (
            f"{md.name}: use `from evalib.book.glue import glue`"
        )


@pytest.mark.parametrize(
    "path", CHAPTERS + sorted((ROOT / "evalib").glob("*.py")), ids=lambda p: p.name
)
def test_code_never_hard_codes_cuda(path):
    assert not re.search(r"\.cuda\(\)", path.read_text()), (
        f"{path.name}: use evalib.book.runtime.device()"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_chapters_that_use_torch_set_its_threads_through_evalib(md):
    # Two spinning OpenMP threads on a shared 2-core machine made a chapter 3-5x slower;
    # evalib.book.runtime.set_threads applies the measured policy however the chapter runs.
    source = md.read_text()
    if re.search(r"^import torch$", source, re.MULTILINE):
        assert "set_threads(" in source, (
            f"{md.name}: call evalib.book.runtime.set_threads() in the imports cell"
        )
        assert "torch.set_num_threads" not in source, (
            f"{md.name}: use evalib.book.runtime.set_threads"
        )


def test_evalib_reports_the_version_of_pyproject():
    import evalib

    assert evalib.__version__ == PYPROJECT["project"]["version"], (
        "the installed evalib is stale: reinstall with `pip install -e .` (make does it)"
    )
