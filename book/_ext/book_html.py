"""Sphinx extension: what the built pages need beyond Jupyter Book's defaults.

Figures computed by the chapters get their caption as alt text, in words (the TeX of
the caption's maths becomes Unicode text), so a screen reader says what the figure
shows rather than its file name or a backslash command.

Pages are light and readable on a phone (``static/book.css``): each figure image
carries its size (so nothing jumps as images arrive) and loads lazily below the first;
the search index loads without blocking the first paint; the theme's icons are drawn
as inline SVG when the book is built, in place of its 1.5 MB icon script, and the icon
font its stylesheet still uses (admonition titles, breadcrumbs) keeps only the glyphs
that stylesheet names (156 kB down to a few); each formula holds the space it will
take once typeset (``math_size.py``); every page has a meta description (its first
paragraph) and the book a favicon.

The pages work without internet. MathJax, which a Jupyter Book page normally takes
from a CDN, is served from the book's own ``_static/mathjax`` folder, copied from the
``django-static-mathjax`` wheel (a plain copy of MathJax's ``es5`` build);
``_config.yml`` points ``mathjax_path`` there.

Each chapter's Colab button opens the notebook written for Colab (``book/colab/``,
see ``book/_ext/colab.py``), not the jupytext pair, whose MyST Colab cannot render.

The live figures of :mod:`evalib.book.live` need BokehJS. It is copied from the installed
bokeh package into ``_static/bokeh``, and a page that shows a live figure names that
folder in ``<meta name="evalib-bokeh" content="...">``. Nothing is added to the page's
``<head>``: each figure's loader fetches BokehJS from there, once per page and only when
the first figure comes near the viewport, so no script blocks the first paint (in
Jupyter and Colab, where the tag is absent, it comes from Bokeh's CDN).
"""

from __future__ import annotations

import copy
import re
import shutil
import struct
from pathlib import Path

from docutils import nodes
from fontTools import subset
from math_size import sized_maths
from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "static"

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
        subset_icon_font(outdir)
        finish_pages(outdir)


THEME_CSS = Path("_static", "styles", "pydata-sphinx-theme.css")
BOOK_THEME_CSS = Path("_static", "styles", "sphinx-book-theme.css")
ICON_FONT = Path("_static", "vendor", "fontawesome", "webfonts", "fa-solid-900.woff2")
#: The icons the themes' stylesheets draw from the solid icon font: pydata-sphinx-theme's
#: ``--pst-icon-…`` and breadcrumb variables (each one private-use character), and
#: sphinx-book-theme's escaped ``content: "\f…"`` (the "on this page" chevron).
CSS_ICON = re.compile(r'--pst-[a-z-]+:"([\ue000-\uf8ff])"')
CSS_ESCAPED_ICON = re.compile(r'content:\s*"\\(f[0-9a-f]{3})"')


def theme_icons(outdir: Path) -> set[int]:
    """The code points of :data:`CSS_ICON` and :data:`CSS_ESCAPED_ICON` in the built
    themes' stylesheets."""
    wanted: set[int] = set()
    for css, pattern, code in (
        (THEME_CSS, CSS_ICON, ord),
        (BOOK_THEME_CSS, CSS_ESCAPED_ICON, lambda h: int(h, 16)),
    ):
        if (outdir / css).exists():
            wanted |= {
                code(found) for found in pattern.findall((outdir / css).read_text(encoding="utf-8"))
            }
    return wanted


