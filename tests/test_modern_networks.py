"""Chapter 08's teaching effects on the real FashionMNIST, for every seed the chapter runs, at its
default ("Run all") settings, read from the chapter itself:

- section 1: activations are largely predicted by their neighbours; after the max-pool that follows
  each slot, element-wise dropout leaves far less noise than Dropout2d, and much less than on the
  same maps with their places shuffled (the neighbours fill in), and comes closer to Dropout2d at
  the second slot; Dropout2d changes more predictions than element-wise dropout, more so
  on the 28x28 maps than on the 14x14 ones (exercise 3); neither kind buys validation accuracy
  beyond the seed-to-seed spread;
- section 4: with small data seen many times there is a gap and dropout narrows it; in one pass
  over many images there is no gap and dropout costs accuracy.
"""

import statistics
from pathlib import Path

import pytest
import torch
from torch import nn

from course_tools.chapters import chapter_settings
from course_utils import CNN_SLOTS, evaluate, fit, mlp, set_seed, small_cnn

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"
CHAPTER = chapter_settings(NOTEBOOKS / "08_dropout_in_modern_networks.ipynb")
SEEDS, P = CHAPTER["SEEDS"], CHAPTER["MAP_P"]
KINDS = {"none": None, "element": nn.Dropout, "channel": nn.Dropout2d}


def train(model, data, epochs, seed):
    fit(model, data, epochs=epochs, lr=CHAPTER["LR"], momentum=CHAPTER["MOMENTUM"], seed=seed,
        progress=False, train_metrics="running")
    return evaluate(model, data.X_train, data.y_train)[1], evaluate(model, data.X_val, data.y_val)[1]


def changed(model, slot, noise, X, draws=10):
    noisy = nn.Sequential(*model).eval()
    noisy[slot] = noise.train()
    with torch.no_grad():
        clean = model.eval()(X).argmax(1)
        return statistics.mean((noisy(X).argmax(1) != clean).float().mean().item()
                               for _ in range(draws))


def r2_from_neighbours(maps):
    inner = maps[:, :, 1:-1, 1:-1]
    around = torch.stack([maps[:, :, :-2, 1:-1], maps[:, :, 2:, 1:-1],
                          maps[:, :, 1:-1, :-2], maps[:, :, 1:-1, 2:]], dim=-1)
    shares = []
    for c in range(maps.shape[1]):
        y = inner[:, c].flatten()
        if y.var() == 0:
            continue
        A = torch.cat([around[:, c].reshape(-1, 4), torch.ones(len(y), 1)], dim=1)
        fitted = A @ torch.linalg.lstsq(A, y.unsqueeze(1)).solution
        shares.append(1 - ((y - fitted.squeeze(1)).var() / y.var()).item())
    return statistics.mean(shares)


@pytest.fixture(scope="module")
def cnns(fashion_mnist):
    data = fashion_mnist(train_size=CHAPTER["CNN_TRAIN"], seed=0)
    runs = {}
    for seed in SEEDS:
        for kind, layer in KINDS.items():
            set_seed(seed)
            model = small_cnn(data.num_classes, dropout=layer, p=P)
            runs[kind, seed] = (model, *train(model, data, CHAPTER["CNN_EPOCHS"], seed))
    return data, runs


def pooled_noise(model, slot, X, seed):
    """Chapter 08's measurement, written again: R^2 at the slot, and the noise after the max-pool
    that follows it, as a share of the maps' spread."""
    with torch.no_grad():
        maps, pool = model.eval()[:slot](X), model[slot + 1]
        order = torch.randperm(maps[0, 0].numel(), generator=torch.Generator().manual_seed(seed))
        shuffled = maps.flatten(2)[..., order].view_as(maps)

        def noise(layer, m):
            torch.manual_seed(seed)
            return ((pool(layer(P).train()(m)) - pool(m)).std() / maps.std()).item()

        return {"r2": r2_from_neighbours(maps), "element": noise(nn.Dropout, maps),
                "shuffled": noise(nn.Dropout, shuffled), "channel": noise(nn.Dropout2d, maps)}


