"""The statistics behind the checks: a measured fraction is judged against its sampling noise,
and a wrong factor is matched to the mistake that produces it.

>>> round(sigma_band(0.5, 10_000), 3)  # 5 standard errors of a fraction of 10,000 coins
0.025
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor


def close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def agreement(kept: Tensor, dim: int) -> tuple[float, float]:
    """How often neighbouring coins of a keep-mask agree along ``dim``, and a 5σ tolerance.

    Independent coins at p = 0.5 agree half the time; a mask drawn once and broadcast along
    ``dim`` agrees every time. The drop fraction, mean and variance cannot tell the two apart.
    Only one line along ``dim`` is read, every other index at 0: its coins are independent in a
    right mask whatever a wrong one shares along another dimension, so the tolerance holds;
    averaging over lines that a wrong mask makes copies of would not.

    >>> import torch
    >>> same, tol = agreement(torch.ones(4, 101, dtype=torch.bool), dim=1)
    >>> same, tol
    (1.0, 0.25)
    """
    line = kept.movedim(dim, 0).reshape(kept.shape[dim], -1)[:, 0]
    return pair_agreement(line[1:], line[:-1])


def pair_agreement(a: Tensor, b: Tensor) -> tuple[float, float]:
    """How often the coins ``a`` and ``b`` agree, pair by pair, and a 5σ tolerance. Each pair
    must be independent of the others in a right mask."""
    same = (a == b).double().mean().item()
    return same, 5 * math.sqrt(0.25 / a.numel())


def sigma_band(p: float, n: int, sigmas: float = 5.0) -> float:
    """The tolerance for a measured fraction of ``n`` independent coins with probability ``p``:
    ``sigmas`` standard errors. At 5σ a right implementation fails about once in 3 million."""
    return sigmas * math.sqrt(p * (1 - p) / n)


def hint_for_ratio(ratio: float, known: Sequence[tuple[float, str]], default: str,
                   tol: float) -> str:
    """The hint of the first known mistake whose factor ``ratio`` matches within ``tol``.

    A wrong scale leaves a fingerprint: forgetting to divide by 1 - p multiplies the mean by
    1 - p, dividing by p multiplies it by (1 - p) / p, and so on.

    >>> hint_for_ratio(0.7, [(0.7, "not scaled"), (2.3, "divided by p")], "scale it", 0.01)
    'not scaled'
    """
    for factor, hint in known:
        if close(ratio, factor, tol):
            return hint
    return default
