"""``check_dropconnect``: the 13 checks of a student's DropConnect layer class.

Each check is a function of the :class:`Target` under test (the class, its name and the mask
mode asked for) that returns when its property holds and raises ``Fail`` with a hint when it
does not. ``CHECKS`` lists them in the order the checklist prints them.

What each property of a right answer is checked by (the audit of issue 28), in both modes
unless said.

=============================  ===============================================================
property                       seen by
=============================  ===============================================================
parameters, no stored mask     ``parameters``: nn.Linear's state_dict
no writes into the weight      ``weight_unchanged``
fresh randomness               ``fresh_mask``: two calls
gradient                       ``grad_zeros``: per-batch, a fraction p of weight.grad is 0
mean and variance              ``mean``, ``variance``: 4,000 passes at p=0.3
a coin per connection          ``one_hot``: one input, 400 outputs, p=0.5
structure over the batch       ``mask_structure``: shared (per-batch) or own (per-example)
eval, p=0                      ``eval_mode``, ``p_zero``: exactly nn.Linear
dtype, device                  ``dtype_device``: float64 and half precision; CUDA or "meta"
rate in half precision         ``half_precision_rate``: identity inputs read the mask back
bad p                          ``rejects_bad_p``: 1.5 and -0.1 raise ValueError
global RNG                     every check runs in a forked RNG (battery.run_battery)
=============================  ===============================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property, partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .battery import (
    Checklist,
    Fail,
    first_line,
    is_stub,
    not_written,
    require_callable,
    run_battery,
)
from .stats import agreement, close, hint_for_ratio, pair_agreement, sigma_band
from .trials import (
    HALF_CASES,
    expect_value_error,
    half_dtypes,
    other_device,
    positive,
    require_dtype_kept,
    require_fresh,
    run_on_device,
)

MODES = ("per-batch", "per-example")
SAFE_MASK = "torch.rand(self.weight.shape, device=self.weight.device) >= p"
N_IN, N_OUT, P_MOMENTS, PASSES = 50, 20, 0.3, 4000  # the mean and variance checks' layer


class Target:
    """The student's layer class under test, with the helpers every check builds on."""

    def __init__(self, cls: Callable[..., nn.Module], per_example: bool):
        self.cls, self.per_example = cls, per_example
        self.name = getattr(cls, "__name__", "your layer")

    def build(self, n_in: int, n_out: int, p: float, weight: Tensor | None = None) -> nn.Module:
        """``cls(n_in, n_out, p)`` in train mode, with ``weight`` and a zero bias if given."""
        layer = self.cls(n_in, n_out, p)
        if not isinstance(layer, nn.Module):
            raise Fail(
                f"{self.name}({n_in}, {n_out}, {p}) built a {type(layer).__name__}, not an nn.Module",
                "subclass nn.Module (or nn.Linear) and call super().__init__()",
            )
        if weight is not None:
            with torch.no_grad():
                layer.weight.copy_(weight)
                if getattr(layer, "bias", None) is not None:
                    layer.bias.zero_()
        return layer.train()

    @staticmethod
    def output(layer: nn.Module, x: Tensor) -> Tensor:
        """``layer(x)``, failing unless it is a tensor of shape (*batch, out)."""
        out = layer(x)
        if not isinstance(out, Tensor):
            raise Fail(
                f"forward returned {type(out).__name__}, not a tensor",
                "forward must return the layer's output; a method without `return` gives None",
            )
        expected = (*x.shape[:-1], layer.weight.shape[0])
        if tuple(out.shape) != expected:
            raise Fail(
                f"an input of shape {tuple(x.shape)} gave shape {tuple(out.shape)}, expected {expected}",
                "compute F.linear(x, masked_weight, self.bias): x @ W.T has shape (batch, out)",
            )
        return out

    @cached_property
    def draws(self) -> tuple[Tensor, Tensor, Tensor]:
        """``PASSES`` training outputs for one input, and their theoretical mean and variance,
        drawn once inside the battery's forked RNG for the mean and variance checks."""
        # Positive weights: with zero-mean ones, masking whole outputs would give the same
        # variance on average over the units and slip through.
        W = positive((N_OUT, N_IN)) / N_IN
        x = positive((1, N_IN))
        layer = self.build(N_IN, N_OUT, P_MOMENTS, W)
        with torch.no_grad():
            out = torch.cat([self.output(layer, x) for _ in range(PASSES)]).double()
        mean = F.linear(x, W).double()[0]
        var = (F.linear(x * x, W * W) * P_MOMENTS / (1 - P_MOMENTS)).double()[0]
        return out, mean, var


