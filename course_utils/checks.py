"""Auto-checkers for student code: a ✓/✗ checklist with a hint for each failure.

Each checker runs a battery of small experiments on the student's function, prints one line per
check, and raises ``AssertionError`` if any check failed, so a notebook cell stops loudly. The
experiments run under a fixed seed in a forked RNG: the verdict is the same on every run, and the
student's own random state is left untouched.

    >>> from course_utils import dropout_layer
    >>> check_dropout_layer(dropout_layer)  # doctest: +ELLIPSIS
    Checking dropout_layer(X, p):
      ✓ returns a tensor of X's shape
    ...
    All 13 checks passed.
    <checklist: 13 of 13 checks passed>
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

_SEED = 0
_N = 200_000  # entries per statistical check: 5-sigma bands stay tight (about ±0.005 on p)


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


class _Fail(Exception):
    """Raised inside a check to report a failure with a hint."""

    def __init__(self, detail: str, hint: str = ""):
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


class _Skip(Exception):
    """Raised inside a check that cannot run on this machine."""


def _call(fn: Callable, X: Tensor, p: float) -> Tensor:
    out = fn(X, p)
    if not isinstance(out, Tensor):
        raise _Fail(
            f"fn(X, p={p}) returned {type(out).__name__}, not a tensor",
            "return the dropped-out tensor; a function without `return` gives None",
        )
    if out.shape != X.shape:
        raise _Fail(
            f"an input of shape {tuple(X.shape)} came back with shape {tuple(out.shape)}",
            "multiply X by a mask of X's own shape, e.g. torch.rand_like(X) > p",
        )
    return out


def _error_hint(err: BaseException) -> str:
    """Turn the errors students typically hit into the mistake that causes them."""
    text = str(err)
    if isinstance(err, ZeroDivisionError):
        return "p=1 makes 1 - p zero: handle p == 1 before dividing (return zeros)"
    if "leaf Variable" in text or "inplace" in text or "in-place" in text:
        return "don't modify X in place (X *= ..., X[...] = 0, .mul_()); build a new tensor"
    if "expected device" in text or "same device" in text:
        return "build the mask on X's device: torch.rand_like(X), or torch.rand(X.shape, device=X.device)"
    return "read the error above: your function raised it on a valid input"


def _run_battery(title: str, checks: list[tuple[str, Callable[[], None]]]) -> Checklist:
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    results = Checklist()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(_SEED)
        for name, run in checks:
            try:
                run()
                results.append(CheckResult(name, True))
            except _Fail as fail:
                results.append(CheckResult(name, False, fail.detail, fail.hint))
            except _Skip as skip:
                results.append(CheckResult(name, None, f"skipped: {skip}"))
            except Exception as err:  # the student's code raised: report it, keep checking
                detail = f"raised {type(err).__name__}: {_first_line(err)}"
                results.append(CheckResult(name, False, detail, _error_hint(err)))
    print(title)
    for r in results:
        print(r.line())
    failed = [r for r in results if r.passed is False]
    ran = sum(r.passed is not None for r in results)
    if failed:
        print(f"{ran - len(failed)} of {ran} checks passed.")
        names = "; ".join(r.name for r in failed)
        raise AssertionError(
            f"{len(failed)} of {ran} checks failed: {names}. Fix the first ✗ above and run the "
            f"check again."
        )
    print(f"All {ran} checks passed.")
    return results


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else "(no message)"


def _positive(shape, dtype=torch.float32) -> Tensor:
    # Entries in [0.5, 1.5): never zero, so "output is zero" always means "dropped".
    return (torch.rand(shape) + 0.5).to(dtype)


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def check_dropout_layer(fn: Callable[[Tensor, float], Tensor]) -> Checklist:
    """Check a student's inverted-dropout function ``fn(X, p)`` (p = drop probability).

    Prints a ✓/✗ checklist with a hint under each ✗, and raises ``AssertionError`` naming the
    failed checks. Returns the :class:`Checklist` of results when everything passed.

    >>> def forgot_to_scale(X, p):
    ...     return X * (torch.rand_like(X) > p).to(X.dtype)
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
    AssertionError: 5 of 13 checks failed: every output is 0 or x/(1-p); keeps the mean: ...
    """
    if not callable(fn):
        raise TypeError(f"check_dropout_layer needs your function, got {type(fn).__name__}")

    def shape():
        _call(fn, _positive((4, 7, 3)), 0.5)

    def dtype():
        for dt in (torch.float64, torch.bfloat16):
            out = _call(fn, _positive((64, 32), dt), 0.5)
            if out.dtype != dt:
                raise _Fail(
                    f"a {dt} input came back as {out.dtype}",
                    "make the mask in X's dtype: (torch.rand_like(X) > p).to(X.dtype); "
                    ".float() always gives float32",
                )

    def device():
        if torch.cuda.is_available():
            where = torch.device("cuda")
        else:
            # No GPU here. A "meta" tensor has a shape, a dtype and a device but no data, so it
            # exposes a mask built on the CPU just like a CUDA tensor would.
            where = torch.device("meta")
        X = torch.empty(64, 32, device=where)
        try:
            out = _call(fn, X, 0.5)
        except (_Fail, _Skip):
            raise
        except Exception as err:
            # "expected device cpu", "same device", ...: any mention of devices means the
            # mask and X ended up on different ones.
            if "device" in str(err).lower():
                raise _Fail(
                    f"on a {where.type} tensor it raised {type(err).__name__}: {_first_line(err)}",
                    "torch.rand(X.shape) builds the mask on the CPU; use torch.rand_like(X) "
                    "or torch.rand(X.shape, device=X.device)",
                ) from None
            if where.type == "meta":
                raise _Skip("your function reads tensor values, which a meta tensor lacks") from None
            raise
        if out.device != X.device:
            raise _Fail(
                f"a {where.type} input came back on {out.device}",
                "build the mask and the output on X.device",
            )

    def p_zero():
        X = _positive((32, 16))
        out = _call(fn, X.clone(), 0.0)
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
        raise _Fail("with p=0 the output differs from X", hint)

    def p_one():
        X = _positive((32, 16))
        out = _call(fn, X, 1.0)
        if torch.isnan(out).any():
            raise _Fail(
                "with p=1 the output contains NaN",
                "1 - p = 0, so mask * X / (1 - p) is 0/0; return zeros when p == 1",
            )
        if (out != 0).any():
            raise _Fail(
                f"with p=1, {(out != 0).float().mean().item():.0%} of the outputs are nonzero",
                "p=1 drops everything; keep a unit only where rand >= p (or rand > p)",
            )

    def values():
        p = 0.3
        X = _positive((128, 64), torch.float64)
        out = _call(fn, X.clone(), p).detach().to(torch.float64)  # a copy: X itself stays intact
        kept = out != 0
        if not kept.any():
            raise _Fail("with p=0.3 every output was 0", "keep units where rand > p")
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
                raise _Fail(f"with p={p}, x={x[0].item():.4f} came out as {got[0].item():.4f}", hint)
        i = int((got - x / (1 - p)).abs().argmax())
        raise _Fail(
            f"with p={p}, x={x[i].item():.4f} came out as {got[i].item():.4f}, "
            f"expected 0 or {x[i].item() / (1 - p):.4f}",
            "the mask must be exactly 0 or 1 per entry, and kept entries divided by (1 - p)",
        )

    def drop_fraction():
        for p in (0.2, 0.8):
            out = _call(fn, torch.ones(_N), p)
            frac = (out == 0).double().mean().item()
            tol = 5 * math.sqrt(p * (1 - p) / _N)
            if _close(frac, p, tol):
                continue
            detail = f"with p={p}, {frac:.3f} of the entries were dropped (expected {p} ± {tol:.3f})"
            if _close(frac, 1 - p, tol):
                hint = "you dropped with probability 1 - p: p is the DROP probability, keep where rand > p"
            elif _close(frac, _normal_cdf(p), tol):
                hint = "torch.randn draws normal numbers; the mask needs uniform ones from torch.rand"
            else:
                hint = "compare uniform numbers with p: mask = torch.rand_like(X) > p"
            raise _Fail(detail, hint)

    x0, p_mv = 2.0, 0.3
    moments = {}

    def sample():
        if "out" not in moments:
            moments["out"] = _call(fn, torch.full((_N,), x0), p_mv).detach().double()
        return moments["out"]

    def mean():
        out = sample()
        m = out.mean().item()
        q = 1 - p_mv
        tol = 5 * x0 * math.sqrt(p_mv / q) / math.sqrt(_N)
        if _close(m, x0, tol):
            return
        detail = f"E[h'] should equal h = {x0}; measured {m:.4f} with p={p_mv}"
        ratio = m / x0
        known = [
            (q, "the kept units were not scaled up: divide by (1 - p)"),
            (q / p_mv, "you divided by p; divide by the keep probability 1 - p"),
            (p_mv / q, "you kept units with probability p: p is the drop probability"),
            (1 / q, "the mask seems to keep everything; check the comparison with p"),
            ((1 - _normal_cdf(p_mv)) / q, "torch.randn draws normal numbers; use torch.rand"),
        ]
        hint = "E[mask] = 1 - p, so dividing by (1 - p) restores the mean"
        for r, h in known:
            if _close(ratio, r, 5 * tol / x0):
                hint = h
                break
        raise _Fail(detail, hint)

    def variance():
        out = sample()
        v = out.var().item()
        q = 1 - p_mv
        c = x0 / q  # a kept unit's value
        theory = x0**2 * p_mv / q
        mu4 = c**4 * q * p_mv * (1 - 3 * q * p_mv)  # central fourth moment of c * Bernoulli(q)
        tol = 5 * math.sqrt((mu4 - theory**2) / _N)
        if not _close(v, theory, tol):
            raise _Fail(
                f"Var[h'] should be x²·p/(1-p) = {theory:.4f} for x={x0}, p={p_mv}; measured {v:.4f}",
                "each entry must be kept (scaled by 1/(1-p)) or dropped, independently, with "
                "probability 1 - p and p",
            )

    def fresh_mask():
        X = torch.ones(4096)
        a, b = _call(fn, X.clone(), 0.5), _call(fn, X.clone(), 0.5)
        if torch.equal(a, b):
            raise _Fail(
                "two calls with the same input gave the same mask",
                "draw a new mask on every call; don't call torch.manual_seed inside the "
                "function or reuse a stored mask",
            )

    def not_mutated():
        X = _positive((64, 32))
        before = X.clone()
        _call(fn, X, 0.5)
        if not torch.equal(X, before):
            raise _Fail(
                "X was changed by the call",
                "you wrote into X (X *= mask, X[...] = 0 or .mul_()); return mask * X / (1 - p)",
            )

    def gradient():
        p = 0.3
        X = _positive((64, 32), torch.float64).requires_grad_()
        out = _call(fn, X, p)
        if not out.requires_grad:
            raise _Fail(
                "the output is not connected to X in the autograd graph",
                "don't use .detach(), .data, torch.no_grad() or torch.tensor(...) on the way",
            )
        out.sum().backward()
        expected = (out.detach() != 0).to(X.dtype) / (1 - p)
        if X.grad is None or not torch.allclose(X.grad, expected, rtol=1e-5):
            raise _Fail(
                "dh'/dh is not mask/(1-p)",
                "compute the output as mask * X / (1 - p) with the mask as a constant",
            )

    def rejects_bad_p():
        X = _positive((8,))
        for bad in (1.5, -0.1):
            try:
                out = fn(X, bad)
            except ValueError:
                continue
            except AssertionError:
                raise _Fail(
                    f"p={bad} raised AssertionError",
                    "`assert` is for internal bugs and vanishes under python -O, so p=1.5 would "
                    "then pass silently; use `if not 0 <= p <= 1: raise ValueError(...)`",
                ) from None
            except Exception as err:
                raise _Fail(
                    f"p={bad} raised {type(err).__name__}: {_first_line(err)}",
                    "a bad p is a bad value: raise ValueError with a message saying 0 <= p <= 1",
                ) from None
            shown = out if not isinstance(out, Tensor) else out.detach().flatten()[:3]
            raise _Fail(
                f"p={bad} was accepted silently (it returned {shown}...)",
                "validate p first: if not 0 <= p <= 1: raise ValueError(...)",
            )

    checks = [
        ("returns a tensor of X's shape", shape),
        ("keeps X's dtype (float64, bfloat16)", dtype),
        ("builds its mask on X's device", device),
        ("p=0 returns X unchanged", p_zero),
        ("p=1 returns all zeros, without NaN", p_one),
        ("every output is 0 or x/(1-p)", values),
        ("drops a fraction p of the entries (p=0.2 and p=0.8)", drop_fraction),
        ("keeps the mean: E[h'] = h", mean),
        ("has variance x²·p/(1-p)", variance),
        ("draws a new mask on every call", fresh_mask),
        ("leaves its input unchanged", not_mutated),
        ("passes gradients as mask/(1-p)", gradient),
        ("rejects p outside [0, 1] with ValueError", rejects_bad_p),
    ]
    name = getattr(fn, "__name__", "your function")
    return _run_battery(f"Checking {name}(X, p):", checks)
