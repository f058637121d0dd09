"""The docstring examples of the answer-key modules run, and their ``__all__`` lists are sorted and real."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "derive.softmax_ce",
    "derive.batchnorm",
    "derive.problemset",
    "derive.sheet",
    "derive.key",
    "derive.pdf",
    "derive.latex_text",
    "derive.polyfit",
    "derive.latex_env",
    "derive.kinds",
    "derive.kinds.base",
    "derive.kinds.batchnorm",
    "derive.kinds.conv_gradient",
    "derive.kinds.conv_shape",
    "derive.kinds.network",
    "derive.kinds.params",
    "derive.kinds.polyfit",
    "derive.kinds.softmax_ce",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    assert doctest.testmod(importlib.import_module(name)).failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    assert list(module.__all__) == sorted(module.__all__)
    for export in module.__all__:
        assert hasattr(module, export), export
