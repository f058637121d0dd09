"""Softmax + cross-entropy and sigmoid + BCE: closed form against torch autograd in float64."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.errors import DeriveError
from derive.softmax_ce import SoftmaxCE, check_values, derive_softmax_ce, random_values, symbolic_gradient

torch = pytest.importorskip("torch")


def autograd_softmax(z: list[float], y: list[float]) -> list[float]:
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(t[None], torch.tensor([y.index(1)])).backward()
    return t.grad.tolist()


def autograd_sigmoid(z: float, y: float) -> float:
    t = torch.tensor([z], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(t, torch.tensor([y], dtype=torch.float64)).backward()
    return t.grad.item()


@settings(max_examples=40, deadline=None)
@given(classes=st.integers(2, 8), seed=st.integers(0, 2**32 - 1))
def test_softmax_matches_autograd(classes: int, seed: int) -> None:
    problem = SoftmaxCE(classes=classes)
    values = random_values(problem, seed)
    expected = autograd_softmax(values["z"], values["y"])
    for i, name in enumerate(problem.variables):
        got = derive_softmax_ce(problem, name, values=values).result.value
        assert got == pytest.approx(expected[i], abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(z=st.floats(-30, 30), y=st.sampled_from([0.0, 1.0, 0.25]))
def test_sigmoid_bce_matches_autograd(z: float, y: float) -> None:
    d = derive_softmax_ce(SoftmaxCE(classes=1, activation="sigmoid"), "z", values={"z": [z], "y": [y]})
    assert d.result.value == pytest.approx(autograd_sigmoid(z, y), abs=1e-12)
    loss_step = next(s for s in d.steps if s.name == "L")
    t = torch.tensor([z], dtype=torch.float64)
    assert loss_step.value == pytest.approx(
        torch.nn.functional.binary_cross_entropy_with_logits(t, torch.tensor([y], dtype=torch.float64)).item(), abs=1e-9
    )


def test_sympy_derivative_reduces_to_closed_form() -> None:
    import sympy as sp

    problem = SoftmaxCE(classes=3)
    for i in range(3):
        diff, closed = symbolic_gradient(problem, i)
        ys = sp.symbols("y0:3", real=True)
        for target in range(3):
            onehot = {y: int(k == target) for k, y in enumerate(ys)}
            assert sp.simplify((diff - closed).subs(onehot)) == 0
    diff, closed = symbolic_gradient(SoftmaxCE(classes=1, activation="sigmoid"), 0)
    assert sp.simplify(diff - closed.rewrite(sp.exp)) == 0


def test_steps_read_like_the_report() -> None:
    d = derive_softmax_ce(SoftmaxCE(3), "z1", values={"z": [1.0, 2.0, 0.5], "y": [0, 1, 0]})
    assert [s.group for s in d.steps] == ["Given"] * 2 + ["Forward pass"] * 2 + ["Backward pass"] * 2
    assert d.steps[0].text == "z = (1, 2, 0.5)" and d.result.group == "Backward pass"
    assert d.result.latex.startswith(r"\frac{\partial L}{\partial z_{1}} = \hat{y}_{1} - y_{1} = 0.628532 - 1 = ")
    symbolic = derive_softmax_ce(SoftmaxCE(3), "z1")
    assert symbolic.result.value is None and "=" not in symbolic.result.latex.split(r"\hat{y}_{1} - y_{1}")[1]


BAD = [
    ("z5", None, "Unknown variable 'z5'.*z0 to z2"),
    ("z1", {"z": [1, 2], "y": [0, 1, 0]}, "'z' must be a list of 3 numbers"),
    ("z1", {"z": [1, 2, 3], "y": [0.5, 0.5, 0]}, "'y' must be one-hot"),
    ("z1", {"z": [1, 2, 3], "t": [0, 1, 0]}, "unknown key 't'"),
    ("z1", {"z": [1, 2, 3]}, "missing 'y'"),
    ("z1", {"z": [1, "2", 3], "y": [0, 1, 0]}, "finite numbers \\(float64\\), got '2'"),
    ("z1", {"z": [1, float("nan"), 3], "y": [0, 1, 0]}, "finite numbers"),
]


@pytest.mark.parametrize(("wrt", "values", "message"), BAD, ids=[b[2][:24] for b in BAD])
def test_bad_input(wrt: str, values: dict | None, message: str) -> None:
    with pytest.raises(DeriveError, match=message):
        derive_softmax_ce(SoftmaxCE(3), wrt, values=values)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"classes": 1}, "A softmax needs 2 to 20 classes, got 1; for one output use activation 'sigmoid'"),
        ({"classes": 3, "activation": "sigmoid"}, "A sigmoid output has one logit"),
        ({"activation": "sofmax"}, "Did you mean 'softmax'"),
    ],
    ids=["one-class", "sigmoid-3", "typo"],
)
def test_bad_config(kwargs: dict, message: str) -> None:
    with pytest.raises(DeriveError, match=message):
        SoftmaxCE(**kwargs)


def test_binary_target_range() -> None:
    with pytest.raises(DeriveError, match=r"must lie in \[0, 1\], got 2.0"):
        check_values(SoftmaxCE(1, "sigmoid"), {"z": 0.5, "y": 2})
