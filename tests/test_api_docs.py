"""Every public piece of evalib is documented, and the API page lists every module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import evalib
from book_paths import ROOT

# Every public module, the book's machinery (evalib.book.*) included.
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(evalib.__path__, "evalib.")
    if not m.ispkg and not m.name.rsplit(".", 1)[-1].startswith("_")
)


def public_objects(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if obj.__module__ == module.__name__:  # defined here, not imported
            yield name, obj


@pytest.mark.parametrize("name", MODULES)
def test_module_is_on_the_api_page(name):
    assert f".. automodule:: {name}" in (ROOT / "book" / "api.md").read_text()


@pytest.mark.parametrize("name", MODULES)
def test_module_and_its_public_functions_have_docstrings(name):
    module = importlib.import_module(name)
    assert inspect.getdoc(module), f"{name} has no module docstring"
    missing = [n for n, obj in public_objects(module) if not inspect.getdoc(obj)]
    assert not missing, f"{name}: no docstring for {missing}"
