"""Colab notebooks: each chapter as Colab shows it, with no MyST syntax left.

Colab renders plain Markdown and maths; MyST's roles and directives would show as
literal text there. So the Colab button opens ``book/colab/<chapter>.ipynb``, written by
this script from the chapter's ``.md`` (the one source) with every cell kept and:

- ``{glue:text}`name:fmt``` replaced by the value of the book's build, formatted as
  myst-nb formats it; the values are kept in the notebook's metadata
  (``evalib_book.glued``), so the notebook can be written again without a build;
- ``{cite:p}``/``{cite:t}`` as author-year links to the book's bibliography page,
  ``{doc}`` and ``{numref}`` as links to the built book's pages and figures;
- admonitions as quotes, dropdowns (exercise solutions) as ``<details>``;
- each figure's caption as a Markdown line under its cell;
- cells hidden in the book as Colab form cells (titled, code folded away);
- a note under the title: the numbers in the text are those of the book's build, and
  the cells recompute them.

Usage (from the repository root):

    python book/_ext/colab.py                 # from the .md and the values kept (make sync)
    python book/_ext/colab.py --build _build  # with the values of a book build (make book)
    python book/_ext/colab.py --check         # exit 1 if a notebook is out of date

Without ``--build``, a value a chapter newly quotes is taken from ``_build`` when a
build is there; if it is nowhere, the script says so and stops.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from ast import literal_eval
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import yaml
from docutils.nodes import make_id

sys.path.insert(0, str(Path(__file__).resolve().parent))
import install_cell  # book/_ext is not a package: on sys.path above

ROOT = install_cell.ROOT
BOOK = ROOT / "book"
OUT = BOOK / "colab"
META = "evalib_book"  # the notebook metadata key of what this script keeps

NOTE = (
    "> **Reading this in Colab?** This is a chapter of the book *{title}* "
    "([{page}]({url})). The numbers quoted in the text are those of the book's own "
    "build; running the cells recomputes them in their output."
)
FORM_TITLES = {
    "install": "Install evalib, the book's companion package",
    "remove-cell": "Checks and set-up (hidden in the book)",
    "hide-cell": "Code folded in the book: double-click to show it",
    "hide-input": "Code folded in the book: double-click to show it",
}
ADMONITIONS = {
    "admonition", "attention", "caution", "danger", "error", "hint", "important", "note",
    "seealso", "tip", "warning",
}  # fmt: skip

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
# A role, or a code span (left as it is): whichever starts first.
INLINE = re.compile(
    r"\{(?P<role>[\w:-]+)\}`(?P<content>[^`]*)`|(?P<code>(?P<ticks>`+).+?(?P=ticks))"
)
TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


class MystError(ValueError):
    """MyST that this script cannot write for Colab (teach it, or change the chapter)."""


def format_plain_text(text: str, fmt_spec: str) -> str:
    """A glued ``text/plain`` value, formatted as myst-nb's ``{glue:text}`` does
    (``myst_nb.core.variables.format_plain_text``; tests/test_colab.py compares)."""
    try:
        value: Any = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if fmt_spec == "":
        return str(value)
    kind = fmt_spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, fmt_spec)


def escape(text: str) -> str:
    """Plain text as Markdown that shows it as it is."""
    return re.sub(r"([\\`*_\[\]<>$|])", r"\\\1", text)


def latex_text(latex: str) -> str:
    from pybtex.richtext import Text

    return Text.from_latex(latex).render_as("text")


# -- the book: pages, titles, figures, references ---------------------------------------


def toc_entries(node: Any) -> list[Any]:
    """The table of contents in order: a page's path, or ("part", caption)."""
    found: list[Any] = []
    if isinstance(node, dict):
        if "caption" in node:
            found.append(("part", node["caption"]))
        for key, value in node.items():
            if key in ("file", "root"):
                found.append(value)
            elif key != "caption":
                found += toc_entries(value)
    elif isinstance(node, list):
        for item in node:
            found += toc_entries(item)
    return found


