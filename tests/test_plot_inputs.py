"""Careless inputs to the plots and the mask explorer: each gets a TypeError or ValueError that
names the argument and the fix, before anything is drawn, instead of a matplotlib or torch error
from deep inside; the legal calls around them still draw."""

import re
import warnings

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from course_utils import (
    History,
    mask_explorer,
    mlp,
    plot_decision_boundary,
    plot_history,
    plot_image_grid,
    plot_sweep,
)

matplotlib.use("Agg")

P, Y = torch.randn(12, 2), torch.arange(12) % 2  # 2-D points and their labels
X5 = [1, 2, 3, 4, 5]


def raises(error, *words):
    """pytest.raises for ``error`` whose message holds every one of ``words``, literally."""
    return pytest.raises(error, match="(?s)" + "".join(f"(?=.*{re.escape(w)})" for w in words))


def sweep(**kwargs):
    args = dict(x=X5, series={"acc": X5}, xlabel="x", ylabel="y") | kwargs
    return plot_sweep(args.pop("x"), args.pop("series"), **args)


def boundary(**kwargs):
    args = dict(model=nn.Linear(2, 2), X=P, y=Y) | kwargs
    return plot_decision_boundary(args.pop("model"), args.pop("X"), args.pop("y"), **args)


# --- ax: one Axes, for every plot that takes one ---------------------------------------------


@pytest.mark.parametrize("plot", [boundary, sweep], ids=["plot_decision_boundary", "plot_sweep"])
def test_the_whole_axes_array_is_named(plot):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    with raises(TypeError, "ax must be one matplotlib Axes (e.g. axes[0])", "got ndarray"):
        plot(ax=axes)
    with raises(TypeError, "ax must be one matplotlib Axes", "got Figure"):
        plot(ax=fig)
    assert plot(ax=axes[1]) is fig  # one Axes of the array: drawn into, its figure returned


# --- plot_decision_boundary ------------------------------------------------------------------


def test_a_model_for_other_inputs_is_named_not_a_matmul_error():
    model = mlp(784, [32], 10).train()
    with raises(ValueError, "the model cannot take these inputs, shape (2,)",
                "needs a model that takes 2-feature points") as info:
        boundary(model=model)
    assert "40000" not in str(info.value)  # the shapes of two points, not of the whole grid
    assert model.training  # its mode given back


def test_nan_points_get_the_message_fit_gives():
    X = P.clone()
    X[3, 1] = float("nan")
    with raises(ValueError, "X contains NaN or inf values", "clean the data first"):
        boundary(X=X)


@pytest.mark.parametrize("y, words", [
    (torch.nn.functional.one_hot(Y), ["y must hold one class index per point", "(12, 2)",
                                      "y.argmax(1)"]),
    (-torch.ones(12, dtype=torch.long), ["y must hold class indices", "got -1"]),
    (torch.full((12,), 0.5), ["y must hold class indices", "got 0.5"]),
    (Y[:5], ["one label per point", "12 points but 5 labels"]),
], ids=["one-hot", "negative", "fractional", "short"])
def test_labels_that_are_not_class_indices(y, words):
    with raises(ValueError, *words):
        boundary(y=y)


def test_points_with_no_area_to_colour():
    with raises(ValueError, "same first coordinate and margin is 0", "margin > 0"):
        boundary(X=torch.zeros(12, 2), margin=0)


def test_decision_boundary_legal_labels_and_title():
    for y in (Y, Y.float(), Y.bool()):  # class indices in any dtype
        boundary(y=y)
    assert boundary(title="t").axes[0].get_title() == "t"


# --- plot_sweep ------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, words", [
    (dict(series={"acc": 0.5}), ["series['acc'] must be a list of numbers, one per x",
                                 "(5 x values)", "got float"]),
    (dict(x=0.5), ["x must be a list of numbers", "got float"]),
    (dict(errors={"acc": 0.1}), ["errors['acc'] must be a list of numbers, one per x",
                                 "got float"]),
    (dict(series={"acc": torch.tensor(0.5)}), ["series['acc'] must be a list", "got Tensor 0.5"]),
    (dict(series={"acc": np.float64(0.5)}), ["series['acc'] must be a list", "got float64"]),
    (dict(x={1, 2, 3, 4, 5}), ["x must be a list of numbers", "got set"]),
], ids=["scalar series", "scalar x", "scalar error", "0-d tensor", "numpy scalar", "set x"])
def test_a_single_number_where_a_list_goes(kwargs, words):
    with raises(TypeError, *words):
        sweep(**kwargs)


def test_errors_given_as_a_list_not_a_dict():
    with raises(TypeError, "errors must be a dict like series, {name: list of numbers}",
                "got list"):
        sweep(errors=[0.1] * 5)
    with raises(TypeError, "series must be a non-empty dict", "got list"):
        sweep(series=X5)


def test_negative_error_bars():
    with raises(ValueError, "errors['acc'] must be >= 0", "got -0.1 at position 1"):
        sweep(errors={"acc": [0.1, -0.1, 0.0, 0.0, 0.0]})


