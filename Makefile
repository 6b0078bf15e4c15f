# Every target creates .venv on first use, so a fresh clone needs only Python >= 3.10 and PyPI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help lab test course lint clean

help:
	@echo "make lab     open the course in JupyterLab (creates .venv on first use)"
	@echo "make test    unit tests + every notebook through nbval, in fast mode"
	@echo "make course  execute every notebook in full mode into build/ (.ipynb + .html)"
	@echo "make lint    ruff over the package, the tests and the notebooks"
	@echo "make clean   remove build/ and caches (keeps .venv and data/)"

# Reinstall whenever pyproject.toml changes; the stamp records a finished install.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; run: make PYTHON=python3.12 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(STAMP) lint
	COURSE_FAST=1 $(BIN)/python -m pytest tests course_utils notebooks \
		--doctest-modules --nbval-lax --nbval-current-env --nbval-cell-timeout=600

lint: $(STAMP)
	$(BIN)/ruff check course_utils tests notebooks

course: $(STAMP)
	$(BIN)/python -m course_utils course notebooks --out build

clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
