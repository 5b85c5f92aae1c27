"""Shared fixtures: the repository root and one build of the HTML book per test run.

Each chapter executes once per run: nbmake runs it, a chapter that passes is stored in
a jupyter-cache database that belongs to this run, and the book build takes it from
there (myst-nb execution mode "cache"). The build executes only the chapters it finds
no entry for (failed or deselected in nbmake, or a .ipynb out of sync with its .md).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbmake import pytest_items
from nbmake.nb_result import NotebookResult
from nbmake.nb_run import NotebookRun

from book_paths import ROOT

# One per pytest process (runs may overlap), emptied first: the book never shows
# outputs that an earlier run computed, perhaps with older code. Created on first use.
CACHE = Path(tempfile.gettempdir()) / f"book-jupyter-cache-{os.getpid()}"
shutil.rmtree(CACHE, ignore_errors=True)


class CachingNotebookRun(NotebookRun):
    """nbmake's run of a chapter, which also stores the executed chapter when it passes."""

    def execute(self) -> NotebookResult:
        start = time.perf_counter()
        result = super().execute()
        if result.error is None:
            nb = copy.deepcopy(result.nb)
            # nbmake records cell timings in the cell metadata; jupyter-cache hashes all
            # cell metadata, and the notebook myst-nb reads from the .md has none.
            for cell in nb.cells:
                cell.metadata.pop("execution", None)
            get_cache(CACHE).cache_notebook_bundle(
                CacheBundleIn(
                    nb, self.filename, data={"execution_seconds": time.perf_counter() - start}
                ),
                check_validity=False,  # as myst-nb does: nbmake has already judged the run
                overwrite=True,
            )
        return result


# NotebookItem.runtest creates its NotebookRun through this module-level name.
pytest_items.NotebookRun = CachingNotebookRun


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests of the built book go last, so the build finds every chapter nbmake ran; the
    # sort is stable, so the quick unit tests still run first and fail first.
    items.sort(key=lambda item: "build" in getattr(item, "fixturenames", ()))
    # The chapters run by nbmake are checks of the book: `pytest -m "not book"` leaves them out.
    for item in items:
        if isinstance(item, pytest_items.NotebookItem):
            item.add_marker(pytest.mark.book)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run `jupyter-book build . -W -n --keep-going` once; return its output.

    `make book` executes every chapter (_config.yml: force); this build takes the
    chapters nbmake has executed in this run from CACHE instead.
    """
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"].update(execute_notebooks="cache", cache=str(CACHE))
    # jupyter-book resolves these paths against the folder of the config file.
    extensions = config.get("sphinx", {}).get("local_extensions", {})
    for name, path in extensions.items():
        extensions[name] = str(ROOT / path)
    config_path = tmp_path_factory.mktemp("book") / "_config.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        # --all: read every page again; Sphinx would otherwise keep unchanged pages
        # (and their outputs) from an earlier build.
        [
            str(jupyter_book),
            "build",
            ".",
            "-W",
            "-n",
            "--keep-going",
            "--all",
            "--config",
            str(config_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the book build failed:\n{output[-6000:]}"
    return output
