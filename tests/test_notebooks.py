"""The notebook template of DESIGN.md, checked on every chapter (nbval runs them separately)."""

import re
from pathlib import Path

import nbformat
import pytest

from course_tools.chapters import chapter_info
from course_tools.colab import read_course_repository

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))
REPO = read_course_repository(ROOT)


def load(path):
    return nbformat.read(path, as_version=4)


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks/NN_name.ipynb found"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    for i, cell in enumerate(load(path).cells):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name} cell {i} has stored outputs; clear them before committing"
            )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_title_cell(path):
    first = load(path).cells[0]
    assert first.cell_type == "markdown"
    number = path.name[:2]
    assert re.match(rf"# {number} · \S", first.source), f"title must start with '# {number} · '"
    assert "What you will learn" in first.source and "Time:" in first.source
    bullets = [line for line in first.source.splitlines() if line.startswith("- ")]
    assert 3 <= len(bullets) <= 5, f"3-5 learning goals, found {len(bullets)}"
    info = chapter_info(path)  # what index.html and the README's syllabus read from this cell
    assert info.title.startswith(f"{number} · ")
    assert 3 <= len(info.goals) <= 5 and info.minutes, f"{path.name}: goals {info.goals}, time {info.time!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_badge_points_at_this_notebook(path):
    first = load(path).cells[0].source
    expected = REPO.colab_url(f"notebooks/solutions/{path.name}")
    assert expected in first, f"{path.name}: the Colab badge should link to {expected}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_setup_cell(path):
    setup = load(path).cells[1]
    assert setup.cell_type == "code"
    source = setup.source
    assert '"google.colab" in sys.modules' in source
    assert REPO.install_requirement in source
    for needed in ("set_seed(", "short_stub_errors()", "get_device()", "set_threads()",
                   "fast_mode()", "print("):
        assert needed in source, f"{path.name}: the setup cell should call {needed}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercises_use_nbgrader_conventions(path):
    cells = load(path).cells
    solutions = [c for c in cells if c.metadata.get("nbgrader", {}).get("solution")]
    code_solutions = [c for c in solutions if c.cell_type == "code"]
    checks = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")
              and not c.metadata["nbgrader"].get("solution")]
    assert len(solutions) >= 3, f"{path.name}: at least three exercises"
    assert len(checks) >= 3, f"{path.name}: at least three check cells"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in solutions + checks]
    assert len(ids) == len(set(ids)), "grade_id values must be unique"
    for cell in code_solutions:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3 and not meta.get("locked")
        lines = [line.strip() for line in cell.source.splitlines()]
        assert lines.count("# BEGIN SOLUTION") == lines.count("# END SOLUTION") >= 1
    for cell in checks:
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] is True and meta["points"] > 0 and meta["schema_version"] == 3
    for cell in cells:
        if "BEGIN SOLUTION" in cell.source and cell.cell_type == "code":
            assert cell.metadata.get("nbgrader", {}).get("solution"), (
                "a cell with a solution region needs nbgrader solution metadata"
            )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_relative_image_links(path):
    # Colab does not render images linked by a relative path; figures come from code cells.
    for cell in load(path).cells:
        if cell.cell_type == "markdown":
            for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", cell.source) + re.findall(
                r"<img[^>]+src=[\"']([^\"']+)", cell.source
            ):
                assert target.startswith(("https://", "http://", "data:")), (
                    f"{path.name}: relative image link {target!r}"
                )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_ends_with_summary_and_references(path):
    text = "\n".join(c.source for c in load(path).cells if c.cell_type == "markdown")
    assert "## Summary" in text and "References" in text


def test_nbval_waits_long_enough_for_a_cells_output():
    # The root conftest raises nbval's hard-coded 5 s wait for output on a busy machine.
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root)
    from types import SimpleNamespace

    cell = SimpleNamespace(path=ROOT / "notebooks" / "solutions" / "01_overfitting.ipynb", output_timeout=5)
    other = SimpleNamespace(path=ROOT / "tests" / "test_data.py")
    root.pytest_collection_modifyitems([cell, other])
    assert cell.output_timeout == root.NBVAL_OUTPUT_TIMEOUT >= 30
    assert not hasattr(other, "output_timeout")


def test_the_data_line_of_a_setup_cell_reaches_the_summary_on_its_report():
    # With pytest-xdist a cell runs in a worker: its setup line must ride on the test report.
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root)
    line = "device: cpu | dataset: fashion-mnist (60,000 images) | fast mode: on"
    cell = SimpleNamespace(path=ROOT / "notebooks" / "solutions" / "01_overfitting.ipynb",
                           test_outputs=[{"text": f"{line}\n"}])
    report = SimpleNamespace(when="call", user_properties=[],
                             nodeid="notebooks/01_overfitting.ipynb::Cell 0")
    hook = root.pytest_runtest_makereport(cell, None)
    next(hook)
    try:
        hook.send(SimpleNamespace(get_result=lambda: report))
    except StopIteration:
        pass
    assert report.user_properties == [(root.DATA_LINE, line)]
    root.pytest_runtest_logreport(report)  # in the process that prints the summary
    assert root._seen == {"01_overfitting.ipynb": line}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_prediction_is_written_before_anything_answers_it(path):
    """Every predict-then-measure exercise has a cell for the student's prediction (tagged
    "prediction") right under its prompt, before any code cell prints the answer."""
    cells = load(path).cells
    prompts = [i for i, c in enumerate(cells) if c.cell_type == "markdown"
               and c.source.startswith("### Exercise") and "predict" in c.source.split("\n")[0]]
    assert prompts, f"{path.name} has no predict-then-measure exercise"
    for i in prompts:
        nxt = cells[i + 1]
        assert "prediction" in nxt.metadata.get("tags", []), (
            f"{path.name} cell {i + 1}: the prompt {cells[i].source.splitlines()[0]!r} should be "
            "followed by a markdown cell tagged 'prediction'")
        assert nxt.cell_type == "markdown" and "Your prediction" in nxt.source
        assert "nbgrader" not in nxt.metadata, "a prediction is the student's, not graded"
