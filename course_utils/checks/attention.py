"""``check_attention_dropout``: the checks of a student's ``attend(q, k, v, p, *, training)``.

The function computes scaled dot-product attention with dropout on the attention weights, and
no dropout at all when ``training`` is False. The eval check is the trap of chapter 08:
``F.scaled_dot_product_attention(q, k, v, dropout_p=p)`` drops in eval mode too, and so does
``F.dropout(weights, p)``, whose ``training`` defaults to True.

    >>> from course_utils import attention
    >>> check_attention_dropout(attention)  # doctest: +ELLIPSIS
    Checking attention(q, k, v, p, training=...):
      ✓ returns one output row per query, with v's features
    ...
    All 14 checks passed.
    <checklist: 14 of 14 checks passed>

What each property of a right answer is checked by (the audit of issue 28). Most read the
dropped weights themselves: with v the identity over the keys, weights @ v is the weights.
Inputs larger than 2 examples are tried on 2 first.

=============================  ===============================================================
property                       seen by (p, training, shapes, dtypes; forward or backward)
=============================  ===============================================================
shape                          ``shape``: (2, 3, 5, 4) queries against 7 keys; a broadcasting
                               error names the transposition
dtype                          ``dtype_and_device``: float64, bfloat16, float16 (where this
                               torch multiplies them on the CPU)
device                         same check: CUDA if present, else "meta"
plain attention at p=0         ``matches_plain``: names a missing or wrong √d, a wrong dim
eval, whatever p               ``eval_is_plain``: p=0.5 and 1; names the eval trap
no NaN                         ``finite``: p=0.5 and 0.9 on 960 rows (renormalizing is 0/0)
fresh randomness               ``drops_in_training``: 20 calls; plain output vs a fixed mask
weights, not outputs or v      ``drops_weights``: v all ones
independence, every dimension  ``independent_weights``: shared by heads, whole heads, rows,
                               keys, examples, batch; then pair agreement per dimension
rate                           ``drop_fraction``: 16,384 weights at p=0.2 and 0.8
scale                          ``scaled``: float64, p=0.3; names renormalizing, 1, 1/p, 1-p
mean                           ``keeps_mean``: one call on 20,000 copies, p=0.3
p=1                            ``p_one``: zeros on 6,720 weights (a clamped p keeps some)
rate in half precision         ``half_precision_rate``: 4 million weights where rand_like's
                               snapping is subtle, half a million elsewhere
gradient, no writes            ``gradients``: q, k, v unchanged; grads reach all three; v's
                               matches the forward's weights; in-place softmax named
global RNG                     every check runs in a forked RNG (battery.run_battery)
=============================  ===============================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

from ..attention import attention
from .battery import Checklist, Fail, first_line, require_callable, run_battery
from .stats import close, pair_agreement, sigma_band
from .trials import HALF_CASES, half_dtypes, other_device, require_dtype_kept, run_on_device

SHAPE_QK, SHAPE_V = (2, 3, 5, 4), (2, 3, 7, 6)  # (batch, heads, tokens, features); 5 queries, 7 keys
PROBE_BATCH = 2  # examples tried first, before any larger input (see Subject.__call__)
TRAP_HINT = ("dropout still runs when training=False: scaled_dot_product_attention(..., "
             "dropout_p=p) drops whatever model.eval() says, and F.dropout(w, p) has "
             "training=True by default. Pass dropout_p=p if training else 0.0, or "
             "F.dropout(w, p, training=training)")
SAFE_MASK = "torch.rand(weights.shape, device=weights.device) >= p"
# What a shape error raised inside the student's function says (matmul, broadcasting, softmax).
SHAPE_WORDS = ("size of tensor", "must match", "cannot be multiplied", "expected size",
               "dimension out of range", "shape", "batch1", "mat1")


def qkv(batch: int = 2, dtype=torch.float32) -> tuple[Tensor, Tensor, Tensor]:
    q = torch.randn(batch, *SHAPE_QK[1:3], SHAPE_QK[3], dtype=dtype)
    k = torch.randn(batch, SHAPE_V[1], SHAPE_V[2], SHAPE_QK[3], dtype=dtype)
    v = torch.randn(batch, *SHAPE_V[1:], dtype=dtype)
    return q, k, v


def plain(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    return attention(q, k, v, training=False)  # the reference, without dropout


def plain_weights(q: Tensor, k: Tensor) -> Tensor:
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(dim=-1)


class Subject:
    """The student's function, called as ``fn(q, k, v, p, training=training)``."""

    def __init__(self, fn: Callable[..., Tensor]):
        self.fn = fn

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, p: float, training: bool) -> Tensor:
        # A mask of the wrong shape can broadcast a large batch into gigabytes: two examples
        # show the shape first.
        if q.shape[0] > PROBE_BATCH:
            self._checked(q[:PROBE_BATCH], k[:PROBE_BATCH], v[:PROBE_BATCH], p, training)
        return self._checked(q, k, v, p, training)

    def _checked(self, q: Tensor, k: Tensor, v: Tensor, p: float, training: bool) -> Tensor:
        shapes = f"q of shape {tuple(q.shape)}, k {tuple(k.shape)} and v {tuple(v.shape)}"
        try:
            out = self.fn(q, k, v, p, training=training)
        except RuntimeError as err:
            if any(word in str(err).lower() for word in SHAPE_WORDS):
                raise Fail(f"{shapes} raised RuntimeError: {first_line(err)}",
                           "the shapes did not line up. Transpose only k's last two dimensions, "
                           "q @ k.transpose(-2, -1) (k.T and k.transpose(0, 1) swap others); "
                           "softmax over dim=-1; then weights @ v") from None
            raise
        if not isinstance(out, Tensor):
            raise Fail(f"attend returned {type(out).__name__}, not a tensor",
                       "return weights @ v; a function without `return` gives None")
        expected = (*q.shape[:-1], v.shape[-1])
        if tuple(out.shape) != expected:
            raise Fail(f"{shapes} gave shape {tuple(out.shape)}, expected {expected}",
                       "scores = q @ k.transpose(-2, -1) has one row per query and one column per "
                       "key; softmax over the keys (dim=-1), then multiply by v")
        if out.device.type != "meta" and not torch.isfinite(out).all():  # meta has no values
            raise Fail(f"with p={p} and training={training}, the output holds NaN or inf",
                       nan_hint(out, p))
        return out

    def dropped_weights(self, q: Tensor, k: Tensor, p: float) -> Tensor:
        """The dropped and rescaled attention weights of one training call: with v the identity
        over the keys, weights @ v is the weights themselves."""
        keys = k.shape[-2]
        eye = torch.eye(keys).to(q.dtype).expand(*k.shape[:-1], keys)  # no bfloat16 eye in 2.1
        return self(q, k, eye, p, training=True).detach()


