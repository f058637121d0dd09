"""The batch-normalisation backward pass, step by step, as the course derives it.

One feature over a mini-batch ``x_0 … x_{m-1}`` (Ioffe and Szegedy's notation,
used in student-report-fer-wide-resnet.md)::

    μ_B = (1/m) Σ x_i            σ²_B = (1/m) Σ (x_i − μ_B)²
    x̂_i = (x_i − μ_B) / √(σ²_B + ε)     y_i = γ x̂_i + β

Given the upstream gradient ``∂L/∂y_i`` the backward pass finds ``∂L/∂x̂_i``,
``∂L/∂σ²_B``, ``∂L/∂μ_B``, ``∂L/∂x_i``, ``∂L/∂γ`` and ``∂L/∂β``. (The report
writes ``∂l/∂x_i`` for ``∂l/∂x̂_i`` and ``∂l/∂σ`` for ``∂l/∂γ``; the steps here
name each one apart.) The variance is the biased one (divided by ``m``), as
PyTorch uses to normalise in training mode.

Values (the ``--values`` layout): ``x`` (m numbers), ``gamma``, ``beta``,
``eps`` (optional, default 1e-5) and ``dy`` (m numbers, the upstream ``∂L/∂y_i``).
Variables a question may ask: ``gamma``, ``beta``, ``var``, ``mu``, ``x0`` …

>>> v = {"x": [1.0, 2.0, 4.0, 5.0], "gamma": 2.0, "beta": 0.5, "dy": [0.1, -0.2, 0.3, 0.4]}
>>> round(derive_batchnorm(BatchNorm(batch=4), "beta", values=v).result.value, 6)
0.6
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from derive.errors import DeriveError, did_you_mean
from derive.steps import Derivation, Step, format_number, latex_number
from derive.values import finite, shown

__all__ = [
    "BatchNorm",
    "DEFAULT_EPS",
    "autograd",
    "check_values",
    "derive_batchnorm",
    "forward_backward",
    "random_values",
]

DEFAULT_EPS = 1e-5
"""PyTorch's default ε of ``nn.BatchNorm2d``."""

_KEYS = ("x", "gamma", "beta", "eps", "dy")


@dataclass(frozen=True)
class BatchNorm:
    """A batch-norm layer on one feature over a mini-batch of ``batch`` numbers."""

    batch: int = 4

    def __post_init__(self) -> None:
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or not 2 <= self.batch <= 16:
            raise DeriveError(f"The batch size m must be a whole number from 2 to 16, got {self.batch!r}.")

    @property
    def variables(self) -> tuple[str, ...]:
        """The names a question may ask for."""
        return ("gamma", "beta", "var", "mu", *(f"x{i}" for i in range(self.batch)))


def random_values(problem: BatchNorm, seed: int) -> dict[str, Any]:
    """Draw a batch with one decimal, γ, β and upstream gradients, reproducibly from ``seed``."""
    rng = random.Random(seed)
    m = problem.batch
    x = [rng.randint(-30, 30) / 10 for _ in range(m)]
    while len(set(x)) < 2:  # a constant batch has σ² = 0: legal, but a dull question
        x[0] = rng.randint(-30, 30) / 10
    return {
        "x": x,
        "gamma": rng.randint(5, 20) / 10,
        "beta": rng.randint(-10, 10) / 10,
        "eps": DEFAULT_EPS,
        "dy": [rng.randint(-10, 10) / 10 for _ in range(m)],
    }


def _number(raw: Any, key: str, where: str) -> float:
    value = finite(raw)
    if value is None:
        raise DeriveError(f"{where}: {key!r} must be a finite float64 number, got {shown(raw)}.")
    return value