def parameters(t: Target) -> None:
    layer = t.build(5, 3, 0.5)
    got = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
    want = {k: tuple(v.shape) for k, v in nn.Linear(5, 3).state_dict().items()}
    extra = [k for k in got if k not in want]
    if extra and all(got[k] == want["weight"] for k in extra) and set(want) <= set(got):
        # A weight-shaped buffer is a mask kept in the layer: the root cause to name first,
        # since a stored mask is a mask drawn once.
        raise Fail(
            f"state_dict has {got}: {', '.join(map(repr, extra))} is a stored mask",
            "draw a new mask in every forward, not once in __init__, and keep it a local "
            "variable (register no buffer for it)",
        )
    if got != want:
        raise Fail(
            f"state_dict has {got}; nn.Linear(5, 3) has {want}",
            "keep exactly two Parameters named weight (out, in) and bias (out,) and store the "
            "mask nowhere (subclassing nn.Linear gives you both)",
        )
    if not all(isinstance(getattr(layer, k), nn.Parameter) for k in want):
        raise Fail("weight or bias is not an nn.Parameter", "wrap them in nn.Parameter")


def weight_unchanged(t: Target) -> None:
    layer = t.build(30, 20, 0.5)
    weight, before = layer.weight, layer.weight.detach().clone()
    t.output(layer, positive((8, 30)))
    if layer.weight is not weight:
        raise Fail(
            "forward replaced self.weight with a new tensor",
            "never assign to self.weight in forward; compute masked = self.weight * mask "
            "and use it in F.linear",
        )
    if not torch.equal(layer.weight.detach(), before):
        raise Fail(
            "the weight changed during forward: it was masked in place",
            "self.weight.data *= mask (or .mul_) destroys the dropped weights for good; "
            "use a new tensor: self.weight * mask",
        )


def grad_zeros(t: Target) -> None:
    p = 0.5
    layer = t.build(200, 300, p)
    t.output(layer, positive((16, 200))).sum().backward()
    grad = layer.weight.grad
    if grad is None:
        raise Fail(
            "weight.grad is None after backward",
            "the output must depend on self.weight through autograd: no .data, .detach() "
            "or torch.no_grad() in forward",
        )
    if t.per_example:  # the examples' gradients add up, so few entries stay exactly zero
        if not grad.abs().sum() > 0:
            raise Fail("weight.grad is all zeros", "is the mask keeping anything?")
        return
    frac = (grad == 0).double().mean().item()
    tol = sigma_band(p, grad.numel())
    if close(frac, p, tol):
        return
    if frac < 0.05:
        hint = ("almost no weight got a zero gradient, so the weights were not dropped: mask the weight "
                "matrix (shape (out, in)), not the input or the output")
    elif frac > 0.9:
        hint = "almost every gradient is zero: is the mask keeping anything?"
    else:
        hint = f"drop each weight independently: mask = {SAFE_MASK}"
    raise Fail(f"with p={p}, {frac:.3f} of weight.grad is exactly zero (expected {p} ± {tol:.3f})", hint)


def _require_fresh_draws(out: Tensor) -> None:
    if torch.equal(out.min(0).values, out.max(0).values):
        raise Fail(f"all {PASSES} training-mode passes gave the same output",
                   "draw a new mask in every forward, not once in __init__")


def mean(t: Target) -> None:
    out, mean_theory, var_theory = t.draws
    _require_fresh_draws(out)
    z = (out.mean(0) - mean_theory) / (var_theory / PASSES).sqrt()
    if z.abs().max().item() <= 5.5:
        return
    # Least squares: by which factor are the measured means off?
    ratio = (out.mean(0) @ mean_theory / (mean_theory @ mean_theory)).item()
    p, q = P_MOMENTS, 1 - P_MOMENTS
    known = [
        (q, "kept weights were not scaled: divide the masked weight by (1 - p)"),
        (q / p, "you divided by p; divide by the keep probability 1 - p"),
        (p / q, "you kept weights with probability p: p is the DROP probability"),
    ]
    raise Fail(
        f"averaged over {PASSES} passes the output is {ratio:.3f}× F.linear(x, W, b), "
        f"expected 1 (p={p})",
        hint_for_ratio(ratio, known, "E[mask] = 1 - p, so masked_weight = weight * mask / "
                       "(1 - p) keeps the mean", 0.05),
    )


