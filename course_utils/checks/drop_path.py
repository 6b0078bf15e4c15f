"""``check_drop_path``: the checks of a student's ``drop_path(X, p, mode="row", training=True)``.

Each check is a function of the :class:`Subject` under test that returns when its property
holds and raises ``Fail`` with a hint naming the likely mistake when it does not. ``CHECKS``
lists them in the order the checklist prints them: the structure of the mask (whole examples,
one coin each) comes before its rate and its scale, so the first ✗ names the root cause.

    >>> from course_utils import drop_path
    >>> check_drop_path(drop_path)  # doctest: +ELLIPSIS
    Checking drop_path(X, p, mode, training):
      ✓ returns a tensor of X's shape
    ...
    All 15 checks passed.
    <checklist: 15 of 15 checks passed>
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

from .battery import Checklist, Fail, require_callable, run_battery
from .stats import agreement, close, hint_for_ratio, sigma_band
from .trials import (
    expect_value_error,
    other_device,
    positive,
    require_fresh,
    require_mask_gradient,
    require_unchanged,
    run_on_device,
)

ROWS = 20_000  # examples per statistical check: 5-sigma bands of about ±0.018 on p
X0 = 2.0  # the input value of the mean check
SHAPE = (16, 3, 4, 4)  # a small batch of feature maps: (batch, channels, height, width)
PROBE_ROWS = 8  # rows tried first, before any larger input (see Subject.__call__)


class Subject:
    """The student's function, called as ``fn(X, p, mode=mode, training=training)``."""

    def __init__(self, fn: Callable[..., Tensor]):
        self.fn = fn

    def __call__(self, X: Tensor, p: float, mode: str = "row", training: bool = True) -> Tensor:
        # A mask of the wrong rank broadcasts a batch of B rows into B x B of them: on the
        # 20,000-row inputs below that is gigabytes. A few rows show the shape first.
        if X.shape[0] > PROBE_ROWS:
            self._checked(X[:PROBE_ROWS].clone(), p, mode, training)
        return self._checked(X, p, mode, training)

    def _checked(self, X: Tensor, p: float, mode: str, training: bool) -> Tensor:
        out = self.fn(X, p, mode=mode, training=training)
        if not isinstance(out, Tensor):
            raise Fail(f"drop_path(X, p={p}) returned {type(out).__name__}, not a tensor",
                       "return the tensor; a function without `return` gives None")
        if out.shape != X.shape:
            raise Fail(f"an input of shape {tuple(X.shape)} came back with shape "
                       f"{tuple(out.shape)}", shape_hint(X, out))
        return out

    def kept_rows(self, X: Tensor, p: float, mode: str = "row") -> Tensor:
        """Which examples survived one training call: a bool per example (row)."""
        out = self(X, p, mode=mode).detach()
        return (out != 0).flatten(1).any(dim=1)


def shape_hint(X: Tensor, out: Tensor) -> str:
    """Name the mask shape that fits every rank, and the 4-D-only one when that is what
    the output's shape shows."""
    generic = ("multiply X by a mask of shape (X.shape[0],) + (1,) * (X.dim() - 1): it "
               "broadcasts over the rest of each example, whatever X's rank")
    if out.dim() > X.dim() and out.shape[0] == X.shape[0]:
        return (f"the mask has more dimensions than the {X.dim()}-D input (a shape such as "
                f"(X.shape[0], 1, 1, 1) fits only 4-D inputs); {generic}")
    return generic


def _rows(n: int, dtype=torch.float32) -> Tensor:
    return positive((n, 3), dtype)


def shape(s: Subject) -> None:
    for size in (SHAPE, SHAPE[:2], SHAPE[:1]):  # feature maps, token vectors, one value each
        s(positive(size), 0.5)


def dtype(s: Subject) -> None:
    for dt in (torch.float64, torch.bfloat16):
        out = s(positive(SHAPE, dt), 0.5)
        if out.dtype != dt:
            raise Fail(f"a {dt} input came back as {out.dtype}",
                       "build the mask in X's dtype, e.g. torch.rand(..., device=X.device) >= p "
                       "then .to(X.dtype); .float() always gives float32")


def device(s: Subject) -> None:
    where = other_device()
    X = torch.empty(SHAPE, device=where)
    out = run_on_device(lambda: s(X, 0.5), where, "tensor",
                        "torch.rand((X.shape[0],) + (1,) * (X.dim() - 1)) builds the mask on "
                        "the CPU; pass device=X.device")
    if out.device != X.device:
        raise Fail(f"a {where.type} input came back on {out.device}",
                   "build the mask and the output on X.device")


def p_zero(s: Subject) -> None:
    X = positive(SHAPE)
    out = s(X.clone(), 0.0).detach()
    if torch.equal(out, X):
        return
    if torch.isnan(out).all() or (out == 0).all():
        hint = ("p=0 dropped every example: p is the DROP probability, not the keep "
                "probability; keep an example where rand >= p")
    else:
        hint = "p=0 drops nothing: every example is kept and scaled by 1/(1-0) = 1"
    raise Fail("with p=0 the output differs from X", hint)


