"""Batch-norm backward pass against torch autograd in float64 (and F.batch_norm)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.batchnorm import BatchNorm, derive_batchnorm, random_values
from derive.errors import DeriveError

torch = pytest.importorskip("torch")


def autograd(values: dict) -> dict[str, float]:
    f64 = torch.float64
    x = torch.tensor(values["x"], dtype=f64, requires_grad=True)
    gamma = torch.tensor(values["gamma"], dtype=f64, requires_grad=True)
    beta = torch.tensor(values["beta"], dtype=f64, requires_grad=True)
    mu = x.mean()
    mu.retain_grad()
    var = ((x - mu) ** 2).mean()
    var.retain_grad()
    y = gamma * (x - mu) / torch.sqrt(var + values["eps"]) + beta
    (y * torch.tensor(values["dy"], dtype=f64)).sum().backward()
    # The same input gradient from PyTorch's own layer, in training mode.
    x2 = torch.tensor(values["x"], dtype=f64, requires_grad=True)
    out = torch.nn.functional.batch_norm(
        x2[:, None], None, None, gamma.detach()[None], beta.detach()[None], training=True, eps=values["eps"]
    )
    (out[:, 0] * torch.tensor(values["dy"], dtype=f64)).sum().backward()
    assert torch.allclose(x.grad, x2.grad, atol=1e-12)
    return {
        "gamma": gamma.grad.item(),
        "beta": beta.grad.item(),
        "var": var.grad.item(),
        "mu": mu.grad.item(),
        **{f"x{i}": g for i, g in enumerate(x.grad.tolist())},
    }


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(2, 8), seed=st.integers(0, 2**32 - 1))
def test_every_gradient_matches_autograd(batch: int, seed: int) -> None:
    problem = BatchNorm(batch=batch)
    values = random_values(problem, seed)
    expected = autograd(values)
    for name in problem.variables:
        got = derive_batchnorm(problem, name, values=values).result.value
        assert got == pytest.approx(expected[name], abs=1e-9), name


def test_x_gradient_shows_three_paths() -> None:
    values = {"x": [1.0, 2.0, 4.0, 5.0], "gamma": 2.0, "beta": 0.5, "dy": [0.1, -0.2, 0.3, 0.4]}
    d = derive_batchnorm(BatchNorm(4), "x2", values=values)
    names = [s.name for s in d.steps if s.group != "Given"]
    assert names == ["μ_B", "σ²_B", "x̂ᵢ", "yᵢ", "∂L/∂x̂ᵢ", "∂L/∂σ²_B", "∂L/∂μ_B"] and d.result.name == "∂L/∂x₂"
    assert d.steps[5].value == 3.0 and d.steps[6].value == 2.5
    assert r"\frac{2 (x_{2} - \mu_B)}{4}" in d.result.latex


BAD = [
    ("x9", None, "Unknown variable 'x9'.*x0 to x3"),
    ("sigma", None, "Unknown variable 'sigma'"),
    ("gamma", {"x": [1, 2, 3], "gamma": 1, "beta": 0, "dy": [0, 0, 0, 0]}, "'x' must be a list of m = 4 numbers"),
    ("gamma", {"x": [1, 2, 3, 4], "gamma": 1, "beta": 0}, "missing 'dy'"),
    ("gamma", {"x": [1, 2, 3, 4], "gamma": 1, "beta": 0, "dy": [0] * 4, "eps": 0}, "'eps' must be positive"),
    ("gamma", {"x": [1, 2, 3, 4], "gama": 1, "beta": 0, "dy": [0] * 4}, "unknown key 'gama'.*Did you mean 'gamma'"),
]


@pytest.mark.parametrize(("wrt", "values", "message"), BAD, ids=[b[2][:24] for b in BAD])
def test_bad_input(wrt: str, values: dict | None, message: str) -> None:
    with pytest.raises(DeriveError, match=message):
        derive_batchnorm(BatchNorm(4), wrt, values=values)


def test_bad_batch() -> None:
    with pytest.raises(DeriveError, match="batch size m must be a whole number from 2 to 16, got 1"):
        BatchNorm(batch=1)