def variance(t: Target) -> None:
    out, _, var_theory = t.draws
    _require_fresh_draws(out)
    ratio = (out.var(0) / var_theory).mean().item()
    # Each variance estimate has relative error about sqrt(2/passes); 20 units average it.
    if close(ratio, 1.0, 5 * math.sqrt(2 / (PASSES * N_OUT)) * 2):
        return
    if ratio < 1e-6:
        hint = "the output never changes in train mode: is the mask applied in forward?"
    else:
        hint = ("drop each weight independently (mask of shape (out, in)); masking whole "
                "outputs or rows gives a different variance")
    raise Fail(f"Var[output] is {ratio:.2f}× the theory p/(1-p)·Σ W²x² (p={P_MOMENTS})", hint)


def one_hot(t: Target) -> None:
    p, out_features = 0.5, 400
    layer = t.build(10, out_features, p, torch.ones(out_features, 10))
    x1 = torch.zeros(1, 10)
    x1[0, 3] = 1.0
    with torch.no_grad():
        outs = torch.cat([t.output(layer, x1) for _ in range(20)])
    dropped = (outs == 0).double().mean(1)  # per pass: the fraction of output units dropped
    if ((dropped == 0) | (dropped == 1)).all():
        raise Fail(
            "with a one-hot input, every pass kept or dropped all output units together",
            "that is dropout on the input: DropConnect drops W[o, i] separately for every "
            "output o, so the mask needs the weight's shape (out, in)",
        )
    frac, tol = dropped.mean().item(), sigma_band(p, outs.numel())
    if not close(frac, p, tol):
        raise Fail(f"a one-hot input lost {frac:.3f} of its connections (expected {p} ± {tol:.3f})",
                   "drop each weight with probability p")


def _kept_coins(t: Target, batch: int = 64) -> Tensor:
    """Which of two weights into each output were kept, for every example of one batch:
    a (batch, out, 2) bool tensor. Two inputs are switched on, with weights 1 and 2 into every
    output, so each output reads 0/1/2/3 times the kept scale."""
    n_in, n_out, (i, j) = 10, 256, (3, 7)
    W = torch.zeros(n_out, n_in)
    W[:, i], W[:, j] = 1.0, 2.0
    layer = t.build(n_in, n_out, 0.5, W)
    x = torch.zeros(batch, n_in)
    x[:, [i, j]] = 1.0
    with torch.no_grad():
        out = t.output(layer, x)
    top = out.max().item()
    level = out / (top / 3) if top > 0 else out
    if top <= 0 or not torch.allclose(level, level.round(), atol=1e-4):
        raise Fail("the outputs are not a pattern of kept and dropped weights",
                   "each weight is kept (scaled by 1/(1-p)) or dropped, nothing else")
    level = level.round()
    return torch.stack([(level == 1) | (level == 3), level >= 2], dim=-1)


def _shared_over_batch(kept: Tensor) -> bool:
    return all(torch.equal(kept[0], kept[b]) for b in range(1, len(kept)))


def _examples_independent(kept: Tensor) -> None:
    """Per-example mode: each example's mask is its own draw."""
    shared = _shared_over_batch(kept)
    same, tol = agreement(kept, 0)  # one weight's coin, example after example
    if shared or same > 0.5 + tol:
        raise Fail(
            f"the examples of one batch were kept or dropped together {same:.0%} of the "
            "time (expected 50%)",
            "per-example DropConnect draws a separate (out, in) mask for every example: "
            "a (batch, out, in) mask, e.g. torch.rand(len(x), *self.weight.shape)")


