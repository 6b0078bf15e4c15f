"""fit's faster CPU masks for nn.Dropout (course_utils/_cpu_dropout.py): the same layer, the same
distribution, the same gradient, and nothing left behind."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import _cpu_dropout, check_dropout_layer, fit, load_dataset, mlp, set_seed
from course_utils._cpu_dropout import course_masks, torch_masks_are_fast
from course_utils.training import DROPOUT_MASKS


@pytest.fixture(autouse=True)
def slow_torch_masks(monkeypatch):
    """Test the course's masks on every CPU: on an Intel CPU, course_masks leaves PyTorch's
    MKL masks in place, and only the last test here is about that."""
    monkeypatch.setattr(_cpu_dropout, "torch_masks_are_fast", lambda: False)


def through_nn_dropout(X, p, training=True):
    """An nn.Dropout layer inside course_masks, as a function the dropout checker can test."""
    layer = nn.Dropout(p).train(training)
    with course_masks(layer):
        return layer(X)


def test_the_dropout_checker_passes_nn_dropout_with_course_masks():
    check_dropout_layer(through_nn_dropout)  # raises AssertionError on any failed property


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_rate_and_mean_match_torch_over_a_million_entries(p):
    X = torch.ones(1000, 1000)
    torch.manual_seed(0)
    out = through_nn_dropout(X, p)
    kept = (out != 0).double().mean().item()
    # 1e6 Bernoulli draws: the kept fraction's standard deviation is below 5e-4.
    assert abs(kept - (1 - p)) < 3e-3
    assert torch.allclose(out[out != 0], torch.full((), 1 / (1 - p)))
    assert abs(out.double().mean().item() - 1.0) < 0.02


def test_gradient_is_the_mask_scaled_like_torch():
    X = torch.randn(64, 32, requires_grad=True)
    out = through_nn_dropout(X, 0.3)
    out.sum().backward()
    expected = (out.detach() != 0).float() / 0.7
    assert torch.equal(X.grad, expected)


def test_eval_mode_p0_p1_inplace_and_other_layers_keep_torchs_own_path():
    X = torch.randn(8, 16)
    assert torch.equal(through_nn_dropout(X, 0.5, training=False), X)
    assert torch.equal(through_nn_dropout(X, 0.0), X)
    assert torch.equal(through_nn_dropout(X, 1.0), torch.zeros_like(X))
    inplace = nn.Dropout(0.5, inplace=True)
    with course_masks(inplace):
        Y = X.clone()
        out = inplace(Y)
    assert out is Y or out.data_ptr() == Y.data_ptr(), "inplace=True still writes into its input"


def test_only_plain_nn_dropout_changes_and_everything_is_restored():
    class Custom(nn.Dropout):
        def forward(self, X):
            return X * 2  # a subclass may compute anything: leave it alone

    plain, custom, two_d = nn.Dropout(0.5), Custom(0.5), nn.Dropout2d(0.5)
    net = nn.Sequential(nn.Linear(4, 4), plain, custom, two_d)
    with course_masks(net):
        assert "forward" in vars(plain)
        assert "forward" not in vars(custom) and "forward" not in vars(two_d)
    assert all("forward" not in vars(m) for m in net.modules())
    with pytest.raises(RuntimeError), course_masks(net):
        raise RuntimeError("a cell interrupted mid-epoch")
    assert "forward" not in vars(plain) and type(plain) is nn.Dropout


def test_disabled_changes_nothing():
    layer = nn.Dropout(0.5)
    with course_masks(layer, enabled=False):
        assert "forward" not in vars(layer)


def test_a_layer_given_its_own_forward_is_left_alone():
    layer = nn.Dropout(0.5)
    layer.forward = lambda X: X + 1
    with course_masks(layer):
        assert torch.equal(layer(torch.zeros(2)), torch.ones(2))
    assert torch.equal(layer(torch.zeros(2)), torch.ones(2)), "the student's own forward stays"


def test_half_precision_draws_float32_uniforms():
    torch.manual_seed(0)
    out = through_nn_dropout(torch.ones(200_000, dtype=torch.bfloat16), 0.3)
    assert out.dtype == torch.bfloat16
    assert abs((out != 0).float().mean().item() - 0.7) < 0.01


@pytest.fixture
def moons():
    return load_dataset("moons", train_size=256, val_size=64, seed=0)


@pytest.mark.parametrize("masks", DROPOUT_MASKS)
def test_fit_with_either_masks_repeats_and_leaves_the_layers_as_they_were(moons, masks):
    def run():
        set_seed(1)
        model = mlp(moons.input_shape, [32, 32], moons.num_classes, dropout=0.5)
        history = fit(model, moons, epochs=3, lr=0.1, seed=0, progress=False,
                      dropout_masks=masks)
        assert all(type(m) is not nn.Dropout or "forward" not in vars(m)
                   for m in model.modules())
        return history

    assert run() == run()


def test_torch_masks_are_pytorchs_own_draws(moons):
    """dropout_masks="torch" trains exactly as before: with nn.Dropout's bernoulli_ masks, so a
    run matches one whose layers call F.dropout themselves; "fast" draws other numbers."""
    class OwnDropout(nn.Module):  # not nn.Dropout, so course_masks never touches it
        def __init__(self, p):
            super().__init__()
            self.p = p

        def forward(self, X):
            return F.dropout(X, self.p, self.training)

    def run(masks, layer):
        set_seed(1)
        model = mlp(moons.input_shape, [32], moons.num_classes, dropout=0.5,
                    dropout_module=layer)
        return fit(model, moons, epochs=2, lr=0.1, seed=0, progress=False, dropout_masks=masks)

    torch_run = run("torch", nn.Dropout)
    assert torch_run == run("fast", OwnDropout)
    assert torch_run != run("fast", nn.Dropout)


def test_fit_refuses_an_unknown_mask_source(moons):
    with pytest.raises(ValueError, match="dropout_masks"):
        fit(mlp(2, [8], 2), moons, epochs=1, lr=0.1, dropout_masks="bernoulli")


def test_mc_predict_draws_course_masks_and_leaves_the_layers_as_they_were():
    from course_utils import mc_predict

    net = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 3))
    X = torch.randn(16, 8)
    torch.manual_seed(0)
    pred = mc_predict(net, X, T=400)
    assert "forward" not in vars(net[2]) and net[2].training
    # The mean over 400 passes agrees with PyTorch's own masks up to Monte Carlo noise.
    torch.manual_seed(1)
    with torch.no_grad():
        net.eval()
        net[2].train()
        own = torch.stack([net(X).softmax(-1) for _ in range(400)])
    noise = ((pred.variance + own.var(0, correction=0)) / 400).sqrt()
    assert ((pred.mean - own.mean(0)).abs() <= 5 * noise + 1e-3).all()


def test_where_torch_has_fast_masks_nothing_changes(monkeypatch):
    monkeypatch.setattr(_cpu_dropout, "torch_masks_are_fast", lambda: True)
    layer = nn.Dropout(0.5)
    with course_masks(layer):
        assert "forward" not in vars(layer)


def test_the_vendor_check_answers_a_bool():
    torch_masks_are_fast.cache_clear()  # the real check, not the fixture's stand-in
    assert isinstance(torch_masks_are_fast(), bool)
