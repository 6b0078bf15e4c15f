"""The exercise edition (notebooks/exercises/): fresh, complete, without solution code in its code
cells, and, run in a kernel, stopping at every exercise with one line until the folded solution
is put in, after which every check passes."""

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_tools.chapters import EXERCISES, SOURCES
from course_tools.colab import read_course_repository
from course_tools.exercises import (
    HIDDEN_KEY,
    exercise_edition,
    solution_code,
    stale_editions,
    write_exercise_editions,
)
from course_tools.student import student_notebook

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / SOURCES).glob("[0-9][0-9]_*.ipynb"))
REPO = read_course_repository(ROOT)
FENCED = re.compile(r"^(`{3,})python\n(.*?)\n\1$", re.M | re.S)


def load(path):
    return nbformat.read(path, as_version=4)


def nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def hidden_of(cell):
    return cell.metadata.get("course", {}).get(HIDDEN_KEY)


def folded_code(cell):
    """The code inside a folded solution, as a student copies it."""
    found = FENCED.findall(cell.source)
    assert len(found) == 1, f"one fenced python block expected in:\n{cell.source[:400]}"
    return found[0][1]


def test_every_edition_is_fresh():
    stale = stale_editions(ROOT)
    assert not stale, (
        "these exercise editions are stale; run `python -m course_utils exercises` (make "
        f"exercises) and commit them: {[p.relative_to(ROOT).as_posix() for p in stale]}")


def test_a_stale_or_stray_edition_is_found_and_regenerated(tmp_path):
    import shutil

    for folder in (SOURCES, EXERCISES):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    source = tmp_path / SOURCES / CHAPTERS[2].name
    nb = load(source)
    nb.cells[2].source += "\n\nOne more sentence."
    nbformat.write(nb, source)
    (tmp_path / EXERCISES / "99_gone.ipynb").write_text("{}")
    (tmp_path / EXERCISES / CHAPTERS[0].name).unlink()
    expected = {tmp_path / EXERCISES / name
                for name in (CHAPTERS[2].name, "99_gone.ipynb", CHAPTERS[0].name)}
    assert set(stale_editions(tmp_path)) == expected
    assert set(write_exercise_editions(tmp_path, check=True, log=lambda _: None)) == expected
    assert set(write_exercise_editions(tmp_path, log=lambda _: None)) == expected
    assert stale_editions(tmp_path) == []
    assert not (tmp_path / EXERCISES / "99_gone.ipynb").exists()
    assert "One more sentence." in (tmp_path / EXERCISES / CHAPTERS[2].name).read_text()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_edition_is_the_student_version_plus_folded_solutions(path):
    source, edition = load(path), load(ROOT / EXERCISES / path.name)
    student, _ = student_notebook(source, path.name)
    nbformat.validate(edition)
    # Every cell of the nbgrader student version is there, in order and unchanged (the title
    # cell gets the edition's own badge); everything else is a folded solution.
    kept = [cell for cell in edition.cells if hidden_of(cell) is None]
    assert len(kept) == len(student.cells)
    assert kept[1:] == student.cells[1:]
    assert REPO.colab_url(f"{EXERCISES.as_posix()}/{path.name}") in kept[0].source
    assert REPO.colab_url(f"{SOURCES.as_posix()}/{path.name}") in kept[0].source
    assert len({cell.id for cell in edition.cells}) == len(edition.cells), "cell ids must be unique"

    folded = {hidden_of(cell): (i, cell) for i, cell in enumerate(edition.cells)
              if hidden_of(cell) is not None}
    solutions = [cell for cell in source.cells if nbgrader(cell).get("solution")]
    assert sorted(folded) == sorted(nbgrader(cell)["grade_id"] for cell in solutions)
    where = {cell.get("id"): i for i, cell in enumerate(edition.cells)}
    for cell in solutions:
        grade_id = nbgrader(cell)["grade_id"]
        index, hidden = folded[grade_id]
        text = hidden.source
        assert text.startswith("<details>\n<summary>") and text.endswith("\n\n</details>")
        assert "</summary>\n\n" in text, "markdown inside <details> needs a blank line first"
        assert where[cell.id] < index, f"{grade_id}: the solution comes before its exercise"
        if cell.cell_type == "code":
            assert folded_code(hidden) == solution_code(cell.source)
            check = edition.cells[index - 1]
            assert nbgrader(check).get("grade") and not nbgrader(check).get("solution"), (
                f"{grade_id}: the folded solution should sit right under the check cell")
        else:
            assert cell.source.strip() in text, f"{grade_id}: the model answer is not all there"
            assert index == where[cell.id] + 1


