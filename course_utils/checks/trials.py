"""Experiments several checkers run on student code: tensors that expose a CPU-built mask, bad
values of p, and a second call that must draw a new mask."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .battery import Fail, Skip, first_line


def positive(shape, dtype=torch.float32) -> Tensor:
    # Entries in [0.5, 1.5): never zero, so "output is zero" always means "dropped".
    return (torch.rand(shape) + 0.5).to(dtype)


def other_device() -> torch.device:
    """A device that exposes masks built on the CPU: the GPU if there is one, else "meta".

    A "meta" tensor has a shape, a dtype and a device but no data, so a CPU-built mask fails
    on it just as it would on a CUDA tensor, even on a machine without a GPU.
    """
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("meta")


def run_on_device(run: Callable[[], Tensor], where: torch.device, what: str, hint: str) -> Tensor:
    try:
        return run()
    except (Fail, Skip):
        raise
    except Exception as err:
        # "expected device cpu", "same device", ...: any mention of devices means the mask and
        # the data ended up on different ones.
        if "device" in str(err).lower():
            raise Fail(
                f"on a {where.type} {what} it raised {type(err).__name__}: {first_line(err)}",
                hint,
            ) from None
        if where.type == "meta":
            raise Skip("your code reads tensor values, which a meta tensor lacks") from None
        raise


def _dtypes_that_run(dtypes, probe) -> tuple[torch.dtype, ...]:
    """Those of ``dtypes`` in which ``probe(dtype)`` runs: torch raises a RuntimeError for a
    dtype it has no CPU kernel for."""
    usable = []
    for dtype in dtypes:
        try:
            probe(dtype)
        except RuntimeError:
            continue
        usable.append(dtype)
    return tuple(usable)


def _matmul_probe(dtype: torch.dtype) -> None:
    a = torch.ones(2, 2, 2, dtype=dtype)
    a @ a, F.linear(a[0], a[0]), a.softmax(-1)


@functools.cache
def matmul_dtypes() -> tuple[torch.dtype, ...]:
    """The dtypes this torch can multiply matrices in on the CPU: float64 and float32, and
    bfloat16 and float16 where it has the kernels (torch 2.1 has no float16 matmul on the CPU,
    so a check there would fail every answer, right ones included).

    >>> torch.float64 in matmul_dtypes()
    True
    """
    return _dtypes_that_run((torch.float64, torch.float32, torch.bfloat16, torch.float16),
                            _matmul_probe)


# The half-precision rate checks: (dtype, p, entries measured). The snapping of
# torch.rand_like shows at p=0.9 in bfloat16 (0.8985 dropped: 2 tolerances off on 4 million)
# and at p=0.001 in float16 (0.124% dropped); the other two cases are off by far more (0.29%
# at p=0.001 in bfloat16) or not at all, and need fewer entries.
HALF_CASES = [(torch.bfloat16, 0.9, 1 << 22), (torch.bfloat16, 0.001, 1 << 19),
              (torch.float16, 0.9, 1 << 19), (torch.float16, 0.001, 1 << 22)]


@functools.cache
def dropout_dtypes() -> tuple[torch.dtype, ...]:
    """bfloat16 and float16, those of them torch's own dropout runs in on the CPU (torch 2.1 has
    no float16 bernoulli_ there, so a right answer built on F.dropout would fail)."""
    return _dtypes_that_run((torch.bfloat16, torch.float16),
                            lambda dtype: F.dropout(torch.ones(2, dtype=dtype), 0.5, True))


def half_dtypes() -> tuple[torch.dtype, ...]:
    """bfloat16 and float16, those of them :func:`matmul_dtypes` has."""
    return tuple(dt for dt in (torch.bfloat16, torch.float16) if dt in matmul_dtypes())


def require_dtype_kept(run: Callable[[], Tensor], dtype: torch.dtype, what: str,
                       fix: str) -> None:
    """Fail unless ``run()``, given inputs of ``dtype``, returns a tensor of ``dtype``. A dtype
    clash raised on the way (a float32 mask meeting bfloat16 data) is the same mistake, so it
    gets the same ``fix``."""
    try:
        out = run()
    except (RuntimeError, TypeError) as err:
        if "type" not in str(err).lower():  # "dtype", "scalar type", "Float did not match"
            raise
        raise Fail(f"{what} raised {type(err).__name__}: {first_line(err)}", fix) from None
    if out.dtype != dtype:
        raise Fail(f"{what} came back as {out.dtype}", f"{fix}; .float() always gives float32")


def expect_value_error(
    call: Callable[[float], object],
    *,
    assert_hint: str,
    other_hint: str,
    accepted: Callable[[float, object], tuple[str, str]],
) -> None:
    """Fail unless ``call(p)`` raises ValueError for p=1.5 and p=-0.1. ``accepted(p, result)``
    gives the detail and hint when a bad p passes silently."""
    for bad in (1.5, -0.1):
        try:
            result = call(bad)
        except ValueError:
            continue
        except AssertionError:
            raise Fail(f"p={bad} raised AssertionError", assert_hint) from None
        except Exception as err:
            raise Fail(f"p={bad} raised {type(err).__name__}: {first_line(err)}", other_hint) from None
        raise Fail(*accepted(bad, result))


def require_fresh(a: Tensor, b: Tensor, detail: str, hint: str) -> None:
    """Fail when two calls that should draw different masks gave the same output."""
    if torch.equal(a, b):
        raise Fail(detail, hint)


def require_unchanged(call: Callable[[Tensor], object], X: Tensor, hint: str) -> None:
    """Fail when ``call(X)`` wrote into ``X``."""
    before = X.clone()
    call(X)
    if not torch.equal(X, before):
        raise Fail("X was changed by the call", hint)


def require_mask_gradient(call: Callable[[Tensor], Tensor], X: Tensor, p: float, *,
                          detail: str, detached_hint: str, hint: str) -> None:
    """Fail unless the gradient of ``call(X).sum()`` is the keep-mask over ``1 - p``: a kept entry
    passes its gradient scaled like its value, a dropped one passes none."""
    X = X.detach().requires_grad_()
    out = call(X)
    if not out.requires_grad:
        raise Fail("the output is not connected to X in the autograd graph", detached_hint)
    out.sum().backward()
    expected = (out.detach() != 0).to(X.dtype) / (1 - p)
    if X.grad is None or not torch.allclose(X.grad, expected, rtol=1e-5):
        raise Fail(detail, hint)
