"""The source of a chapter's check cell, for tests that run it against students' wrong answers."""

import json
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def check_source(chapter: str, grade_id: str, *, until: str | None = None) -> str:
    """The cell of ``chapter`` whose nbgrader grade_id is ``grade_id``; with ``until``, only the
    part before that text (a check's toy part, before it reaches for the chapter's data)."""
    cells = json.loads((SOLUTIONS / chapter).read_text())["cells"]
    source = next("".join(c["source"]) for c in cells
                  if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    if until is not None:
        assert until in source, f"{grade_id}: the check no longer has {until!r}"
        source = source[:source.index(until)]
    return source
