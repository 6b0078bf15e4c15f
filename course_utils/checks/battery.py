"""The battery runner every checker shares: run named checks, print a ✓/✗ line per check with a
hint under each ✗, and stop the notebook cell with one short error when any failed.

A check is a plain function that returns when its property holds and raises :class:`Fail`
(with a detail and a hint) when it does not, or :class:`Skip` when it cannot run on this
machine. The checks run under a fixed seed in a forked RNG: the verdict is the same on every
run, and the student's own random state is left untouched.

>>> def always_right():
...     pass
>>> def always_wrong():
...     raise Fail("it went wrong", "do it right")
>>> try:
...     run_battery("Checking a toy:", [("works", always_right), ("also works", always_wrong)])
... except AssertionError as err:
...     print("AssertionError:", err)
Checking a toy:
  ✓ works
  ✗ also works
      it went wrong
      hint: do it right
1 of 2 checks passed.
AssertionError: 1 of 2 checks failed: also works. Fix the first ✗ above and run the check again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

SEED = 0


@dataclass
class CheckResult:
    """One line of a checklist. ``passed`` is None for a check that could not run here."""

    name: str
    passed: bool | None
    detail: str = ""
    hint: str = ""

    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "–"}[self.passed]
        text = f"  {mark} {self.name}"
        if self.detail:
            text += f"\n      {self.detail}"
        if self.hint and self.passed is False:
            text += f"\n      hint: {self.hint}"
        return text


class Checklist(list):
    """The list of :class:`CheckResult` a checker returns. Its short repr keeps a notebook cell
    that ends with a checker call from echoing every result a second time."""

    def __repr__(self) -> str:
        ran = [r for r in self if r.passed is not None]
        return f"<checklist: {sum(bool(r.passed) for r in ran)} of {len(ran)} checks passed>"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's display hook
        printer.text(repr(self))


class ChecksFailed(AssertionError):
    """What a checker raises when a check failed. In a notebook it shows as its one-line
    message: the checklist above has said everything, and the library's stack would only bury
    it (IPython, and so nbgrader's feedback, render an exception by ``_render_traceback_``)."""

    def _render_traceback_(self) -> list[str]:
        return [f"AssertionError: {self}"]


class NotWrittenYet(NotImplementedError):
    """What a checker raises for an exercise whose stub is still there, shown as one line."""

    def _render_traceback_(self) -> list[str]:
        return [f"NotImplementedError: {self}"]


class Fail(Exception):
    """Raised inside a check to report a failure with a hint."""

    def __init__(self, detail: str, hint: str = ""):
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


class Skip(Exception):
    """Raised inside a check that cannot run on this machine."""


def error_hint(err: BaseException) -> str:
    """Turn the errors students typically hit into the mistake that causes them."""
    text = str(err)
    if isinstance(err, ZeroDivisionError):
        return "p=1 makes 1 - p zero: handle p == 1 before dividing (return zeros)"
    if "leaf Variable" in text or "inplace" in text or "in-place" in text:
        return "don't modify X in place (X *= ..., X[...] = 0, .mul_()); build a new tensor"
    if "expected device" in text or "same device" in text:
        return "build the mask on X's device: torch.rand(X.shape, device=X.device) >= p"
    return "read the error above: your function raised it on a valid input"


def is_stub(err: BaseException) -> bool:
    # The student version's stub is a bare `raise NotImplementedError()`; one with a message is
    # the student's own choice and is reported like any other error.
    return isinstance(err, NotImplementedError) and not str(err)


def not_written(subject: str, *, here: bool = False) -> NotImplementedError:
    """The one error for an unwritten exercise, from a checker or from the notebook itself
    (``here``: the stub sits in the cell that was just run)."""
    then = "then run it again" if here else "run that cell, then run this check again"
    where = "this cell" if here else "its cell"
    return NotWrittenYet(
        f"{subject} is not written yet: it still raises NotImplementedError. Replace "
        f"'# YOUR CODE HERE' and 'raise NotImplementedError()' in {where} with your code, {then}."
    )


# Names a student gives the drop rate: one of them in front of the input means swapped arguments.
RATE_NAMES = {"p", "prob", "rate", "drop_prob", "drop_rate", "dropout", "dropout_p", "keep_prob"}


def require_callable(checker: str, fn: object, expected: str, args: tuple, kwargs: dict, *,
                     kind: str = "function") -> str:
    """The name of the student's ``fn``, after making sure it can be called as
    ``fn(*args, **kwargs)``; otherwise one TypeError that says what was passed and what the
    checker expected, instead of the same ✗ on every line of the checklist.

    ``kind="function"`` refuses a class; ``kind="class"`` (a layer the checker builds) takes a
    class or a function that builds one. Both refuse a module instance.

    >>> require_callable("check_it", lambda p, X: X, "f(X, p)", (1.0, 0.5), {})
    Traceback (most recent call last):
        ...
    TypeError: check_it needs your function f(X, p), but <lambda>(p, X) takes the rate p first: put the arguments in the order f(X, p)
    """
    what = "your function" if kind == "function" else "your layer class"
    wanted = f"{checker} needs {what} {expected}"
    if isinstance(fn, nn.Module):
        cls = type(fn).__name__
        fix = "the function" if kind == "function" else f"the class {cls} itself, not {cls}(...)"
        raise TypeError(f"{wanted}, got a {cls} module instance: pass {fix}")
    if isinstance(fn, type) and kind == "function":
        raise TypeError(f"{wanted}, got the class {fn.__name__}: pass the function itself")
    if not callable(fn):
        raise TypeError(f"{wanted}, got {type(fn).__name__}")
    name = getattr(fn, "__name__", "your function" if kind == "function" else "your layer")
    try:
        signature = inspect.signature(fn)
    except (ValueError, TypeError):  # a built-in without a signature: one trial call tells
        try:
            fn(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{wanted}, but {name} cannot be called that way ({err})") from None
        return name
    _require_order(wanted, name, signature, expected, len(args))
    try:
        signature.bind(*args, **kwargs)
    except TypeError as err:
        hint = _default_hint(signature, args, kwargs)
        if kind == "class" and not isinstance(fn, type):
            # Usually the chapter's function (dropout_layer) passed where the layer belongs.
            hint = f": {name} is a function; pass your layer class {expected.split('(')[0]}"
        raise TypeError(f"{wanted}, but {name}{signature} cannot be called that way "
                        f"({err}){hint}") from None
    return name


def _default_hint(signature: inspect.Signature, args: tuple, kwargs: dict) -> str:
    # A parameter the checker's call leaves empty (often `training`) wants a default.
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments
    except TypeError:  # too many arguments: no parameter to name
        return ""
    for q in signature.parameters.values():
        if (q.default is q.empty and q.name not in bound
                and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD)):
            example = ", e.g. training=True" if q.name == "training" else ""
            return f": give {q.name!r} a default{example}"
    return ""


def _require_order(wanted: str, name: str, signature: inspect.Signature, expected: str,
                   n_args: int) -> None:
    # The checker passes the rate last of its positional arguments; a rate-named parameter
    # before that slot is the swapped-arguments slip, which would otherwise surface as a
    # confusing error deep inside the first check.
    positional = [q.name for q in signature.parameters.values()
                  if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD)][:n_args]
    if len(positional) == n_args and positional[-1] not in RATE_NAMES:
        early = [q for q in positional[:-1] if q in RATE_NAMES]
        if early:
            where = "first" if positional[0] == early[0] else "too early"
            raise TypeError(f"{wanted}, but {name}{signature} takes the rate {early[0]} {where}: "
                            f"put the arguments in the order {expected}")


