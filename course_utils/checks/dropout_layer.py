"""``check_dropout_layer``: the 15 checks of a student's inverted dropout ``fn(X, p)``.

Each check is a function of the :class:`Subject` under test that returns when its property
holds and raises ``Fail`` with a hint naming the likely mistake when it does not. ``CHECKS``
lists them in the order the checklist prints them; a test can run any one of them alone.

    >>> from course_utils import dropout_layer
    >>> check_dropout_layer(dropout_layer)  # doctest: +ELLIPSIS
    Checking dropout_layer(X, p):
      ✓ returns a tensor of X's shape
    ...
    All 15 checks passed.
    <checklist: 15 of 15 checks passed>

What each property of a right answer is checked by (the audit of issue 28):

=============================  ===============================================================
property                       seen by (p, shapes, dtypes; forward or backward)
=============================  ===============================================================
shape                          ``shape``: (4, 7, 3), p=0.5
dtype                          ``dtype``: float64 and bfloat16, p=0.5
device                         ``device``: CUDA if present, else a "meta" tensor, p=0.5
identity at p=0                ``p_zero``: float32 (32, 16); the hint tells keep-p from others
p=1                            ``p_one``: all zeros, no NaN
values 0 or x/(1-p)            ``values``: float64 (128, 64), p=0.3
rate                           ``drop_fraction``: 200,000 entries at p=0.2 and 0.8
rate in half precision         ``half_precision_rate``: 4 million entries, bfloat16 and
                               float16, p=0.9 and 0.001
mean and variance              ``mean``, ``variance``: 200,000 entries, p=0.3
independence, every dimension  ``independent``: (128, 256) and (40, 64, 64), p=0.5
fresh randomness               ``fresh_mask``: two calls on 4,096 entries
no writes into X               ``not_mutated``: p=0.5
gradient                       ``gradient``: float64, p=0.3, mask/(1-p)
bad p                          ``rejects_bad_p``: 1.5 and -0.1 raise ValueError
global RNG                     every check runs in a forked RNG (battery.run_battery)
=============================  ===============================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property, partial

import torch
from torch import Tensor

from .battery import Checklist, Fail, require_callable, run_battery
from .stats import agreement, close, hint_for_ratio, normal_cdf, sigma_band
from .trials import (
    dropout_dtypes,
    expect_value_error,
    other_device,
    positive,
    require_fresh,
    require_mask_gradient,
    require_unchanged,
    run_on_device,
)

SAFE_MASK = "torch.rand(X.shape, device=X.device) >= p"  # float32 draws: right in every dtype
N = 200_000  # entries per statistical check: 5-sigma bands stay tight (about ±0.005 on p)
X0, P_MOMENTS = 2.0, 0.3  # the input value and rate of the mean and variance checks
PROBE_ROWS = 8  # rows tried first, before any larger input (see Subject.__call__)


class Subject:
    """The student's function, and the one sample the mean and variance checks share."""

    def __init__(self, fn: Callable[[Tensor, float], Tensor]):
        self.fn = fn

    def __call__(self, X: Tensor, p: float) -> Tensor:
        # A mask of the wrong shape can broadcast the 200,000-entry inputs below into a
        # 200,000 x 200,000 tensor, which kills a Colab kernel: a few rows show the shape first.
        if X.dim() and X.shape[0] > PROBE_ROWS:
            self._checked(X[:PROBE_ROWS].clone(), p)
        return self._checked(X, p)

    def _checked(self, X: Tensor, p: float) -> Tensor:
        out = self.fn(X, p)
        if not isinstance(out, Tensor):
            raise Fail(
                f"fn(X, p={p}) returned {type(out).__name__}, not a tensor",
                "return the dropped-out tensor; a function without `return` gives None",
            )
        if out.shape != X.shape:
            raise Fail(
                f"an input of shape {tuple(X.shape)} came back with shape {tuple(out.shape)}",
                "multiply X by a mask of X's own shape, e.g. torch.rand(X.shape, device=X.device) >= p",
            )
        return out

    @cached_property
    def moment_sample(self) -> Tensor:
        # Drawn at the first check that needs it, inside the battery's forked RNG.
        return self(torch.full((N,), X0), P_MOMENTS).detach().double()


