"""Colab: the badges and the setup cell's install follow [tool.course], and a fork re-points
them with one command. The setup cell's Colab branch is run here with a fake Colab."""

import ast
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

from course_tools.chapters import EXERCISES, SOURCES
from course_tools.colab import CourseRepository, read_course_repository
from course_tools.release import rewrite_badges

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / SOURCES).glob("[0-9][0-9]_*.ipynb"))
REPO = read_course_repository(ROOT)



def test_every_badge_and_install_agrees_with_pyproject(course_cli):
    result = course_cli("badges", str(ROOT), "--check")
    assert result.returncode == 0, (
        f"run `python -m course_utils badges` to re-point these:\n{result.stdout}{result.stderr}")
    assert "would change 0 file(s)" in result.stdout


def copy_course(tmp_path, repository, version):
    """The course's chapters, editions, README and pyproject.toml, set to another repository
    and release version, in a folder of its own."""
    root = tmp_path / "fork"
    for folder in (SOURCES, EXERCISES):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy(ROOT / "README.md", root / "README.md")
    text = (ROOT / "pyproject.toml").read_text()
    text = text.replace(f'repository = "{REPO.repository}"', f'repository = "{repository}"')
    text = text.replace(f'version = "{REPO.release[1:]}"', f'version = "{version}"')
    (root / "pyproject.toml").write_text(text)
    return root


def test_a_fork_repoints_the_whole_course_with_one_command(tmp_path, course_cli):
    root = copy_course(tmp_path, "someone/my-dropout-course", "3.1.0")
    fork = CourseRepository("someone/my-dropout-course", "v3.1.0")
    result = course_cli("badges", str(root))
    assert result.returncode == 0, result.stderr
    assert f"rewrote {len(CHAPTERS) + 1} file(s)" in result.stdout
    assert f"wrote {len(CHAPTERS)} exercise edition file(s)" in result.stdout
    for path in CHAPTERS:
        source, edition = root / SOURCES / path.name, root / EXERCISES / path.name
        nb = nbformat.read(source, as_version=4)
        assert fork.colab_url(f"{SOURCES.as_posix()}/{path.name}") in nb.cells[0].source
        assert fork.install_requirement in nb.cells[1].source
        ex = nbformat.read(edition, as_version=4)
        assert fork.colab_url(f"{EXERCISES.as_posix()}/{path.name}") in ex.cells[0].source
        assert fork.install_requirement in ex.cells[1].source
        for file in (source, edition):
            text = file.read_text()
            assert REPO.repository not in text, f"{file} still names {REPO.repository}"
            # Nothing but the links changed: pointing back gives the original file, byte for byte.
            back = text.replace(fork.repository, REPO.repository).replace(
                f"/blob/{fork.release}/", f"/blob/{REPO.release}/").replace(
                f"@{fork.release}", f"@{REPO.release}")
            assert back == (ROOT / file.relative_to(root)).read_text()
    readme = (root / "README.md").read_text()
    assert readme.count(fork.colab_url(f"{EXERCISES.as_posix()}/")) == 2 * len(CHAPTERS)  # name, badge
    assert readme.count(fork.colab_url(f"{SOURCES.as_posix()}/")) == len(CHAPTERS)
    assert REPO.repository not in readme, "the README should no longer name the original"
    assert "git clone https://github.com/someone/my-dropout-course && cd my-dropout-course" in readme
    again = course_cli("badges", str(root))
    assert "rewrote 0 file(s)" in again.stdout and "wrote 0 exercise edition" in again.stdout
    assert course_cli("badges", str(root), "--check").returncode == 0


def test_check_reports_disagreement_without_writing(tmp_path, course_cli):
    root = copy_course(tmp_path, "someone/fork", REPO.release[1:])
    before = {p: p.read_bytes() for p in root.rglob("*.ipynb")}
    result = course_cli("badges", str(root), "--check")
    assert result.returncode == 1
    assert f"{SOURCES.as_posix()}/{CHAPTERS[0].name}" in result.stdout
    assert f"{EXERCISES.as_posix()}/{CHAPTERS[0].name}" in result.stdout
    assert {p: p.read_bytes() for p in root.rglob("*.ipynb")} == before


def test_a_new_release_repoints_every_badge_and_install(tmp_path, course_cli):
    root = copy_course(tmp_path, REPO.repository, "9.0.0")
    assert course_cli("badges", str(root)).returncode == 0
    for folder in (SOURCES, EXERCISES):
        for path in (root / folder).glob("*.ipynb"):
            text = path.read_text()
            assert f"@{REPO.release}" not in text and f"/blob/{REPO.release}/" not in text
            assert "@v9.0.0" in text and "/blob/v9.0.0/" in text


