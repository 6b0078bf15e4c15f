"""The reference dropout implementations. Statistical tests, never exact nn.Dropout masks: those
change between torch versions even with the same seed."""

import math

import pytest
import torch
from torch import nn

from course_utils import (
    Dropout,
    StandardDropout,
    bernoulli_mask,
    check_p,
    drop_path,
    dropout_layer,
    mlp,
    standard_dropout,
)

N = 200_000


def five_sigma(p, n=N):
    return 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_mask_keeps_a_fraction_one_minus_p(p):
    mask = bernoulli_mask((N,), p, generator=torch.Generator().manual_seed(1))
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert abs(mask.mean().item() - (1 - p)) < five_sigma(p)


def test_mask_edges_are_exact():
    assert bernoulli_mask((10_000,), 0.0).min() == 1
    assert bernoulli_mask((10_000,), 1.0).max() == 0


def test_mask_follows_tensor_or_explicit_device_and_dtype():
    X = torch.zeros(3, 4, dtype=torch.float64)
    m = bernoulli_mask(X, 0.5)
    assert m.shape == X.shape and m.dtype == torch.float64 and m.device == X.device
    assert bernoulli_mask(X, 0.5, dtype=torch.bool).dtype == torch.bool
    assert bernoulli_mask([2, 3], 0.5).dtype == torch.get_default_dtype()
    meta = bernoulli_mask(torch.empty(2, 2, device="meta"), 0.5)
    assert meta.device.type == "meta"


def test_mask_is_reproducible_and_the_same_for_every_dtype():
    a = bernoulli_mask((64,), 0.3, generator=torch.Generator().manual_seed(7))
    b = bernoulli_mask((64,), 0.3, generator=torch.Generator().manual_seed(7), dtype=torch.bfloat16)
    assert torch.equal(a, b.float())


def test_mask_matches_plain_torch_rand():
    # The course tells students that rand-with-generator masks are stable: this is that recipe.
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(bernoulli_mask((5, 5), 0.4, generator=g1), (torch.rand(5, 5, generator=g2) >= 0.4).float())


def test_mask_rejects_bad_arguments():
    with pytest.raises(TypeError, match="shape"):
        bernoulli_mask("abc", 0.5)
    with pytest.raises(ValueError, match="generator lives on cpu"):
        bernoulli_mask((2,), 0.5, generator=torch.Generator(), device="meta")


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf")])
def test_check_p_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        check_p(bad)


@pytest.mark.parametrize("bad", ["0.5", None, True, [0.5]])
def test_check_p_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="number"):
        check_p(bad)


def test_check_p_accepts_ints_and_scalar_tensors():
    assert check_p(0) == 0.0 and check_p(1) == 1.0
    assert check_p(torch.tensor(0.25)) == 0.25


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_layer_statistics(p):
    x = 3.0
    out = dropout_layer(torch.full((N,), x), p, generator=torch.Generator().manual_seed(2)).double()
    kept = out != 0
    assert torch.allclose(out[kept], torch.tensor(x / (1 - p), dtype=torch.float64), rtol=1e-6)
    assert abs((~kept).double().mean().item() - p) < five_sigma(p)
    sd = x * math.sqrt(p / (1 - p))
    assert abs(out.mean().item() - x) < 5 * sd / math.sqrt(N)
    assert out.var().item() == pytest.approx(x * x * p / (1 - p), rel=0.03)


def test_dropout_layer_edges():
    X = torch.randn(5, 6)
    assert dropout_layer(X, 0.0) is X
    assert dropout_layer(X, 0.7, training=False) is X
    zeros = dropout_layer(X, 1.0)
    assert torch.equal(zeros, torch.zeros_like(X)) and not zeros.isnan().any()
    # p=1 still belongs to the graph, with a zero gradient rather than None.
    Xg = X.clone().requires_grad_()
    dropout_layer(Xg, 1.0).sum().backward()
    assert torch.equal(Xg.grad, torch.zeros_like(X))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_dropout_layer_keeps_dtype_and_device(dtype):
    X = torch.ones(16, 16, dtype=dtype)
    assert dropout_layer(X, 0.5).dtype == dtype
    assert dropout_layer(torch.empty(4, 4, dtype=dtype, device="meta"), 0.5).device.type == "meta"


