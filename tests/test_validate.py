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


# Every public place that takes a seed, called with the seed under test.
SEEDS = {
    "set_seed": lambda v: cu.set_seed(v),
    "load_dataset": lambda v: cu.load_dataset("moons", train_size=16, val_size=8, seed=v),
    "fit": lambda v: cu.fit(NET, moons(), epochs=1, lr=0.1, seed=v, progress=False),
    "mask_images": lambda v: cu.mask_images(torch.rand(1, 4, 4), 0.5, seed=v),
    "half_removed_accuracy": lambda v: half_removed_accuracy(NET, X2, y2, trials=1, seed=v),
}


@pytest.mark.parametrize("where", SEEDS)
@pytest.mark.parametrize(("bad", "error", "message"), [
    ("1", TypeError, r"^seed must be an int in \[0, 2\*\*32\), got str '1'$"),
    (1.0, TypeError, r"^seed must be an int in \[0, 2\*\*32\), got float 1.0$"),
    (True, TypeError, r"^seed must be an int in \[0, 2\*\*32\), got bool True$"),
    (-1, ValueError, r"^seed must be an int in \[0, 2\*\*32\), got -1$"),
    (2**32, ValueError, r"^seed must be an int in \[0, 2\*\*32\), got 4294967296$"),
])
def test_every_seed_has_one_range_and_one_wording(where, bad, error, message):
    with pytest.raises(error, match=message):
        SEEDS[where](bad)


@pytest.mark.parametrize("where", SEEDS)
def test_a_numpy_integer_is_a_seed_like_the_int_it_holds(where):
    import numpy as np

    SEEDS[where](np.int64(3))  # a seed from np.arange or np.random.randint: no error
    SEEDS[where](2**32 - 1)


def test_a_numpy_seed_gives_what_the_int_gives():
    import numpy as np

    a = cu.load_dataset("moons", train_size=16, val_size=8, seed=np.int64(3))
    b = cu.load_dataset("moons", train_size=16, val_size=8, seed=3)
    assert torch.equal(a.X_train, b.X_train)


def test_number_checks_share_their_wording():
    with pytest.raises(ValueError, match=r"^lr must be a finite number, got nan$"):
        cu.fit(NET, moons(), epochs=1, lr=float("nan"), progress=False)
    with pytest.raises(TypeError, match=r"^noise must be a number, got str"):
        cu.load_dataset("moons", noise="0.1")


@pytest.mark.parametrize(("name", "call"), [
    ("training", lambda: cu.dropout_layer(torch.ones(4), 0.5, training="False")),
    ("keep_samples", lambda: cu.mc_predict(NET, X2, keep_samples="False")),
    ("rescale", lambda: cu.mask_images(torch.rand(1, 4, 4), 0.5, rescale="no")),
    ("progress", lambda: cu.fit(NET, moons(), epochs=1, lr=0.1, progress="no")),
])
def test_a_string_is_never_taken_for_a_boolean(name, call):
    # "False" is a true value in Python: accepting it would silently do the opposite.
    with pytest.raises(TypeError, match=rf"^{name} must be True or False, got str"):
        call()


@pytest.mark.parametrize(("device", "error", "message"), [
    ("gpu", ValueError, r"device='gpu' is not a device name; use cpu, cuda, cuda:N or mps"),
    (0.5, TypeError, r"device must be a device name"),
])
def test_fit_names_a_bad_device(device, error, message):
    with pytest.raises(error, match=message):
        cu.fit(NET, moons(), epochs=1, lr=0.1, device=device, progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_fit_says_when_cuda_is_missing():
    with pytest.raises(ValueError, match=r"device='cuda' but CUDA is not available here"):
        cu.fit(NET, moons(), epochs=1, lr=0.1, device="cuda", progress=False)


def test_fit_stops_a_run_that_blows_up_and_blames_data_not_lr_for_nan():
    with pytest.raises(FloatingPointError, match="lr=1000000.0 is probably too high"):
        cu.fit(nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 2)), moons(), epochs=5,
               lr=1e6, seed=0, progress=False)
    data = moons()
    data.X_val[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"data.X_val contains NaN or inf values"):
        cu.fit(NET, data, epochs=1, lr=0.1, progress=False)


def test_fit_explains_inputs_the_model_cannot_take():
    images_net = cu.mlp(784, [16], 2)
    with pytest.raises(ValueError, match=r"the model cannot take these inputs, shape \(2,\)"):
        cu.fit(images_net, moons(), epochs=1, lr=0.1, progress=False)
    with pytest.raises(TypeError, match=r"data.X_train is torch.float32 but the model's "
                                        r"parameters are torch.float64"):
        cu.fit(cu.mlp(2, [4], 2).double(), moons(), epochs=1, lr=0.1, progress=False)
    data = moons()
    data.X_train[3, 1] = float("inf")
    with pytest.raises(ValueError, match=r"data.X_train contains NaN or inf values"):
        cu.fit(NET, data, epochs=1, lr=0.1, progress=False)


_X4, _Y4 = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
_MOONS = cu.load_dataset("moons", train_size=40, val_size=20)


