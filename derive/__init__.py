"""derive: symbolic backpropagation answer keys, checked against torch autograd.

The names below are imported on first use (PEP 562), so that ``import derive`` and
``derive --help`` do not pay for sympy; ``derive grad`` imports it when it runs.

>>> from derive import Problem, gradient
>>> gradient(Problem(), "a00").wrt
'a00'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from derive.errors import DeriveError

if TYPE_CHECKING:  # pragma: no cover
    from derive.engine import Gradient, all_gradients, gradient
    from derive.problem import Problem
    from derive.steps import Derivation, Step
    from derive.values import load_values, random_values

__all__ = [
    "Derivation",
    "DeriveError",
    "Gradient",
    "Problem",
    "Step",
    "all_gradients",
    "gradient",
    "load_values",
    "random_values",
]

_LAZY = {
    "Derivation": "derive.steps",
    "Gradient": "derive.engine",
    "Problem": "derive.problem",
    "Step": "derive.steps",
    "all_gradients": "derive.engine",
    "gradient": "derive.engine",
    "load_values": "derive.values",
    "random_values": "derive.values",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
