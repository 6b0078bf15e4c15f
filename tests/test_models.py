import pytest
import torch
from torch import nn

from course_utils import mlp


def test_mlp_layers_and_shapes():
    model = mlp((1, 28, 28), [256, 256], 10)
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert not any(isinstance(m, nn.Dropout) for m in model)
    assert mlp(2, [], 3)(torch.zeros(4, 2)).shape == (4, 3)


def test_mlp_dropout_after_each_hidden_activation_never_on_the_output():
    model = mlp(2, [8, 8], 2, dropout=[0.2, 0.5])
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Flatten", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.2, 0.5]


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden": [0]}, "hidden widths"),
    ({"num_classes": 0}, "num_classes"),
    ({"dropout": [0.5]}, "1 dropout rates for 2 hidden layers"),
    ({"dropout": 1.0}, r"\[0, 1\)"),
    ({"input_shape": (0, 2)}, "input_shape"),
])
def test_mlp_bad_arguments(kwargs, message):
    args = {"input_shape": 2, "hidden": [4, 4], "num_classes": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        mlp(**args)


def test_mlp_activation_is_built_once_per_hidden_layer():
    model = mlp(2, [8, 8], 2, dropout=0.5, activation=nn.Tanh)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Flatten", "Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert model[2] is not model[5]


def test_mlp_rejects_an_activation_that_is_not_callable():
    with pytest.raises(TypeError, match="activation must be a class or function"):
        mlp(2, [4], 2, activation="tanh")
