"""Small model builders shared by the chapters, so every chapter means the same thing by "MLP"."""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import warnings
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validate import _given, _is_int, _scalar, check_p, fraction, layer_class, positive_int


class _Default:
    """A keyword's default, told apart from the same value passed on purpose.

    ``small_cnn(10, p=0.5)`` names a rate and no layer (a slip), while chapter 08's
    ``small_cnn(10, dropout=None, p=0.5)`` says "no dropout" on purpose; ``mlp(...,
    dropout_module=nn.Dropout)`` with no rate is a slip, ``dropout=0`` in a sweep is not. The
    value behaves as ``value``; ``help()`` shows it as ``shown``.
    """

    def __init__(self, value: object, shown: str):
        self.value, self.shown = value, shown

    def __repr__(self) -> str:
        return self.shown


_NO_RATE = _Default(0.0, "0.0")
_NO_LAYER = _Default(None, "None")
_NN_DROPOUT = _Default(nn.Dropout, "nn.Dropout")


def _passed(value: object) -> tuple[bool, object]:
    """(whether the caller passed it, the value to use)."""
    return (False, value.value) if isinstance(value, _Default) else (True, value)


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)  # the student's mlp/small_cnn call


# --- input_shape --------------------------------------------------------------------------

_SHAPE = "an int or a tuple of ints such as (1, 28, 28) (pass data.input_shape)"


def _describe(value: object) -> str:
    # A tensor's repr would print its numbers; its type and shape say what was passed.
    if getattr(value, "ndim", 0) and hasattr(value, "shape"):  # a tensor or array, not a scalar
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    return _given(value)


def _num_classes(value):
    # mlp(784, [256], data) is an easy slip; name the field rather than "got Dataset".
    if hasattr(value, "num_classes") and hasattr(value, "input_shape"):
        raise TypeError(f"num_classes must be a positive int, got the dataset itself "
                        f"({type(value).__name__}): pass data.num_classes")
    return positive_int("num_classes", value)


def _input_shape(value: object) -> tuple[int, ...]:
    """One example's shape as a tuple of positive ints; an int (a NumPy or one-element tensor
    integer too) is a shape of one dimension."""
    if hasattr(value, "input_shape") and hasattr(value, "num_classes"):
        raise TypeError(f"input_shape must be an int or a tuple of ints such as (1, 28, 28), "
                        f"got the dataset itself ({type(value).__name__}): pass "
                        f"data.input_shape")
    one = _scalar(value)
    if _is_int(one):
        dims = (one,)
    elif isinstance(value, (tuple, list)) and all(_is_int(_scalar(d)) for d in value):
        dims = tuple(_scalar(d) for d in value)  # torch.Size is a tuple: X.shape[1:] works
    else:
        raise TypeError(f"input_shape must be {_SHAPE}, got {_describe(value)}")
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"input_shape must be positive ints such as (1, 28, 28) "
                         f"(pass data.input_shape), got {value!r}")
    return tuple(int(d) for d in dims)


def _widths(hidden: object) -> list[int]:
    if isinstance(hidden, (numbers.Number, str, Tensor)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a list of layer widths such as [256, 256] ([] for none), "
                        f"got {_describe(hidden)}")
    widths = [_scalar(w) for w in hidden]
    if not all(_is_int(w) for w in widths):
        raise TypeError(f"hidden widths must be positive ints such as [256, 256], got {hidden!r}")
    if any(w < 1 for w in widths):
        raise ValueError(f"hidden widths must be positive ints such as [256, 256], got {hidden!r}")
    return [int(w) for w in widths]


# --- the layer builders: activation, dropout_module, small_cnn's dropout ------------------

# Course functions whose layer has another name than the function's.
_LAYER_OF = {"dropout_layer": "course_utils.Dropout",
             "standard_dropout": "course_utils.StandardDropout",
             "drop_path": "course_utils.DropPath"}
_TENSOR_NAMES = {"x", "input", "inputs", "tensor"}  # a first parameter that takes a tensor


def _shown(fn: object) -> str:
    """``fn`` as the student typed it: torch.relu, F.relu, course_utils.dropout_layer, my_fn."""
    name = getattr(fn, "__name__", None) or type(fn).__name__
    if getattr(torch, name, None) is fn:
        return f"torch.{name}"
    if getattr(F, name, None) is fn:
        return f"F.{name}"
    if str(getattr(fn, "__module__", "")).startswith("course_utils"):
        return f"course_utils.{name}"
    if isinstance(fn, type) and getattr(nn, name, None) is fn:
        return f"nn.{name}"
    return name


