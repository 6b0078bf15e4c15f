"""Reference implementations of dropout, written from scratch so every line can be read.

Conventions used throughout the course, matching PyTorch's ``nn.Dropout``:

- ``p`` is the probability of **dropping** a unit, so a unit is kept with probability ``1 - p``.
  (The 2014 paper, TF1's ``keep_prob`` and CS231n use ``p`` for the *keep* probability.)
- A keep-mask holds 1 where a unit survives and 0 where it is dropped.

The functions build their random numbers on the input's device and return the input's dtype, so
the same code runs on CPU, CUDA and MPS tensors and in float64 or bfloat16.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .training import _model_device


def check_p(p: object, *, name: str = "p") -> float:
    """Return ``p`` as a float after checking it is a real number in [0, 1].

    The course uses this one check everywhere, so a wrong ``p`` always gets the same clear
    message. It is a plain ``if``/``raise``: an ``assert`` would vanish under ``python -O``.

    >>> check_p(0.5)
    0.5
    >>> check_p(1.5)
    Traceback (most recent call last):
        ...
    ValueError: p is the drop probability and must be in [0, 1], got 1.5
    """
    if isinstance(p, Tensor) and p.numel() == 1 and not p.requires_grad:
        p = p.item()
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(p).__name__} {p!r}")
    p = float(p)
    if math.isnan(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} is the drop probability and must be in [0, 1], got {p!r}")
    return p


def _check_positive_int(label: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{label} must be a positive int, got {value!r}")


def _check_float_tensor(X: object, fn: str) -> None:
    if not isinstance(X, Tensor):
        raise TypeError(f"{fn} expects a torch.Tensor, got {type(X).__name__}")
    if not X.is_floating_point():
        raise TypeError(
            f"{fn} expects a floating-point tensor, got dtype {X.dtype}; "
            f"convert it first, e.g. X.float()"
        )


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
    if isinstance(shape_or_tensor, Tensor):
        shape = shape_or_tensor.shape
        device = shape_or_tensor.device if device is None else device
        dtype = shape_or_tensor.dtype if dtype is None else dtype
    else:
        try:
            shape = torch.Size(shape_or_tensor)
        except TypeError:
            raise TypeError(
                f"bernoulli_mask needs a tensor or a shape such as (2, 8), "
                f"got {shape_or_tensor!r}"
            ) from None
    device = torch.device("cpu") if device is None else torch.device(device)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if generator is not None and generator.device.type != device.type:
        raise ValueError(
            f"the generator lives on {generator.device} but the mask is built on {device}; "
            f"create it with torch.Generator(device={str(device)!r})"
        )
    uniform = torch.rand(shape, generator=generator, device=device, dtype=torch.float32)
    # Compare in place: the uniforms become the 0/1 mask in their own memory, which saves a
    # boolean temporary and a conversion pass (and for float32, any copy at all).
    return uniform.ge_(p).to(dtype)


def _inverted_mask(shape_or_tensor, p: float, **kwargs) -> Tensor:
    """A keep-mask already scaled by ``1 / (1 - p)``: what inverted dropout multiplies by.

    At p=1 every entry is dropped and the mask stays all zeros: scaling by 1/0 would turn
    0 * inf into NaN.
    """
    mask = bernoulli_mask(shape_or_tensor, p, **kwargs)
    if p < 1.0:
        # Our own fresh tensor, so scaling it in place is safe and saves a full-size temporary.
        mask.mul_(1.0 / (1.0 - p))
    return mask


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
    _check_float_tensor(X, "dropout_layer")
    p = check_p(p)
    if not training or p == 0.0:
        return X
    return X * _inverted_mask(X, p, generator=generator)


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
    _check_float_tensor(X, "standard_dropout")
    p = check_p(p)
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {training!r}")
    if training:
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
        _check_positive_int("in_features", in_features)
        _check_positive_int("out_features", out_features)
        if not isinstance(per_example, bool):
            raise TypeError(f"per_example must be True or False, got {per_example!r}")
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.p = check_p(p)
        self.per_example = per_example

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}, per_example={self.per_example}"

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return nn.functional.linear(x, self.weight, self.bias)
        if self.per_example:
            return self._forward_per_example(x)
        # One mask of the weight's shape, device and dtype, shared by the whole batch.
        mask = _inverted_mask(self.weight, self.p)
        return nn.functional.linear(x, self.weight * mask, self.bias)

    def _forward_per_example(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"expected inputs with {self.in_features} features in the last dimension, "
                f"got shape {tuple(x.shape)}"
            )
        rows = x.reshape(-1, self.in_features)
        masks = _inverted_mask(
            (rows.shape[0], *self.weight.shape), self.p, device=x.device, dtype=self.weight.dtype
        )
        # out[n, o] = sum_i x[n, i] * W[o, i] * mask[n, o, i]
        out = torch.einsum("ni,noi->no", rows, masks * self.weight)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*x.shape[:-1], self.out_features)

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
        _check_positive_int("samples", samples)
        mean, var = self.moments(x)
        noise = torch.randn(
            (samples, *mean.shape), generator=generator, device=mean.device, dtype=mean.dtype
        )
        return mean + noise * var.sqrt()


def _is_stochastic(module: nn.Module) -> bool:
    # The layers whose train() mode means "random": PyTorch's dropout family (Dropout,
    # Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout) and this module's own layers.
    return isinstance(module, (nn.modules.dropout._DropoutNd, _RateLayer, DropConnectLinear))


@dataclass
class MCPrediction:
    """What :func:`mc_predict` returns. For ``N`` inputs, ``C`` outputs and ``T`` passes:

    - ``mean``: the predictive mean, ``(N, C)``: averaged softmax probabilities (classify) or
      averaged outputs (regress);
    - ``variance``: the variance of the same quantity over the passes, ``(N, C)``;
    - ``entropy``: the entropy of ``mean`` in nats, ``(N,)`` (classify only, else None);
    - ``mutual_information``: entropy minus the passes' mean entropy, ``(N,)``: the part of the
      uncertainty that comes from disagreement between the masks (classify only);
    - ``samples``: every pass, ``(T, N, C)``, when asked for with ``keep_samples=True``.
    """

    mean: Tensor
    variance: Tensor
    entropy: Tensor | None
    mutual_information: Tensor | None
    samples: Tensor | None
    T: int


def _entropy(probs: Tensor) -> Tensor:
    # xlogy gives 0 * log 0 = 0, so a confident prediction has entropy 0 rather than NaN.
    return -torch.special.xlogy(probs, probs).sum(dim=-1)


@torch.no_grad()
def mc_predict(
    model: nn.Module,
    X: Tensor,
    T: int = 50,
    *,
    task: str = "classify",
    batch_size: int = 1024,
    keep_samples: bool = False,
) -> MCPrediction:
    """Monte Carlo dropout (Gal & Ghahramani, 2016): ``T`` forward passes with the dropout
    layers **on** and everything else in eval mode, then the mean and the spread.

    Only the dropout-like modules (``nn.Dropout`` and its relatives, the course's ``Dropout``,
    ``StandardDropout`` and ``DropConnectLinear``) are switched to train mode; BatchNorm keeps
    using its running statistics and is not updated. Every module's train/eval flag is put
    back afterwards, even if a pass fails. Dropout called as a function inside ``forward``
    (``F.dropout(x, p, training=self.training)``) follows its module's flag, which stays in
    eval mode: such a model needs its dropout as modules to work here. The results live on
    the model's device.

    Args:
        T: number of stochastic passes; each one draws fresh masks.
        task: ``"classify"`` (the model returns logits; probabilities are averaged) or
            ``"regress"`` (the model's outputs are averaged as they are).
        batch_size: inputs per forward pass, to bound memory. Each input's predictive
            distribution does not depend on it; it only decides which inputs share a mask in
            layers that draw one mask per batch (``DropConnectLinear``'s default).
        keep_samples: also return every pass (``T`` times the memory of ``mean``).

    >>> net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    >>> pred = mc_predict(net, torch.randn(5, 4), T=20)
    >>> pred.mean.shape, pred.entropy.shape
    (torch.Size([5, 3]), torch.Size([5]))
    >>> net.training  # a fresh module is in train mode, and mc_predict leaves it so
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(X, Tensor):
        raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}")
    _check_positive_int("T (the number of passes)", T)
    if task not in ("classify", "regress"):
        raise ValueError(f"task must be 'classify' or 'regress', got {task!r}")
    _check_positive_int("batch_size", batch_size)
    if len(X) == 0:
        raise ValueError("X is empty: nothing to predict")
    stochastic = [m for m in model.modules() if _is_stochastic(m)]
    if not stochastic:
        raise ValueError(
            "the model has no dropout layers, so all T passes would be identical; "
            "MC dropout needs nn.Dropout (or DropConnectLinear) layers in the model"
        )

    classify = task == "classify"
    modes = {m: m.training for m in model.modules()}
    device = _model_device(model, default=X.device)
    means, variances, entropies, infos, kept = [], [], [], [], []
    try:
        model.eval()
        for m in stochastic:
            m.train()
        for start in range(0, len(X), batch_size):
            xb = X[start : start + batch_size].to(device)
            passes = torch.stack([model(xb) for _ in range(T)])  # (T, B, C)
            if classify:
                passes = passes.softmax(dim=-1)
            mean = passes.mean(dim=0)
            means.append(mean)
            variances.append(passes.var(dim=0, correction=0))
            if classify:
                entropy = _entropy(mean)
                entropies.append(entropy)
                # Clamp: rounding can leave the difference a hair below zero.
                infos.append((entropy - _entropy(passes).mean(dim=0)).clamp_min(0.0))
            if keep_samples:
                kept.append(passes)
    finally:
        for m, was_training in modes.items():
            m.training = was_training
    return MCPrediction(
        mean=torch.cat(means),
        variance=torch.cat(variances),
        entropy=torch.cat(entropies) if classify else None,
        mutual_information=torch.cat(infos) if classify else None,
        samples=torch.cat(kept, dim=1) if keep_samples else None,
        T=T,
    )
