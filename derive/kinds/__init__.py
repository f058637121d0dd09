"""The kinds of question a problem set may hold, in one registry.

Each kind is one module of this package implementing :class:`~derive.kinds.base.Kind`
(the protocol, written down in :mod:`derive.kinds.base`). :mod:`derive.problemset`,
:mod:`derive.sheet`, :mod:`derive.key` and :mod:`grading.answers` look kinds up here and
never name one.

>>> names()
('batchnorm', 'conv-gradient', 'conv-shape', 'network', 'params', 'polyfit', 'softmax-ce')
>>> get("conv-shape").asks
False
"""

from __future__ import annotations

from typing import Any

from derive.errors import DeriveError, did_you_mean
from derive.kinds.base import AnswerModel, Kind, Part
from derive.kinds.batchnorm import BatchNormKind
from derive.kinds.conv_gradient import ConvGradientKind
from derive.kinds.conv_shape import ConvShapeKind
from derive.kinds.network import NetworkKind
from derive.kinds.params import ParamsKind
from derive.kinds.polyfit import PolyfitKind
from derive.kinds.softmax_ce import SoftmaxCEKind

__all__ = [
    "AnswerModel",
    "DeriveError",
    "KINDS",
    "Kind",
    "Part",
    "derived_seed",
    "edge_value",
    "find",
    "get",
    "names",
    "register",
    "relu",
    "sigma",
]

# What grading may use beside the kinds themselves, loaded on first use (sympy is not imported for
# a kind lookup): the seed of a variant's random points, and the functions a formula may name.
_LAZY = {
    "derived_seed": "derive.values",
    "edge_value": "derive.graph",
    "relu": "derive.graph",
    "sigma": "derive.graph",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'derive.kinds' has no attribute {name!r}")


KINDS: dict[str, Kind] = {}
"""Every registered kind by its name."""


def register(kind: Kind) -> Kind:
    """Add ``kind`` to the registry under ``kind.name`` (replacing one of that name) and return it."""
    if not getattr(kind, "name", "") or not isinstance(kind.name, str):
        raise TypeError(f"{type(kind).__name__} has no 'name'; set the class attribute name = 'my-kind'.")
    KINDS[kind.name] = kind
    return kind


def names() -> tuple[str, ...]:
    """The registered kinds' names, sorted."""
    return tuple(sorted(KINDS))


def find(name: str) -> Kind | None:
    """The kind called ``name``, or ``None``."""
    return KINDS.get(name)


def get(name: str, *, where: str = "") -> Kind:
    """The kind called ``name``.

    Raises:
        DeriveError: no such kind; the message lists the kinds (after ``where``, if given).
    """
    kind = KINDS.get(name)
    if kind is None:
        known = names()
        prefix = f"{where}: " if where else ""
        raise DeriveError(
            f"{prefix}kind must be one of {', '.join(known)}, got {name!r}.{did_you_mean(str(name), known)}"
        )
    return kind


for _kind in (
    BatchNormKind(),
    ConvGradientKind(),
    ConvShapeKind(),
    NetworkKind(),
    ParamsKind(),
    PolyfitKind(),
    SoftmaxCEKind(),
):
    register(_kind)