def nan_hint(out: Tensor, p: float) -> str:
    if p == 1:
        return ("1 - p = 0, so dividing the kept weights by (1 - p) gives 0/0 = NaN: at p=1 "
                "every weight is dropped, return zeros (F.dropout does)")
    rows = ~torch.isfinite(out)
    if (rows.all(dim=-1) == rows.any(dim=-1)).all():
        return ("whole query rows came out NaN: that is 0/0, which renormalizing the weights "
                "after dropout (dividing by their sum) gives when every weight of a row was "
                "dropped. Don't renormalize: divide the kept weights by (1 - p)")
    return ("an entry became NaN or inf: look for a division by zero (by p, by 1 - p, by a sum "
            "of dropped weights) or a log of zero")


def shape(s: Subject) -> None:
    q, k, v = qkv()
    # No dropout here: a NaN row that renormalizing makes by chance belongs to `finite`.
    s(q, k, v, 0.0, training=True)
    s(q, k, v, 0.5, training=False)


def matches_plain(s: Subject) -> None:
    q, k, v = qkv(dtype=torch.float64)
    out, want = s(q, k, v, 0.0, training=True).detach().to(q.dtype), plain(q, k, v)
    if torch.allclose(out, want, atol=1e-6):
        return
    d, raw = q.shape[-1], q @ k.transpose(-2, -1)
    guesses = [
        (raw.softmax(-1) @ v,
         f"the scores were not divided by sqrt(d) = sqrt({d}): q @ k.transpose(-2, -1) / d ** 0.5"),
        ((raw / d).softmax(-1) @ v, "divide the scores by sqrt(d), not by d"),
        ((raw / math.sqrt(d)).softmax(-2) @ v,
         "the softmax ran over the queries: take it over the keys, dim=-1"),
    ]
    for guess, hint in guesses:
        if torch.allclose(out, guess, atol=1e-6):
            raise Fail("with p=0 the output is not softmax(q·kᵀ/√d)·v", hint)
    raise Fail("with p=0 the output is not softmax(q·kᵀ/√d)·v",
               "weights = (q @ k.transpose(-2, -1) / d ** 0.5).softmax(dim=-1); return weights @ v")


