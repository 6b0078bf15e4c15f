import re

import pytest
import torch
from torch import nn

from course_utils import (
    History,
    load_dataset,
    mlp,
    plot_bars,
    plot_decision_boundary,
    plot_history,
    plot_seed_curves,
    plot_sweep,
)


def history(offset=0.0):
    return History([1.0, 0.5, 0.3], [0.6, 0.8, 0.9 + offset], [1.1, 0.9, 1.0],
                   [0.5, 0.7, 0.7], [0.1, 0.1, 0.1])


def test_plot_history_is_the_2x2_grid_with_one_line_per_run():
    fig = plot_history({"no dropout": history(), "dropout": history(0.05)}, title="demo")
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["training loss", "validation loss", "training accuracy", "validation accuracy"]
    for ax in fig.axes:
        assert len(ax.get_lines()) == 2
        # same run, same colour in every panel
        assert [line.get_color() for line in ax.get_lines()] == ["C0", "C1"]
    acc = fig.axes[2].get_lines()[1].get_ydata()
    assert list(acc) == pytest.approx([0.6, 0.8, 0.95])
    assert fig._suptitle.get_text() == "demo"


def test_plot_history_lines_differ_in_style_and_marker_not_only_in_hue():
    fig = plot_history({"a": history(), "b": history(0.05), "c": history(0.02)})
    lines = fig.axes[0].get_lines()
    assert len({line.get_linestyle() for line in lines}) == 3
    assert len({line.get_marker() for line in lines}) == 3


def test_plot_history_draws_the_mean_of_seeds_with_their_range():
    seeds = [history(0.0), history(0.04)]
    fig = plot_history({"dropout": seeds, "no dropout": history()})
    train_acc = fig.axes[2]  # the panel where the two seeds differ
    mean = train_acc.get_lines()[0]
    assert list(mean.get_ydata()) == pytest.approx([0.6, 0.8, 0.92])
    assert "2 seeds" in mean.get_label()
    band = train_acc.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.6) and band.max() == pytest.approx(0.94)
    assert "lowest to highest seed" in fig._suptitle.get_text()


