import pytest
import torch
from torch import nn

from course_utils import (
    History,
    load_dataset,
    mlp,
    plot_decision_boundary,
    plot_history,
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
    with pytest.raises(ValueError, match="2 values for 3 x positions"):
        plot_sweep([1, 2, 3], {"a": [1, 2]}, xlabel="x", ylabel="y")
