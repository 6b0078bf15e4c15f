"""Attention dropout (chapter 08): the reference, the eval-mode trap of the installed torch, and
check_attention_dropout's catch-list, where the FIRST ✗ names the mistake."""

import math

import pytest
import torch
import torch.nn.functional as F
from checklist_runs import failed_checks, first_hint
from torch import nn

from course_utils import attention, check_attention_dropout
from course_utils.checks import attention as c


def qkv(*shape):
    g = torch.Generator().manual_seed(0)
    return tuple(torch.randn(shape, generator=g) for _ in range(3))


# --- what chapter 08 says about torch itself (checked on every torch CI runs) --------------


def test_sdpa_drops_whenever_dropout_p_is_positive():
    # The chapter's trap: a function has no train/eval mode, so dropout_p=p drops in eval too.
    q, k, v = qkv(2, 2, 5, 4)
    outs = [F.scaled_dot_product_attention(q, k, v, dropout_p=0.5) for _ in range(2)]
    assert not torch.equal(*outs)
    assert torch.equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.0),
                       F.scaled_dot_product_attention(q, k, v))


def test_torch_modules_drop_only_in_training():
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True, norm_first=True)
    x = torch.randn(3, 7, 16)
    with torch.no_grad():
        assert not torch.equal(layer.train()(x), layer(x))
        assert torch.equal(layer.eval()(x), layer(x))
    names = {n for n, m in layer.named_modules() if isinstance(m, nn.Dropout)}
    assert names == {"dropout", "dropout1", "dropout2"} and layer.self_attn.dropout == 0.1


# --- the reference ------------------------------------------------------------------------


def test_eval_is_plain_attention():
    q, k, v = qkv(2, 3, 6, 8)
    expected = F.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(attention(q, k, v, 0.5, training=False), expected, atol=1e-6)
    assert torch.allclose(attention(q, k, v, 0.0, training=True), expected, atol=1e-6)


def test_training_drops_weights_and_keeps_the_mean():
    q, k, v = (t.expand(20_000, 1, 4, 3) for t in qkv(1, 1, 4, 3))
    out = attention(q, k, v, 0.3, training=True)
    want = attention(q[:1], k[:1], v[:1], training=False)[0]
    assert ((out.mean(0) - want).abs() <= 5 * out.std(0) / math.sqrt(20_000) + 1e-6).all()
    ones = attention(q[:8], k[:8], torch.ones(8, 1, 4, 5), 0.5, training=True)
    assert torch.allclose(ones.amax(-1), ones.amin(-1))  # weights dropped, not outputs


def test_training_has_no_default_and_is_a_real_boolean():
    q, k, v = qkv(1, 2, 3)
    with pytest.raises(TypeError, match="training"):
        attention(q, k, v, 0.1)
    with pytest.raises(TypeError, match="True or False"):
        attention(q, k, v, 0.1, training="False")
    with pytest.raises(ValueError, match="drop probability"):
        attention(q, k, v, 1.5, training=True)
    with pytest.raises(TypeError, match="q must be a torch.Tensor"):
        attention([[1.0]], k, v, 0.1, training=True)


# --- the checker's catch-list -------------------------------------------------------------


def run_checker(fn, capsys):
    return failed_checks(check_attention_dropout, fn, c.CHECKS, capsys)


def weights(q, k):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(dim=-1)


def gated_sdpa(q, k, v, p, *, training):
    return F.scaled_dot_product_attention(q, k, v, dropout_p=p if training else 0.0)


def by_hand(q, k, v, p, *, training):
    return F.dropout(weights(q, k), p, training=training) @ v


def sdpa_in_eval(q, k, v, p, *, training):
    return F.scaled_dot_product_attention(q, k, v, dropout_p=p)


def f_dropout_default(q, k, v, p, *, training):
    return F.dropout(weights(q, k), p) @ v  # training=True by default


def gate_inverted(q, k, v, p, *, training):
    return F.scaled_dot_product_attention(q, k, v, dropout_p=0.0 if training else p)


def dropout_on_output(q, k, v, p, *, training):
    return F.dropout(weights(q, k) @ v, p, training=training)


def not_rescaled(q, k, v, p, *, training):
    w = weights(q, k)
    return (w * (torch.rand_like(w) >= p) if training else w) @ v


def no_sqrt_d(q, k, v, p, *, training):
    return F.dropout((q @ k.transpose(-2, -1)).softmax(-1), p, training=training) @ v


def mask_on_the_cpu(q, k, v, p, *, training):
    w = weights(q, k)
    if training:
        w = w * (torch.rand(w.shape) >= p) / (1 - p)
    return w @ v


def test_the_checker_passes_right_answers(capsys):
    for fn in (attention, gated_sdpa, by_hand):
        failed, out = run_checker(fn, capsys)
        assert failed == [], out


@pytest.mark.parametrize("fn, first_check, hint_words", [
    (sdpa_in_eval, "with training=False it is plain attention, whatever p",
     "dropout_p=p if training else 0.0"),
    (f_dropout_default, "with training=False it is plain attention, whatever p",
     "training=True by default"),
    (gate_inverted, "with training=False it is plain attention, whatever p", "wrong way round"),
    (dropout_on_output, "drops attention weights, not outputs", "on the attention weights"),
    (not_rescaled, "keeps the mean: averaged over calls it is plain attention", "(1 - p)"),
    (no_sqrt_d, "at p=0 it is softmax(q·kᵀ/√d)·v", "sqrt(d)"),
    (mask_on_the_cpu, "keeps the dtype and the device of its inputs", "rand_like"),
], ids=lambda v: getattr(v, "__name__", None))
def test_each_mistake_is_caught_and_the_first_hint_names_it(fn, first_check, hint_words, capsys):
    failed, out = run_checker(fn, capsys)
    assert failed and failed[0] == first_check, out
    assert hint_words in first_hint(out), out


@pytest.mark.parametrize("given, words", [
    (nn.MultiheadAttention, "got the class MultiheadAttention"),
    (nn.MultiheadAttention(4, 2), "module instance"),
    (lambda q, k, v: v, "cannot be called that way"),
    (lambda q, k, v, p, training, mask: v, "cannot be called that way"),
])
def test_the_wrong_kind_of_argument_gets_one_clear_type_error(given, words, capsys):
    with pytest.raises(TypeError, match="check_attention_dropout needs your function") as info:
        check_attention_dropout(given)
    assert words in str(info.value)
    assert capsys.readouterr().out == ""


def test_an_unwritten_stub_gets_one_message():
    def my_attend(q, k, v, p, *, training):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="not written yet"):
        check_attention_dropout(my_attend)
