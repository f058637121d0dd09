"""Float64 helpers that stay finite and exact at the extremes, for every engine (no sympy, no numpy).

:mod:`derive.graph` (the sympy engine) and :mod:`derive.softmax_ce` share these, so a
sigmoid-and-cross-entropy number is computed one way wherever it appears.
"""

from __future__ import annotations

import math

__all__ = ["sigmoid", "softplus"]


def sigmoid(x: float) -> float:
    """σ(x) in float64 without overflow: e^x / (1 + e^x) for x < 0.

    >>> sigmoid(0.0), sigmoid(-800.0), sigmoid(40.0)
    (0.5, 0.0, 1.0)
    """
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def softplus(x: float) -> float:
    """ln(1 + e^x) without overflow or cancellation (``log-sigmoid(x) = -softplus(-x)``).

    >>> softplus(800.0), round(softplus(0.0), 12), softplus(-800.0)
    (800.0, 0.69314718056, 0.0)
    """
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