def is_chapter(md: Path) -> bool:
    """A chapter is a jupytext MyST notebook; plain pages (the bibliography) are not."""
    return "format_name: myst" in md.read_text().split("\n---", 1)[0]


@dataclass
class Book:
    """What the conversion needs to know about the whole book."""

    root: Path = ROOT

    @cached_property
    def config(self) -> dict:
        return yaml.safe_load((self.root / "_config.yml").read_text())

    @cached_property
    def url(self) -> str:
        """The built book's address: _config.yml's html.baseurl."""
        return self.config["html"]["baseurl"].rstrip("/")

    @cached_property
    def entries(self) -> list[Any]:
        return toc_entries(yaml.safe_load((self.root / "_toc.yml").read_text()))

    @cached_property
    def pages(self) -> list[str]:
        """Every page of the table of contents, as "book/name"."""
        return [entry for entry in self.entries if isinstance(entry, str)]

    @cached_property
    def chapters(self) -> list[str]:
        """The pages that are notebooks, which get a Colab notebook."""
        return [page for page in self.pages if is_chapter(self.root / f"{page}.md")]

    def page_url(self, page: str, anchor: str = "") -> str:
        return f"{self.url}/{page}.html" + (f"#{anchor}" if anchor else "")

    def title(self, page: str) -> str:
        """A page's title: its first heading, as Sphinx takes it."""
        for line in (self.root / f"{page}.md").read_text().splitlines():
            if line.startswith("# "):
                return line[2:].strip()
        raise MystError(f"{page}.md has no title (a first-level heading)")

    def cells(self, page: str) -> list[Any]:
        """A chapter's cells, read once."""
        if page not in self._cells:
            self._cells[page] = jupytext.read(self.root / f"{page}.md").cells
        return self._cells[page]

    @cached_property
    def _cells(self) -> dict[str, list[Any]]:
        return {}

    @cached_property
    def numbered(self) -> dict[tuple[str, int], tuple[int, str]]:
        """(page, cell index) → (figure number, figure name) of each captioned figure.

        Sphinx numbers captioned figures through the whole book in the order of the
        table of contents; tests/test_colab.py checks the numbers against the built HTML.
        """
        found, number = {}, 0
        for page in self.chapters:
            for index, cell in enumerate(self.cells(page)):
                figure = cell.metadata.get("mystnb", {}).get("figure", {})
                if cell.cell_type == "code" and "caption" in figure:
                    number += 1
                    found[page, index] = (number, figure.get("name", ""))
        return found

    @cached_property
    def figures(self) -> dict[str, tuple[str, int]]:
        """Figure name → (page, number)."""
        return {name: (page, number) for (page, _), (number, name) in self.numbered.items() if name}

    @cached_property
    def references(self) -> dict[str, tuple[str, str]]:
        """Citation key → (authors as cited, year), from the book's .bib files."""
        from pybtex.database import parse_file

        found = {}
        for bib in self.config.get("bibtex_bibfiles", []):
            for key, entry in parse_file(str(self.root / bib)).entries.items():
                people = entry.persons.get("author") or entry.persons.get("editor") or []
                names = [latex_text(" ".join(p.prelast_names + p.last_names)) for p in people]
                if len(names) >= 3 or "others" in names:
                    authors = f"{names[0]} et al."
                elif len(names) == 2:
                    authors = f"{names[0]} and {names[1]}"
                else:
                    authors = names[0] if names else key
                found[key] = (authors, entry.fields.get("year", "n.d."))
        return found

    @cached_property
    def bibliography(self) -> str:
        for page in self.pages:
            if "```{bibliography}" in (self.root / f"{page}.md").read_text():
                return page
        raise MystError("no page of the table of contents holds the {bibliography}")

    def citation_url(self, key: str) -> str:
        """The entry's anchor on the bibliography page: _config.yml's bibtex_cite_id."""
        template = self.config["sphinx"]["config"]["bibtex_cite_id"]
        return self.page_url(self.bibliography, make_id(template.format(key=key)))


