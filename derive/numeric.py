"""Float64 helpers that stay finite and exact at the extremes, for every engine (no sympy, no numpy).

Every route computes these numbers here: the network engine (:mod:`derive.network.graph`, which
also evaluates the classic conv problem for :mod:`derive.graph`) and :mod:`derive.softmax_ce`,
so a sigmoid, a ReLU kink or a cross-entropy gradient is computed one way wherever it appears.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["bce_dlogit", "relu_derivative", "sech2", "sigmoid", "softmax_ce_dlogits", "softplus"]


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


def sech2(x: float) -> float:
    """1 − tanh²(x) = 4e^{−2|x|} / (1 + e^{−2|x|})², right where 1 − tanh² would round to 0.

    >>> sech2(0.0), sech2(30.0) > 0
    (1.0, True)
    """
    e = math.exp(-2.0 * abs(x))
    return 4.0 * e / (1.0 + e) ** 2


def relu_derivative(z: float) -> float:
    """𝟙[z > 0]: 0 at the kink z = 0 exactly, as torch; any other z, however small, is not at the kink.

    >>> relu_derivative(0.0), relu_derivative(0.1 + 0.2 - 0.3), relu_derivative(-1e-300)
    (0.0, 1.0, 0.0)
    """
    return 1.0 if z > 0 else 0.0


def bce_dlogit(z: float, y: float) -> float:
    """∂L/∂ŷ of the cross-entropy on p = σ(ŷ): p − y, written y·(p − 1) + (1 − y)·p = −y·σ(−ŷ) + (1 − y)·σ(ŷ).

    No term is a difference of two numbers near 1, so a confident right answer keeps its digits
    (p − y at ŷ = 40, y = 1 is −σ(−40) = −4.2e-18, where σ(40) − 1 rounds to 0).

    >>> bce_dlogit(40.0, 1.0), bce_dlogit(0.0, 0.0)
    (-4.248354255291589e-18, 0.5)
    """
    if y == 1.0:
        return -sigmoid(-z)
    if y == 0.0:
        return sigmoid(z)
    return (1.0 - y) * sigmoid(z) - y * sigmoid(-z)


def softmax_ce_dlogits(z: Sequence[float], target: int) -> list[float]:
    """∂L/∂z_k of softmax + cross-entropy: p_k − [k = target], with p_target − 1 = −Σ_{k≠target} p_k.

    The softmax is taken after subtracting the largest logit (no overflow), and the target's
    entry is the sum of the others (no cancellation): logits (40, 0, −40), target 0 give
    −4.25e-18 there, not 0.

    >>> softmax_ce_dlogits([40.0, 0.0, -40.0], 0)[0]
    -4.248354255291589e-18
    """
    top = max(z)
    e = [math.exp(v - top) for v in z]
    total = math.fsum(e)
    p = [v / total for v in e]
    p[target] = -math.fsum(v for k, v in enumerate(p) if k != target)
    return p
