"""``fit``'s faster dropout masks on the CPU, for the ``nn.Dropout`` layers of the model it trains.

On the CPU, PyTorch draws ``nn.Dropout``'s mask with ``bernoulli_``, which (except on Intel
CPUs, where it calls MKL, and where this module changes nothing) draws one double-precision
number at a time: 13% of a ``fit`` epoch of the 784-256-256-10 MLP at batch size 64
(``benchmarks/README.md``). ``dropout_layer`` compares float32 uniforms with ``p`` instead,
about 3.5 times faster there, with the same distribution and the same gradient, and the
dropout checker tests it. Inside
:func:`course_masks`, each plain ``nn.Dropout`` of the model computes with it; on exit the
layers are as they were. The model still holds ``nn.Dropout`` layers, of that type, with the
same ``p``: only where the random numbers come from changes (another stream of the same
generator).

>>> import torch
>>> net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
>>> with course_masks(net):
...     y = net(torch.ones(2, 4))
>>> "forward" in vars(net[1]), type(net[1]).__name__
(False, 'Dropout')
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .dropout import dropout_layer


def _forward(layer: nn.Dropout, X: Tensor) -> Tensor:
    # Only the case bernoulli_ is slow for: a training-mode CPU float tensor, not in place
    # (that one writes into X), 0 < p < 1. Everything else is F.dropout, as nn.Dropout does.
    if (layer.training and not layer.inplace and X.device.type == "cpu"
            and X.is_floating_point() and 0.0 < layer.p < 1.0):
        return dropout_layer(X, layer.p)
    return F.dropout(X, layer.p, layer.training, layer.inplace)


@functools.cache
def torch_masks_are_fast() -> bool:
    """Whether this CPU gets PyTorch's MKL ``bernoulli_``: an Intel CPU and a torch built with
    MKL. There, PyTorch's own masks are drawn in parallel and are kept."""
    if not torch.backends.mkl.is_available():
        return False
    try:
        cpu = Path("/proc/cpuinfo").read_text(errors="replace")  # Linux: Colab, Kaggle, CI
    except OSError:
        cpu = platform.processor()  # Windows names the vendor there; macOS has no MKL path
    return "GenuineIntel" in cpu


@contextmanager
def course_masks(model: nn.Module, enabled: bool = True) -> Iterator[nn.Module]:
    """Inside the block, each ``nn.Dropout`` in ``model`` (the class itself, not a subclass
    that may compute something else) draws its masks as ``dropout_layer`` does, unless this
    CPU has PyTorch's fast ``bernoulli_`` (:func:`torch_masks_are_fast`)."""
    enabled = enabled and not torch_masks_are_fast()
    layers = [m for m in model.modules()
              if enabled and type(m) is nn.Dropout and "forward" not in vars(m)]
    try:
        for layer in layers:
            layer.forward = _forward.__get__(layer)  # this instance only; the class is untouched
        yield model
    finally:
        for layer in layers:
            vars(layer).pop("forward", None)
