"""nbgrader's whole loop, as the README's "With nbgrader" section tells an instructor to run it,
with the course's nbgrader_config.py: generate the assignment, add students, collect three
submissions (a full solution, the unchanged stubs, two typical mistakes), autograde them in fast
mode, and generate feedback. The scores must be exactly right, and the feedback a student gets
must hold no hidden test and no traceback through the course's own files.

Chapter 02 is the one graded here: it has hidden tests and autogrades in seconds.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "notebooks" / "solutions" / "02_bernoulli_mask.ipynb"
ASSIGNMENT, STUDENTS = "dropout", ("ada", "stub", "typo")
# Two typical mistakes: `>` instead of `>=`, and the keep probability passed through unchanged.
WRONG = {
    "ex1-keep-mask": "def keep_mask(shape, p, generator=None):\n"
                     "    if not 0 <= p <= 1:\n"
                     "        raise ValueError(p)\n"
                     "    return torch.rand(shape, generator=generator) > p\n",
    "ex2-translate-p": "def torch_dropout_p(keep_prob):\n"
                       "    return keep_prob\n\n\n"
                       "input_dropout = nn.Dropout(torch_dropout_p(0.8))\n"
                       "hidden_dropout = nn.Dropout(torch_dropout_p(0.5))\n",
}


def check_points(nb):
    """grade_id of each exercise (its check cell's id without '-check') -> the check's points."""
    return {c.metadata["nbgrader"]["grade_id"].removesuffix("-check"): c.metadata["nbgrader"]["points"]
            for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def nbgrader(course, *args):
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs `alembic` from PATH
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "COURSE_FAST": "1", "COURSE_PROGRESS": "0"}  # what the README tells instructors
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def submission(released, source, student):
    """The released notebook as `student` hands it in."""
    nb = nbformat.from_dict(released)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if student == "stub" or grade_id not in answers:
            continue  # the stub hands in the release unchanged; locked cells stay as they are
        cell.source = WRONG.get(grade_id, answers[grade_id]) if student == "typo" else answers[grade_id]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    os.environ.pop("COURSE_OFFLINE", None)
    course = tmp_path_factory.mktemp("nbgrader") / "mycourse"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(CHAPTER, course / "source" / ASSIGNMENT / CHAPTER.name)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    for student in STUDENTS:
        nbgrader(course, "db", "student", "add", student)
    released = nbformat.read(course / "release" / ASSIGNMENT / CHAPTER.name, as_version=4)
    source = nbformat.read(CHAPTER, as_version=4)
    for student in STUDENTS:
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(submission(released, source, student), folder / CHAPTER.name)
    log = nbgrader(course, "autograde", ASSIGNMENT)
    log += nbgrader(course, "generate_feedback", ASSIGNMENT)
    return course, log, check_points(source)


def test_autograde_scores_each_submission_exactly(graded):
    from nbgrader.api import Gradebook

    course, _, points = graded
    total = sum(points.values())
    expected = {"ada": total, "stub": 0,
                "typo": total - points["ex1-keep-mask"] - points["ex2-translate-p"]}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dropout-course") as gb:
        for student, score in expected.items():
            nb = gb.find_submission_notebook(CHAPTER.stem, ASSIGNMENT, student)
            auto = sum(g.auto_score or 0 for g in nb.grades if g.auto_score is not None)
            assert auto == score, f"{student}: autograded {auto}, expected {score} of {total}"
            # A written answer waits for the instructor; an unchanged one nbgrader scores 0 itself.
            assert nb.needs_manual_grade == (student != "stub"), student


def test_feedback_holds_no_hidden_test_and_no_library_traceback(graded):
    course, _, _ = graded
    hidden = [c.source for c in nbformat.read(CHAPTER, as_version=4).cells
              if "BEGIN HIDDEN TESTS" in c.source]
    assert hidden, "chapter 02 should have hidden tests, or this test proves nothing"
    hidden_lines = [line.strip() for text in hidden
                    for line in text.split("# BEGIN HIDDEN TESTS")[1].split("# END HIDDEN TESTS")[0]
                    .splitlines() if len(line.strip()) > 20]
    for student in STUDENTS:
        page = (course / "feedback" / student / ASSIGNMENT / f"{CHAPTER.stem}.html").read_text()
        assert "HIDDEN TESTS" not in page, f"{student}'s feedback shows the hidden-test markers"
        for line in hidden_lines:
            assert line not in page, f"{student}'s feedback shows a hidden test: {line}"
        assert str(ROOT) not in page and "site-packages" not in page, (
            f"{student}'s feedback shows a traceback through the course's files")


def test_no_graded_cell_leaves_a_value_nbgrader_cannot_score(graded):
    _, log, _ = graded
    assert "cannot be converted to a float" not in log, log