def _weight_coins_independent(one: Tensor) -> None:
    """One example's (out, 2) coins: a coin per weight, not per input or per output."""
    # Outputs first: one coin per input (dropout on the input) makes a whole column agree,
    # which would also make the two inputs' pairs copies of each other.
    same, tol = agreement(one, 0)
    if same > 0.5 + tol:
        raise Fail(
            f"one input's weights into different outputs were kept or dropped together "
            f"{same:.0%} of the time (expected 50%)",
            "one coin per input is dropout on the input: the mask needs the weight's shape "
            "(out, in)")
    same, tol = pair_agreement(one[:, 0], one[:, 1])
    if same > 0.5 + tol:
        raise Fail(
            f"an output's weights from two inputs were kept or dropped together {same:.0%} of "
            "the time (expected 50%)",
            "one coin per output unit is dropout on the output: the mask needs the weight's "
            "shape (out, in)")


def mask_structure(t: Target) -> None:
    kept = _kept_coins(t)
    if t.per_example:
        # A mask repeated over the batch would make every example's coins look alike below.
        _examples_independent(kept)
        _weight_coins_independent(kept[0])
        return
    _weight_coins_independent(kept[0])  # valid whether or not the batch shares the mask
    if not _shared_over_batch(kept):
        raise Fail(
            "the examples of one batch got different masks",
            "per-batch DropConnect draws one (out, in) mask per forward, shared by the batch; "
            "if you meant one mask per example, check with mode='per-example'")


def fresh_mask(t: Target) -> None:
    layer = t.build(40, 30, 0.5)
    x2 = positive((4, 40))
    with torch.no_grad():
        a, b = t.output(layer, x2), t.output(layer, x2)
    require_fresh(a, b, "two training-mode calls gave the same output",
                  "draw a new mask in every forward, not once in __init__")


def eval_mode(t: Target) -> None:
    layer = t.build(30, 20, 0.5).eval()
    x2 = positive((8, 30))
    with torch.no_grad():
        a, b = t.output(layer, x2), t.output(layer, x2)
        expected = F.linear(x2, layer.weight, layer.bias)
    if not torch.equal(a, b):
        raise Fail("two eval-mode calls differ", "in eval mode (not self.training) use no mask")
    if not torch.allclose(a, expected, rtol=1e-5, atol=1e-6):
        raise Fail(
            f"eval output is {(a.sum() / expected.sum()).item():.3f}× nn.Linear's",
            "with inverted scaling (divide by 1 - p while training), eval is exactly "
            "F.linear(x, self.weight, self.bias)",
        )


def p_zero(t: Target) -> None:
    layer = t.build(30, 20, 0.0)
    x2 = positive((8, 30))
    with torch.no_grad():
        out = t.output(layer, x2)
    if not torch.allclose(out, F.linear(x2, layer.weight, layer.bias), rtol=1e-5, atol=1e-6):
        raise Fail("with p=0 the training output differs from nn.Linear",
                   "p is the DROP probability: p=0 keeps every weight")


def dtype_device(t: Target) -> None:
    for dt in (torch.float64, *half_dtypes()):
        layer = t.build(16, 8, 0.5).to(dt)
        require_dtype_kept(lambda dt=dt, layer=layer: t.output(layer, positive((4, 16), dt)),
                           dt, f"a {dt} layer", f"build the mask like the weight: {SAFE_MASK}, "
                           "then .to(self.weight.dtype)")
    where = other_device()
    out = run_on_device(
        lambda: t.output(t.build(16, 8, 0.5).to(where), torch.empty(4, 16, device=where)),
        where, "layer",
        f"torch.rand(shape) builds the mask on the CPU; pass the weight's device: {SAFE_MASK}",
    )
    if out.device != where:
        raise Fail(f"a {where.type} layer gave outputs on {out.device}",
                   "build the mask on self.weight.device")


# Half precision: bfloat16 and float16, or those of them this torch can compute on the CPU
# (torch 2.1 has no float16 matmul there; see trials.half_dtypes).
def half_precision_rate(t: Target) -> None:
    # Uniform numbers drawn in the weight's own dtype (torch.rand_like(self.weight)) snap the
    # rate in half precision (see check_dropout_layer). An identity input reads the masked
    # weight back: out[b, o] = W'[o, b] with W all ones, 65,536 coins a call.
    # Few inputs: a per-example mask holds batch x out x in coins, and the batch is n_in.
    n_in, n_out = 8, 8192
    x = torch.eye(n_in)
    for dt, p, n in HALF_CASES:
        if dt not in half_dtypes():
            continue
        calls = n // (n_in * n_out)
        layer = t.build(n_in, n_out, p, torch.ones(n_out, n_in)).to(dt)
        with torch.no_grad():
            dropped = sum(int((t.output(layer, x.to(dt)) == 0).sum()) for _ in range(calls))
        frac, tol = dropped / n, sigma_band(p, n)
        if not close(frac, p, tol):
            raise Fail(
                f"a {dt} layer with p={p} dropped {frac:.4f} of its weights (expected "
                f"{p} ± {tol:.4f})",
                f"{dt} numbers are coarse, so uniform numbers drawn in the weight's dtype "
                "(torch.rand_like(self.weight)), or a keep probability 1 - p stored in it, "
                f"snap the rate: draw in float32, {SAFE_MASK}, then .to(self.weight.dtype)")


