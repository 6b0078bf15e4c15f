"""The book site (course_tools/site.py): its pages, folded solutions, alt text, links, offline.

The Sphinx build here runs on the chapters as stored (without outputs), a few seconds; `make
test-browser` builds it from the chapters executed in fast mode and opens it in Chromium.
"""

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools.chapters import EXERCISES, SOURCES, chapters
from course_tools.colab import CourseRepository, read_course_repository
from course_tools.site import (
    ANSWER_TITLE,
    SOLUTION_PROMPT,
    broken_links,
    build_site,
    readme_sections,
    rewrite_links,
    site_chapter,
    site_pages,
)

ROOT = Path(__file__).resolve().parent.parent
REPO = read_course_repository(ROOT)
CHAPTERS = chapters(ROOT / SOURCES)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built from the stored chapters, as if `make course` had executed them."""
    executed = tmp_path_factory.mktemp("executed")
    for path in CHAPTERS:
        shutil.copy(path, executed / path.name)
    out = tmp_path_factory.mktemp("site")
    build_site(executed, out, root=ROOT, log=lambda line: None)
    return out / "html"


def test_the_site_has_the_landing_page_every_chapter_instructors_and_search(site):
    pages = {p.name for p in site.glob("*.html")}
    assert {"index.html", "instructors.html", "search.html"} <= pages
    assert {f"{p.stem}.html" for p in CHAPTERS} <= pages
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "Syllabus" in index and "For students" in index
    for path in CHAPTERS:  # the syllabus links each chapter's page, in order
        assert f'href="{path.stem}.html"' in index, f"the landing page does not link {path.stem}"
    order = [index.index(f'href="{p.stem}.html"') for p in CHAPTERS]
    assert order == sorted(order)
    instructors = (site / "instructors.html").read_text(encoding="utf-8")
    assert "nbgrader" in instructors and "generate_assignment" in instructors


def test_each_chapter_opens_its_exercise_edition_in_colab_and_folds_its_solutions(site):
    for path in CHAPTERS:
        page = (site / f"{path.stem}.html").read_text(encoding="utf-8")
        edition = REPO.colab_url((EXERCISES / path.name).as_posix())
        assert page.count(edition) >= 2, f"{path.name}: the launch button and the link"
        nb = nbformat.read(path, as_version=4)
        code = sum(c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution", False)
                   for c in nb.cells)
        written = sum(c.cell_type == "markdown"
                      and c.metadata.get("nbgrader", {}).get("solution", False) for c in nb.cells)
        assert page.count(SOLUTION_PROMPT[0]) == code, path.name
        assert page.count(ANSWER_TITLE) == written, path.name
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "YOUR CODE HERE",
                       "Your prediction"):
            assert marker not in page, f"{path.name}: {marker!r} on the site"


def test_the_site_loads_nothing_from_the_web(site):
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["'](https?:)?//""", text)
        assert not remote, f"{page.name} loads {len(remote)} resource(s) from the web"
    assert (site / "_static" / "mathjax" / "MathJax.js").is_file()


def test_no_internal_link_is_broken(site):
    assert broken_links(site) == []


def test_broken_links_are_found(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#there">b</a> <a href="c.html">c</a> '
                                     '<img src="pic.png"> <a href="https://x.org">web</a>')
    (tmp_path / "b.html").write_text('<h1 id="here">b</h1>')
    assert broken_links(tmp_path) == ["a.html -> b.html#there", "a.html -> c.html",
                                      "a.html -> pic.png"]


def test_a_missing_or_stale_execution_is_named(tmp_path):
    with pytest.raises(ValueError, match="has no executed 01_overfitting.ipynb: run `make course`"):
        build_site(tmp_path, tmp_path / "site", root=ROOT)
    for path in CHAPTERS:
        shutil.copy(path, tmp_path / path.name)
    old = tmp_path / CHAPTERS[3].name
    os.utime(old, (0, 0))
    with pytest.raises(ValueError, match=f"{CHAPTERS[3].name} is older than its source"):
        build_site(tmp_path, tmp_path / "site", root=ROOT)


