"""grading.metrics against scikit-learn on random data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from grading.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_scores,
    top_k_accuracy_score,
    top_k_predictions,
)


@st.composite
def labelled(draw, with_scores: bool = False, ties: bool = False):
    n_classes = draw(st.integers(3, 8))
    n = draw(st.integers(1, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, n)
    y_true[: min(n, n_classes)] = np.arange(min(n, n_classes))  # every class present when n allows
    y_pred = rng.integers(0, n_classes, n)
    # scores rounded to 1 decimal so that ties are frequent
    scores = rng.integers(0, 4, (n, n_classes)) / 4 if ties else rng.random((n, n_classes))
    return y_true, y_pred, scores, n_classes


@pytest.mark.filterwarnings("ignore:A single label was found")
@settings(max_examples=60, deadline=None)
@given(labelled())
def test_accuracy_and_confusion_matrix_match_sklearn(data):
    y_true, y_pred, _, n_classes = data
    labels = list(range(n_classes))
    assert accuracy_score(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, labels=labels), skm.confusion_matrix(y_true, y_pred, labels=labels)
    )
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))


@settings(max_examples=80, deadline=None)
@given(labelled(ties=True), st.integers(1, 4))
def test_top_k_matches_sklearn_including_ties(data, k):
    y_true, _, scores, n_classes = data
    labels = list(range(n_classes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k >= n_classes warns in sklearn
        expected = skm.top_k_accuracy_score(y_true, scores, k=k, labels=labels)
    assert top_k_accuracy_score(y_true, scores, k=k, labels=labels) == pytest.approx(expected)
    # the ranking we show agrees with the hits we count
    ranked = top_k_predictions(scores, k)
    assert np.mean((ranked == y_true[:, None]).any(axis=1)) == pytest.approx(expected)


@settings(max_examples=40, deadline=None)
@given(labelled(ties=True))
def test_top1_from_scores_is_sklearn_top1_not_argmax(data):
    y_true, _, scores, n_classes = data
    labels = list(range(n_classes))
    best = top_k_predictions(scores, 1)[:, 0]
    assert skm.accuracy_score(y_true, best) == pytest.approx(
        skm.top_k_accuracy_score(y_true, scores, k=1, labels=labels)
    )


def test_tie_goes_to_the_later_class():
    scores = np.array([[0.4, 0.4, 0.2]])
    assert top_k_accuracy_score([1], scores, k=1, labels=[0, 1, 2]) == 1.0
    assert top_k_accuracy_score([0], scores, k=1, labels=[0, 1, 2]) == 0.0
    assert skm.top_k_accuracy_score([0], scores, k=1, labels=[0, 1, 2]) == 0.0


@settings(max_examples=40, deadline=None)
@given(labelled())
def test_precision_recall_match_sklearn(data):
    y_true, y_pred, _, n_classes = data
    labels = list(range(n_classes))
    precision, recall = precision_recall_scores(y_true, y_pred, labels=labels)
    np.testing.assert_allclose(
        precision, skm.precision_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    )
    np.testing.assert_allclose(recall, skm.recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0))


def test_string_labels_match_sklearn():
    y_true = ["cat", "dog", "dog", "eel", "cat"]
    y_pred = ["cat", "cat", "dog", "eel", "eel"]
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))
    assert accuracy_score(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)


@pytest.mark.parametrize(
    ("y_true", "y_score", "kwargs", "match"),
    [
        ([0, 1], [[0.1, 0.9]], {}, r"shape \(n_samples, 2\)"),
        ([0, 1], [[0.1, np.nan], [0.2, 0.8]], {}, "NaN or infinite"),
        ([0, 1], [[0.1, 0.9], [0.2, 0.8]], {"k": 0}, "k must be at least 1"),
        ([0, 5], [[0.1, 0.9], [0.2, 0.8]], {"labels": [0, 1]}, "not in labels"),
    ],
    ids=["shape", "nan", "k0", "unknown-label"],
)
def test_top_k_bad_input(y_true, y_score, kwargs, match):
    with pytest.raises(ValueError, match=match):
        top_k_accuracy_score(y_true, y_score, **kwargs)
