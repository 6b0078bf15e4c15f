"""Monte Carlo dropout (Gal & Ghahramani, 2016), chapter 07: keep dropout on at test time, run
the network ``T`` times, and read the spread of the predictions as uncertainty."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._cpu_dropout import course_masks
from ._modes import model_device, restored_modes
from ._validate import boolean, choice, module, positive_int, tensor
from .drop_path import DropPath
from .dropconnect import DropConnectLinear
from .dropout import Dropout, StandardDropout
from .training import cannot_take, check_inputs


def _is_stochastic(layer: nn.Module) -> bool:
    # The layers whose train() mode means "random": PyTorch's dropout family (Dropout,
    # Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout), the course's own layers, and a
    # student's own layer named like one (MyDropout, DropConnect, ...). A name only counts for
    # a module without submodules: switching a container named "DropoutNet" to train() would
    # switch on its BatchNorm too.
    if isinstance(layer, (nn.modules.dropout._DropoutNd, Dropout, StandardDropout,
                          DropConnectLinear, DropPath)):
        return True
    return "drop" in type(layer).__name__.lower() and next(layer.children(), None) is None


@dataclass
class MCPrediction:
    """What :func:`mc_predict` returns. For ``N`` inputs, ``C`` outputs and ``T`` passes:

    - ``mean``: the predictive mean, ``(N, C)``: averaged softmax probabilities (classify) or
      averaged outputs (regress);
    - ``variance``: the variance of the same quantity over the passes, ``(N, C)``;
    - ``entropy``: the entropy of ``mean`` in nats, ``(N,)`` (classify only, else None);
    - ``mutual_information``: entropy minus the passes' mean entropy, ``(N,)``: the part of the
      uncertainty that comes from disagreement between the masks (classify only);
    - ``samples``: every pass, ``(T, N, C)``, when asked for with ``keep_samples=True``.
    """

    mean: Tensor
    variance: Tensor
    entropy: Tensor | None
    mutual_information: Tensor | None
    samples: Tensor | None
    T: int


def _entropy(probs: Tensor) -> Tensor:
    # xlogy gives 0 * log 0 = 0, so a confident prediction has entropy 0 rather than NaN.
    return -torch.special.xlogy(probs, probs).sum(dim=-1)


@torch.no_grad()
def mc_predict(
    model: nn.Module,
    X: Tensor,
    T: int = 50,
    *,
    task: str = "classify",
    batch_size: int = 1024,
    keep_samples: bool = False,
) -> MCPrediction:
    """Monte Carlo dropout (Gal & Ghahramani, 2016): ``T`` forward passes with the dropout
    layers **on** and everything else in eval mode, then the mean and the spread.

    Only the dropout-like modules (``nn.Dropout`` and its relatives, the course's ``Dropout``,
    ``StandardDropout``, ``DropConnectLinear`` and ``DropPath``, and your own layer when its
    class name contains "Drop", such as ``MyDropout``) are switched to train mode; BatchNorm keeps
    using its running statistics and is not updated. Every module's train/eval flag is put
    back afterwards, even if a pass fails. Dropout called as a function inside ``forward``
    (``F.dropout(x, p, training=self.training)``) follows its module's flag, which stays in
    eval mode: such a model needs its dropout as modules to work here. The results live on
    the model's device. Plain ``nn.Dropout`` layers draw their masks as ``dropout_layer`` does,
    from float32 uniforms: the same distribution as PyTorch's own, several times faster on most
    CPUs.

    Args:
        X: a batch of inputs, ``(N, ...)``; one example is ``X[:1]`` (or ``x.unsqueeze(0)``).
        T: number of stochastic passes; each one draws fresh masks. ``T=1`` warns: one pass
            has no spread, so its variance and mutual information are 0 by construction.
        task: ``"classify"`` (the model returns logits; probabilities are averaged) or
            ``"regress"`` (the model's outputs are averaged as they are).
        batch_size: inputs per forward pass, to bound memory. Each input's predictive
            distribution does not depend on it; it only decides which inputs share a mask in
            layers that draw one mask per batch (``DropConnectLinear``'s default).
        keep_samples: also return every pass (``T`` times the memory of ``mean``).

    >>> net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    >>> pred = mc_predict(net, torch.randn(5, 4), T=20)
    >>> pred.mean.shape, pred.entropy.shape
    (torch.Size([5, 3]), torch.Size([5]))
    >>> net.training  # a fresh module is in train mode, and mc_predict leaves it so
    True
    """
    module("model", model)
    tensor("X", X)
    positive_int("T (the number of passes)", T)
    choice("task", task, ("classify", "regress"))
    positive_int("batch_size", batch_size)
    boolean("keep_samples", keep_samples)
    if X.dim() < 2:
        raise ValueError(f"X must be a batch of inputs, (N, features...), got shape "
                         f"{tuple(X.shape)}: for one example pass X.unsqueeze(0), shape "
                         f"{(1, *X.shape)}")
    if len(X) == 0:
        raise ValueError("X is empty: nothing to predict")
    check_inputs(model, X, "X")  # NaN, integer pixels, float64, a shape the model refuses
    stochastic = [m for m in model.modules() if _is_stochastic(m)]
    if not stochastic:
        raise ValueError(
            "the model has no dropout layers, so all T passes would be identical; MC dropout "
            "needs nn.Dropout (or DropConnectLinear) modules in the model. Your own dropout "
            "layer counts when its class name contains 'Drop' (e.g. MyDropout); F.dropout "
            "called inside forward does not"
        )
    rates = [getattr(m, "p", None) for m in stochastic]
    if all(isinstance(r, (int, float)) and r == 0 for r in rates):
        warnings.warn(f"every dropout layer of the model has p=0 ({len(rates)} layer(s)): the T "
                      "passes are identical and the uncertainty is 0 by construction; give the "
                      "model a dropout rate > 0 to measure anything", stacklevel=3)
    if T == 1:
        warnings.warn("mc_predict with T=1 is a single pass: its variance and "
                      "mutual_information are 0 by construction, not a measured certainty; "
                      "use T >= 2 (50 is typical) to measure the spread", stacklevel=3)  # past no_grad

    classify = task == "classify"
    device = model_device(model, default=X.device)
    means, variances, entropies, infos, kept = [], [], [], [], []
    # course_masks: nn.Dropout's masks drawn as dropout_layer draws them, several times faster on
    # most CPUs than PyTorch's bernoulli_ (see course_utils/_cpu_dropout.py); T passes are
    # mostly masks.
    with restored_modes(model), course_masks(model):
        model.eval()
        for m in stochastic:
            m.train()
        for start in range(0, len(X), batch_size):
            xb = X[start : start + batch_size].to(device)
            try:
                passes = torch.stack([model(xb) for _ in range(T)])  # (T, B, C)
            except RuntimeError as err:  # a first batch refused: the inputs don't fit
                if start or isinstance(err, torch.cuda.OutOfMemoryError):
                    raise
                raise cannot_take(X, err) from err
            if passes.dim() != 3:
                raise ValueError(f"the model returned shape {tuple(passes.shape[1:])} for a "
                                 f"batch of {len(xb)}; mc_predict needs outputs of shape "
                                 f"(batch, outputs)")
            if classify:
                passes = passes.softmax(dim=-1)
            mean = passes.mean(dim=0)
            means.append(mean)
            variances.append(passes.var(dim=0, correction=0))
            if classify:
                entropy = _entropy(mean)
                entropies.append(entropy)
                # Clamp: rounding can leave the difference a hair below zero.
                infos.append((entropy - _entropy(passes).mean(dim=0)).clamp_min(0.0))
            if keep_samples:
                kept.append(passes)
    return MCPrediction(
        mean=torch.cat(means),
        variance=torch.cat(variances),
        entropy=torch.cat(entropies) if classify else None,
        mutual_information=torch.cat(infos) if classify else None,
        samples=torch.cat(kept, dim=1) if keep_samples else None,
        T=T,
    )