# -- MyST to Markdown -------------------------------------------------------------------


@dataclass
class Chapter:
    """One chapter's conversion: the book, the page, and the glued values it quotes."""

    book: Book
    page: str
    glued: dict[str, str]

    def role(self, name: str, content: str) -> str:
        if name in ("glue", "glue:", "glue:any", "glue:text"):
            key, _, spec = content.partition(":") if name == "glue:text" else (content, "", "")
            if key not in self.glued:
                raise MystError(f"{self.page}: no glued value for {key!r}")
            text = self.glued[key]
            return escape(format_plain_text(text, spec) if name == "glue:text" else text)
        if name in ("cite", "cite:p", "cite:t"):
            return self.cite(content, textual=name == "cite:t")
        if name == "doc":
            text, target = titled(content)
            page = str(Path(self.page).parent / target)
            if page not in self.book.pages:
                raise MystError(f"{self.page}: {{doc}}`{content}` names no page of the book")
            return f"[{text or self.book.title(page)}]({self.book.page_url(page)})"
        if name == "numref":
            text, target = titled(content)
            if target not in self.book.figures:
                raise MystError(f"{self.page}: {{numref}}`{content}` names no figure")
            page, number = self.book.figures[target]
            label = (text or "Fig. %s").replace("%s", str(number)).replace("{number}", str(number))
            return f"[{label}]({self.book.page_url(page, target)})"
        if name == "math":
            return f"${content}$"
        raise MystError(f"{self.page}: colab.py cannot write the role {{{name}}} for Colab")

    def cite(self, keys: str, textual: bool) -> str:
        links = []
        for key in (k.strip() for k in keys.split(",")):
            if key not in self.book.references:
                raise MystError(f"{self.page}: no reference {key!r} in the .bib files")
            authors, year = self.book.references[key]
            text = f"{authors} ({year})" if textual else f"{authors}, {year}"
            links.append(f"[{text}]({self.book.citation_url(key)})")
        return "; ".join(links) if textual else f"({'; '.join(links)})"

    def inline(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            if match.group("code"):
                return match.group("code")
            return self.role(match.group("role"), match.group("content"))

        return INLINE.sub(replace, text)

    def markdown(self, text: str) -> str:
        """A Markdown cell's MyST as Markdown that Colab renders."""
        lines, out, i = text.split("\n"), [], 0
        while i < len(lines):
            line = lines[i]
            fence = FENCE.match(line)
            if fence:
                end = closing(lines, i)
                if fence.group("fence")[0] == ":" or fence.group("info").startswith("{"):
                    out.append(self.directive(fence, lines[i + 1 : end]))
                else:  # a code block: as it is
                    out.extend(lines[i : end + 1])
                i = end + 1
                continue
            if re.fullmatch(r"\(([\w-]+)\)=\s*", line):  # a MyST target: an HTML anchor
                out.append(f'<a id="{line.strip()[1:-2]}"></a>')
            elif not line.startswith("%"):  # % starts a MyST comment
                out.append(self.inline(line))
            i += 1
        return "\n".join(out)

    def directive(self, fence: re.Match, body: list[str]) -> str:
        match = re.fullmatch(
            r"\{(?P<name>[\w:-]+)\}\s*(?P<argument>.*)", fence.group("info").strip()
        )
        if match is None:
            raise MystError(f"{self.page}: a fence without a directive: {fence.group()!r}")
        name, argument = match.group("name"), match.group("argument").strip()
        options, content = directive_options(body)
        if name in ADMONITIONS:
            title = argument if name == "admonition" else name.capitalize()
            inner = self.markdown("\n".join(content)).strip("\n")
            if "dropdown" in str(options.get("class", "")).split():
                return (
                    f"<details>\n<summary>{self.inline(title)}</summary>\n\n{inner}\n\n</details>"
                )
            quoted = [f"> {line}" if line else ">" for line in inner.split("\n")]
            return "\n".join([f"> **{self.inline(title)}**", ">", *quoted])
        if name == "math":
            return "$$\n" + "\n".join(content).strip("\n") + "\n$$"
        if name == "tableofcontents":
            return self.contents()
        raise MystError(f"{self.page}: colab.py cannot write the directive {{{name}}} for Colab")

    def contents(self) -> str:
        """The table of contents, as links to the book's pages."""
        out = []
        for entry in self.book.entries:
            if isinstance(entry, tuple):
                out.append(f"\n**{entry[1]}**\n")
            elif entry != self.page:
                out.append(f"- [{self.book.title(entry)}]({self.book.page_url(entry)})")
        return "\n".join(out).strip("\n")


def titled(content: str) -> tuple[str, str]:
    """A reference's explicit text and target (``text <target>``), or ("", target)."""
    match = TITLED.fullmatch(content.strip())
    return (match.group("text"), match.group("target")) if match else ("", content.strip())


def closing(lines: list[str], start: int) -> int:
    """The index of the line that closes the fence opened at ``lines[start]``."""
    fence = FENCE.match(lines[start])
    assert fence is not None
    char, length = fence.group("fence")[0], len(fence.group("fence"))
    literal = char != ":" and not fence.group("info").startswith("{")
    i = start + 1
    while i < len(lines):
        inner = FENCE.match(lines[i])
        closes = inner and inner.group("fence")[0] == char and len(inner.group("fence")) >= length
        if closes and not inner.group("info").strip():
            return i
        if inner and not literal and inner.group("info").strip():
            i = closing(lines, i)  # a nested block, closed by its own fence
        i += 1
    raise MystError(f"a fence that never closes: {lines[start]!r}")


def directive_options(body: list[str]) -> tuple[dict, list[str]]:
    """A directive's options (``:key: value`` lines or a YAML block) and its content."""
    if body and body[0].strip() == "---":
        end = body.index("---", 1)
        return yaml.safe_load("\n".join(body[1:end])) or {}, body[end + 1 :]
    options, i = {}, 0
    while i < len(body) and re.match(r"^:[\w-]+:", body[i]):
        key, _, value = body[i][1:].partition(":")
        options[key] = value.strip()
        i += 1
    return options, body[i:]


# -- one notebook -----------------------------------------------------------------------


def glued_in_build(build: Path, page: str) -> dict[str, str]:
    """The text/plain value of everything a chapter glued, from a book build."""
    path = build / "jupyter_execute" / f"{page}.glue.json"
    if not path.exists():
        return {}
    return {
        key: output["data"]["text/plain"]
        for key, output in json.loads(path.read_text()).items()
        if "text/plain" in output.get("data", {})
    }


def glued_kept(page: str) -> dict[str, str]:
    """The values kept in the chapter's Colab notebook, if it exists."""
    path = OUT / f"{Path(page).name}.ipynb"
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text())["metadata"].get(META, {}).get("glued", {}))


