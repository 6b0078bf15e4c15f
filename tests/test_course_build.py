"""`make course` machinery, on a tiny notebook (the real chapters run under nbval)."""

import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils.course import chapters


def write_chapter(folder, name, *cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / name)


def test_course_command_executes_and_renders_with_figures(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    write_chapter(src, "01_demo.ipynb", new_markdown_cell("# 01 · Demo"), new_code_cell(
        "import os\n"
        "import matplotlib.pyplot as plt\n"
        "print('fast', os.environ['COURSE_FAST'], 'progress', os.environ['COURSE_PROGRESS'])\n"
        "plt.plot([1, 2, 3])"
    ))
    (src / "notes.ipynb").write_text("not a chapter, not executed")
    out = tmp_path / "build"
    result = subprocess.run(
        [sys.executable, "-m", "course_utils", "course", str(src), "--out", str(out), "--fast"],
        capture_output=True, text=True, check=True,
    )
    assert "[1/1] 01_demo.ipynb" in result.stdout
    html = (out / "01_demo.html").read_text()
    assert "data:image/png;base64" in html  # the figure is embedded, not linked
    executed = nbformat.read(out / "01_demo.ipynb", as_version=4)
    assert "fast 1 progress 0" in executed.cells[1].outputs[0]["text"]


def test_course_command_names_the_failing_chapter(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    write_chapter(src, "01_broken.ipynb", new_code_cell("1 / 0"))
    result = subprocess.run(
        [sys.executable, "-m", "course_utils", "course", str(src), "--out", str(tmp_path / "b")],
        capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "01_broken.ipynb failed" in result.stderr and "ZeroDivisionError" in result.stderr


def test_chapters_are_found_in_order(tmp_path):
    for name in ("02_b.ipynb", "01_a.ipynb", "scratch.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in chapters(tmp_path)] == ["01_a.ipynb", "02_b.ipynb"]


def test_cli_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "course_utils", "--help"],
                            capture_output=True, text=True, check=True)
    assert "course" in result.stdout
