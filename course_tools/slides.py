"""Slides for a live walkthrough: every chapter's cells carry RISE/reveal.js slide types.

The slide type of a cell is ``metadata["slideshow"]["slide_type"]``, the key that JupyterLab's
property inspector edits and that both ``jupyterlab-rise`` (live, in ``make lab``) and nbconvert's
reveal.js exporter (``make slides``, static decks) read. :func:`slide_type` is the course's rule
for a cell without one, and ``python -m course_utils slides --mark`` writes it into the chapters;
a type set by hand is kept.

The rule gives a slide one idea with its code or figure:

- the title cell and each ``## `` section open a slide; every other cell opens a sub-slide
  (one step down), except a code cell that follows a short explanation, which joins it;
- the set-up cell, the exercises' check cells and the "Your prediction" cells are skipped: the
  room reads the question and the answer, not the assertions or an empty box.

``build_slides`` renders the executed chapters as reveal.js decks, 1280x720, with code at 22 px,
reveal.js and MathJax copied from local packages (``sphinx-revealjs``, ``jupyter-server-mathjax``).

>>> from nbformat.v4 import new_code_cell, new_markdown_cell
>>> slide_type(new_markdown_cell("## 2. Masks"), 5, None)
'slide'
>>> slide_type(new_code_cell("mask = keep_mask(x, 0.5)"), 6, new_markdown_cell("Run it:"))
'-'
"""

from __future__ import annotations

import copy
import re
import shutil
import time
from pathlib import Path

from .assets import MATHJAX_SCRIPT, copy_mathjax, copy_revealjs
from .chapters import PREDICTION_TAG, SETUP_INDEX, SOURCES, chapters, is_check_cell, read_notebook
from .colab import BADGE_LINK

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
SHORT_MARKDOWN = 400  # characters: an explanation this short shares a slide with its code
WIDTH, HEIGHT = 1280, 720  # the deck's frame, in CSS pixels
CODE_PX = 22  # code font size on a slide (at least 20 px on a 1280x720 screen)


def slide_type(cell, index: int, previous) -> str:
    """The course's slide type for ``cell``, the ``index``-th cell, after ``previous`` (None for
    the first)."""
    tags = cell.get("metadata", {}).get("tags", [])
    if index == 0 or (cell.cell_type == "markdown" and cell.source.startswith("## ")):
        return "slide"
    if index == SETUP_INDEX and cell.cell_type == "code":
        return "skip"  # the set-up cell: installs, imports, the data
    if PREDICTION_TAG in tags or (cell.cell_type == "code" and is_check_cell(cell)):
        return "skip"
    if (cell.cell_type == "code" and previous is not None and previous.cell_type == "markdown"
            and len(previous.source) <= SHORT_MARKDOWN):
        return "-"
    return "subslide"


def mark_slides(nb) -> int:
    """Give every cell of ``nb`` without a slide type the rule's; returns how many changed."""
    changed, previous = 0, None
    for index, cell in enumerate(nb.cells):
        show = cell.metadata.setdefault("slideshow", {})
        if show.get("slide_type") not in SLIDE_TYPES:
            show["slide_type"] = slide_type(cell, index, previous)
            changed += 1
        previous = cell
    return changed


def unmarked_cells(nb) -> list[int]:
    """The indices of the cells of ``nb`` with no valid slide type."""
    return [i for i, cell in enumerate(nb.cells)
            if cell.get("metadata", {}).get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]


def write_slide_types(root: str | Path = ".", *, check: bool = False) -> list[Path]:
    """Mark every chapter in ``root/notebooks/solutions`` (see :func:`mark_slides`). Returns the
    chapters that changed (with ``check``, that would change, without writing)."""
    import nbformat

    changed = []
    for path in chapters(Path(root) / SOURCES):
        nb = read_notebook(path)
        if mark_slides(nb):
            changed.append(path)
            if not check:
                path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return changed


TEMPLATE = Path(__file__).parent / "deck"
PROSE_CHARS = 650  # a longer explanation continues on the next slide, at a paragraph break


def _paragraphs(text: str) -> list[str]:
    # Blocks separated by blank lines; a code fence or a $$ display stays whole.
    blocks, current, fenced = [], [], False
    for line in text.splitlines():
        if line.strip().startswith(("```", "$$")):
            fenced = not fenced if line.strip().count("$$") != 2 else fenced
        if not line.strip() and not fenced and current:
            blocks.append("\n".join(current))
            current = []
        elif line.strip() or current:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    # A long list is one block: its items are the places to cut.
    items = []
    for block in blocks:
        if len(block) <= PROSE_CHARS or block.lstrip().startswith(("```", "$$", "|")):
            items.append(block)
            continue
        for line in block.splitlines():
            if re.match(r"\s{0,3}([-*+]|\d+\.) ", line) or not items:
                items.append(line)
            else:
                items[-1] += "\n" + line
    return items


