"""Student versions of the chapters: solutions out, checks kept, in nbgrader's own format.

The chapters mark their exercises the way nbgrader does, so an instructor can use either this
module or ``nbgrader generate_assignment`` and get the same student notebooks:

- in a cell whose metadata says ``nbgrader.solution: true``, each region between a
  ``# BEGIN SOLUTION`` line and a ``# END SOLUTION`` line becomes ``# YOUR CODE HERE`` plus
  ``raise NotImplementedError()``, indented like the ``BEGIN`` line. A solution cell without
  markers is replaced as a whole; in markdown the stub is ``YOUR ANSWER HERE``;
- in a check cell (``nbgrader.grade: true``) a region between ``# BEGIN HIDDEN TESTS`` and
  ``# END HIDDEN TESTS`` is removed, markers included;
- code outputs are cleared. Every other byte of the notebook stays as it was.

As in nbgrader, a marker is any line that contains the marker's words. Unlike nbgrader, a stray
``END`` line is an error too, so a typo can never leak half a solution.

>>> from nbformat.v4 import new_code_cell, new_notebook
>>> cell = new_code_cell("def f(x):\\n    # BEGIN SOLUTION\\n    return 2 * x\\n    # END SOLUTION")
>>> cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "f",
...                              "locked": False, "schema_version": 3}
>>> print(student_notebook(new_notebook(cells=[cell]), "demo.ipynb")[0].cells[0].source)
def f(x):
    # YOUR CODE HERE
    raise NotImplementedError()
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from .chapters import chapters, nbgrader_metadata, read_notebook

CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = "YOUR ANSWER HERE"
SOLUTION = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN_TESTS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


class MarkerError(ValueError):
    """A malformed exercise marker; the message names the notebook, the cell and the problem."""


@dataclass
class StudentStats:
    """What :func:`student_notebook` removed from one notebook."""

    code_regions: int = 0  # solution regions (or whole solution cells) in code cells
    answers: int = 0  # markdown solution cells
    hidden_regions: int = 0

    def __str__(self) -> str:
        def count(n, what):
            return f"{n} {what}{'' if n == 1 else 's'}"

        return ", ".join([count(self.code_regions, "code solution"),
                          count(self.answers, "written answer"),
                          count(self.hidden_regions, "hidden test region")])


def _where(name: str, index: int, cell) -> str:
    # Cells have no visible numbers in Jupyter, so add the grade_id or the first line to find it.
    grade_id = nbgrader_metadata(cell).get("grade_id")
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "(empty)")
    label = f"grade_id {grade_id!r}" if grade_id else f"starting {first[:60]!r}"
    return f"{name}, cell {index + 1} ({cell.cell_type}, {label})"


def _strip_regions(lines: list[str], markers: tuple[str, str], stub: tuple[str, ...],
                   other: tuple[str, str], where: str) -> tuple[list[str], int]:
    """Replace each ``markers`` region of ``lines`` by ``stub`` (indented like its BEGIN line)."""
    begin, end = markers
    kept, regions, opened_at = [], 0, None
    for number, line in enumerate(lines, 1):
        if opened_at is not None and any(m in line for m in other):
            raise MarkerError(f"{where}, line {number}: {line.strip()!r} inside the "
                              f"{begin!r} region opened at line {opened_at}; regions can't mix")
        if begin in line:
            if opened_at is not None:
                raise MarkerError(f"{where}, line {number}: a nested {begin!r}; the region "
                                  f"opened at line {opened_at} has no {end!r} before it")
            opened_at, regions = number, regions + 1
            indent = line[: len(line) - len(line.lstrip())]
            kept.extend(indent + s for s in stub)
        elif end in line:
            if opened_at is None:
                raise MarkerError(f"{where}, line {number}: {end!r} without a {begin!r} above it")
            opened_at = None
        elif opened_at is None:
            kept.append(line)
    if opened_at is not None:
        raise MarkerError(f"{where}, line {opened_at}: {begin!r} is never closed; add a "
                          f"{end!r} line after the region")
    return kept, regions


def student_notebook(nb, name: str = "notebook"):
    """The student version of the notebook ``nb`` (a copy; ``nb`` is not changed).

    Returns ``(student_nb, StudentStats)``. Raises :class:`MarkerError` for an unclosed, nested
    or stray marker, or a marker in a cell without the matching nbgrader metadata.
    """
    nb = copy.deepcopy(nb)
    stats = StudentStats()
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_metadata(cell)
        where = _where(name, index, cell)
        lines = cell.source.split("\n")
        has_solution = any(SOLUTION[0] in line or SOLUTION[1] in line for line in lines)
        has_hidden = any(HIDDEN_TESTS[0] in line or HIDDEN_TESTS[1] in line for line in lines)
        if has_solution and not meta.get("solution"):
            raise MarkerError(f"{where}: solution markers in a cell without nbgrader solution "
                              "metadata; mark the cell as 'Autograded answer' (solution: true) "
                              "or remove the markers")
        if has_hidden and not meta.get("grade"):
            raise MarkerError(f"{where}: hidden-test markers in a cell that is not a check cell; "
                              "mark it as 'Autograder tests' (grade: true) or remove them")
        if meta.get("solution"):
            stub = CODE_STUB if cell.cell_type == "code" else (TEXT_STUB,)
            lines, regions = _strip_regions(lines, SOLUTION, stub, HIDDEN_TESTS, where)
            if regions == 0:  # nbgrader's rule: a solution cell without markers is all solution
                lines = list(stub)
            if cell.cell_type == "code":
                stats.code_regions += max(regions, 1)
            else:
                stats.answers += 1
        if has_hidden:
            lines, regions = _strip_regions(lines, HIDDEN_TESTS, (), SOLUTION, where)
            stats.hidden_regions += regions
        if meta.get("solution") or has_hidden:
            cell.source = "\n".join(lines)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb, stats


def write_student_versions(src: str | Path = "notebooks", out: str | Path = "student", *,
                           force: bool = False, log=print) -> list[Path]:
    """Write the student version of every chapter in ``src`` into ``out``.

    Every notebook is converted before anything is written, so a malformed marker in chapter 07
    leaves no half-written folder behind. Refuses to write into ``src`` (or a folder inside it),
    and to overwrite existing files unless ``force``. Returns the written paths.

    >>> write_student_versions("notebooks", "notebooks")
    Traceback (most recent call last):
    ...
    ValueError: refusing to write student versions into notebooks, the folder of the sources; pass another --out folder, e.g. student/
    """
    import nbformat


    src, out = Path(src), Path(out)
    same = out.resolve() == src.resolve()
    if same or src.resolve() in out.resolve().parents:
        where = "the folder of the sources" if same else f"a folder inside the sources {src}"
        raise ValueError(f"refusing to write student versions into {out}, {where}; "
                         "pass another --out folder, e.g. student/")
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder")
    converted = []
    for path in chapters(src):
        nb = read_notebook(path)
        student, stats = student_notebook(nb, path.name)
        converted.append((out / path.name, student, stats))
    existing = [str(target) for target, _, _ in converted if target.exists()]
    if existing and not force:
        raise ValueError(f"{len(existing)} student notebook(s) already exist ({', '.join(existing)}); "
                         "nothing was written. Pass --force (make student FORCE=1) to overwrite them")
    out.mkdir(parents=True, exist_ok=True)
    for target, student, stats in converted:
        nbformat.write(student, target)
        log(f"wrote {target}: removed {stats}")
    log(f"{len(converted)} student notebook(s) in {out}/; the sources in {src}/ are unchanged")
    return [target for target, _, _ in converted]