@pytest.mark.parametrize("seed", SEEDS)
def test_the_max_pool_fills_in_element_wise_zeros_from_the_neighbours(cnns, seed):
    data, runs = cnns
    model = runs["none", seed][0]
    at = {slot: pooled_noise(model, slot, data.X_val[:1000], seed) for slot in CNN_SLOTS}
    for slot, n in at.items():
        assert n["r2"] > 0.5, (slot, n)
        assert n["element"] < 0.8 * n["channel"], (slot, n)
        assert n["element"] < 0.8 * n["shuffled"], (slot, n)  # neighbours fill in
    # "the shuffled noise grows to about Dropout2d's" at slot 2
    first = at[CNN_SLOTS[0]]
    assert 0.75 < first["shuffled"] / first["channel"] < 1.25, first
    ratio = [at[slot]["channel"] / at[slot]["element"] for slot in CNN_SLOTS]
    assert ratio[0] > ratio[1], ratio


@pytest.mark.parametrize("seed", SEEDS)
def test_dropout2d_changes_more_predictions_most_on_the_large_maps(cnns, seed):
    data, runs = cnns
    model, X = runs["none", seed][0], data.X_val[:1000]
    torch.manual_seed(seed)
    ratio = {slot: changed(model, slot, nn.Dropout2d(P), X) / changed(model, slot, nn.Dropout(P), X)
             for slot in CNN_SLOTS}
    assert ratio[CNN_SLOTS[0]] > 1.5, ratio
    assert ratio[CNN_SLOTS[0]] > ratio[CNN_SLOTS[1]], ratio


def test_neither_kind_buys_accuracy_beyond_the_seed_spread(cnns):
    _, runs = cnns
    val = {kind: [runs[kind, s][2] for s in SEEDS] for kind in KINDS}
    spread = max(statistics.stdev(v) for v in val.values())
    for kind in ("element", "channel"):
        # The chapter's claim: no gain beyond the noise. A cost can reach the noise's size (seen
        # here: element-wise -0.0125 against a spread of 0.0122 on one 2-core machine, -0.003
        # against 0.008 in the chapter's own run), so it is not bounded by the spread.
        gain = statistics.mean(val[kind]) - statistics.mean(val["none"])
        assert gain <= spread, (kind, gain, spread)
        gaps = [runs[kind, s][1] - runs[kind, s][2] for s in SEEDS]
        plain = [runs["none", s][1] - runs["none", s][2] for s in SEEDS]
        assert statistics.mean(gaps) < statistics.mean(plain), (kind, gaps, plain)


@pytest.fixture(scope="module")
def regimes(fashion_mnist):
    found = {}
    for name, size, epochs in [("small", CHAPTER["SMALL_TRAIN"], CHAPTER["SMALL_EPOCHS"]),
                               ("one pass", CHAPTER["BIG_TRAIN"], 1)]:
        data = fashion_mnist(train_size=size, seed=0)
        for seed in SEEDS:
            for p in (0.0, 0.5):
                set_seed(seed)
                model = mlp(data.input_shape, [256, 256], data.num_classes, dropout=p)
                found[name, p, seed] = train(model, data, epochs, seed)
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_small_data_has_a_gap_that_dropout_narrows(regimes, seed):
    (t0, v0), (t1, v1) = regimes["small", 0.0, seed], regimes["small", 0.5, seed]
    assert t0 - v0 > 0.08
    assert t1 - v1 < t0 - v0


@pytest.mark.parametrize("seed", SEEDS)
def test_one_pass_has_no_gap_and_dropout_costs_accuracy(regimes, seed):
    (t0, v0), (_, v1) = regimes["one pass", 0.0, seed], regimes["one pass", 0.5, seed]
    assert abs(t0 - v0) < 0.03
    assert v1 < v0


def test_in_the_short_small_data_budget_dropout_does_not_pay_yet(regimes):
    # The chapter says so in parentheses; if a change of settings makes it pay, say that instead.
    gains = [regimes["small", 0.5, s][1] - regimes["small", 0.0, s][1] for s in SEEDS]
    assert statistics.mean(gains) < 0