def eval_is_plain(s: Subject) -> None:
    q, k, v = qkv(dtype=torch.float64)
    for p in (0.5, 1.0):
        first, second = (s(q, k, v, p, training=False).detach().to(q.dtype) for _ in range(2))
        if not torch.equal(first, second):
            trained = [s(q, k, v, p, training=True).detach() for _ in range(2)]
            hint = TRAP_HINT
            if torch.equal(*trained):  # random in eval, fixed in training: the gate is inverted
                hint = ("dropout runs when training=False and not when training=True: the "
                        "condition is the wrong way round; use dropout_p=p if training else 0.0")
            raise Fail(f"with training=False and p={p}, two calls gave different outputs", hint)
        if not torch.allclose(first, plain(q, k, v), atol=1e-6):
            raise Fail(f"with training=False and p={p} the output is not plain attention",
                       "in eval mode there is no dropout and no rescaling: use p = 0 when not "
                       "training")


def dtype_and_device(s: Subject) -> None:
    for dt in (torch.float64, *half_dtypes()):
        require_dtype_kept(lambda dt=dt: s(*qkv(dtype=dt), 0.5, training=True), dt,
                           f"{dt} inputs", f"keep the weights' dtype: {SAFE_MASK}, then "
                           ".to(weights.dtype)")
    where = other_device()
    q, k, v = (torch.empty(t.shape, device=where) for t in qkv())
    out = run_on_device(lambda: s(q, k, v, 0.5, training=True), where, "tensor",
                        f"build the dropout mask on the weights' device: {SAFE_MASK}")
    if out.device != q.device:
        raise Fail(f"{where.type} inputs came back on {out.device}", "keep every tensor on q's device")


def finite(s: Subject) -> None:
    # Renormalizing after dropout turns a query whose every weight was dropped into 0/0; with
    # 960 rows of 7 keys such a row is certain at p=0.9 and all but certain at p=0.5.
    q, k, v = qkv(batch=64)
    for p in (0.5, 0.9):
        s(q, k, v, p, training=True)


def drops_in_training(s: Subject) -> None:
    q, k, v = qkv()  # PROBE_BATCH examples: no probe call between the calls compared
    first = s(q, k, v, 0.5, training=True).detach()
    # A mask with few coins (one per batch, say) repeats by chance: 20 equal calls do not.
    if not all(torch.equal(first, s(q, k, v, 0.5, training=True).detach()) for _ in range(19)):
        return
    if torch.allclose(first.to(q.dtype), plain(q, k, v), atol=1e-6):
        raise Fail("with training=True and p=0.5, 20 calls gave plain attention, without dropout",
                   "no dropout ran while training: pass p on (dropout_p=p if training else 0.0, "
                   "or F.dropout(weights, p, training=training)) and check that the condition "
                   "is not the wrong way round")
    raise Fail("with training=True and p=0.5, 20 calls dropped the same weights",
               "the mask is the same on every call: don't seed inside the function "
               "(torch.manual_seed, or a torch.Generator seeded on each call) or keep a mask "
               "from an earlier call; draw a new one each time")


def drops_weights(s: Subject) -> None:
    q, k, _ = qkv(batch=64)
    v = torch.ones(64, *SHAPE_V[1:])  # weights @ ones: every feature of a row gets the same sum
    out = s(q, k, v, 0.5, training=True).detach()
    spread = (out.amax(dim=-1) - out.amin(dim=-1)).max().item()
    if spread > 1e-4:
        raise Fail("with v all ones, the features of one output row came out different",
                   "the dropout hit the output or v; it belongs on the attention weights: "
                   "weights = softmax(...), then dropout(weights), then weights @ v")


