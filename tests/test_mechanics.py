"""The teaching effects chapters 03 and 04 print and rely on, repeated over several seeds so that
no lucky seed carries them. Settings mirror the notebooks in default mode ("Run all"), on the real
FashionMNIST: 10,000 training images, the 784-256-256-10 MLP, dropout 0.2/0.5, 10 epochs. Fast mode
(fewer images and epochs) is covered by the notebooks' own sanity checks under nbval."""

import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_tools.chapters import chapter_settings
from course_utils import (
    Dropout,
    StandardDropout,
    bernoulli_mask,
    dropout_layer,
    evaluate,
    fit,
    mlp,
    set_seed,
)

# Chapters 03 and 04 run their experiments with the same settings, read from the chapters.
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
CHAPTER = chapter_settings(NOTEBOOKS / "04_inverted_dropout.ipynb")
SEEDS, EPOCHS, TRAIN_SIZE = CHAPTER["SEEDS"], CHAPTER["EPOCHS"], CHAPTER["TRAIN_SIZE"]
RATES = list(CHAPTER["RATES"])


def test_chapters_03_and_04_state_the_same_settings():
    ch03 = chapter_settings(NOTEBOOKS / "03_dropout_from_scratch.ipynb")
    for name in ("SEEDS", "EPOCHS", "TRAIN_SIZE"):
        assert ch03[name] == CHAPTER[name], name
    assert list(ch03["RATES"]) == RATES


@pytest.fixture(scope="module")
def data(fashion_mnist):
    return fashion_mnist(train_size=TRAIN_SIZE, seed=0)


class ForgotTheScaling(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, X):
        return X * bernoulli_mask(X, self.p) if self.training else X


def train(data, module, seed, optimizer="adam", lr=1e-3, activation=nn.ReLU):
    return train_model_and_history(data, module, seed, optimizer, lr, activation)[0]


# Several tests need the same trained network (chapter 03's SGD run is chapter 04's inverted SGD
# run, for example): train each one once. The tests read the models without training them further.
_trained = {}


def train_model_and_history(data, module, seed, optimizer, lr, activation=nn.ReLU):
    key = (id(data), module, seed, optimizer, lr, activation)
    if key not in _trained:
        set_seed(seed)
        model = mlp(data.input_shape, [256, 256], data.num_classes, dropout=RATES,
                    dropout_module=module, activation=activation)
        # Only chapter 04's lr-0.1 SGD and Adam runs have their training loss read, in eval mode
        # as the notebook prints it; elsewhere "running" skips that scoring (same weights).
        metrics = "eval" if (optimizer, lr) in [("sgd", 0.1), ("adam", 1e-3)] else "running"
        history = fit(model, data, epochs=EPOCHS, lr=lr, optimizer=optimizer, seed=seed,
                      progress=False, train_metrics=metrics)
        _trained[key] = model, history
    return _trained[key]


def test_scratch_layer_and_nn_dropout_reach_similar_accuracy(data):
    """Chapter 03: our layer in an MLP vs. nn.Dropout, same seeds and SGD settings."""
    ours, theirs = [], []
    for seed in SEEDS:
        for module, accs in [(Dropout, ours), (nn.Dropout, theirs)]:
            model = train(data, module, seed, optimizer="sgd", lr=0.1)
            accs.append(evaluate(model, data.X_test, data.y_test)[1])
    mean_gap = abs(sum(ours) - sum(theirs)) / len(SEEDS)
    assert mean_gap < 0.05, (ours, theirs)
    assert min(ours) > 0.6 and min(theirs) > 0.6, "both should learn well beyond chance"


def test_standard_and_inverted_train_alike_with_adam_but_not_with_sgd(data):
    """Chapter 04, section 1: equivalent with Adam; under SGD the standard scheme starts slower,
    its lag shrinks with training, and Adam's lag is far smaller than SGD's first one."""
    adam = {"standard": [], "inverted": []}
    adam_lag = []
    for seed in SEEDS:
        runs = {name: train_model_and_history(data, module, seed, "adam", 1e-3)
                for name, module in [("standard", StandardDropout), ("inverted", Dropout)]}
        for name, (model, _) in runs.items():
            adam[name].append(evaluate(model, data.X_test, data.y_test)[1])
        adam_lag.append(runs["standard"][1].train_loss[-1] - runs["inverted"][1].train_loss[-1])
    assert abs(sum(adam["standard"]) - sum(adam["inverted"])) / len(SEEDS) < 0.05, adam
    lag_first, lag_last = [], []
    sgd_accuracy = {"standard": [], "inverted": []}
    for seed in SEEDS:
        runs = {name: train_model_and_history(data, module, seed, "sgd", 0.1)
                for name, module in [("standard", StandardDropout), ("inverted", Dropout)]}
        std, inv = runs["standard"][1], runs["inverted"][1]
        lag_first.append(std.train_loss[0] - inv.train_loss[0])
        lag_last.append(std.train_loss[-1] - inv.train_loss[-1])
        assert std.train_loss[0] > inv.train_loss[0], (
            f"seed {seed}: under SGD the standard scheme's loss after epoch 1 "
            f"({std.train_loss[0]:.3f}) should be above the inverted one ({inv.train_loss[0]:.3f})")
        for name, (model, _) in runs.items():
            sgd_accuracy[name].append(evaluate(model, data.X_test, data.y_test)[1])
    # "With 10,000 FashionMNIST images and lr 0.1 ... the two test accuracies end up close."
    assert abs(sum(sgd_accuracy["standard"]) - sum(sgd_accuracy["inverted"])) / len(SEEDS) < 0.02
    first, last, adam_mean = (sum(v) / len(SEEDS) for v in (lag_first, lag_last, adam_lag))
    assert 0 < last < first, (lag_first, lag_last)
    assert abs(adam_mean) < first / 2, (adam_lag, lag_first)


