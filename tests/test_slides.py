"""Slides (course_tools/slides.py): every cell has a slide type, the rule's invariants hold in
every chapter, and the decks render offline. `make test-browser` measures them in Chromium."""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_tools.chapters import SOURCES, chapters
from course_tools.slides import (
    PROSE_CHARS,
    SLIDE_TYPES,
    build_slides,
    mark_slides,
    split_prose,
    unmarked_cells,
    write_slide_types,
)

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = chapters(ROOT / SOURCES)


def kind(cell) -> str:
    return cell.metadata["slideshow"]["slide_type"]


def test_every_cell_of_every_chapter_has_a_slide_type():
    assert write_slide_types(ROOT, check=True) == [], (
        "run `python -m course_utils slides --mark`, then `make exercises`")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_room_sees_ideas_not_set_up_or_assertions(path):
    nb = nbformat.read(path, as_version=4)
    assert kind(nb.cells[0]) == "slide" and kind(nb.cells[1]) == "skip"
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            assert kind(cell) == "slide", cell.source.splitlines()[0]
        if "prediction" in cell.metadata.get("tags", []):
            assert kind(cell) == "skip"
        if cell.cell_type == "code" and grading.get("grade") and not grading.get("solution"):
            assert kind(cell) == "skip", f"check cell {grading['grade_id']} is on a slide"
    shown = [c for c in nb.cells if kind(c) != "skip"]
    assert sum(kind(c) in ("slide", "subslide") for c in shown) >= 15, "too few slides"


def test_marking_keeps_a_type_set_by_hand():
    long = new_markdown_cell("x" * 500)
    code = new_code_cell("print(1)")
    nb = new_notebook(cells=[new_markdown_cell("# T"), new_code_cell("setup"), long, code,
                             new_markdown_cell("Run:"), new_code_cell("print(2)")])
    code.metadata["slideshow"] = {"slide_type": "fragment"}
    assert mark_slides(nb) == 5
    assert [kind(c) for c in nb.cells] == ["slide", "skip", "subslide", "fragment", "subslide", "-"]
    assert mark_slides(nb) == 0 and unmarked_cells(nb) == []
    assert set(SLIDE_TYPES) >= {kind(c) for c in nb.cells}


def test_long_prose_continues_on_the_next_slide_and_keeps_its_blocks():
    table = "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 60
    fence = "```python\n" + "x = 1\n\n" * 40 + "```"
    items = "\n".join(f"- item {i} " + "w" * 60 for i in range(20))
    cell = new_markdown_cell("## Head\n\n" + "p " * 200 + "\n\n" + table + "\n\n" + fence
                             + "\n\n" + items)
    cell.metadata["slideshow"] = {"slide_type": "slide"}
    deck = split_prose(new_notebook(cells=[cell]))
    pieces = [c.source for c in deck.cells]
    assert [kind(c) for c in deck.cells] == ["slide"] + ["subslide"] * (len(pieces) - 1)
    assert pieces[0].startswith("## Head")
    # a table or a fence is never cut
    assert any(table.strip() in p for p in pieces) and any(fence in p for p in pieces)
    listed = [p for p in pieces if p.startswith("- item")]
    assert len(listed) >= 2 and all(len(p) <= PROSE_CHARS for p in listed)
    assert "\n\n".join(pieces).replace("\n\n", "\n").split() == cell.source.replace(
        "\n\n", "\n").split()  # nothing lost, nothing reordered


def test_the_decks_render_offline_from_the_executed_chapters(tmp_path):
    executed = tmp_path / "executed"
    executed.mkdir()
    for path in CHAPTERS:
        shutil.copy(path, executed / path.name)
    out = tmp_path / "slides"
    build_slides(executed, out, log=lambda line: None)
    for path in CHAPTERS:
        deck = (out / f"{path.stem}.slides.html").read_text(encoding="utf-8")
        assert "Reveal.initialize" in deck and "width: 1280, height: 720" in deck
        remote = re.findall(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["'](?:https?:)?//""", deck)
        assert not remote, f"{path.name}: the deck loads {remote} from the web"
        assert "colab-badge" not in deck
    assert (out / "_static" / "revealjs" / "dist" / "reveal.js").is_file()
    assert (out / "_static" / "mathjax" / "MathJax.js").is_file()


def test_a_cell_without_a_slide_type_is_named(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("# 01 · T"), new_code_cell("x = 1")])
    nb.cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    nbformat.write(nb, tmp_path / "01_t.ipynb")
    with pytest.raises(ValueError, match="01_t.ipynb: cell 2 has no slide type; run"):
        build_slides(tmp_path, tmp_path / "out")
    with pytest.raises(ValueError, match="has no executed chapter: run `make course` first"):
        build_slides(tmp_path / "out", tmp_path / "out2")


def test_a_busy_cell_shows_its_figures_alone_on_the_next_slide(tmp_path):
    from nbformat.v4 import new_output

    code = "\n".join(f"line_{i} = {i}" for i in range(12))
    figure = new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "F"})
    busy = new_code_cell(code, outputs=[new_output("stream", text="printed\n"), figure, figure])
    short = new_code_cell("plot()", outputs=[figure])
    nb = new_notebook(cells=[new_markdown_cell("# 01 · T"), new_code_cell("setup"), busy, short])
    mark_slides(nb)
    nbformat.write(nb, tmp_path / "01_t.ipynb")
    build_slides(tmp_path, tmp_path / "out", log=lambda line: None)
    deck = (tmp_path / "out" / "01_t.slides.html").read_text(encoding="utf-8")
    assert deck.count("line_11") == 1, "the figures' own slides must not repeat the code"
    assert deck.count("iVBORw0KGgo=") == 3  # two figures alone, one beside its short code
    assert deck.count("printed") == 1
