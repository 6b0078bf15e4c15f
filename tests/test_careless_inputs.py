"""Bad inputs a careless student types, by class (issue 28's second sweep of 421 inputs): each
gets a TypeError or ValueError naming the argument, what was wrong and what is allowed, where
it used to get a raw torch, pathlib or Python error from deep inside."""

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu


@pytest.fixture(scope="module")
def moons():
    return cu.load_dataset("moons", train_size=40, val_size=20)


def image_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 3))


IMAGES = torch.rand(6, 1, 2, 2)
LABELS = torch.tensor([0, 1, 2, 0, 1, 2])


# --- a dtype given by name ------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda d: cu.bernoulli_mask((2, 3), 0.5, dtype=d),
    lambda d: cu.bernoulli_mask(torch.zeros(2), 0.5, dtype=d),
    lambda d: cu.DropConnectLinear(4, 3, 0.5, dtype=d),
], ids=["bernoulli_mask shape", "bernoulli_mask tensor", "DropConnectLinear"])
@pytest.mark.parametrize("given, spelled", [("float16", "torch.float16"),
                                            (np.float32, "torch.float32"),
                                            ("half", "torch.half")])
def test_a_dtype_by_name_is_refused_with_the_torch_spelling(call, given, spelled):
    with pytest.raises(TypeError, match=rf"dtype must be a torch.dtype such as {spelled}, got"):
        call(given)


def test_a_torch_dtype_still_works():
    assert cu.bernoulli_mask((2, 3), 0.5, dtype=torch.float16).dtype == torch.float16
    assert cu.DropConnectLinear(4, 3, 0.5, dtype=torch.float64).weight.dtype == torch.float64


# --- integer pixels and float64 against a float32 model ---------------------------------------

INTEGER_IMAGES = (IMAGES * 255).to(torch.uint8)


@pytest.mark.parametrize("call", [
    lambda X: cu.evaluate(image_model(), X, LABELS),
    lambda X: cu.mc_predict(nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 3)), X),
], ids=["evaluate", "mc_predict"])
@pytest.mark.parametrize("X", [INTEGER_IMAGES, INTEGER_IMAGES.long()], ids=["uint8", "int64"])
def test_integer_images_are_named_with_the_conversion(call, X):
    with pytest.raises(TypeError, match=r"X holds integers \(torch\.(uint8|int64)\) but the model "
                                        r"computes in torch.float32: convert with X.float\(\), and "
                                        r"divide by 255"):
        call(X)


def test_fit_names_integer_training_images():
    data = cu.Dataset("tiny", INTEGER_IMAGES, LABELS, IMAGES, LABELS, IMAGES, LABELS,
                      ["a", "b", "c"], (1, 2, 2))
    with pytest.raises(TypeError, match=r"data.X_train holds integers \(torch.uint8\)"):
        cu.fit(image_model(), data, epochs=1, lr=0.1, progress=False)


def test_mc_predict_names_float64_and_nan_like_fit():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 3))
    with pytest.raises(TypeError, match=r"X is torch.float64 but the model's parameters are "
                                        r"torch.float32: convert one of them"):
        cu.mc_predict(model, IMAGES.double())
    X = IMAGES.clone()
    X[1, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="X contains NaN or inf values"):
        cu.mc_predict(model, X)


# --- DropConnectLinear's moments and Gaussian samples check inputs like its forward ----------

@pytest.mark.parametrize("method", ["moments", "sample_gaussian"])
@pytest.mark.parametrize("x, error, words", [
    (torch.ones(4, 5), ValueError, r"expected inputs with 6 features in the last dimension, got "
                                   r"shape \(4, 5\)"),
    ([[1.0] * 6], TypeError, "x must be a torch.Tensor, got list"),
    (torch.ones(4, 6, dtype=torch.long), TypeError, "x must be a floating-point tensor"),
    (torch.ones(4, 6, dtype=torch.float64), TypeError, "x is torch.float64 but the layer's weight"),
])
def test_moments_and_samples_check_their_input_like_forward(method, x, error, words):
    layer = cu.DropConnectLinear(6, 3, 0.5)
    call = layer.moments if method == "moments" else lambda x: layer.sample_gaussian(x, 4)
    with pytest.raises(error, match=words):
        call(x)


def test_sample_gaussian_names_a_seed_given_as_generator():
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int 0"):
        cu.DropConnectLinear(6, 3, 0.5).sample_gaussian(torch.ones(2, 6), 4, generator=0)


# --- attention's shapes and dtypes ----------------------------------------------------------

Q = torch.randn(2, 5, 8)


@pytest.mark.parametrize("q, k, v, error, words", [
    (Q, torch.randn(2, 5, 4), Q, ValueError, "q and k must have the same number of features"),
    (Q, Q, torch.randn(2, 6, 8), ValueError, r"k and v must have the same number of tokens"),
    (torch.randn(8), torch.randn(8), torch.randn(8), ValueError,
     r"q must have shape \(..., tokens, features\), got shape \(8,\); for one sequence pass "
     r"q.unsqueeze\(0\)"),
    (Q.double(), Q, Q, TypeError, "q, k and v must share one dtype"),
    (Q, torch.randn(3, 5, 8), torch.randn(3, 5, 8), ValueError,
     "matching leading .batch, head. dimensions"),
], ids=["features", "tokens", "1-D", "dtype", "batch"])
def test_attention_names_the_mismatched_dimension(q, k, v, error, words):
    with pytest.raises(error, match=words):
        cu.attention(q, k, v, 0.1, training=True)


