"""The exercise edition: what a student opens from a badge.

It is generated from the chapters with solutions (``notebooks/solutions/``, the one source) into
``notebooks/exercises/``, and committed so that Colab can open it from GitHub. Each chapter's
edition is its nbgrader student version (:func:`course_tools.student.student_notebook`: stubs,
check cells without hidden tests, no outputs), code cell for code cell, plus:

- under each exercise's check cell, the solution folded in a markdown ``<details>`` block: it
  renders as one click in Colab, JupyterLab, VS Code and GitHub, and a markdown cell never runs,
  so *Run all* cannot execute or print it;
- under each written answer's cell, the model answer, folded the same way;
- in the title cell, the badge of the edition itself and one paragraph on how the exercises work,
  with a link to the chapter with solutions.

No solution reaches ``make student`` or ``nbgrader generate_assignment``: both read the source,
which holds no ``<details>`` cell.

>>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
>>> answer = new_code_cell("def f(x):\\n    # BEGIN SOLUTION\\n    return 2 * x\\n    # END SOLUTION")
>>> answer.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "f",
...                                "locked": False, "schema_version": 3}
>>> check = new_code_cell("assert f(2) == 4")
>>> check.metadata["nbgrader"] = {"solution": False, "grade": True, "grade_id": "f-check",
...                               "locked": True, "points": 1, "schema_version": 3}
>>> repo = CourseRepository("me/course", "v1.0.0")
>>> title = new_markdown_cell("# 01 · Demo\\n\\n" + repo.badge("notebooks/solutions/01_demo.ipynb"))
>>> edition = exercise_edition(new_notebook(cells=[title, answer, check]), repo, "01_demo.ipynb")
>>> [cell.cell_type for cell in edition.cells]
['markdown', 'code', 'code', 'markdown']
>>> print(edition.cells[1].source)
def f(x):
    # YOUR CODE HERE
    raise NotImplementedError()
>>> print(edition.cells[3].source.splitlines()[-4])
    return 2 * x
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from .chapters import EXERCISES, SOURCES, chapters, is_check_cell, nbgrader_metadata, read_notebook
from .colab import COLAB_URL, CourseRepository, read_course_repository
from .student import SOLUTION, student_notebook

SOLUTION_SUMMARY = "<b>Solution</b> (try the exercise and its check first)"
ANSWER_SUMMARY = "<b>A model answer</b> (write yours first)"
HIDDEN_KEY = "hidden_solution_of"  # cell metadata["course"][HIDDEN_KEY] = the exercise's grade_id


def solution_code(source: str) -> str:
    """A solution cell's code as a student would write it: the source without its marker lines.

    >>> print(solution_code("def f(x):\\n    # BEGIN SOLUTION\\n    return 2 * x\\n    # END SOLUTION"))
    def f(x):
        return 2 * x
    """
    return "\n".join(line for line in source.split("\n")
                     if not any(marker in line for marker in SOLUTION)).strip("\n")


def _fence(code: str) -> str:
    # A fence longer than any run of backticks in the code, so no line can close it early.
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def hidden_solution(cell):
    """The markdown cell that folds ``cell``'s solution (code) or model answer (markdown).

    The blank lines around the body are needed: without them the markdown inside an HTML block
    is not rendered (CommonMark ends an HTML block at a blank line).
    """
    from nbformat.v4 import new_markdown_cell

    if cell.cell_type == "code":
        code = solution_code(cell.source)
        fence = _fence(code)
        summary = SOLUTION_SUMMARY
        body = ("The exercise cell with the answer filled in. Compare it with yours, or paste it "
                f"over your cell and run it, then the check.\n\n{fence}python\n{code}\n{fence}")
    else:
        summary, body = ANSWER_SUMMARY, cell.source.strip("\n")
    hidden = new_markdown_cell(
        f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>")
    grade_id = nbgrader_metadata(cell).get("grade_id", "")
    hidden.metadata["course"] = {HIDDEN_KEY: grade_id}
    if cell.get("id"):
        hidden["id"] = f"{cell['id'][:55]}-solution"
    return hidden


def _edition_title(title, repo: CourseRepository, edition_path: str, source_path: str):
    """The title cell with the edition's own badge and a paragraph on how its exercises work."""
    title = copy.deepcopy(title)
    lines = title.source.split("\n")
    badge = next((i for i, line in enumerate(lines) if COLAB_URL.search(line)), None)
    if badge is None:
        raise ValueError(f"{source_path}: the title cell has no Colab badge; run "
                         "`python -m course_utils badges` first")
    lines[badge] = COLAB_URL.sub(repo.colab_url(edition_path), lines[badge])
    note = ("**This is the exercise edition.** Write each exercise in its cell, then run the "
            "check cell under it: ✓ means your answer is right, and ✗ comes with a hint that "
            "names the mistake. Each solution is folded under its check; try first, then click "
            "*Solution* to compare. Predict before you measure: write your prediction where the "
            "exercise asks for it, before you run the cells that answer it. "
            f"([This chapter with all the solutions]({repo.colab_url(source_path)}), for "
            "instructors and for reading.)")
    lines[badge + 1:badge + 1] = ["", note]
    title.source = "\n".join(lines)
    return title


