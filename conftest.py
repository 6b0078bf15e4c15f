"""pytest hooks for the whole checkout: after a run over the notebooks, show the data each chapter
ran on, taken from its setup line, so a log proves whether a run used the real FashionMNIST; and
give nbval's kernels time to deliver a cell's output on a busy machine."""

from pathlib import PurePosixPath

import pytest

# nbval waits a hard-coded 5 s for a finished cell's output messages (nbval issue #231) and fails
# the cell when a loaded 2-core CI machine is slower than that; the cells' own time limit is
# --nbval-cell-timeout. 60 s only matters when the output is late, never when it is on time.
NBVAL_OUTPUT_TIMEOUT = 60
DATA_LINE = "chapter data"  # the user property that carries a setup cell's "| dataset: " line

_seen: dict[str, str] = {}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix == ".ipynb" and hasattr(item, "output_timeout"):
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # The line travels on the test report: with pytest-xdist the cells run in worker processes,
    # and only their reports reach the process that prints the summary.
    report = (yield).get_result()
    if report.when == "call" and item.path.suffix == ".ipynb":
        for output in getattr(item, "test_outputs", None) or []:
            for line in output.get("text", "").splitlines():
                if "| dataset: " in line:
                    report.user_properties.append((DATA_LINE, line.strip()))


def pytest_runtest_logreport(report):
    for key, value in report.user_properties:
        if key == DATA_LINE:
            # A cell of a notebook run by nbval, or a test run per chapter ("...[01_x.ipynb]").
            name = report.nodeid.rsplit("[", 1)[-1].rstrip("]")
            if not name.endswith(".ipynb"):
                name = PurePosixPath(report.nodeid.split("::")[0]).name
            _seen.setdefault(name, value)


def pytest_terminal_summary(terminalreporter):
    if _seen:
        terminalreporter.section("the data each chapter ran on")
        for name, line in sorted(_seen.items()):
            terminalreporter.write_line(f"{name}: {line}")