def subset_icon_font(outdir: Path) -> None:
    """Cut the solid icon font down to the glyphs the theme's stylesheet names; every
    other icon is inline SVG, so a page with an admonition no longer downloads them all."""
    font, wanted = outdir / ICON_FONT, theme_icons(outdir)
    if not (font.exists() and wanted):
        return
    options = subset.Options(
        flavor="woff2", layout_features=[], name_IDs=["*"], notdef_outline=True
    )
    loaded = subset.load_font(str(font), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(loaded)
    subset.save_font(loaded, str(font), options)


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


# -- alt text and descriptions in words ----------------------------------------------------
# TeX commands and the characters that stand for them in plain text.
SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "pi": "π",
    "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ",
    "Phi": "Φ", "Omega": "Ω",
    "nabla": "∇", "partial": "∂", "cdot": "·", "times": "×", "le": "≤", "leq": "≤",
    "ge": "≥", "geq": "≥", "approx": "≈", "ne": "≠", "neq": "≠", "infty": "∞", "to": "→",
    "rightarrow": "→", "pm": "±", "ll": "≪", "gg": "≫", "in": "∈", "sum": "Σ", "prod": "Π",
    "star": "⋆", "ldots": "…", "dots": "…", "cdots": "⋯", "lVert": "‖", "rVert": "‖",
    "Vert": "‖", "|": "‖", "mid": "|", "langle": "⟨", "rangle": "⟩", "top": "ᵀ",
    "prime": "′", "max": "max", "min": "min", "log": "log", "exp": "exp", "ln": "ln",
    "sqrt": "√", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "circ": "∘",
    "{": "{", "}": "}", "%": "%", "_": "_", "&": "&",
}  # fmt: skip
SPACES = {",", ";", ":", "!", " ", "quad", "qquad", "left", "right", "big", "Big", "bigl",
          "bigr", "Bigl", "Bigr", "displaystyle", "textstyle", "limits"}  # fmt: skip
