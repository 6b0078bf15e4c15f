"""Chapter 06 on the real FashionMNIST over three seeds at the chapter's default-mode sizes
(10,000 images, 10 epochs, SGD lr 0.1, batch 64, p = 0.5): section 3's DropConnect and dropout end
up close, and the prose tells the student not to expect a clear winner; exercise 5's answer says
the mean-weight shortcut's bias grows like the noise's variance p / (1 - p)."""

import math
import statistics
from pathlib import Path

import pytest
import torch
from torch import nn

from course_tools.chapters import chapter_settings
from course_utils import DropConnectLinear, evaluate, fit, set_seed

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
CHAPTER = chapter_settings(NOTEBOOKS / "06_dropconnect.ipynb")  # default ("Run all") mode
SEEDS, EPOCHS, TRAIN_SIZE, P = CHAPTER["SEEDS"], CHAPTER["EPOCHS"], CHAPTER["TRAIN_SIZE"], CHAPTER["P"]
LR, BATCH = CHAPTER["LR"], CHAPTER["BATCH"]


def build(kind, num_classes):
    def after_hidden(n_in, n_out):
        return DropConnectLinear(n_in, n_out, p=P) if kind == "DropConnect" else nn.Linear(n_in, n_out)

    noise = [nn.Dropout(P)] if kind == "dropout" else []
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), *noise,
                         after_hidden(256, 256), nn.ReLU(), *noise,
                         after_hidden(256, num_classes))


@pytest.fixture(scope="module")
def data(fashion_mnist):
    return fashion_mnist(train_size=TRAIN_SIZE, seed=0)


_trained = {}


def trained(data, kind, seed):
    """Each (kind, seed) network trained once for the module's tests."""
    if (kind, seed) not in _trained:
        set_seed(seed)
        model = build(kind, data.num_classes)
        fit(model, data, epochs=EPOCHS, lr=LR, batch_size=BATCH, seed=seed, progress=False,
            train_metrics="running")
        _trained[kind, seed] = model.eval()
    return _trained[kind, seed]


def test_dropconnect_and_dropout_end_up_close(data):
    accuracy = {"dropout": [], "DropConnect": []}
    for seed in SEEDS:
        for kind, accs in accuracy.items():
            accs.append(evaluate(trained(data, kind, seed), data.X_test, data.y_test)[1])
    difference = statistics.mean(accuracy["DropConnect"]) - statistics.mean(accuracy["dropout"])
    assert abs(difference) < 0.03, accuracy
    assert min(min(a) for a in accuracy.values()) > 0.75, f"both should learn well: {accuracy}"


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
        model = trained(data, "DropConnect", seed)
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
