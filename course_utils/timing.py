"""Timing for the chapters' speed comparisons: one function, so every chapter measures alike."""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable

import torch

from ._validate import choice, positive_int

STATISTICS = ("median", "min")


def _synchronize() -> None:
    # GPU work runs asynchronously: wait for it, or the clock stops before the work is done.
    # Only when CUDA is already in use, so that timing CPU code never starts a CUDA context.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        mps.synchronize()


def _require_no_arguments(fn: Callable) -> None:
    # seconds_per_call(dropout_layer) is the usual slip: the call it times needs its arguments.
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some built-ins have no signature to read
        return
    needed = [q.name for q in params if q.default is q.empty
              and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD)]
    if needed:
        name = getattr(fn, "__name__", "fn")
        raise TypeError(f"fn must take no arguments, but {name} needs {', '.join(needed)}: wrap "
                        f"the call you want to time, e.g. seconds_per_call(lambda: "
                        f"{name}({', '.join(needed)}))")


def seconds_per_call(
    fn: Callable[[], object], *, repeats: int = 5, number: int = 1, statistic: str = "median"
) -> float:
    """Seconds one call of ``fn()`` takes: ``repeats`` rounds of ``number`` calls each, and the
    median (or, with ``statistic="min"``, the fastest) of the rounds' time per call.

    The median is robust to a few disturbed rounds; the minimum is the round least disturbed by
    other work on a busy machine. Pending GPU work is waited for before and after each round.

    >>> t = seconds_per_call(lambda: sum(range(1000)), repeats=3, number=10)
    >>> 0 < t < 1
    True
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function to call, got {type(fn).__name__}")
    _require_no_arguments(fn)
    positive_int("repeats", repeats)
    positive_int("number", number)
    choice("statistic", statistic, STATISTICS)
    times = []
    for _ in range(repeats):
        _synchronize()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        _synchronize()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times) if statistic == "median" else min(times)
