"""The public surface of grading's single-file part: sorted, complete, importable."""

from __future__ import annotations

import importlib

import pytest

import grading

MODULES = ["grading", "grading.reader", "grading.key", "grading.columns", "grading.metrics", "grading.report",
           "grading.score", "grading.modelparams", "grading.errors", "grading.lms", "grading.safety",
           "grading.feedback", "grading.batch", "grading.collect", "grading.unzip", "grading.lms.headers",
           "grading.key_ids", "grading.answer_key"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_resolves(name):
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__, key=lambda s: (not s.isupper(), s))
    for member in module.__all__:
        assert hasattr(module, member), f"{name}.{member}"


def test_contract_names_are_exported():
    for member in ("AnswerKey", "GradeReport", "grade_file", "load_key", "top_k_accuracy_score", "confusion_matrix",
                   "accuracy_score", "UsageError", "InvalidSubmission", "GradingError"):  # fmt: skip
        assert member in grading.__all__


def test_public_functions_are_documented():
    for member in grading.__all__:
        obj = getattr(grading, member)
        if callable(obj):
            assert obj.__doc__, member


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    import doctest

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
