"""``check_attention_dropout``: the checks of a student's ``attend(q, k, v, p, *, training)``.

The function computes scaled dot-product attention with dropout on the attention weights, and
no dropout at all when ``training`` is False. The third check is the trap of chapter 08:
``F.scaled_dot_product_attention(q, k, v, dropout_p=p)`` drops in eval mode too, and so does
``F.dropout(weights, p)``, whose ``training`` defaults to True.

    >>> from course_utils import attention
    >>> check_attention_dropout(attention)  # doctest: +ELLIPSIS
    Checking attention(q, k, v, p, training=...):
      ✓ returns one output row per query, with v's features
    ...
    All 7 checks passed.
    <checklist: 7 of 7 checks passed>
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

from ..attention import attention
from .battery import Checklist, Fail, require_callable, run_battery
from .trials import other_device, require_fresh, run_on_device

SHAPE_QK, SHAPE_V = (2, 3, 5, 4), (2, 3, 7, 6)  # (batch, heads, tokens, features); 5 queries, 7 keys
TRAP_HINT = ("dropout still runs when training=False: scaled_dot_product_attention(..., "
             "dropout_p=p) drops whatever model.eval() says, and F.dropout(w, p) has "
             "training=True by default. Pass dropout_p=p if training else 0.0, or "
             "F.dropout(w, p, training=training)")


def qkv(batch: int = 2, dtype=torch.float32) -> tuple[Tensor, Tensor, Tensor]:
    q = torch.randn(batch, *SHAPE_QK[1:3], SHAPE_QK[3], dtype=dtype)
    k = torch.randn(batch, SHAPE_V[1], SHAPE_V[2], SHAPE_QK[3], dtype=dtype)
    v = torch.randn(batch, *SHAPE_V[1:], dtype=dtype)
    return q, k, v


def plain(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    return attention(q, k, v, training=False)  # the reference, without dropout


class Subject:
    """The student's function, called as ``fn(q, k, v, p, training=training)``."""

    def __init__(self, fn: Callable[..., Tensor]):
        self.fn = fn

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, p: float, training: bool) -> Tensor:
        out = self.fn(q, k, v, p, training=training)
        if not isinstance(out, Tensor):
            raise Fail(f"attend returned {type(out).__name__}, not a tensor",
                       "return weights @ v; a function without `return` gives None")
        expected = (*q.shape[:-1], v.shape[-1])
        if tuple(out.shape) != expected:
            raise Fail(f"q of shape {tuple(q.shape)}, k {tuple(k.shape)} and v {tuple(v.shape)} "
                       f"gave shape {tuple(out.shape)}, expected {expected}",
                       "scores = q @ k.transpose(-2, -1) has one row per query and one column per "
                       "key; softmax over the keys (dim=-1), then multiply by v")
        return out


def shape(s: Subject) -> None:
    s(*qkv(), 0.0, training=True)


def matches_plain(s: Subject) -> None:
    q, k, v = qkv(dtype=torch.float64)
    out, want = s(q, k, v, 0.0, training=True).detach(), plain(q, k, v)
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
    first, second = (s(q, k, v, 0.5, training=False).detach() for _ in range(2))
    if not torch.equal(first, second):
        trained = [s(q, k, v, 0.5, training=True).detach() for _ in range(2)]
        hint = TRAP_HINT
        if torch.equal(*trained):  # random in eval, fixed in training: the gate is inverted
            hint = ("dropout runs when training=False and not when training=True: the condition "
                    "is the wrong way round; use dropout_p=p if training else 0.0")
        raise Fail("with training=False and p=0.5, two calls gave different outputs", hint)
    if not torch.allclose(first, plain(q, k, v), atol=1e-6):
        raise Fail("with training=False and p=0.5 the output is not plain attention",
                   "in eval mode there is no dropout and no rescaling: use p = 0 when not "
                   "training")


def drops_in_training(s: Subject) -> None:
    q, k, v = qkv()
    require_fresh(s(q, k, v, 0.5, training=True), s(q, k, v, 0.5, training=True),
                  "with training=True and p=0.5, two calls gave the same output",
                  "dropout is not applied while training: is the condition the wrong way round "
                  "(dropout_p=p if training else 0.0)?")


def drops_weights(s: Subject) -> None:
    q, k, _ = qkv(batch=64)
    v = torch.ones(64, *SHAPE_V[1:])  # weights @ ones: every feature of a row gets the same sum
    out = s(q, k, v, 0.5, training=True).detach()
    spread = (out.amax(dim=-1) - out.amin(dim=-1)).max().item()
    if spread > 1e-4:
        raise Fail("with v all ones, the features of one output row came out different",
                   "the dropout hit the output or v; it belongs on the attention weights: "
                   "weights = softmax(...), then dropout(weights), then weights @ v")


def keeps_mean(s: Subject) -> None:
    p, n = 0.3, 20_000
    q, k, v = (t[:1].expand(n, *t.shape[1:]) for t in qkv(batch=1, dtype=torch.float64))
    out = s(q, k, v, p, training=True).detach().double()
    mean, want = out.mean(dim=0), plain(q[:1], k[:1], v[:1])[0]
    tol = 5 * out.std(dim=0) / math.sqrt(n) + 1e-6
    if ((mean - want).abs() <= tol).all():
        return
    ratio = ((mean * want).sum() / (want * want).sum()).item()
    if abs(ratio - (1 - p)) < 0.02:
        hint = "the kept weights were not scaled up: divide them by (1 - p)"
    else:
        hint = ("dropout goes after the softmax, on the weights, with the kept ones divided by "
                "(1 - p); don't renormalize them afterwards")
    raise Fail(f"averaged over {n} calls with p={p}, the output is not plain attention "
               f"(it is {ratio:.2f}x of it)", hint)


def dtype_and_device(s: Subject) -> None:
    out = s(*qkv(dtype=torch.float64), 0.5, training=True)
    if out.dtype != torch.float64:
        raise Fail(f"float64 inputs came back as {out.dtype}", "build the mask in the weights' "
                   "dtype: torch.rand_like(weights)")
    where = other_device()
    q, k, v = (torch.empty(t.shape, device=where) for t in qkv())
    out = run_on_device(lambda: s(q, k, v, 0.5, training=True), where, "tensor",
                        "build the dropout mask on the weights' device: torch.rand_like(weights)")
    if out.device != q.device:
        raise Fail(f"{where.type} inputs came back on {out.device}", "keep every tensor on q's device")


CHECKS: list[tuple[str, Callable[[Subject], None]]] = [
    ("returns one output row per query, with v's features", shape),
    ("at p=0 it is softmax(q·kᵀ/√d)·v", matches_plain),
    ("with training=False it is plain attention, whatever p", eval_is_plain),
    ("with training=True it draws new dropout on every call", drops_in_training),
    ("drops attention weights, not outputs", drops_weights),
    ("keeps the mean: averaged over calls it is plain attention", keeps_mean),
    ("keeps the dtype and the device of its inputs", dtype_and_device),
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