def rejects_bad_p(t: Target) -> None:
    expect_value_error(
        lambda bad: t.cls(4, 3, bad),
        assert_hint="asserts vanish under python -O; raise ValueError in __init__",
        other_hint="a bad p is a bad value: raise ValueError saying 0 <= p <= 1",
        accepted=lambda bad, _: (
            f"{t.name}(4, 3, p={bad}) was accepted",
            "validate p in __init__: if not 0 <= p <= 1: raise ValueError(...)",
        ),
    )


def checks(per_example: bool) -> list[tuple[str, Callable[[Target], None]]]:
    """The checklist for one mode; two labels say what that mode expects."""
    return [
        ("has nn.Linear's parameters: weight (out, in), bias (out,)", parameters),
        ("never changes the weight in forward (no in-place masking)", weight_unchanged),
        # Early: a mask drawn once in __init__ also spoils the mean, the variance and the
        # structure, and the first ✗ a student reads should name the cause, not a symptom.
        ("draws a new mask on every training call", fresh_mask),
        ("weight.grad exists" if per_example else "weight.grad exists and a fraction p of it is "
         "exactly 0", grad_zeros),
        ("keeps the mean: E[output] = F.linear(x, W, b)", mean),
        ("has variance p/(1-p)·Σ W²x²", variance),
        ("drops each output unit's connections independently (one-hot input)", one_hot),
        ("one mask per example, a coin per weight" if per_example else
         "one mask per batch, a coin per weight", mask_structure),
        ("eval mode is deterministic and equals nn.Linear", eval_mode),
        ("p=0 is plain nn.Linear", p_zero),
        ("keeps the weight's dtype (float64, half precision) and device", dtype_device),
        ("drops a fraction p of the weights in half precision too", half_precision_rate),
        ("rejects p outside [0, 1] with ValueError", rejects_bad_p),
    ]


CHECKS = checks(per_example=False)


def _construction_failure(t: Target) -> list[tuple[str, Callable[[], None]]] | None:
    """A class that cannot even be built would fail every check with the same error: one
    check that says so, or None when ``cls(5, 3, 0.5)`` works."""
    try:
        with torch.random.fork_rng(devices=[]):  # building initializes weights: keep the RNG
            t.build(5, 3, 0.5)
        return None
    except Exception as err:
        if is_stub(err):
            raise not_written(t.name) from None
        if isinstance(err, Fail):
            detail, hint = err.detail, err.hint
        else:
            detail = f"raised {type(err).__name__}: {first_line(err)}"
            hint = ("the checker calls cls(in_features, out_features, p); check __init__'s "
                    "arguments and that it calls super().__init__()")

    def construct():
        raise Fail(detail, hint)

    return [(f"can be built as {t.name}(5, 3, 0.5)", construct)]


def check_dropconnect(cls: Callable[..., nn.Module], *, mode: str = "per-batch") -> Checklist:
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
    All 13 checks passed.
    <checklist: 13 of 13 checks passed>
    """
    __tracebackhide__ = True  # pytest: report the student's line, not the checker's
    require_callable("check_dropconnect", cls, "DropConnectLinear(in_features, out_features, p)",
                     (5, 3, 0.5), {}, kind="class")
    if mode not in MODES:
        raise ValueError(f"mode must be 'per-batch' or 'per-example', got {mode!r}")
    target = Target(cls, per_example=mode == "per-example")
    battery = _construction_failure(target) or [
        (label, partial(check, target)) for label, check in checks(target.per_example)]
    return run_battery(f"Checking {target.name}(in_features, out_features, p):", battery,
                       target.name)
