"""What the Colab button opens: book/colab/<chapter>.ipynb, written by book/_ext/colab.py.

- every chapter has one, up to date with its .md and the values kept in it, with no
  MyST syntax left in its Markdown, its figure numbers and links as the built book has them;
- the Colab path itself, offline: evalib installed from a clone of this repository at
  the tag the chapters pin (pip's git+file URL, into a folder of its own), then a
  chapter's Colab notebook executed from an empty folder with a fresh home and no
  myst-nb, as in a new Colab session;
- the install cell's failure: one clear error, and nothing installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from myst_nb.core.variables import format_plain_text
from nbclient import NotebookClient

from book_paths import BOOK, CHAPTERS, CONFIG, HTML, ROOT, TOC, toc_files

sys.path.insert(0, str(BOOK / "_ext"))
import colab  # book/_ext is not a package: on sys.path above
import install_cell

pytestmark = pytest.mark.book

PAGES = toc_files(TOC)
COLAB_CHAPTERS = [md for md in CHAPTERS if f"book/{md.stem}" in PAGES]
MYST = ("{glue", "{cite", "{numref", "{doc", "{ref", "{eq", ":::", "```{")
# The chapter the Colab-path test runs: light, and it needs evalib's package data
# (the live figures' JavaScript).
LIGHT_CHAPTER = "moving_averages"


def colab_notebook(md: Path) -> nbformat.NotebookNode:
    return nbformat.read(colab.OUT / f"{md.stem}.ipynb", as_version=4)


def test_every_chapter_in_the_table_of_contents_has_a_colab_notebook():
    assert COLAB_CHAPTERS
    assert sorted(p.name for p in colab.OUT.glob("*.ipynb")) == sorted(
        f"{md.stem}.ipynb" for md in COLAB_CHAPTERS
    ), "book/colab/ should hold one notebook per chapter: run `make sync`"


@pytest.mark.parametrize("md", COLAB_CHAPTERS, ids=lambda p: p.stem)
def test_colab_markdown_has_no_myst_syntax_left(md):
    for i, cell in enumerate(colab_notebook(md).cells):
        if cell.cell_type == "markdown":
            left = [syntax for syntax in MYST if syntax in cell.source]
            assert not left, f"{md.stem}.ipynb, cell {i}: MyST {left} in\n{cell.source}"


def test_colab_notebooks_are_written_from_the_chapters_and_the_values_kept_in_them():
    # No build to fall back on: every number must be kept in the notebook itself.
    expected = colab.written(fallback=Path("/nonexistent"))
    stale = [p.name for p, text in expected.items() if not p.exists() or p.read_text() != text]
    assert not stale, (
        f"book/colab/ is out of date for {stale}: run `make sync` (or `make book`) and commit"
    )


@pytest.mark.parametrize("md", COLAB_CHAPTERS, ids=lambda p: p.stem)
def test_colab_notebook_keeps_every_code_cell_without_outputs(md):
    chapter = [c for c in nbformat.read(md.with_suffix(".ipynb"), as_version=4).cells]
    notebook = colab_notebook(md).cells
    code = [c.source for c in chapter if c.cell_type == "code"]
    colab_code = [
        re.sub(r"\A# @title [^\n]*\n", "", c.source) for c in notebook if c.cell_type == "code"
    ]
    assert colab_code == code
    for cell in notebook:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert "jupytext" not in colab_notebook(md).metadata, "a Colab notebook is not a jupytext pair"


@pytest.mark.parametrize("md", COLAB_CHAPTERS, ids=lambda p: p.stem)
def test_colab_notebook_opens_with_the_install_cell_folded_and_the_note(md):
    cells = colab_notebook(md).cells
    first = next(c for c in cells if c.cell_type == "code")
    assert first.metadata.get("cellView") == "form"
    expected = f"# @title {colab.FORM_TITLES['install']}\n{install_cell.source()}"
    assert first.source == expected.rstrip("\n")
    assert "numbers quoted in the text are those of the book's own build" in cells[0].source
    assert cells[0].source.startswith("# ")


@pytest.mark.parametrize("md", COLAB_CHAPTERS, ids=lambda p: p.stem)
def test_kept_values_are_formatted_as_myst_nb_formats_them(md):
    kept = colab_notebook(md).metadata[colab.META]["glued"]
    specs = set(re.findall(r"\{glue:text\}`[^`:]+:([^`]*)`", md.read_text())) | {""}
    for text in kept.values():
        for spec in specs:
            try:
                expected = format_plain_text(text, spec)
            except (TypeError, ValueError):
                continue  # that spec is not used on this value
            assert colab.format_plain_text(text, spec) == expected, (text, spec)


def test_conversion_of_each_myst_construct():
    chapter = colab.Chapter(colab.Book(), "book/heavy_ball", {"rate": "0.12345", "name": "'cpu'"})
    url = CONFIG["html"]["baseurl"].rstrip("/")
    assert chapter.markdown("rate {glue:text}`rate:.2f` on {glue:text}`name`") == "rate 0.12 on cpu"
    assert (
        chapter.markdown("{cite:p}`goh2017`")
        == f"([Goh, 2017]({url}/book/bibliography.html#cite-goh2017))"
    )
    assert chapter.markdown("{cite:t}`sutskever2013`").startswith("[Sutskever et al. (2013)](")
    assert chapter.markdown("{doc}`gradient_descent`") == (
        f"[Gradient descent and pathological curvature]({url}/book/gradient_descent.html)"
    )
    number = chapter.book.figures["fig-hb-regions"][1]
    assert chapter.markdown("{numref}`fig-hb-regions`") == (
        f"[Fig. {number}]({url}/book/heavy_ball.html#fig-hb-regions)"
    )
    assert chapter.markdown("`{doc}` stays code") == "`{doc}` stays code"
    solution = chapter.markdown(":::{admonition} Solution\n:class: dropdown\nIt is $x$.\n:::")
    assert solution == "<details>\n<summary>Solution</summary>\n\nIt is $x$.\n\n</details>"
    note = chapter.markdown("```{note}\nMind {glue:text}`rate:.1f`.\n```")
    assert note == "> **Note**\n>\n> Mind 0.1."
    with pytest.raises(colab.MystError, match="no glued value"):
        chapter.markdown("{glue:text}`missing:.2f`")
    with pytest.raises(colab.MystError, match="cannot write the directive"):
        chapter.markdown("```{figure} x.png\n```")


# -- against the built book ------------------------------------------------------------


def test_figure_numbers_and_anchors_are_those_of_the_built_book(build):
    book = colab.Book()
    for name, (page, number) in book.figures.items():
        html = (HTML / f"{page}.html").read_text()
        figure = re.search(rf'<figure[^>]*id="{re.escape(name)}".*?</figure>', html, re.DOTALL)
        assert figure, f"{page}.html has no figure #{name}"
        assert f'caption-number">Fig. {number} <' in figure.group(), (
            f"{name}: colab.py numbers it {number}, the built book does not"
        )


def test_citation_and_page_links_point_at_anchors_of_the_built_book(build):
    book = colab.Book()
    # The bibliography lists the works the chapters cite.
    cited = {
        key.strip()
        for md in COLAB_CHAPTERS
        for keys in re.findall(r"\{cite(?::[pt])?\}`([^`]+)`", md.read_text())
        for key in keys.split(",")
    }
    assert cited
    for key in cited:
        page, anchor = book.citation_url(key).removeprefix(book.url + "/").split("#")
        assert f'id="{anchor}"' in (HTML / page).read_text(), f"no anchor for {key}"
    for page in book.pages:
        assert (HTML / f"{page}.html").exists()


# -- the Colab path, offline -----------------------------------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, str]:
    """A clone of this repository's HEAD tagged as the chapters pin it: (clone, tag)."""
    clone = tmp_path_factory.mktemp("release") / "momentum-book"
    git = ["git", "-c", "advice.detachedHead=false"]
    subprocess.run([*git, "clone", "--quiet", str(ROOT), str(clone)], check=True)
    tag = install_cell.pinned_ref()
    subprocess.run([*git, "-C", str(clone), "tag", "--force", tag], check=True, capture_output=True)
    return clone, tag


