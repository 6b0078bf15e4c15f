"""Dropout from scratch, in the order chapter 03 builds it: the keep-mask, inverted dropout,
the 2014 paper's standard dropout, and the two as modules.

Conventions used throughout the course, matching PyTorch's ``nn.Dropout``:

- ``p`` is the probability of **dropping** a unit, so a unit is kept with probability ``1 - p``.
  (The 2014 paper, TF1's ``keep_prob`` and CS231n use ``p`` for the *keep* probability.)
- A keep-mask holds 1 where a unit survives and 0 where it is dropped.

The functions build their random numbers on the input's device and return the input's dtype, so
the same code runs on CPU, CUDA and MPS tensors and in float64 or bfloat16.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._fx import graph_node
from ._validate import boolean, check_p, tensor
from ._validate import dtype as check_dtype
from ._validate import generator as check_generator
from .config import resolve_device

__all__ = ["Dropout", "StandardDropout", "bernoulli_mask", "check_p", "dropout_layer",
           "standard_dropout"]


def bernoulli_mask(
    shape_or_tensor: Tensor | Sequence[int] | torch.Size,
    p: float,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """A keep-mask: each entry is independently 1 with probability ``1 - p`` and 0 with
    probability ``p``.

    Pass a tensor to get a mask of its shape, on its device, in its dtype; or pass a shape and
    (optionally) ``device`` and ``dtype`` (defaults: CPU, the default float dtype). Explicit
    ``device``/``dtype`` arguments win over the tensor's.

    The uniform numbers are always drawn in float32 on the mask's device and compared with
    ``u >= p``: that makes p=0 keep everything and p=1 drop everything exactly, and gives the
    same mask for the same ``generator`` state whatever the dtype. A ``generator`` must live
    on the mask's device.

    >>> g = torch.Generator().manual_seed(0)
    >>> bernoulli_mask((2, 4), 0.5, generator=g)
    tensor([[0., 1., 0., 0.],
            [0., 1., 0., 1.]])
    >>> bernoulli_mask(torch.zeros(3, dtype=torch.float64), 0.0)
    tensor([1., 1., 1.], dtype=torch.float64)
    """
    p = check_p(p)
    if dtype is not None:
        check_dtype("dtype", dtype)
    if isinstance(shape_or_tensor, Tensor):
        shape = shape_or_tensor.shape
        # The tensor's own device needs no check: dropout_layer's hot path comes this way.
        device = shape_or_tensor.device if device is None else resolve_device(device)
        dtype = shape_or_tensor.dtype if dtype is None else dtype
    else:
        shape = _shape(shape_or_tensor)
        device = torch.device("cpu") if device is None else resolve_device(device)
    generator = check_generator("generator", generator)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if generator is not None and generator.device.type != device.type:
        raise ValueError(
            f"the generator lives on {generator.device} but the mask is built on {device}; "
            f"create it with torch.Generator(device={str(device)!r})"
        )
    uniform = torch.rand(shape, generator=generator, device=device, dtype=torch.float32)
    # Compare in place: the uniforms become the 0/1 mask in their own memory, which saves a
    # boolean temporary and a conversion pass (and for float32, any copy at all). The
    # benchmark's dropout_layer / F.dropout row is what this buys.
    return uniform.ge_(p).to(dtype)


def _shape(value: object) -> torch.Size:
    allowed = "bernoulli_mask needs a tensor or a shape of non-negative ints such as (2, 8)"
    if not isinstance(value, Sequence) or isinstance(value, str) or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in value):
        raise TypeError(f"{allowed}, got {value!r}")
    if any(n < 0 for n in value):
        raise ValueError(f"{allowed}, got {value!r}")
    return torch.Size(int(n) for n in value)


def inverted(keep: Tensor, p: float) -> Tensor:
    """A fresh keep-mask scaled by ``1 / (1 - p)``, in place: what inverted dropout multiplies
    by. At p=1 the mask is all zeros and stays so: 0 * (1 / 0) would be NaN.

    >>> inverted(torch.tensor([1.0, 0.0, 1.0]), 0.5)
    tensor([2., 0., 2.])
    >>> inverted(torch.ones(2, dtype=torch.float16), 0.99999)
    Traceback (most recent call last):
        ...
    ValueError: p=0.99999 scales kept units by 1/(1-p) = 1e+05, more than torch.float16 can hold (at most 6.55e+04): use p <= 0.99998 or p=1 in torch.float16, or compute in float32
    """
    if p == 1.0:
        return keep
    # In float16 the scale itself overflows to inf near p=1 (above p = 0.99998), and inf
    # times a dropped 0 is NaN: refuse that p instead of returning inf and NaN.
    largest = torch.finfo(keep.dtype).max
    if 1.0 / (1.0 - p) > largest:
        highest = math.floor((1.0 - 1.0 / largest) * 1e5) / 1e5
        raise ValueError(
            f"p={p} scales kept units by 1/(1-p) = {1.0 / (1.0 - p):.3g}, more than {keep.dtype} "
            f"can hold (at most {largest:.3g}): use p <= {highest} or p=1 in {keep.dtype}, or "
            f"compute in float32")
    return keep.div_(1.0 - p)


def dropout_layer(
    X: Tensor, p: float, *, training: bool = True, generator: torch.Generator | None = None
) -> Tensor:
    """Inverted dropout: zero each entry with probability ``p`` and scale survivors by
    ``1 / (1 - p)``, so every entry keeps its expected value. Identity when ``training=False``.

    A fresh mask is drawn on every call (from ``generator`` if given, which makes it
    reproducible). The input is never modified. p=0 returns ``X`` itself; p=1 returns zeros
    (never NaN) that are still connected to the autograd graph.

    >>> X = torch.arange(8.0)
    >>> dropout_layer(X, 0.5, generator=torch.Generator().manual_seed(0))
    tensor([ 0.,  2.,  0.,  0.,  0., 10.,  0., 14.])
    >>> dropout_layer(X, 0.5, training=False) is X
    True
    """
    traced = graph_node(dropout_layer, X, p, training=training, generator=generator)
    if traced is not None:  # torch.fx is tracing: one node, checked when the graph runs
        return traced
    tensor("X", X, floating=True)
    p = check_p(p)
    if not boolean("training", training) or p == 0.0:
        return X
    keep = bernoulli_mask(X, p, generator=generator)  # on X's device, in X's dtype
    return X * inverted(keep, p)


def standard_dropout(
    X: Tensor, p: float, *, training: bool, generator: torch.Generator | None = None
) -> Tensor:
    """Dropout as in Srivastava et al. (2014): drop with probability ``p`` and **no** scaling
    while training; multiply by ``1 - p`` (the keep probability) at test time.

    Same expected activation as :func:`dropout_layer`, but the test-time network does extra
    work on every prediction. ``training`` has no default on purpose: the two modes compute
    different things.

    >>> X = torch.ones(6)
    >>> standard_dropout(X, 0.5, training=True, generator=torch.Generator().manual_seed(0))
    tensor([0., 1., 0., 0., 0., 1.])
    >>> standard_dropout(X, 0.25, training=False)
    tensor([0.7500, 0.7500, 0.7500, 0.7500, 0.7500, 0.7500])
    """
    traced = graph_node(standard_dropout, X, p, training=training, generator=generator)
    if traced is not None:  # torch.fx is tracing: one node, checked when the graph runs
        return traced
    tensor("X", X, floating=True)
    p = check_p(p)
    if boolean("training", training):
        return X if p == 0.0 else X * bernoulli_mask(X, p, generator=generator)
    return X * (1.0 - p)


class _RateLayer(nn.Module):
    """Shared plumbing of the dropout modules: a validated rate ``p`` and its repr."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = check_p(p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout(_RateLayer):
    """Inverted dropout as a module, built on :func:`dropout_layer`: it behaves like
    ``nn.Dropout(p)``. Active in ``train()`` mode, the identity in ``eval()`` mode.

    >>> layer = Dropout(0.5).eval()
    >>> layer(torch.ones(3))
    tensor([1., 1., 1.])
    >>> layer
    Dropout(p=0.5)
    """

    def forward(self, X: Tensor) -> Tensor:
        return dropout_layer(X, self.p, training=self.training)


class StandardDropout(_RateLayer):
    """The 2014 paper's dropout as a module, built on :func:`standard_dropout`: drops without
    scaling in ``train()`` mode and multiplies by ``1 - p`` in ``eval()`` mode.

    >>> StandardDropout(0.5).eval()(torch.ones(2))
    tensor([0.5000, 0.5000])
    """

    def forward(self, X: Tensor) -> Tensor:
        return standard_dropout(X, self.p, training=self.training)