def eval_identity(s: Subject) -> None:
    X = positive(SHAPE)
    for mode in ("row", "batch"):
        out = s(X.clone(), 0.5, mode=mode, training=False)
        if not torch.equal(out, X):
            raise Fail(f"with training=False (mode={mode!r}, p=0.5) the output differs from X",
                       "drop path is active in eval: return X unchanged when training is False, "
                       "so model.eval() switches it off")


def p_one(s: Subject) -> None:
    out = s(positive(SHAPE), 1.0)
    if torch.isnan(out).any():
        raise Fail("with p=1 the output contains NaN",
                   "1 - p = 0, so mask * X / (1 - p) is 0/0; return zeros when p == 1")
    if (out != 0).any():
        hint = ("p=1 kept every example: p is the DROP probability, not the keep probability"
                if (out != 0).all() else "p=1 drops every example; keep one only where rand >= p")
        raise Fail(f"with p=1, {(out != 0).float().mean().item():.0%} of the outputs are nonzero",
                   hint)


def whole_examples(s: Subject) -> None:
    out = s(positive((256, 3, 4, 4)), 0.5).detach().flatten(1)
    zeros = (out == 0).double().mean(dim=1)  # per example: 0 (kept) or 1 (dropped)
    mixed = ((zeros > 0) & (zeros < 1)).double().mean().item()
    if mixed > 0:
        raise Fail(f"with p=0.5, {mixed:.0%} of the examples came out partly zeroed",
                   "you dropped entries one by one, like dropout; drop path keeps or drops a "
                   "whole example: draw one number per example, "
                   "torch.rand((X.shape[0],) + (1,) * (X.dim() - 1), device=X.device)")


def own_coin(s: Subject) -> None:
    kept = s.kept_rows(_rows(4096), 0.5)
    same, tol = agreement(kept, 0)
    if same > 0.5 + tol:
        raise Fail(f"with mode='row' and p=0.5, {same:.0%} of neighbouring examples were kept or "
                   "dropped together (expected 50%)",
                   "one decision for the whole batch: in mode='row' every example needs its own "
                   "coin, a mask of shape (X.shape[0], 1, ..., 1)")


def batch_mode(s: Subject) -> None:
    calls, p = 400, 0.5
    dropped = 0
    for _ in range(calls):
        kept = s.kept_rows(_rows(64), p, mode="batch")
        if kept.any() and not kept.all():
            raise Fail(f"with mode='batch', {int(kept.sum())} of 64 examples were kept in one call",
                       "mode='batch' draws ONE coin for the whole batch: a mask of shape "
                       "(1, 1, ..., 1)")
        dropped += not kept.any()
    frac, tol = dropped / calls, sigma_band(p, calls)
    if not close(frac, p, tol):
        raise Fail(f"with mode='batch' and p={p}, {frac:.2f} of {calls} calls dropped the batch",
                   "drop the whole batch with probability p")


def drop_fraction(s: Subject) -> None:
    for p in (0.2, 0.8):
        frac = 1 - s.kept_rows(_rows(ROWS), p).double().mean().item()
        tol = sigma_band(p, ROWS)
        if close(frac, p, tol):
            continue
        if close(frac, 1 - p, tol):
            hint = ("p used as the keep probability: p is the DROP probability, keep an example "
                    "where rand >= p")
        else:
            hint = "compare one uniform number per example with p: torch.rand(...) >= p"
        raise Fail(f"with p={p}, {frac:.3f} of the examples were dropped (expected {p} ± {tol:.3f})",
                   hint)


def values(s: Subject) -> None:
    p = 0.3
    X = _rows(512, torch.float64)
    out = s(X.clone(), p).detach().to(torch.float64)
    kept = (out != 0).any(dim=1)
    if not kept.any():
        raise Fail("with p=0.3 every example was dropped", "keep an example where rand >= p")
    got, x = out[kept], X[kept]
    if torch.allclose(got, x / (1 - p), rtol=1e-5):
        return
    for expected, hint in [
        (x, "kept examples come out unscaled: divide them by (1 - p), or the block's output "
            "shrinks by (1 - p) on average"),
        (x / p, "kept examples were divided by p; divide by the keep probability 1 - p"),
        (x * (1 - p), "kept examples were multiplied by (1 - p); divide by it instead"),
    ]:
        if torch.allclose(got, expected, rtol=1e-5):
            raise Fail(f"with p={p}, x={x[0, 0].item():.4f} came out as {got[0, 0].item():.4f}",
                       hint)
    raise Fail(f"with p={p}, kept entries are not x/(1-p)",
               "multiply X by a 0/1 mask per example, divided by (1 - p)")