def quoted_keys(text: str) -> list[str]:
    """The glue keys a chapter's prose (and captions) quote, in order."""
    keys = []
    for match in INLINE.finditer(text):
        if match.group("role") and match.group("role").startswith("glue"):
            key = (
                match.group("content").split(":")[0]
                if match.group("role") == "glue:text"
                else match.group("content")
            )
            if key not in keys:
                keys.append(key)
    return keys


def glued_values(page: str, build: Path | None, fallback: Path) -> dict[str, str]:
    """The values a chapter quotes: from ``build`` when given, else those kept in its
    notebook, else (for a newly quoted value) from the ``fallback`` build."""
    wanted = quoted_keys((ROOT / f"{page}.md").read_text())
    sources = (
        [glued_in_build(build, page)]
        if build
        else [glued_kept(page), glued_in_build(fallback, page)]
    )
    values, missing = {}, []
    for key in wanted:
        found = next((source[key] for source in sources if key in source), None)
        if found is None:
            missing.append(key)
        else:
            values[key] = found
    if missing:
        where = f"the build in {build}" if build else "book/colab/ or _build"
        raise MystError(
            f"{page}.md quotes {missing}, which {where} does not hold: build the book "
            "(`make book`), or run `python book/_ext/colab.py --build _build` after a build"
        )
    return values