def shape(s: Subject) -> None:
    s(positive((4, 7, 3)), 0.5)


def dtype(s: Subject) -> None:
    for dt in (torch.float64, torch.bfloat16):
        out = s(positive((64, 32), dt), 0.5)
        if out.dtype != dt:
            raise Fail(
                f"a {dt} input came back as {out.dtype}",
                "cast the mask to X's dtype: (torch.rand(X.shape, device=X.device) >= p).to(X.dtype); "
                ".float() always gives float32",
            )


def device(s: Subject) -> None:
    where = other_device()
    X = torch.empty(64, 32, device=where)
    out = run_on_device(
        lambda: s(X, 0.5), where, "tensor",
        "torch.rand(X.shape) builds the mask on the CPU; pass device=X.device: "
        "torch.rand(X.shape, device=X.device)",
    )
    if out.device != X.device:
        raise Fail(f"a {where.type} input came back on {out.device}",
                   "build the mask and the output on X.device")


def p_zero(s: Subject) -> None:
    X = positive((32, 16))
    out = s(X.clone(), 0.0)
    if torch.equal(out, X):
        return
    dropped = (out == 0).double().mean().item()
    if dropped == 1.0:
        hint = "p=0 dropped everything: p is the DROP probability, keep where rand >= p"
    elif dropped > 0.3:
        hint = (f"p=0 still dropped {dropped:.0%}: if you used torch.randn, the mask needs "
                "uniform numbers from torch.rand")
    else:
        hint = "p=0 drops nothing: every unit is kept and scaled by 1/(1-0) = 1"
    raise Fail("with p=0 the output differs from X", hint)


def p_one(s: Subject) -> None:
    out = s(positive((32, 16)), 1.0)
    if torch.isnan(out).any():
        raise Fail("with p=1 the output contains NaN",
                   "1 - p = 0, so mask * X / (1 - p) is 0/0; return zeros when p == 1")
    if (out != 0).any():
        raise Fail(
            f"with p=1, {(out != 0).float().mean().item():.0%} of the outputs are nonzero",
            "p=1 drops everything; keep a unit only where rand >= p (or rand > p)",
        )


def values(s: Subject) -> None:
    p = 0.3
    X = positive((128, 64), torch.float64)
    out = s(X.clone(), p).detach().to(torch.float64)  # a copy: X itself stays intact
    kept = out != 0
    if not kept.any():
        raise Fail("with p=0.3 every output was 0", "keep units where rand > p")
    got, x = out[kept], X[kept]
    if torch.allclose(got, x / (1 - p), rtol=1e-5):
        return
    guesses = [
        (x, "kept units come out unscaled: divide the kept units by (1 - p)"),
        (x / p, "kept units were divided by p; inverted dropout divides by 1 - p"),
        (x * (1 - p), "kept units were multiplied by (1 - p); divide by it instead"),
    ]
    for expected, hint in guesses:
        if torch.allclose(got, expected, rtol=1e-5):
            raise Fail(f"with p={p}, x={x[0].item():.4f} came out as {got[0].item():.4f}", hint)
    i = int((got - x / (1 - p)).abs().argmax())
    raise Fail(
        f"with p={p}, x={x[i].item():.4f} came out as {got[i].item():.4f}, "
        f"expected 0 or {x[i].item() / (1 - p):.4f}",
        "the mask must be exactly 0 or 1 per entry, and kept entries divided by (1 - p)",
    )


def drop_fraction(s: Subject) -> None:
    for p in (0.2, 0.8):
        frac = (s(torch.ones(N), p) == 0).double().mean().item()
        tol = sigma_band(p, N)
        if close(frac, p, tol):
            continue
        if close(frac, 1 - p, tol):
            hint = "you dropped with probability 1 - p: p is the DROP probability, keep where rand >= p"
        elif close(frac, normal_cdf(p), tol):
            hint = "torch.randn draws normal numbers; the mask needs uniform ones from torch.rand"
        elif frac in (0.0, 1.0):
            # The entries of a 1-D X went together: a mask of shape X.shape[1:] or (1,) is
            # one coin broadcast over the batch, which is what students write.
            hint = ("all the entries were dropped or kept together, so they share one coin (a "
                    "mask of shape X.shape[1:] or (1,) is broadcast over the batch): draw it "
                    f"with X's full shape, {SAFE_MASK}")
        else:
            hint = "compare uniform numbers with p: mask = torch.rand(X.shape, device=X.device) >= p"
        raise Fail(f"with p={p}, {frac:.3f} of the entries were dropped (expected {p} ± {tol:.3f})",
                   hint)


