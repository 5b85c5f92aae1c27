"""Sphinx extension: what the built pages need beyond Jupyter Book's defaults.

Figures computed by the chapters get their caption as alt text, so a screen reader
says what the figure shows rather than its file name.

The pages work without internet. Two things in a Jupyter Book page normally come
from a CDN:

- MathJax. We serve MathJax 3 from the book's own ``_static/mathjax`` folder, copied
  from the ``django-static-mathjax`` wheel (a plain copy of MathJax's ``es5`` build);
  ``_config.yml`` points ``mathjax_path`` there.
- Font Awesome 4, which ``FuncAnimation.to_jshtml()`` links for its play buttons.
  The book theme already ships Font Awesome and draws those ``fa`` icons itself, so
  the CDN link is dropped from the built pages (in Jupyter and Colab it stays).

Each chapter's Colab button opens the notebook written for Colab (``book/colab/``,
see ``book/_ext/colab.py``), not the jupytext pair, whose MyST Colab cannot render.

The live figures of :mod:`evalib.book.live` need BokehJS. It is copied from the installed
bokeh package into ``_static/bokeh`` and loaded once by each page that shows a live
figure (the figures themselves carry only their data and callbacks).
"""

from __future__ import annotations

import re
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
ANIMATION_CDN = re.compile(
    r'<link rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]+">\s*'
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


def strip_animation_cdn(outdir: Path) -> None:
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        cleaned = ANIMATION_CDN.sub("", text)
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


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
        strip_animation_cdn(outdir)


def load_bokeh_where_needed(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """A page that shows a live figure loads BokehJS from _static, before its body runs."""
    from evalib.book.live import CSS_CLASS, bokeh_js_files

    if f'class="{CSS_CLASS}"' in context.get("body", ""):
        for source in bokeh_js_files():
            app.add_js_file(f"bokeh/{source.name}")


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


def colab_opens_the_colab_notebook(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """The Colab button opens ``book/colab/<chapter>.ipynb``, the notebook written for
    Colab by ``book/_ext/colab.py``, instead of the chapter's jupytext pair."""
    colab = app.config.html_theme_options.get("launch_buttons", {}).get("colab_url")
    notebook = Path(pagename).parent / "colab" / f"{Path(pagename).name}.ipynb"
    if not colab or not (Path(app.srcdir) / notebook).exists():
        return
    buttons = list(context.get("header_buttons", []))
    while buttons:
        button = buttons.pop()
        buttons += button.get("buttons", [])
        url = button.get("url", "")
        if url.startswith(colab.rstrip("/")) and url.endswith(f"/{pagename}.ipynb"):
            button["url"] = url.removesuffix(f"{pagename}.ipynb") + notebook.as_posix()


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("doctree-resolved", caption_as_alt_text)
    app.connect("html-page-context", load_bokeh_where_needed)
    app.connect("html-page-context", drop_duplicate_scripts)
    # After sphinx-book-theme's launch buttons (priority 501).
    app.connect("html-page-context", colab_opens_the_colab_notebook, priority=600)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