def test_plot_history_marks_the_epoch_of_lowest_validation_loss():
    fig = plot_history(history(), mark_best=True)
    stars = [line for line in fig.axes[1].get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1 and list(stars[0].get_xdata()) == [2]  # val loss 1.1, 0.9, 1.0
    assert not [line for line in fig.axes[0].get_lines() if line.get_marker() == "*"]


def test_plot_history_refuses_seeds_of_different_lengths():
    short = History([1.0], [0.5], [1.0], [0.5], [0.1])
    with pytest.raises(ValueError, match="different lengths"):
        plot_history({"a": [history(), short]})
    with pytest.raises(ValueError, match="empty list"):
        plot_history({"a": []})
    with pytest.raises(TypeError, match=r"histories\['a'\]\[1\] is a Linear"):
        plot_history({"a": [history(), nn.Linear(2, 2)]})


def test_plot_history_accepts_a_single_history():
    assert len(plot_history(history()).axes) == 4


@pytest.mark.parametrize("bad, error", [({}, TypeError), ({"x": [1, 2]}, TypeError),
                                        ({"x": History()}, ValueError), ([history()], TypeError)])
def test_plot_history_bad_input(bad, error):
    with pytest.raises(error):
        plot_history(bad)


def test_plot_decision_boundary_draws_regions_and_points():
    data = load_dataset("moons", train_size=40)
    model = mlp(2, [8], 2).train()
    fig = plot_decision_boundary(model, data.X_train, data.y_train, title="boundary")
    ax = fig.axes[0]
    assert ax.get_title() == "boundary"
    assert len(ax.collections) >= 2  # filled regions + scattered points
    assert model.training  # mode given back


def test_plot_decision_boundary_into_given_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    data = load_dataset("moons", train_size=20)
    returned = plot_decision_boundary(nn.Linear(2, 2), data.X_train, data.y_train, ax=axes[1])
    assert returned is fig


def test_plot_decision_boundary_needs_2d_points():
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plot_decision_boundary(nn.Linear(3, 2), torch.zeros(5, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="one label per point"):
        plot_decision_boundary(nn.Linear(2, 2), torch.zeros(5, 2), torch.zeros(4))


def test_plot_sweep():
    fig = plot_sweep([50, 100, 200], {"train": [1, 1, 1], "val": [0.8, 0.85, 0.9]},
                     xlabel="examples", ylabel="accuracy", logx=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["50", "100", "200"]
    assert ax.get_lines()[0].get_linestyle() != ax.get_lines()[1].get_linestyle()
    assert ax.get_lines()[0].get_marker() != ax.get_lines()[1].get_marker()
    fig = plot_sweep([1, 2], {"a": [1, 2], "b": [2, 1]}, xlabel="x", ylabel="y",
                     colors={"b": "black"})
    assert [line.get_color() for line in fig.axes[0].get_lines()] == ["C0", "black"]
    fig = plot_sweep([1, 2], {"measured": [1.0, 2.1]}, xlabel="x", ylabel="y",
                     theory={"theory": [1, 2]})
    measured, theory = fig.axes[0].get_lines()
    assert theory.get_linestyle() == "--" and theory.get_marker() in ("None", "", None)
    assert theory.get_zorder() > measured.get_zorder()
    with pytest.raises(ValueError, match=r"theory\['t'\] has 1 values for 2 x positions"):
        plot_sweep([1, 2], {"a": [1, 2]}, xlabel="x", ylabel="y", theory={"t": [1]})
    with pytest.raises(ValueError, match="colors has a key 'c'"):
        plot_sweep([1, 2], {"a": [1, 2]}, xlabel="x", ylabel="y", colors={"c": "red"})
    with pytest.raises(TypeError, match=r"colors\['a'\] must be a str"):
        plot_sweep([1, 2], {"a": [1, 2]}, xlabel="x", ylabel="y", colors={"a": 3})
    with pytest.raises(ValueError, match="2 values for 3 x positions"):
        plot_sweep([1, 2, 3], {"a": [1, 2]}, xlabel="x", ylabel="y")


def test_plot_bars_draws_the_mean_and_one_dot_per_seed():
    fig = plot_bars({"accuracy": {"a": [0.8, 0.9], "b": [0.5, 0.5]},
                     "confidence": {"a": [0.6, 0.6], "b": [0.7, 0.9]}}, ylabel="rate", title="t")
    ax = fig.axes[0]
    heights = [round(bar.get_height(), 6) for bar in ax.patches]
    assert heights == [0.85, 0.6, 0.5, 0.8]  # series a in both groups, then series b
    assert len({bar.get_hatch() for bar in ax.patches}) == 2  # tells the series apart in grey
    dots = [list(line.get_ydata()) for line in ax.get_lines()]
    assert [0.8, 0.9] in dots and [0.7, 0.9] in dots
    assert ax.get_ylabel() == "rate" and ax.get_title() == "t"
    assert "2 seeds" in ax.get_legend().get_title().get_text()


@pytest.mark.parametrize("bad, error, words", [
    ({}, TypeError, "non-empty dict"),
    ({"g": [1, 2]}, TypeError, "values['g'] must be a non-empty dict"),
    ({"g": {"a": [1]}, "h": {"b": [1]}}, ValueError, "same series"),
    ({"g": {"a": []}}, ValueError, "is empty"),
    ({"g": {"a": [float("nan")]}}, ValueError, "values['g']['a'][0]"),
    ({"g": {"a": 0.5}}, TypeError, "one per seed"),
])
def test_plot_bars_bad_input(bad, error, words):
    with pytest.raises(error, match=re.escape(words)):
        plot_bars(bad, ylabel="y")


def test_plot_seed_curves_draws_the_mean_and_the_range_of_the_seeds():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    mean = plot_seed_curves(ax, [1, 2, 3], [[1.0, 0.5, 0.2], [0.6, 0.3, 0.2]], label="a",
                            style=1, markevery=2)
    assert mean == pytest.approx([0.8, 0.4, 0.2])
    line = ax.get_lines()[0]
    assert line.get_linestyle() == "--" and line.get_marker() == "s" and line.get_markevery() == 2
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.2) and band.max() == pytest.approx(1.0)
    plot_seed_curves(ax, [1, 2, 3], [[1.0, 0.5, 0.2]], label="one seed")
    assert len(ax.collections) == 1, "one seed has no range to shade"


@pytest.mark.parametrize("call, error, words", [
    (lambda ax: plot_seed_curves(None, [1], [[1.0]], label="a"), TypeError, "ax must be one"),
    (lambda ax: plot_seed_curves(ax, [1, 2], [], label="a"), ValueError, "runs is empty"),
    (lambda ax: plot_seed_curves(ax, [1, 2], [[1.0]], label="a"), ValueError,
     "runs[0] has 1 values for 2 x positions"),
    (lambda ax: plot_seed_curves(ax, [1, 2], [1.0, 2.0], label="a"), TypeError,
     "runs[0] must be a list of numbers"),
    (lambda ax: plot_seed_curves(ax, [1], [[1.0]], label=3), TypeError, "label must be a str"),
])
def test_plot_seed_curves_bad_input(call, error, words):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    with pytest.raises(error, match=re.escape(words)):
        call(ax)
