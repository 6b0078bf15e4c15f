"""Run the course headlessly: execute every chapter into a folder of executed notebooks.

This is what ``make course`` calls; the book site (:mod:`course_tools.site`) and the slides
(:mod:`course_tools.slides`) are rendered from its output, so a chapter runs once for both. It
needs the instructor extra (nbclient) and a Jupyter kernel (ipykernel).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from pathlib import Path

from .chapters import chapter_info, chapters, read_notebook


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
    """Execute each chapter in ``src`` and write the executed notebook ``out/NAME.ipynb``.

    Full mode unless ``fast``. Progress bars are turned off (they render as dead widgets in
    static pages). Each figure's plain-text form is its description (:mod:`course_tools.alt_text`),
    which the site uses as alt text. Returns ``[(notebook_path, seconds), ...]`` and logs one line
    per chapter. A chapter that raises stops the build with its name in the error.

    ``only`` (chapter numbers or names) re-executes just those chapters, after an edit.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    every = chapters(src)
    notebooks = select_chapters(every, only)
    # Read every chapter before running any: an unreadable one fails in a second, not after
    # the chapters before it have run for minutes.
    for path in every:
        chapter_info(path)
    books = [read_notebook(path) for path in notebooks]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    mode = "fast" if fast else "full"
    log(f"executing {len(notebooks)} chapter(s) from {src} into {out} ({mode} mode)")
    with environment({"COURSE_FAST": "1" if fast else "0", "COURSE_PROGRESS": "0"}):
        for i, (path, nb) in enumerate(zip(notebooks, books, strict=True), 1):
            start = time.perf_counter()
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
                # Each figure's text/plain becomes its description: the site's alt text.
                extra_arguments=["--IPKernelApp.extensions=course_tools.alt_text"],
            )
            try:
                client.execute()
            except CellExecutionError as err:
                raise RuntimeError(f"{path.name} failed while executing:\n{err}") from err
            target = out / path.name
            nbformat.write(nb, target)
            seconds = time.perf_counter() - start
            results.append((target, seconds))
            log(f"[{i}/{len(notebooks)}] {path.name}: {seconds:.1f} s -> {target}")
    total = sum(s for _, s in results)
    log(f"done: {len(results)} chapter(s) in {total:.1f} s ({mode} mode)")
    return results
