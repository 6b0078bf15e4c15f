"""pytest hooks for the whole checkout: after a run over the notebooks, show the data each chapter
ran on, taken from its setup line, so a log proves whether a run used the real FashionMNIST; and
give nbval's kernels time to deliver a cell's output on a busy machine."""

# nbval waits a hard-coded 5 s for a finished cell's output messages (nbval issue #231) and fails
# the cell when a loaded 2-core CI machine is slower than that; the cells' own time limit is
# --nbval-cell-timeout. 60 s only matters when the output is late, never when it is on time.
NBVAL_OUTPUT_TIMEOUT = 60

_notebook_cells = []


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix == ".ipynb":
            _notebook_cells.append(item)
            if hasattr(item, "output_timeout"):
                item.output_timeout = NBVAL_OUTPUT_TIMEOUT


def pytest_terminal_summary(terminalreporter):
    seen = {}
    for item in _notebook_cells:
        for output in getattr(item, "test_outputs", None) or []:
            for line in output.get("text", "").splitlines():
                if "| dataset: " in line:
                    seen.setdefault(item.path.name, line.strip())
    if seen:
        terminalreporter.section("the data each chapter ran on")
        for name, line in sorted(seen.items()):
            terminalreporter.write_line(f"{name}: {line}")
