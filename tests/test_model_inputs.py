"""Careless inputs to the model builders (mlp, small_cnn) and Residual: each class of mistake
gets one clear error or warning naming the argument and the fix; the legal calls stay quiet."""

import functools
import inspect
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.fx import symbolic_trace

import course_utils as cu
from course_utils import CNN_SLOTS, Residual, mlp, small_cnn


@pytest.fixture(scope="module")
def moons():
    return cu.load_dataset("moons", train_size=40, val_size=10, seed=0)


def quiet(call):
    """``call()``, failing on any warning: a legal call must not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call()


# --- 1. input_shape of the wrong kind ------------------------------------------------------

SHAPE = r"input_shape must be an int or a tuple of ints such as \(1, 28, 28\)"


@pytest.mark.parametrize("given, got", [
    (784.0, "got float 784.0"),
    ("784", "got str '784'"),
    (True, "got bool True"),
    ((1, 28.0, 28), r"got tuple \(1, 28.0, 28\)"),
    (torch.zeros(5, 2), r"got Tensor of shape \(5, 2\)"),
    (None, "got NoneType None"),
], ids=["float", "str", "bool", "float-in-tuple", "tensor", "None"])
def test_input_shape_of_the_wrong_kind_names_the_argument_and_data_input_shape(given, got):
    with pytest.raises(TypeError, match=rf"^{SHAPE} \(pass data.input_shape\), {got}$"):
        mlp(given, [8], 2)


def test_the_dataset_as_input_shape_or_num_classes_points_at_its_attribute(moons):
    with pytest.raises(TypeError, match=rf"{SHAPE}, got the dataset itself \(Dataset\): pass "
                                        r"data.input_shape$"):
        mlp(moons, [8], 2)
    for call in (lambda: mlp(2, [8], moons), lambda: small_cnn(moons)):
        with pytest.raises(TypeError, match=r"num_classes must be a positive int, got the "
                                            r"dataset itself \(Dataset\): pass data.num_classes"):
            call()


@pytest.mark.parametrize("given", [(), (1, 0, 28), -3], ids=["empty", "zero", "negative"])
def test_input_shape_of_the_wrong_value_is_a_value_error(given):
    with pytest.raises(ValueError, match=r"input_shape must be positive ints such as "
                                         r"\(1, 28, 28\) \(pass data.input_shape\)"):
        mlp(given, [8], 2)


@pytest.mark.parametrize("given", [
    2, np.int64(2), torch.tensor(2), (2,), [2], torch.Size([2]), (np.int32(2),),
], ids=["int", "np.int64", "tensor", "tuple", "list", "torch.Size", "tuple-of-np"])
def test_input_shape_accepts_ints_of_every_kind(given):
    model = quiet(lambda: mlp(given, [4], 3))
    assert model(torch.zeros(5, 2)).shape == (5, 3)


def test_a_shape_from_the_data_works_as_input_shape(moons):
    assert quiet(lambda: mlp(moons.X_train.shape[1:], [4], 2))[1].in_features == 2
    assert mlp((1, 28, 28), [4], 10)[1].in_features == 784


# --- 2. a function of a tensor where a layer class belongs --------------------------------

def own_dropout_layer(X, p):  # what chapter 03's student writes
    return X


@pytest.mark.parametrize("kwargs, words", [
    ({"activation": torch.relu}, "torch.relu is a function of a tensor: pass nn.ReLU"),
    ({"activation": F.relu}, "F.relu is a function of a tensor: pass nn.ReLU"),
    ({"activation": torch.tanh}, "torch.tanh is a function of a tensor: pass nn.Tanh"),
    ({"activation": lambda x: x.relu()}, "<lambda>(x) is a function of a tensor: pass nn.ReLU"),
    ({"dropout_module": F.dropout}, "F.dropout is a function of a tensor: pass nn.Dropout"),
    ({"dropout_module": cu.dropout_layer},
     "course_utils.dropout_layer is a function of a tensor: pass course_utils.Dropout"),
    ({"dropout_module": own_dropout_layer},
     "own_dropout_layer(X, p) is a function of a tensor: pass nn.Dropout"),
    ({"dropout_module": functools.partial(F.dropout, training=True)},
     "F.dropout is a function of a tensor: pass nn.Dropout"),
], ids=["torch.relu", "F.relu", "torch.tanh", "lambda", "F.dropout", "dropout_layer",
        "own-dropout_layer", "partial"])
def test_a_function_of_a_tensor_is_not_a_layer_class(kwargs, words):
    name = next(iter(kwargs))
    example = "nn.ReLU or nn.Tanh" if name == "activation" else "nn.Dropout or course_utils.Dropout"
    with pytest.raises(TypeError) as info:
        mlp(2, [8], 2, dropout=0.5, **kwargs)
    assert str(info.value) == f"{name} must be a layer class such as {example}; {words}"


def test_small_cnn_refuses_a_function_of_a_tensor_with_the_same_words():
    with pytest.raises(TypeError, match=r"^dropout must be a layer class such as nn.Dropout or "
                                        r"nn.Dropout2d; F.dropout2d is a function of a tensor: "
                                        r"pass nn.Dropout2d$"):
        small_cnn(10, dropout=F.dropout2d, p=0.2)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"activation": nn.Linear}, TypeError, "mlp builds each layer as activation(), and "
                                           "nn.Linear(in_features"),
    ({"activation": int}, TypeError, "got the class int, which is not an nn.Module"),
    ({"activation": lambda: torch.relu}, TypeError,
     "activation must build a layer, an nn.Module, but activation() returned the function "
     "torch.relu"),
    ({"dropout_module": lambda p: p}, TypeError,
     "dropout_module must build a layer, an nn.Module, but dropout_module(0.5) returned "
     "float 0.5"),
], ids=["layer-needing-sizes", "not-a-layer-class", "factory-of-a-function", "factory-of-a-float"])
def test_a_builder_that_cannot_build_a_layer_is_named(kwargs, error, words):
    with pytest.raises(error) as info:
        mlp(2, [8], 2, dropout=0.5, **kwargs)
    assert words in str(info.value)


def test_layer_classes_and_factories_still_work():
    model = quiet(lambda: mlp(2, [8, 8], 2, dropout=0.5, activation=lambda: nn.LeakyReLU(0.1),
                              dropout_module=functools.partial(nn.Dropout, inplace=True)))
    assert [type(m).__name__ for m in model][2:4] == ["LeakyReLU", "Dropout"]
    assert model[3].inplace and model[2] is not model[5]
    model = quiet(lambda: mlp(2, [8], 2, dropout=0.2, dropout_module=lambda rate: cu.Dropout(rate)))
    assert isinstance(model[3], cu.Dropout) and model[3].p == 0.2
    assert isinstance(quiet(lambda: mlp(2, [8], 2, dropout=0.2, dropout_module=cu.StandardDropout)
                            )[3], cu.StandardDropout)


# --- 3. NumPy and tensor ints as widths, class counts and channels -------------------------

def test_numpy_and_tensor_ints_are_ints_in_every_builder():
    model = quiet(lambda: mlp(np.int64(2), [np.int64(64), torch.tensor(8)], np.int32(3)))
    assert [m.out_features for m in model if isinstance(m, nn.Linear)] == [64, 8, 3]
    cnn = quiet(lambda: small_cnn(np.int64(10), channels=(np.int64(4), torch.tensor(6))))
    assert cnn[0].out_channels == 4 and cnn[4].out_channels == 6 and cnn[-1].out_features == 10


@pytest.mark.parametrize("hidden, error", [([64.0], TypeError), ([True], TypeError),
                                           ([8, 0], ValueError)], ids=["float", "bool", "zero"])
def test_hidden_widths_of_the_wrong_kind_or_value(hidden, error):
    with pytest.raises(error, match=r"hidden widths must be positive ints such as \[256, 256\]"):
        mlp(2, hidden, 2)


def test_channels_of_the_wrong_kind_is_a_type_error():
    with pytest.raises(TypeError, match=r"channels must be two positive ints.*got \(4.0, 8\)"):
        small_cnn(10, channels=(4.0, 8))


# --- 5. one half of the (layer, rate) pair without the other -------------------------------

def warns(call, *words):
    with pytest.warns(UserWarning) as record:
        model = call()
    assert len(record) == 1
    message = str(record[0].message)
    for word in words:
        assert word in message, message
    assert record[0].filename == __file__  # stacklevel: the caller's line, not models.py
    return model


def test_small_cnn_with_a_rate_and_no_layer_warns_naming_dropout():
    model = warns(lambda: small_cnn(10, p=0.5), "small_cnn got p=0.5 but no dropout layer",
                  "dropout=nn.Dropout2d")
    assert isinstance(model[CNN_SLOTS[0]], nn.Identity)


def test_small_cnn_with_a_layer_and_no_rate_warns_naming_p():
    model = warns(lambda: small_cnn(10, dropout=nn.Dropout2d),
                  "small_cnn got dropout=nn.Dropout2d but no rate", "p=0.2")
    assert model[CNN_SLOTS[0]].p == 0.0


def test_mlp_with_a_layer_and_no_rate_warns_naming_dropout():
    model = warns(lambda: mlp(2, [8], 2, dropout_module=nn.Dropout),
                  "mlp got dropout_module=nn.Dropout but no dropout rate", "dropout=0.5")
    assert not any(isinstance(m, nn.Dropout) for m in model)
    warns(lambda: mlp(2, [8], 2, dropout_module=cu.Dropout), "dropout_module=course_utils.Dropout")


def test_mlp_with_a_rate_and_no_hidden_layer_warns_naming_hidden():
    warns(lambda: mlp(2, [], 2, dropout=0.5), "hidden=[] is a linear model",
          "dropout=0.5 builds nothing", "hidden=[256]")
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 5.0"):
        mlp(2, [], 2, dropout=5)  # checked even with no layer to use it


@pytest.mark.parametrize("call", [
    lambda: small_cnn(10, dropout=None, p=0.2),  # chapter 08's "no dropout" arm
    lambda: small_cnn(10, dropout=nn.Dropout2d, p=0.2),
    lambda: small_cnn(10, dropout=nn.Dropout, p=0.0),  # the zero of a sweep, on purpose
    lambda: small_cnn(10),
    lambda: mlp(2, [8], 2, dropout=0.0, dropout_module=cu.Dropout),  # a sweep's zero
    lambda: mlp(2, [8], 2, dropout=0.2, dropout_module=cu.StandardDropout),
    lambda: mlp(2, [], 2),
    lambda: mlp(2, [], 2, dropout=0.0),
    lambda: mlp((1, 28, 28), [256, 256], 10, dropout=[0.2, 0.5]),
], ids=["cnn-none", "cnn-both", "cnn-zero", "cnn-plain", "mlp-zero", "mlp-both", "linear",
        "linear-zero", "chapter-03"])
def test_the_chapters_calls_stay_quiet(call):
    quiet(call)


def test_help_shows_the_real_defaults():
    def defaults(fn):
        return {n: repr(p.default) for n, p in inspect.signature(fn).parameters.items()}
    assert defaults(mlp)["dropout"] == "0.0" and defaults(mlp)["dropout_module"] == "nn.Dropout"
    assert defaults(small_cnn)["dropout"] == "None" and defaults(small_cnn)["p"] == "0.0"


# --- 6. Residual: a class or a string as the branch, a branch that changes the shape -------

@pytest.mark.parametrize("branch, got", [
    (nn.Linear, r"got the class nn.Linear: pass a built layer, nn.Linear\(\.\.\.\), not the class"),
    ("linear", "got str 'linear'"),
    (torch.relu, "got the function relu"),
], ids=["class", "str", "function"])
def test_residual_refuses_a_branch_that_is_not_a_layer_instance(branch, got):
    with pytest.raises(TypeError, match=rf"^branch must be an nn.Module instance such as "
                                        rf"nn.Linear\(4, 4\), {got}$"):
        Residual(branch, p=0.1)


@pytest.mark.parametrize("branch", [nn.Linear(6, 8), nn.Linear(6, 1)], ids=["wider", "broadcast"])
def test_residual_names_a_branch_that_changes_the_shape(branch):
    out = branch.out_features
    with pytest.raises(ValueError, match=re.escape(
            f"the branch returned shape (4, {out}) for input shape (4, 6); a residual branch "
            f"must keep its input's shape")):
        Residual(branch)(torch.ones(4, 6))


def test_residual_names_a_branch_returning_a_tuple_and_an_input_that_is_no_tensor():
    with pytest.raises(TypeError, match="the branch returned tuple, not a tensor"):
        Residual(nn.LSTM(6, 6, batch_first=True))(torch.ones(2, 3, 6))
    with pytest.raises(TypeError, match="X must be a torch.Tensor, got list"):
        Residual(nn.Linear(2, 2))([[1.0, 2.0]])


def test_residual_still_traces_and_runs():
    net = nn.Sequential(Residual(nn.Linear(4, 4), p=0.2), nn.Linear(4, 2)).eval()
    traced = symbolic_trace(net)
    X = torch.randn(3, 4)
    assert torch.equal(traced(X), net(X))
    assert quiet(lambda: Residual(nn.Linear(4, 4), p=np.float32(0.1))(X)).shape == (3, 4)