SUPERSCRIPT = str.maketrans("0123456789+-=()nkTtiK*", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿᵏᵀᵗⁱᴷ*")
SUBSCRIPT = str.maketrans("0123456789+-=()aeijknmtx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₙₘₜₓ")
_GROUP = r"\{([^{}]*)\}"


def _script(body: str, table: dict, mark: str) -> str:
    """``body`` as super- or subscript characters where Unicode has them all."""
    mapped = body.translate(table)
    if all(ord(c) > 127 or c == "*" for c in mapped if not c.isspace()):
        return mapped
    return f"{mark}{body}" if len(body) == 1 else f"{mark}({body})"


def _wrapped(text: str) -> str:
    return text if len(text) <= 1 else f"({text})"


def spoken_tex(tex: str) -> str:
    """TeX maths as plain Unicode text, for alt text and descriptions:
    ``\\alpha\\lambda < 2 + 2\\beta`` becomes ``αλ < 2 + 2β``."""
    text = re.sub(r"\\([A-Za-z]+|.)", lambda m: _command(m.group(1)), tex)
    for _ in range(20):  # innermost groups first, until nothing changes
        before = text
        text = re.sub(r"\\[dt]?frac" + _GROUP + _GROUP,
                      lambda m: f"{_wrapped(m.group(1))}/{_wrapped(m.group(2))}", text)  # fmt: skip
        text = re.sub(r"√" + _GROUP, lambda m: f"√{_wrapped(m.group(1))}", text)
        text = re.sub(r"\\(?:text|mathrm|mathbf|mathit|mathcal|mathbb|boldsymbol|operatorname)"
                      + _GROUP, r"\1", text)  # fmt: skip
        text = re.sub(r"\^" + _GROUP, lambda m: _script(m.group(1), SUPERSCRIPT, "^"), text)
        text = re.sub(r"_" + _GROUP, lambda m: _script(m.group(1), SUBSCRIPT, "_"), text)
        text = re.sub(r"\^([^{\s])", lambda m: _script(m.group(1), SUPERSCRIPT, "^"), text)
        text = re.sub(r"_([^{\s])", lambda m: _script(m.group(1), SUBSCRIPT, "_"), text)
        text = re.sub(r"\{([^{}]*)\}", r"\1", text)
        if text == before:
            break
    text = re.sub(r"\\[dt]?frac", "", text).replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


def _command(name: str) -> str:
    if name in SPACES:
        return " "
    if name in ("frac", "dfrac", "tfrac", "text", "mathrm", "mathbf", "mathit", "mathcal",
                "mathbb", "boldsymbol", "operatorname"):  # fmt: skip
        return "\\" + name  # structural: handled with its arguments
    return SYMBOLS.get(name, name)


def spoken(node: nodes.Element) -> str:
    """The text of ``node`` with its maths in words (:func:`spoken_tex`)."""
    node = copy.deepcopy(node)
    for math in list(node.findall(nodes.math)):
        math.replace_self(nodes.Text(spoken_tex(math.astext())))
    return " ".join(node.astext().split())


def caption_as_alt_text(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give each captioned figure's image its caption, in words, as alt text (when it
    has none)."""
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        if not captions:
            continue
        text = spoken(captions[0])
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


# Paragraphs inside these are not the page's prose (captions, solutions, references).
NOT_PROSE = (nodes.Admonition, nodes.figure, nodes.caption, nodes.list_item, nodes.citation,
             nodes.table)  # fmt: skip


def describe_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """A meta description for search engines and link previews: the page's first
    paragraph of prose, in words, cut at a word near 155 characters."""
    if doctree is None:
        return
    for paragraph in doctree.findall(nodes.paragraph):
        if any(isinstance(a, NOT_PROSE) for a in _ancestors(paragraph)):
            continue
        text = spoken(paragraph)
        if len(text) < 40:
            continue
        if len(text) > 155:
            text = text[:155].rsplit(" ", 1)[0].rstrip(",;:") + " …"
        quoted = text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        context["metatags"] = context.get("metatags", "")
        context["metatags"] += f'\n<meta name="description" content="{quoted}" />'
        return


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


# -- light pages: icons, scripts, images ---------------------------------------------------
FA_ICON = re.compile(
    r'(?P<key>"[a-z0-9-]+"|[a-z0-9]+):\[(?P<w>\d+),(?P<h>\d+),\[(?P<aliases>[^\]]*)\],"[0-9a-f]*",'
    r'(?P<path>"[^"]*"|\[[^\]]*\])\]'
)
# Where each style's icons end in the script: it defines brands, then regular, then solid.
FA_STYLES = (('d("fab",', "fab"), ('d("far",', "far"), ('d("fas",', "fas"))
FA_STYLE_CLASSES = {"fa-brands": "fab", "fab": "fab", "fa-regular": "far", "far": "far",
                    "fa-solid": "fas", "fas": "fas"}  # fmt: skip
FA_ELEMENT = re.compile(
    r'<(?P<tag>i|span) class="(?P<classes>[^"]*\bfa-[^"]*)"(?P<attrs>[^>]*)></(?P=tag)>'
)
FA_SCRIPT = re.compile(r'<script [^>]*src="[^"]*scripts/fontawesome\.js[^"]*"[^>]*></script>\s*')


def fontawesome_icons(script: str) -> dict[tuple[str, str], tuple[int, int, str]]:
    """Every icon of the theme's ``fontawesome.js``: ``(style, name or alias)`` to
    ``(width, height, SVG path)``. The script holds each icon as an entry
    ``name:[width,height,[aliases],"unicode","path"]``, the brands first, then the
    regular and the solid icons, each set closed by a call ``d("fab", …)`` and so on."""
    ends = [(script.index(marker), style) for marker, style in FA_STYLES]
    icons = {}
    for match in FA_ICON.finditer(script):
        style = next(style for end, style in ends if match.start() < end)
        path = " ".join(re.findall(r'"([^"]*)"', match["path"]))
        names = {match["key"].strip('"')} | set(re.findall(r'"([a-z0-9-]+)"', match["aliases"]))
        for name in names:
            icons[style, name] = (int(match["w"]), int(match["h"]), path)
    return icons


def inline_icons(html: str, icons: dict[tuple[str, str], tuple[int, int, str]]) -> str:
    """Draw each icon element (``<i class="fa-solid fa-bars">``) as the inline SVG that
    the theme's icon script would put there at run time, and drop the script: the
    page then shows its icons without 85 kB of JavaScript rewriting the page while it
    loads. ``book.css`` carries the one rule the script would have injected."""

    def svg(match: re.Match) -> str:
        classes = match["classes"].split()
        style = next((FA_STYLE_CLASSES[c] for c in classes if c in FA_STYLE_CLASSES), "fas")
        found = [(c, icons[style, c[3:]]) for c in classes if (style, c[3:]) in icons]
        if not found:
            return match.group(0)
        icon, (width, height, path) = found[0]
        kept = [c for c in classes if c not in FA_STYLE_CLASSES and c != icon]
        return (
            f'<svg class="svg-inline--fa {icon} {" ".join(kept)}"{match["attrs"]} '
            f'aria-hidden="true" focusable="false" role="img" viewBox="0 0 {width} {height}" '
            f'xmlns="http://www.w3.org/2000/svg"><path fill="currentColor" d="{path}"/></svg>'
        )

    return FA_SCRIPT.sub("", FA_ELEMENT.sub(svg, html))


# Scripts the theme puts in <head> that no first paint needs: the search machinery.
BLOCKING_SEARCH = re.compile(
    r'<script src="([^"]*(?:searchtools\.js|language_data\.js|searchindex\.js)[^"]*)"></script>'
)
IMG = re.compile(r"<img (?P<attrs>[^>]*?)\s*/?>")


def _png_size(path: Path) -> tuple[int, int, float] | None:
    """Width and height in pixels and the density in dots per inch of a PNG (96 when
    the file does not say)."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    width, height = struct.unpack(">II", data[16:24])
    dpi = 96.0
    at = data.find(b"pHYs")
    if at > 0:
        x_per_metre, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13])
        if unit == 1 and x_per_metre:
            dpi = x_per_metre * 0.0254
    return width, height, dpi