@pytest.mark.parametrize(("X", "y", "error", "message"), [
    (torch.zeros(4, 3), _Y4, ValueError,
     r"the model cannot take these inputs, shape \(3,\) per example: mat1 and mat2"),
    (_X4.double(), _Y4, TypeError,
     r"X is torch.float64 but the model's parameters are torch.float32: convert one"),
    (_X4, _Y4.float(), TypeError,
     r"y must hold one class index per example, a 1-D torch.long tensor; got shape \(4,\) "
     r"and dtype torch.float32 \(convert with .long\(\)"),
    (_X4, torch.eye(2)[_Y4], TypeError, r"got shape \(4, 2\).*or .argmax\(1\) for one-hot"),
    (_X4, torch.tensor([0, 1, 2, 1]), ValueError,
     r"y holds labels from 0 to 2, but the model has 2 outputs: labels must be in 0..1"),
    (_X4, torch.tensor([0, -1, 0, 1]), ValueError, r"y holds labels from -1 to 1"),
    (torch.full((4, 2), float("nan")), _Y4, ValueError, r"X contains NaN or inf values"),
    (_X4, _Y4[:3], ValueError, r"X and y differ in length: 4 inputs but 3 labels"),
    (_X4[:0], _Y4[:0], ValueError, r"y is empty"),
    (_X4.numpy(), _Y4, TypeError, r"X must be a torch.Tensor, got ndarray"),
], ids=["input-size", "float64", "float-labels", "one-hot", "label-too-big", "negative-label",
        "nan", "lengths", "empty", "numpy"])
def test_evaluate_checks_its_inputs_like_fit(X, y, error, message):
    with pytest.raises(error, match=message):
        cu.evaluate(nn.Linear(2, 2), X, y)


def test_mlp_refuses_an_int_for_hidden_and_a_layer_for_dropout_module():
    with pytest.raises(TypeError, match=r"hidden must be a list of layer widths such as \[256, "
                                        r"256\] \(\[\] for none\), got int 8"):
        cu.mlp(2, 8, 2)
    with pytest.raises(TypeError, match=r"pass the class nn.Dropout itself, not an instance "
                                        r"nn.Dropout\(0.5\)"):
        cu.mlp(2, [8], 2, dropout=0.5, dropout_module=nn.Dropout(0.5))


def test_mlp_refuses_an_activation_instance_with_the_same_words():
    # nn.ReLU() used to reach the loop and fail as "ReLU.forward() missing 1 required argument".
    with pytest.raises(TypeError, match=r"activation must build a layer from no argument, such "
                                        r"as nn.ReLU, got the layer ReLU\(\): pass the class "
                                        r"nn.ReLU itself, not an instance nn.ReLU\(\)"):
        cu.mlp(2, [8], 2, activation=nn.ReLU())


def test_small_cnn_refuses_a_layer_instance_with_the_same_words_as_mlp():
    with pytest.raises(TypeError, match=r"dropout must build a layer from a rate, such as "
                                        r"nn.Dropout2d.*pass the class nn.Dropout2d itself, not "
                                        r"an instance"):
        cu.small_cnn(10, dropout=nn.Dropout2d(0.2), p=0.2)
    with pytest.raises(TypeError, match="dropout must be a class or function taking a rate"):
        cu.small_cnn(10, dropout="Dropout2d", p=0.2)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(channels=(8,)), ValueError, r"channels must be two positive ints"),
    (dict(channels=8), TypeError, r"channels must be two positive ints"),
    (dict(channels=(8, 0)), ValueError, r"channels must be two positive ints"),
    (dict(dropout=nn.Dropout2d, p=1.5), ValueError, r"p is the drop probability"),
    (dict(p=1.5), ValueError, r"p is the drop probability"),
], ids=["one-channel", "int", "zero", "p-out-of-range", "p-out-of-range-without-dropout"])
def test_small_cnn_checks_channels_and_p(kwargs, error, message):
    with pytest.raises(error, match=message):
        cu.small_cnn(10, **kwargs)


@pytest.mark.parametrize("shape, error", [((3, -1), ValueError), ((3, 2.0), TypeError),
                                          (3.0, TypeError)], ids=["negative", "float", "scalar"])
def test_bernoulli_mask_names_a_bad_shape(shape, error):
    with pytest.raises(error, match=r"bernoulli_mask needs a tensor or a shape of non-negative "
                                    r"ints such as \(2, 8\)"):
        cu.bernoulli_mask(shape, 0.5)


@pytest.mark.parametrize("call", [
    lambda: cu.bernoulli_mask((3,), 0.5, generator=0),
    lambda: cu.dropout_layer(torch.ones(3), 0.5, generator=0),
    lambda: cu.drop_path(torch.ones(3, 2), 0.5, generator=0),
], ids=["bernoulli_mask", "dropout_layer", "drop_path"])
def test_a_seed_given_as_generator_gets_the_same_message_everywhere(call):
    with pytest.raises(TypeError, match=r"generator must be a torch.Generator or None, got int 0; "
                                        r"to seed one, pass torch.Generator\(\).manual_seed"):
        call()


@pytest.mark.parametrize("call", [
    lambda device: cu.fit(cu.mlp(2, [4], 2), _MOONS, epochs=1, lr=0.1, device=device),
    lambda device: cu.load_dataset("moons", train_size=20, val_size=10, device=device),
    lambda device: cu.bernoulli_mask((3,), 0.5, device=device),
    lambda device: cu.DropConnectLinear(3, 2, device=device),
    lambda device: _MOONS.to(device),
], ids=["fit", "load_dataset", "bernoulli_mask", "DropConnectLinear", "Dataset.to"])
def test_a_wrong_device_name_gets_the_same_message_everywhere(call):
    with pytest.raises(ValueError, match=r"device='gpu' is not a device name; use cpu, cuda, "
                                         r"cuda:N or mps"):
        call("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device='cuda' but CUDA is not available here"):
            call("cuda")
    call("CPU")  # a capitalised name is still the CPU