def test_with_a_small_sgd_step_the_slow_start_costs_test_accuracy(data):
    """Chapter 04, section 1: the prose's 'try lr=0.02: the lag shows in the test accuracy'."""
    for seed in SEEDS:
        std = evaluate(train(data, StandardDropout, seed, "sgd", 0.02), data.X_test, data.y_test)[1]
        inv = evaluate(train(data, Dropout, seed, "sgd", 0.02), data.X_test, data.y_test)[1]
        assert std < inv - 0.02, f"seed {seed}: standard {std:.3f}, inverted {inv:.3f} at lr 0.02"


def _confidence(model, X):
    model.eval()
    with torch.no_grad():
        return F.softmax(model(X), dim=1).max(dim=1).values.mean().item()


def _with_test_scale(unscaled):
    """The notebook's with_test_scale: the same weights, each ForgotTheScaling made StandardDropout."""
    fixed = copy.deepcopy(unscaled)
    for i, layer in enumerate(fixed):
        if isinstance(layer, ForgotTheScaling):
            fixed[i] = StandardDropout(layer.p)
    return fixed


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh])
def test_forgetting_the_scaling_inflates_confidence_but_barely_moves_accuracy(data, activation):
    """Chapter 04, section 3 (ReLU) and exercise 5's answer (tanh: the same picture, because the
    largest jump, x2 at the last dropout, feeds the linear output layer)."""
    drops = []
    for seed in SEEDS:
        buggy = train(data, ForgotTheScaling, seed, activation=activation)
        fixed = _with_test_scale(buggy)
        assert _confidence(buggy, data.X_test) > _confidence(fixed, data.X_test) + 0.05
        drops.append(evaluate(fixed, data.X_test, data.y_test)[1]
                     - evaluate(buggy, data.X_test, data.y_test)[1])
        with torch.no_grad():
            same = (fixed(data.X_test).argmax(1) == buggy(data.X_test).argmax(1)).float().mean()
        assert same > 0.97, f"{activation.__name__}, seed {seed}: same class for {same:.3f}"
        if activation is nn.ReLU:  # section 3: the jumps compound, x1.25 through ReLU, then x2
            with torch.no_grad():
                growth = (buggy(data.X_test).std(1) / fixed(data.X_test).std(1)).median()
            assert 2.0 < growth < 3.0, f"seed {seed}: the logits spread x{growth:.2f}"
    assert abs(sum(drops) / len(drops)) < 0.01, drops


def test_forgetting_eval_makes_predictions_disagree(data):
    """Chapter 04, section 4: train-mode evaluation is noisy; eval() makes it deterministic."""
    for seed in SEEDS:
        model = train(data, Dropout, seed)
        for mode, expect_change in [(model.train, True), (model.eval, False)]:
            mode()
            with torch.no_grad():
                preds = torch.stack([model(data.X_test).argmax(dim=1) for _ in range(10)])
            changed = (preds != preds[0]).any(dim=0).float().mean().item()
            assert (changed > 0.02) if expect_change else (changed == 0.0), (seed, changed)


@pytest.mark.parametrize("act, same", [
    (nn.ReLU(), True), (nn.LeakyReLU(0.1), True), (nn.GELU(), False), (nn.SiLU(), False),
    (nn.ELU(), False), (nn.Tanh(), False), (nn.Sigmoid(), False), (nn.Softplus(), False)])
def test_placement_is_free_only_for_relu_like_activations(act, same):
    """Chapter 04, section 5: after f the average is exact; before f only for ReLU-like f."""
    z = torch.randn(10_000)
    p = 0.5
    for seed in SEEDS:
        keep = bernoulli_mask(z, p, generator=torch.Generator().manual_seed(seed))
        diff = (act(z) * keep / (1 - p) - act(z * keep / (1 - p))).abs().max().item()
        assert (diff < 1e-6) if same else (diff > 0.1), (act, diff)
    # The average over masks, by Monte Carlo: exact after f; before f, the chapter's formula.
    masks = bernoulli_mask((4000, 200), p, generator=torch.Generator().manual_seed(0))
    z = torch.linspace(-3, 3, 200)
    after = (act(z) * masks / (1 - p)).mean(0)
    before = act(z * masks / (1 - p)).mean(0)
    formula = (1 - p) * act(z / (1 - p)) + p * act(torch.zeros(1))
    assert (after - act(z)).abs().max() < 0.2  # Monte Carlo noise only, 4000 masks
    assert (before - formula).abs().max() < 0.2
    assert ((formula - act(z)).abs().max() < 1e-6) == same


def test_functional_dropout_ignores_eval_unless_told():
    """Chapter 04, section 4: F.dropout defaults to training=True."""
    x = torch.ones(1000)
    assert (F.dropout(x, 0.5) == 0).any()
    assert torch.equal(F.dropout(x, 0.5, training=False), x)
    assert torch.equal(dropout_layer(x, 0.5, training=False), x)
