"""Run the course headlessly: execute every chapter and render it to HTML.

This is what ``make course`` calls. It needs the test extras (nbclient, nbconvert, ipykernel).
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path


def chapters(src: str | Path) -> list[Path]:
    """The chapter notebooks in ``src``, in course order (their names start with the number).

    >>> [p.name for p in chapters("notebooks")][:1]
    ['01_overfitting.ipynb']
    """
    folder = Path(src)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of notebooks")
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise ValueError(f"no chapter notebooks (NN_name.ipynb) in {folder}")
    return found


@dataclass(frozen=True)
class ChapterInfo:
    """What a chapter's title cell says about it (see the notebook template in DESIGN.md)."""

    path: Path
    title: str  # "01 · Overfitting: when a network learns its training set too well"
    goals: tuple[str, ...]  # the "What you will learn" bullets, as markdown
    time: str  # the "Time:" line's text, e.g. "about 25 minutes. Every cell runs ..."
    minutes: int | None  # the number in "about N minutes", if there is one


def chapter_info(path: str | Path) -> ChapterInfo:
    """Title, learning goals and time from the first cell of the chapter at ``path``.

    >>> info = chapter_info("notebooks/01_overfitting.ipynb")
    >>> info.title[:17], len(info.goals), info.minutes
    ('01 · Overfitting:', 5, 25)
    """
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    source = nb.cells[0].source if nb.cells and nb.cells[0].cell_type == "markdown" else ""
    lines = source.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"{path.name}: the first cell should start with the title, '# NN · Title'")
    goals: list[str] = []
    in_goals = False
    for line in lines:
        if "What you will learn" in line:
            in_goals = True
        elif in_goals and line.startswith("- "):
            goals.append(line[2:].strip())
        elif in_goals and goals and line.startswith("  ") and line.strip():
            goals[-1] += " " + line.strip()  # a bullet continued on the next line
        elif in_goals and goals:
            in_goals = False
    time_line = next((line for line in lines if "Time:" in line), "")
    time_text = time_line.split("Time:", 1)[1].strip(" *") if time_line else ""
    minutes = re.search(r"(\d+)\s*min", time_text)
    return ChapterInfo(path, lines[0][2:].strip(), tuple(goals), time_text,
                       int(minutes.group(1)) if minutes else None)


def _inline_markdown(text: str) -> str:
    # The goals use only **bold**, *italic*, `code` and simple $math$; render those (math as
    # plain italic text: no MathJax on this page) and escape everything else.
    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\$([^$]+)\$", r'<span class="math">\1</span>', text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


def _colab_links(notebooks: list[Path]) -> dict[str, str]:
    # Colab links for the index when the chapters sit in the notebooks/ folder of a course
    # whose pyproject.toml has [tool.course]; none otherwise.
    from .colab import read_course_repository

    root = notebooks[0].resolve().parent.parent
    try:
        repo = read_course_repository(root)
    except ValueError:
        return {}
    return {p.name: repo.colab_url(p.resolve().relative_to(root).as_posix()) for p in notebooks}


def render_index(infos: list[ChapterInfo], seconds: dict[str, float] | None = None, *,
                 mode: str = "full", colab: dict[str, str] | None = None) -> str:
    """The course's ``index.html``: the chapters in order, each with a link to its HTML page,
    its learning goals, the time a student needs, an "Open in Colab" link when ``colab`` maps
    the notebook's name to one, and the time the build took when ``seconds`` has it."""
    seconds, colab = seconds or {}, colab or {}
    items = []
    for info in infos:
        goals = "".join(f"<li>{_inline_markdown(goal)}</li>" for goal in info.goals)
        ran = seconds.get(info.path.name)
        ran_text = f" · executed in {ran:.0f} s ({mode} mode)" if ran is not None else ""
        minutes = f"{info.minutes} min" if info.minutes is not None else html.escape(info.time)
        link = colab.get(info.path.name)
        if link:
            ran_text += f' · <a class="colab" href="{html.escape(link)}">open in Colab</a>'
        items.append(
            f'<li class="chapter">\n'
            f'  <a class="chapter-link" href="{html.escape(info.path.stem)}.html">'
            f"{html.escape(info.title)}</a>\n"
            f'  <p class="meta"><span class="time">{minutes}</span>{ran_text}</p>\n'
            f'  <ul class="goals">{goals}</ul>\n'
            f"</li>"
        )
    total = sum(i.minutes or 0 for i in infos)
    return _INDEX_PAGE.format(chapters="\n".join(items), count=len(infos), minutes=total)


_INDEX_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dropout in PyTorch: a hands-on course</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
         padding: 0 1rem; line-height: 1.5; color: #1f2328; }}
  ol.chapters {{ padding-left: 0; list-style: none; }}
  li.chapter {{ border: 1px solid #d0d7de; border-radius: 8px; padding: 0.8rem 1.1rem;
               margin-bottom: 1rem; }}
  a.chapter-link {{ font-size: 1.15rem; font-weight: 600; text-decoration: none; }}
  p.meta {{ margin: 0.2rem 0; color: #59636e; font-size: 0.9rem; }}
  ul.goals {{ margin: 0.3rem 0 0; }}
  span.math {{ font-family: serif; font-style: italic; }}
  code {{ background: #f6f8fa; padding: 0 0.2em; border-radius: 4px; }}
</style>
</head>
<body>
<h1>Dropout in PyTorch: a hands-on course</h1>
<p>{count} chapters, about {minutes} minutes in all. Each page is the chapter executed from top
to bottom, with every figure and number produced by its code.</p>
<ol class="chapters">
{chapters}
</ol>
</body>
</html>
"""


@contextlib.contextmanager
def _environment(**values: str):
    # The kernels inherit this process's environment; set the mode for them, then put it back.
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def build_course(
    src: str | Path,
    out: str | Path,
    *,
    fast: bool = False,
    timeout: int = 1800,
    log=print,
) -> list[tuple[Path, float]]:
    """Execute each chapter in ``src`` and write ``out/NAME.ipynb``, ``out/NAME.html`` and an
    ``out/index.html`` that lists the chapters.

    Full mode unless ``fast``. Progress bars are turned off (they render as dead widgets in
    static HTML). Returns ``[(html_path, seconds), ...]`` and logs one line per chapter.
    A chapter that raises stops the build with its name in the error.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    notebooks = chapters(src)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    results = []
    mode = "fast" if fast else "full"
    log(f"building {len(notebooks)} chapter(s) from {src} into {out} ({mode} mode)")
    with _environment(COURSE_FAST="1" if fast else "0", COURSE_PROGRESS="0"):
        for i, path in enumerate(notebooks, 1):
            start = time.perf_counter()
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            )
            try:
                client.execute()
            except CellExecutionError as err:
                raise RuntimeError(f"{path.name} failed while executing:\n{err}") from err
            nbformat.write(nb, out / path.name)
            page, _ = exporter.from_notebook_node(nb)
            html_path = out / (path.stem + ".html")
            html_path.write_text(page, encoding="utf-8")
            seconds = time.perf_counter() - start
            results.append((html_path, seconds))
            log(f"[{i}/{len(notebooks)}] {path.name}: {seconds:.1f} s -> {html_path}")
    index = out / "index.html"
    ran = {p.name: s for p, (_, s) in zip(notebooks, results, strict=True)}
    index.write_text(render_index([chapter_info(p) for p in notebooks], ran, mode=mode,
                                  colab=_colab_links(notebooks)), encoding="utf-8")
    total = sum(s for _, s in results)
    log(f"done: {len(results)} chapter(s) in {total:.1f} s; open {index}")
    return results
