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
from dataclasses import dataclass, replace

from torch import nn

from .config import fast_mode, set_seed
from .data import Dataset, load_dataset
from .models import mlp
from .training import History, evaluate, fit

# One label and one colour per arm, in every figure of the chapter and in the README.
NO_DROPOUT, DROPOUT = "no dropout", "dropout 0.5/0.5"
COLORS = {NO_DROPOUT: "C0", DROPOUT: "C1"}


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
# Fast mode (tests, nbval) shrinks the sizes; the code path is the same.
FAST_COMPARISON = replace(COMPARISON, train_size=500, val_size=500, epochs=20, seeds=(0,))


def comparison_protocol(fast: bool | None = None) -> Protocol:
    """The full protocol, or its fast-mode sizes when ``fast`` (default: ``COURSE_FAST``)."""
    return FAST_COMPARISON if (fast_mode() if fast is None else fast) else COMPARISON


@dataclass
class Run:
    """One trained configuration: its per-epoch history, its final training accuracy (eval
    mode, whatever ``train_metrics`` the history used) and its one look at the test set."""

    history: History
    train_acc: float
    test_loss: float
    test_acc: float
    last: int = 5

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
               *evaluate(model, data.X_test, data.y_test), last=protocol.last)
