"""One training loop for the whole course: ``batches``, ``fit``, ``evaluate`` and ``History``.

The loop runs over in-memory tensors. A ``DataLoader`` adds per-batch Python overhead that a
dataset already sitting in memory does not need.
"""

from __future__ import annotations

import json
import math
import numbers
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._cpu_dropout import course_masks
from ._modes import eval_mode, model_device, restored_modes
from ._validate import batch, boolean, choice, module, number, positive_int
from ._validate import generator as check_generator
from ._validate import seed as check_seed
from .config import env_flag, resolve_device
from .data import Dataset

OPTIMIZERS = ("sgd", "adam", "adamw")
TRAIN_METRICS = ("eval", "running")
DROPOUT_MASKS = ("fast", "torch")
_EVAL_BATCH = 2048


def _is_number(x: object) -> bool:
    # NumPy's numbers count (np.float32(0.5) is a numbers.Real); bools never do.
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


@dataclass
class History:
    """Per-epoch metrics of one training run.

    ``train_loss``/``train_acc`` and ``val_loss``/``val_acc`` hold one float per epoch;
    ``seconds`` holds each epoch's wall time. Two runs with the same seed compare equal:
    ``seconds`` is left out of the comparison because it differs on every run.

    >>> h = History(train_loss=[0.9, 0.4], train_acc=[0.7, 0.9], val_loss=[1.0, 0.8],
    ...             val_acc=[0.6, 0.7], seconds=[0.1, 0.1])
    >>> h.epochs, round(h.gap[-1], 2)
    (2, 0.2)
    >>> History.from_json(h.to_json()) == h
    True
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list, compare=False)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    @property
    def gap(self) -> list[float]:
        """The generalization gap per epoch: training accuracy minus validation accuracy."""
        return [t - v for t, v in zip(self.train_acc, self.val_acc, strict=True)]

    def append(self, train_loss: float, train_acc: float, val_loss: float, val_acc: float,
               seconds: float) -> None:
        """Record one epoch."""
        self.train_loss.append(train_loss)
        self.train_acc.append(train_acc)
        self.val_loss.append(val_loss)
        self.val_acc.append(val_acc)
        self.seconds.append(seconds)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> History:
        """The History that :meth:`to_json` wrote. Anything else (other keys, values that
        are not lists of numbers, lists of different lengths) is refused here with a
        message, not later in ``.gap`` or a plot."""
        if not isinstance(text, (str, bytes)):
            raise TypeError(f"History.from_json needs the JSON text (a str), got "
                            f"{type(text).__name__}")
        try:
            values = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"not a History: the text is not valid JSON ({err})") from None
        names = [f.name for f in fields(cls)]
        if not isinstance(values, dict) or set(values) != set(names):
            got = sorted(values) if isinstance(values, dict) else type(values).__name__
            raise ValueError(f"not a History: expected a JSON object with keys {names}, "
                             f"got {got}")
        for name in names:
            column = values[name]
            if not isinstance(column, list) or not all(_is_number(x) for x in column):
                raise ValueError(f"not a History: {name} must be a list of numbers, got "
                                 f"{json.dumps(column)[:60]}")
        return cls(**{name: [float(x) for x in values[name]] for name in names})

    def __post_init__(self) -> None:
        # Checked here, not where the numbers are read, so that a hand-built History and one
        # read from JSON fail the same way: at once, naming the list and the epoch.
        for f in fields(self):
            column = getattr(self, f.name)
            if not isinstance(column, list):
                raise TypeError(f"History.{f.name} must be a list of numbers, got "
                                f"{type(column).__name__}")
            high, what = ((1.0, "accuracies in [0, 1]") if f.name.endswith("_acc")
                          else (math.inf, "finite numbers >= 0"))
            for epoch, x in enumerate(column, start=1):
                if not (_is_number(x) and math.isfinite(x) and 0.0 <= x <= high):
                    raise ValueError(f"History.{f.name} must hold {what}, got {x!r} in epoch "
                                     f"{epoch}")
            setattr(self, f.name, [float(x) for x in column])  # plain floats: JSON, repr
        lengths = {f.name: len(getattr(self, f.name)) for f in fields(self)}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"a History needs one entry per epoch in every list, got lengths "
                             f"{lengths}")

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(0 epochs)"
        return (
            f"History({self.epochs} epochs, final train_acc={self.train_acc[-1]:.3f}, "
            f"val_acc={self.val_acc[-1]:.3f}, train_loss={self.train_loss[-1]:.3f}, "
            f"val_loss={self.val_loss[-1]:.3f})"
        )


def batches(
    X: Tensor,
    y: Tensor,
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """Yield ``(X_batch, y_batch)`` slices of in-memory tensors; the last batch may be smaller.

    With ``shuffle=True`` the order is a fresh permutation drawn from ``generator`` (a CPU
    ``torch.Generator``), so the same generator seed gives the same order.

    >>> X, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    >>> [len(yb) for _, yb in batches(X, y, 4, shuffle=False)]
    [4, 4, 2]
    """
    batch("X", X)
    batch("y", y)
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length: {len(X)} inputs but {len(y)} labels")
    positive_int("batch_size", batch_size)
    boolean("shuffle", shuffle)
    check_generator("generator", generator)
    n = len(y)
    if shuffle:
        # Permute on the CPU generator, then move the index once: CPU and CUDA generators
        # draw different numbers, and the data order should not depend on the device.
        order = torch.randperm(n, generator=generator).to(X.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            # index_select copies whole rows; X[idx] takes the general advanced-indexing path,
            # several times slower on the CPU for the same result.
            yield X.index_select(0, idx), y.index_select(0, idx)
    else:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]


@torch.no_grad()
def evaluate(model: nn.Module, X: Tensor, y: Tensor, *, batch_size: int = _EVAL_BATCH):
    """Mean cross-entropy loss and accuracy of ``model`` on ``(X, y)``, in eval mode.

    The model is put in ``eval()`` mode (dropout off) and given back in the mode it was in.
    ``y`` holds class labels (``torch.long``); inputs the model cannot take, labels beyond its
    outputs and NaN inputs are refused up front with a message, not a matmul error.

    >>> model = nn.Linear(2, 2)
    >>> loss, acc = evaluate(model, torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]))
    >>> 0.0 <= acc <= 1.0
    True
    >>> evaluate(model, torch.zeros(4, 3), torch.tensor([0, 1, 0, 1]))
    Traceback (most recent call last):
        ...
    ValueError: the model cannot take these inputs, shape (3,) per example: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x2)
    """
    module("model", model)
    positive_int("batch_size", batch_size)
    check_examples(model, X, y, "X", "y")
    return loss_and_accuracy(model, X, y, batch_size)


@torch.no_grad()
def loss_and_accuracy(model: nn.Module, X: Tensor, y: Tensor, batch_size: int = _EVAL_BATCH):
    """:func:`evaluate` without its checks, for loops that call it many times on inputs
    already checked once.

    >>> loss_and_accuracy(nn.Linear(2, 2), torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]))[1]
    0.5
    """
    with eval_mode(model):
        loss_sum, correct = _sums(model, X, y, batch_size)
    n = len(y)
    return float(loss_sum) / n, float(correct) / n


def _sums(model: nn.Module, X: Tensor, y: Tensor, batch_size: int):
    # Accumulate on the device and convert once: a float() per batch would force a GPU sync.
    device = model_device(model)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    for xb, yb in batches(X, y, batch_size, shuffle=False):
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        logits = model(xb)
        _check_logits(logits, yb)
        loss_sum += F.cross_entropy(logits, yb, reduction="sum")
        correct += (logits.argmax(dim=1) == yb).sum()
    return loss_sum, correct


def fit(
    model: nn.Module,
    data: Dataset,
    *,
    epochs: int,
    lr: float,
    batch_size: int = 64,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    seed: int | None = None,
    progress: bool | None = None,
    device: torch.device | str | None = None,
    train_metrics: str = "eval",
    dropout_masks: str = "fast",
) -> History:
    """Train ``model`` on ``data`` with cross-entropy and mini-batches; return its :class:`History`.

    Each epoch runs in ``model.train()`` mode (dropout on), then measures validation loss and
    accuracy in ``model.eval()`` mode (dropout off). Afterwards the model is left in the mode it
    was in before, so ``fit`` has no hidden effect on a later forward pass.

    Args:
        model: maps a batch of inputs to class logits of shape ``(batch, data.num_classes)``.
        data: a :class:`course_utils.Dataset`; its tensors may live on any device.
        epochs, lr, batch_size: the usual; ``optimizer`` is ``"sgd"``, ``"adam"`` or ``"adamw"``.
        seed: when given, fixes the data order *and* reseeds torch's global generator, so the
            dropout masks repeat too. The data order comes from its own generator, so two
            models that draw different numbers of random masks still see identical batches.
            When ``None``, the order is drawn from torch's global generator
            (so :func:`course_utils.set_seed` makes the run repeatable).
        progress: show a progress bar; ``None`` means yes unless ``COURSE_PROGRESS=0``.
        device: where to train (default: where the model's parameters are).
        train_metrics: ``"eval"`` measures training loss/accuracy after each epoch in eval mode,
            the fair number to compare with validation; ``"running"`` averages the mini-batches
            as they were trained (free, but dropout noise and mid-epoch weights are mixed in).
            ``History.seconds`` counts everything in the epoch, so with ``"running"`` it is
            mostly training time, the number to compare when timing models.
        dropout_masks: ``"fast"`` lets the model's ``nn.Dropout`` layers draw their masks on
            the CPU as :func:`dropout_layer` does, from uniform numbers: the same distribution
            as PyTorch's ``bernoulli_``, several times faster on AMD and ARM CPUs, but other
            random numbers (on Intel CPUs PyTorch's own draws are fast, and are kept).
            ``"torch"`` keeps PyTorch's own draws everywhere, e.g. to match a hand-written
            training loop number for number. The layers stay ``nn.Dropout`` either way.

    >>> from course_utils import load_dataset
    >>> data = load_dataset("moons", train_size=64)
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> history = fit(model, data, epochs=3, lr=0.1, seed=0, progress=False)
    >>> history.epochs, len(history.val_acc)
    (3, 3)
    """
    _check_fit_arguments(model, data, epochs, lr, batch_size, momentum, weight_decay,
                         train_metrics)
    choice("dropout_masks", dropout_masks, DROPOUT_MASKS)
    seed = None if seed is None else check_seed("seed", seed)
    device = resolve_device(device) if device is not None else model_device(model)
    model.to(device)
    X_train, y_train = data.X_train.to(device), data.y_train.to(device)
    X_val, y_val = data.X_val.to(device), data.y_val.to(device)
    check_examples(model, X_train, y_train, "data.X_train", "data.y_train",
                   num_classes=data.num_classes)
    check_examples(model, X_val, y_val, "data.X_val", "data.y_val", num_classes=data.num_classes)
    trainable = [q for q in model.parameters() if q.requires_grad]
    if not trainable:
        what = ("every parameter is frozen (requires_grad=False): unfreeze what should learn, "
                "e.g. p.requires_grad_(True)" if any(True for _ in model.parameters())
                else "it has no parameters (only layers without weights, such as nn.ReLU or "
                "nn.Dropout?)")
        raise ValueError(f"fit has nothing to train in this model: {what}")
    opt = _make_optimizer(optimizer, trainable, lr, momentum, weight_decay)
    order = _order_generator(seed)

    history = History()
    bar = _progress_bar(epochs, progress)
    with restored_modes(model), course_masks(model, enabled=dropout_masks == "fast"):
        try:
            for epoch in range(1, epochs + 1):
                start = time.perf_counter()
                running = _train_epoch(model, opt, X_train, y_train, batch_size, order,
                                       track=train_metrics == "running")
                if running is not None:
                    train_loss, train_acc = running
                else:
                    train_loss, train_acc = loss_and_accuracy(model, X_train, y_train)
                # Chance-level cross-entropy is log(classes); a loss thousands of times larger
                # (or inf/NaN) is a run that has blown up, not one that is still learning.
                if not math.isfinite(train_loss) or train_loss > 1000 * max(
                        1.0, math.log(data.num_classes)):
                    raise FloatingPointError(
                        f"training loss became {train_loss} in epoch {epoch}; "
                        f"the learning rate lr={lr} is probably too high"
                    )
                val_loss, val_acc = loss_and_accuracy(model, X_val, y_val)
                history.append(train_loss, train_acc, val_loss, val_acc,
                               time.perf_counter() - start)
                if bar is not None:
                    bar.set_postfix(train_acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}")
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
    return history


def _train_epoch(model, opt, X, y, batch_size, order, *, track: bool):
    """One pass over the shuffled training set in train mode (dropout on). With ``track``,
    returns the running loss and accuracy of the batches as they were trained."""
    model.train()
    loss_sum = torch.zeros((), device=X.device)
    correct = torch.zeros((), device=X.device, dtype=torch.int64)
    for xb, yb in batches(X, y, batch_size, shuffle=True, generator=order):
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if track:  # summed on the device: a float() per batch would wait for the GPU
            loss_sum += loss.detach() * len(yb)
            correct += (logits.detach().argmax(dim=1) == yb).sum()
    return (float(loss_sum) / len(y), float(correct) / len(y)) if track else None


def _order_generator(seed: int | None) -> torch.Generator:
    """The data order's own generator. With a seed, torch's global generator is reseeded too,
    so the dropout masks repeat; without, the order is drawn from the global generator, which
    set_seed makes repeatable."""
    if seed is not None:
        torch.manual_seed(seed)
        return torch.Generator().manual_seed(seed)
    return torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,)).item()))


def _check_fit_arguments(model, data, epochs, lr, batch_size, momentum, weight_decay,
                         train_metrics) -> None:
    module("model", model)
    if not isinstance(data, Dataset):
        raise TypeError(
            f"data must be a course_utils.Dataset (from load_dataset), got {type(data).__name__}"
        )
    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    number("lr", lr, low=0.0, low_open=True)
    number("momentum", momentum, low=0.0, high=1.0)
    number("weight_decay", weight_decay, low=0.0)
    choice("train_metrics", train_metrics, TRAIN_METRICS)
    finite("data.X_val", data.X_val)  # X_train is checked with the model, in fit


# --- helpers ---------------------------------------------------------------------------------


def _check_logits(logits: Tensor, y: Tensor) -> None:
    if logits.dim() != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(
            f"the model returned shape {tuple(logits.shape)} for a batch of {y.shape[0]}; "
            f"expected logits of shape (batch, classes)"
        )


def cannot_take(X: Tensor, err: RuntimeError) -> ValueError:
    """The error for inputs a model's first layer refuses (PyTorch's own says "mat1 and mat2
    shapes cannot be multiplied" and names no input)."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return ValueError(f"the model cannot take these inputs, shape {tuple(X.shape[1:])} per "
                      f"example: {first}")


def finite(name: str, X: Tensor) -> None:
    if X.is_floating_point() and not all_finite(X):
        raise ValueError(f"{name} contains NaN or inf values: clean the data first (a model "
                         "given them computes a NaN loss, whatever the learning rate)")


@torch.no_grad()
def all_finite(X: Tensor) -> bool:
    """Whether every element of the floating-point ``X`` is finite, in one pass over it.

    NaN and inf carry through a sum, so a finite sum proves every element finite without the
    boolean copies of ``torch.isfinite(X).all()`` (a tenth of a one-epoch ``fit`` on 60,000
    images). Only a sum that overflows, or a real NaN or inf, takes the exact check.

    >>> all_finite(torch.tensor([1.0, 3e38, 3e38])), all_finite(torch.tensor([1.0, float("nan")]))
    (True, False)
    """
    return bool(torch.isfinite(X.sum())) or bool(torch.isfinite(X).all())


@torch.no_grad()
def check_inputs(model: nn.Module, X: Tensor, x_name: str) -> Tensor:
    """Refuse, with a message, inputs the model cannot take: NaN, a dtype other than the
    model's (integer pixels, float64), or a shape its layers refuse. Returns the model's
    eval-mode output on the first two examples.

    >>> check_inputs(nn.Linear(2, 3), torch.zeros(4, 2, dtype=torch.uint8), "X")
    Traceback (most recent call last):
        ...
    TypeError: X holds integers (torch.uint8) but the model computes in torch.float32: convert with X.float(), and divide by 255 if they are 0-255 pixel values
    """
    finite(x_name, X)
    param = next(model.parameters(), None)
    if param is not None and param.is_floating_point() and X.dtype != param.dtype:
        if not X.is_floating_point():
            raise TypeError(f"{x_name} holds integers ({X.dtype}) but the model computes in "
                            f"{param.dtype}: convert with X.float(), and divide by 255 if they "
                            f"are 0-255 pixel values")
        raise TypeError(f"{x_name} is {X.dtype} but the model's parameters are {param.dtype}: "
                        f"convert one of them, e.g. model.to({X.dtype}) or X.to({param.dtype})")
    # One eval-mode forward on two examples catches a wrong first or last layer before any
    # work, with a message instead of a matmul or cross_entropy error deep inside the loop.
    # Eval mode draws no dropout masks, so this check does not shift the random stream.
    try:
        with eval_mode(model):
            return model(X[:2].to(model_device(model, default=X.device)))
    except RuntimeError as err:
        raise cannot_take(X, err) from err


@torch.no_grad()
def check_examples(model: nn.Module, X: object, y: object, x_name: str, y_name: str, *,
                   num_classes: int | None = None) -> None:
    """Refuse, with a message, examples the model cannot be trained or evaluated on: a length
    or dtype mismatch, NaN inputs, labels that are not class indices, inputs the model cannot
    take, and outputs that do not match the classes (``num_classes``, or the labels).

    >>> check_examples(nn.Linear(2, 3), torch.zeros(4, 2), torch.tensor([0, 1, 2, 3]), "X", "y")
    Traceback (most recent call last):
        ...
    ValueError: y holds labels from 0 to 3, but the model has 3 outputs: labels must be in 0..2
    """
    batch(x_name, X)
    batch(y_name, y)
    if len(X) != len(y):
        raise ValueError(f"{x_name} and {y_name} differ in length: {len(X)} inputs but "
                         f"{len(y)} labels")
    if len(y) == 0:
        raise ValueError(f"{y_name} is empty: there is nothing to train or evaluate on")
    if y.dim() != 1 or y.dtype != torch.long:
        raise TypeError(f"{y_name} must hold one class index per example, a 1-D torch.long "
                        f"tensor; got shape {tuple(y.shape)} and dtype {y.dtype} (convert "
                        f"with .long(), or .argmax(1) for one-hot labels)")
    out = check_inputs(model, X, x_name)
    if out.dim() != 2:
        raise ValueError(f"the model outputs shape {tuple(out.shape)} for {len(out)} examples; "
                         f"expected logits of shape (batch, classes)")
    classes = out.shape[1]
    if num_classes is not None and classes != num_classes:
        raise ValueError(
            f"the model outputs shape {tuple(out.shape)} for {len(out)} examples, but the "
            f"dataset has {num_classes} classes: the last layer needs {num_classes} outputs "
            f"(expected shape ({len(out)}, {num_classes}))")
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= classes:
        raise ValueError(f"{y_name} holds labels from {low} to {high}, but the model has "
                         f"{classes} outputs: labels must be in 0..{classes - 1}")


def _make_optimizer(name, params, lr, momentum, weight_decay) -> torch.optim.Optimizer:
    name = choice("optimizer", name.lower() if isinstance(name, str) else name, OPTIMIZERS)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if momentum:
        raise ValueError(f"momentum applies to 'sgd' only; {name!r} has its own betas")
    adam = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    # The fused kernel updates each parameter in one pass over its four tensors: 0.18 ms per
    # step of chapter 05's MLP on the CPU, against 0.5 ms for PyTorch's default, which makes a
    # temporary per operation. Torch 2.3 and older refuse fused=True on the CPU.
    if all(q.device.type in ("cpu", "cuda") for q in params):
        try:
            return adam(params, lr=lr, weight_decay=weight_decay, fused=True)
        except RuntimeError:
            pass
    return adam(params, lr=lr, weight_decay=weight_decay)


def _progress_bar(epochs: int, progress: bool | None):
    if progress is None:
        progress = env_flag("COURSE_PROGRESS", default=True)
    boolean("progress", progress)
    if not progress:
        return None
    from tqdm.auto import tqdm  # lazy; and TQDM_DISABLE does not reach tqdm.auto's widget bar

    return tqdm(total=epochs, desc="epochs", unit="epoch", leave=False)
