"""Results show themselves in a notebook; the docstring examples run; __all__ is sorted and real."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import derive
from derive.batchnorm import BatchNorm, derive_batchnorm
from derive.batchnorm import random_values as bn_values
from derive.network import load_network, network_gradient, random_values
from derive.softmax_ce import SoftmaxCE, derive_softmax_ce

BOARD = Path(__file__).parents[2] / "examples" / "board-net.toml"
MODULES = [
    "derive.network",
    "derive.network.spec",
    "derive.network.values",
    "derive.network.graph",
    "derive.network.layout",
    "derive.network.forward_steps",
    "derive.network.derivation",
    "derive.network.render",
    "derive.network.autograd",
    "derive.notebook",
]


def results() -> list:
    return [
        derive.gradient(derive.Problem(), "w11", values=derive.random_values(derive.Problem(), 0), check=False),
        derive_softmax_ce(SoftmaxCE(classes=3), "z1", values={"z": [1.0, 2.0, 0.5], "y": [0, 1, 0]}),
        derive_batchnorm(BatchNorm(), "x0", values=bn_values(BatchNorm(), 1)),
        network_gradient(
            load_network(BOARD), "conv1.w[0,0,1,1]", values=random_values(load_network(BOARD), 3), check=False
        ),
    ]


@pytest.mark.parametrize("result", results(), ids=["gradient", "softmax-ce", "batchnorm", "network"])
def test_notebook_reprs_are_maths(result) -> None:
    md, tex = result._repr_markdown_(), result._repr_latex_()
    assert md.startswith("**∂L/∂") and "$$\\begin{aligned}" in md and "\\boxed{" in md
    assert tex.startswith("$$\\begin{aligned}") and tex.endswith("\\end{aligned}}$$")
    blocks = tex.split("\n")  # display blocks of a page at most, the boxed result last (issue 18)
    assert all(b.startswith("$$") and b.endswith("$$") for b in blocks) and "\\boxed{" in blocks[-1]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    assert doctest.testmod(importlib.import_module(name)).failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    assert list(module.__all__) == sorted(module.__all__)
    for export in module.__all__:
        assert hasattr(module, export), export