def form(cell: Any, title: str) -> None:
    """A Colab form cell: its title shown, its code folded away (output still shown)."""
    if not cell.source.startswith("%%"):  # a cell magic must stay the first line
        cell.source = f"# @title {title}\n{cell.source}"
        cell.metadata["cellView"] = "form"


def notebook(book: Book, page: str, glued: dict[str, str]) -> nbformat.NotebookNode:
    """The Colab notebook of one chapter."""
    chapter = Chapter(book, page, glued)
    cells, first_code, noted = [], True, False
    for index, cell in enumerate(book.cells(page)):
        cell = nbformat.from_dict(cell)
        cell.metadata.pop("jupytext", None)
        if cell.cell_type == "markdown":
            cell.source = chapter.markdown(cell.source)
            if not noted:
                cell.source = with_note(book, page, cell.source)
                noted = True
            cells.append(cell)
            continue
        if cell.cell_type == "code":
            tags = cell.metadata.get("tags", [])
            if first_code:
                form(cell, FORM_TITLES["install"])
            else:
                for tag in ("remove-cell", "hide-cell", "hide-input"):
                    if tag in tags:
                        form(cell, FORM_TITLES[tag])
                        break
            first_code = False
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
        if cell.cell_type == "code" and caption:
            number, _ = book.numbered[page, index]
            text = chapter.inline(" ".join(str(caption).split()))
            cells.append(nbformat.v4.new_markdown_cell(f"**Fig. {number}.** {text}"))
    if not noted:
        raise MystError(f"{page}.md has no Markdown cell for the title")

    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        if cell.cell_type == "markdown":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    nb.metadata = nbformat.from_dict(
        {
            "colab": {"name": f"{Path(page).name}.ipynb", "provenance": []},
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            META: {
                "source": f"{page}.md",
                "note": "Written by book/_ext/colab.py from the source; edit the .md, not this.",
                "glued": dict(sorted(glued.items())),
            },
        }
    )
    nbformat.validate(nb)
    return nb


def with_note(book: Book, page: str, text: str) -> str:
    """The first Markdown cell with the Colab note under its title."""
    note = NOTE.format(
        title=escape(book.config["title"]),
        page="this chapter online",
        url=book.page_url(page),
    )
    lines = text.split("\n")
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
    return "\n".join(lines[:at] + ["", note, ""] + lines[at:]).strip("\n")


def text_of(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def written(build: Path | None = None, fallback: Path = ROOT / "_build") -> dict[Path, str]:
    """Every chapter's Colab notebook: path → its text."""
    book = Book()
    return {
        OUT / f"{Path(page).name}.ipynb": text_of(
            notebook(book, page, glued_values(page, build, fallback))
        )
        for page in book.chapters
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, help="take the glued values of this book build")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook is out of date"
    )
    args = parser.parse_args(argv)
    try:
        notebooks = written(args.build)
    except MystError as error:
        print(f"colab.py: {error}", file=sys.stderr)
        return 1
    stale = [p for p, text in notebooks.items() if not p.exists() or p.read_text() != text]
    extra = sorted(set(OUT.glob("*.ipynb")) - set(notebooks))
    if args.check:
        if stale or extra:
            names = [str(p.relative_to(ROOT)) for p in stale + extra]
            print(f"out of date: {', '.join(names)}; run `make sync`", file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(notebooks[path])
    for path in extra:  # a chapter that left the table of contents
        path.unlink()
    if stale or extra:
        print(f"Colab notebooks written: {', '.join(p.name for p in stale) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