def solution_and_other_lines(nb):
    """The stripped lines inside the source's solution regions (or whole solution cells), and
    every other line of the source."""
    inside, outside = set(), set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        whole = nbgrader(cell).get("solution") and "BEGIN SOLUTION" not in cell.source
        open_ = False
        for line in cell.source.splitlines():
            if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
                open_ = "BEGIN" in line
            else:
                (inside if open_ or whole else outside).add(line.strip())
    return inside, outside


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_code_cell_of_the_edition_holds_solution_code(path):
    source, edition = load(path), load(ROOT / EXERCISES / path.name)
    inside, outside = solution_and_other_lines(source)
    secret = {line for line in inside - outside if len(line) > 3}  # `return X` may be both
    assert len(secret) >= 3, "the chapter should have solutions to hide"
    visible = [line.strip() for cell in edition.cells if cell.cell_type == "code"
               for line in cell.source.splitlines()]
    leaked = sorted(secret.intersection(visible))
    assert not leaked, f"{path.name}: solution lines in the edition's code cells: {leaked[:5]}"
    text = "\n".join(visible)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "<details"):
        assert marker not in text
    # and every line of it is folded away in markdown instead
    folded = "\n".join(c.source for c in edition.cells if hidden_of(c) is not None)
    missing = [line for line in secret if line not in folded]
    assert not missing, f"{path.name}: solution lines the folded solutions lack: {missing[:5]}"


def test_the_folding_keeps_any_code_inside_its_fence():
    cell = new_code_cell("s = '```'\n# BEGIN SOLUTION\nx = 1  # <b>not a tag</b>\n# END SOLUTION")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "tricky",
                                 "locked": False, "schema_version": 3}
    nb = new_notebook(cells=[new_markdown_cell(f"# 01 · T\n\n{REPO.badge('x.ipynb')}"), cell])
    edition = exercise_edition(nb, REPO, "01_t.ipynb")
    assert folded_code(edition.cells[2]) == "s = '```'\nx = 1  # <b>not a tag</b>"
    assert "````python" in edition.cells[2].source


# --- the edition in a kernel ------------------------------------------------------------------

def one_line_stub_error(outputs):
    """The "not written yet" line of ``outputs``, or None when they hold no such error."""
    for out in outputs:
        if out.output_type == "error":
            assert len(out.traceback) == 1, (
                "an unwritten exercise should stop with one line, not a traceback:\n"
                + "\n".join(out.traceback)[-1500:])
            line = out.traceback[0]
            assert line.startswith("NotImplementedError: ") and "is not written yet" in line, line
            return line
    return None


def errors(outputs):
    return [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]


