"""Chapter 03's exercise 5 (dropout as an autograd.Function, checked with gradcheck) against the
wrong answers students plausibly write, each with the first hint its check must give, and against
right answers written other ways."""

import pytest
import torch
from chapter_cells import check_source

CHECK = check_source("03_dropout_from_scratch.ipynb", "ex5-dropout-function-check")


def run_check(function):
    exec(CHECK, {"torch": torch, "DropoutFunction": function})


def _mask(X, p, seed):
    generator = torch.Generator(device=X.device).manual_seed(seed)
    return (torch.rand(X.shape, generator=generator, device=X.device) >= p).to(X.dtype)


class Right(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, p, seed):
        scale = _mask(X, p, seed) / (1 - p) if p < 1 else torch.zeros_like(X)
        ctx.save_for_backward(scale)
        return X * scale

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.saved_tensors[0], None, None


class RightSavingTheBooleanMask(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, p, seed):
        keep = _mask(X, p, seed).bool()
        ctx.save_for_backward(keep)
        ctx.p = p
        return torch.where(keep, X / (1 - p), torch.zeros_like(X)) if p < 1 else X * 0

    @staticmethod
    def backward(ctx, grad_output):
        (keep,) = ctx.saved_tensors
        if ctx.p == 1:
            return torch.zeros_like(grad_output), None, None
        return torch.where(keep, grad_output / (1 - ctx.p), torch.zeros_like(grad_output)), None, None


class GlobalRandomState(Right):
    @staticmethod
    def forward(ctx, X, p, seed):
        scale = (torch.rand(X.shape, dtype=X.dtype) >= p).to(X.dtype) / (1 - p) if p < 1 else X * 0
        ctx.save_for_backward(scale)
        return X * scale


class BackwardIgnoresTheMask(Right):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None, None


class BackwardForgetsTheScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, p, seed):
        keep = _mask(X, p, seed)
        ctx.save_for_backward(keep)
        return X * keep / (1 - p) if p < 1 else X * 0

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.saved_tensors[0], None, None


class OneGradientOnly(Right):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.saved_tensors[0]


class NothingSaved(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, p, seed):
        ctx.p, ctx.seed = p, seed
        return X * _mask(X, p, seed) / (1 - p)

    @staticmethod
    def backward(ctx, grad_output):  # draws the mask again: right numbers, not what was asked
        return grad_output * _mask(grad_output, ctx.p, ctx.seed) / (1 - ctx.p), None, None


class NaNAtPOne(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, p, seed):
        scale = _mask(X, p, seed) / (1 - p) if p < 1 else _mask(X, p, seed) / 0.0
        ctx.save_for_backward(scale)
        return X * scale

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.saved_tensors[0], None, None


@pytest.mark.parametrize("function", [Right, RightSavingTheBooleanMask])
def test_right_answers_pass(function):
    run_check(function)


@pytest.mark.parametrize("function, hint", [
    (GlobalRandomState, "the same seed gave two different masks"),
    (BackwardIgnoresTheMask, "backward disagrees with the numerical gradient"),
    (BackwardForgetsTheScale, "backward disagrees with the numerical gradient"),
    (OneGradientOnly, "one gradient per input of forward"),
    (NothingSaved, "save the mask"),
    (NaNAtPOne, "zeros, not NaN"),
])
def test_wrong_answers_get_their_hint(function, hint):
    with pytest.raises(AssertionError, match=hint):
        run_check(function)