def _layer_for(fn: object, fallback: str) -> str:
    """The layer class that does what the function ``fn`` does: F.relu -> nn.ReLU."""
    name = str(getattr(fn, "__name__", "")).rstrip("_")
    if name in _LAYER_OF:
        return _LAYER_OF[name]
    key = name.replace("_", "").lower()
    for attr in dir(nn):
        layer = getattr(nn, attr)
        if attr.lower() == key and isinstance(layer, type) and issubclass(layer, nn.Module):
            return f"nn.{attr}"
    return fallback


def _is_tensor_function(fn: object) -> bool:
    # torch's functions (torch.relu, F.dropout, F.gelu) and the course's (dropout_layer,
    # drop_path) all compute on tensors; none of them builds a layer.
    home = str(getattr(fn, "__module__", None) or "").split(".")[0]
    return inspect.isroutine(fn) and home in ("torch", "course_utils")


def _layer_maker(name: str, value: object, example: str, *, examples: str, builder: str,
                 args: tuple) -> Callable[..., nn.Module]:
    """``value`` if it builds a layer when called as ``builder`` calls it, ``value(*args)``.

    :func:`layer_class` first (a layer instance, something not callable); then a function of a
    tensor (``torch.relu``, ``F.dropout``, ``dropout_layer``), a class that is not a layer, or a
    callable that cannot take ``args`` is refused before anything is built. A factory (``lambda:
    nn.LeakyReLU(0.1)``, ``functools.partial(nn.Dropout, inplace=True)``) passes; what it
    returns is checked when called, by :func:`_built`.
    """
    takes = "no argument" if not args else "a rate"
    layer_class(name, value, example, takes=takes)
    allowed = f"{name} must be a layer class such as {examples}"
    target = value
    while isinstance(target, functools.partial):
        target = target.func
    if isinstance(target, type) and not issubclass(target, nn.Module):
        raise TypeError(f"{allowed}, got the class {target.__name__}, which is not an nn.Module")
    if _is_tensor_function(target):
        raise TypeError(f"{allowed}; {_shown(target)} is a function of a tensor: "
                        f"pass {_layer_for(target, example)}")
    try:
        signature = inspect.signature(value).replace(return_annotation=inspect.Signature.empty)
    except (TypeError, ValueError):  # a built-in without a signature: _built checks the result
        return value
    try:
        signature.bind(*args)
    except TypeError:
        params = list(signature.parameters)
        # F.relu -> nn.ReLU; a class (nn.Linear as the activation) gets the usual example.
        suggestion = example if isinstance(target, type) else _layer_for(target, example)
        if params and params[0].lower() in _TENSOR_NAMES:
            raise TypeError(f"{allowed}; {_shown(value)}{signature} is a function of a tensor: "
                            f"pass {suggestion}") from None
        call = f"{name}({'p' if args else ''})"
        raise TypeError(f"{allowed}; {builder} builds each layer as {call}, and "
                        f"{_shown(value)}{signature} cannot be called that way: pass "
                        f"{suggestion}, or a function of {takes} returning a new layer") from None
    return value


def _built(name: str, make: Callable[..., nn.Module], *args: object) -> nn.Module:
    layer = make(*args)
    if not isinstance(layer, nn.Module):
        call = f"{name}({', '.join(map(repr, args))})"
        got = f"the function {_shown(layer)}" if inspect.isroutine(layer) else _describe(layer)
        raise TypeError(f"{name} must build a layer, an nn.Module, but {call} returned {got}")
    return layer


