"""mc_predict: only the dropout layers are switched on, and every module's mode comes back."""

import math

import pytest
import torch
from torch import nn

from course_utils import DropConnectLinear, Dropout, MCPrediction, mc_predict


def net_with_batchnorm(p=0.5):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(p), nn.Linear(32, 4)
    )


def warmed_up(model):
    # Give BatchNorm running statistics that differ from a fresh batch's own statistics.
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model(torch.randn(64, 6) * 3 + 1)
    return model


@pytest.mark.filterwarnings("ignore:every dropout layer of the model has p=0")
def test_batchnorm_stays_in_eval_and_is_not_updated():
    model = warmed_up(net_with_batchnorm(p=0.0))  # p=0: every pass is the eval-mode network
    bn = model[1]
    stats = (bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone())
    X = torch.randn(10, 6)
    pred = mc_predict(model, X, T=5, keep_samples=True)
    assert torch.equal(bn.running_mean, stats[0]) and torch.equal(bn.running_var, stats[1])
    assert torch.equal(bn.num_batches_tracked, stats[2])
    model.eval()
    expected = model(X).softmax(-1)
    assert torch.allclose(pred.mean, expected, atol=1e-6)  # BN used its running statistics
    assert torch.allclose(pred.variance, torch.zeros_like(pred.variance), atol=1e-10)


@pytest.mark.parametrize("start", ["train", "eval", "mixed"])
def test_modes_are_restored(start):
    model = net_with_batchnorm()
    if start == "eval":
        model.eval()
    elif start == "mixed":
        model.train()
        model[1].eval()
        model[3].eval()
    before = [m.training for m in model.modules()]
    mc_predict(model, torch.randn(8, 6), T=3)
    assert [m.training for m in model.modules()] == before


def test_modes_are_restored_when_a_pass_fails():
    model = net_with_batchnorm().eval()
    with pytest.raises(ValueError, match=r"the model cannot take these inputs, shape \(5,\) "
                                         r"per example: mat1 and mat2"):
        mc_predict(model, torch.randn(8, 5), T=3)  # wrong width: the first Linear raises
    assert not any(m.training for m in model.modules())


def test_dropout_is_on_during_the_passes():
    model = warmed_up(net_with_batchnorm(p=0.5)).eval()
    pred = mc_predict(model, torch.randn(20, 6), T=30, keep_samples=True)
    assert pred.samples.shape == (30, 20, 4)
    assert (pred.variance.sum(-1) > 0).all()
    assert torch.allclose(pred.mean, pred.samples.mean(0))
    assert torch.allclose(pred.mean.sum(-1), torch.ones(20))


def test_entropy_and_mutual_information():
    model = warmed_up(net_with_batchnorm()).eval()
    pred = mc_predict(model, torch.randn(50, 6), T=20, keep_samples=True)
    assert isinstance(pred, MCPrediction) and pred.T == 20
    assert (pred.entropy >= 0).all() and (pred.entropy <= math.log(4) + 1e-6).all()
    per_pass = -(pred.samples * pred.samples.log()).sum(-1).mean(0)
    assert torch.allclose(pred.mutual_information, (pred.entropy - per_pass).clamp_min(0), atol=1e-5)
    assert (pred.mutual_information >= 0).all()


def test_uniform_predictions_have_entropy_log_c():
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(3, 5))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.zero_()
    pred = mc_predict(model, torch.randn(4, 3), T=3)
    assert torch.allclose(pred.entropy, torch.full((4,), math.log(5)))
    assert torch.allclose(pred.mutual_information, torch.zeros(4), atol=1e-6)


def test_regression_averages_raw_outputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 64), nn.ReLU(), Dropout(0.3), nn.Linear(64, 1))
    X = torch.linspace(-2, 2, 40).unsqueeze(1)
    pred = mc_predict(model, X, T=50, task="regress", keep_samples=True)
    assert pred.mean.shape == (40, 1) and pred.variance.shape == (40, 1)
    assert pred.entropy is None and pred.mutual_information is None
    assert torch.allclose(pred.variance, pred.samples.var(0, correction=0), atol=1e-6)