def check_values(problem: BatchNorm, values: Mapping[str, Any], *, where: str = "values") -> dict[str, Any]:
    """Validate ``values`` and return them as floats, with ``eps`` filled in."""
    if not isinstance(values, Mapping):
        raise DeriveError(f"{where}: expected a table with keys {', '.join(_KEYS)}, got {values!r}.")
    for key in values:
        if key not in _KEYS:
            raise DeriveError(
                f"{where}: unknown key {key!r}; batch-norm values are {', '.join(_KEYS)}.{did_you_mean(str(key), _KEYS)}"
            )
    for key in ("x", "gamma", "beta", "dy"):
        if key not in values:
            raise DeriveError(
                f"{where}: missing {key!r}; batch-norm values need x, gamma, beta and dy (eps is optional)."
            )
    out: dict[str, Any] = {}
    for key in ("x", "dy"):
        raw = values[key]
        if not isinstance(raw, (list, tuple)) or len(raw) != problem.batch:
            raise DeriveError(f"{where}: {key!r} must be a list of m = {problem.batch} numbers, got {raw!r}.")
        out[key] = [_number(v, key, where) for v in raw]
    for key in ("gamma", "beta"):
        out[key] = _number(values[key], key, where)
    out["eps"] = _number(values.get("eps", DEFAULT_EPS), "eps", where)
    if out["eps"] <= 0:
        raise DeriveError(f"{where}: 'eps' must be positive (it keeps √(σ² + ε) away from 0), got {values['eps']!r}.")
    return out


