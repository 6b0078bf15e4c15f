"""Dropout inside attention, chapter 08: the attention weights are dropped, not the output.

Scaled dot-product attention mixes the values ``v`` with weights ``softmax(q kᵀ / √d)``, one row
of weights per query. Attention dropout zeroes single weights (a query ignores a random subset of
the keys on this pass) and scales the rest by ``1 / (1 - p)``, so each output keeps its expected
value. PyTorch's fused ``F.scaled_dot_product_attention(q, k, v, dropout_p=p)`` does the same,
but it has no ``training`` flag: it drops whenever ``p > 0``, in eval mode too, so modules pass
``dropout_p=self.p if self.training else 0.0``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._fx import graph_node
from ._validate import boolean, check_p, tensor
from .dropout import dropout_layer

__all__ = ["attention"]


def attention(q: Tensor, k: Tensor, v: Tensor, p: float = 0.0, *, training: bool,
              generator: torch.Generator | None = None) -> Tensor:
    """``dropout(softmax(q kᵀ / √d)) v`` for tensors of shape (..., tokens, features).

    ``training`` has no default on purpose: ``F.dropout``'s default of ``True`` is how dropout
    ends up running at test time. With ``training=False`` this is plain attention, equal to
    ``F.scaled_dot_product_attention(q, k, v)``.

    >>> q = k = v = torch.eye(2).expand(1, 2, 2)
    >>> attention(q, k, v, 0.5, training=False)
    tensor([[[0.6698, 0.3302],
             [0.3302, 0.6698]]])
    """
    traced = graph_node(attention, q, k, v, p, training=training, generator=generator)
    if traced is not None:  # torch.fx is tracing: one node, checked when the graph runs
        return traced
    _check_shapes(q, k, v)
    p, training = check_p(p), boolean("training", training)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = scores.softmax(dim=-1)  # each query's weights over the keys sum to 1
    return dropout_layer(weights, p, training=training, generator=generator) @ v


def _check_shapes(q: object, k: object, v: object) -> None:
    """Refuse q, k, v that cannot attend, naming the dimension (the batched matmul's own error
    names no argument)."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        tensor(name, t, floating=True)
        if t.dim() < 2:
            raise ValueError(f"{name} must have shape (..., tokens, features), got shape "
                             f"{tuple(t.shape)}; for one sequence pass {name}.unsqueeze(0)")
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"q, k and v must share one dtype, got {q.dtype}, {k.dtype} and "
                        f"{v.dtype}: convert them, e.g. k.to(q.dtype)")
    shown = f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same number of features (the last dimension), "
                         f"got {shown}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of tokens (dimension -2): one "
                         f"value per key, got {shown}")
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"q, k and v must have matching leading (batch, head) dimensions, got "
                         f"{shown}") from None
