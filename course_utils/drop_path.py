"""Drop path (stochastic depth), chapter 08: drop a whole residual branch per example.

A residual block computes ``x + branch(x)``. Drop path zeroes ``branch(x)`` for a random subset
of the examples in the batch (that block is then the identity for them) and scales the kept
branches by ``1 / (1 - p)``, the inverted convention of chapter 04, so nothing changes in
expectation and eval mode is the plain block. Huang et al. (2016) introduced it as stochastic
depth, with one coin per block for each mini-batch (``mode="batch"``); timm's ``drop_path``, in
ViT and ConvNeXt, draws one per example (``mode="row"``, the default here). The rate usually
grows linearly with depth (:func:`linear_drop_rates`).

The name collides with DropConnect (chapter 06): EfficientNet's ``drop_connect_rate`` is this,
not a mask on weights.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.fx import Proxy

from ._fx import graph_node
from ._validate import boolean, check_p, choice, fraction, positive_int, tensor
from .dropout import bernoulli_mask, inverted

__all__ = ["DropPath", "Residual", "drop_path", "linear_drop_rates"]

MODES = ("row", "batch")


def drop_path(X: Tensor, p: float, *, mode: str = "row", training: bool = True,
              generator: torch.Generator | None = None) -> Tensor:
    """Zero whole examples of ``X`` with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    ``mode="row"`` draws one coin per example (dimension 0), the drop path of ViT and ConvNeXt;
    ``mode="batch"`` draws one coin for the whole batch, as Huang et al. (2016) did. The same
    arguments and meaning as ``torchvision.ops.stochastic_depth(X, p, mode, training)``. Identity when
    ``training=False`` or ``p=0``; never modifies ``X``.

    >>> g = torch.Generator().manual_seed(0)
    >>> drop_path(torch.ones(4, 3), 0.5, generator=g)
    tensor([[0., 0., 0.],
            [2., 2., 2.],
            [0., 0., 0.],
            [0., 0., 0.]])
    >>> drop_path(torch.ones(2, 3), 0.5, training=False)
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    """
    traced = graph_node(drop_path, X, p, mode=mode, training=training, generator=generator)
    if traced is not None:  # torch.fx is tracing: one node, checked when the graph runs
        return traced
    tensor("X", X, floating=True)
    p, mode = check_p(p), choice("mode", mode, MODES)
    if not boolean("training", training) or p == 0.0:
        return X
    if X.dim() == 0:
        raise ValueError("drop_path needs a batch: X must have at least one dimension, got a scalar")
    # One coin per example, broadcast over everything else: (batch, 1, 1, ...).
    shape = (X.shape[0] if mode == "row" else 1,) + (1,) * (X.dim() - 1)
    return X * inverted(bernoulli_mask(shape, p, generator=generator, device=X.device,
                                       dtype=X.dtype), p)


class DropPath(nn.Module):
    """:func:`drop_path` as a module: active in ``train()`` mode, the identity in ``eval()``.

    >>> DropPath(0.2)
    DropPath(p=0.2, mode='row')
    >>> DropPath(0.2).eval()(torch.ones(2, 2))
    tensor([[1., 1.],
            [1., 1.]])
    """

    def __init__(self, p: float = 0.1, mode: str = "row"):
        super().__init__()
        self.p, self.mode = check_p(p), choice("mode", mode, MODES)

    def forward(self, X: Tensor) -> Tensor:
        return drop_path(X, self.p, mode=self.mode, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"


class Residual(nn.Module):
    """A residual block with drop path on its branch: ``x + DropPath(p)(branch(x))``.

    ``branch`` is a layer instance (``nn.Linear(4, 4)``, not the class) that keeps its input's
    shape, so that the sum is defined.

    >>> block = Residual(nn.Linear(4, 4), p=0.1)
    >>> block(torch.ones(2, 4)).shape
    torch.Size([2, 4])
    """

    def __init__(self, branch: nn.Module, p: float = 0.0):
        super().__init__()
        self.branch, self.drop_path = _branch(branch), DropPath(p)

    def forward(self, X: Tensor) -> Tensor:
        if isinstance(X, Proxy):  # torch.fx is tracing: shapes are unknown until the graph runs
            return X + self.drop_path(self.branch(X))
        tensor("X", X)
        out = self.branch(X)
        if not isinstance(out, Tensor):
            raise TypeError(f"the branch returned {type(out).__name__}, not a tensor; a residual "
                            f"branch must return a tensor of its input's shape")
        if out.shape != X.shape:  # X + out would broadcast to a wrong shape, or fail in torch
            raise ValueError(f"the branch returned shape {tuple(out.shape)} for input shape "
                             f"{tuple(X.shape)}; a residual branch must keep its input's shape")
        return X + self.drop_path(out)


def _branch(branch: object) -> nn.Module:
    """``branch`` if it is a layer instance; the class itself (``nn.Linear``) is the usual slip."""
    allowed = "branch must be an nn.Module instance such as nn.Linear(4, 4)"
    if isinstance(branch, type) and issubclass(branch, nn.Module):
        name = branch.__name__
        shown = f"nn.{name}" if getattr(nn, name, None) is branch else name
        raise TypeError(f"{allowed}, got the class {shown}: pass a built layer, {shown}(...), "
                        f"not the class")
    if not isinstance(branch, nn.Module):
        got = (f"the function {branch.__name__}" if callable(branch) and hasattr(branch, "__name__")
               else f"{type(branch).__name__} {branch!r}")
        raise TypeError(f"{allowed}, got {got}")
    return branch


def linear_drop_rates(max_rate: float, depth: int) -> list[float]:
    """The usual schedule: rates rising linearly from 0 at the first block to ``max_rate`` at
    the last, as ``torch.linspace(0, max_rate, depth)`` in timm's ViT and ConvNeXt. Early
    blocks compute features every later block needs, so they are dropped least.

    >>> linear_drop_rates(0.3, 4)
    [0.0, 0.1, 0.2, 0.3]
    """
    max_rate = fraction("max_rate", max_rate)
    depth = positive_int("depth", depth)
    if depth == 1:
        return [0.0]  # what torch.linspace(0, max_rate, 1) gives
    return [round(max_rate * i / (depth - 1), 12) for i in range(depth)]
