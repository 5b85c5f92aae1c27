"""How long each chapter takes to execute, on a quiet machine and next to a busy one.

Executes every chapter's notebook as ``pytest --nbmake`` does (nbclient, a fresh
``python3`` kernel, the chapter's folder as working directory), once on a quiet machine
and once while another process keeps one core busy, and prints each chapter's two
times and their ratio. The book promises that a chapter keeps its pace on a shared
2-core machine (a ratio of at most 1.5) thanks to :func:`evalib.book.runtime.set_threads`.

    .venv/bin/python benchmarks/chapter_times.py                 # every chapter
    .venv/bin/python benchmarks/chapter_times.py training        # some chapters
    .venv/bin/python benchmarks/chapter_times.py --avx2          # oneDNN and ATen on AVX2

``--avx2`` makes the kernels take the AVX2 code paths of oneDNN and ATen
(``ONEDNN_MAX_CPU_ISA=AVX2``, ``ATEN_CPU_CAPABILITY=avx2``), as on a CPU without AVX-512.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
from nbclient import NotebookClient

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = ["preface", "gradient_descent", "heavy_ball", "moving_averages", "sgd_nesterov",
            "why_momentum_works", "limits_of_descent", "hooked_resnet", "training",
            "edge_of_stability"]  # fmt: skip


def execute(chapter: str) -> float:
    """Seconds to execute ``book/<chapter>.ipynb`` top to bottom in a fresh kernel."""
    notebook = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(BOOK)}})  # fmt: skip
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def busy_core() -> subprocess.Popen:
    """Another program that keeps one core busy until it is stopped."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "chapters", nargs="*", default=CHAPTERS, help="chapter names (default: all)"
    )
    parser.add_argument("--avx2", action="store_true", help="oneDNN and ATen on their AVX2 paths")
    args = parser.parse_args()
    if args.avx2:
        os.environ.update(ONEDNN_MAX_CPU_ISA="AVX2", ATEN_CPU_CAPABILITY="avx2")
    print(f"{os.cpu_count()} CPUs; AVX2 paths forced: {args.avx2}")
    rows = []
    for chapter in args.chapters:
        quiet = execute(chapter)
        other = busy_core()
        try:
            loaded = execute(chapter)
        finally:
            other.kill()
            other.wait()
        rows.append((chapter, quiet, loaded, loaded / quiet))
        print(f"{chapter:20s} quiet {quiet:6.1f} s   one busy core {loaded:6.1f} s   ratio {loaded / quiet:.2f}",
              flush=True)  # fmt: skip
    table = pd.DataFrame(rows, columns=["chapter", "quiet (s)", "one busy core (s)", "ratio"])
    print(table.round(2).to_string(index=False))
    print(f"total: quiet {table['quiet (s)'].sum():.0f} s, one busy core "
          f"{table['one busy core (s)'].sum():.0f} s; largest ratio {table['ratio'].max():.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
