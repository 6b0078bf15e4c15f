"""Drop path (chapter 08): the reference, its agreement with torchvision's stochastic_depth by
statistics, and check_drop_path's catch-list: each classic mistake is caught, and the FIRST ✗
names it."""

import math

import pytest
import torch
from checklist_runs import failed_checks, first_hint
from torch import nn
from torchvision.ops import stochastic_depth

from course_utils import DropPath, Residual, check_drop_path, drop_path, linear_drop_rates
from course_utils.checks import drop_path as c

N = 40_000  # examples per statistical test: 5 sigma on a share of p=0.3 is about ±0.011


def tol(p, n=N):
    return 5 * math.sqrt(p * (1 - p) / n)


# --- the reference ------------------------------------------------------------------------


def test_eval_and_p_zero_return_the_input_itself():
    X = torch.randn(4, 3)
    assert drop_path(X, 0.5, training=False) is X
    assert drop_path(X, 0.0) is X
    assert torch.equal(DropPath(0.5).eval()(X), X)


def test_p_one_drops_everything_without_nan():
    out = drop_path(torch.randn(8, 3, 2, 2), 1.0)
    assert torch.equal(out, torch.zeros_like(out))


def test_one_coin_per_example_broadcast_over_the_rest():
    out = drop_path(torch.ones(N, 2, 3), 0.3, generator=torch.Generator().manual_seed(0))
    per_example = out.flatten(1)
    assert ((per_example == 0).all(1) | (per_example == 1 / 0.7).all(1)).all()
    dropped = (per_example[:, 0] == 0).double().mean().item()
    assert abs(dropped - 0.3) < tol(0.3)


def test_batch_mode_keeps_or_drops_the_whole_batch():
    outs = torch.stack([drop_path(torch.ones(16, 2), 0.5, mode="batch") for _ in range(2000)])
    kept = outs[:, :, 0] != 0
    assert (kept.all(1) | ~kept.any(1)).all()
    assert abs((~kept[:, 0]).double().mean().item() - 0.5) < tol(0.5, 2000)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_keeps_dtype_and_device(dtype):
    X = torch.ones(8, 3, dtype=dtype)
    assert drop_path(X, 0.5).dtype == dtype
    meta = torch.empty(8, 3, device="meta")
    assert drop_path(meta, 0.5).device.type == "meta"


def test_float16_near_p_one_stays_finite():
    # 1 / (1 - p) is 1e4 at p = 0.9999, inside float16's range; the values come out finite.
    out = drop_path(torch.ones(1000, 2, dtype=torch.float16), 0.9999)
    assert torch.isfinite(out).all()


