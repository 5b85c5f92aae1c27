"""Sphinx extension: what the built pages need beyond Jupyter Book's defaults.

Figures computed by the chapters get their caption as alt text, so a screen reader
says what the figure shows rather than its file name.

The pages work without internet. MathJax, which a Jupyter Book page normally takes
from a CDN, is served from the book's own ``_static/mathjax`` folder, copied from the
``django-static-mathjax`` wheel (a plain copy of MathJax's ``es5`` build);
``_config.yml`` points ``mathjax_path`` there.

The live figures of :mod:`evalib.book.live` need BokehJS. It is copied from the installed
bokeh package into ``_static/bokeh``, and a page that shows a live figure names that
folder in ``<meta name="evalib-bokeh" content="...">``. Nothing is added to the page's
``<head>``: each figure's loader fetches BokehJS from there, once per page and only when
the first figure comes near the viewport, so no script blocks the first paint (in
Jupyter and Colab, where the tag is absent, it comes from Bokeh's CDN).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

# What the tex-mml-chtml component loads at run time: fonts, TeX extensions loaded on
# demand, the menu and accessibility code; English speech rules only.
MATHJAX_PARTS = (
    "tex-mml-chtml.js",
    "input",
    "output/chtml",
    "a11y",
    "ui",
    "adaptors",
    "sre/mathmaps/base.json",
    "sre/mathmaps/en.json",
)


def mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax wheel

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def copy_mathjax(outdir: Path) -> None:
    source, target = mathjax_source(), outdir / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def copy_bokeh(outdir: Path) -> None:
    from evalib.book.live import bokeh_js_files

    target = outdir / "_static" / "bokeh"
    target.mkdir(parents=True, exist_ok=True)
    for source in bokeh_js_files():
        shutil.copy2(source, target / source.name)


def finish(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        outdir = Path(app.outdir)
        copy_mathjax(outdir)
        copy_bokeh(outdir)


def name_bokeh_where_needed(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """A page that shows a live figure tells the figures' loader where BokehJS is: the
    ``_static/bokeh/`` folder, relative to the page (``<meta name="evalib-bokeh">``)."""
    from evalib.book.live import CSS_CLASS
    from evalib.book.live.base import BOKEH_META

    if f'class="{CSS_CLASS}"' in context.get("body", ""):
        folder = context["pathto"]("_static/bokeh/", 1)
        tag = f'<meta name="{BOKEH_META}" content="{folder}" />\n'
        context["metatags"] = context.get("metatags", "") + tag


def drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """sphinx-thebe registers its inline configuration script twice, and a page that
    declares the same `const` twice logs a JavaScript error; keep the first of each."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # The same inline script is registered once with filename None and once with "".
        key = (
            getattr(script, "filename", script) or "",
            tuple(sorted(getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def caption_as_alt_text(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give each captioned figure's image its caption as alt text (when it has none)."""
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        if not captions:
            continue
        text = " ".join(captions[0].astext().split())
        for image in figure.findall(nodes.image):
            if not image.get("alt") or image["alt"] == image.get("uri"):
                image["alt"] = text


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("doctree-resolved", caption_as_alt_text)
    app.connect("html-page-context", name_bokeh_where_needed)
    app.connect("html-page-context", drop_duplicate_scripts)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
