# The two entry points of the project (see README.md):
#   make book   set up .venv if needed, then build the HTML book into _build/html
#   make test   set up .venv if needed, then run every test (unit, chapters, book build)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready

.PHONY: book test sync clean

# --all: every page is read and every chapter executed again, so no number in the
# book is left over from an earlier build.
book: $(READY)
	$(BIN)/jupyter-book build . -W -n --keep-going --all

test: $(READY)
	$(BIN)/pytest

# Re-pair every chapter after editing its .md (the .ipynb is what Colab opens).
sync: $(READY)
	$(BIN)/jupytext --sync book/*.md

# Re-run setup only when the requirements change; pip installs torch from the
# local wheel store where one exists, else from the package index.
$(READY): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $@

clean:
	rm -rf _build
