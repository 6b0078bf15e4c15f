"""An unwritten exercise stops *Run all* with one line, not a traceback.

In the exercise edition and the nbgrader release, every exercise starts as the stub
``raise NotImplementedError()``. The checkers already turn a stub they call into one line
(:class:`~course_utils.checks.battery.NotWrittenYet`); a plain ``assert`` check cell, or a stub
at the top level of a cell, would show Python's whole traceback instead. The setup cell of every
chapter calls :func:`short_stub_errors` so that both say the same one line.

Only a bare ``raise NotImplementedError()`` written in a notebook cell counts as a stub. Any other
``NotImplementedError`` (one with a message, or one raised by a library, such as an operator a
device lacks) keeps its full traceback, because there the traceback is the information.
"""

from __future__ import annotations

import linecache

from .checks.battery import not_written

STUB_LINES = ("raise NotImplementedError()", "raise NotImplementedError")


def stub_subject(value: BaseException, tb) -> str | None:
    """What the unwritten stub is (``"best_epoch"``, ``"this cell"``), or None when ``value``
    is not a stub's bare ``NotImplementedError``.

    >>> def best_epoch(history):
    ...     raise NotImplementedError()
    >>> try:
    ...     best_epoch(None)
    ... except NotImplementedError as err:
    ...     print(stub_subject(err, err.__traceback__))
    best_epoch
    """
    if not isinstance(value, NotImplementedError) or str(value) or tb is None:
        return None
    while tb.tb_next is not None:  # the innermost frame is where the raise is written
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    if linecache.getline(code.co_filename, tb.tb_lineno).strip() not in STUB_LINES:
        return None
    if code.co_name == "<module>":
        return "this cell"
    return getattr(code, "co_qualname", code.co_name)  # MyDropout.forward on Python >= 3.11


def _show_stub_briefly(shell, etype, value, tb, tb_offset=None):
    # IPython calls this for every NotImplementedError raised by a cell. The checkers' own
    # NotWrittenYet already renders as one line, and it still does (showtraceback honours it).
    subject = stub_subject(value, tb)
    if subject is not None:
        value = not_written(subject, here=subject == "this cell")
        etype = type(value)
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    return None


def short_stub_errors() -> bool:
    """Show an unwritten exercise's ``NotImplementedError`` as one line in this notebook.

    The cell still fails (so *Run all* stops at the first unwritten exercise, and nbgrader
    scores it 0); only the display is short. Returns True when it was installed, False outside
    IPython (a script or a test), where it does nothing.

    >>> short_stub_errors()  # in a plain Python process there is no notebook to change
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((NotImplementedError,), _show_stub_briefly)
    return True