def test_readme_links_become_site_links():
    repo = CourseRepository("me/course", "v2.0.0")
    row = ("| 05 | [With and without](https://colab.research.google.com/github/me/course/blob/"
           "v2.0.0/notebooks/exercises/05_with.ipynb) | stuff | 40 |")
    assert rewrite_links(row, repo, set()).startswith("| 05 | [With and without](05_with.ipynb) |")
    text = "[here](#syllabus), [there](#without-make), ![fig](figures/a.png), [lic](LICENSE)"
    assert rewrite_links(text, repo, {"syllabus"}) == (
        "[here](#syllabus), [there](https://github.com/me/course/blob/v2.0.0/README.md#without-make)"
        ", ![fig](figures/a.png), [lic](https://github.com/me/course/blob/v2.0.0/LICENSE)")


def test_the_pages_are_cut_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parts = readme_sections(readme)
    pages = site_pages(readme, REPO)
    assert pages["index.md"].startswith("# Dropout in PyTorch")
    assert "## For instructors" not in pages["index.md"]
    assert pages["instructors.md"].startswith("# For instructors")
    assert "**Keep your work.**" in parts["For students"] and "**Keep your work.**" in pages["index.md"]
    with pytest.raises(ValueError, match="README.md has no '## Syllabus' section"):
        site_pages("# Title\n\n## For students\n", REPO)


def test_a_chapter_page_folds_solutions_and_describes_its_figures():
    repo = CourseRepository("me/course", "v2.0.0")
    title = new_markdown_cell("# 01 · Demo\n\n" + repo.badge("notebooks/solutions/01_demo.ipynb"))
    setup = new_code_cell("import course_utils")
    answer = new_code_cell("def f(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION")
    answer.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "f"}
    check = new_code_cell("assert f(2) == 4\n# BEGIN HIDDEN TESTS\nassert f(3) == 6\n"
                          "# END HIDDEN TESTS\nprint('ok')")
    check.metadata["nbgrader"] = {"solution": False, "grade": True, "grade_id": "f-check"}
    guess = new_markdown_cell("**Your prediction**")
    guess.metadata["tags"] = ["prediction"]
    written = new_markdown_cell("Because the mask is random.")
    written.metadata["nbgrader"] = {"solution": True, "grade": True, "grade_id": "w"}
    figure = new_code_cell("plot()", outputs=[
        new_output("display_data", data={"image/png": "iVBOR", "text/plain": "Figure: loss."}),
        new_output("display_data", data={"image/png": "iVBOR",
                                         "text/plain": "<Figure size 640x480 with 1 Axes>"})])
    bare = new_code_cell("plot()", outputs=[new_output("display_data", data={
        "image/png": "iVBOR", "text/plain": "<Figure size 640x480 with 1 Axes>"})])
    widget = new_code_cell("explorer()", outputs=[new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
        "text/plain": "VBox()"})])
    nb = new_notebook(cells=[title, setup, answer, check, guess, written, figure, bare, widget])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    page = site_chapter(nb, repo, "01_demo.ipynb")
    sources = [c.source for c in page.cells]
    assert "exercises/01_demo.ipynb" in sources[0] and "colab-badge" not in sources[0]
    assert page.cells[1].metadata["tags"] == ["hide-input"]
    assert sources[2] == "def f(x):\n    return 2 * x"
    assert page.cells[2].metadata["mystnb"]["code_prompt_show"] == SOLUTION_PROMPT[0]
    assert sources[3] == "assert f(2) == 4\nprint('ok')"
    assert not any("Your prediction" in s for s in sources)
    assert sources[4].startswith(f":::{{dropdown}} {ANSWER_TITLE}\n")
    assert page.cells[5].metadata["mystnb"]["image"] == {"alt": "Figure: loss."}
    assert "image" not in page.cells[6].metadata.get("mystnb", {})
    assert list(page.cells[7].outputs[0]["data"]) == ["text/markdown"]  # no widget scripts
    assert "widgets" not in page.metadata
    assert nb.cells[2].source.count("BEGIN SOLUTION") == 1  # the input is unchanged
