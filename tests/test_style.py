"""The code style, enforced by tools: ruff's lint rules and layout, mypy's types (pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from book_paths import ROOT

LINTED = ["evalib", "tests", "benchmarks", "book/_ext"]
# Outside the tree, so concurrent runs and read-only checkouts share nothing by accident.
MYPY_CACHE = Path(tempfile.gettempdir()) / "evalib-mypy-cache"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_finds_nothing_to_lint():
    result = run("ruff", "check", "--no-cache", *LINTED)
    assert result.returncode == 0, f"ruff check {' '.join(LINTED)}:\n{result.stdout}{result.stderr}"


def test_the_code_is_laid_out_as_ruff_format_lays_it_out():
    result = run("ruff", "format", "--check", "--no-cache", *LINTED)
    assert result.returncode == 0, (
        f"run `ruff format {' '.join(LINTED)}`:\n{result.stdout}{result.stderr}"
    )


def test_mypy_finds_no_type_errors_in_evalib():
    result = run("mypy", "--cache-dir", str(MYPY_CACHE), "evalib")
    assert result.returncode == 0, f"mypy evalib:\n{result.stdout}{result.stderr}"
