"""DropConnect (Wan et al., 2013), chapter 06: drop single weights instead of whole units."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._fx import graph_node
from ._validate import boolean, check_p, positive_int, tensor
from ._validate import dtype as check_dtype
from ._validate import generator as check_generator
from .config import resolve_device
from .dropout import bernoulli_mask, inverted


class DropConnectLinear(nn.Linear):
    """A linear layer with DropConnect (Wan et al., 2013): in training, each **weight** is
    dropped with probability ``p``; dropout drops whole activations instead.

    It is an ``nn.Linear`` with the same ``weight`` and ``bias`` Parameters and state_dict keys,
    so checkpoints move between the two. The course uses the inverted convention of
    :func:`dropout_layer`: kept weights are scaled by ``1 / (1 - p)`` while training, so
    ``eval()`` mode needs no rescaling and computes exactly ``nn.Linear``'s output (the
    mean-weight approximation of the paper's inference). The bias is never dropped.

    Args:
        p: probability of dropping each weight.
        per_example: ``False`` (default) draws one weight mask per forward pass, shared by
            the batch: one extra weight-sized tensor. ``True`` draws a separate mask for every
            example, as in the paper. The masks alone are a ``(batch, out, in)`` tensor, 512 MiB
            for a 1024×1024 layer at batch 128 in float32, and building and applying them
            briefly takes a few times that.

    The mask multiplies the weight inside ``forward`` and is never written into the
    Parameter, so the optimizer always updates the full weight matrix.

    >>> layer = DropConnectLinear(4, 3, p=0.5)
    >>> sorted(layer.state_dict()) == sorted(nn.Linear(4, 3).state_dict())
    True
    >>> x = torch.ones(2, 4)
    >>> torch.equal(layer.eval()(x), nn.functional.linear(x, layer.weight, layer.bias))
    True
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        p: float = 0.5,
        *,
        per_example: bool = False,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        positive_int("in_features", in_features)
        positive_int("out_features", out_features)
        boolean("per_example", per_example)
        if dtype is not None:
            check_dtype("dtype", dtype)
        if device is not None:
            device = resolve_device(device)
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.p = check_p(p)
        self.per_example = per_example

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}, per_example={self.per_example}"

    def forward(self, x: Tensor) -> Tensor:
        return dropconnect_linear(x, self.weight, self.bias, self.p, training=self.training,
                                  per_example=self.per_example)

    @torch.no_grad()
    def moments(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and variance of the training-mode output for input ``x``, over the weight masks.

        Each output is a sum of many independent dropped terms, which is why the paper
        approximates it by a Gaussian with these two moments (see :meth:`sample_gaussian`).
        With kept weights scaled by ``1/(1-p)``: mean ``x @ W.T + b`` and variance
        ``p/(1-p) * (x**2) @ (W**2).T``.

        >>> layer = DropConnectLinear(2, 1, p=0.5, bias=False)
        >>> _ = layer.weight.data.fill_(1.0)
        >>> layer.moments(torch.tensor([[1.0, 2.0]]))
        (tensor([[3.]]), tensor([[5.]]))
        """
        _check_input(x, self.weight)
        if self.p == 1.0:
            # Every weight is dropped: the output is the bias, with no randomness left.
            mean = nn.functional.linear(x, torch.zeros_like(self.weight), self.bias)
            return mean, torch.zeros_like(mean)
        mean = nn.functional.linear(x, self.weight, self.bias)
        var = nn.functional.linear(x * x, self.weight * self.weight) * (self.p / (1.0 - self.p))
        return mean, var

    @torch.no_grad()
    def sample_gaussian(
        self, x: Tensor, samples: int, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """``samples`` draws of the pre-activation from the moment-matched Gaussian of
        :meth:`moments`, shape ``(samples, *output_shape)``: the sampling inference of Wan et
        al. (2013). Pass them through the activation and average to predict.

        >>> layer = DropConnectLinear(3, 2, p=0.5)
        >>> layer.sample_gaussian(torch.ones(4, 3), samples=10).shape
        torch.Size([10, 4, 2])
        """
        positive_int("samples", samples)
        check_generator("generator", generator)
        mean, var = self.moments(x)
        noise = torch.randn(
            (samples, *mean.shape), generator=generator, device=mean.device, dtype=mean.dtype
        )
        return mean + noise * var.sqrt()


def _check_input(x: object, weight: Tensor) -> None:
    """Refuse an input the layer cannot take, saying why (PyTorch's matmul error names no
    input)."""
    tensor("x", x, floating=True)
    if x.dtype != weight.dtype:  # the wording of fit's check of the same mistake
        raise TypeError(f"x is {x.dtype} but the layer's weight is {weight.dtype}: convert one "
                        f"of them, e.g. layer.to({x.dtype}) or x.to({weight.dtype})")
    if x.dim() == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"expected inputs with {weight.shape[1]} features in the last "
                         f"dimension, got shape {tuple(x.shape)}")


def dropconnect_linear(x: Tensor, weight: Tensor, bias: Tensor | None, p: float, *,
                       training: bool, per_example: bool = False) -> Tensor:
    """What :class:`DropConnectLinear` computes: ``F.linear(x, weight * mask / (1 - p), bias)``
    with a fresh mask while ``training`` (one per example when ``per_example``), and plain
    ``F.linear`` otherwise. An input the layer cannot take gets an error that says why.

    >>> dropconnect_linear(torch.ones(1, 3), torch.ones(2, 4), None, 0.5, training=False)
    Traceback (most recent call last):
        ...
    ValueError: expected inputs with 4 features in the last dimension, got shape (1, 3)
    """
    traced = graph_node(dropconnect_linear, x, weight, bias, p, training=training,
                        per_example=per_example)
    if traced is not None:  # torch.fx is tracing: one node, checked when the graph runs
        return traced
    _check_input(x, weight)
    if not training or p == 0.0:
        return nn.functional.linear(x, weight, bias)
    if not per_example:
        # One mask of the weight's shape, device and dtype, shared by the whole batch.
        return nn.functional.linear(x, weight * inverted(bernoulli_mask(weight, p), p), bias)
    rows = x.reshape(-1, weight.shape[1])
    keep = bernoulli_mask((rows.shape[0], *weight.shape), p, device=x.device, dtype=weight.dtype)
    # out[n, o] = sum_i x[n, i] * W[o, i] * mask[n, o, i]
    out = torch.einsum("ni,noi->no", rows, inverted(keep, p) * weight)
    if bias is not None:
        out = out + bias
    return out.reshape(*x.shape[:-1], weight.shape[0])
