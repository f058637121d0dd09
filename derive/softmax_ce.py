"""Softmax + cross-entropy, and sigmoid + binary cross-entropy, step by step.

The course's classification questions end in a softmax over logits
``z_0 … z_{n-1}`` and the cross-entropy ``L = -Σ_k y_k log ŷ_k`` with a one-hot
target ``y``; the answer is ``∂L/∂z_i = ŷ_i − y_i``. With one output the same
holds for a sigmoid and the binary cross-entropy. The steps show the textbook
chain rule, with numbers when values are given; :func:`symbolic_gradient`
gives sympy's own derivative of the loss, which the tests reduce to the same
closed form (and torch autograd confirms the numbers).

Values use the layout of ``derive grad --values``: a mapping with ``z`` (the
logits, a list of ``classes`` numbers) and ``y`` (the one-hot target, a list of
``classes`` numbers; for the sigmoid one number, 0 or 1, or a list of one).

>>> problem = SoftmaxCE(classes=3)
>>> d = derive_softmax_ce(problem, "z1", values={"z": [1.0, 2.0, 0.5], "y": [0, 1, 0]})
>>> round(d.result.value, 4)
-0.3715
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from derive.errors import DeriveError, did_you_mean
from derive.numeric import sigmoid
from derive.steps import Derivation, Step, format_number, latex_number
from derive.values import finite, shown

__all__ = [
    "ACTIVATIONS",
    "SoftmaxCE",
    "autograd",
    "check_values",
    "derive_softmax_ce",
    "random_values",
    "symbolic_gradient",
]

ACTIVATIONS = ("sigmoid", "softmax")
"""The output layers: ``softmax`` over ``classes`` logits, or ``sigmoid`` of one logit."""


@dataclass(frozen=True)
class SoftmaxCE:
    """An output layer and its cross-entropy loss.

    Args:
        classes: Number of logits (at least 2 for ``softmax``; 1 for ``sigmoid``).
        activation: ``"softmax"`` (categorical cross-entropy) or ``"sigmoid"``
            (binary cross-entropy).
    """

    classes: int = 3
    activation: str = "softmax"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise DeriveError(
                f"Unknown activation {self.activation!r} for the cross-entropy output: "
                f"expected one of {', '.join(ACTIVATIONS)}.{did_you_mean(str(self.activation), ACTIVATIONS)}"
            )
        if not isinstance(self.classes, int) or isinstance(self.classes, bool):
            raise DeriveError(f"classes must be a whole number, got {self.classes!r}.")
        if self.activation == "softmax" and not 2 <= self.classes <= 20:
            raise DeriveError(
                f"A softmax needs 2 to 20 classes, got {self.classes!r}; "
                "for one output use activation 'sigmoid' (binary cross-entropy)."
            )
        if self.activation == "sigmoid" and self.classes != 1:
            raise DeriveError(
                f"A sigmoid output has one logit, got classes={self.classes!r}; "
                "use classes = 1, or activation 'softmax' for several classes."
            )

    @property
    def variables(self) -> tuple[str, ...]:
        """The names a question may ask for: ``z0 … z{n-1}``, or ``z`` for the sigmoid."""
        if self.activation == "sigmoid":
            return ("z",)
        return tuple(f"z{i}" for i in range(self.classes))


def random_values(problem: SoftmaxCE, seed: int) -> dict[str, Any]:
    """Draw logits with one decimal in [-2, 2] and a one-hot target, reproducibly from ``seed``."""
    rng = random.Random(seed)
    z = [rng.randint(-20, 20) / 10 for _ in range(problem.classes)]
    if problem.activation == "sigmoid":
        return {"z": z, "y": [rng.randint(0, 1)]}
    target = rng.randrange(problem.classes)
    return {"z": z, "y": [1 if k == target else 0 for k in range(problem.classes)]}


def _numbers(values: Mapping[str, Any], key: str, n: int, where: str) -> list[float]:
    raw = values[key]
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and n == 1:
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or len(raw) != n:
        raise DeriveError(f"{where}: {key!r} must be a list of {n} numbers, got {shown(raw)}.")
    out = []
    for x in raw:
        value = finite(x)
        if value is None:
            raise DeriveError(f"{where}: {key!r} must hold finite numbers (float64), got {shown(x)}.")
        out.append(value)
    return out


def check_values(problem: SoftmaxCE, values: Mapping[str, Any], *, where: str = "values") -> dict[str, list[float]]:
    """Validate ``values`` for ``problem`` and return ``{"z": [...], "y": [...]}`` as floats.

    Raises:
        DeriveError: a key is missing or unknown, a list has the wrong length,
            or the target is not one-hot (softmax) or not in [0, 1] (sigmoid).
    """
    if not isinstance(values, Mapping):
        raise DeriveError(f"{where}: expected a table with keys 'z' and 'y', got {values!r}.")
    for key in values:
        if key not in ("z", "y"):
            raise DeriveError(
                f"{where}: unknown key {key!r}; the cross-entropy values are 'z' (logits) and 'y' (target)."
                f"{did_you_mean(str(key), ['z', 'y'])}"
            )
    for key in ("z", "y"):
        if key not in values:
            raise DeriveError(f"{where}: missing {key!r} ({'logits' if key == 'z' else 'target'}).")
    n = problem.classes
    z = _numbers(values, "z", n, where)
    y = _numbers(values, "y", n, where)
    if problem.activation == "softmax":
        if sorted(y) != [0.0] * (n - 1) + [1.0]:
            raise DeriveError(
                f"{where}: 'y' must be one-hot (one 1, the rest 0) for ∂L/∂z_i = ŷ_i − y_i, got {values['y']!r}."
            )
    elif not 0.0 <= y[0] <= 1.0:
        raise DeriveError(f"{where}: the binary target 'y' must lie in [0, 1], got {y[0]!r}.")
    return {"z": z, "y": y}


@lru_cache(maxsize=64)
def symbolic_gradient(problem: SoftmaxCE, index: int) -> tuple[Any, Any]:
    """Return ``(sympy derivative, closed form)`` of the loss with respect to logit ``index``.

    The derivative is sympy's ``diff`` of the loss with symbolic targets; the
    closed form is ``ŷ_i − y_i``. They agree whenever ``Σ y_k = 1``.
    """
    import sympy as sp

    if problem.activation == "sigmoid":
        z, y = sp.symbols("z y", real=True)
        yhat = 1 / (1 + sp.exp(-z))
        loss = -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat))
        return sp.simplify(sp.diff(loss, z)), yhat - y
    zs = sp.symbols(f"z0:{problem.classes}", real=True)
    ys = sp.symbols(f"y0:{problem.classes}", real=True)
    total = sum(sp.exp(zk) for zk in zs)
    loss = -sum(yk * sp.log(sp.exp(zk) / total) for yk, zk in zip(ys, zs))
    return sp.diff(loss, zs[index]), sp.exp(zs[index]) / total - ys[index]


def _logsumexp(z: list[float]) -> float:
    top = max(z)
    return top + math.log(math.fsum(math.exp(v - top) for v in z))


def _softmax(z: list[float]) -> list[float]:
    lse = _logsumexp(z)
    return [math.exp(v - lse) for v in z]


def _finite_or_fail(value: float, what: str, where: str) -> float:
    if not math.isfinite(value):
        raise DeriveError(
            f"values: {what} is beyond float64 (|x| > 1.8e308) at {where}, so this step cannot be shown; "
            "scale the logits down (|z| < 700)."
        )
    return value


def _index(problem: SoftmaxCE, wrt: str) -> int:
    if wrt not in problem.variables:
        hint = "z" if problem.activation == "sigmoid" else f"z0 to z{problem.classes - 1}"
        raise DeriveError(
            f"Unknown variable {wrt!r}: the cross-entropy gradient is taken with respect to the logits ({hint})."
            f"{did_you_mean(str(wrt), problem.variables)}"
        )
    return problem.variables.index(wrt)


def derive_softmax_ce(problem: SoftmaxCE, wrt: str, *, values: Mapping[str, Any] | None = None) -> Derivation:
    """Derive ``∂L/∂z_i`` for the output layer ``problem``, with numbers if ``values`` are given.

    Args:
        problem: The output layer (softmax over ``classes`` logits, or sigmoid).
        wrt: The logit, ``"z1"`` (softmax) or ``"z"`` (sigmoid).
        values: Optional ``{"z": [...], "y": [...]}``; see :func:`check_values`.

    Returns:
        A :class:`~derive.steps.Derivation`; its ``result.value`` is the number
        (``None`` without values).

    Raises:
        DeriveError: an unknown variable or bad values.
    """
    i = _index(problem, wrt)
    vals = check_values(problem, values) if values is not None else None
    if problem.activation == "sigmoid":
        return _sigmoid_steps(vals)
    return _softmax_steps(problem, i, vals)


def _eq(latex: str, text: str, value: float | None, latex_work: str = "", text_work: str = "") -> tuple[str, str]:
    """Append ``= working = number`` to both forms when a number is known."""
    if value is None:
        return latex, text
    return (f"{latex}{latex_work} = {latex_number(value)}", f"{text}{text_work} = {format_number(value)}")


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _given(vals: Mapping[str, list[float]] | None) -> tuple[Step, ...]:
    """The numbers used, as the first steps (group ``Given``)."""
    if vals is None:
        return ()
    return tuple(
        Step(
            key,
            f"{key} = ({', '.join(latex_number(v) for v in vals[key])})",
            f"{key} = ({', '.join(format_number(v) for v in vals[key])})",
            None,
            "Given",
        )
        for key in ("z", "y")
    )


def _softmax_steps(problem: SoftmaxCE, i: int, vals: dict[str, list[float]] | None) -> Derivation:
    n, si = problem.classes, str(i).translate(_SUB)
    zi, yi, yhi = f"z_{{{i}}}", f"y_{{{i}}}", f"\\hat{{y}}_{{{i}}}"
    denom = " + ".join(f"e^{{z_{{{k}}}}}" for k in range(n))
    yhat = loss = grad = None
    t = 0
    if vals is not None:
        p = _softmax(vals["z"])
        t = vals["y"].index(1.0)
        loss = _logsumexp(vals["z"]) - vals["z"][t]  # −log ŷ_t from log-sum-exp, never log of a rounded ŷ_t
        yhat, grad = p[i], p[i] - vals["y"][i]
        _finite_or_fail(loss, "the loss L", f"z = {vals['z']}")
    fwd, bwd = "Forward pass", "Backward pass"
    dl = f"\\frac{{\\partial L}}{{\\partial {zi}}}"
    steps = (
        Step(
            f"ŷ{si}",
            *_eq(
                f"{yhi} = \\frac{{e^{{{zi}}}}}{{\\sum_{{k}} e^{{z_{{k}}}}}} = \\frac{{e^{{{zi}}}}}{{{denom}}}",
                f"ŷ{si} = e^z{si} / Σₖ e^zₖ",
                yhat,
            ),
            yhat,
            fwd,
        ),
        Step(
            "L",
            *_eq(
                "L = -\\sum_{k} y_{k} \\log \\hat{y}_{k}",
                "L = −Σₖ yₖ log ŷₖ",
                loss,
                f" = -\\log \\hat{{y}}_{{{t}}}",
                f" = −log ŷ{str(t).translate(_SUB)}",
            ),
            loss,
            fwd,
        ),
        Step(
            f"∂ŷₖ/∂z{si}",
            f"\\frac{{\\partial \\hat{{y}}_{{k}}}}{{\\partial {zi}}} = \\hat{{y}}_{{k}} (\\delta_{{k{i}}} - {yhi})",
            f"∂ŷₖ/∂z{si} = ŷₖ (δₖ{si} − ŷ{si})",
            None,
            bwd,
        ),
        Step(
            f"∂L/∂z{si} (chain rule)",
            f"{dl} = \\sum_{{k}} \\frac{{\\partial L}}{{\\partial \\hat{{y}}_{{k}}}} \\frac{{\\partial \\hat{{y}}_{{k}}}}{{\\partial {zi}}}"
            f" = -\\sum_{{k}} \\frac{{y_{{k}}}}{{\\hat{{y}}_{{k}}}} \\hat{{y}}_{{k}} (\\delta_{{k{i}}} - {yhi})"
            f" = {yhi} \\sum_{{k}} y_{{k}} - {yi}",
            f"∂L/∂z{si} = Σₖ ∂L/∂ŷₖ · ∂ŷₖ/∂z{si} = −Σₖ (yₖ/ŷₖ) ŷₖ (δₖ{si} − ŷ{si}) = ŷ{si} Σₖ yₖ − y{si}",
            None,
            bwd,
        ),
    )
    work_l = "" if vals is None or yhat is None else f" = {latex_number(yhat)} - {latex_number(vals['y'][i])}"
    work_t = "" if vals is None or yhat is None else f" = {format_number(yhat)} − {format_number(vals['y'][i])}"
    result = Step(
        f"∂L/∂z{si}", *_eq(f"{dl} = {yhi} - {yi}", f"∂L/∂z{si} = ŷ{si} − y{si}", grad, work_l, work_t), grad, bwd
    )
    return Derivation(
        title=f"∂L/∂z{si}: softmax over {n} logits + cross-entropy, one-hot target",
        steps=(*_given(vals), *steps),
        result=result,
        notes=("With a one-hot target Σₖ yₖ = 1, so the gradient is the predicted probability minus the target.",),
    )


def _sigmoid_steps(vals: dict[str, list[float]] | None) -> Derivation:
    yhat = loss = dyhat = dsig = grad = None
    y = 0.0
    if vals is not None:
        z, y = vals["z"][0], vals["y"][0]
        yhat, one_minus = sigmoid(z), sigmoid(-z)  # 1 − ŷ without rounding ŷ to 1 first
        loss = max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))  # the same, without cancellation
        try:
            dyhat = (-y / yhat if y else 0.0) + ((1 - y) / one_minus if y != 1 else 0.0)
        except ZeroDivisionError:
            dyhat = math.inf
        _finite_or_fail(dyhat, "∂L/∂ŷ", f"z = {z:g} (ŷ = σ(z) rounds to {1 if z > 0 else 0})")
        dsig = yhat * one_minus
        grad = yhat - y
    fwd, bwd = "Forward pass", "Backward pass"
    steps = (
        Step("ŷ", *_eq("\\hat{y} = \\sigma(z) = \\frac{1}{1 + e^{-z}}", "ŷ = σ(z) = 1 / (1 + e^−z)", yhat), yhat, fwd),
        Step(
            "L",
            *_eq(
                "L = -\\left[ y \\log \\hat{y} + (1 - y) \\log (1 - \\hat{y}) \\right]",
                "L = −[y log ŷ + (1 − y) log(1 − ŷ)]",
                loss,
            ),
            loss,
            fwd,
        ),
        Step(
            "∂L/∂ŷ",
            *_eq(
                "\\frac{\\partial L}{\\partial \\hat{y}} = -\\frac{y}{\\hat{y}} + \\frac{1 - y}{1 - \\hat{y}}"
                " = \\frac{\\hat{y} - y}{\\hat{y} (1 - \\hat{y})}",
                "∂L/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ) = (ŷ − y) / (ŷ (1 − ŷ))",
                dyhat,
            ),
            dyhat,
            bwd,
        ),
        Step(
            "∂ŷ/∂z",
            *_eq(
                "\\frac{\\partial \\hat{y}}{\\partial z} = \\sigma(z) (1 - \\sigma(z)) = \\hat{y} (1 - \\hat{y})",
                "∂ŷ/∂z = σ(z)(1 − σ(z)) = ŷ (1 − ŷ)",
                dsig,
            ),
            dsig,
            bwd,
        ),
    )
    work_l = "" if yhat is None else f" = {latex_number(yhat)} - {latex_number(y)}"  # yhat is set with vals
    work_t = "" if yhat is None else f" = {format_number(yhat)} − {format_number(y)}"
    result = Step(
        "∂L/∂z",
        *_eq(
            "\\frac{\\partial L}{\\partial z} = \\frac{\\partial L}{\\partial \\hat{y}} \\frac{\\partial \\hat{y}}{\\partial z}"
            " = \\hat{y} - y",
            "∂L/∂z = ∂L/∂ŷ · ∂ŷ/∂z = ŷ − y",
            grad,
            work_l,
            work_t,
        ),
        grad,
        bwd,
    )
    return Derivation(
        title="∂L/∂z: sigmoid output + binary cross-entropy",
        steps=(*_given(vals), *steps),
        result=result,
        notes=("The factor ŷ(1 − ŷ) of the sigmoid cancels the denominator of ∂L/∂ŷ.",),
    )


def autograd(problem: SoftmaxCE, wrt: str, values: Mapping[str, Any]) -> float:
    """torch autograd's float64 ``∂L/∂wrt`` at ``values`` (imports torch), to check the closed form."""
    import torch

    i = _index(problem, wrt)
    v = check_values(problem, values)
    z = torch.tensor(v["z"], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(v["y"], dtype=torch.float64)
    if problem.activation == "sigmoid":
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    else:
        loss = -(y * torch.log_softmax(z, dim=0)).sum()
    loss.backward()
    assert z.grad is not None  # backward() filled it (z requires grad)
    return float(z.grad[i])
