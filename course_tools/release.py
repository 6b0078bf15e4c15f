"""Point the whole course at the repository and release set in ``pyproject.toml``: the chapters'
badges and Colab installs, the README, and the exercise editions generated from the chapters.
This is ``python -m course_utils badges``; a fork or a new release runs it once."""

from __future__ import annotations

from pathlib import Path

from .chapters import SOURCES, chapters, read_notebook
from .colab import COLAB_URL, point_text, read_course_repository
from .exercises import exercise_editions, write_exercise_editions


def rewrite_badges(root: str | Path = ".", *, check: bool = False, log=print) -> list[Path]:
    """Point every chapter's badge and Colab install, and the README's badges, at the
    repository and release in ``root/pyproject.toml``, then regenerate the exercise editions
    from the re-pointed chapters. A chapter whose title cell has no badge gets one under its
    title.

    Returns the files that changed (with ``check=True``, the files that would change, and
    nothing is written).
    """
    import nbformat

    root = Path(root)
    repo = read_course_repository(root)
    # Every file is read and re-pointed in memory first: one unreadable notebook (a merge
    # conflict) then stops the command before anything is written, as `student` does.
    notebooks, sources = [], []  # the chapters that change; every chapter, re-pointed
    for path in chapters(root / SOURCES):
        nb = read_notebook(path)
        relative = path.relative_to(root).as_posix()
        before = [cell.source for cell in nb.cells]
        title = nb.cells[0] if nb.cells else None
        if title is None or title.cell_type != "markdown":
            raise ValueError(f"{path}: the first cell should be the markdown title cell; "
                             "nothing was written")
        if not COLAB_URL.search(title.source):
            head, _, rest = title.source.partition("\n")
            title.source = f"{head}\n\n{repo.badge(relative)}\n{rest}"
        title.source = point_text(title.source, repo, relative)
        for cell in nb.cells[1:]:
            cell.source = point_text(cell.source, repo, None)
        sources.append((path, nb))
        if [cell.source for cell in nb.cells] != before:
            notebooks.append((path, nb))
    readme, readme_text = root / "README.md", None
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        pointed = point_text(text, repo, None)
        readme_text = pointed if pointed != text else None
    changed = [path for path, _ in notebooks] + ([readme] if readme_text is not None else [])
    # Every edition is built before anything is written: a malformed exercise marker stops
    # the command here. The editions follow the re-pointed chapters, so --check names them too.
    editions = exercise_editions(root, sources)
    if not check:
        for path, nb in notebooks:
            nbformat.write(nb, path)
        if readme_text is not None:
            readme.write_text(readme_text, encoding="utf-8")
    verb = "would change" if check else "rewrote"
    where = f"github.com/{repo.repository} (release {repo.release})"
    log(f"{verb} {len(changed)} file(s) to point at {where}"
        + "".join(f"\n  {p.relative_to(root).as_posix()}" for p in changed))
    return changed + write_exercise_editions(root, check=check, editions=editions, log=log)
