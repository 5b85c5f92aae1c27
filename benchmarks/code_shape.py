"""The shape of evalib's course modules: longest function and the share of input checks.

For each course module (``evalib/<name>.py`` outside ``evalib/book/``) this prints its
code lines, how many of them check inputs, how many guard against overflow, and its
longest function (in physical lines, ``def`` to last line, docstring included).

    .venv/bin/python benchmarks/code_shape.py               # the course modules of evalib/
    .venv/bin/python benchmarks/code_shape.py --root DIR    # another checkout's

What counts (read from the syntax tree, so the numbers repeat):

- a *code line* holds a token other than a comment; docstrings do not count;
- a *check line* belongs to an ``if`` whose body ends in ``raise`` (a guard), to an
  ``except`` clause that raises (an error translated for the reader), to a statement
  that calls a check helper, or to a function named ``_check…``/``check_…`` (all of
  it). Check helpers are the names imported from ``evalib._checks``, functions named
  as checks, and private functions at least half of whose code lines are checks by
  these rules (found by iterating to a fixed point, so a helper that only calls
  helpers counts too): a call to one is a check, its own lines count by these rules;
- an *overflow line* (not also a check line) mentions ``errstate``, ``frexp``, ``ldexp``,
  ``finfo``, ``_FLOAT_MAX``, ``OverflowError`` or ``expm1``.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OVERFLOW = re.compile(r"errstate|frexp|ldexp|finfo|_FLOAT_MAX|OverflowError|expm1")


@dataclass
class Shape:
    module: str
    code: int
    checks: int
    overflow: int
    longest: str
    longest_lines: int


def code_lines(source: str, tree: ast.Module) -> set[int]:
    """Lines holding a token other than a comment, docstrings left out."""
    lines: set[int] = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER)  # fmt: skip
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", 0), str):
                lines -= span(first)  # a docstring
    return lines


def span(node: ast.AST) -> set[int]:
    return set(range(node.lineno, node.end_lineno + 1))  # type: ignore[attr-defined]


def called_names(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            f = sub.func
            if isinstance(f, ast.Name):
                names.add(f.id)
            elif isinstance(f, ast.Attribute):
                names.add(f.attr)
    return names


def check_lines(tree: ast.Module, helpers: set[str]) -> set[int]:
    """Lines of guards, raising except clauses and statements that call a check helper."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        guard = isinstance(node, ast.If) and node.body and isinstance(node.body[-1], ast.Raise)
        translates = isinstance(node, ast.ExceptHandler) and any(
            isinstance(sub, ast.Raise) for sub in ast.walk(node)
        )
        calls = isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign, ast.Return)) and bool(
            node.value is not None and called_names(node.value) & helpers
        )
        if guard:
            lines |= set(range(node.lineno, node.body[-1].end_lineno + 1))
        elif translates or calls:
            lines |= span(node)
    return lines


def functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            out += [(f"{node.name}.{f.name}", f) for f in node.body
                    if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]  # fmt: skip
    methods = {id(f) for _, f in out}
    out += [(f.name, f) for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(f) not in methods]  # fmt: skip
    return out


def shape(path: Path) -> Shape:
    source = path.read_text()
    tree = ast.parse(source)
    code = code_lines(source, tree)
    helpers = {"_check", "check"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "evalib._checks":
            helpers |= {a.asname or a.name for a in node.names}
    funcs = functions(tree)
    helpers |= {name.split(".")[-1] for name, _ in funcs
                if re.match(r"_?check", name.split(".")[-1])}  # fmt: skip
    while True:  # functions that are mostly checks are check helpers too
        checks = check_lines(tree, helpers)
        found = set()
        for name, f in funcs:
            if not re.match(r"_[^_]", name.split(".")[-1]):
                continue  # only private functions serve others as helpers
            body = (span(f) & code) - {f.lineno}
            if body and len(body & checks) >= len(body) / 2:
                found.add(name.split(".")[-1])
        if found <= helpers:
            break
        helpers |= found
    for name, f in funcs:  # a function named as a check is a check, def to return
        if re.match(r"_?check", name.split(".")[-1]):
            checks |= span(f)
    checks &= code
    overflow = {i for i, line in enumerate(source.splitlines(), 1)
                if OVERFLOW.search(line)} & code - checks  # fmt: skip
    name, f = max(funcs, key=lambda nf: nf[1].end_lineno - nf[1].lineno)
    return Shape(path.stem, len(code), len(checks), len(overflow), name,
                 f.end_lineno - f.lineno + 1)  # fmt: skip


def course_modules(root: Path) -> list[Path]:
    return sorted(p for p in (root / "evalib").glob("*.py") if not p.name.startswith("_"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    rows = [shape(p) for p in course_modules(args.root)]
    print(f"{'module':<12}{'code':>6}{'checks':>8}{'share':>7}{'overflow':>9}  longest function")
    for r in rows:
        print(f"{r.module:<12}{r.code:>6}{r.checks:>8}{r.checks / r.code:>7.0%}{r.overflow:>9}  "
              f"{r.longest} ({r.longest_lines} lines)")  # fmt: skip
    code, checks = sum(r.code for r in rows), sum(r.checks for r in rows)
    overflow = sum(r.overflow for r in rows)
    print(f"{'all':<12}{code:>6}{checks:>8}{checks / code:>7.0%}{overflow:>9}")


if __name__ == "__main__":
    main()