# Masks with structure, from the coarsest: (the dims over which one coin is shared, what was
# measured, the hint). The weights have the dims (batch, heads, queries, keys).
STRUCTURES = [
    ((1, 2, 3), "each example's attention was kept or dropped whole",
     "that is one coin per example, like drop path; attention dropout drops single weights"),
    ((2, 3), "each head's attention was kept or dropped whole",
     "that is one coin per head (a mask of shape (batch, heads, 1, 1)); attention dropout "
     "drops single weights"),
    ((3,), "each query's row of weights was kept or dropped whole",
     "a mask of shape (..., queries, 1) drops whole rows, so a query sees all keys or none; "
     "drop single weights"),
    ((2,), "each key was kept or dropped for every query at once",
     "a mask of shape (..., 1, keys) hides whole keys; drop single weights"),
    ((1,), "every head got the same mask",
     "a mask of shape (batch, 1, queries, keys) is shared by the heads"),
    ((0,), "every example got the same mask",
     "a mask without the batch dimension is shared by the whole batch"),
]
DIM_NAMES = ("batch", "heads", "queries", "keys")


def independent_weights(s: Subject) -> None:
    q, k = (torch.randn(64, 4, 8, 4) for _ in range(2))
    kept = s.dropped_weights(q, k, 0.5) != 0  # (batch, heads, queries, keys)
    full = f"draw the mask with the weights' full shape: {SAFE_MASK}"
    for dims, detail, hint in STRUCTURES:
        same = (kept == kept.amax(dim=dims, keepdim=True)).all()
        if same and kept.any() and not kept.all():
            raise Fail(f"with p=0.5, {detail}", f"{hint}: {full}")
    for dim, name in enumerate(DIM_NAMES):
        together, tol = pair_agreement(kept.narrow(dim, 1, kept.shape[dim] - 1),
                                       kept.narrow(dim, 0, kept.shape[dim] - 1))
        if together > 0.5 + tol:
            raise Fail(f"with p=0.5, neighbouring weights along the {name} dimension were kept "
                       f"or dropped together {together:.0%} of the time (expected 50%)",
                       f"each weight needs its own coin: {full}")


def drop_fraction(s: Subject) -> None:
    q, k = (torch.randn(64, 4, 8, 4) for _ in range(2))
    for p in (0.2, 0.8):
        dropped = s.dropped_weights(q, k, p) == 0
        frac, tol = dropped.double().mean().item(), sigma_band(p, dropped.numel())
        if close(frac, p, tol):
            continue
        if close(frac, 1 - p, tol):
            hint = ("p was used as the keep probability: p is the DROP probability, keep a "
                    f"weight where rand >= p ({SAFE_MASK})")
        else:
            hint = f"compare one uniform number per weight with p: {SAFE_MASK}"
        raise Fail(f"with p={p}, {frac:.3f} of the attention weights were dropped (expected "
                   f"{p} ± {tol:.3f})", hint)


def scaled(s: Subject) -> None:
    p = 0.3
    q, k = (torch.randn(16, 2, 5, 4, dtype=torch.float64) for _ in range(2))
    out, w = s.dropped_weights(q, k, p), plain_weights(q, k)
    kept = out != 0
    if not kept.any():
        raise Fail(f"with p={p} every attention weight was dropped",
                   f"keep a weight where rand >= p: {SAFE_MASK}")
    factor = out[kept] / w[kept]
    if torch.allclose(factor, torch.full_like(factor, 1 / (1 - p)), rtol=1e-5):
        return
    rows = out.sum(dim=-1)[kept.any(dim=-1)]  # the rows with a weight left
    if torch.allclose(rows, torch.ones_like(rows), atol=1e-6):
        raise Fail(f"with p={p} each query's kept weights still sum to 1",
                   "the kept weights were renormalized after dropout; divide them by (1 - p) "
                   "instead, so each weight keeps its expected value")
    known = [(1.0, "the kept weights were not scaled up: divide them by (1 - p)"),
             (1 / p, "the kept weights were divided by p; divide by the keep probability 1 - p"),
             (1 - p, "the kept weights were multiplied by (1 - p); divide by it instead")]
    for value, hint in known:
        if torch.allclose(factor, torch.full_like(factor, value), rtol=1e-5):
            raise Fail(f"with p={p} the kept weights came out {value:.4g}x their value "
                       f"(expected 1/(1-p) = {1 / (1 - p):.4g}x)", hint)
    raise Fail(f"with p={p} the kept weights came out between {factor.min().item():.4g}x and "
               f"{factor.max().item():.4g}x their value (expected 1/(1-p) = {1 / (1 - p):.4g}x)",
               "multiply the weights by a 0/1 mask, then divide by (1 - p)")


