"""Chapter 07's teaching effects on the real FashionMNIST, over three seeds, at the chapter's
default-mode sizes: the 784-256-256-10 MLP with dropout 0.5/0.5, SGD (lr 0.05, momentum 0.9),
10,000 training images, 20 epochs, 5,000 test images. The prose and the sanity checks rely on each
of these for whichever seed a student runs, not only for seed 0."""

from pathlib import Path

import pytest
import torch

from course_tools.chapters import chapter_settings
from course_utils import fit, mc_predict, mlp, set_seed

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
CHAPTER = chapter_settings(NOTEBOOKS / "07_mc_dropout.ipynb")  # default ("Run all") mode
SEEDS, EPOCHS = CHAPTER["SEEDS"], CHAPTER["EPOCHS"]
TRAIN_SIZE, N_EVAL = CHAPTER["TRAIN_SIZE"], CHAPTER["N_EVAL"]


def accuracy(probs, y):
    return (probs.argmax(dim=1) == y).float().mean().item()


@pytest.fixture(scope="module")
def runs(fashion_mnist):
    data = fashion_mnist(train_size=TRAIN_SIZE, seed=0)
    X, y = data.X_test[:N_EVAL], data.y_test[:N_EVAL]
    found = []
    for seed in SEEDS:
        set_seed(seed)
        model = mlp(data.input_shape, [256, 256], data.num_classes, dropout=0.5)
        # "running" skips the per-epoch scoring nobody reads here; the weights are the same.
        fit(model, data, epochs=EPOCHS, lr=0.05, momentum=0.9, seed=seed, progress=False,
            train_metrics="running")
        model.eval()
        with torch.no_grad():
            weight_scaling = model(X).softmax(dim=1)
        clean = mc_predict(model, X, T=50, keep_samples=True)
        set_seed(seed)
        noised = (X + 0.5 * torch.randn_like(X)).clamp(0, 1)
        found.append({
            "weight scaling": weight_scaling,
            "T=1": clean.samples[0],
            "T=50": clean.mean,
            "clean": clean,
            "noised": mc_predict(model, noised, T=50),
            "rotated": mc_predict(model, torch.rot90(X, k=1, dims=(2, 3)), T=50),
            "y": y,
        })
    return found


def test_one_pass_is_worse_and_fifty_passes_match_weight_scaling(runs):
    for seed, run in zip(SEEDS, runs, strict=True):
        ws, one, fifty = (accuracy(run[k], run["y"]) for k in ("weight scaling", "T=1", "T=50"))
        assert one < ws - 0.01, f"seed {seed}: T=1 {one:.3f} should trail weight scaling {ws:.3f}"
        assert abs(fifty - ws) < 0.015, f"seed {seed}: T=50 {fifty:.3f} vs weight scaling {ws:.3f}"


def test_mc_averaging_is_less_confident_than_weight_scaling(runs):
    for seed, run in zip(SEEDS, runs, strict=True):
        ws = run["weight scaling"].max(dim=1).values.mean()
        mc = run["T=50"].max(dim=1).values.mean()
        assert mc < ws, f"seed {seed}: MC confidence {mc:.3f} vs weight scaling {ws:.3f}"


def test_noise_raises_entropy_and_mutual_information(runs):
    for seed, run in zip(SEEDS, runs, strict=True):
        clean, noised = run["clean"], run["noised"]
        assert noised.entropy.mean() > 1.3 * clean.entropy.mean(), seed
        assert noised.mutual_information.mean() > clean.mutual_information.mean(), seed


def test_rotated_images_fool_the_network_and_many_wrong_answers_are_confident(runs):
    for seed, run in zip(SEEDS, runs, strict=True):
        rotated, y = run["rotated"].mean, run["y"]
        assert accuracy(rotated, y) < accuracy(run["clean"].mean, y) - 0.3, seed
        confident_and_wrong = (rotated.max(dim=1).values > 0.9) & (rotated.argmax(dim=1) != y)
        assert confident_and_wrong.float().mean() > 0.1, (
            f"seed {seed}: only {confident_and_wrong.float().mean():.1%} of the rotated images are "
            "confident and wrong; the prose says many are")