def exercise_edition(nb, repo: CourseRepository, name: str):
    """The exercise edition of the chapter ``nb`` (with solutions), named ``name``.

    ``nb`` is not changed. Raises :class:`~course_tools.student.MarkerError` for a malformed
    exercise marker, as ``make student`` does.
    """
    student, _ = student_notebook(nb, name)
    cells, pending = [], []  # pending: folded solutions waiting for their check cell
    for source_cell, cell in zip(nb.cells, student.cells, strict=True):
        meta = nbgrader_metadata(source_cell)
        is_check = is_check_cell(source_cell)
        if pending and not is_check:  # a solution without a check: fold it right under itself
            cells.extend(pending)
            pending = []
        cells.append(cell)
        if meta.get("solution"):
            folded = hidden_solution(source_cell)
            if source_cell.cell_type == "code":
                pending.append(folded)
            else:
                cells.append(folded)
        elif is_check:
            cells.extend(pending)
            pending = []
    cells.extend(pending)
    cells[0] = _edition_title(cells[0], repo, (EXERCISES / name).as_posix(),
                              (SOURCES / name).as_posix())
    student.cells = cells
    return student


def exercise_editions(root: str | Path = ".", sources=None) -> list[tuple[Path, object]]:
    """``(path, edition)`` for every chapter of the course in ``root``, built in memory from
    its sources, or from ``sources`` (``(path, notebook)`` pairs) when given."""
    root = Path(root)
    repo = read_course_repository(root)
    if sources is None:
        sources = [(path, read_notebook(path)) for path in chapters(root / SOURCES)]
    return [(root / EXERCISES / path.name, exercise_edition(nb, repo, path.name))
            for path, nb in sources]


def stale_editions(root: str | Path = ".", editions=None) -> list[Path]:
    """The edition files that differ from what the sources generate (missing ones included),
    and stray chapter files in the editions' folder that no source generates."""
    import nbformat

    editions = exercise_editions(root) if editions is None else editions
    stale = [path for path, nb in editions
             if not path.is_file() or path.read_text(encoding="utf-8") != nbformat.writes(nb) + "\n"]
    expected = {path for path, _ in editions}
    strays = sorted(p for p in (Path(root) / EXERCISES).glob("[0-9][0-9]_*.ipynb")
                    if p not in expected)
    return stale + strays


def write_exercise_editions(root: str | Path = ".", *, check: bool = False, editions=None,
                            log=print) -> list[Path]:
    """Regenerate ``notebooks/exercises/`` from ``notebooks/solutions/`` in the course ``root``
    (or write ``editions``, the ``(path, edition)`` pairs :func:`exercise_editions` built).

    Every edition is built before anything is written, so a malformed marker leaves the folder
    as it was. Writes only the files that change, and removes chapter files no source generates.
    Returns those files; with ``check=True`` it only returns them.
    """
    import nbformat

    root = Path(root)
    editions = exercise_editions(root) if editions is None else editions
    changed = stale_editions(root, editions)
    if not check:
        (root / EXERCISES).mkdir(parents=True, exist_ok=True)
        generated = dict(editions)
        for path in changed:
            if path in generated:
                nbformat.write(generated[path], path)
            else:
                path.unlink()
    verb = "would change" if check else "wrote"
    log(f"{verb} {len(changed)} exercise edition file(s) in {EXERCISES.as_posix()}/"
        + "".join(f"\n  {p.relative_to(root).as_posix()}" for p in changed))
    return changed
