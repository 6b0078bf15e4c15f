"""The same mistake gets the same error everywhere: a wrong kind raises TypeError, a wrong value
ValueError, both with one wording (``course_utils._validate``)."""

import re

import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.comparison import half_removed_accuracy

X2, y2 = torch.randn(8, 2), torch.randint(0, 2, (8,))
NET = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 2))


def moons():
    return cu.load_dataset("moons", train_size=16, val_size=8)


# Every public place that takes a positive int, called with the value under test.
POSITIVE_INTS = {
    "batches(batch_size=)": ("batch_size", lambda v: list(cu.batches(X2, y2, v, shuffle=False))),
    "fit(epochs=)": ("epochs", lambda v: cu.fit(NET, moons(), epochs=v, lr=0.1, progress=False)),
    "fit(batch_size=)": ("batch_size", lambda v: cu.fit(NET, moons(), epochs=1, lr=0.1,
                                                        batch_size=v, progress=False)),
    "evaluate(batch_size=)": ("batch_size", lambda v: cu.evaluate(NET, X2, y2, batch_size=v)),
    "load_dataset(train_size=)": ("train_size", lambda v: cu.load_dataset("moons", train_size=v)),
    "load_dataset(val_size=)": ("val_size", lambda v: cu.load_dataset("moons", val_size=v)),
    "mc_predict(T=)": ("T (the number of passes)", lambda v: cu.mc_predict(NET, X2, T=v)),
    "mc_predict(batch_size=)": ("batch_size", lambda v: cu.mc_predict(NET, X2, batch_size=v)),
    "seconds_per_call(repeats=)": ("repeats", lambda v: cu.seconds_per_call(int, repeats=v)),
    "plot_image_grid(max_images=)": ("max_images", lambda v: cu.plot_image_grid(
        {"x": torch.rand(2, 4, 4)}, max_images=v)),
    "DropConnectLinear(in_features)": ("in_features", lambda v: cu.DropConnectLinear(v, 2)),
    "sample_gaussian(samples=)": ("samples", lambda v: cu.DropConnectLinear(2, 2).sample_gaussian(
        X2, samples=v)),
    "mlp(num_classes)": ("num_classes", lambda v: cu.mlp(2, [4], v)),
    "half_removed_accuracy(trials=)": ("trials", lambda v: half_removed_accuracy(NET, X2, y2,
                                                                                 trials=v)),
}


@pytest.mark.parametrize("where", sorted(POSITIVE_INTS))
def test_a_positive_int_gets_one_wording_everywhere(where):
    name, call = POSITIVE_INTS[where]
    allowed = rf"^{re.escape(name)} must be a positive int( or None)?, got"  # sizes allow None
    with pytest.raises(TypeError, match=rf"{allowed} str '64'$"):
        call("64")
    with pytest.raises(TypeError, match=rf"{allowed} float 2.0$"):
        call(2.0)
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must be a positive int, got 0$"):
        call(0)


# Every public place that takes a tensor, called with a list instead.
TENSORS = {
    "dropout_layer": ("X", lambda v: cu.dropout_layer(v, 0.5)),
    "standard_dropout": ("X", lambda v: cu.standard_dropout(v, 0.5, training=True)),
    "batches": ("X", lambda v: list(cu.batches(v, y2, 2, shuffle=False))),
    "evaluate": ("y", lambda v: cu.evaluate(NET, X2, v)),
    "mc_predict": ("X", lambda v: cu.mc_predict(NET, v)),
    "plot_decision_boundary": ("X", lambda v: cu.plot_decision_boundary(NET, v, y2)),
    "mask_images": ("images", lambda v: cu.mask_images(v, 0.5)),
}


@pytest.mark.parametrize("where", sorted(TENSORS))
def test_a_non_tensor_gets_a_type_error_everywhere(where):
    name, call = TENSORS[where]
    with pytest.raises(TypeError, match=rf"^{name} must be a torch.Tensor, got list$"):
        call([[1.0, 2.0]])


@pytest.mark.parametrize("call", [
    lambda: cu.fit("not a model", moons(), epochs=1, lr=0.1),
    lambda: cu.evaluate("not a model", X2, y2),
    lambda: cu.mc_predict("not a model", X2),
    lambda: cu.plot_decision_boundary("not a model", X2, y2),
])
def test_a_non_module_gets_a_type_error_everywhere(call):
    with pytest.raises(TypeError, match=r"^model must be a torch.nn.Module, got str$"):
        call()


def test_seed_and_number_checks_share_their_wording():
    for call in (lambda: cu.set_seed("1"), lambda: cu.load_dataset("moons", seed="1"),
                 lambda: cu.fit(NET, moons(), epochs=1, lr=0.1, seed="1", progress=False),
                 lambda: cu.mask_images(torch.rand(1, 4, 4), 0.5, seed="1")):
        with pytest.raises(TypeError, match=r"^seed must be an int, got str '1'$"):
            call()
    with pytest.raises(ValueError, match=r"^lr must be a finite number, got nan$"):
        cu.fit(NET, moons(), epochs=1, lr=float("nan"), progress=False)
    with pytest.raises(TypeError, match=r"^noise must be a number, got str"):
        cu.load_dataset("moons", noise="0.1")