def run_battery(title: str, checks: Sequence[tuple[str, Callable[[], None]]],
                 subject: str = "your code") -> Checklist:
    """Run each ``(name, check)`` in order, print the checklist, and raise ``AssertionError``
    naming the failed checks (or return the :class:`Checklist` when all passed). An unsolved
    exercise (a bare ``raise NotImplementedError()``) stops at once with one clear message."""
    __tracebackhide__ = True  # pytest: report the student's line, not this one
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    results = Checklist()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(SEED)
        for name, run in checks:
            try:
                run()
                results.append(CheckResult(name, True))
            except Fail as fail:
                results.append(CheckResult(name, False, fail.detail, fail.hint))
            except Skip as skip:
                results.append(CheckResult(name, None, f"skipped: {skip}"))
            except NotImplementedError as err:
                if is_stub(err):  # an unsolved exercise: one clear message, not a ✗ per check
                    raise not_written(subject) from None
                results.append(CheckResult(name, False, f"raised NotImplementedError: {err}",
                                           error_hint(err)))
            except Exception as err:  # the student's code raised: report it, keep checking
                detail = f"raised {type(err).__name__}: {first_line(err)}"
                results.append(CheckResult(name, False, detail, error_hint(err)))
    print(title)
    for r in results:
        print(r.line())
    failed = [r for r in results if r.passed is False]
    ran = sum(r.passed is not None for r in results)
    if failed:
        print(f"{ran - len(failed)} of {ran} checks passed.")
        names = "; ".join(r.name for r in failed)
        raise ChecksFailed(
            f"{len(failed)} of {ran} checks failed: {names}. Fix the first ✗ above and run the "
            f"check again."
        )
    print(f"All {ran} checks passed.")
    return results


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else "(no message)"
