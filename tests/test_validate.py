"""The same mistake gets the same error everywhere: a wrong kind raises TypeError, a wrong value
ValueError, both with one wording (``course_utils._validate``)."""

import re

import numpy as np
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


# --- the second audit's classes (issue 28) --------------------------------------------------

@pytest.mark.parametrize("given", [
    np.float32(0.5), np.float64(0.5), np.float16(0.5), torch.tensor(0.5), torch.tensor([0.5]),
], ids=repr)
def test_numpy_scalars_and_one_element_tensors_are_numbers_everywhere(given):
    X = torch.ones(1000)
    out = cu.dropout_layer(X, given, generator=torch.Generator().manual_seed(0))
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert cu.DropPath(given).p == 0.5 and cu.Dropout(given).p == 0.5
    assert [m.p for m in cu.mlp(2, [4, 4], 2, dropout=given) if isinstance(m, nn.Dropout)] \
        == [0.5, 0.5]
    data = cu.load_dataset("moons", train_size=100, val_size=20, label_noise=given / 5)
    assert data.X_train.shape == (100, 2)


@pytest.mark.parametrize("given", [np.int64(3), np.int32(3), torch.tensor(3)], ids=repr)
def test_numpy_and_tensor_integers_are_ints_everywhere(given):
    history = cu.fit(NET, moons(), epochs=given, lr=0.1, batch_size=given, progress=False)
    assert history.epochs == 3
    assert cu.mc_predict(NET, X2, T=given, keep_samples=True).samples.shape[0] == 3


@pytest.mark.parametrize("given, error, words", [
    (torch.tensor(0.5, requires_grad=True), TypeError, "p must be a number in [0, 1], got Tensor"),
    (torch.tensor([0.5, 0.5]), TypeError, "p must be a number in [0, 1], got Tensor"),
    (np.bool_(True), TypeError, "p must be a number in [0, 1], got bool"),
    (np.float32(1.5), ValueError, "must be in [0, 1], got 1.5"),
], ids=lambda v: repr(v)[:20])
def test_a_number_of_the_wrong_kind_is_refused_the_same_way_everywhere(given, error, words):
    for call in (lambda: cu.dropout_layer(torch.ones(3), given), lambda: cu.DropPath(given),
                 lambda: cu.drop_path(torch.ones(3, 2), given)):
        with pytest.raises(error) as info:
            call()
        assert words in str(info.value)


@pytest.mark.parametrize("dropout, error, words", [
    (torch.tensor(1.0), ValueError, "dropout must be in [0, 1), got 1.0"),
    ("0.5", TypeError, "dropout must be a number in [0, 1), got str '0.5'"),
    ([0.5, "x"], TypeError, "dropout must be a number in [0, 1), got str 'x'"),
])
def test_mlp_dropout_of_every_kind_gets_one_message(dropout, error, words):
    with pytest.raises(error) as info:
        cu.mlp(2, [4, 4], 2, dropout=dropout)
    assert words in str(info.value)


@pytest.mark.parametrize("generator", [42, np.int64(42), "42", torch.tensor(42)],
                         ids=lambda v: repr(v)[:20])
def test_batches_names_a_seed_given_as_generator(generator):
    with pytest.raises(TypeError, match=r"generator must be a torch.Generator or None.*"
                                        r"torch.Generator\(\)\.manual_seed\(seed\)"):
        next(cu.batches(X2, y2, 4, shuffle=True, generator=generator))


@pytest.mark.parametrize("model, words", [
    (nn.Sequential(nn.ReLU(), nn.Dropout(0.5)), "it has no parameters"),
    (nn.Sequential(nn.Flatten()), "it has no parameters"),
    (nn.Linear(2, 2).requires_grad_(False), "every parameter is frozen"),
    (nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)).requires_grad_(False),
     "every parameter is frozen"),
])
def test_fit_says_when_the_model_has_nothing_to_train(model, words):
    with pytest.raises(ValueError, match="fit has nothing to train in this model") as info:
        cu.fit(model, moons(), epochs=1, lr=0.1, progress=False)
    assert words in str(info.value)