def keeps_mean(s: Subject) -> None:
    p, n = 0.3, 20_000
    q, k, v = (t[:1].expand(n, *t.shape[1:]) for t in qkv(batch=1, dtype=torch.float64))
    out = s(q, k, v, p, training=True).detach().double()
    mean, want = out.mean(dim=0), plain(q[:1], k[:1], v[:1])[0]
    tol = 5 * out.std(dim=0) / math.sqrt(n) + 1e-6
    if ((mean - want).abs() <= tol).all():
        return
    ratio = ((mean * want).sum() / (want * want).sum()).item()
    raise Fail(f"one call on {n:,} copies of one example, p={p}: their average is {ratio:.2f}x "
               "plain attention, not 1x",
               "dropout goes after the softmax, on the weights, with the kept ones divided by "
               "(1 - p), so that E[output] is plain attention")


def p_one(s: Subject) -> None:
    q, k, v = qkv(batch=64)  # 6,720 weights: a p clamped to 0.999 keeps some
    out = s(q, k, v, 1.0, training=True).detach()
    if (out == 0).all():
        return
    if torch.allclose(out, plain(q, k, v), atol=1e-6):
        hint = ("p=1 returned plain attention: at p=1 every weight is dropped, so the output is "
                "zeros; don't skip dropout for p == 1")
    else:
        hint = ("at p=1 every weight is dropped and weights @ v is all zeros; whatever you did "
                "for p == 1 (clamping p, adding a term, skipping the mask) changes that")
    raise Fail(f"with p=1, {(out != 0).double().mean().item():.0%} of the outputs are nonzero",
               hint)


