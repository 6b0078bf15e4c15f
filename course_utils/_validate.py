"""The argument checks every module shares, so the same mistake gets the same error everywhere.

A wrong *kind* (a string where an int belongs) raises ``TypeError``; a right kind with a wrong
*value* (0 where a positive int belongs) raises ``ValueError``. Each message names the argument,
what is allowed, and what was given. Plain ``if``/``raise``: an ``assert`` would vanish under
``python -O``.

>>> positive_int("batch_size", 64)
64
>>> positive_int("batch_size", "64")
Traceback (most recent call last):
    ...
TypeError: batch_size must be a positive int, got str '64'
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn


def _given(value: object) -> str:
    # "str '64'" tells the student both what they passed and why it was refused.
    return f"{type(value).__name__} {value!r}"


def _scalar(value: object) -> object:
    # A one-element tensor without a gradient, or a NumPy scalar, stands for its Python number,
    # everywhere the course takes a number: torch.tensor(0.5), np.float32(0.5) and 0.5 alike.
    if isinstance(value, Tensor) and value.numel() == 1 and not value.requires_grad:
        return value.item()
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """``value`` as an int if it is one >= ``minimum`` (1: "a positive int"); a NumPy integer
    or a one-element integer tensor counts.

    >>> import numpy as np
    >>> positive_int("epochs", np.int64(3))
    3
    """
    allowed = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    value = _scalar(value)
    if not _is_int(value):
        raise TypeError(f"{name} must be {allowed}, got {_given(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def optional_positive_int(name: str, value: object) -> int | None:
    """``None``, or a positive int (sizes where ``None`` means "all of it")."""
    if value is None:
        return None
    if not _is_int(_scalar(value)):
        raise TypeError(f"{name} must be a positive int or None, got {_given(value)}")
    return positive_int(name, value)


def seed(name: str, value: object) -> int:
    """``value`` as an int if it is a seed: an int (a NumPy integer counts) in [0, 2**32).

    One range for every seed in the course: NumPy's, the narrowest of the generators
    :func:`course_utils.set_seed` seeds, so a seed that works in one function works in all.

    >>> import numpy as np
    >>> seed("seed", np.int64(3))
    3
    >>> seed("seed", -1)
    Traceback (most recent call last):
        ...
    ValueError: seed must be an int in [0, 2**32), got -1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int in [0, 2**32), got {_given(value)}")
    value = int(value)
    if not 0 <= value < 2**32:
        raise ValueError(f"{name} must be an int in [0, 2**32), got {value}")
    return value


def boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_given(value)}")
    return value


def _real(name: str, value: object, allowed: str) -> float:
    """``value`` as a float if it is a real number (a NumPy scalar or a one-element tensor
    without a gradient counts); otherwise TypeError saying what is ``allowed``.

    >>> import numpy as np
    >>> _real("p", np.float32(0.5), "a number"), _real("p", torch.tensor(0.5), "a number")
    (0.5, 0.5)
    """
    value = _scalar(value)
    if not _is_real(value):
        raise TypeError(f"{name} must be {allowed}, got {_given(value)}")
    return float(value)


def number(name: str, value: object, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = True) -> float:
    """``value`` as a float if it is a finite real number within the bounds given.

    ``low``/``high`` are included unless ``low_open``/``high_open`` (``high`` is open by
    default: momentum < 1, a fraction < 1).
    """
    value = _real(name, value, "a number")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
    return value


def fraction(name: str, value: object) -> float:
    """A number in [0, 1): a share of something that must leave some of it (label noise)."""
    value = _real(name, value, "a number in [0, 1)")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def check_p(p: object, *, name: str = "p") -> float:
    """Return ``p`` as a float after checking it is a real number in [0, 1].

    The course uses this one check everywhere, so a wrong ``p`` always gets the same clear
    message.

    >>> check_p(0.5)
    0.5
    >>> check_p(1.5)
    Traceback (most recent call last):
        ...
    ValueError: p is the drop probability and must be in [0, 1], got 1.5
    """
    p = _real(name, p, "a number in [0, 1]")
    if math.isnan(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} is the drop probability and must be in [0, 1], got {p!r}")
    return p


