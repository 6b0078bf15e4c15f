"""Small model builders shared by the chapters, so every chapter means the same thing by "MLP"."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

from torch import Tensor, nn

from ._validate import check_p, fraction, layer_class, positive_int


def mlp(
    input_shape: int | Sequence[int],
    hidden: Sequence[int],
    num_classes: int,
    *,
    dropout: float | Sequence[float] = 0.0,
    dropout_module: Callable[[float], nn.Module] = nn.Dropout,
    activation: Callable[[], nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """A fully connected network: flatten, then ``Linear -> ReLU [-> Dropout]`` per hidden layer.

    Args:
        input_shape: the shape of one example, e.g. ``(1, 28, 28)`` or ``2``;
            pass ``data.input_shape``.
        hidden: the width of each hidden layer, e.g. ``[256, 256]``; ``[]`` gives a linear model.
        num_classes: outputs of the last layer (pass ``data.num_classes``).
        dropout: drop probability after each hidden activation: one rate for all hidden layers,
            or one per layer. ``0`` adds no Dropout module at all. The output layer never gets
            dropout.
        dropout_module: builds each dropout layer from its rate. ``nn.Dropout`` by default;
            chapters 03 and 04 pass ``course_utils.Dropout`` or ``StandardDropout`` to compare
            implementations inside otherwise identical networks.
        activation: builds each hidden activation. ``nn.ReLU`` by default; chapter 04 passes
            ``nn.Tanh`` to ask whether a finding depends on ReLU.

    >>> mlp((1, 28, 28), [256, 256], 10, dropout=[0.2, 0.5])
    Sequential(
      (0): Flatten(start_dim=1, end_dim=-1)
      (1): Linear(in_features=784, out_features=256, bias=True)
      (2): ReLU()
      (3): Dropout(p=0.2, inplace=False)
      (4): Linear(in_features=256, out_features=256, bias=True)
      (5): ReLU()
      (6): Dropout(p=0.5, inplace=False)
      (7): Linear(in_features=256, out_features=10, bias=True)
    )
    """
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    if not shape or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise ValueError(f"input_shape must be positive ints, got {input_shape!r}")
    if isinstance(hidden, (int, str)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a list of layer widths such as [256, 256] ([] for none), "
                        f"got {type(hidden).__name__} {hidden!r}")
    hidden = list(hidden)
    if not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in hidden):
        raise ValueError(f"hidden widths must be positive ints, got {hidden!r}")
    positive_int("num_classes", num_classes)
    if isinstance(dropout, (numbers.Real, Tensor, str)) or not isinstance(dropout, Sequence):
        dropout = [dropout] * len(hidden)  # one rate (a NumPy or 0-d tensor one too) for all
    rates = list(dropout)
    if len(rates) != len(hidden):
        raise ValueError(
            f"got {len(rates)} dropout rates for {len(hidden)} hidden layers; "
            f"give one rate, or one per hidden layer"
        )
    rates = [fraction("dropout", p) for p in rates]

    layer_class("dropout_module", dropout_module)
    layer_class("activation", activation, "nn.ReLU", takes="no argument")

    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(shape)
    for out, p in zip(hidden, rates, strict=True):
        layers += [nn.Linear(width, out), activation()]
        if p > 0:
            layers.append(dropout_module(p))
        width = out
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def _two_channels(channels: object) -> tuple[int, int]:
    allowed = "channels must be two positive ints, the feature maps of each stage, e.g. (8, 16)"
    if not isinstance(channels, Sequence) or isinstance(channels, str):
        raise TypeError(f"{allowed}; got {type(channels).__name__} {channels!r}")
    if len(channels) != 2 or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1
                                     for c in channels):
        raise ValueError(f"{allowed}; got {channels!r}")
    return channels[0], channels[1]


CNN_SLOTS = (2, 6)  # the indices of small_cnn's two dropout slots


def small_cnn(num_classes: int, *, dropout: Callable[[float], nn.Module] | None = None,
              p: float = 0.0, channels: tuple[int, int] = (8, 16)) -> nn.Sequential:
    """Chapter 08's CNN for 1×28×28 images: two ``Conv2d(3×3) -> ReLU -> slot -> MaxPool2d(2)``
    stages (``channels`` maps of 28×28, then of 14×14), then a linear classifier.

    Each slot (indices :data:`CNN_SLOTS`) holds ``dropout(p)``, e.g. ``nn.Dropout`` for
    element-wise dropout or ``nn.Dropout2d`` for whole channels, or ``nn.Identity()`` when
    ``dropout`` is None: the versions differ only there, so they start from the same weights
    under the same seed.

    >>> import torch
    >>> small_cnn(10, dropout=nn.Dropout2d, p=0.2)[CNN_SLOTS[0]]
    Dropout2d(p=0.2, inplace=False)
    >>> small_cnn(10)(torch.zeros(5, 1, 28, 28)).shape
    torch.Size([5, 10])
    """
    num_classes = positive_int("num_classes", num_classes)
    p = check_p(p)
    # p is checked even when dropout is None: chapter 08 loops over {None, nn.Dropout,
    # nn.Dropout2d} with one rate, and a wrong rate should fail in every kind, not two of three.
    if dropout is not None:
        layer_class("dropout", dropout, "nn.Dropout2d")
    first, second = _two_channels(channels)

    def slot() -> nn.Module:
        return nn.Identity() if dropout is None else dropout(p)

    return nn.Sequential(
        nn.Conv2d(1, first, 3, padding=1), nn.ReLU(), slot(), nn.MaxPool2d(2),
        nn.Conv2d(first, second, 3, padding=1), nn.ReLU(), slot(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(second * 7 * 7, num_classes),
    )
