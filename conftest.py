"""pytest hooks for the whole checkout: after a run over the notebooks, show the data each chapter
ran on, taken from its setup line, so a log proves whether a run used the real FashionMNIST."""

_notebook_cells = []


def pytest_collection_modifyitems(items):
    _notebook_cells.extend(item for item in items if item.path.suffix == ".ipynb")


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