@pytest.mark.parametrize("apply", [
    lambda X, p: dropout_layer(X, p),
    lambda X, p: Dropout(p)(X),
    lambda X, p: drop_path(X, p),
], ids=["dropout_layer", "Dropout", "drop_path"])  # DropConnect: torch 2.1 has no float16 CPU matmul
def test_float16_refuses_a_p_whose_scale_it_cannot_hold(apply):
    X = torch.ones(8, 4, dtype=torch.float16)
    assert torch.isfinite(apply(X, 0.99998)).all()  # 1/(1-p) = 5e4 < 65504: fine
    assert torch.isfinite(apply(X, 1.0)).all()  # p=1 needs no scale
    with pytest.raises(ValueError, match=r"p=0.99999 scales kept units by 1/\(1-p\) = 1e\+05, "
                                         r"more than torch.float16 can hold.*use p <= 0.99998 "
                                         r"or p=1 in torch.float16, or compute in float32"):
        apply(X, 0.99999)
    assert torch.isfinite(apply(X.float(), 0.99999)).all()  # float32 holds the scale


def test_dropout_layer_never_modifies_input_and_draws_fresh_masks():
    X = torch.rand(1000) + 0.5
    before = X.clone()
    a, b = dropout_layer(X, 0.5), dropout_layer(X, 0.5)
    assert torch.equal(X, before)
    assert not torch.equal(a, b)


def test_dropout_layer_is_reproducible_with_a_generator():
    X = torch.ones(100)
    a = dropout_layer(X, 0.5, generator=torch.Generator().manual_seed(5))
    b = dropout_layer(X, 0.5, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_dropout_layer_gradient_is_the_scaled_mask():
    X = (torch.rand(50, 40, dtype=torch.float64) + 0.5).requires_grad_()
    out = dropout_layer(X, 0.25)
    out.sum().backward()
    assert torch.allclose(X.grad, (out.detach() != 0).double() / 0.75)


def test_dropout_layer_rejects_bad_input():
    with pytest.raises(TypeError, match="floating-point"):
        dropout_layer(torch.arange(4), 0.5)
    with pytest.raises(TypeError, match="torch.Tensor"):
        dropout_layer([1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="drop probability"):
        dropout_layer(torch.ones(3), 1.5)


def test_standard_dropout_train_and_test():
    p = 0.3
    X = torch.full((N,), 2.0)
    out = standard_dropout(X, p, training=True, generator=torch.Generator().manual_seed(4))
    assert set(out.unique().tolist()) == {0.0, 2.0}  # dropped or unchanged: no scaling
    assert abs((out == 0).double().mean().item() - p) < five_sigma(p)
    assert torch.allclose(standard_dropout(X, p, training=False), X * 0.7)
    # Training-time and test-time expectations agree: that is the whole point of the 1 - p.
    assert abs(out.mean().item() - 2.0 * 0.7) < 0.01
    with pytest.raises(TypeError, match="training"):
        standard_dropout(X, p, training="yes")


def test_modules_follow_train_and_eval():
    X = torch.ones(10_000)
    for layer in (Dropout(0.5), StandardDropout(0.5)):
        train_out = layer.train()(X)
        assert (train_out == 0).any()
    assert torch.equal(Dropout(0.5).eval()(X), X)
    assert torch.allclose(StandardDropout(0.5).eval()(X), X * 0.5)
    assert repr(Dropout(0.2)) == "Dropout(p=0.2)"
    with pytest.raises(ValueError):
        Dropout(2.0)


def test_scratch_module_matches_nn_dropout_statistics():
    X = torch.full((N,), 1.5)
    ours, theirs = Dropout(0.4)(X), nn.Dropout(0.4)(X)
    for out in (ours, theirs):
        assert abs((out == 0).double().mean().item() - 0.4) < five_sigma(0.4)
    assert set(ours.unique().tolist()) == set(theirs.unique().tolist())


def test_mlp_accepts_a_dropout_module():
    model = mlp(4, [8, 8], 3, dropout=[0.2, 0.5], dropout_module=StandardDropout)
    assert [m.p for m in model if isinstance(m, StandardDropout)] == [0.2, 0.5]
    with pytest.raises(TypeError, match="dropout_module"):
        mlp(4, [8], 3, dropout=0.5, dropout_module="nn.Dropout")