def test_same_generator_state_gives_the_same_mask():
    X = torch.ones(64, 3)
    a = drop_path(X, 0.5, generator=torch.Generator().manual_seed(3))
    b = drop_path(X, 0.5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_gradient_is_the_mask_over_keep_probability():
    X = torch.rand(32, 4, dtype=torch.float64, requires_grad=True)
    out = drop_path(X, 0.25)
    out.sum().backward()
    assert torch.allclose(X.grad, (out.detach() != 0).double() / 0.75)


@pytest.mark.parametrize("call, error, words", [
    (lambda: drop_path(torch.ones(2, 2), 1.5), ValueError, "drop probability"),
    (lambda: drop_path(torch.ones(2, 2), -0.1), ValueError, "[0, 1]"),
    (lambda: drop_path(torch.ones(2, 2), "0.5"), TypeError, "p must be"),
    (lambda: drop_path(torch.ones(2, 2), 0.5, mode="rows"), ValueError, "'row', 'batch'"),
    (lambda: drop_path(torch.ones(2, 2), 0.5, training="False"), TypeError, "True or False"),
    (lambda: drop_path([[1.0, 2.0]], 0.5), TypeError, "torch.Tensor"),
    (lambda: drop_path(torch.ones(2, dtype=torch.long), 0.5), TypeError, "floating"),
    (lambda: drop_path(torch.tensor(1.0), 0.5), ValueError, "batch"),
    (lambda: DropPath(2.0), ValueError, "drop probability"),
    (lambda: DropPath(0.1, mode="sample"), ValueError, "'row', 'batch'"),
    (lambda: linear_drop_rates(1.0, 4), ValueError, "max_rate"),
    (lambda: linear_drop_rates(0.2, 0), ValueError, "depth"),
    (lambda: linear_drop_rates(0.2, 2.5), TypeError, "depth"),
])
def test_bad_arguments_get_a_clear_error(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value), str(info.value)


def test_linear_rule_matches_torch_linspace():
    for rate, depth in [(0.1, 12), (0.2, 6), (0.5, 3)]:
        expected = torch.linspace(0, rate, depth).tolist()
        assert linear_drop_rates(rate, depth) == pytest.approx(expected, abs=1e-7)
    assert linear_drop_rates(0.3, 1) == [0.0] == torch.linspace(0, 0.3, 1).tolist()


def test_residual_block_adds_the_dropped_branch():
    block = Residual(nn.Linear(3, 3), p=1.0)
    x = torch.randn(5, 3)
    assert torch.equal(block(x), x)  # every branch dropped: the identity
    block.eval()
    assert torch.allclose(block(x), x + block.branch(x))


# --- against torchvision, by statistics (masks never agree entry by entry) ----------------


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_same_statistics_as_torchvision(mode):
    p, calls, batch = 0.3, 3000, 16
    X = torch.ones(batch, 4)
    for fn in (lambda: drop_path(X, p, mode=mode), lambda: stochastic_depth(X, p, mode)):
        outs = torch.stack([fn() for _ in range(calls)])
        kept = outs[..., 0] != 0
        assert abs((~kept).double().mean().item() - p) < tol(p, calls if mode == "batch" else
                                                              calls * batch)
        split = (kept.any(1) & ~kept.all(1)).double().mean().item()
        assert (split > 0.9) if mode == "row" else (split == 0)
        mean_sd = 5 * math.sqrt(p / (1 - p) / (calls * (batch if mode == "row" else 1)))
        assert abs(outs.mean().item() - 1) < mean_sd
        assert ((outs == 0) | (outs == 1 / (1 - p))).all()


# --- the checker's catch-list -------------------------------------------------------------


def run_checker(fn, capsys):
    return failed_checks(check_drop_path, fn, c.CHECKS, capsys)


def _validate(p, mode):
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    if mode not in ("row", "batch"):
        raise ValueError("mode must be 'row' or 'batch'")


def _coins(X, mode):
    return torch.rand((X.shape[0] if mode == "row" else 1,) + (1,) * (X.dim() - 1),
                      device=X.device)


def right(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)
    return X * keep if p == 1 else X * keep / (1 - p)


def no_rescaling(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    return X * (_coins(X, mode) >= p).to(X.dtype)


def one_coin_for_the_batch(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (_coins(X, "batch") >= p).to(X.dtype)  # ignores mode="row"
    return X * keep if p == 1 else X * keep / (1 - p)


def active_in_eval(X, p, mode="row", training=True):
    _validate(p, mode)
    if p == 0:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)  # never looks at training
    return X * keep if p == 1 else X * keep / (1 - p)


def p_as_keep_probability(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training:
        return X
    keep = (_coins(X, mode) < p).to(X.dtype)
    return X * keep / p if p > 0 else X * keep


def element_wise(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (torch.rand_like(X) >= p).to(X.dtype)
    return X * keep if p == 1 else X * keep / (1 - p)


def mask_on_the_cpu(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (torch.rand(X.shape[0], *[1] * (X.dim() - 1)) >= p).to(X.dtype)
    return X * keep if p == 1 else X * keep / (1 - p)


def in_place(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)
    return X.mul_(keep) if p == 1 else X.mul_(keep / (1 - p))


def mask_for_4d_only(X, p, mode="row", training=True):
    # The shape an earlier hint suggested: right for feature maps, a B x B broadcast on (B, d)
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (torch.rand(X.shape[0], 1, 1, 1, device=X.device) >= p).to(X.dtype)
    return X * keep if p == 1 else X * keep / (1 - p)


def no_validation(X, p, mode="row", training=True):
    if not training or p == 0:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)
    return X * keep if p == 1 else X * keep / (1 - p)


def _scaled(X, keep, p):
    return X * keep if p == 1 else X * keep / (1 - p)


def batch_keep_probability(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    coin = _coins(X, mode)
    keep = (coin < p if mode == "batch" else coin >= p).to(X.dtype)  # batch mode flipped
    return _scaled(X, keep, p)


def batch_bernoulli_of_p(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    if mode == "batch":
        keep = torch.bernoulli(torch.tensor(p, device=X.device)).to(X.dtype)
    else:
        keep = (_coins(X, mode) >= p).to(X.dtype)
    return _scaled(X, keep, p)


def batch_half_coin(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    coin = torch.rand((), device=X.device) >= 0.5 if mode == "batch" else _coins(X, mode) >= p
    return _scaled(X, coin.to(X.dtype), p)


def fixed_count(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    if mode == "batch":
        return _scaled(X, (_coins(X, mode) >= p).to(X.dtype), p)
    keep = torch.ones(X.shape[0], device=X.device, dtype=X.dtype)
    keep[torch.randperm(X.shape[0], device=X.device)[:int(p * X.shape[0])]] = 0
    return _scaled(X, keep.view(-1, *[1] * (X.dim() - 1)), p)


def fixed_count_rounded(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    if mode == "batch":
        return _scaled(X, (_coins(X, mode) >= p).to(X.dtype), p)
    order = torch.rand(X.shape[0], device=X.device).argsort()
    keep = (order >= round(p * X.shape[0])).to(X.dtype)
    return _scaled(X, keep.view(-1, *[1] * (X.dim() - 1)), p)


def quantile_threshold(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    if mode == "batch":
        return _scaled(X, (_coins(X, mode) >= p).to(X.dtype), p)
    r = torch.rand(X.shape[0], device=X.device)
    keep = (r >= r.quantile(p)).to(X.dtype)  # exactly a fraction p, "to be precise"
    return _scaled(X, keep.view(-1, *[1] * (X.dim() - 1)), p)


def detached_at_p_zero(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X.detach() if p == 0 else X
    return _scaled(X, (_coins(X, mode) >= p).to(X.dtype), p)


def detached_in_eval(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training:
        return X.detach().clone()
    if p == 0:
        return X
    return _scaled(X, (_coins(X, mode) >= p).to(X.dtype), p)


def no_grad_in_eval(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        with torch.no_grad():
            return X * 1
    return _scaled(X, (_coins(X, mode) >= p).to(X.dtype), p)


def in_place_at_high_p(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)
    return X.mul_(keep / (1 - p)) if 0.7 < p < 1 else _scaled(X, keep, p)


def in_place_in_batch_mode(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)
    return X.mul_(keep / (1 - p)) if mode == "batch" and p < 1 else _scaled(X, keep, p)


def in_place_scaled_at_p_zero(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)
    return X.mul_(keep / (1 - p)) if p == 0 else _scaled(X, keep, p)


CACHE = {}


def cached_mask(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    key = (X.shape, X.device, X.dtype, mode, p)
    if key not in CACHE:
        CACHE[key] = (_coins(X, mode) >= p).to(X.dtype)
    return _scaled(X, CACHE[key], p)


def seeded_inside(X, p, mode="row", training=True):
    torch.manual_seed(0)
    return right(X, p, mode, training)


def own_seeded_generator(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    g = torch.Generator(device=X.device if X.device.type != "meta" else "cpu").manual_seed(7)
    shape = (X.shape[0] if mode == "row" else 1,) + (1,) * (X.dim() - 1)
    keep = (torch.rand(shape, generator=g).to(X.device) >= p).to(X.dtype)
    return _scaled(X, keep, p)


def residual_at_p_one(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    if p == 1:
        return X  # "the block is skipped, so the input goes through"
    return _scaled(X, (_coins(X, mode) >= p).to(X.dtype), p)


def passes_dropped_through(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = _coins(X, mode) >= p
    return torch.where(keep, X / (1 - p) if p < 1 else X, X)


def nan_at_p_one(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    return X * (_coins(X, mode) >= p).to(X.dtype) / (1 - p) if p < 1 else X * 0 / (1 - p + 0.0) * float("nan")


def divide_by_zero_at_p_one(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)
    return X * keep / torch.tensor(1 - p, device=X.device, dtype=X.dtype)


def batch_mode_unscaled(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = (_coins(X, mode) >= p).to(X.dtype)
    return X * keep if mode == "batch" else _scaled(X, keep, p)


def with_bernoulli(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training:
        return X
    shape = (X.shape[0] if mode == "row" else 1,) + (1,) * (X.dim() - 1)
    keep = torch.bernoulli(torch.full(shape, 1 - p, device=X.device)).to(X.dtype)
    return X * keep / (1 - p) if p < 1 else X * keep


def with_where(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    keep = _coins(X, mode) >= p
    return torch.where(keep, X / (1 - p) if p < 1 else X, torch.zeros_like(X))


GENERATOR = torch.Generator().manual_seed(5)


def on_own_generator(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    shape = (X.shape[0] if mode == "row" else 1,) + (1,) * (X.dim() - 1)
    keep = (torch.rand(shape, generator=GENERATOR).to(X.device) >= p).to(X.dtype)
    return _scaled(X, keep, p)


def with_einsum(X, p, mode="row", training=True):
    _validate(p, mode)
    if not training or p == 0:
        return X
    n = X.shape[0] if mode == "row" else 1
    keep = (torch.rand(n, device=X.device) >= p).to(X.dtype).expand(X.shape[0])
    out = torch.einsum("b,b...->b...", keep, X)
    return out / (1 - p) if p < 1 else out


RIGHT = [drop_path, right, with_bernoulli, with_where, on_own_generator, with_einsum,
         lambda X, p, mode="row", training=True: stochastic_depth(X, p, mode, training)]


@pytest.mark.parametrize("seed", range(1, 21))
def test_right_answers_pass_under_other_seeds(seed, capsys, monkeypatch):
    from course_utils.checks import battery
    monkeypatch.setattr(battery, "SEED", seed)
    for fn in RIGHT:
        failed, out = run_checker(fn, capsys)
        assert failed == [], out


def test_the_checker_passes_the_reference_and_torchvision(capsys):
    for fn in (drop_path, right,
               lambda X, p, mode="row", training=True: stochastic_depth(X, p, mode, training)):
        failed, out = run_checker(fn, capsys)
        assert failed == [], out
        assert f"All {len(c.CHECKS)} checks passed." in out


SHAPE_C = "returns a tensor of X's shape"
FRESH = "draws a new mask on every call"
BATCH = "mode='batch': one coin for the whole batch, dropped with probability p"
SMALL = "drops each example on its own coin in small batches too"
P_ONE = "p=1 drops everything, without NaN"
VALUES = "kept examples are scaled by 1/(1-p), in both modes"
GRAD = "leaves X unchanged and passes gradients as mask/(1-p), at p=0 and in eval too"
FRACTION = "drops a fraction p of the examples (p=0.2 and p=0.8)"
WRONG = [
    (no_rescaling, VALUES, "unscaled"),
    (one_coin_for_the_batch, "mode='row': every example has its own coin",
     "one decision for the whole batch"),
    (active_in_eval, "is the identity with training=False", "active in eval"),
    (p_as_keep_probability, "p=0 returns X unchanged", "not the keep probability"),
    (element_wise, "keeps or drops each example whole", "one by one, like dropout"),
    (mask_on_the_cpu, "builds its mask on X's device", "device=X.device"),
    (in_place, GRAD, "wrote into X"),
    (no_validation, "rejects p outside [0, 1] and an unknown mode with ValueError",
     "raise ValueError"),
    (mask_for_4d_only, SHAPE_C, "fits only 4-D inputs"),
    # batch mode's rate, measured at p = 0.2 and 0.8
    (batch_keep_probability, BATCH, "keep probability"),
    (batch_bernoulli_of_p, BATCH, "keep probability"),
    (batch_half_coin, BATCH, "one uniform number per call"),
    # a fixed count per batch: right on 20,000 rows, wrong on 8
    (fixed_count, SMALL, "not a fixed count"),
    (fixed_count_rounded, SMALL, "not a fixed count"),
    (quantile_threshold, SMALL, "not a fixed count"),
    # the gradient where drop path is the identity
    (detached_at_p_zero, GRAD, "with p=0 return X itself"),
    (detached_in_eval, GRAD, "with training=False return X itself"),
    (no_grad_in_eval, GRAD, "torch.no_grad()"),
    # writes into X at a rate or mode the old check never tried
    (in_place_at_high_p, GRAD, "wrote into X"),
    (in_place_in_batch_mode, GRAD, "wrote into X"),
    (in_place_scaled_at_p_zero, GRAD, "in place"),
    # the same mask on every call
    (cached_mask, FRESH, "keep a mask from an earlier call"),
    (seeded_inside, FRESH, "torch.manual_seed"),
    (own_seeded_generator, FRESH, "seeded generator"),
    # p = 1
    (residual_at_p_one, P_ONE, "the residual"),
    (passes_dropped_through, "keeps or drops each example whole", "not passed through"),
    (nan_at_p_one, P_ONE, "0/0"),
    (divide_by_zero_at_p_one, P_ONE, "0/0"),
    # batch mode's scale
    (batch_mode_unscaled, VALUES, "scale the kept batch"),
]


@pytest.mark.parametrize("fn, first_check, hint_words", WRONG, ids=[w[0].__name__ for w in WRONG])
@pytest.mark.parametrize("seed", [0, 7, 11])  # 0: the battery's own; the hint must not change
def test_each_mistake_is_caught_and_the_first_hint_names_it(fn, first_check, hint_words, seed,
                                                            capsys, monkeypatch):
    from course_utils.checks import battery
    monkeypatch.setattr(battery, "SEED", seed)
    CACHE.clear()
    failed, out = run_checker(fn, capsys)
    assert failed and failed[0] == first_check, out
    assert hint_words in first_hint(out), out


def test_p_as_keep_probability_is_named_again_by_the_drop_fraction(capsys):
    _, out = run_checker(p_as_keep_probability, capsys)
    assert "p used as the keep probability" in out


def test_an_unwritten_stub_gets_one_message(capsys):
    def my_drop_path(X, p, mode="row", training=True):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="not written yet"):
        check_drop_path(my_drop_path)


@pytest.mark.parametrize("given, words", [
    (DropPath, "got the class DropPath"),
    (DropPath(0.2), "got a DropPath module instance"),
    ("drop_path", "got str"),
    (lambda X, p: X, "cannot be called that way"),
    (lambda p, X, *, training: X, "takes the rate p first"),
    (lambda X, p, mode, training, extra: X, "cannot be called that way (missing a required "
                                            "argument: 'extra'): give 'extra' a default"),
])
def test_the_wrong_kind_of_argument_gets_one_clear_type_error(given, words, capsys):
    with pytest.raises(TypeError, match="check_drop_path needs your function") as info:
        check_drop_path(given)
    assert words in str(info.value)
    assert capsys.readouterr().out == ""  # no checklist of identical ✗ lines


def test_every_check_runs_alone_on_the_reference():
    subject = c.Subject(drop_path)
    for _, check in c.CHECKS:
        check(subject)
