import json

import pytest
import torch
from torch import nn

from course_utils import History, batches, evaluate, fit, load_dataset, mlp, set_seed


@pytest.fixture
def moons():
    return load_dataset("moons", train_size=64, val_size=64, seed=0)


def small_model(data, dropout=0.0):
    return mlp(data.input_shape, [16], data.num_classes, dropout=dropout)


# --- batches ---------------------------------------------------------------------------------


def test_batches_cover_every_example_once():
    X, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    seen = torch.cat([yb for _, yb in batches(X, y, 3, shuffle=True, generator=torch.Generator())])
    assert sorted(seen.tolist()) == list(range(10))
    assert [len(yb) for _, yb in batches(X, y, 3, shuffle=False)] == [3, 3, 3, 1]


def test_batches_keep_inputs_and_labels_together():
    X, y = torch.arange(20.0).unsqueeze(1), torch.arange(20)
    for xb, yb in batches(X, y, 7, shuffle=True, generator=torch.Generator().manual_seed(1)):
        assert torch.equal(xb.squeeze(1).long(), yb)


def test_batches_order_follows_the_generator():
    X, y = torch.zeros(50, 1), torch.arange(50)
    order = lambda s: torch.cat([yb for _, yb in batches(  # noqa: E731
        X, y, 8, shuffle=True, generator=torch.Generator().manual_seed(s))])
    assert torch.equal(order(4), order(4))
    assert not torch.equal(order(4), order(5))


@pytest.mark.parametrize("kwargs, error", [
    ({"batch_size": 0}, ValueError), ({"batch_size": 2.0}, TypeError),
    ({"shuffle": "yes"}, TypeError),
])
def test_batches_bad_arguments(kwargs, error):
    args = {"batch_size": 2, "shuffle": False, **kwargs}
    with pytest.raises(error):
        list(batches(torch.zeros(4, 1), torch.zeros(4), args.pop("batch_size"), **args))


def test_batches_length_mismatch():
    with pytest.raises(ValueError, match="4 inputs but 3 labels"):
        list(batches(torch.zeros(4, 1), torch.zeros(3), 2, shuffle=False))


# --- fit -------------------------------------------------------------------------------------


def test_fit_records_every_epoch(moons):
    history = fit(small_model(moons), moons, epochs=4, lr=0.1, seed=0)
    assert history.epochs == 4
    for values in (history.train_loss, history.train_acc, history.val_loss, history.val_acc,
                   history.seconds):
        assert len(values) == 4 and all(isinstance(v, float) for v in values)
    assert all(0.0 <= a <= 1.0 for a in history.train_acc + history.val_acc)
    assert all(s > 0 for s in history.seconds)


def test_fit_learns(moons):
    set_seed(0)
    history = fit(small_model(moons), moons, epochs=60, lr=0.01, optimizer="adam", seed=0)
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 0.8


def test_same_seed_same_history_even_with_dropout(moons):
    def run():
        set_seed(7)
        return fit(small_model(moons, dropout=0.5), moons, epochs=5, lr=0.1, seed=3)

    first, second = run(), run()
    assert first == second
    assert first.seconds != [] and first.seconds is not second.seconds


def test_set_seed_alone_makes_fit_repeatable(moons):
    def run():
        set_seed(11)
        return fit(small_model(moons, dropout=0.3), moons, epochs=3, lr=0.1)

    assert run() == run()


def test_seed_fixes_the_data_order_independently_of_dropout(moons, monkeypatch):
    """The controlled comparison: with and without dropout, the same batches in the same order."""
    seen = {}

    def recording_batches(name):
        def wrapper(X, y, batch_size, *, shuffle, generator=None):
            for xb, yb in original(X, y, batch_size, shuffle=shuffle, generator=generator):
                if shuffle:
                    seen.setdefault(name, []).append(yb.clone())
                yield xb, yb
        return wrapper

    import course_utils.training as training

    original = training.batches
    for name, dropout in [("plain", 0.0), ("dropout", 0.5)]:
        monkeypatch.setattr(training, "batches", recording_batches(name))
        fit(small_model(moons, dropout), moons, epochs=2, lr=0.1, seed=1)
    assert len(seen["plain"]) == len(seen["dropout"])
    assert all(torch.equal(a, b) for a, b in zip(seen["plain"], seen["dropout"], strict=True))