@pytest.mark.parametrize("x, shown", [([0, 1, 2, 3, 4], "0.0"), ([-1, 1, 2, 3, 4], "-1.0")])
def test_logx_needs_positive_x(x, shown):
    with raises(ValueError, f"logx needs every x > 0, got {shown}", "logx=False"):
        sweep(x=x, logx=True)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(series={"acc": [1, 2, "3", 4, 5]}), TypeError,
     ["series['acc'][2] must be a number, got str '3'"]),
    (dict(x=["a", "b", "c", "d", "e"]), TypeError, ["x[0] must be a number, got str 'a'"]),
    (dict(series={"acc": [1, 2, float("nan"), 4, 5]}), ValueError,
     ["series['acc'][2] must be a finite number, got nan"]),
    (dict(series={"acc": torch.zeros(5, 2)}), ValueError,
     ["series['acc'] must be a list of numbers", "shape (5, 2)"]),
    (dict(series={"acc": [1, 2]}), ValueError, ["series['acc'] has 2 values for 5 x positions"]),
    (dict(x=[]), ValueError, ["x is empty"]),
    (dict(series={}), TypeError, ["series must be a non-empty dict", "got an empty dict"]),
    (dict(errors={"loss": X5}), ValueError, ["errors has a key 'loss' that is not in series"]),
    (dict(xlabel=None), TypeError, ["xlabel must be a str, got NoneType"]),
    (dict(title=("a", "b")), TypeError, ["title must be a str or None, got tuple"]),
    (dict(logx="yes"), TypeError, ["logx must be True or False, got str 'yes'"]),
], ids=["string value", "string x", "nan value", "2-D values", "short series", "empty x",
        "empty series", "unknown errors key", "no xlabel", "tuple title", "string logx"])
def test_sweep_names_other_careless_inputs(kwargs, error, words):
    with raises(error, *words):
        sweep(**kwargs)


def test_unsorted_x_warns_at_the_caller():
    with pytest.warns(UserWarning, match="not in increasing .* order") as record:
        sweep(x=[1, 3, 2, 4, 5])
    assert record[0].filename == __file__


def test_sweep_legal_inputs_still_draw_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_sweep(torch.tensor([4, 2, 1]), {"a": np.array([0.1, 0.2, 0.3]),
                                                   "b": torch.tensor([1.0, 2, 3],
                                                                     requires_grad=True)},
                         errors={"a": (0.0, 0.01, np.float32(0.02))}, xlabel="x", ylabel="y",
                         logx=True, title="t")
        plot_sweep({10: "a", 20: "b"}.keys(), {0.5: [1, 2]}, xlabel="x", ylabel="y")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "2", "1"]


# --- plot_image_grid and mask_explorer -------------------------------------------------------


def test_vmin_must_be_below_vmax():
    with raises(ValueError, "vmin must be < vmax", "vmin=1.0 and vmax=0.0"):
        plot_image_grid({"a": torch.rand(2, 4, 4)}, vmin=1, vmax=0)
    with raises(TypeError, "vmax must be a number, got str '1'"):
        plot_image_grid({"a": torch.rand(2, 4, 4)}, vmax="1")


def test_integer_pixels_are_refused_with_the_conversion():
    pixels = (torch.rand(2, 1, 4, 4) * 255).to(torch.uint8)
    with raises(TypeError, "rows['a'] must be a floating-point tensor", "torch.uint8",
                "images.float() / 255"):
        plot_image_grid({"a": pixels})
    with raises(TypeError, "images must be a floating-point tensor", "images.float() / 255"):
        mask_explorer(pixels)


@pytest.mark.parametrize("images, words", [
    (torch.rand(8, 784), ["(N, 1, H, W) or (N, H, W), got (8, 784)",
                          "images.view(-1, 1, 28, 28)"]),
    (torch.rand(28, 28), ["got (28, 28)", "images[None]"]),
    (torch.rand(2, 3, 8, 8), ["got (2, 3, 8, 8)", "3 channels", "images[:, :1]"]),
    (torch.rand(0, 8, 8), ["is empty"]),
    (torch.full((2, 8, 8), float("nan")), ["contains NaN or inf values"]),
], ids=["flattened", "one image", "colour", "empty", "nan"])
def test_image_shapes_are_named_with_their_fix(images, words):
    with raises(ValueError, "rows['a']", *words):
        plot_image_grid({"a": images})
    with raises(ValueError, "images", *words) as info:
        mask_explorer(images)
    assert "rows[" not in str(info.value)  # the argument the student passed, not a row label


@pytest.mark.parametrize("rows, words", [
    (torch.rand(2, 8, 8), ["rows must be a non-empty dict {label: images}", "got Tensor",
                           "{'images': images}"]),
    ({"a": [torch.rand(8, 8)]}, ["rows['a'] must be a torch.Tensor, got list", "torch.stack"]),
    ({}, ["rows must be a non-empty dict", "got an empty dict"]),
], ids=["bare tensor", "list of images", "empty"])
def test_image_rows_of_the_wrong_kind(rows, words):
    with raises(TypeError, *words):
        plot_image_grid(rows)


def test_image_grid_legal_inputs_still_draw():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_image_grid({"float": torch.rand(3, 1, 6, 6), "mask": torch.rand(2, 6, 6) > 0.5,
                               "above vmax": 2 * torch.rand(3, 6, 6)}, title="t")
    assert len(fig.axes) == 9 and fig._suptitle.get_text() == "t"


def test_explorer_takes_a_tensor_p_and_the_last_seed():
    pytest.importorskip("ipywidgets")
    box = mask_explorer(torch.rand(3, 28, 28), p=torch.tensor(0.25), seed=2**32 - 1)
    (slider, button), readout = box.children[0].children, box.children[1]
    assert slider.value == 0.25
    button.click()  # the seed wraps to 0 instead of failing inside the callback
    assert "mask seed 0" in readout.value


# --- plot_history ----------------------------------------------------------------------------


def test_history_names_what_it_was_given():
    h = History([1.0], [0.5], [1.0], [0.5], [0.1])
    with raises(TypeError, "histories must be a History or a non-empty dict", "got list"):
        plot_history([h])
    with raises(TypeError, "histories['a'] is a Linear, not a History", "fit returns the History"):
        plot_history({"a": nn.Linear(2, 2)})
    with raises(TypeError, "title must be a str or None, got int 3"):
        plot_history(h, title=3)
