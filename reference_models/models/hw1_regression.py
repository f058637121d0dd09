"""HW1 2023 (一): two models of y = f(x) for the 20 (x, y) pairs of ``HW1-1.csv``.

* ``kind="mlp"`` (the default, part a): a small fully connected network
  1 → 32 → 32 → 1 with tanh (smooth, so f'(x) by autograd is meaningful).
  Parameters: (1 + 1)·32 + (32 + 1)·32 + (32 + 1)·1 = 64 + 1,056 + 33 = 1,153.
* ``kind="polynomial"`` (part b): y = w_m x^m + … + w_1 x + w_0 as an
  ``nn.Module`` whose one parameter is the vector (w_0, …, w_m); m + 1
  parameters. :meth:`Polynomial.coefficients` lists them from w_m down, as the
  handout prints them. Degree 3 fits the shipped sample (a cubic).

Both map (N, 1) or (N,) inputs to (N, 1), so ``torch.autograd.grad`` of the
output at x = 3.0, 0.1, −0.5 gives f'(x) directly.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from reference_models.errors import ModelError

__all__ = ["Config", "Polynomial", "build"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


@dataclass(frozen=True)
class Config:
    """Which model, and its size."""

    kind: str = "mlp"
    hidden: tuple[int, ...] = (32, 32)
    activation: str = "tanh"
    degree: int = 3


class Polynomial(nn.Module):
    """y = Σ_{i=0}^{m} w_i x^i with one parameter ``weight`` = (w_0, …, w_m)."""

    def __init__(self, degree: int) -> None:
        super().__init__()
        self.degree = degree
        self.weight = nn.Parameter(torch.zeros(degree + 1))  # (m + 1,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N,) or (N, 1) -> (N, 1)
        x = x.reshape(-1, 1)
        powers = x ** torch.arange(self.degree + 1, device=x.device, dtype=x.dtype)  # (N, m + 1)
        return powers @ self.weight.to(x.dtype).unsqueeze(1)  # (N, 1)

    def coefficients(self) -> list[float]:
        """[w_m, …, w_1, w_0], highest power first, as plain floats."""
        return [float(w) for w in self.weight.detach().flip(0)]

    def extra_repr(self) -> str:
        return f"degree={self.degree}"


def build(config: Config | None = None) -> nn.Module:
    """The MLP (``kind="mlp"``) or the polynomial (``kind="polynomial"``)."""
    c = config or Config()
    if c.kind == "polynomial":
        if c.degree < 0:
            raise ModelError(f"hw1-regression: degree must be ≥ 0; got {c.degree!r}.")
        return Polynomial(c.degree)
    if c.kind != "mlp":
        raise ModelError(f"hw1-regression: kind must be 'mlp' or 'polynomial'; got {c.kind!r}.")
    if c.activation not in _ACTIVATIONS:
        raise ModelError(f"hw1-regression: activation must be one of {', '.join(_ACTIVATIONS)}; got {c.activation!r}.")
    layers: list[tuple[str, nn.Module]] = []
    width = 1
    for i, h in enumerate(c.hidden, start=1):
        layers += [(f"fc{i}", nn.Linear(width, h)), (f"{c.activation}{i}", _ACTIVATIONS[c.activation]())]
        width = h  # (N, width) -> (N, h)
    layers.append((f"fc{len(c.hidden) + 1}", nn.Linear(width, 1)))  # (N, width) -> (N, 1)
    return nn.Sequential(OrderedDict(layers))