def printed(outputs):
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_edition_stops_at_each_exercise_and_its_folded_solution_passes(
        path, monkeypatch, real_data_env, request):
    """What a student gets: every lesson cell runs; each exercise, unwritten, stops with one
    line; with the folded solution pasted in, its check passes (no ✗, no error).

    The run is also `make test`'s run of the chapter itself, on the real data: the lesson
    cells are the source's (test_the_edition_is_the_student_version_plus_folded_solutions),
    the folded solutions are its exercise cells, and each check, once the solutions are in,
    runs as the source has it: hidden tests included, as nbgrader's autograde runs it."""
    from nbclient import NotebookClient

    edition = load(ROOT / EXERCISES / path.name)
    source_checks = {nbgrader(c)["grade_id"]: c for c in load(path).cells
                     if c.cell_type == "code" and nbgrader(c).get("grade")}
    folded = {hidden_of(c): c for c in edition.cells if hidden_of(c) is not None}
    monkeypatch.setenv("COURSE_FAST", "1")  # the kernel inherits it, and the real data
    client = NotebookClient(edition, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT / EXERCISES)}})
    first_exercise = next(i for i, c in enumerate(edition.cells) if nbgrader(c).get("solution")
                          and c.cell_type == "code")
    stubs = {}  # grade_id -> the stub cell, while its check has not run
    first_stop = None
    with client.setup_kernel():
        for index, cell in enumerate(edition.cells):
            if cell.cell_type != "code":
                continue
            meta = nbgrader(cell)
            client.execute_cell(cell, index)
            for line in printed(cell.outputs).splitlines():
                if "| dataset: " in line:  # the setup line: conftest.py's summary shows it
                    request.node.user_properties.append(("chapter data", line.strip()))
            stopped = one_line_stub_error(cell.outputs)
            if meta.get("solution"):
                stubs[meta["grade_id"]] = (index, cell)
                first_stop = first_stop or (stopped and index)
                continue
            if not meta.get("grade"):
                assert not errors(cell.outputs), (
                    f"{path.name} cell {index}, a lesson cell, failed: {errors(cell.outputs)}\n"
                    f"{cell.source[:300]}")
                assert not stubs, f"{path.name} cell {index} runs before its exercise's check"
                continue
            # A check cell: it stops with the line while its exercise is unwritten...
            assert stopped, f"{path.name} cell {index}: the check passed an unwritten exercise"
            first_stop = first_stop or index
            # ...and passes once every stub above it holds its folded solution.
            for grade_id, (at, _stub) in stubs.items():
                solved = new_code_cell(folded_code(folded[grade_id]))
                client.execute_cell(solved, at)
                assert not errors(solved.outputs), (
                    f"{path.name}: the folded solution of {grade_id} fails: "
                    f"{errors(solved.outputs)}")
            stubs = {}
            # The source's check cell is this one plus its hidden tests: run that.
            graded = new_code_cell(source_checks.pop(meta["grade_id"]).source)
            client.execute_cell(graded, index)
            assert not errors(graded.outputs), (
                f"{path.name} cell {index}: the check fails with the folded solution: "
                f"{errors(graded.outputs)}\n{printed(graded.outputs)[-1500:]}")
            assert "✗" not in printed(graded.outputs), printed(graded.outputs)[-1500:]
    assert not stubs, f"{path.name}: exercises without a check cell: {sorted(stubs)}"
    assert not source_checks, f"{path.name}: source checks that never ran: {sorted(source_checks)}"
    assert first_stop is not None and first_stop <= first_exercise + 1, (
        f"{path.name}: Run all should stop at the first exercise (cell {first_exercise}), "
        f"stopped at {first_stop}")


def test_a_library_not_implemented_error_keeps_its_traceback(monkeypatch):
    """Only the bare stub is shortened; an operator a device lacks is real information."""
    from nbclient import NotebookClient

    cells = [
        "from course_utils import short_stub_errors\nshort_stub_errors()",
        "def best_epoch(history):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "best_epoch(None)",
        "# YOUR CODE HERE\nraise NotImplementedError()",
        "def helper():\n    raise NotImplementedError('aten::foo is not implemented for MPS')\n"
        "helper()",
        "1 / 0",
    ]
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    outputs = [cell.outputs for cell in nb.cells]
    assert one_line_stub_error(outputs[2]).startswith(
        "NotImplementedError: best_epoch is not written yet")
    assert "this cell is not written yet" in one_line_stub_error(outputs[3])
    assert "then run it again" in one_line_stub_error(outputs[3])
    for index in (4, 5):
        error = next(o for o in outputs[index] if o.output_type == "error")
        assert len(error.traceback) > 1, "a real error keeps its full traceback"