def sized_images(html: str, page: Path) -> str:
    """Give each computed figure its display size as ``width``/``height`` attributes (a
    PNG shows at its physical size, 96 CSS px per inch; ``book.css`` caps it at the
    column), so the browser reserves the space before it arrives; load every figure
    but the first lazily."""
    seen = 0

    def size(match: re.Match) -> str:
        nonlocal seen
        attrs = match["attrs"]
        src = re.search(r'src="([^"]+)"', attrs)
        if not src or "_images/" not in src.group(1) or " width=" in attrs:
            return match.group(0)
        file = (page.parent / src.group(1)).resolve()
        found = _png_size(file) if file.suffix == ".png" and file.exists() else None
        attrs = re.sub(r'\s*style="[^"]*"', "", attrs)
        if found:
            width, height, dpi = found
            shown = round(width * 96 / dpi)
            attrs += f' width="{shown}" height="{round(height * shown / width)}"'
        attrs += ' decoding="async"' + (' loading="lazy"' if seen else "")
        seen += 1
        return f"<img {attrs} />"

    return IMG.sub(size, html)


def finish_pages(outdir: Path) -> None:
    """Rewrite each built page: icons as inline SVG; sized, lazy figures; search scripts
    deferred; the bibliography's entries as list items (``doc-biblioentry`` is a
    deprecated role, and a ``role="list"`` needs ``listitem`` children)."""
    script = outdir / "_static" / "scripts" / "fontawesome.js"
    icons = fontawesome_icons(script.read_text(encoding="utf-8")) if script.exists() else {}
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = inline_icons(text, icons) if icons else text
        new = sized_images(new, page)
        new = sized_maths(new)
        new = BLOCKING_SEARCH.sub(r'<script defer src="\1"></script>', new)
        new = new.replace('role="doc-biblioentry"', 'role="listitem"')
        if new != text:
            page.write_text(new, encoding="utf-8")


def add_static(app: Sphinx) -> None:
    """The book's own CSS and favicon (``book/_ext/static``)."""
    app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("builder-inited", add_static)
    app.add_css_file("book.css")
    app.connect("doctree-resolved", caption_as_alt_text)
    app.connect("html-page-context", describe_page)
    app.connect("html-page-context", name_bokeh_where_needed)
    app.connect("html-page-context", drop_duplicate_scripts)
    # After sphinx-book-theme's launch buttons (priority 501).
    app.connect("html-page-context", colab_opens_the_colab_notebook, priority=600)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