def test_fit_trains_what_is_not_frozen():
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    net[0].requires_grad_(False)
    frozen = net[0].weight.detach().clone()
    cu.fit(net, moons(), epochs=1, lr=0.1, progress=False)
    assert torch.equal(net[0].weight, frozen)


@pytest.mark.parametrize("train_size, noise", [(50, 0.005), (100, 0.004), (20, 0.01)])
def test_label_noise_that_rounds_to_nothing_warns(train_size, noise):
    with pytest.warns(UserWarning, match=f"of {train_size} training labels rounds to 0"):
        cu.load_dataset("moons", train_size=train_size, val_size=10, label_noise=noise)


@pytest.mark.parametrize("noise", [0.6, 0.75, 0.9])
def test_label_noise_that_inverts_two_classes_warns(noise):
    with pytest.warns(UserWarning, match="the labels are inverted, not noisy"):
        cu.load_dataset("moons", train_size=100, val_size=10, label_noise=noise)


@pytest.mark.parametrize("noise", [0.3, 0.5])  # 0.5: chapter 01's coin-flip labels
def test_label_noise_up_to_pure_chance_is_quiet(noise):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cu.load_dataset("moons", train_size=100, val_size=10, label_noise=noise)


@pytest.mark.parametrize("model", [
    nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.0), nn.Linear(4, 2)),
    nn.Sequential(nn.Linear(2, 4), cu.Dropout(0.0), nn.Dropout(0.0), nn.Linear(4, 2)),
    nn.Sequential(cu.DropConnectLinear(2, 2, 0.0)),
], ids=["nn.Dropout", "two layers", "DropConnectLinear"])
def test_mc_predict_warns_when_every_dropout_rate_is_zero(model):
    with pytest.warns(UserWarning, match="every dropout layer of the model has p=0"):
        cu.mc_predict(model, X2, T=3)


@pytest.mark.parametrize("x, error, words", [
    (torch.ones(2, 5), ValueError, "expected inputs with 4 features in the last dimension, got shape (2, 5)"),
    (torch.ones(2, 4, dtype=torch.float64), TypeError, "x is torch.float64 but the layer's weight is torch.float32"),
    (torch.ones(2, 4, dtype=torch.long), TypeError, "x must be a floating-point tensor"),
    ([[1.0] * 4], TypeError, "x must be a torch.Tensor, got list"),
], ids=["width", "float64", "long", "list"])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("per_example", [False, True])
def test_dropconnect_linear_names_inputs_it_cannot_take(x, error, words, train, per_example):
    layer = cu.DropConnectLinear(4, 3, 0.5, per_example=per_example).train(train)
    with pytest.raises(error) as info:
        layer(x)
    assert words in str(info.value)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(model=nn.Linear(2, 1)), ValueError, "outputs of shape (1,) per point"),
    (dict(model=nn.Sequential(nn.Linear(2, 2), nn.Flatten(0))), ValueError, "outputs of shape"),
    (dict(margin=-5), ValueError, "margin must be >= 0.0, got -5.0"),
    (dict(margin="0.5"), TypeError, "margin must be a number, got str '0.5'"),
    (dict(X=torch.zeros(0, 2), y=torch.zeros(0, dtype=torch.long)), ValueError, "X is empty"),
    (dict(X="points"), TypeError, "X must be a torch.Tensor, got str"),
], ids=["one logit", "flat output", "negative margin", "string margin", "empty", "string X"])
def test_plot_decision_boundary_names_what_it_cannot_draw(kwargs, error, words):
    args = dict(model=nn.Linear(2, 2), X=X2, y=y2) | kwargs
    with pytest.raises(error) as info:
        cu.plot_decision_boundary(args.pop("model"), args.pop("X"), args.pop("y"), **args)
    assert words in str(info.value)


@pytest.mark.parametrize("max_images, error, words", [
    (2.5, TypeError, "max_images must be a positive int, got float 2.5"),
    (0, ValueError, "max_images must be a positive int, got 0"),
    ("4", TypeError, "max_images must be a positive int, got str '4'"),
])
def test_mask_explorer_names_a_bad_max_images(max_images, error, words):
    pytest.importorskip("ipywidgets")
    with pytest.raises(error) as info:
        cu.mask_explorer(torch.rand(4, 1, 8, 8), max_images=max_images)
    assert words in str(info.value)
