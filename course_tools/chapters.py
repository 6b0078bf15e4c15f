"""The chapters of the course and what each one's title cell says: the one list the build, the
student versions, the Colab badges and the tests read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Where the editions live, relative to the course's root folder. The chapters with solutions are
# the one source; the exercise edition is generated from them (course_tools.exercises). A student
# who browses notebooks/ meets exercises/ first.
SOURCES = Path("notebooks") / "solutions"
EXERCISES = Path("notebooks") / "exercises"


SETUP_INDEX = 1  # a chapter's cell after its title: the set-up (installs, imports, the data)
PREDICTION_TAG = "prediction"  # the tag of a "Your prediction" cell


def nbgrader_metadata(cell) -> dict:
    """The cell's nbgrader metadata ({} for a cell that nbgrader does not grade)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def is_check_cell(cell) -> bool:
    """An exercise's check: graded and without a solution (nbgrader's "Autograder tests")."""
    meta = nbgrader_metadata(cell)
    return bool(meta.get("grade") and not meta.get("solution"))


def chapters(src: str | Path) -> list[Path]:
    """The chapter notebooks in ``src``, in course order (their names start with the number).

    >>> [p.name for p in chapters("notebooks/solutions")][:1]
    ['01_overfitting.ipynb']
    """
    folder = Path(src)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of notebooks")
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())  # not a folder
    if not found:
        raise ValueError(f"no chapter notebooks (NN_name.ipynb) in {folder}")
    return found


def read_notebook(path: str | Path):
    """The notebook at ``path`` (nbformat 4), or a ValueError that names the file and says
    what is wrong with it, instead of nbformat's error without a file name.

    >>> read_notebook("README.md")
    Traceback (most recent call last):
        ...
    ValueError: README.md is not a readable notebook: its text is not JSON. A merge conflict leaves <<<<<<< lines in it: resolve them, or restore the file with git checkout
    """
    import nbformat

    path = Path(path)
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such notebook") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a notebook") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a readable notebook: it is not UTF-8 text") from None
    except nbformat.reader.NotJSONError:
        raise ValueError(f"{path} is not a readable notebook: its text is not JSON. A merge "
                         f"conflict leaves <<<<<<< lines in it: resolve them, or restore the "
                         f"file with git checkout") from None
    except (nbformat.ValidationError, KeyError, AttributeError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path} is not a readable notebook: {first}") from None


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

    >>> info = chapter_info("notebooks/solutions/01_overfitting.ipynb")
    >>> info.title[:17], len(info.goals), info.minutes
    ('01 · Overfitting:', 5, 25)
    """
    path = Path(path)
    nb = read_notebook(path)
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


def chapter_settings(path: str | Path, *, fast: bool = False) -> dict[str, object]:
    """The experiment settings a chapter states in its code: every top-level
    ``NAME = literal`` or ``NAME = literal if FAST else literal`` (first one wins), with the
    fast-mode branch when ``fast``. The chapter is the one place a setting is written; the
    tests that repeat its experiments over several seeds read it from here.

    >>> settings = chapter_settings("notebooks/solutions/04_inverted_dropout.ipynb")
    >>> settings["TRAIN_SIZE"], settings["EPOCHS"], settings["SEEDS"]
    (10000, 10, [0, 1, 2])
    >>> chapter_settings("notebooks/solutions/04_inverted_dropout.ipynb", fast=True)["SEEDS"]
    [0]
    """
    import ast

    found: dict[str, object] = {}
    for cell in read_notebook(path).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: not a place settings are written
            continue
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper()):
                continue
            value = node.value
            if (isinstance(value, ast.IfExp) and isinstance(value.test, ast.Name)
                    and value.test.id == "FAST"):
                value = value.body if fast else value.orelse
            try:
                found.setdefault(node.targets[0].id, ast.literal_eval(value))
            except ValueError:  # computed, not stated: e.g. FAST = fast_mode()
                continue
    return found