class ModeRecorder(nn.Module):
    """A tiny model that remembers whether each forward pass ran in training mode."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.modes = []

    def forward(self, x):
        if torch.is_grad_enabled():
            self.modes.append("train" if self.training else "eval-with-grad")
        else:
            self.modes.append("train-no-grad" if self.training else "eval")
        return self.linear(x)


def test_fit_trains_in_train_mode_and_measures_in_eval_mode(moons):
    model = ModeRecorder()
    fit(model, moons, epochs=2, lr=0.1, batch_size=16, seed=0)
    assert set(model.modes) == {"train", "eval"}
    assert model.modes.count("train") == 2 * 4  # 64 examples / 16 per batch, two epochs


@pytest.mark.parametrize("start_in_train_mode", [True, False])
def test_fit_and_evaluate_give_the_model_back_in_its_mode(moons, start_in_train_mode):
    model = small_model(moons, dropout=0.5).train(start_in_train_mode)
    fit(model, moons, epochs=1, lr=0.1, seed=0)
    assert model.training is start_in_train_mode
    evaluate(model, moons.X_val, moons.y_val)
    assert model.training is start_in_train_mode


def test_running_train_metrics(moons):
    set_seed(0)
    running = fit(small_model(moons, 0.5), moons, epochs=3, lr=0.1, seed=0, train_metrics="running")
    assert running.epochs == 3 and all(0 <= a <= 1 for a in running.train_acc)


def test_fit_accepts_each_optimizer(moons):
    for name in ("sgd", "adam", "adamw", "SGD"):
        fit(small_model(moons), moons, epochs=1, lr=0.01, seed=0, optimizer=name)
    fit(small_model(moons), moons, epochs=1, lr=0.01, seed=0, momentum=0.9, weight_decay=1e-4)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": 0}, ValueError, "epochs must be a positive int"),
    ({"epochs": 2.5}, TypeError, "epochs must be a positive int, got float 2.5"),
    ({"batch_size": "64"}, TypeError, "batch_size must be a positive int, got str '64'"),
    ({"lr": 0}, ValueError, "lr must be > 0"),
    ({"lr": float("nan")}, ValueError, "lr must be a finite number"),
    ({"lr": "0.1"}, TypeError, "lr must be a number"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"optimizer": "rmsprop"}, ValueError, "one of .sgd., .adam., .adamw."),
    ({"optimizer": "adam", "momentum": 0.9}, ValueError, "momentum applies to 'sgd' only"),
    ({"momentum": 1.0}, ValueError, "momentum must be < 1"),
    ({"weight_decay": -1}, ValueError, "weight_decay"),
    ({"train_metrics": "both"}, ValueError, "train_metrics"),
    ({"seed": "1"}, TypeError, "seed"),
])
def test_fit_bad_arguments(moons, kwargs, error, message):
    args = {"epochs": 1, "lr": 0.1, **kwargs}
    with pytest.raises(error, match=message):
        fit(small_model(moons), moons, **args)


@pytest.mark.parametrize("values, finite", [
    ([1.0, 3e38, 3e38], True),  # the float32 sum overflows: the exact check decides
    ([1.0, float("nan")], False),
    ([float("inf"), 2.0], False),
    ([float("inf"), float("-inf")], False),  # the sum is NaN
    ([], True),
])
def test_all_finite(values, finite):
    from course_utils.training import all_finite
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        if dtype == torch.float16 and values and max(abs(v) for v in values) > 6e4 and finite:
            continue  # 3e38 is not a float16
        assert all_finite(torch.tensor(values, dtype=dtype)) is finite, (values, dtype)


def test_adam_uses_the_fused_kernel_where_this_torch_has_one(moons):
    from course_utils.training import _make_optimizer
    params = [nn.Parameter(torch.zeros(3))]
    for name in ("adam", "adamw"):
        opt = _make_optimizer(name, params, 0.1, 0.0, 0.0)
        try:
            type(opt)([nn.Parameter(torch.zeros(1))], fused=True)
            supported = True
        except RuntimeError:
            supported = False
        assert bool(opt.defaults.get("fused")) is supported
        params[0].grad = torch.ones(3)
        opt.step()
        assert torch.all(params[0] < 0), "one Adam step moves every weight against its gradient"
        params[0].data.zero_()


def test_fit_wrong_number_of_outputs(moons):
    model = mlp(2, [8], 10)  # ten outputs for a two-class dataset
    with pytest.raises(ValueError, match="2 classes: the last layer needs 2 outputs"):
        fit(model, moons, epochs=1, lr=0.1)


def test_fit_wrong_types(moons):
    with pytest.raises(TypeError, match="torch.nn.Module"):
        fit(lambda x: x, moons, epochs=1, lr=0.1)
    with pytest.raises(TypeError, match="course_utils.Dataset"):
        fit(small_model(moons), (moons.X_train, moons.y_train), epochs=1, lr=0.1)


def test_fit_diverging_learning_rate_is_reported(moons):
    model = small_model(moons)
    with torch.no_grad():
        model[1].weight.fill_(1e30)
    with pytest.raises(FloatingPointError, match="learning rate"):
        fit(model, moons, epochs=2, lr=1e10, seed=0)


def test_fit_progress_bar_respects_course_progress(moons, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROGRESS", "1")
    fit(small_model(moons), moons, epochs=2, lr=0.1, seed=0)
    assert "epochs" in capsys.readouterr().err
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    fit(small_model(moons), moons, epochs=2, lr=0.1, seed=0)
    assert capsys.readouterr().err == ""
    fit(small_model(moons), moons, epochs=2, lr=0.1, seed=0, progress=True)
    assert "epochs" in capsys.readouterr().err


# --- evaluate and History --------------------------------------------------------------------


def test_evaluate_computes_loss_and_accuracy():
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))  # predicts the larger coordinate
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 1, 1])
    loss, acc = evaluate(model, X, y, batch_size=3)
    assert acc == 0.75
    expected = torch.nn.functional.cross_entropy(model(X), y).item()
    assert loss == pytest.approx(expected)


def test_evaluate_empty_set_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        evaluate(nn.Linear(2, 2), torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))


def test_history_json_round_trip(moons, tmp_path):
    history = fit(small_model(moons), moons, epochs=3, lr=0.1, seed=0)
    restored = History.from_json(history.to_json())
    assert restored == history and restored.seconds == history.seconds
    path = tmp_path / "history.json"
    path.write_text(history.to_json())
    assert History.from_json(path.read_text()) == history


def _history_json(**changes):
    values = dict(train_loss=[1.0, 0.5], train_acc=[0.6, 0.8], val_loss=[1.1, 0.9],
                  val_acc=[0.5, 0.7], seconds=[0.1, 0.1])
    values.update(changes)
    return json.dumps(values)


@pytest.mark.parametrize(("text", "error", "message"), [
    ('{"train_loss": [1.0]}', ValueError, r"not a History: expected a JSON object with keys "
                                          r"\['train_loss', .*got \['train_loss'\]"),
    ("[1, 2]", ValueError, r"expected a JSON object .* got list"),
    ("{not json", ValueError, r"not a History: the text is not valid JSON"),
    (_history_json(val_acc=["0.5", "0.7"]), ValueError,
     r'val_acc must be a list of numbers, got \["0.5", "0.7"\]'),
    (_history_json(train_acc=0.8), ValueError, r"train_acc must be a list of numbers, got 0.8"),
    (_history_json(seconds=[True, False]), ValueError, r"seconds must be a list of numbers"),
    (_history_json(val_loss=[1.1]), ValueError,
     r"one entry per epoch in every list, got lengths \{'train_loss': 2, .*'val_loss': 1"),
    ({"train_loss": [1.0]}, TypeError, r"History.from_json needs the JSON text \(a str\), "
                                       r"got dict"),
], ids=["keys", "list", "not-json", "strings", "scalar", "bools", "ragged", "dict"])
def test_history_from_bad_json(text, error, message):
    with pytest.raises(error, match=message):
        History.from_json(text)


def test_a_ragged_history_is_refused_when_it_is_made():
    with pytest.raises(ValueError, match="one entry per epoch in every list"):
        History([1.0, 0.5], [0.9], [1.2], [0.7], [0.5])


@pytest.mark.parametrize("column, value, error, message", [
    ("train_loss", [float("nan")], ValueError, r"History.train_loss must hold finite numbers "
                                               r">= 0, got nan in epoch 1"),
    ("val_loss", [float("inf")], ValueError, r"History.val_loss must hold finite numbers"),
    ("train_acc", [1.5], ValueError, r"History.train_acc must hold accuracies in \[0, 1\], got "
                                     r"1.5 in epoch 1"),
    ("val_acc", ["0.7"], ValueError, r"History.val_acc must hold accuracies in \[0, 1\]"),
    ("seconds", [-1.0], ValueError, r"History.seconds must hold finite numbers >= 0"),
    ("train_loss", (1.0,), TypeError, r"History.train_loss must be a list of numbers, got tuple"),
], ids=["nan-loss", "inf-loss", "accuracy-above-1", "string", "negative-time", "tuple"])
def test_a_hand_built_history_with_impossible_values_is_refused(column, value, error, message):
    # A percentage for an accuracy, or a NaN loss, would otherwise reach a plot as a wrong line.
    columns = dict(train_loss=[1.0], train_acc=[0.5], val_loss=[1.0], val_acc=[0.5],
                   seconds=[0.1])
    columns[column] = value
    with pytest.raises(error, match=message):
        History(**columns)


def test_history_gap_and_repr():
    h = History([1.0], [0.9], [1.2], [0.7], [0.5])
    assert h.gap == [pytest.approx(0.2)]
    assert "1 epochs" in repr(h) and "val_acc=0.700" in repr(h)
    assert repr(History()) == "History(0 epochs)"
