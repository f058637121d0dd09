"""Metrics against scikit-learn, the JSON contract, regression MSE and f' by autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import top_k_accuracy_score

from reference_models.data import Dataset
from reference_models.errors import ModelError
from reference_models.evaluate import confusion_matrix, count_parameters, derivatives_at, evaluate, top_k_accuracy


@st.composite
def scored(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 40))
    classes = draw(st.integers(6, 10))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scores = rng.random((n, classes))  # continuous: no ties, where tie rules could differ
    return rng.integers(0, classes, n), scores


@st.composite
def tied(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Scores from a few values only, so most rows have ties that a tie rule must break."""
    n = draw(st.integers(1, 40))
    classes = draw(st.integers(6, 10))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.integers(0, classes, n), rng.integers(0, 3, (n, classes)).astype(float)


@settings(max_examples=60, deadline=None)
@given(tied())
def test_top_k_breaks_ties_as_scikit_learn(case: tuple[np.ndarray, np.ndarray]) -> None:
    y, scores = case
    labels = np.arange(scores.shape[1])
    for k in (1, 3, 5):
        assert top_k_accuracy(y, scores, k=k) == pytest.approx(top_k_accuracy_score(y, scores, k=k, labels=labels))


@settings(max_examples=60, deadline=None)
@given(scored())
def test_top_k_and_confusion_matrix_match_scikit_learn(case: tuple[np.ndarray, np.ndarray]) -> None:
    y, scores = case
    labels = np.arange(scores.shape[1])
    for k in (1, 3, 5):
        assert top_k_accuracy(y, scores, k=k) == pytest.approx(top_k_accuracy_score(y, scores, k=k, labels=labels))
    cm = confusion_matrix(y, scores.argmax(1), n_classes=len(labels))
    assert np.array_equal(cm, sk_confusion_matrix(y, scores.argmax(1), labels=labels))
    assert np.trace(cm) == int((scores.argmax(1) == y).sum())
    assert top_k_accuracy(y, scores, k=1) <= top_k_accuracy(y, scores, k=3) <= top_k_accuracy(y, scores, k=5) <= 1


def test_top_k_is_none_when_k_covers_every_class() -> None:
    assert top_k_accuracy(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]), k=3) is None


class _Fixed(torch.nn.Module):
    """Returns stored logits, whatever the input (so the expected metrics are known)."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = torch.nn.Parameter(logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits[: x.shape[0]]


def test_evaluate_json_has_the_contract_keys() -> None:
    logits = torch.tensor([[5.0, 4, 3, 2, 1, 0, 0, 0, 0, 0]] * 4)
    data = Dataset(
        x=np.zeros((4, 1, 2, 2), np.uint8),
        y=np.array([0, 1, 2, 5]),
        ids=("a", "b", "c", "d"),
        classes=tuple("0123456789"),
    )
    result = evaluate(_Fixed(logits), data, name="m").to_json()
    assert list(result) == ["model", "n", "loss", "top1", "top3", "top5", "params", "confusion_matrix", "notes"]
    assert (result["top1"], result["top3"], result["top5"]) == (0.25, 0.75, 0.75)
    assert result["params"] == 40 and result["n"] == 4
    assert result["confusion_matrix"][5][0] == 1 and sum(map(sum, result["confusion_matrix"])) == 4
    assert "top-1 25.00%, top-3 75.00%" in evaluate(_Fixed(logits), data, name="m").to_text()


def test_evaluate_refuses_unlabeled_data_and_class_mismatch() -> None:
    data = Dataset(x=np.zeros((2, 3), np.float32), y=None, ids=("a", "b"), classes=("0", "1"))
    with pytest.raises(ModelError, match="has no labels, so it cannot be evaluated"):
        evaluate(_Fixed(torch.zeros(2, 2)), data, name="m")
    labeled = Dataset(x=data.x, y=np.array([0, 1]), ids=data.ids, classes=("0", "1", "2"))
    with pytest.raises(ModelError, match="outputs 2 classes but the data has 3"):
        evaluate(_Fixed(torch.zeros(2, 2)), labeled, name="m")


def test_regression_mse_and_derivatives_against_closed_forms() -> None:
    from reference_models.registry import build

    poly = build("hw1-regression", kind="polynomial", degree=3)
    with torch.no_grad():
        poly.weight.copy_(torch.tensor([1.0, 1.0, -2.0, 0.5]))  # w0..w3 of 0.5x^3 - 2x^2 + x + 1
    x = np.array([[0.0], [1.0]], np.float32)
    data = Dataset(x=x, y=np.array([[1.0], [1.0]], np.float32), ids=("0", "1"))
    assert evaluate(poly, data, name="p").mse == pytest.approx((0 + 0.5**2) / 2)
    got = dict(derivatives_at(poly, (3.0, 0.1, -0.5)))
    assert got == pytest.approx({3.0: 2.5, 0.1: 0.615, -0.5: 3.375}, abs=1e-5)
    assert count_parameters(poly) == 4
