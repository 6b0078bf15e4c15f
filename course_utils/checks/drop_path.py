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
    All 16 checks passed.
    <checklist: 16 of 16 checks passed>

What each property of a right answer is checked by (the audit of issue 28). Every input larger
than 8 rows is tried on 8 rows first, so a mask of the wrong rank fails small.

=============================  ===============================================================
property                       seen by (p, mode, shapes, dtypes; forward or backward)
=============================  ===============================================================
shape, every rank              ``shape``: 4-D, 2-D and 1-D inputs, p=0.5
dtype                          ``dtype``: float64 and bfloat16
device                         ``device``: CUDA if present, else "meta"
identity at p=0, in eval       ``p_zero``; ``eval_identity`` in both modes
fresh randomness               ``fresh``: 20 calls in each mode (a mask of one coin repeats)
whole examples                 ``whole_examples``: partly zeroed examples; none zeroed in 20
one coin per example           ``own_coin``: 4,096 rows, p=0.5
batch mode                     ``batch_mode``: one coin, dropped at rate p=0.2 and 0.8
rate, large batches            ``drop_fraction``: 20,000 rows at p=0.2 and 0.8
rate, small batches            ``small_batches``: 400 batches of 8 (a fixed count per call)
p=1                            ``p_one``: zeros in both modes, no NaN (NaN is never "kept")
scale                          ``values``: float64, p=0.3, in both modes
mean                           ``mean``: 20,000 rows, p=0.3
no writes into X               ``untouched_and_differentiable``: p=0.5, 0.2, 0.8 (batch),
                               0, and in eval
gradient                       same check: mask/(1-p) in both modes; 1 at p=0 and in eval
bad arguments                  ``rejects_bad_arguments``: p=1.5, -0.1 and mode='rows'
global RNG                     every check runs in a forked RNG (battery.run_battery)
=============================  ===============================================================
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
        if out.device.type != "meta" and not torch.isfinite(out).all():  # meta has no values
            raise Fail(f"with p={p} (mode={mode!r}, training={training}) the output holds NaN "
                       "or inf", nan_hint(p))
        return out

    def kept_rows(self, X: Tensor, p: float, mode: str = "row") -> Tensor:
        """Which examples survived one training call: a bool per example (row)."""
        out = self(X, p, mode=mode).detach()
        return (out != 0).flatten(1).any(dim=1)


def nan_hint(p: float) -> str:
    if p == 1:
        return "1 - p = 0, so mask * X / (1 - p) is 0/0; return zeros when p == 1"
    return ("an entry became NaN or inf: look for a division by zero (by p, by 1 - p, by a "
            "count of kept examples)")


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
    X = positive(SHAPE)
    for mode in ("row", "batch"):
        out = s(X.clone(), 1.0, mode=mode).detach()
        if (out == 0).all():
            continue
        if torch.equal(out, X):
            hint = ("p=1 returned X: at p=1 every example is dropped, so drop path returns "
                    "zeros; the residual (x + drop_path(block(x))) belongs in the block, and "
                    "p == 1 is no reason to skip the mask")
        else:
            hint = ("at p=1 every example is dropped: every output is 0; a dropped example "
                    "must come out as zeros, not pass through")
        raise Fail(f"with p=1 and mode={mode!r}, {(out != 0).double().mean().item():.0%} of "
                   "the outputs are nonzero", hint)


