"""The chapters' install cell, written from one template and pinned to one version.

Every chapter opens with the same hidden cell. In Colab, or any kernel without
evalib, it installs evalib (alone: Colab has its dependencies) from the book's
repository at the tag ``v<version>``, then imports it, and stops *Run all* with one
clear error when that fails. The tag comes from pyproject.toml's ``[project] version``
and the repository from ``_config.yml``'s ``repository.url``; this script is the one
place that turns them into the cell:

    python book/_ext/install_cell.py          # rewrite every chapter's install cell (make sync)
    python book/_ext/install_cell.py --check  # exit 1 if a chapter's cell differs (make release)
    python book/_ext/install_cell.py --version  # print the version (make release tags v<it>)

pip runs in a subprocess rather than through ``%pip``: ``%pip`` neither fails the cell
when the install fails nor keeps quiet about restarting the kernel, which a new
package does not need.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """\
# Colab and other fresh kernels: install the book's companion package, evalib.
try:
    import evalib
except ImportError:
    import importlib
    import subprocess
    import sys

    EVALIB = "evalib @ git+{url}@{ref}"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", EVALIB],
        capture_output=True,
        text=True,
    )
    importlib.invalidate_caches()
    try:
        import evalib
    except ImportError:
        said = "\\n".join((pip.stdout + pip.stderr).strip().splitlines()[-12:])
        raise RuntimeError(
            f"Could not install {{EVALIB}} (pip exit code {{pip.returncode}}). "
            f"pip said:\\n{{said}}\\n\\n"
            "This chapter needs evalib {ref}. If pip could not connect, check that "
            "this runtime is online (GitHub and PyPI), then run this cell again. "
            "If it could not find {ref}, please report it at "
            "{url}/issues"
        ) from None
"""

# The first code cell of a chapter, header and closing fence included.
FIRST_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n.*?^```[ \t]*$", re.MULTILINE | re.DOTALL)


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def version() -> str:
    """pyproject.toml's ``[project] version``: the one place the version lives."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def pinned_ref() -> str:
    """The git tag the chapters install evalib from: ``v<version>``."""
    return f"v{version()}"


def source() -> str:
    """The install cell's code, for the repository of _config.yml at :func:`pinned_ref`."""
    return TEMPLATE.format(url=config()["repository"]["url"], ref=pinned_ref())


def block() -> str:
    """The install cell as it stands in a chapter's .md: hidden in the HTML."""
    return f"```{{code-cell}} ipython3\n:tags: [remove-cell]\n\n{source()}```"


def chapters() -> list[Path]:
    """Every jupytext chapter in book/ (plain pages such as the bibliography have no cells)."""
    return sorted(
        md for md in (ROOT / "book").glob("*.md") if "format_name: myst" in md.read_text()
    )


def with_install_cell(md: Path) -> str:
    """``md``'s text with its first code cell replaced by :func:`block`."""
    text = md.read_text()
    first = FIRST_CELL.search(text)
    if first is None or "import evalib" not in first.group() or "remove-cell" not in first.group():
        raise SystemExit(
            f"{md.relative_to(ROOT)}: the first code cell must be the install cell (hidden, "
            "it imports evalib): copy another chapter's, and `make sync` keeps it current"
        )
    return text[: first.start()] + block() + text[first.end() :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a chapter's cell differs"
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    args = parser.parse_args(argv)
    if args.version:
        print(version())
        return 0
    stale = []
    for md in chapters():
        text = with_install_cell(md)
        if text != md.read_text():
            stale.append(md.relative_to(ROOT))
            if not args.check:
                md.write_text(text)
    if args.check and stale:
        print(
            f"install cells not pinned to {pinned_ref()} (pyproject.toml's version) in: "
            + ", ".join(map(str, stale))
            + "\nrun `make sync` and commit",
            file=sys.stderr,
        )
        return 1
    if not args.check and stale:
        print(f"install cell ({pinned_ref()}) written into: " + ", ".join(map(str, stale)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
