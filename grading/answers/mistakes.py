"""The known mistakes of the derivations, their sentences, and naming the one an answer matches.

Each kind's model computes its mistakes with the engine at a student's values
(``mistakes`` of :class:`derive.kinds.base.AnswerModel`, in the kind's module of
:mod:`derive.kinds`); each returns ``{mistake id: [value, ...]}``: what a student who makes
that mistake answers. ``one-term`` has one value per output position (the student
may have kept any one term); ``flipped-kernel`` two (the whole network convolved
with the flipped kernel, and only ∂z/∂w, ∂z/∂a flipped, as a formula in nodes
reads); every other mistake has one value. A mistake is
named only when the answer matches it and its value differs from the right one
and from every other mistake's (:func:`diagnose`), so an answer that several
mistakes explain equally is called wrong without a name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from derive import kinds

__all__ = ["EXPLAIN", "MISTAKES", "diagnose", "diagnose_points", "explain"]

MISTAKES = (
    "bce-missing-sigmoid-derivative",
    "factor-2",
    "flipped-kernel",
    "missing-softmax-derivative",
    "no-activation-derivative",
    "one-path",
    "one-term",
    "reversed-coefficients",
    "shape-no-padding",
    "shape-no-plus-one",
    "shape-no-stride",
    "shape-padding-once",
    "shape-plus-one-twice",
    "sign",
    "transposed-index",
    "unbiased-variance",
)
"""Every mistake id ``grade --variants`` may name."""

EXPLAIN: dict[str, str] = {
    "factor-2": "At the step ∂L/∂ŷ your answer is off by a factor of 2: the derivative of (ŷ − y)² is 2(ŷ − y), "
    "that of ½(ŷ − y)² is (ŷ − y); use the loss the question gives.",
    "sign": "Your answer has the right size but the wrong sign: check ∂L/∂ŷ (ŷ minus y, not y minus ŷ) and the sign "
    "of every factor of the chain rule.",
    "flipped-kernel": "At the forward pass you flipped the kernel (a true convolution); nn.Conv2d and the course use "
    "cross-correlation, z_ij = Σ w_mn a_(i+m)(j+n), with the kernel not flipped.",
    "no-activation-derivative": "At the step ∂h/∂z you took the activation's derivative as 1; for the sigmoid it is "
    "σ(z)(1 − σ(z)) (tanh: 1 − tanh²(z), ReLU: 1 where z > 0).",
    "one-term": "At the step that sums over the output positions you kept one term only; the variable reaches several "
    "outputs z_ij, and the gradient adds one term per position.",
    "transposed-index": "At the indices: your answer is the gradient of the transposed entry (w_ji for w_ij); the first "
    "index is the row, the second the column.",
    "bce-missing-sigmoid-derivative": "At the step ∂L/∂ŷ = ∂L/∂p · ∂p/∂ŷ you used ∂L/∂p alone; the output sigmoid adds the "
    "factor p(1 − p), which makes ∂L/∂ŷ = p − y.",
    "missing-softmax-derivative": "At the step ∂L/∂z_i you stopped at ∂L/∂ŷ_i = −y_i/ŷ_i; the softmax's derivative still "
    "has to be applied, which gives ŷ_i − y_i.",
    "unbiased-variance": "At the step σ²_B you divided by m − 1 (the unbiased variance); batch norm normalises with the "
    "biased batch variance, divided by m.",
    "one-path": "At the step ∂L/∂x_i you kept the path through x̂_i only; x_i also reaches L through σ²_B and μ_B, and "
    "the three terms add up.",
    "reversed-coefficients": "At reading the fit you took the coefficients in the wrong order: numpy.polyfit returns "
    "the highest power first (w_m, …, w_0); numpy.polynomial.polynomial.polyfit returns w_0 first.",
    "shape-plus-one-twice": "At the output-size formula you added 1 inside the floor as well (as the FER report does); "
    "it is ⌊(W + 2P − K)/S⌋ + 1, with the +1 outside only.",
    "shape-no-padding": "At the output-size formula you left out the padding: the padded input is W + 2P wide, "
    "so the size is ⌊(W + 2P − K)/S⌋ + 1.",
    "shape-padding-once": "At the output-size formula you padded one side only: padding P is added on both sides, "
    "W + 2P, not W + P.",
    "shape-no-plus-one": "At the output-size formula you left out the + 1 after the floor: a kernel of size K fits "
    "⌊(W + 2P − K)/S⌋ + 1 times.",
    "shape-no-stride": "At the output-size formula you left out the stride: divide by S inside the floor, "
    "⌊(W + 2P − K)/S⌋ + 1.",
}
"""One sentence per mistake, naming the step of the derivation where it happens."""


def explain(mistake: str, kind: str) -> str:
    """The sentence for ``mistake`` in a question of ``kind``: the kind's own (its ``explanations``), else the general one.

    >>> explain("sign", "softmax-ce").startswith("Your answer has the right size")
    True
    """
    found = kinds.find(kind)
    if found is not None and mistake in found.explanations:
        return found.explanations[mistake]
    return EXPLAIN[mistake]


Close = Callable[[float, float], bool]


# ---------------------------------------------------------------- naming one


def diagnose(answer: float, right: float, mistakes: Mapping[str, Sequence[float]], close: Close) -> str | None:
    """The one mistake ``answer`` matches whose value differs from ``right`` and from the other mistakes'.

    >>> diagnose(-1.0, 1.0, {"sign": [-1.0], "factor-2": [2.0]}, lambda a, b: abs(a - b) < 1e-9)
    'sign'
    >>> diagnose(0.0, 0.0, {"sign": [-0.0]}, lambda a, b: abs(a - b) < 1e-9) is None
    True
    """
    return diagnose_points([answer], [right], [mistakes], close)


def diagnose_points(
    answers: Sequence[float], rights: Sequence[float], mistakes: Sequence[Mapping[str, Sequence[float]]], close: Close
) -> str | None:
    """:func:`diagnose` over several points: a formula matches a mistake when it does at every point."""
    ids = list(mistakes[0])
    found: list[str] = []
    for mid in ids:
        for c in range(len(mistakes[0][mid])):
            value = [m[mid][c] for m in mistakes]
            if not all(math.isfinite(v) and close(a, v) for a, v in zip(answers, value)):
                continue
            if all(close(v, r) for v, r in zip(value, rights)):
                continue  # the mistake changes nothing here
            others = [[m[o][k] for m in mistakes] for o in ids if o != mid for k in range(len(mistakes[0][o]))]
            if any(all(close(v, u) for v, u in zip(value, other)) for other in others):
                continue  # another mistake gives the same answer: no telling them apart
            found.append(mid)
            break
    return found[0] if len(found) == 1 else None
