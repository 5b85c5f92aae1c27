"""The build's estimate of a formula's typeset size (book/_ext/math_size.py).

The expected sizes are what MathJax 3 (CommonHTML) gave these formulas of the book, in
em of the surrounding text; the estimate must stay close enough that holding its space
keeps the text still when the formula is typeset.
"""

from __future__ import annotations

import sys

import pytest

from book_paths import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from math_size import (
    HEIGHT_OFFSET,
    HEIGHT_SCALE,
    WIDTH_SCALE,
    height,
    sized_maths,
    width,
)

TYPESET_WIDTHS = [  # (TeX, width in em as MathJax typesets it inline)
    (r"R", 0.97),
    (r"\alpha", 0.81),
    (r"\nabla f", 1.76),
    (r"\alpha/(1-\beta)", 5.35),
    (r"z \leftarrow \beta z + \nabla f", 7.20),
    (r"x^{k+1} = x^k - \alpha(\beta \tilde z^k + \lambda x^k)", 14.29),
    (r"\kappa = \bigl((1+\sqrt\beta)/(1-\sqrt\beta)\bigr)^2", 15.18),
]
TYPESET_HEIGHTS = [  # (TeX, height in em as MathJax typesets it as a display)
    (r"x_i^k = (1 - \alpha\lambda_i)^k\, x_i^0 .", 1.68),
    (r"\alpha_{\text{eff}} = \frac{\alpha}{1-\beta}.", 2.74),
    (r"0 < \alpha\lambda < \frac{2+2\beta}{1+2\beta} .", 3.08),
    (
        r"\begin{aligned} \|w_k - w^\star\|^2 &\ge \textstyle\sum_{i > k} (w^\star_i)^2\\"
        r" &\approx \rho^{2k}\,\|w_0 - w^\star\|^2 . \end{aligned}",
        3.57,
    ),
]


@pytest.mark.parametrize(("tex", "typeset"), TYPESET_WIDTHS)
def test_inline_width_is_within_half_an_em_or_six_percent_of_mathjax(tex, typeset):
    assert WIDTH_SCALE * width(tex) == pytest.approx(typeset, abs=max(0.5, 0.06 * typeset))


@pytest.mark.parametrize(("tex", "typeset"), TYPESET_HEIGHTS)
def test_display_height_is_within_half_an_em_of_mathjax(tex, typeset):
    assert HEIGHT_SCALE * height(tex) + HEIGHT_OFFSET == pytest.approx(typeset, abs=0.5)


def test_every_formula_of_a_page_gets_its_size_and_keeps_its_source():
    page = (
        '<p>The step <span class="math notranslate nohighlight">\\(\\alpha &lt; 2/L\\)</span>'
        ' and <span class="math notranslate nohighlight">\\(\\beta\\)</span>:</p>\n'
        '<div class="math notranslate nohighlight">\n\\[\\begin{split}a\\\\\nb\\end{split}\\]</div>'
    )
    sized = sized_maths(page)
    assert sized.count('style="--math-w:') == 2 and sized.count('style="--math-h:') == 1
    for source in (
        "\\(\\alpha &lt; 2/L\\)",
        "\\(\\beta\\)",
        "\\[\\begin{split}a\\\\\nb\\end{split}\\]",
    ):
        assert source in sized
    # "<" is escaped in the page; the estimate reads it as the relation it is.
    expected = WIDTH_SCALE * width(r"\alpha < 2/L")
    assert expected != pytest.approx(WIDTH_SCALE * width(r"\alpha &lt; 2/L"))
    assert f'style="--math-w:{expected:.2f}em"' in sized
    assert sized_maths(sized) == sized  # a second pass changes nothing


@pytest.mark.parametrize("tex", ["a\\", "x \\\n y", r"\sqrt[3 x", r"\frac{1", "}{", "^", "_{"])
def test_odd_tex_gets_an_estimate_and_never_stops_the_build(tex):
    assert width(tex) >= 0 and height(tex) >= 0
    page = f'<span class="math notranslate nohighlight">\\({tex}\\)</span>'
    assert sized_maths(page).endswith(f"\\({tex}\\)</span>")