def test_attention_takes_other_value_widths_and_key_counts():
    out = cu.attention(Q, torch.randn(2, 7, 8), torch.randn(2, 7, 3), 0.1, training=True)
    assert out.shape == (2, 5, 3)
    heads = torch.randn(2, 4, 5, 8)  # (batch, heads, tokens, features) against shared keys
    assert cu.attention(heads, Q[:, None], Q[:, None], 0.0, training=False).shape == (2, 4, 5, 8)


# --- a 0-d tensor where a batch belongs -----------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: cu.evaluate(nn.Linear(2, 2), torch.zeros(1, 2), torch.tensor(1)), "y"),
    (lambda: list(cu.batches(torch.tensor(1.0), torch.tensor(0), 1, shuffle=False)), "X"),
])
def test_a_zero_dim_tensor_is_not_a_batch(call, name):
    with pytest.raises(ValueError, match=rf"{name} must be a batch, a tensor whose first "
                                         r"dimension counts the examples, got a 0-d tensor .*"
                                         r"X.unsqueeze\(0\) and y.view\(1\)"):
        call()


# --- a hand-built Dataset, and fit's validation split -------------------------------------------

def test_a_hand_built_dataset_is_checked_where_it_is_made(moons):
    values = {f.name: getattr(moons, f.name) for f in dataclasses.fields(moons)}
    with pytest.raises(TypeError, match=r"Dataset.X_train must be a torch.Tensor, got ndarray "
                                        r"\(convert with torch.as_tensor\)"):
        cu.Dataset(**{**values, "X_train": moons.X_train.numpy()})
    with pytest.raises(TypeError, match="Dataset.X_val must be a torch.Tensor, got list"):
        cu.Dataset(**{**values, "X_val": moons.X_val.tolist()})
    with pytest.raises(TypeError, match=r"Dataset.classes must be a list of class names.*got int"):
        cu.Dataset(**{**values, "classes": 2})
    with pytest.raises(TypeError, match=r"Dataset.input_shape must be one example's shape"):
        cu.Dataset(**{**values, "input_shape": 2})
    # A tuple of class names and a list shape are fine, and stored as list and tuple.
    data = cu.Dataset(**{**values, "classes": ("a", "b"), "input_shape": [2]})
    assert data.classes == ["a", "b"] and data.input_shape == (2,)


@pytest.mark.parametrize("change, error, words", [
    ({"y_val": "float"}, TypeError, r"data.y_val must hold one class index per example"),
    ({"y_val": "one-hot"}, TypeError, r"data.y_val must hold one class index.*argmax\(1\)"),
    ({"X_val": "empty", "y_val": "empty"}, ValueError, "data.y_val is empty"),
])
def test_fit_checks_the_validation_split_like_the_training_one(moons, change, error, words):
    values = {f.name: getattr(moons, f.name) for f in dataclasses.fields(moons)}
    made = {"float": moons.y_val.float(), "one-hot": F.one_hot(moons.y_val, 2),
            "empty": None}
    for key, how in change.items():
        values[key] = made[how] if how != "empty" else values[key][:0]
    model = nn.Linear(2, 2)
    with pytest.raises(error, match=words):
        cu.fit(model, cu.Dataset(**values), epochs=1, lr=0.1, progress=False)


# --- singles ---------------------------------------------------------------------------------

def test_history_takes_numpy_numbers_as_plain_floats():
    h = cu.History(train_loss=[np.float32(0.5)], train_acc=[np.float64(0.9)],
                   val_loss=[np.float32(0.7)], val_acc=[0.8], seconds=[np.float32(0.1)])
    assert type(h.train_loss[0]) is float and cu.History.from_json(h.to_json()) == h


def test_a_root_that_is_not_a_path_is_named():
    with pytest.raises(TypeError, match="root must be a path, a str or pathlib.Path, got int 123"):
        cu.load_dataset("fashion-mnist", root=123)


def test_seconds_per_call_names_a_function_that_needs_arguments():
    with pytest.raises(TypeError, match=r"fn must take no arguments, but dropout_layer needs X, p: "
                                        r"wrap the call .*seconds_per_call\(lambda: "
                                        r"dropout_layer\(X, p\)\)"):
        cu.seconds_per_call(cu.dropout_layer)
    assert cu.seconds_per_call(lambda x=1: x, repeats=1) >= 0  # defaults are fine


def test_a_built_in_with_the_wrong_signature_gets_one_type_error(capsys):
    with pytest.raises(TypeError, match=r"check_attention_dropout needs your function "
                                        r"attend\(q, k, v, p, \*, training\), but "
                                        r"scaled_dot_product_attention cannot be called that way"):
        cu.check_attention_dropout(F.scaled_dot_product_attention)
    assert "✗" not in capsys.readouterr().out
