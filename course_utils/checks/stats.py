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
    """How often an entry of a keep-mask equals its neighbour along ``dim``, and a 6σ tolerance.

    Independent coins at p = 0.5 agree half the time; a mask drawn once and broadcast along
    ``dim`` agrees every time. The drop fraction, mean and variance cannot tell the two apart.
    """
    n = kept.shape[dim]
    same = (kept.narrow(dim, 1, n - 1) == kept.narrow(dim, 0, n - 1)).double().mean().item()
    pairs = kept.numel() // n * (n - 1)
    return same, 6 * math.sqrt(0.25 / pairs)


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
