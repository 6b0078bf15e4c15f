"""`make course` machinery, on a tiny notebook (the real chapters run under nbval)."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_tools.chapters import chapters
from course_tools.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def write_chapter(folder, name, *cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / name)


def test_course_command_executes_with_figures_and_their_descriptions(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    write_chapter(src, "01_demo.ipynb", new_markdown_cell(
        "# 01 · Demo & <friends>\n\n**What you will learn**\n- how *this* works;\n- why `x`\n"
        "  matters;\n- what $1/(1-p)$ is.\n\n**Time:** about 5 minutes."), new_code_cell(
        "import os\n"
        "import matplotlib.pyplot as plt\n"
        "print('fast', os.environ['COURSE_FAST'], 'progress', os.environ['COURSE_PROGRESS'])\n"
        # plt.show() inside the cell of the first figure: the case that turns on the inline
        # backend, which drops every figure formatter, just before the figure is shown.
        "plt.plot([1, 2, 3], label='loss'); plt.xlabel('epoch'); plt.legend(); plt.show()"
    ))
    (src / "notes.ipynb").write_text("not a chapter, not executed")
    out = tmp_path / "build"
    result = subprocess.run(
        [sys.executable, "-m", "course_utils", "course", str(src), "--out", str(out), "--fast"],
        capture_output=True, text=True, check=True,
    )
    assert "[1/1] 01_demo.ipynb" in result.stdout and "(fast mode)" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["01_demo.ipynb"]
    executed = nbformat.read(out / "01_demo.ipynb", as_version=4)
    assert "fast 1 progress 0" in executed.cells[1].outputs[0]["text"]
    figure = next(o for o in executed.cells[1].outputs if "image/png" in o.get("data", {}))
    # The figure's description, the site's alt text, in place of "<Figure size ...>".
    assert figure["data"]["text/plain"] == "Figure: a panel (x: epoch; lines: loss)."


def test_course_command_names_the_failing_chapter(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    write_chapter(src, "01_broken.ipynb", new_markdown_cell("# 01 · Broken"), new_code_cell("1 / 0"))
    result = subprocess.run(
        [sys.executable, "-m", "course_utils", "course", str(src), "--out", str(tmp_path / "b")],
        capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "01_broken.ipynb failed" in result.stderr and "ZeroDivisionError" in result.stderr


def test_a_chapter_without_its_title_stops_the_build_before_anything_runs(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    write_chapter(src, "01_fine.ipynb", new_markdown_cell("# 01 · Fine"),
                  new_code_cell("import time; time.sleep(60)"))
    write_chapter(src, "02_untitled.ipynb", new_code_cell("1 + 1"))
    result = subprocess.run(
        [sys.executable, "-m", "course_utils", "course", str(src), "--out", str(tmp_path / "b")],
        capture_output=True, text=True, timeout=50,
    )
    assert result.returncode == 1
    assert "02_untitled.ipynb: the first cell should start with the title" in result.stderr


def test_chapters_are_found_in_order(tmp_path):
    for name in ("02_b.ipynb", "01_a.ipynb", "scratch.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in chapters(tmp_path)] == ["01_a.ipynb", "02_b.ipynb"]


def test_cli_help_explains_each_command(capsys):
    result = subprocess.run([sys.executable, "-m", "course_utils", "--help"],
                            capture_output=True, text=True, check=True)
    assert "examples:" in result.stdout
    for command in ("course", "student", "badges", "figures", "site", "slides"):
        assert f"    {command} " in result.stdout, f"--help should list {command}"
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args([command, "--help"])
        assert exit_.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: python -m course_utils {command}")


def test_only_re_executes_the_named_chapters(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    for number, name in (("01", "one"), ("02", "two"), ("03", "three")):
        write_chapter(src, f"{number}_{name}.ipynb", new_markdown_cell(
            f"# {number} · {name.title()}\n\n**What you will learn**\n- a;\n- b;\n- c.\n\n"
            "**Time:** about 5 minutes."), new_code_cell(f"print('ran {name}')"))
    out = tmp_path / "build"
    out.mkdir()
    (out / "03_three.ipynb").write_text("from an earlier build")
    result = subprocess.run(
        [sys.executable, "-m", "course_utils", "course", str(src), "--out", str(out), "--fast",
         "--only", "2"], capture_output=True, text=True, check=True)
    assert "[1/1] 02_two.ipynb" in result.stdout and "01_one" not in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["02_two.ipynb", "03_three.ipynb"]
    assert (out / "03_three.ipynb").read_text() == "from an earlier build"

    wrong = subprocess.run(
        [sys.executable, "-m", "course_utils", "course", str(src), "--out", str(out),
         "--only", "4", "two.ipynb"], capture_output=True, text=True)
    assert wrong.returncode != 0
    assert ("only= names no chapter: '4', 'two.ipynb'; allowed: a number from 01 to 03 "
            "or a file name such as 01_one.ipynb") in wrong.stderr


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "course_utils", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_a_folder_named_like_a_chapter_is_not_a_chapter(tmp_path):
    (tmp_path / "00_notes.ipynb").mkdir()
    write_chapter(tmp_path, "01_one.ipynb", new_markdown_cell("# 01 · One"))
    assert [p.name for p in chapters(tmp_path)] == ["01_one.ipynb"]
    from course_tools.chapters import read_notebook
    with pytest.raises(ValueError, match="00_notes.ipynb is a folder, not a notebook"):
        read_notebook(tmp_path / "00_notes.ipynb")


@pytest.mark.parametrize("command", [["course", "--fast"], ["student"]])
def test_an_out_folder_inside_a_file_gets_one_line(tmp_path, command):
    src = tmp_path / "src"
    src.mkdir()
    write_chapter(src, "01_one.ipynb", new_markdown_cell("# 01 · One"))
    (tmp_path / "a_file").write_text("")
    result = run_cli(command[0], src, "--out", tmp_path / "a_file" / "out", *command[1:])
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"error: {tmp_path / 'a_file'}"), result.stderr


def test_a_pyproject_that_is_not_toml_is_named(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project\nname = "x"\n')
    result = run_cli("badges", tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"error: {tmp_path / 'pyproject.toml'} is not valid TOML: Expected ']'" in result.stderr
