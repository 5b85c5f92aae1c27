"""What a reader's browser downloads for each page of the built book.

Serves a built book (``_build/html`` by default) on loopback as a static host does
(text gzip-compressed), opens every page in headless Chromium with the network cut off,
and adds up the bytes that cross the network for every response: the page's HTML, its
scripts (MathJax, BokehJS, the theme) and everything else (CSS, fonts, images).
Given ``--before DIR``, another build (e.g. of an earlier commit), it prints both and
the ratio after / before.

    python benchmarks/page_weight.py
    python benchmarks/page_weight.py --before /tmp/old-build/_build/html

Needs Debian's chromium and the playwright package (both installed for the tests).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import Counter
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the shared static host and browser flags
from chromium import FLAGS  # noqa: E402
from static_host import serve  # noqa: E402

WEIGH = """() => {
  const sizes = { html: performance.getEntriesByType("navigation")[0].encodedBodySize, js: 0, other: 0 };
  for (const r of performance.getEntriesByType("resource")) {
    const js = r.initiatorType === "script" || r.name.split("?")[0].endsWith(".js");
    sizes[js ? "js" : "other"] += r.encodedBodySize;
  }
  return sizes;
}"""


def weigh(html: Path) -> dict[str, Counter]:
    """Bytes per page as transferred (gzip where a host compresses), split into
    html / js / other."""
    with serve(html) as base:
        return _weigh(html, base)


def _weigh(html: Path, base: str) -> dict[str, Counter]:
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html"))
    pages = [p for p in pages if not p.startswith(("_", "genindex", "search"))]
    weights: dict[str, Counter] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
        for page_path in pages:
            context = browser.new_context()  # a fresh cache: a first visit
            page = context.new_page()
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(base)
                    else route.abort("internetdisconnected")
                ),
            )
            page.goto(f"{base}/{page_path}", wait_until="networkidle")
            page.evaluate("() => window.MathJax?.startup?.promise")  # fonts load on typesetting
            page.wait_for_load_state("networkidle")
            # The browser's own record of every download, as transferred.
            weights[page_path] = Counter(page.evaluate(WEIGH))
            context.close()
        browser.close()
    return weights


def mb(n: int) -> str:
    return f"{n / 1e6:6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--before", type=Path, help="another build's html folder to compare")
    args = parser.parse_args()
    after = weigh(args.html)
    before = weigh(args.before) if args.before else {}
    print(f"{'page':32} {'html':>6} {'js':>6} {'other':>6} {'total MB':>8}", end="")
    print(f" {'before MB':>9} {'ratio':>6}" if before else "")
    for page, sizes in after.items():
        total = sum(sizes.values())
        line = (
            f"{page:32} {mb(sizes['html'])} {mb(sizes['js'])} {mb(sizes['other'])} {mb(total):>8}"
        )
        if page in before:
            old = sum(before[page].values())
            line += f" {mb(old):>9} {total / old:6.2f}"
        print(line)


if __name__ == "__main__":
    main()
