"""Run the course headlessly: execute every chapter and render it to HTML, with an index.

This is what ``make course`` calls. It needs the instructor extra (nbclient, nbconvert) and a
Jupyter kernel (ipykernel).
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

from .chapters import EXERCISES, SOURCES, ChapterInfo, chapter_info, chapters, read_notebook
from .colab import read_course_repository


def _inline_markdown(text: str) -> str:
    # The goals use only **bold**, *italic*, `code` and simple $math$; render those (math as
    # plain italic text: no MathJax on this page) and escape everything else.
    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\$([^$]+)\$", r'<span class="math">\1</span>', text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


def _colab_links(notebooks: list[Path]) -> dict[str, str]:
    """Colab links for the index: when the chapters are the sources of a course whose
    pyproject.toml has [tool.course], each opens the chapter's exercise edition, where a student
    tries the exercises; none otherwise.

    >>> link = _colab_links(chapters("notebooks/solutions"))["01_overfitting.ipynb"]
    >>> link.startswith("https://colab.research.google.com/github/"), link.endswith("notebooks/exercises/01_overfitting.ipynb")
    (True, True)
    """
    folder = notebooks[0].resolve().parent
    root = next((p for p in folder.parents if (p / "pyproject.toml").is_file()), None)
    if root is None or folder != (root / SOURCES).resolve():
        return {}
    try:
        repo = read_course_repository(root)
    except ValueError:
        return {}
    return {p.name: repo.colab_url((EXERCISES / p.name).as_posix()) for p in notebooks}


def render_index(infos: list[ChapterInfo], seconds: dict[str, float] | None = None, *,
                 mode: str = "full", colab: dict[str, str] | None = None,
                 built: set[str] | None = None) -> str:
    """The course's ``index.html``: the chapters in order, each with a link to its HTML page,
    its learning goals, the time a student needs, an "Open in Colab" link when ``colab`` maps
    the notebook's name to one, and the time the build took when ``seconds`` has it.
    A chapter missing from ``built`` (notebook names; None: all built) is listed unlinked."""
    seconds, colab = seconds or {}, colab or {}
    items = []
    for info in infos:
        goals = "".join(f"<li>{_inline_markdown(goal)}</li>" for goal in info.goals)
        ran = seconds.get(info.path.name)
        ran_text = f" · executed in {ran:.0f} s ({mode} mode)" if ran is not None else ""
        minutes = f"{info.minutes} min" if info.minutes is not None else html.escape(info.time)
        link = colab.get(info.path.name)
        if link:
            ran_text += f' · <a class="colab" href="{html.escape(link)}">try the exercises in Colab</a>'
        if built is None or info.path.name in built:
            title = (f'<a class="chapter-link" href="{html.escape(info.path.stem)}.html">'
                     f"{html.escape(info.title)}</a>")
        else:
            title = (f'<span class="chapter-link">{html.escape(info.title)}</span>'
                     f' <span class="unbuilt">(page not built)</span>')
        items.append(
            f'<li class="chapter">\n'
            f"  {title}\n"
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
  span.chapter-link {{ font-size: 1.15rem; font-weight: 600; color: #59636e; }}
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
def environment(values: Mapping[str, str | None]):
    """Set (or, for ``None``, unset) environment variables for the block, then put them back.
    The chapters' kernels inherit this process's environment, so this sets their mode; the
    tests use it to hide or show the real data.

    >>> with environment({"COURSE_FAST": "1"}):
    ...     os.environ["COURSE_FAST"]
    '1'
    """

    def apply(settings):
        for name, value in settings.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    saved = {name: os.environ.get(name) for name in values}
    apply(values)
    try:
        yield
    finally:
        apply(saved)


def select_chapters(notebooks: list[Path], only) -> list[Path]:
    """The chapters of ``notebooks`` that ``only`` names, by number ("05") or by file name with
    or without ".ipynb"; all of them when ``only`` is None or empty.

    >>> [p.name for p in select_chapters(chapters("notebooks/solutions"), ["5", "02_bernoulli_mask"])]
    ['02_bernoulli_mask.ipynb', '05_with_without_dropout.ipynb']
    """
    if not only:
        return list(notebooks)
    keys = {}
    for path in notebooks:
        for key in (path.name, path.stem, path.name[:2], str(int(path.name[:2]))):
            keys[key] = path
    unknown = [str(name) for name in only if str(name) not in keys]
    if unknown:
        raise ValueError(f"only= names no chapter: {', '.join(map(repr, unknown))}; "
                         f"allowed: a number from {notebooks[0].name[:2]} to "
                         f"{notebooks[-1].name[:2]} or a file name such as {notebooks[0].name}")
    chosen = {keys[str(name)] for name in only}
    return [path for path in notebooks if path in chosen]


def build_course(
    src: str | Path,
    out: str | Path,
    *,
    fast: bool = False,
    timeout: int = 1800,
    only=None,
    log=print,
) -> list[tuple[Path, float]]:
    """Execute each chapter in ``src`` and write ``out/NAME.ipynb``, ``out/NAME.html`` and an
    ``out/index.html`` that lists the chapters.

    Full mode unless ``fast``. Progress bars are turned off (they render as dead widgets in
    static HTML). Returns ``[(html_path, seconds), ...]`` and logs one line per chapter.
    A chapter that raises stops the build with its name in the error.

    ``only`` (chapter numbers or names) rebuilds just those chapters, after an edit: the index
    still lists every chapter, links the pages already in ``out``, and names the others as
    not built.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    every = chapters(src)
    notebooks = select_chapters(every, only)
    # Read every chapter before running any: an unreadable one fails in a second, not after
    # the chapters before it have run for minutes.
    infos = [chapter_info(path) for path in every]
    books = [read_notebook(path) for path in notebooks]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    results = []
    mode = "fast" if fast else "full"
    log(f"building {len(notebooks)} chapter(s) from {src} into {out} ({mode} mode)")
    with environment({"COURSE_FAST": "1" if fast else "0", "COURSE_PROGRESS": "0"}):
        for i, (path, nb) in enumerate(zip(notebooks, books, strict=True), 1):
            start = time.perf_counter()
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
    built = {p.name for p in every if (out / (p.stem + ".html")).is_file()}
    index.write_text(render_index(infos, ran, mode=mode, colab=_colab_links(every),
                                  built=built), encoding="utf-8")
    total = sum(s for _, s in results)
    log(f"done: {len(results)} chapter(s) in {total:.1f} s; open {index}")
    return results
