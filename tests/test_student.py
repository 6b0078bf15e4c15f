"""Student versions: the stripping rules, the command's safety, and the real chapters.

The last tests compare against nbgrader itself, so the conventions are proven to be nbgrader's.
tests/test_exercise_edition.py runs the exercise edition, whose code cells are the student
version's, in a kernel.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools.student import MarkerError, student_notebook, write_student_versions

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))


def solution_cell(source, cell_type="code", grade_id="ex"):
    make = new_code_cell if cell_type == "code" else new_markdown_cell
    cell = make(source)
    cell.metadata["nbgrader"] = {"grade": cell_type == "markdown", "grade_id": grade_id,
                                 "locked": False, "schema_version": 3, "solution": True,
                                 "task": False, **({"points": 1} if cell_type == "markdown" else {})}
    return cell


def check_cell(source, grade_id="ex-check"):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True,
                                 "points": 1, "schema_version": 3, "solution": False,
                                 "task": False}
    return cell


def graded_solution_cell(source):
    # nbgrader's "manually graded answer": a solution cell that is also graded.
    cell = solution_cell(source)
    cell.metadata["nbgrader"].update(grade=True, points=1)
    return cell


def strip(*cells, name="demo.ipynb"):
    return student_notebook(new_notebook(cells=list(cells)), name)


# --- the rules ---------------------------------------------------------------------------------

def test_solution_region_becomes_an_indented_stub():
    nb, stats = strip(solution_cell(
        "class Net:\n"
        "    def forward(self, x):\n"
        "        # BEGIN SOLUTION\n"
        "        return x * 2\n"
        "        # END SOLUTION\n"
        "\n"
        "print(Net)"
    ))
    assert nb.cells[0].source == (
        "class Net:\n"
        "    def forward(self, x):\n"
        "        # YOUR CODE HERE\n"
        "        raise NotImplementedError()\n"
        "\n"
        "print(Net)"
    )
    assert stats.code_regions == 1


def test_several_regions_in_one_cell_each_get_a_stub():
    nb, stats = strip(solution_cell(
        "def a():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
        "def b():\n    # BEGIN SOLUTION\n    return 2\n    # END SOLUTION"
    ))
    assert nb.cells[0].source.count("raise NotImplementedError()") == 2
    assert "return" not in nb.cells[0].source and stats.code_regions == 2


def test_solution_cells_without_markers_are_replaced_whole():
    nb, stats = strip(solution_cell("answer = 42"),
                      solution_cell("Because **p** is the drop probability.", "markdown", "md"))
    assert nb.cells[0].source == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert nb.cells[1].source == "YOUR ANSWER HERE"
    assert (stats.code_regions, stats.answers) == (1, 1)


def test_markdown_region_becomes_your_answer_here():
    nb, _ = strip(solution_cell("Explain:\n\nBEGIN SOLUTION\nIt scales.\nEND SOLUTION\n\nThanks.",
                                "markdown", "md"))
    assert nb.cells[0].source == "Explain:\n\nYOUR ANSWER HERE\n\nThanks."


def test_hidden_tests_are_removed_with_their_markers():
    nb, stats = strip(check_cell(
        "assert f(1) == 2\n# BEGIN HIDDEN TESTS\nassert f(3) == 6\n# END HIDDEN TESTS\nprint('ok')"
    ))
    assert nb.cells[0].source == "assert f(1) == 2\nprint('ok')"
    assert stats.hidden_regions == 1


def test_outputs_are_cleared_and_nothing_else_changes():
    plain = new_code_cell("x = 1\nx", execution_count=3,
                          outputs=[new_output("execute_result", {"text/plain": "1"},
                                              execution_count=3)])
    plain.metadata["tags"] = ["keep-me"]
    text = new_markdown_cell("# Title\n\nSome *prose*.")
    source = new_notebook(cells=[text, plain, check_cell("assert x == 1")],
                          metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                   "language": "python"}})
    nb, _ = student_notebook(source, "demo.ipynb")
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert source.cells[1].outputs, "the source notebook must not be modified"
    nb.cells[1].outputs, nb.cells[1].execution_count = source.cells[1].outputs, 3
    assert nbformat.writes(nb) == nbformat.writes(source)


@pytest.mark.parametrize("cells, problem", [
    ([solution_cell("# BEGIN SOLUTION\nx = 1")], "'BEGIN SOLUTION' is never closed"),
    ([solution_cell("# BEGIN SOLUTION\n# BEGIN SOLUTION\nx = 1\n# END SOLUTION")],
     "a nested 'BEGIN SOLUTION'"),
    ([solution_cell("x = 1\n# END SOLUTION")], "'END SOLUTION' without a 'BEGIN SOLUTION'"),
    ([new_code_cell("# BEGIN SOLUTION\nx = 1\n# END SOLUTION")],
     "solution markers in a cell without nbgrader solution metadata"),
    ([new_code_cell("# BEGIN HIDDEN TESTS\nassert x\n# END HIDDEN TESTS")],
     "hidden-test markers in a cell that is not a check cell"),
    ([check_cell("# BEGIN HIDDEN TESTS\nassert x")], "'BEGIN HIDDEN TESTS' is never closed"),
    ([graded_solution_cell("# BEGIN SOLUTION\n# BEGIN HIDDEN TESTS\n# END HIDDEN TESTS\n# END SOLUTION")],
     "regions can't mix"),
])
def test_malformed_markers_name_notebook_cell_and_problem(cells, problem):
    others = [new_markdown_cell("# Title")]
    with pytest.raises(MarkerError) as info:
        student_notebook(new_notebook(cells=others + cells), "05_demo.ipynb")
    message = str(info.value)
    assert message.startswith("05_demo.ipynb, cell 2 (code, ") and problem in message


# --- the command -------------------------------------------------------------------------------

def write_course(folder, *notebooks):
    folder.mkdir(parents=True, exist_ok=True)
    for name, cells in notebooks:
        nbformat.write(new_notebook(cells=cells), folder / name)
    return folder



def test_command_writes_reports_and_leaves_the_sources_alone(tmp_path, course_cli):
    src = write_course(tmp_path / "notebooks", ("01_a.ipynb", [
        solution_cell("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION"),
        check_cell("assert f() == 1\n# BEGIN HIDDEN TESTS\nassert f() > 0\n# END HIDDEN TESTS"),
    ]))
    before = (src / "01_a.ipynb").read_bytes()
    result = course_cli("student", str(src), "--out", str(tmp_path / "student"))
    assert result.returncode == 0, result.stderr
    assert "01_a.ipynb: removed 1 code solution, 0 written answers, 1 hidden test region" in result.stdout
    assert (src / "01_a.ipynb").read_bytes() == before
    student = nbformat.read(tmp_path / "student" / "01_a.ipynb", as_version=4)
    assert "return 1" not in student.cells[0].source and "f() > 0" not in student.cells[1].source


@pytest.mark.parametrize("out", ["notebooks", "notebooks/student", "notebooks/./"])
def test_command_refuses_to_write_into_the_sources(tmp_path, out, course_cli):
    src = write_course(tmp_path / "notebooks", ("01_a.ipynb", [solution_cell("x = 1")]))
    before = sorted(p.name for p in src.rglob("*"))
    result = course_cli("student", str(src), "--out", str(tmp_path / out))
    assert result.returncode == 1 and "refusing to write student versions into" in result.stderr
    assert sorted(p.name for p in src.rglob("*")) == before


def test_command_refuses_to_overwrite_without_force(tmp_path, course_cli):
    src = write_course(tmp_path / "notebooks", ("01_a.ipynb", [solution_cell("x = 1")]),
                       ("02_b.ipynb", [solution_cell("y = 2")]))
    out = tmp_path / "student"
    out.mkdir()
    (out / "02_b.ipynb").write_text("my hand-edited copy")
    result = course_cli("student", str(src), "--out", str(out))
    assert result.returncode == 1 and "already exist" in result.stderr and "--force" in result.stderr
    assert not (out / "01_a.ipynb").exists(), "nothing may be written when refusing"
    assert (out / "02_b.ipynb").read_text() == "my hand-edited copy"
    assert course_cli("student", str(src), "--out", str(out), "--force").returncode == 0
    assert nbformat.read(out / "02_b.ipynb", as_version=4).cells[0].source.startswith("# YOUR CODE")


def test_a_malformed_chapter_stops_everything_before_writing(tmp_path, course_cli):
    src = write_course(tmp_path / "notebooks", ("01_good.ipynb", [solution_cell("x = 1")]),
                       ("02_bad.ipynb", [new_markdown_cell("# 02"),
                                         solution_cell("# BEGIN SOLUTION\ny = 2")]))
    result = course_cli("student", str(src), "--out", str(tmp_path / "student"))
    assert result.returncode == 1
    assert "02_bad.ipynb, cell 2" in result.stderr and "never closed" in result.stderr
    assert not (tmp_path / "student").exists()


# --- the real chapters -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "student"
    write_student_versions(ROOT / "notebooks" / "solutions", out, log=lambda _: None)
    return out


def regions(source, begin, end):
    """The lines strictly inside begin/end regions, and the lines outside them."""
    inside, outside, open_ = [], [], False
    for line in source.splitlines():
        if begin in line:
            open_ = True
        elif end in line:
            open_ = False
        else:
            (inside if open_ else outside).append(line.strip())
    return inside, outside


def secret_lines(nb):
    """Lines that only the instructor may see: solution and hidden-test lines that do not also
    appear in the visible part of the notebook (a line like `return X` may be in both)."""
    secret, visible = set(), set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and "BEGIN SOLUTION" not in cell.source:
            secret.update(line.strip() for line in cell.source.splitlines())
            continue
        sol_in, sol_out = regions(cell.source, "BEGIN SOLUTION", "END SOLUTION")
        hid_in, hid_out = regions("\n".join(sol_out), "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        secret.update(sol_in + hid_in)
        visible.update(hid_out)
    return {line for line in secret - visible if len(line) > 3}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_solution_line_survives(path, student_dir):
    instructor = nbformat.read(path, as_version=4)
    secrets = secret_lines(instructor)
    assert len(secrets) >= 3, "the chapter should have solutions to hide"
    student_text = "\n".join(c.source for c in nbformat.read(student_dir / path.name, 4).cells)
    student_lines = {line.strip() for line in student_text.splitlines()}
    leaked = sorted(secrets & student_lines)
    assert not leaked, f"{path.name}: solution lines left in the student version: {leaked[:5]}"
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in student_text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_student_version_is_valid_and_changes_only_exercises(path, student_dir):
    instructor = nbformat.read(path, as_version=4)
    student = nbformat.read(student_dir / path.name, as_version=4)
    nbformat.validate(student)
    assert student.metadata == instructor.metadata
    assert len(student.cells) == len(instructor.cells)
    for i, (mine, theirs) in enumerate(zip(student.cells, instructor.cells, strict=True)):
        meta = theirs.metadata.get("nbgrader", {})
        assert mine.metadata == theirs.metadata and mine.get("id") == theirs.get("id")
        if meta.get("solution") or "HIDDEN TESTS" in theirs.source:
            assert mine.source != theirs.source, f"cell {i + 1} should have been stripped"
        else:
            assert mine == theirs, f"{path.name} cell {i + 1} changed but holds no exercise"


def test_the_source_notebooks_are_stored_canonically():
    # nbformat's own layout, so a student notebook differs from its source only where it must.
    for path in CHAPTERS:
        text = path.read_text(encoding="utf-8")
        assert nbformat.writes(nbformat.read(path, as_version=4)) + "\n" == text, path.name


def test_nbgrader_generate_assignment_accepts_the_course_and_agrees(tmp_path, student_dir):
    """nbgrader (from PyPI) releases the course unchanged, with the same student cells."""
    course = tmp_path / "nbgrader-course"
    source = course / "source" / "dropout"
    source.mkdir(parents=True)
    for path in CHAPTERS:
        shutil.copy(path, source / path.name)
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs `alembic` from PATH
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "dropout",
         f"--CourseDirectory.root={course}", "--force"],
        cwd=course, capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stderr, result.stderr
    for path in CHAPTERS:
        released = nbformat.read(course / "release" / "dropout" / path.name, as_version=4)
        ours = nbformat.read(student_dir / path.name, as_version=4)
        assert [(c.cell_type, c.source) for c in released.cells] == [
            (c.cell_type, c.source) for c in ours.cells], f"{path.name} differs from nbgrader's"
        graded = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert all("checksum" in c.metadata["nbgrader"] for c in graded)
        # The exercise edition's folded solutions never reach a release.
        for nb in (released, ours):
            assert not any("<details" in c.source or "course" in c.metadata for c in nb.cells)
