"""Chapter 05's controlled comparison: its protocol, written down once, and one training run.

The chapter, its effect test (``tests/test_comparison.py``), ``make figures`` and the benchmark
all read the protocol from here, so the README's figure, CI and the chapter show one experiment.

>>> COMPARISON.hidden, COMPARISON.rates, COMPARISON.label_noise
((256, 256), (0.5, 0.5), 0.1)
>>> comparison_protocol(fast=True).seeds
(0,)
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor, nn

from ._modes import eval_mode
from ._validate import choice, positive_int
from ._validate import seed as check_seed
from .config import fast_mode, set_seed
from .data import Dataset, load_dataset
from .models import mlp
from .training import History, check_examples, evaluate, fit, loss_and_accuracy


@dataclass(frozen=True)
class Protocol:
    """Everything the two arms of the comparison share; only the dropout rates differ.

    Why these values (measured on the real FashionMNIST; chapter 05 explains them):
    2,000 training images with 10% of their labels flipped give the network something to
    memorize that does not generalize; Adam at a constant 1e-3 for 50 epochs memorizes it
    without dropout; validation numbers are averaged over the ``last`` epochs because single
    epochs jump around.
    """

    train_size: int = 2_000
    val_size: int = 1_000  # the arms share it, so their difference is measured on the same images
    label_noise: float = 0.1  # training labels only: validation and test stay clean
    hidden: tuple[int, ...] = (256, 256)
    rates: tuple[float, ...] = (0.5, 0.5)  # the dropout arm; the other arm has none
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 64
    epochs: int = 50
    seeds: tuple[int, ...] = (0, 1, 2)
    last: int = 5  # final validation numbers: the mean over this many last epochs

    @property
    def no_dropout(self) -> tuple[float, ...]:
        """The other arm's rates: zero after every hidden layer."""
        return (0.0,) * len(self.hidden)

    def dataset_options(self, *, label_noise: float | None = None) -> dict:
        """The ``load_dataset("fashion-mnist", ...)`` arguments of the protocol's split."""
        noise = self.label_noise if label_noise is None else label_noise
        return dict(train_size=self.train_size, val_size=self.val_size, label_noise=noise, seed=0)

    def load(self, *, label_noise: float | None = None, device=None) -> Dataset:
        """The protocol's FashionMNIST split. ``label_noise=0.0`` gives the same images with
        their true labels: the split does not depend on the noise."""
        return load_dataset("fashion-mnist", **self.dataset_options(label_noise=label_noise),
                            device=device)


COMPARISON = Protocol()

# One label and one colour per arm, in every figure of the chapter and in the README.
NO_DROPOUT = "no dropout"
DROPOUT = "dropout " + "/".join(f"{rate:g}" for rate in COMPARISON.rates)  # "dropout 0.5/0.5"
COLORS = {NO_DROPOUT: "C0", DROPOUT: "C1"}
# Fast mode (tests, nbval) shrinks the sizes; the code path is the same.
FAST_COMPARISON = replace(COMPARISON, train_size=500, val_size=500, epochs=20, seeds=(0,))


def comparison_protocol(fast: bool | None = None) -> Protocol:
    """The full protocol, or its fast-mode sizes when ``fast`` (default: ``COURSE_FAST``)."""
    return FAST_COMPARISON if (fast_mode() if fast is None else fast) else COMPARISON


@dataclass
class Run:
    """One trained configuration: its per-epoch history, its final training accuracy (eval
    mode, whatever ``train_metrics`` the history used), its one look at the test set, and the
    trained model itself, for experiments on it afterwards."""

    history: History
    train_acc: float
    test_loss: float
    test_acc: float
    last: int = 5
    model: nn.Module | None = field(default=None, repr=False, compare=False)

    @property
    def val_acc(self) -> float:
        """Validation accuracy, averaged over the last ``last`` epochs."""
        return statistics.mean(self.history.val_acc[-self.last:])

    @property
    def gap(self) -> float:
        """Training minus validation accuracy, averaged over the last ``last`` epochs."""
        return statistics.mean(self.history.gap[-self.last:])


def build_mlp(protocol: Protocol, data: Dataset, rates, seed: int, *, hidden=None,
              input_rate: float = 0.0) -> nn.Module:
    """The protocol's MLP with dropout ``rates`` after its hidden layers (``input_rate`` on the
    pixels). Seeding right before building gives both arms the same initial weights: dropout
    layers have no parameters, so they draw nothing at construction."""
    set_seed(seed)
    model = mlp(data.input_shape, list(hidden or protocol.hidden), data.num_classes,
                dropout=list(rates))
    return nn.Sequential(nn.Dropout(input_rate), model) if input_rate > 0 else model