def mlp(
    input_shape: int | Sequence[int],
    hidden: Sequence[int],
    num_classes: int,
    *,
    dropout: float | Sequence[float] = _NO_RATE,
    dropout_module: Callable[[float], nn.Module] = _NN_DROPOUT,
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
            implementations inside otherwise identical networks. Naming one without any
            ``dropout`` rate warns: no layer would use it.
        activation: builds each hidden activation. ``nn.ReLU`` by default; chapter 04 passes
            ``nn.Tanh`` to ask whether a finding depends on ReLU.

    A class, not a function of a tensor: ``activation=nn.ReLU``, not ``torch.relu``.

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
    shape = _input_shape(input_shape)
    hidden = _widths(hidden)
    num_classes = _num_classes(num_classes)
    rate_given, dropout = _passed(dropout)
    module_given, dropout_module = _passed(dropout_module)
    if isinstance(dropout, (numbers.Real, Tensor, str)) or not isinstance(dropout, Sequence):
        # One rate (a NumPy or 0-d tensor one too) for all; checked even with no hidden layer.
        asked = fraction("dropout", dropout)
        rates = [asked] * len(hidden)
    else:
        rates = list(dropout)
        if len(rates) != len(hidden):
            raise ValueError(
                f"got {len(rates)} dropout rates for {len(hidden)} hidden layers; "
                f"give one rate, or one per hidden layer"
            )
        rates = [fraction("dropout", p) for p in rates]
        asked = max(rates, default=0.0)

    _layer_maker("dropout_module", dropout_module, "nn.Dropout",
                 examples="nn.Dropout or course_utils.Dropout", builder="mlp", args=(0.5,))
    _layer_maker("activation", activation, "nn.ReLU", examples="nn.ReLU or nn.Tanh",
                 builder="mlp", args=())

    # One half of a pair without the other: a layer named with no rate, a rate with no layer
    # to drop in. Legal, so warnings; dropout=0 in a sweep says "none" on purpose and is quiet.
    if not hidden and (module_given or asked > 0):
        what = f"dropout={asked}" if asked > 0 else f"dropout_module={_shown(dropout_module)}"
        _warn(f"mlp with hidden=[] is a linear model: the output layer never gets dropout, so "
              f"{what} builds nothing; give hidden layers, e.g. hidden=[256], for dropout to "
              f"act on")
    elif module_given and not rate_given:
        _warn(f"mlp got dropout_module={_shown(dropout_module)} but no dropout rate, so it "
              f"builds no dropout layer; pass the rate too, e.g. dropout=0.5")

    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(shape)
    for out, p in zip(hidden, rates, strict=True):
        layers += [nn.Linear(width, out), _built("activation", activation)]
        if p > 0:
            layers.append(_built("dropout_module", dropout_module, p))
        width = out
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def _two_channels(channels: object) -> tuple[int, int]:
    allowed = "channels must be two positive ints, the feature maps of each stage, e.g. (8, 16)"
    if not isinstance(channels, Sequence) or isinstance(channels, str):
        raise TypeError(f"{allowed}; got {_describe(channels)}")
    values = [_scalar(c) for c in channels]
    if len(values) != 2 or not all(_is_int(c) for c in values):
        raise (ValueError if len(values) != 2 else TypeError)(f"{allowed}; got {channels!r}")
    if not all(c >= 1 for c in values):
        raise ValueError(f"{allowed}; got {channels!r}")
    return int(values[0]), int(values[1])


CNN_SLOTS = (2, 6)  # the indices of small_cnn's two dropout slots


def small_cnn(num_classes: int, *,
              dropout: Callable[[float], nn.Module] | None = _NO_LAYER,
              p: float = _NO_RATE,
              channels: tuple[int, int] = (8, 16)) -> nn.Sequential:
    """Chapter 08's CNN for 1×28×28 images: two ``Conv2d(3×3) -> ReLU -> slot -> MaxPool2d(2)``
    stages (``channels`` maps of 28×28, then of 14×14), then a linear classifier.

    Each slot (indices :data:`CNN_SLOTS`) holds ``dropout(p)``, e.g. ``nn.Dropout`` for
    element-wise dropout or ``nn.Dropout2d`` for whole channels, or ``nn.Identity()`` when
    ``dropout`` is None: the versions differ only there, so they start from the same weights
    under the same seed. Give both: a ``dropout`` layer without ``p``, or ``p`` without naming
    ``dropout`` (``dropout=None`` says "none" on purpose), warns.

    >>> import torch
    >>> small_cnn(10, dropout=nn.Dropout2d, p=0.2)[CNN_SLOTS[0]]
    Dropout2d(p=0.2, inplace=False)
    >>> small_cnn(10)(torch.zeros(5, 1, 28, 28)).shape
    torch.Size([5, 10])
    """
    num_classes = _num_classes(num_classes)
    layer_given, dropout = _passed(dropout)
    rate_given, p = _passed(p)
    p = check_p(p)
    # p is checked even when dropout is None: chapter 08 loops over {None, nn.Dropout,
    # nn.Dropout2d} with one rate, and a wrong rate should fail in every kind, not two of three.
    if dropout is not None:
        _layer_maker("dropout", dropout, "nn.Dropout2d", examples="nn.Dropout or nn.Dropout2d",
                     builder="small_cnn", args=(0.5,))
    first, second = _two_channels(channels)
    if dropout is not None and not rate_given:
        _warn(f"small_cnn got dropout={_shown(dropout)} but no rate, so its layers drop "
              f"nothing (p=0); pass the rate too, e.g. p=0.2")
    elif dropout is None and not layer_given and p > 0:
        _warn(f"small_cnn got p={p} but no dropout layer, so both slots are nn.Identity() and "
              f"p is unused; pass the layer too, e.g. dropout=nn.Dropout2d (dropout=None says "
              f"no dropout on purpose)")

    def slot() -> nn.Module:
        return nn.Identity() if dropout is None else _built("dropout", dropout, p)

    return nn.Sequential(
        nn.Conv2d(1, first, 3, padding=1), nn.ReLU(), slot(), nn.MaxPool2d(2),
        nn.Conv2d(first, second, 3, padding=1), nn.ReLU(), slot(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(second * 7 * 7, num_classes),
    )