@pytest.mark.filterwarnings("ignore:every dropout layer of the model has p=0")
def test_batching_does_not_change_a_deterministic_result():
    model = warmed_up(net_with_batchnorm(p=0.0))
    X = torch.randn(37, 6)
    whole = mc_predict(model, X, T=2, batch_size=1024)
    pieces = mc_predict(model, X, T=2, batch_size=5)
    assert torch.allclose(whole.mean, pieces.mean, atol=1e-6)


def test_dropconnect_layers_count_as_dropout():
    torch.manual_seed(0)
    model = nn.Sequential(DropConnectLinear(5, 16, 0.5), nn.ReLU(), nn.Linear(16, 3)).eval()
    pred = mc_predict(model, torch.randn(6, 5), T=20)
    assert (pred.variance.sum(-1) > 0).all()
    assert not model.training and not model[0].training


def test_bad_arguments():
    model = net_with_batchnorm()
    X = torch.randn(4, 6)
    with pytest.raises(ValueError, match="no dropout layers"):
        mc_predict(nn.Linear(6, 2), X, T=5)
    with pytest.raises(ValueError, match="positive int"):
        mc_predict(model, X, T=0)
    with pytest.raises(ValueError, match="task"):
        mc_predict(model, X, T=2, task="segment")
    with pytest.raises(TypeError, match="Tensor"):
        mc_predict(model, [[0.0] * 6], T=2)
    with pytest.raises(ValueError, match="empty"):
        mc_predict(model, X[:0], T=2)


def test_one_example_needs_its_batch_dimension():
    model = net_with_batchnorm()
    with pytest.raises(ValueError, match=r"X must be a batch of inputs, \(N, features...\), got "
                                         r"shape \(6,\): for one example pass X.unsqueeze\(0\), "
                                         r"shape \(1, 6\)"):
        mc_predict(model, torch.randn(6), T=3)
    assert mc_predict(model, torch.randn(6).unsqueeze(0), T=3).mean.shape == (1, 4)


def test_one_pass_warns_that_its_spread_is_zero_by_construction():
    with pytest.warns(UserWarning, match=r"T=1 is a single pass: its variance and "
                                         r"mutual_information are 0 by construction"):
        pred = mc_predict(net_with_batchnorm(), torch.randn(4, 6), T=1)
    assert torch.equal(pred.variance, torch.zeros_like(pred.variance))


class MyDropout(nn.Module):  # a student's own layer, written as chapter 03 teaches
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, X):
        if not self.training:
            return X
        return X * (torch.rand_like(X) >= self.p) / (1 - self.p)


class DropoutNet(nn.Module):  # a container whose name says "Dropout": not a dropout layer
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(),
                                  MyDropout(0.5), nn.Linear(16, 3))

    def forward(self, X):
        return self.body(X)


def test_a_students_own_dropout_layer_is_switched_on_but_a_container_is_not():
    model = DropoutNet()
    with torch.no_grad():
        model.train()(torch.randn(64, 6))
    model.eval()
    running_mean = model.body[1].running_mean.clone()
    pred = mc_predict(model, torch.randn(5, 6), T=20)
    assert (pred.variance.sum(-1) > 0).all()  # MyDropout drew masks
    assert torch.equal(model.body[1].running_mean, running_mean)  # BatchNorm stayed in eval
    assert not any(m.training for m in model.modules())
    only_mine = nn.Sequential(nn.Linear(6, 8), MyDropout(0.5), nn.Linear(8, 2))
    assert (mc_predict(only_mine, torch.randn(3, 6), T=10).variance.sum(-1) > 0).all()


def test_a_model_without_dropout_is_told_what_counts():
    with pytest.raises(ValueError, match=r"Your own dropout layer counts when its class name "
                                         r"contains 'Drop'"):
        mc_predict(nn.Sequential(nn.Linear(6, 2)), torch.randn(3, 6), T=2)
