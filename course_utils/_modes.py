"""Where a model lives and which mode it is in: the one place that saves and restores them.

``fit``, ``evaluate``, the plots and ``mc_predict`` all switch a model's modes while they work
and must give it back as they found it, every submodule included, even when a forward pass
fails.

>>> net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
>>> with eval_mode(net):
...     net[1].training
False
>>> net[1].training
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def restored_modes(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule's train/eval flag back on exit, whatever happened inside."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield model
    finally:
        for m, was_training in modes:
            m.training = was_training


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model.eval()`` inside the block (dropout off), the old modes restored after it."""
    with restored_modes(model):
        model.eval()
        yield model


def model_device(model: nn.Module, default: torch.device | None = None) -> torch.device:
    """Where the model's parameters (else buffers) live; ``default`` (else the CPU) if it has none."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu") if default is None else default