def half_precision_rate(s: Subject) -> None:
    # bfloat16 holds 256 numbers between 0.5 and 1, float16 2,048: uniform numbers drawn in
    # X's own dtype (torch.rand_like), or a keep probability 1 - p stored in it, snap the rate.
    # p = 0.9 shows it in bfloat16 (rand_like keeps 0.1015 of 4 million); p = 0.001 in both
    # (rand_like drops 0.29% in bfloat16 and 0.124% in float16, and 1 - 0.001 is exactly 1.0
    # in bfloat16, so torch.bernoulli of it never drops).
    n = 1 << 22
    for dt in dropout_dtypes():
        for p in (0.9, 0.001):
            frac = (s(torch.ones(n, dtype=dt), p) == 0).double().mean().item()
            tol = sigma_band(p, n)
            if not close(frac, p, tol):
                raise Fail(
                    f"with a {dt} input and p={p}, {frac:.4f} of the entries were dropped "
                    f"(expected {p} ± {tol:.4f}; float32 inputs were right)",
                    f"{dt} numbers are coarse, so uniform numbers drawn in X's dtype "
                    "(torch.rand_like(X)), or a keep probability 1 - p stored in it, snap the "
                    f"rate: draw in float32, {SAFE_MASK}, then .to(X.dtype)")


def mean(s: Subject) -> None:
    m, p, q = s.moment_sample.mean().item(), P_MOMENTS, 1 - P_MOMENTS
    tol = 5 * X0 * math.sqrt(p / q) / math.sqrt(N)
    if close(m, X0, tol):
        return
    known = [
        (q, "the kept units were not scaled up: divide by (1 - p)"),
        (q / p, "you divided by p; divide by the keep probability 1 - p"),
        (p / q, "you kept units with probability p: p is the drop probability"),
        (1 / q, "the mask seems to keep everything; check the comparison with p"),
        ((1 - normal_cdf(p)) / q, "torch.randn draws normal numbers; use torch.rand"),
    ]
    raise Fail(f"E[h'] should equal h = {X0}; measured {m:.4f} with p={p}",
               hint_for_ratio(m / X0, known, "E[mask] = 1 - p, so dividing by (1 - p) restores "
                              "the mean", 5 * tol / X0))


def variance(s: Subject) -> None:
    v, p, q = s.moment_sample.var().item(), P_MOMENTS, 1 - P_MOMENTS
    c = X0 / q  # a kept unit's value
    theory = X0**2 * p / q
    mu4 = c**4 * q * p * (1 - 3 * q * p)  # central fourth moment of c * Bernoulli(q)
    if not close(v, theory, 5 * math.sqrt((mu4 - theory**2) / N)):
        raise Fail(
            f"Var[h'] should be x²·p/(1-p) = {theory:.4f} for x={X0}, p={p}; measured {v:.4f}",
            "each entry must be kept (scaled by 1/(1-p)) or dropped, independently, with "
            "probability 1 - p and p",
        )


def _shared_mask_hint(dim: int, ndim: int) -> str:
    if dim == 0:
        return ("every example got the same mask: it was drawn for one example and "
                "broadcast over the batch (e.g. torch.rand(X.shape[1:])). Each entry "
                "of X, for every example, needs its own coin: torch.rand(X.shape, device=X.device) >= p")
    if dim == ndim - 1:
        return ("all the entries of one example share one coin (e.g. "
                "torch.rand(len(X), 1)): every entry needs its own, "
                "torch.rand(X.shape, device=X.device) >= p")
    return (f"the mask is shared along dimension {dim}: draw it with X's full "
            "shape, torch.rand(X.shape, device=X.device) >= p")


def independent(s: Subject) -> None:
    p = 0.5
    for shape in ((128, 256), (40, 64, 64)):
        kept = s(torch.ones(shape), p) != 0
        for dim in range(len(shape)):
            same, tol = agreement(kept, dim)
            if same > 0.5 + tol:
                raise Fail(
                    f"with a {shape} input and p={p}, {same:.0%} of the neighbours along "
                    f"dimension {dim} were kept or dropped together (expected 50%)",
                    _shared_mask_hint(dim, len(shape)))


