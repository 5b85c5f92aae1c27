"""Every public piece of evalib is documented, and the API page lists every module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import evalib
from book_paths import ROOT

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(evalib.__path__) if not m.name.startswith("_")
)


def public_objects(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if obj.__module__ == module.__name__:  # defined here, not imported
            yield name, obj


@pytest.mark.parametrize("name", MODULES)
def test_module_is_on_the_api_page(name):
    assert f".. automodule:: evalib.{name}" in (ROOT / "book" / "api.md").read_text()


@pytest.mark.parametrize("name", MODULES)
def test_module_and_its_public_functions_have_docstrings(name):
    module = importlib.import_module(f"evalib.{name}")
    assert inspect.getdoc(module), f"evalib.{name} has no module docstring"
    missing = [n for n, obj in public_objects(module) if not inspect.getdoc(obj)]
    assert not missing, f"evalib.{name}: no docstring for {missing}"
