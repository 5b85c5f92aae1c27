# The two entry points of the project (see README.md):
#   make book   set up .venv if needed, then build the HTML book into _build/html
#   make test   set up .venv if needed, then run every test (unit, chapters, book build)
#   make sync   after editing a chapter's .md: install cells, paired .ipynb, Colab notebooks
#   make release  tag v<version> (pyproject.toml) once the chapters are pinned to it
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready

.PHONY: book test sync release clean

# --all: every page is read and every chapter executed again, so no number in the
# book is left over from an earlier build.
book: $(READY)
	$(BIN)/jupyter-book build . -W -n --keep-going --all
	$(BIN)/python book/_ext/colab.py --build _build

test: $(READY)
	$(BIN)/pytest

# After editing a chapter's .md: pin its install cell to pyproject.toml's version,
# re-pair it with its .ipynb (what nbmake runs), and write its Colab notebook
# (book/colab/, with the numbers of the last book build kept in it).
sync: $(READY)
	$(BIN)/python book/_ext/install_cell.py
	$(BIN)/jupytext --sync book/*.md
	$(BIN)/python book/_ext/colab.py

# Tag the release the chapters install: refuses unless the working tree is clean and
# every install cell and Colab notebook is written for pyproject.toml's version.
release: $(READY)
	@test -z "$$(git status --porcelain)" || \
	  { echo "make release: commit or stash your changes first" >&2; exit 1; }
	$(BIN)/python book/_ext/install_cell.py --check
	$(BIN)/python book/_ext/colab.py --check
	@tag="v$$($(BIN)/python book/_ext/install_cell.py --version)" && \
	  git tag -a "$$tag" -m "Release $$tag: evalib and the book's chapters" && \
	  echo "tagged $$tag; publish it with: git push origin $$tag"

# Re-run setup only when the requirements change; pip installs torch from the
# local wheel store where one exists, else from the package index.
$(READY): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $@

clean:
	rm -rf _build
