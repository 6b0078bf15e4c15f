"""Running a checker on a wrong answer in a test: which checks failed, and the first hint."""

from collections.abc import Callable, Sequence


def failed_checks(checker: Callable, fn: Callable, checks: Sequence, capsys) -> tuple[list, str]:
    """(the labels of the failed checks in checklist order, the printed checklist)."""
    try:
        checker(fn)
        failed = []
    except AssertionError:
        failed = None
    out = capsys.readouterr().out
    if failed is None:
        failed = [label for label, _ in checks if f"✗ {label}" in out]
    return failed, out


def first_hint(out: str) -> str:
    return next(line for line in out.splitlines() if line.strip().startswith("hint:"))