def mean(s: Subject) -> None:
    p, q = 0.3, 0.7
    m = s(torch.full((ROWS, 1), X0), p).detach().double().mean().item()
    tol = 5 * X0 * math.sqrt(p / q) / math.sqrt(ROWS)
    if close(m, X0, tol):
        return
    known = [(q, "kept examples were not scaled up: divide by (1 - p)"),
             (q / p, "you divided by p; divide by the keep probability 1 - p"),
             (p / q, "you kept examples with probability p: p is the drop probability")]
    raise Fail(f"E[drop_path(x)] should equal x = {X0}; measured {m:.4f} with p={p}",
               hint_for_ratio(m / X0, known, "E[mask] = 1 - p, so dividing by (1 - p) keeps "
                              "the mean", 5 * tol / X0))


def fresh(s: Subject) -> None:
    X = _rows(1024)
    require_fresh(s(X.clone(), 0.5), s(X.clone(), 0.5),
                  "two calls with the same input dropped the same examples",
                  "draw a new mask on every call; don't seed inside the function or store a mask")


def untouched_and_differentiable(s: Subject) -> None:
    require_unchanged(lambda X: s(X, 0.5), positive(SHAPE),
                      "you wrote into X (X *= mask or .mul_()); return X * mask / (1 - p)")
    require_mask_gradient(
        lambda X: s(X, 0.3), positive(SHAPE, torch.float64), 0.3,
        detail="the gradient is not mask/(1-p)",
        detached_hint="don't use .detach(), .data or torch.no_grad() on the way",
        hint="compute the output as X * mask / (1 - p) with the mask as a constant")


def rejects_bad_arguments(s: Subject) -> None:
    X = positive(SHAPE)

    def accepted(bad, out):
        return (f"p={bad} was accepted silently",
                "validate p first: if not 0 <= p <= 1: raise ValueError(...)")

    expect_value_error(
        lambda bad: s.fn(X, bad, mode="row", training=True),
        assert_hint="`assert` vanishes under python -O; use `if not 0 <= p <= 1: raise "
        "ValueError(...)`",
        other_hint="a bad p is a bad value: raise ValueError with a message saying 0 <= p <= 1",
        accepted=accepted,
    )
    try:
        s.fn(X, 0.5, mode="rows", training=True)
    except ValueError:
        return
    except Exception as err:
        raise Fail(f"mode='rows' raised {type(err).__name__}",
                   "an unknown mode is a bad value: raise ValueError naming 'row' and 'batch'") from None
    raise Fail("mode='rows' (a typo) was accepted silently",
               "check the mode: if mode not in ('row', 'batch'): raise ValueError(...)")


CHECKS: list[tuple[str, Callable[[Subject], None]]] = [
    ("returns a tensor of X's shape", shape),
    ("keeps X's dtype (float64, bfloat16)", dtype),
    ("builds its mask on X's device", device),
    ("p=0 returns X unchanged", p_zero),
    ("is the identity with training=False", eval_identity),
    ("p=1 drops everything, without NaN", p_one),
    ("keeps or drops each example whole", whole_examples),
    ("mode='row': every example has its own coin", own_coin),
    ("mode='batch': one coin for the whole batch", batch_mode),
    ("drops a fraction p of the examples (p=0.2 and p=0.8)", drop_fraction),
    ("kept examples are scaled by 1/(1-p)", values),
    ("keeps the mean: E[drop_path(x)] = x", mean),
    ("draws a new mask on every call", fresh),
    ("leaves X unchanged and passes gradients as mask/(1-p)", untouched_and_differentiable),
    ("rejects p outside [0, 1] and an unknown mode with ValueError", rejects_bad_arguments),
]


def check_drop_path(fn: Callable[..., Tensor]) -> Checklist:
    """Check a student's ``drop_path(X, p, mode="row", training=True)`` (p = drop probability).

    Prints a ✓/✗ checklist with a hint under each ✗, and raises ``AssertionError`` naming the
    failed checks. Returns the :class:`Checklist` of results when everything passed.

    >>> def forgot_eval(X, p, mode="row", training=True):
    ...     keep = (torch.rand(X.shape[0], *[1] * (X.dim() - 1)) >= p).to(X.dtype)
    ...     return X * keep / (1 - p) if p < 1 else X * 0
    >>> try:
    ...     check_drop_path(forgot_eval)
    ... except AssertionError as err:
    ...     print("AssertionError:", err)  # doctest: +ELLIPSIS
    Checking forgot_eval(X, p, mode, training):
    ...
      ✗ is the identity with training=False
          with training=False (mode='row', p=0.5) the output differs from X
          hint: drop path is active in eval: ...
    ...
    """
    __tracebackhide__ = True  # pytest: report the student's line, not the checker's
    name = require_callable("check_drop_path", fn, "drop_path(X, p, mode='row', training=True)",
                            (torch.ones(2, 3), 0.5), {"mode": "row", "training": True})
    subject = Subject(fn)
    return run_battery(f"Checking {name}(X, p, mode, training):",
                       [(label, partial(check, subject)) for label, check in CHECKS], name)
