"""Chapter 06 on the real FashionMNIST over three seeds under chapter 05's protocol (2,000 images
with 10% of their labels flipped, Adam, 50 epochs, p = 0.5), as section 3 runs it: dropout gains
over no regularization by more than the noise in every seed, while DropConnect at the same rate
regularizes less (a higher training accuracy, a smaller validation gain than dropout's); exercise
5's answer says the mean-weight shortcut's bias grows like the noise's variance p / (1 - p)."""

import math
import statistics
from pathlib import Path

import pytest
import torch
from torch import nn

from course_tools.chapters import chapter_settings
from course_utils import DropConnectLinear, evaluate, fit, set_seed
from course_utils.comparison import COMPARISON, Run

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
CHAPTER = chapter_settings(NOTEBOOKS / "06_dropconnect.ipynb")  # default ("Run all") mode
P = CHAPTER["P"]
SEEDS = COMPARISON.seeds


def build(kind, num_classes):
    def after_hidden(n_in, n_out):
        return DropConnectLinear(n_in, n_out, p=P) if kind == "DropConnect" else nn.Linear(n_in, n_out)

    noise = [nn.Dropout(P)] if kind == "dropout" else []
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), *noise,
                         after_hidden(256, 256), nn.ReLU(), *noise,
                         after_hidden(256, num_classes))


@pytest.fixture(scope="module")
def data(fashion_mnist):
    return fashion_mnist(**COMPARISON.dataset_options())


_trained = {}


def trained(data, kind, seed):
    """Each (kind, seed) network trained once for the module's tests, as section 3 trains it."""
    if (kind, seed) not in _trained:
        set_seed(seed)
        model = build(kind, data.num_classes)
        history = fit(model, data, epochs=COMPARISON.epochs, lr=COMPARISON.lr,
                      optimizer=COMPARISON.optimizer, batch_size=COMPARISON.batch_size, seed=seed,
                      progress=False, train_metrics="running")
        run = Run(history, evaluate(model, data.X_train, data.y_train)[1],
                  *evaluate(model, data.X_test, data.y_test), last=COMPARISON.last)
        _trained[kind, seed] = model.eval(), run
    return _trained[kind, seed]


def test_dropout_gains_and_dropconnect_regularizes_less(data):
    runs = {kind: [trained(data, kind, seed)[1] for seed in SEEDS]
            for kind in ("none", "dropout", "DropConnect")}
    spread = max(statistics.stdev(r.val_acc for r in rs) for rs in runs.values())
    for none, dropout, dropconnect in zip(*runs.values(), strict=True):
        assert dropout.val_acc - none.val_acc > spread, (none.val_acc, dropout.val_acc, spread)
        assert dropconnect.train_acc > dropout.train_acc, (dropconnect.train_acc, dropout.train_acc)
        assert dropconnect.val_acc < dropout.val_acc, (dropconnect.val_acc, dropout.val_acc)
    assert min(r.test_acc for rs in runs.values() for r in rs) > 0.75, "all should learn well"


def _relu_mean(mean, var):
    """E[ReLU(u)] for u ~ N(mean, var), the closed form of the chapter's exercise 5."""
    std = var.sqrt()
    z = mean / std.clamp_min(1e-12)
    value = mean * torch.special.ndtr(z) + std * torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return torch.where(std > 0, value, mean.clamp_min(0))


def test_the_mean_weight_bias_grows_like_the_noise_variance(data):
    """Exercise 5: from p = 0.2 to 0.8 the bias grows close to 16x (the factor of p / (1 - p)),
    far beyond the 4x of p or of the noise's standard deviation; and the closed form matches
    section 4's sampled bias at the training rate."""
    for seed in SEEDS:
        model = trained(data, "DropConnect", seed)[0]
        with torch.no_grad():
            h = model[:3](data.X_test[:100])
            bias = {}
            for q in (0.2, 0.5, 0.8):
                layer = DropConnectLinear(256, 256, p=q)
                layer.load_state_dict(model[3].state_dict())
                mean, var = layer.moments(h)
                bias[q] = (_relu_mean(mean, var) - mean.clamp_min(0)).mean().item()
            layer = model[3].train()
            sampled = torch.stack([torch.relu(layer(h)) for _ in range(400)]).mean(0)
            model.eval()
        ratio = bias[0.8] / bias[0.2]
        assert 10 < ratio < 17, f"seed {seed}: the bias grew {ratio:.1f}x from p = 0.2 to 0.8"
        sampled_bias = (sampled - torch.relu(layer(h))).mean().item()
        assert abs(bias[0.5] - sampled_bias) < 0.1 * sampled_bias, (seed, bias, sampled_bias)
