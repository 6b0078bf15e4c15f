"""Run the course headlessly: execute every chapter and render it to HTML.

This is what ``make course`` calls. It needs the test extras (nbclient, nbconvert, ipykernel).
"""

from __future__ import annotations

import contextlib
import os
import time
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
    """Execute each chapter in ``src`` and write ``out/NAME.ipynb`` and ``out/NAME.html``.

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
            html, _ = exporter.from_notebook_node(nb)
            html_path = out / (path.stem + ".html")
            html_path.write_text(html, encoding="utf-8")
            seconds = time.perf_counter() - start
            results.append((html_path, seconds))
            log(f"[{i}/{len(notebooks)}] {path.name}: {seconds:.1f} s -> {html_path}")
    total = sum(s for _, s in results)
    log(f"done: {len(results)} chapter(s) in {total:.1f} s")
    return results
