"""Chapter 05's headline effect, repeated over seeds so that no lucky seed carries it: with
everything else pinned, dropout narrows the gap between training and validation accuracy.

The settings mirror the notebook in fast mode on the offline dataset, which is what CI runs:
all 1,137 training digits, the 784-256-256-10 MLP, dropout 0.5/0.5, SGD lr 0.1, batch 32,
40 epochs, and the gap averaged over the last 5 epochs."""

import statistics

import pytest

from course_utils import fit, load_dataset, mlp, set_seed

SEEDS = [0, 1, 2]
EPOCHS, BATCH, LR = 40, 32, 0.1


@pytest.fixture(scope="module")
def gaps():
    data = load_dataset("digits", seed=0)
    found = {}
    for rate in (0.0, 0.5):
        found[rate] = []
        for seed in SEEDS:
            set_seed(seed)
            model = mlp(data.input_shape, [256, 256], data.num_classes, dropout=rate)
            history = fit(model, data, epochs=EPOCHS, lr=LR, batch_size=BATCH, seed=seed,
                          progress=False)
            found[rate].append(statistics.mean(history.gap[-5:]))
    return found


def test_the_network_without_dropout_overfits(gaps):
    # Otherwise there would be nothing for dropout to fix and the comparison would say nothing.
    assert min(gaps[0.0]) > 0.01, gaps


def test_dropout_narrows_the_gap_in_most_seeds_and_on_average(gaps):
    narrower = [d < n for n, d in zip(gaps[0.0], gaps[0.5], strict=True)]
    assert sum(narrower) >= len(SEEDS) - 1, gaps
    assert statistics.mean(gaps[0.5]) < statistics.mean(gaps[0.0]) - 0.003, gaps