def fresh(s: Subject) -> None:
    hint = ("draw a new mask on every call: don't call torch.manual_seed (or make a seeded "
            "generator) inside the function, and don't keep a mask from an earlier call")
    # 20 calls: a mask of few coins (one per batch) repeats by chance, 20 times in a row it
    # does so once in 500,000 calls.
    for mode, rows in (("row", 1024), ("batch", PROBE_ROWS)):
        X = _rows(rows)
        first = s(X.clone(), 0.5, mode=mode).detach()
        if all(torch.equal(first, s(X.clone(), 0.5, mode=mode).detach()) for _ in range(19)):
            raise Fail(f"with mode={mode!r}, 20 calls with the same input gave the same output",
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
    # One coin for the whole batch keeps all 256 half the time: give it 20 calls.
    calls = (s(positive((256, 3)), 0.5).detach() for _ in range(19))
    if not (zeros == 1).any() and not any((out == 0).all(dim=1).any() for out in calls):
        raise Fail(f"with p=0.5, none of {len(zeros)} examples came out as zeros in 20 calls",
                   "a dropped example is multiplied by 0 (X * mask with a 0/1 mask), not passed "
                   "through or left as X")


def own_coin(s: Subject) -> None:
    kept = s.kept_rows(_rows(4096), 0.5)
    same, tol = agreement(kept, 0)
    if same > 0.5 + tol:
        raise Fail(f"with mode='row' and p=0.5, {same:.0%} of neighbouring examples were kept or "
                   "dropped together (expected 50%)",
                   "one decision for the whole batch: in mode='row' every example needs its own "
                   "coin, a mask of shape (X.shape[0], 1, ..., 1)")


def batch_mode(s: Subject) -> None:
    calls = 400
    for p in (0.2, 0.8):
        dropped = 0
        for _ in range(calls):
            kept = s.kept_rows(_rows(PROBE_ROWS), p, mode="batch")
            if kept.any() and not kept.all():
                raise Fail(f"with mode='batch', {int(kept.sum())} of {PROBE_ROWS} examples were "
                           "kept in one call",
                           "mode='batch' draws ONE coin for the whole batch: a mask of shape "
                           "(1,) * X.dim()")
            dropped += not kept.any()
        frac, tol = dropped / calls, sigma_band(p, calls)
        if close(frac, p, tol):
            continue
        if close(frac, 1 - p, tol):
            hint = ("p used as the keep probability: drop the batch when the one number "
                    "torch.rand(()) < p, keep it where it is >= p")
        else:
            hint = "draw one uniform number per call, torch.rand(()), and keep the batch where it >= p"
        raise Fail(f"with mode='batch' and p={p}, {frac:.2f} of {calls} calls dropped the batch "
                   f"(expected {p} ± {tol:.2f})", hint)


def small_batches(s: Subject) -> None:
    # A fixed number of examples per call (int(p * B), a randperm) looks right on 20,000 rows;
    # on 8 rows the count must vary call to call like a binomial: variance B·p·(1-p) = 2.
    calls, rows, p = 400, PROBE_ROWS, 0.5
    counts = torch.tensor([float((~s.kept_rows(_rows(rows), p)).sum()) for _ in range(calls)])
    var = counts.var().item()
    if var < 1.0:  # a right answer: 2 ± 0.14 over 400 calls
        raise Fail(f"with p={p} on batches of {rows}, the number dropped per call hardly varies "
                   f"(variance {var:.2f}, expected {rows * p * (1 - p):.1f}; always "
                   f"{counts.median().item():.0f} of {rows}?)",
                   "every example needs its own coin: torch.rand((X.shape[0],) + (1,) * "
                   "(X.dim() - 1)) >= p, not a fixed count such as int(p * X.shape[0])")
    frac = counts.mean().item() / rows
    tol = sigma_band(p, calls * rows)
    if not close(frac, p, tol):
        raise Fail(f"with p={p} on batches of {rows}, {frac:.3f} of the examples were dropped "
                   f"(expected {p} ± {tol:.3f})",
                   "keep each example where its own uniform number >= p, in any batch size")


def drop_fraction(s: Subject) -> None:
    for p in (0.2, 0.8):
        frac = 1 - s.kept_rows(_rows(ROWS), p).double().mean().item()
        tol = sigma_band(p, ROWS)
        if close(frac, p, tol):
            continue
        if close(frac, 1 - p, tol):
            hint = ("p used as the keep probability: p is the DROP probability, keep an example "
                    "where rand >= p")
        elif frac == 0:
            hint = ("no example came out as zeros: a dropped example is multiplied by 0 (X * "
                    "mask), not passed through")
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
        for _ in range(40):  # batch mode: keep calling until one call keeps the batch
            out = s(X[:8].clone(), p, mode="batch").detach().to(torch.float64)
            if (out != 0).any():
                if torch.allclose(out, X[:8] / (1 - p), rtol=1e-5):
                    return
                raise Fail(f"with mode='batch' and p={p}, a kept batch is not X/(1-p)",
                           "scale the kept batch by 1/(1-p) too, as in mode='row'")
        return  # 40 dropped batches in a row: the rate check reports it
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


def untouched_and_differentiable(s: Subject) -> None:
    wrote = "you wrote into X (X *= mask or .mul_()); return X * mask / (1 - p)"
    for p, mode, training in ((0.5, "row", True), (0.2, "row", True), (0.8, "batch", True),
                              (0.0, "row", True), (0.5, "row", False)):
        require_unchanged(partial(s, p=p, mode=mode, training=training), positive(SHAPE),
                          wrote)
    for mode in ("row", "batch"):
        require_mask_gradient(
            partial(s, p=0.3, mode=mode), positive(SHAPE, torch.float64), 0.3,
            detail=f"with mode={mode!r}, the gradient is not mask/(1-p)",
            detached_hint="don't use .detach(), .data or torch.no_grad() on the way",
            hint="compute the output as X * mask / (1 - p) with the mask as a constant")
    for p, training, when in ((0.0, True, "p=0"), (0.5, False, "training=False")):
        X = positive(SHAPE, torch.float64).requires_grad_()
        out = s(X, p, training=training)
        if not out.requires_grad:
            raise Fail(f"with {when} the output is not connected to X in the autograd graph",
                       f"with {when} return X itself (or X * 1), not X.detach(), X.data or "
                       "a copy made under torch.no_grad()")
        out.sum().backward()
        if X.grad is None or not torch.equal(X.grad, torch.ones_like(X)):
            raise Fail(f"with {when} the gradient is not 1 everywhere",
                       f"with {when} drop path is the identity, and so is its gradient")


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
    ("draws a new mask on every call", fresh),
    ("keeps or drops each example whole", whole_examples),
    ("mode='row': every example has its own coin", own_coin),
    ("mode='batch': one coin for the whole batch, dropped with probability p", batch_mode),
    ("drops a fraction p of the examples (p=0.2 and p=0.8)", drop_fraction),
    ("drops each example on its own coin in small batches too", small_batches),
    ("p=1 drops everything, without NaN", p_one),
    ("kept examples are scaled by 1/(1-p), in both modes", values),
    ("keeps the mean: E[drop_path(x)] = x", mean),
    ("leaves X unchanged and passes gradients as mask/(1-p), at p=0 and in eval too",
     untouched_and_differentiable),
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
