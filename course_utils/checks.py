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
    All 14 checks passed.
    <checklist: 14 of 14 checks passed>
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


def _is_stub(err: BaseException) -> bool:
    # The student version's stub is a bare `raise NotImplementedError()`; one with a message is
    # the student's own choice and is reported like any other error.
    return isinstance(err, NotImplementedError) and not str(err)


def _not_written(subject: str) -> NotImplementedError:
    return NotImplementedError(
        f"{subject} is not written yet: it still raises NotImplementedError. Replace "
        "'# YOUR CODE HERE' and 'raise NotImplementedError()' in its cell with your code, run "
        "that cell, then run this check again."
    )


def _run_battery(title: str, checks: list[tuple[str, Callable[[], None]]],
                 subject: str = "your code") -> Checklist:
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
            except NotImplementedError as err:
                if _is_stub(err):  # an unsolved exercise: one clear message, not a ✗ per check
                    raise _not_written(subject) from None
                results.append(CheckResult(name, False, f"raised NotImplementedError: {err}",
                                           _error_hint(err)))
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


def _other_device() -> torch.device:
    """A device that exposes masks built on the CPU: the GPU if there is one, else "meta".

    A "meta" tensor has a shape, a dtype and a device but no data, so a CPU-built mask fails
    on it just as it would on a CUDA tensor, even on a machine without a GPU.
    """
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("meta")


def _run_on_device(run: Callable[[], Tensor], where: torch.device, what: str, hint: str) -> Tensor:
    try:
        return run()
    except (_Fail, _Skip):
        raise
    except Exception as err:
        # "expected device cpu", "same device", ...: any mention of devices means the mask and
        # the data ended up on different ones.
        if "device" in str(err).lower():
            raise _Fail(
                f"on a {where.type} {what} it raised {type(err).__name__}: {_first_line(err)}",
                hint,
            ) from None
        if where.type == "meta":
            raise _Skip("your code reads tensor values, which a meta tensor lacks") from None
        raise