def choice(name: str, value: object, options: Sequence[str]) -> str:
    """``value`` if it is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def tensor(name: str, value: object, *, floating: bool = False) -> Tensor:
    """``value`` if it is a tensor (a floating-point one when ``floating``)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if floating and not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {value.dtype}; "
            f"convert it first, e.g. X.float()"
        )
    return value


def batch(name: str, value: object) -> Tensor:
    """``value`` if it is a tensor with a first dimension of examples.

    >>> batch("y", torch.tensor(3))
    Traceback (most recent call last):
        ...
    ValueError: y must be a batch, a tensor whose first dimension counts the examples, got a 0-d tensor (tensor(3)); for one example pass X.unsqueeze(0) and y.view(1)
    """
    tensor(name, value)
    if value.dim() == 0:
        raise ValueError(f"{name} must be a batch, a tensor whose first dimension counts the "
                         f"examples, got a 0-d tensor ({value!r}); for one example pass "
                         f"X.unsqueeze(0) and y.view(1)")
    return value


def dtype(name: str, value: object) -> torch.dtype:
    """``value`` if it is a ``torch.dtype``; its name as a string or a NumPy type is refused
    with the torch spelling.

    >>> dtype("dtype", "float16")
    Traceback (most recent call last):
        ...
    TypeError: dtype must be a torch.dtype such as torch.float16, got str 'float16'
    """
    if _compiling() or isinstance(value, torch.dtype):
        # torch 2.1's dynamo cannot trace isinstance(..., torch.dtype); eager calls check it.
        return value
    spelled = str(getattr(value, "__name__", value)).removeprefix("torch.")
    known = isinstance(getattr(torch, spelled, None), torch.dtype)
    raise TypeError(f"{name} must be a torch.dtype such as torch."
                    f"{spelled if known else 'float32'}, got {_given(value)}")


def path(name: str, value: object) -> object:
    """``value`` if it is a folder or file path: a ``str`` or an ``os.PathLike``."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path, a str or pathlib.Path, got {_given(value)}")
    return value


def layer_class(name: str, value: object, example: str = "nn.Dropout", *,
                takes: str = "a rate") -> Callable:
    """``value`` if it builds a layer (from a rate, or from ``takes``): a class such as
    ``nn.Dropout``. A layer instance, the usual slip, gets a message naming the class to pass.

    >>> layer_class("activation", nn.ReLU(), "nn.ReLU", takes="no argument")
    Traceback (most recent call last):
        ...
    TypeError: activation must build a layer from no argument, such as nn.ReLU, got the layer ReLU(): pass the class nn.ReLU itself, not an instance nn.ReLU()
    """
    if isinstance(value, nn.Module):
        cls = type(value)
        # Name the class the student typed: nn.Dropout2d for torch's, the bare name for theirs.
        shown = f"nn.{cls.__name__}" if getattr(nn, cls.__name__, None) is cls else cls.__name__
        call = f"{shown}()" if takes == "no argument" else f"{shown}(0.5)"
        raise TypeError(
            f"{name} must build a layer from {takes}, such as {example}, got the layer "
            f"{value!r}: pass the class {shown} itself, not an instance {call}"
        )
    if not callable(value):
        raise TypeError(
            f"{name} must be a class or function taking {takes}, such as {example}, "
            f"got {_given(value)}"
        )
    return value


def generator(name: str, value: object) -> object:
    """``value`` if it is ``None`` or a ``torch.Generator`` (a seed is the usual slip)."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(
            f"{name} must be a torch.Generator or None, got {_given(value)}; to seed one, "
            f"pass torch.Generator().manual_seed(seed)"
        )
    return value


def module(name: str, value: object) -> nn.Module:
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def _compiling() -> bool:
    """True while torch.compile traces (``torch.compiler`` from torch 2.3, ``torch._dynamo`` before)."""
    compiler = getattr(torch, "compiler", None)
    if compiler is not None and hasattr(compiler, "is_compiling"):
        return compiler.is_compiling()
    return torch._dynamo.is_compiling()