def train_run(protocol: Protocol, data: Dataset, rates, seed: int, *, hidden=None,
              input_rate: float = 0.0, epochs: int | None = None, train_metrics: str = "eval",
              device=None) -> Run:
    """Train one arm: ``build_mlp``, then ``fit`` with the protocol's optimizer and budget and
    ``seed`` for the batch order, then one evaluation on the test set. Sweeps that read only
    validation and test numbers pass ``train_metrics="running"``, which skips the per-epoch
    pass over the training set."""
    model = build_mlp(protocol, data, rates, seed, hidden=hidden, input_rate=input_rate)
    history = fit(model, data, epochs=epochs or protocol.epochs, lr=protocol.lr,
                  batch_size=protocol.batch_size, optimizer=protocol.optimizer, seed=seed,
                  device=device, progress=False, train_metrics=train_metrics)
    return Run(history, evaluate(model, data.X_train, data.y_train)[1],
               *evaluate(model, data.X_test, data.y_test), last=protocol.last, model=model)


def mean_std(values) -> str:
    """``values`` (one number per seed) as ``"mean ± std"``, three decimals; one seed has no
    spread to show.

    >>> mean_std([0.81, 0.83]), mean_std([0.8])
    ('0.820 ± 0.014', '0.800')
    """
    values = list(values)
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def seed_verdict(gains, noise: float, name: str) -> str:
    """The course's rule for a difference measured over seeds: ``name`` is higher (or lower)
    only when the gain is positive (negative) in every seed **and** larger than ``noise``, the
    seed-to-seed spread; anything else is within the noise.

    >>> seed_verdict([0.02, 0.03, 0.025], 0.01, "dropout")
    'dropout higher, by more than the noise'
    >>> seed_verdict([0.02, -0.01, 0.03], 0.01, "dropout")
    'within the noise'
    """
    gains = list(gains)
    if min(gains) > noise:
        return f"{name} higher, by more than the noise"
    if max(gains) < -noise:
        return f"{name} lower, by more than the noise"
    return "within the noise"


# --- co-adaptation, measured on a trained MLP ------------------------------------------------


def _hidden_readers(model: nn.Module) -> list[nn.Linear]:
    # Every Linear layer after the first reads a hidden layer: its input columns are the units.
    readers = [m for m in model.modules() if isinstance(m, nn.Linear)][1:]
    if not readers:
        raise ValueError("the model needs at least one hidden layer: an MLP with two or more "
                         "nn.Linear layers")
    return readers


DAMAGE_MEASURES = ("loss", "predictions")


def _predictions(model: nn.Module, X: Tensor) -> Tensor:
    with eval_mode(model):
        return torch.cat([model(X[i:i + 1024]).argmax(dim=1) for i in range(0, len(X), 1024)])


@torch.no_grad()
def unit_removal_damage(model: nn.Module, X: Tensor, y: Tensor, *,
                        measure: str = "loss") -> Tensor:
    """What removing one hidden unit at a time (its outgoing weights zeroed) does on ``(X, y)``,
    for every hidden unit of an MLP, in layer order: the rise in loss, or with
    ``measure="predictions"`` the share of the rows of ``X`` whose predicted class changes.

    A network whose units lean on particular partners has a few units whose loss hurts. The
    loss also grows with the network's confidence, so two networks of different confidence
    compare more fairly on predictions: an argmax does not change when all logits are scaled.

    >>> from course_utils import mlp
    >>> damage = unit_removal_damage(mlp(2, [8, 4], 2), torch.randn(16, 2), torch.randint(0, 2, (16,)))
    >>> damage.shape
    torch.Size([12])
    """
    choice("measure", measure, DAMAGE_MEASURES)
    layers = _hidden_readers(model)
    base = evaluate(model, X, y)[0]  # checks X and y once; the loop below reuses them
    before = _predictions(model, X) if measure == "predictions" else None
    damage = []
    for layer in layers:
        for unit in range(layer.in_features):
            saved = layer.weight[:, unit].clone()
            layer.weight[:, unit] = 0
            try:
                if before is None:
                    damage.append(loss_and_accuracy(model, X, y)[0] - base)
                else:
                    damage.append((_predictions(model, X) != before).float().mean().item())
            finally:
                layer.weight[:, unit] = saved
    return torch.tensor(damage)


@torch.no_grad()
def half_removed_accuracy(model: nn.Module, X: Tensor, y: Tensor, *, trials: int = 20,
                          seed: int = 0) -> float:
    """Accuracy on ``(X, y)`` with a random half of every hidden layer's units removed and the
    others doubled, which is the network one dropout mask at p = 0.5 leaves; the mean over
    ``trials`` random halves. The weights are put back afterwards.

    >>> from course_utils import mlp
    >>> 0.0 <= half_removed_accuracy(mlp(2, [8], 2), torch.randn(16, 2), torch.zeros(16, dtype=torch.long)) <= 1.0
    True
    """
    positive_int("trials", trials)
    layers = _hidden_readers(model)
    g = torch.Generator().manual_seed(check_seed("seed", seed))
    saved = [layer.weight.clone() for layer in layers]
    check_examples(model, X, y, "X", "y")
    accuracies = []
    try:
        for _ in range(trials):
            for layer, weight in zip(layers, saved, strict=True):
                keep = (torch.rand(layer.in_features, generator=g) >= 0.5).to(weight)
                layer.weight.copy_(weight * keep * 2)
            accuracies.append(loss_and_accuracy(model, X, y)[1])
    finally:
        for layer, weight in zip(layers, saved, strict=True):
            layer.weight.copy_(weight)
    return statistics.mean(accuracies)