def split_prose(nb, limit: int = PROSE_CHARS):
    """The deck's copy of ``nb``: a markdown cell longer than ``limit`` characters is cut at
    paragraph breaks into pieces of about ``limit``, each piece after the first on a sub-slide of
    its own. The chapters keep their cells; only the static deck is cut.

    >>> from nbformat.v4 import new_markdown_cell, new_notebook
    >>> cell = new_markdown_cell("## A\\n\\n" + "x" * 500 + "\\n\\n" + "y" * 500)
    >>> cell.metadata["slideshow"] = {"slide_type": "slide"}
    >>> deck = split_prose(new_notebook(cells=[cell]))
    >>> [(c.source[:4], c.metadata["slideshow"]["slide_type"]) for c in deck.cells]
    [('## A', 'slide'), ('yyyy', 'subslide')]
    """
    from nbformat.v4 import new_markdown_cell

    deck = copy.deepcopy(nb)
    cells = []
    for cell in deck.cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type")
        if cell.cell_type != "markdown" or len(cell.source) <= limit or kind in ("skip", "notes"):
            cells.append(cell)
            continue
        pieces = [""]
        for block in _paragraphs(cell.source):
            if pieces[-1] and len(pieces[-1]) + len(block) > limit:
                pieces.append("")
            pieces[-1] += ("\n\n" if pieces[-1] else "") + block
        cell.source = pieces[0]
        cells.append(cell)
        for piece in pieces[1:]:
            more = new_markdown_cell(piece)
            more.metadata["slideshow"] = {"slide_type": "subslide"}
            cells.append(more)
    deck.cells = cells
    return deck


FIGURE_TAG = "deck-figure"  # a deck's copy of a cell that shows only its figures
BUSY_CODE_LINES = 8  # a cell with more code, or printout, than this shows its figures alone


def _lines(output) -> int:
    text = output.get("text") or output.get("data", {}).get("text/plain", "")
    return len("".join(text).splitlines())


def split_figures(nb, code_lines: int = BUSY_CODE_LINES):
    """The deck's copy of ``nb``: a code cell with figures and more than ``code_lines`` lines of
    code or of printout keeps its code and printout on its slide, and its figures go on the next
    sub-slide, alone (tagged FIGURE_TAG, which hides the code there), at full height.

    >>> from nbformat.v4 import new_code_cell, new_notebook, new_output
    >>> cell = new_code_cell("\\n".join(["x = 1"] * 9), outputs=[
    ...     new_output("stream", text="done\\n"),
    ...     new_output("display_data", data={"image/png": "iVBOR", "text/plain": "Figure: x."})])
    >>> cell.metadata["slideshow"] = {"slide_type": "-"}
    >>> deck = split_figures(new_notebook(cells=[cell]))
    >>> [([o.output_type for o in c.outputs], c.metadata["slideshow"]["slide_type"]) for c in deck.cells]
    [(['stream'], '-'), (['display_data'], 'subslide')]
    """
    deck = copy.deepcopy(nb)
    cells = []
    for cell in deck.cells:
        cells.append(cell)
        if cell.cell_type != "code" or cell.metadata.get("slideshow", {}).get("slide_type") == "skip":
            continue
        figures = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        others = [o for o in cell.get("outputs", []) if o not in figures]
        busy = (len(cell.source.splitlines()) > code_lines
                or sum(_lines(o) for o in others) > code_lines or len(figures) > 1)
        if not figures or not busy:
            continue
        cell.outputs = others
        for number, figure in enumerate(figures, 1):
            alone = copy.deepcopy(cell)
            if "id" in alone:  # nbformat 4.5 wants every cell's id unique
                alone["id"] = f"{cell['id'][:50]}-figure{number}"
            alone.outputs = [figure]
            alone.metadata["slideshow"] = {"slide_type": "subslide"}
            alone.metadata["tags"] = [*alone.metadata.get("tags", []), FIGURE_TAG]
            cells.append(alone)
    deck.cells = cells
    return deck


def build_slides(executed: str | Path = "build", out: str | Path = "build/slides", *,
                 log=print) -> float:
    """Render each executed chapter in ``executed`` as a reveal.js deck ``out/NAME.slides.html``
    that works offline. Returns the seconds it took."""
    from nbconvert import SlidesExporter

    executed, out = Path(executed), Path(out)
    try:
        books = chapters(executed)
    except ValueError:  # no folder, or no chapter in it
        raise ValueError(f"{executed} has no executed chapter: run `make course` first") from None
    start = time.perf_counter()
    static = out / "_static"
    if static.exists():
        shutil.rmtree(static)
    copy_revealjs(static / "revealjs")
    copy_mathjax(static / "mathjax")
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = SlidesExporter(extra_template_basedirs=[str(TEMPLATE.parent)],
                              template_name=TEMPLATE.name, reveal_url_prefix="_static/revealjs",
                              reveal_width=str(WIDTH), reveal_height=str(HEIGHT),
                              reveal_transition="none",  # slides change at once on a projector
                              exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={FIGURE_TAG}),
                                   enabled=True)
    for path in books:
        nb = read_notebook(path)
        missing = unmarked_cells(nb)
        if missing:
            raise ValueError(f"{path.name}: cell {missing[0] + 1} has no slide type; run "
                             "`python -m course_utils slides --mark`, then `make course`")
        # The Colab badge is an image from the web: a deck shows nothing remote.
        nb.cells[0].source = BADGE_LINK.sub("", nb.cells[0].source)
        body, _ = exporter.from_notebook_node(split_figures(split_prose(nb)), resources={
            "code_px": CODE_PX, "mathjax_script": f"_static/mathjax/{MATHJAX_SCRIPT}"})
        (out / f"{path.stem}.slides.html").write_text(body, encoding="utf-8")
    seconds = time.perf_counter() - start
    log(f"slides: {len(books)} decks in {seconds:.1f} s; open {out}/<chapter>.slides.html")
    return seconds