def _expect_value_error(
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
            raise _Fail(f"p={bad} raised AssertionError", assert_hint) from None
        except Exception as err:
            raise _Fail(f"p={bad} raised {type(err).__name__}: {_first_line(err)}", other_hint) from None
        raise _Fail(*accepted(bad, result))


def _positive(shape, dtype=torch.float32) -> Tensor:
    # Entries in [0.5, 1.5): never zero, so "output is zero" always means "dropped".
    return (torch.rand(shape) + 0.5).to(dtype)


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _agreement(kept: Tensor, dim: int) -> tuple[float, float]:
    """How often an entry of a keep-mask equals its neighbour along ``dim``, and a 6σ tolerance.

    Independent coins at p = 0.5 agree half the time; a mask drawn once and broadcast along
    ``dim`` agrees every time. The drop fraction, mean and variance cannot tell the two apart.
    """
    n = kept.shape[dim]
    same = (kept.narrow(dim, 1, n - 1) == kept.narrow(dim, 0, n - 1)).double().mean().item()
    pairs = kept.numel() // n * (n - 1)
    return same, 6 * math.sqrt(0.25 / pairs)


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
    AssertionError: 5 of 14 checks failed: every output is 0 or x/(1-p); keeps the mean: ...
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
        where = _other_device()
        X = torch.empty(64, 32, device=where)
        out = _run_on_device(
            lambda: _call(fn, X, 0.5), where, "tensor",
            "torch.rand(X.shape) builds the mask on the CPU; use torch.rand_like(X) "
            "or torch.rand(X.shape, device=X.device)",
        )
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

    def independent():
        p = 0.5
        for shape in ((128, 256), (32, 16, 64)):
            kept = _call(fn, torch.ones(shape), p) != 0
            for dim in range(len(shape)):
                same, tol = _agreement(kept, dim)
                if same <= 0.5 + tol:
                    continue
                if dim == 0:
                    hint = ("every example got the same mask: it was drawn for one example and "
                            "broadcast over the batch (e.g. torch.rand(X.shape[1:])). Each entry "
                            "of X, for every example, needs its own coin: torch.rand_like(X) > p")
                elif dim == len(shape) - 1:
                    hint = ("all the entries of one example share one coin (e.g. "
                            "torch.rand(len(X), 1)): every entry needs its own, "
                            "torch.rand_like(X) > p")
                else:
                    hint = (f"the mask is shared along dimension {dim}: draw it with X's full "
                            "shape, torch.rand_like(X) > p")
                raise _Fail(
                    f"with a {shape} input and p={p}, {same:.0%} of the neighbours along "
                    f"dimension {dim} were kept or dropped together (expected 50%)", hint)

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

        def accepted(bad, out):
            shown = out if not isinstance(out, Tensor) else out.detach().flatten()[:3]
            return (f"p={bad} was accepted silently (it returned {shown}...)",
                    "validate p first: if not 0 <= p <= 1: raise ValueError(...)")

        _expect_value_error(
            lambda bad: fn(X, bad),
            assert_hint="`assert` is for internal bugs and vanishes under python -O, so p=1.5 "
            "would then pass silently; use `if not 0 <= p <= 1: raise ValueError(...)`",
            other_hint="a bad p is a bad value: raise ValueError with a message saying 0 <= p <= 1",
            accepted=accepted,
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
        ("drops each entry on its own coin (2-D and 3-D inputs)", independent),
        ("draws a new mask on every call", fresh_mask),
        ("leaves its input unchanged", not_mutated),
        ("passes gradients as mask/(1-p)", gradient),
        ("rejects p outside [0, 1] with ValueError", rejects_bad_p),
    ]
    name = getattr(fn, "__name__", "your function")
    return _run_battery(f"Checking {name}(X, p):", checks, name)


def check_dropconnect(cls: Callable[..., torch.nn.Module], *, mode: str = "per-batch") -> Checklist:
    """Check a student's DropConnect layer: ``cls(in_features, out_features, p)`` must build a
    module that behaves like ``nn.Linear`` with each weight dropped with probability ``p`` in
    training (kept weights scaled by ``1/(1-p)``) and like plain ``nn.Linear`` in eval mode.

    ``mode`` says how the masks relate across a batch: ``"per-batch"`` (default) draws one
    ``(out, in)`` mask per forward, shared by every example; ``"per-example"`` draws one per
    example, as in Wan et al. (2013). Either way each weight gets its own coin. For a layer
    with options, pass ``functools.partial(MyLayer, per_example=True)``.

    Prints a ✓/✗ checklist with a hint under each ✗, and raises ``AssertionError`` naming the
    failed checks. Returns the :class:`Checklist` when everything passed.

    >>> from course_utils import DropConnectLinear
    >>> check_dropconnect(DropConnectLinear)  # doctest: +ELLIPSIS
    Checking DropConnectLinear(in_features, out_features, p):
      ✓ has nn.Linear's parameters: weight (out, in), bias (out,)
    ...
    All 12 checks passed.
    <checklist: 12 of 12 checks passed>
    """
    if not callable(cls):
        raise TypeError(f"check_dropconnect needs your layer class, got {type(cls).__name__}")
    if mode not in ("per-batch", "per-example"):
        raise ValueError(f"mode must be 'per-batch' or 'per-example', got {mode!r}")
    per_example = mode == "per-example"
    name = getattr(cls, "__name__", "your layer")
    title = f"Checking {name}(in_features, out_features, p):"
    F = torch.nn.functional

    def build(n_in: int, n_out: int, p: float, weight: Tensor | None = None) -> torch.nn.Module:
        layer = cls(n_in, n_out, p)
        if not isinstance(layer, torch.nn.Module):
            raise _Fail(
                f"{name}({n_in}, {n_out}, {p}) built a {type(layer).__name__}, not an nn.Module",
                "subclass nn.Module (or nn.Linear) and call super().__init__()",
            )
        if weight is not None:
            with torch.no_grad():
                layer.weight.copy_(weight)
                if getattr(layer, "bias", None) is not None:
                    layer.bias.zero_()
        return layer.train()

    def output(layer: torch.nn.Module, x: Tensor) -> Tensor:
        out = layer(x)
        if not isinstance(out, Tensor):
            raise _Fail(
                f"forward returned {type(out).__name__}, not a tensor",
                "forward must return the layer's output; a method without `return` gives None",
            )
        expected = (*x.shape[:-1], layer.weight.shape[0])
        if tuple(out.shape) != expected:
            raise _Fail(
                f"an input of shape {tuple(x.shape)} gave shape {tuple(out.shape)}, expected {expected}",
                "compute F.linear(x, masked_weight, self.bias): x @ W.T has shape (batch, out)",
            )
        return out

    def parameters():
        layer = build(5, 3, 0.5)
        reference = torch.nn.Linear(5, 3)
        got = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
        want = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
        if got != want:
            raise _Fail(
                f"state_dict has {got}; nn.Linear(5, 3) has {want}",
                "keep exactly two Parameters named weight (out, in) and bias (out,) and store the "
                "mask nowhere (subclassing nn.Linear gives you both)",
            )
        if not all(isinstance(getattr(layer, k), torch.nn.Parameter) for k in want):
            raise _Fail("weight or bias is not an nn.Parameter", "wrap them in nn.Parameter")

    def weight_unchanged():
        layer = build(30, 20, 0.5)
        weight, before = layer.weight, layer.weight.detach().clone()
        output(layer, _positive((8, 30)))
        if layer.weight is not weight:
            raise _Fail(
                "forward replaced self.weight with a new tensor",
                "never assign to self.weight in forward; compute masked = self.weight * mask "
                "and use it in F.linear",
            )
        if not torch.equal(layer.weight.detach(), before):
            raise _Fail(
                "the weight changed during forward: it was masked in place",
                "self.weight.data *= mask (or .mul_) destroys the dropped weights for good; "
                "use a new tensor: self.weight * mask",
            )

    def grad_zeros():
        p = 0.5
        layer = build(200, 300, p)
        output(layer, _positive((16, 200))).sum().backward()
        grad = layer.weight.grad
        if grad is None:
            raise _Fail(
                "weight.grad is None after backward",
                "the output must depend on self.weight through autograd: no .data, .detach() "
                "or torch.no_grad() in forward",
            )
        if per_example:  # the examples' gradients add up, so few entries stay exactly zero
            if not grad.abs().sum() > 0:
                raise _Fail("weight.grad is all zeros", "is the mask keeping anything?")
            return
        frac = (grad == 0).double().mean().item()
        n = grad.numel()
        tol = 5 * math.sqrt(p * (1 - p) / n)
        if _close(frac, p, tol):
            return
        if frac < 0.05:
            hint = ("almost no weight got a zero gradient, so the weights were not dropped: mask the weight "
                    "matrix (shape (out, in)), not the input or the output")
        elif frac > 0.9:
            hint = "almost every gradient is zero: is the mask keeping anything?"
        else:
            hint = "drop each weight independently: mask = torch.rand_like(self.weight) > p"
        raise _Fail(f"with p={p}, {frac:.3f} of weight.grad is exactly zero (expected {p} ± {tol:.3f})", hint)

    n_in, n_out, p_mv, passes = 50, 20, 0.3, 4000
    samples = {}

    def draws() -> tuple[Tensor, Tensor, Tensor]:
        # Drawn once, inside the battery's forked RNG, and shared by the mean and variance checks.
        if "out" not in samples:
            # Positive weights: with zero-mean ones, masking whole outputs would give the
            # same variance on average over the units and slip through.
            W = _positive((n_out, n_in)) / n_in
            x = _positive((1, n_in))
            layer = build(n_in, n_out, p_mv, W)
            with torch.no_grad():
                samples["out"] = torch.cat([output(layer, x) for _ in range(passes)]).double()
            samples["mean"] = F.linear(x, W).double()[0]
            samples["var"] = (F.linear(x * x, W * W) * p_mv / (1 - p_mv)).double()[0]
        return samples["out"], samples["mean"], samples["var"]

    def mean():
        out, mean_theory, var_theory = draws()
        z = (out.mean(0) - mean_theory) / (var_theory / passes).sqrt()
        if z.abs().max().item() <= 5.5:
            return
        # Least squares: by which factor are the measured means off?
        ratio = (out.mean(0) @ mean_theory / (mean_theory @ mean_theory)).item()
        q = 1 - p_mv
        known = [
            (q, "kept weights were not scaled: divide the masked weight by (1 - p)"),
            (q / p_mv, "you divided by p; divide by the keep probability 1 - p"),
            (p_mv / q, "you kept weights with probability p: p is the DROP probability"),
        ]
        hint = "E[mask] = 1 - p, so masked_weight = weight * mask / (1 - p) keeps the mean"
        for r, h in known:
            if _close(ratio, r, 0.05):
                hint = h
                break
        raise _Fail(
            f"averaged over {passes} passes the output is {ratio:.3f}× F.linear(x, W, b), "
            f"expected 1 (p={p_mv})",
            hint,
        )

    def variance():
        out, _, var_theory = draws()
        ratio = (out.var(0) / var_theory).mean().item()
        # Each variance estimate has relative error about sqrt(2/passes); 20 units average it.
        tol = 5 * math.sqrt(2 / (passes * n_out)) * 2
        if _close(ratio, 1.0, tol):
            return
        if ratio < 1e-6:
            hint = "the output never changes in train mode: is the mask applied in forward?"
        else:
            hint = ("drop each weight independently (mask of shape (out, in)); masking whole "
                    "outputs or rows gives a different variance")
        raise _Fail(
            f"Var[output] is {ratio:.2f}× the theory p/(1-p)·Σ W²x² (p={p_mv})", hint
        )

    def one_hot():
        p, out_features = 0.5, 400
        layer = build(10, out_features, p, torch.ones(out_features, 10))
        x1 = torch.zeros(1, 10)
        x1[0, 3] = 1.0
        with torch.no_grad():
            outs = torch.cat([output(layer, x1) for _ in range(20)])
        dropped = (outs == 0).double().mean(1)  # per pass: the fraction of output units dropped
        if ((dropped == 0) | (dropped == 1)).all():
            raise _Fail(
                "with a one-hot input, every pass kept or dropped all output units together",
                "that is dropout on the input: DropConnect drops W[o, i] separately for every "
                "output o, so the mask needs the weight's shape (out, in)",
            )
        frac = dropped.mean().item()
        tol = 5 * math.sqrt(p * (1 - p) / outs.numel())
        if not _close(frac, p, tol):
            raise _Fail(
                f"a one-hot input lost {frac:.3f} of its connections (expected {p} ± {tol:.3f})",
                "drop each weight with probability p",
            )

    def mask_structure():
        # Two inputs switched on, with weights 1 and 2 into every output: each output then reads
        # both of its coins, 0/1/2/3 times the kept scale, for every example of one batch.
        batch, n_in, n_out, (i, j) = 64, 10, 256, (3, 7)
        W = torch.zeros(n_out, n_in)
        W[:, i], W[:, j] = 1.0, 2.0
        layer = build(n_in, n_out, 0.5, W)
        x = torch.zeros(batch, n_in)
        x[:, [i, j]] = 1.0
        with torch.no_grad():
            out = output(layer, x)
        top = out.max().item()
        level = out / (top / 3) if top > 0 else out
        if top <= 0 or not torch.allclose(level, level.round(), atol=1e-4):
            raise _Fail("the outputs are not a pattern of kept and dropped weights",
                        "each weight is kept (scaled by 1/(1-p)) or dropped, nothing else")
        level = level.round()
        kept = torch.stack([(level == 1) | (level == 3), level >= 2], dim=-1)  # (batch, out, 2)
        same, tol = _agreement(kept, 2)
        if same > 0.5 + tol:
            raise _Fail(
                f"an output's weights from two inputs were kept or dropped together {same:.0%} of "
                "the time (expected 50%)",
                "one coin per output unit is dropout on the output: the mask needs the weight's "
                "shape (out, in)")
        same, tol = _agreement(kept, 1)
        if same > 0.5 + tol:
            raise _Fail(
                f"one input's weights into different outputs were kept or dropped together "
                f"{same:.0%} of the time (expected 50%)",
                "one coin per input is dropout on the input: the mask needs the weight's shape "
                "(out, in)")
        shared = all(torch.equal(kept[0], kept[b]) for b in range(1, batch))
        if per_example:
            same, tol = _agreement(kept, 0)
            if shared or same > 0.5 + tol:
                raise _Fail(
                    f"the examples of one batch were kept or dropped together {same:.0%} of the "
                    "time (expected 50%)",
                    "per-example DropConnect draws a separate (out, in) mask for every example: "
                    "a (batch, out, in) mask, e.g. torch.rand(len(x), *self.weight.shape)")
        elif not shared:
            raise _Fail(
                "the examples of one batch got different masks",
                "per-batch DropConnect draws one (out, in) mask per forward, shared by the batch; "
                "if you meant one mask per example, check with mode='per-example'")

    def fresh_mask():
        layer = build(40, 30, 0.5)
        x2 = _positive((4, 40))
        with torch.no_grad():
            a, b = output(layer, x2), output(layer, x2)
        if torch.equal(a, b):
            raise _Fail(
                "two training-mode calls gave the same output",
                "draw a new mask in every forward, not once in __init__",
            )

    def eval_mode():
        layer = build(30, 20, 0.5).eval()
        x2 = _positive((8, 30))
        with torch.no_grad():
            a, b = output(layer, x2), output(layer, x2)
            expected = F.linear(x2, layer.weight, layer.bias)
        if not torch.equal(a, b):
            raise _Fail("two eval-mode calls differ", "in eval mode (not self.training) use no mask")
        if not torch.allclose(a, expected, rtol=1e-5, atol=1e-6):
            ratio = (a.sum() / expected.sum()).item()
            raise _Fail(
                f"eval output is {ratio:.3f}× nn.Linear's",
                "with inverted scaling (divide by 1 - p while training), eval is exactly "
                "F.linear(x, self.weight, self.bias)",
            )

    def p_zero():
        layer = build(30, 20, 0.0)
        x2 = _positive((8, 30))
        with torch.no_grad():
            out = output(layer, x2)
        if not torch.allclose(out, F.linear(x2, layer.weight, layer.bias), rtol=1e-5, atol=1e-6):
            raise _Fail("with p=0 the training output differs from nn.Linear",
                        "p is the DROP probability: p=0 keeps every weight")

    def dtype_device():
        layer = build(16, 8, 0.5).to(torch.float64)
        out = output(layer, _positive((4, 16), torch.float64))
        if out.dtype != torch.float64:
            raise _Fail(
                f"a float64 layer gave {out.dtype} outputs",
                "build the mask like the weight: torch.rand_like(self.weight) > p, then "
                ".to(self.weight.dtype)",
            )
        where = _other_device()
        out = _run_on_device(
            lambda: output(build(16, 8, 0.5).to(where), torch.empty(4, 16, device=where)),
            where, "layer",
            "torch.rand(shape) builds the mask on the CPU; use torch.rand_like(self.weight)",
        )
        if out.device != where:
            raise _Fail(f"a {where.type} layer gave outputs on {out.device}",
                        "build the mask on self.weight.device")

    def rejects_bad_p():
        _expect_value_error(
            lambda bad: cls(4, 3, bad),
            assert_hint="asserts vanish under python -O; raise ValueError in __init__",
            other_hint="a bad p is a bad value: raise ValueError saying 0 <= p <= 1",
            accepted=lambda bad, _: (
                f"{name}(4, 3, p={bad}) was accepted",
                "validate p in __init__: if not 0 <= p <= 1: raise ValueError(...)",
            ),
        )

    checks = [
        ("has nn.Linear's parameters: weight (out, in), bias (out,)", parameters),
        ("never changes the weight in forward (no in-place masking)", weight_unchanged),
        ("weight.grad exists" if per_example else "weight.grad exists and a fraction p of it is "
         "exactly 0", grad_zeros),
        ("keeps the mean: E[output] = F.linear(x, W, b)", mean),
        ("has variance p/(1-p)·Σ W²x²", variance),
        ("drops each output unit's connections independently (one-hot input)", one_hot),
        ("one mask per example, a coin per weight" if per_example else
         "one mask per batch, a coin per weight", mask_structure),
        ("draws a new mask on every training call", fresh_mask),
        ("eval mode is deterministic and equals nn.Linear", eval_mode),
        ("p=0 is plain nn.Linear", p_zero),
        ("keeps the weight's dtype and device", dtype_device),
        ("rejects p outside [0, 1] with ValueError", rejects_bad_p),
    ]
    # A class that cannot even be built would fail every check with the same error: say it once.
    try:
        with torch.random.fork_rng(devices=[]):  # building initializes weights: keep the RNG as it was
            build(5, 3, 0.5)
    except Exception as err:
        if _is_stub(err):
            raise _not_written(name) from None
        detail = err.detail if isinstance(err, _Fail) else f"raised {type(err).__name__}: {_first_line(err)}"
        hint = err.hint if isinstance(err, _Fail) else (
            "the checker calls cls(in_features, out_features, p); check __init__'s arguments "
            "and that it calls super().__init__()"
        )

        def construct():
            raise _Fail(detail, hint)

        checks = [(f"can be built as {name}(5, 3, 0.5)", construct)]
    return _run_battery(title, checks, name)