def isolated_env(home: Path, pythonpath: list[Path]) -> dict[str, str]:
    """The environment of a fresh session: an empty home, only ``pythonpath`` added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER", "MPL"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(map(str, pythonpath))
    return env


def test_a_colab_notebook_runs_on_evalib_installed_from_the_pinned_release(release, tmp_path):
    clone, tag = release
    site, home, work, stub = (tmp_path / name for name in ("site", "home", "work", "stub"))
    for folder in (home, work, stub / "myst_nb"):
        folder.mkdir(parents=True)
    # Colab has no myst-nb: importing it fails in the kernel, as there.
    (stub / "myst_nb" / "__init__.py").write_text("raise ImportError('no myst-nb in Colab')\n")

    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(site), f"evalib @ git+file://localhost{clone}@{tag}"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert pip.returncode == 0, f"pip could not install evalib {tag}:\n{pip.stdout}{pip.stderr}"
    scripts = ("transcriptions", "loader", "ravine", "stability", "ewma", "race", "animation")
    missing = [n for n in scripts if not (site / "evalib" / "book" / "live" / f"{n}.js").exists()]
    assert not missing, f"the package data is not installed: {missing}"

    nb = colab_notebook(ROOT / "book" / f"{LIGHT_CHAPTER}.md")
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import evalib, sys\nprint(evalib.__file__)\nprint(*sys.path, sep='\\n')"
        )
    )
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    ).execute(env=isolated_env(home, [site, stub]))

    where, *path = nb.cells[-1].outputs[0]["text"].splitlines()
    assert Path(where).is_relative_to(site), f"the chapter imported evalib from {where}"
    # Nothing from the repository: its .venv (where `make` puts it, inside the checkout)
    # holds the installed dependencies, not the repository's files.
    venv = Path(sys.prefix).resolve()
    from_repository = [
        p
        for p in path
        if p
        and Path(p).resolve().is_relative_to(ROOT)
        and not Path(p).resolve().is_relative_to(venv)
    ]
    assert not from_repository, path
    glued = [
        o for c in nb.cells for o in c.get("outputs", []) if "scrapbook" in o.get("metadata", {})
    ]
    assert not glued, "without myst-nb, glue must leave nothing in the notebook"


def test_install_cell_fails_with_one_clear_error_and_installs_nothing(release, tmp_path):
    clone, tag = release
    url = CONFIG["repository"]["url"]
    source = install_cell.source()
    missing = f"git+file://localhost{clone}@v0.0.0-missing"
    cell = source.replace(f"git+{url}@{tag}", missing)
    assert missing in cell
    target, home = tmp_path / "target", tmp_path / "home"
    home.mkdir()
    env = isolated_env(home, [])
    # Wherever pip would install, it is a folder of this test: never the test environment.
    env.update(PIP_TARGET=str(target), PIP_NO_INDEX="1", PIP_NO_DEPS="1")
    # -S: no site-packages, so evalib is not importable (pip, run by the cell, still is).
    result = subprocess.run(
        [sys.executable, "-S", "-c", cell],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    error = result.stderr
    assert error.count("Traceback") == 1, error
    assert f"RuntimeError: Could not install evalib @ {missing} (pip exit code" in error
    assert "v0.0.0-missing" in error.split("pip said:")[1], "the error shows what pip said"
    assert "run this cell again" in error
    assert not target.exists() or not any(target.iterdir())


def test_colab_notebooks_are_small():
    for path in colab.OUT.glob("*.ipynb"):
        notebook = json.loads(path.read_text())
        assert path.stat().st_size < 200_000, f"{path.name}: {path.stat().st_size} bytes"
        assert all(not c.get("outputs") for c in notebook["cells"])


def test_glued_numbers_read_as_in_the_built_book(build):
    """colab.py formats each glued value as the built page shows it (same build's values)."""
    from collections import Counter
    from html import unescape

    book = colab.Book()
    for page in book.chapters:
        values = colab.glued_in_build(ROOT / "_build", page)
        ours = Counter(
            colab.format_plain_text(values[key], spec)
            for key, spec in re.findall(
                r"\{glue:text\}`([^`:]+):?([^`]*)`", (ROOT / f"{page}.md").read_text()
            )
        )
        html = (HTML / f"{page}.html").read_text()
        built = Counter(unescape(t) for t in re.findall(r'pasted-text">([^<]*)<', html))
        assert ours == built, f"{page}: {ours - built} here, {built - ours} in the built page"