def fresh_mask(s: Subject) -> None:
    X = torch.ones(4096)
    require_fresh(s(X.clone(), 0.5), s(X.clone(), 0.5),
                  "two calls with the same input gave the same mask",
                  "draw a new mask on every call; don't call torch.manual_seed inside the "
                  "function or reuse a stored mask")


def not_mutated(s: Subject) -> None:
    require_unchanged(lambda X: s(X, 0.5), positive((64, 32)),
                      "you wrote into X (X *= mask, X[...] = 0 or .mul_()); return mask * X / (1 - p)")


def gradient(s: Subject) -> None:
    require_mask_gradient(
        lambda X: s(X, 0.3), positive((64, 32), torch.float64), 0.3,
        detail="dh'/dh is not mask/(1-p)",
        detached_hint="don't use .detach(), .data, torch.no_grad() or torch.tensor(...) on the way",
        hint="compute the output as mask * X / (1 - p) with the mask as a constant")


def rejects_bad_p(s: Subject) -> None:
    X = positive((8,))

    def accepted(bad, out):
        shown = out if not isinstance(out, Tensor) else out.detach().flatten()[:3]
        return (f"p={bad} was accepted silently (it returned {shown}...)",
                "validate p first: if not 0 <= p <= 1: raise ValueError(...)")

    expect_value_error(
        lambda bad: s.fn(X, bad),
        assert_hint="`assert` is for internal bugs and vanishes under python -O, so p=1.5 "
        "would then pass silently; use `if not 0 <= p <= 1: raise ValueError(...)`",
        other_hint="a bad p is a bad value: raise ValueError with a message saying 0 <= p <= 1",
        accepted=accepted,
    )


CHECKS: list[tuple[str, Callable[[Subject], None]]] = [
    ("returns a tensor of X's shape", shape),
    ("keeps X's dtype (float64, bfloat16)", dtype),
    ("builds its mask on X's device", device),
    ("p=0 returns X unchanged", p_zero),
    ("p=1 returns all zeros, without NaN", p_one),
    ("every output is 0 or x/(1-p)", values),
    ("drops a fraction p of the entries (p=0.2 and p=0.8)", drop_fraction),
    ("drops a fraction p in bfloat16 and float16 too", half_precision_rate),
    ("keeps the mean: E[h'] = h", mean),
    ("has variance x²·p/(1-p)", variance),
    ("drops each entry on its own coin (2-D and 3-D inputs)", independent),
    ("draws a new mask on every call", fresh_mask),
    ("leaves its input unchanged", not_mutated),
    ("passes gradients as mask/(1-p)", gradient),
    ("rejects p outside [0, 1] with ValueError", rejects_bad_p),
]


def check_dropout_layer(fn: Callable[[Tensor, float], Tensor]) -> Checklist:
    """Check a student's inverted-dropout function ``fn(X, p)`` (p = drop probability).

    Prints a ✓/✗ checklist with a hint under each ✗, and raises ``AssertionError`` naming the
    failed checks. Returns the :class:`Checklist` of results when everything passed.

    >>> def forgot_to_scale(X, p):
    ...     return X * (torch.rand(X.shape, device=X.device) >= p).to(X.dtype)
    >>> try:
    ...     check_dropout_layer(forgot_to_scale)
    ... except AssertionError as err:
    ...     print("AssertionError:", err)  # doctest: +ELLIPSIS
    Checking forgot_to_scale(X, p):
    ...
      ✗ every output is 0 or x/(1-p)
          with p=0.3, x=... came out as ...
          hint: kept units come out unscaled: divide the kept units by (1 - p)
    ...
    AssertionError: 5 of 15 checks failed: every output is 0 or x/(1-p); keeps the mean: ...
    """
    __tracebackhide__ = True  # pytest: report the student's line, not the checker's
    name = require_callable("check_dropout_layer", fn, "dropout_layer(X, p)",
                            (torch.ones(2, 3), 0.5), {})
    subject = Subject(fn)
    return run_battery(f"Checking {name}(X, p):",
                       [(label, partial(check, subject)) for label, check in CHECKS], name)