def test_a_chapter_without_a_badge_gets_one_under_its_title(tmp_path):
    root = copy_course(tmp_path, REPO.repository, REPO.release[1:])
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 09 · My own chapter\n\nSome words."),
        nbformat.v4.new_code_cell("import sys"),
    ])
    nbformat.write(nb, root / SOURCES / "09_mine.ipynb")
    rewrite_badges(root, log=lambda _: None)
    title = nbformat.read(root / SOURCES / "09_mine.ipynb", as_version=4).cells[0].source
    assert title == ("# 09 · My own chapter\n\n" + REPO.badge(f"{SOURCES.as_posix()}/09_mine.ipynb")
                     + "\n\nSome words.")
    edition = nbformat.read(root / EXERCISES / "09_mine.ipynb", as_version=4).cells[0].source
    assert REPO.badge(f"{EXERCISES.as_posix()}/09_mine.ipynb") in edition


def test_one_corrupt_notebook_stops_badges_before_anything_is_written(tmp_path, course_cli):
    root = copy_course(tmp_path, "someone/fork", REPO.release[1:])
    last = root / SOURCES / CHAPTERS[-1].name
    text = last.read_text()
    last.write_text("<<<<<<< HEAD\n" + text + "=======\n" + text + ">>>>>>> theirs\n")
    before = {p: p.read_bytes() for p in root.rglob("*.ipynb")}
    before["README.md"] = (root / "README.md").read_bytes()
    result = course_cli("badges", str(root))
    assert result.returncode == 1
    assert f"{CHAPTERS[-1].name} is not a readable notebook: its text is not JSON. A merge " \
           "conflict leaves <<<<<<< lines in it" in result.stderr
    after = {p: p.read_bytes() for p in root.rglob("*.ipynb")}
    after["README.md"] = (root / "README.md").read_bytes()
    assert after == before, "an earlier chapter, an edition or the README was rewritten"


@pytest.mark.parametrize("command", ["student", "course"])
def test_every_command_names_the_notebook_it_cannot_read(tmp_path, command, course_cli):
    src = tmp_path / "notebooks"
    src.mkdir()
    shutil.copy(CHAPTERS[0], src / CHAPTERS[0].name)
    (src / "02_broken.ipynb").write_text('{"cells": [')
    args = [command, str(src), "--out", str(tmp_path / "out")]
    result = course_cli(*args)
    assert result.returncode == 1
    assert "02_broken.ipynb is not a readable notebook" in result.stderr
    assert not (tmp_path / "out" / CHAPTERS[0].name).exists()


@pytest.mark.parametrize("table, problem", [
    ('[project]\nversion = "0.2.0"\n[tool.course]\nrepository = "no-slash"\n',
     "must look like 'owner/name'"),
    ('[project]\nversion = "0.2.0"\n[tool.course]\nrepository = "a/b"\nbranch = "main"\n',
     "branch is no longer read"),
    ('[project]\nversion = "latest"\n[tool.course]\nrepository = "a/b"\n',
     "version must be a plain release number"),
    ('[tool.other]\nx = 1\n', "no [tool.course] table"),
])
def test_bad_settings_get_clear_errors(tmp_path, table, problem, course_cli):
    (tmp_path / "pyproject.toml").write_text(table)
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("(", r"\(")):
        read_course_repository(tmp_path)
    result = course_cli("badges", str(tmp_path))
    assert result.returncode == 1 and problem in result.stderr


def test_missing_pyproject_is_explained(tmp_path, course_cli):
    result = course_cli("badges", str(tmp_path))
    assert result.returncode == 1 and "no pyproject.toml" in result.stderr


# --- the setup cell, outside Colab -------------------------------------------------------------

def colab_block(source):
    """The setup cell's statements up to and including its `if "google.colab" in sys.modules:`."""
    tree = ast.parse(source)
    for n, node in enumerate(tree.body):
        if isinstance(node, ast.If) and "google.colab" in ast.unparse(node.test):
            return ast.Module(body=tree.body[: n + 1], type_ignores=[])
    raise AssertionError("the setup cell has no `if \"google.colab\" in sys.modules:` block")


def run_setup_block(path, monkeypatch, *, in_colab):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    source = nbformat.read(path, as_version=4).cells[1].source
    exec(compile(colab_block(source), f"{path.name} setup cell", "exec"), {})
    return calls


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_setup_cell_installs_nothing_outside_colab(path, monkeypatch):
    assert run_setup_block(path, monkeypatch, in_colab=False) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_setup_cell_in_colab_pip_installs_the_course_from_the_configured_repository(
        path, monkeypatch):
    calls = run_setup_block(path, monkeypatch, in_colab=True)
    assert len(calls) == 1, f"expected one pip install, got {calls}"
    (command,), kwargs = calls[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"], command
    assert kwargs.get("check") is True, "a failed install must stop the notebook, not limp on"
    requirement = Requirement(command[-1])
    assert requirement.name == "course-utils"
    assert requirement.url == f"git+https://github.com/{REPO.repository}@{REPO.release}"
    assert command[-1] == REPO.install_requirement