def forward_backward(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every intermediate number of the forward and backward pass, from checked ``values``.

    Raises:
        DeriveError: a number beyond float64 (σ² of values near 1e200), in one line.
    """
    try:
        out = _forward_backward(values)
    except (OverflowError, ZeroDivisionError):
        out = {"var": math.inf}
    bad = [k for k, v in out.items() if not all(math.isfinite(x) for x in (v if isinstance(v, list) else [v]))]
    if bad:
        raise DeriveError(
            f"values: the batch-norm {_NAMES.get(bad[0], bad[0])} is beyond float64 (|x| > 1.8e308) at these "
            "numbers, so its steps cannot be shown; scale x, gamma and dy down (|x| < 1e150)."
        )
    return out


_NAMES = {
    "mu": "mean μ_B",
    "var": "variance σ²_B",
    "std": "√(σ²_B + ε)",
    "xhat": "x̂",
    "y": "output y",
    "dxhat": "∂L/∂x̂",
    "dvar": "∂L/∂σ²_B",
    "dmu": "∂L/∂μ_B",
    "dx": "∂L/∂x",
    "dgamma": "∂L/∂γ",
    "dbeta": "∂L/∂β",
}


def _forward_backward(values: Mapping[str, Any]) -> dict[str, Any]:
    x, dy, gamma, eps = values["x"], values["dy"], values["gamma"], values["eps"]
    m = len(x)
    mu = sum(x) / m
    var = sum((xi - mu) ** 2 for xi in x) / m
    std = math.sqrt(var + eps)
    xhat = [(xi - mu) / std for xi in x]
    dxhat = [g * gamma for g in dy]
    dvar = sum(d * (xi - mu) for d, xi in zip(dxhat, x)) * -0.5 * (var + eps) ** -1.5
    dmu = sum(-d / std for d in dxhat) + dvar * sum(-2 * (xi - mu) for xi in x) / m
    dx = [d / std + dvar * 2 * (xi - mu) / m + dmu / m for d, xi in zip(dxhat, x)]
    return {
        "mu": mu,
        "var": var,
        "std": std,
        "xhat": xhat,
        "y": [gamma * h + values["beta"] for h in xhat],
        "dxhat": dxhat,
        "dvar": dvar,
        "dmu": dmu,
        "dx": dx,
        "dgamma": sum(g * h for g, h in zip(dy, xhat)),
        "dbeta": sum(dy),
    }


def _vec(xs: list[float]) -> str:
    return "(" + ", ".join(latex_number(v) for v in xs) + ")"


def _tvec(xs: list[float]) -> str:
    return "(" + ", ".join(format_number(v) for v in xs) + ")"


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_FWD, _BWD = "Forward pass", "Backward pass"
_DL = "\\frac{\\partial L}{\\partial "


def _step(name: str, latex: str, text: str, value: float | list[float] | None, group: str, shown: str = "") -> Step:
    """A step; a list value is shown as a vector (the step's ``value`` stays ``None``)."""
    if value is None:
        return Step(name, latex, text, None, group)
    if isinstance(value, list):
        return Step(name, f"{latex} = {_vec(value)}", f"{text} = {_tvec(value)}", None, group)
    return Step(name, f"{latex}{shown} = {latex_number(value)}", f"{text} = {format_number(value)}", value, group)


def derive_batchnorm(problem: BatchNorm, wrt: str, *, values: Mapping[str, Any] | None = None) -> Derivation:
    """Derive ``∂L/∂wrt`` through a batch-norm layer, with numbers if ``values`` are given.

    Args:
        problem: The layer (its batch size ``m``).
        wrt: One of ``gamma``, ``beta``, ``var``, ``mu``, ``x0`` … ``x{m-1}``.
        values: Optional values; see :func:`check_values`.

    Returns:
        The forward steps, then the backward steps down to ``wrt``; the last is the result.

    Raises:
        DeriveError: an unknown variable or bad values.
    """
    if wrt not in problem.variables:
        raise DeriveError(
            f"Unknown variable {wrt!r}: batch norm is differentiated with respect to gamma, beta, var, mu "
            f"or x0 to x{problem.batch - 1}.{did_you_mean(str(wrt), problem.variables)}"
        )
    m = problem.batch
    v = check_values(problem, values) if values is not None else None
    n = forward_backward(v) if v is not None else None

    def num(key: str, sub: int | None = None) -> Any:
        if n is None:
            return None
        return n[key] if sub is None else n[key][sub]

    s = "\\sum_{i=0}^{" + str(m - 1) + "}"
    steps = [
        _step("μ_B", f"\\mu_B = \\frac{{1}}{{{m}}} {s} x_i", f"μ_B = (1/{m}) Σᵢ xᵢ", num("mu"), _FWD),
        _step(
            "σ²_B",
            f"\\sigma_B^2 = \\frac{{1}}{{{m}}} {s} (x_i - \\mu_B)^2",
            f"σ²_B = (1/{m}) Σᵢ (xᵢ − μ_B)²",
            num("var"),
            _FWD,
        ),
        _step(
            "x̂ᵢ",
            "\\hat{x}_i = \\frac{x_i - \\mu_B}{\\sqrt{\\sigma_B^2 + \\epsilon}}",
            "x̂ᵢ = (xᵢ − μ_B) / √(σ²_B + ε)",
            num("xhat"),
            _FWD,
        ),
        _step("yᵢ", "y_i = \\gamma \\hat{x}_i + \\beta", "yᵢ = γ x̂ᵢ + β", None, _FWD),
    ]
    if wrt in ("beta", "gamma"):
        if wrt == "beta":
            name, sym, form, text = "∂L/∂β", "\\beta", f"{s} {_DL}y_i}}", "∂L/∂β = Σᵢ ∂L/∂yᵢ"
        else:
            name, sym, form, text = "∂L/∂γ", "\\gamma", f"{s} {_DL}y_i}} \\hat{{x}}_i", "∂L/∂γ = Σᵢ ∂L/∂yᵢ · x̂ᵢ"
        steps.append(_step(name, f"{_DL}{sym}}} = {form}", text, num("d" + wrt), _BWD))
        return _done(v, steps, name, "∂L/∂yᵢ is given")
    steps.append(
        _step("∂L/∂x̂ᵢ", f"{_DL}\\hat{{x}}_i}} = {_DL}y_i}} \\cdot \\gamma", "∂L/∂x̂ᵢ = ∂L/∂yᵢ · γ", num("dxhat"), _BWD)
    )
    dvar = f"{s} {_DL}\\hat{{x}}_i}} (x_i - \\mu_B) \\cdot \\left(-\\frac{{1}}{{2}}\\right) (\\sigma_B^2 + \\epsilon)^{{-3/2}}"
    steps.append(
        _step(
            "∂L/∂σ²_B",
            f"{_DL}\\sigma_B^2}} = {dvar}",
            "∂L/∂σ²_B = Σᵢ ∂L/∂x̂ᵢ (xᵢ − μ_B) · (−½)(σ²_B + ε)^(−3/2)",
            num("dvar"),
            _BWD,
        )
    )
    if wrt == "var":
        return _done(v, steps, "∂L/∂σ²_B", "σ²_B is the biased batch variance (divided by m)")
    dmu = (
        f"\\left({s} {_DL}\\hat{{x}}_i}} \\cdot \\frac{{-1}}{{\\sqrt{{\\sigma_B^2 + \\epsilon}}}}\\right)"
        f" + {_DL}\\sigma_B^2}} \\cdot \\frac{{{s} -2 (x_i - \\mu_B)}}{{{m}}}"
    )
    steps.append(
        _step(
            "∂L/∂μ_B",
            f"{_DL}\\mu_B}} = {dmu}",
            f"∂L/∂μ_B = Σᵢ ∂L/∂x̂ᵢ · (−1/√(σ²_B + ε)) + ∂L/∂σ²_B · Σᵢ −2(xᵢ − μ_B) / {m}",
            num("dmu"),
            _BWD,
        )
    )
    if wrt == "mu":
        return _done(v, steps, "∂L/∂μ_B", "Σᵢ (xᵢ − μ_B) = 0, so the second term vanishes")
    i = int(wrt[1:])
    si = str(i).translate(_SUB)
    dx = (
        f"{_DL}\\hat{{x}}_{{{i}}}}} \\frac{{1}}{{\\sqrt{{\\sigma_B^2 + \\epsilon}}}}"
        f" + {_DL}\\sigma_B^2}} \\frac{{2 (x_{{{i}}} - \\mu_B)}}{{{m}}} + {_DL}\\mu_B}} \\frac{{1}}{{{m}}}"
    )
    shown = ""
    if v is not None and n is not None:
        shown = (
            f" = {latex_number(n['dxhat'][i])} \\cdot \\frac{{1}}{{{latex_number(n['std'])}}}"
            f" + ({latex_number(n['dvar'])}) \\cdot \\frac{{2 ({latex_number(v['x'][i])} - ({latex_number(n['mu'])}))}}{{{m}}}"
            f" + ({latex_number(n['dmu'])}) \\cdot \\frac{{1}}{{{m}}}"
        )
    steps.append(
        _step(
            f"∂L/∂x{si}",
            f"{_DL}x_{{{i}}}}} = {dx}",
            f"∂L/∂x{si} = ∂L/∂x̂{si} / √(σ²_B + ε) + ∂L/∂σ²_B · 2(x{si} − μ_B)/{m} + ∂L/∂μ_B / {m}",
            num("dx", i),
            _BWD,
            shown,
        )
    )
    return _done(v, steps, f"∂L/∂x{si}", "xᵢ reaches L three ways: through x̂ᵢ, through σ²_B and through μ_B")


_GIVEN = (
    ("x", "x", "x"),
    ("gamma", "\\gamma", "γ"),
    ("beta", "\\beta", "β"),
    ("eps", "\\epsilon", "ε"),
    ("dy", "\\frac{\\partial L}{\\partial y_i}", "∂L/∂yᵢ"),
)


def _done(v: Mapping[str, Any] | None, steps: list[Step], name: str, note: str) -> Derivation:
    given = (
        []
        if v is None
        else [
            _step(text, latex, text, v[key], "Given")
            if isinstance(v[key], list)
            else Step(text, f"{latex} = {latex_number(v[key])}", f"{text} = {format_number(v[key])}", None, "Given")
            for key, latex, text in _GIVEN
        ]
    )
    return Derivation(
        title=f"{name} through batch normalisation",
        steps=(*given, *steps[:-1]),
        result=steps[-1],
        notes=(note, "Notation as Ioffe and Szegedy (2015): yᵢ = γ x̂ᵢ + β, with the upstream gradient ∂L/∂yᵢ given."),
    )


def autograd(problem: BatchNorm, wrt: str, values: Mapping[str, Any]) -> float:
    """torch autograd's float64 ``∂L/∂wrt`` at ``values`` (imports torch), with ``L = Σ dy_i · y_i``."""
    import torch

    if wrt not in problem.variables:
        raise DeriveError(f"Unknown variable {wrt!r}.{did_you_mean(str(wrt), problem.variables)}")
    v = check_values(problem, values)
    f64 = torch.float64
    x = torch.tensor(v["x"], dtype=f64, requires_grad=True)
    gamma = torch.tensor(v["gamma"], dtype=f64, requires_grad=True)
    beta = torch.tensor(v["beta"], dtype=f64, requires_grad=True)
    mu = x.mean()
    mu.retain_grad()
    var = ((x - mu) ** 2).mean()
    var.retain_grad()
    y = gamma * (x - mu) / torch.sqrt(var + v["eps"]) + beta
    (y * torch.tensor(v["dy"], dtype=f64)).sum().backward()
    grads = {"gamma": gamma.grad, "beta": beta.grad, "var": var.grad, "mu": mu.grad}
    grad = grads.get(wrt, x.grad)
    assert grad is not None  # backward() filled it (each tensor here requires or retains grad)
    return float(grad) if wrt in grads else float(grad[int(wrt[1:])])