# Half precision: bfloat16 and float16, or those of them this torch can compute on the CPU
# (torch 2.1 has no float16 matmul there; see trials.half_dtypes).
def half_precision_rate(s: Subject) -> None:
    # The weights' own dtype is coarse in half precision: uniform numbers drawn in it
    # (torch.rand_like(weights)) snap the rate (see check_dropout_layer).
    for dt, p, n in HALF_CASES:
        if dt not in half_dtypes():
            continue
        # 8 keys: the identity v costs 8 multiply-adds per weight, cheap in half precision too
        q, k = (torch.randn(n // 64, 1, 8, 4, dtype=dt) for _ in range(2))
        dropped = s.dropped_weights(q, k, p) == 0
        frac, tol = dropped.double().mean().item(), sigma_band(p, dropped.numel())
        if not close(frac, p, tol):
            raise Fail(
                f"with {dt} inputs and p={p}, {frac:.4f} of the weights were dropped "
                f"(expected {p} ± {tol:.4f}; float32 inputs were right)",
                f"{dt} numbers are coarse, so uniform numbers drawn in the weights' dtype "
                "(torch.rand_like(weights)), or a keep probability 1 - p stored in it, snap "
                f"the rate: draw in float32, {SAFE_MASK}, then .to(weights.dtype)")


def gradients(s: Subject) -> None:
    q, k = (torch.randn(4, 2, 5, 4, dtype=torch.float64) for _ in range(2))
    v = torch.eye(5, dtype=torch.float64).repeat(4, 2, 1, 1)
    before = [t.clone() for t in (q, k, v)]
    q, k, v = (t.requires_grad_() for t in (q, k, v))
    out = s(q, k, v, 0.5, training=True)
    if any(not torch.equal(t.detach(), b) for t, b in zip((q, k, v), before, strict=True)):
        raise Fail("q, k or v was changed by the call",
                   "build new tensors; don't write into the inputs (.mul_(), x[...] = 0)")
    if not out.requires_grad:
        raise Fail("the output is not connected to q, k and v in the autograd graph",
                   "don't use torch.no_grad(), .detach() or .data on the way")
    try:
        out.sum().backward()
    except RuntimeError as err:
        if "inplace" not in str(err) and "in-place" not in str(err):
            raise
        raise Fail(f"the backward pass raised RuntimeError: {first_line(err)}",
                   "softmax's backward needs its output, and dropout wrote into it in place "
                   "(inplace=True, .mul_(), w[mask] = 0): drop out of place, "
                   "weights = F.dropout(weights, p, training=training)") from None
    missing = [name for name, t in zip("qkv", (q, k, v), strict=True) if t.grad is None]
    if missing:
        raise Fail(f"no gradient reached {', '.join(missing)}",
                   "the weights were computed without autograd (torch.no_grad(), .detach() or "
                   ".data): gradients must reach q and k through the softmax")
    # out = w' @ v, so d(out.sum())/dv[j, f] is the sum of column j of the dropped weights w',
    # which this call's out (v is the identity) holds.
    want = out.detach().sum(dim=-2).unsqueeze(-1).expand_as(v)
    if not torch.allclose(v.grad, want, atol=1e-8):
        raise Fail("the gradient of v does not match the weights of the forward pass",
                   "use the same dropped weights for the output and its gradient: "
                   "return dropout(weights) @ v")


CHECKS: list[tuple[str, Callable[[Subject], None]]] = [
    ("returns one output row per query, with v's features", shape),
    ("gives finite outputs while training (p=0.5 and p=0.9)", finite),
    ("keeps the dtype (float64, half precision) and the device of its inputs",
     dtype_and_device),
    ("at p=0 it is softmax(q·kᵀ/√d)·v", matches_plain),
    ("with training=False it is plain attention, whatever p", eval_is_plain),
    ("with training=True it draws new dropout on every call", drops_in_training),
    ("drops attention weights, not outputs", drops_weights),
    ("drops each weight on its own coin, not whole rows, keys or heads", independent_weights),
    ("drops a fraction p of the weights (p=0.2 and p=0.8)", drop_fraction),
    ("scales the kept weights by 1/(1-p)", scaled),
    ("keeps the mean: on average it is plain attention", keeps_mean),
    ("p=1 drops every weight, without NaN", p_one),
    ("drops a fraction p in half precision too", half_precision_rate),
    ("leaves q, k, v unchanged and passes gradients to all three", gradients),
]


def check_attention_dropout(fn: Callable[..., Tensor]) -> Checklist:
    """Check a student's ``attend(q, k, v, p, *, training)``: attention with dropout on the
    attention weights while training, and none in eval mode.

    Prints a ✓/✗ checklist with a hint under each ✗, and raises ``AssertionError`` naming the
    failed checks. Returns the :class:`Checklist` of results when everything passed.

    >>> import torch.nn.functional as F
    >>> def leaky(q, k, v, p, *, training):
    ...     return F.scaled_dot_product_attention(q, k, v, dropout_p=p)  # ignores training
    >>> try:
    ...     check_attention_dropout(leaky)
    ... except AssertionError as err:
    ...     print("AssertionError:", err)  # doctest: +ELLIPSIS
    Checking leaky(q, k, v, p, training=...):
    ...
      ✗ with training=False it is plain attention, whatever p
          with training=False and p=0.5, two calls gave different outputs
          hint: dropout still runs when training=False: ...
    ...
    """
    __tracebackhide__ = True  # pytest: report the student's line, not the checker's
    q, k, v = (torch.zeros(1, 2, 3) for _ in range(3))
    name = require_callable("check_attention_dropout", fn, "attend(q, k, v, p, *, training)",
                            (q, k, v, 0.5), {"training": True})
    subject = Subject(fn)
    return run_battery(f"Checking {name}(q, k, v, p, training=...):",
                       [(label, partial(check, subject)) for label, check in CHECKS], name)
