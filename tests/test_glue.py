"""evalib.book.glue: myst-nb's glue where myst-nb is installed, silence where it is not."""

from __future__ import annotations

import sys

import nbformat
import pytest
from myst_nb.core.variables import format_plain_text
from myst_nb.ext.glue import extract_glue_data_cell
from nbclient import NotebookClient

from evalib.book.glue import glue


def run_in_kernel(source: str) -> nbformat.NotebookNode:
    """One code cell executed in a fresh kernel; the executed cell."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return nb.cells[0]


def test_with_myst_nb_the_cell_holds_what_the_book_build_reads():
    cell = run_in_kernel(
        "from evalib.book.glue import glue\n"
        "glue('rate', 0.123456)\n"
        "glue('steps', 42, display=False)\n"
        "glue('shown', 2.5, display=True)\n"
    )
    glued = dict(extract_glue_data_cell(cell))
    assert set(glued) == {"rate", "steps", "shown"}
    assert format_plain_text(glued["rate"].data["text/plain"], ".3f") == "0.123"
    assert format_plain_text(glued["steps"].data["text/plain"], "d") == "42"
    # display=True leaves the value visible in the cell, as myst_nb.glue does.
    visible = [o for o in cell.outputs if "text/plain" in o.get("data", {})]
    assert [o["data"]["text/plain"] for o in visible] == ["2.5"]


@pytest.fixture
def without_myst_nb(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # `import myst_nb` raises ImportError


def test_without_myst_nb_glue_shows_nothing(without_myst_nb, capsys):
    glue("rate", 0.5)
    glue("rate", 0.5, display=False)
    assert capsys.readouterr().out == ""


def test_without_myst_nb_display_shows_the_value(without_myst_nb, capsys):
    glue("rate", 0.5, display=True)
    assert capsys.readouterr().out.strip() == "0.5"


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        (3, TypeError, "name must be a str"),
        ("", ValueError, "name must be"),
        ("rate:.3f", ValueError, "name must be"),
        ("two words", ValueError, "name must be"),
    ],
)
def test_bad_names_are_refused_before_anything_is_stored(name, error, match):
    with pytest.raises(error, match=match):
        glue(name, 1.0)


def test_display_must_be_a_bool():
    with pytest.raises(TypeError, match="display must be a bool"):
        glue("rate", 1.0, display="yes")
