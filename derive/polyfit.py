"""HW1 2023 (一)(b) as a problem-set kind: the least-squares polynomial of a CSV of (x, y) pairs,
its coefficients w_m … w_0 and its derivative f'(x) at the points asked.

::

    [[item]]
    kind = "polyfit"
    data = "HW1-1.csv"          # optional: relative to the problem set; default the shipped sample
    degree = 3                  # optional, default 3
    at = [3.0, 0.1, -0.5]       # optional, the handout's points

The numbers come from ``numpy.polyfit`` (least squares, float64) on every pair of
the file; f'(x) = Σ k·w_k·x^(k−1) is evaluated from those coefficients. Without
``data`` the file is ``reference_models/data/hw1_regression_sample.csv``: 20 pairs of
f(x) = 0.5x³ − 2x² + x + 1 plus N(0, 0.1²) noise, since the course's ``HW1-1.csv``
does not ship. The answers are named ``w3`` … ``w0`` and ``f'(3.0)`` …

This module is the engine (the problem and its numbers); :mod:`derive.kinds.polyfit` is the kind
(its worked parts, question wording and answer model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from derive.errors import DeriveError

__all__ = ["OPTIONS", "POINTS", "Polyfit", "parse_polyfit", "polyfit_from_config"]

OPTIONS = ("at", "data", "degree")
POINTS = (3.0, 0.1, -0.5)
"""Where HW1 2023 (一)(b)(ii) asks for f'(x)."""
MAX_DEGREE = 10


@dataclass(frozen=True)
class Polyfit:
    """The question: fit a degree-``degree`` polynomial to the pairs of ``path``; f' at ``at``.

    Attributes:
        path: The CSV of (x, y) pairs.
        label: How the question names the file (as the TA wrote it, or the sample's name).
        x: The x values, float64.
        y: The y values, float64.
        degree: m, the highest power.
        at: The points of f'(x).
    """

    path: Path
    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    degree: int = 3
    at: tuple[float, ...] = POINTS

    @property
    def variables(self) -> tuple[str, ...]:
        """``w3, w2, w1, w0`` (highest power first, as the handout prints them), then ``f'(3.0)``, ..."""
        return tuple(f"w{k}" for k in range(self.degree, -1, -1)) + tuple(f"f'({p!r})" for p in self.at)

    def config(self) -> dict[str, Any]:
        """The problem as ``answers.json`` holds it (JSON-safe): its options and the pairs themselves.

        ``data`` is the file as the TA named it (``None`` for the shipped sample); ``x`` and ``y``
        carry the pairs, so that grading needs neither the file nor the machine it was on
        (:func:`polyfit_from_config` reads it back).
        """
        from reference_models.data.regression import SAMPLE_CSV

        return {
            "data": None if self.path == SAMPLE_CSV else self.label,
            "degree": self.degree,
            "at": list(self.at),
            "x": list(self.x),
            "y": list(self.y),
        }

    def coefficients(self) -> np.ndarray:
        """w_m … w_0 by least squares (``numpy.polyfit``), float64."""
        return np.polyfit(np.array(self.x), np.array(self.y), self.degree)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _degree_and_points(options: dict[str, Any]) -> tuple[int, list[float]]:
    degree = options.get("degree", 3)
    if isinstance(degree, bool) or not isinstance(degree, int) or not 0 <= degree <= MAX_DEGREE:
        raise DeriveError(
            f"key 'degree' must be a whole number from 0 to {MAX_DEGREE} (the m of w_m x^m + … + w_0), got {degree!r}."
        )
    at = options.get("at", list(POINTS))
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        at = [at]
    if not isinstance(at, list) or not at or not all(_number(v) for v in at):
        raise DeriveError(f"key 'at' must list the points of f'(x), such as [3.0, 0.1, -0.5], got {at!r}.")
    if len(set(float(v) for v in at)) != len(at):
        raise DeriveError(f"key 'at' names a point twice: {at!r}.")
    return degree, at


def parse_polyfit(options: dict[str, Any], source: str) -> Polyfit:
    """Validate a polyfit item's options; ``data`` is read now, relative to the problem set's folder.

    Raises:
        DeriveError: a wrong degree, a point that is not a number, or a data file that cannot be read
            (the message of :func:`reference_models.data.regression.load_xy_csv`).
    """
    from reference_models.data.regression import SAMPLE_CSV, load_xy_csv
    from reference_models.errors import ModelError

    degree, at = _degree_and_points(options)
    data = options.get("data")
    if data is not None and (not isinstance(data, str) or not data.strip()):
        raise DeriveError(f"key 'data' must be the path of a CSV of x,y pairs (such as \"HW1-1.csv\"), got {data!r}.")
    if data is None:
        path, label = SAMPLE_CSV, SAMPLE_CSV.name
    else:
        path = Path(data).expanduser()
        if not path.is_absolute() and not source.startswith("<"):
            path = Path(source).parent / path
        label = data
    try:
        pairs = load_xy_csv(path, dtype=np.float64)
    except ModelError as exc:
        raise DeriveError(f"key 'data': {exc}") from None
    if len(pairs) <= degree:
        raise DeriveError(
            f"key 'data': {len(pairs)} pairs cannot fix the {degree + 1} coefficients of a degree-{degree} polynomial; "
            f"lower 'degree' to {len(pairs) - 1} or less."
        )
    x, y = pairs.x[:, 0].astype(np.float64), pairs.y[:, 0].astype(np.float64)  # type: ignore[index]
    return Polyfit(
        path=path,
        label=label,
        x=tuple(map(float, x)),
        y=tuple(map(float, y)),
        degree=degree,
        at=tuple(float(v) for v in at),
    )


def polyfit_from_config(options: dict[str, Any]) -> Polyfit:
    """The problem back from :meth:`Polyfit.config` (``answers.json``): the pairs are taken, no file is read.

    >>> p = polyfit_from_config({"data": "HW1-1.csv", "degree": 1, "at": [2.0], "x": [0, 1, 2], "y": [1, 3, 5]})
    >>> [round(float(w), 9) for w in p.coefficients()], p.variables
    ([2.0, 1.0], ('w1', 'w0', "f'(2.0)"))

    Raises:
        DeriveError: a key is missing or wrong (the pairs not two lists of as many finite numbers, too few pairs).
    """
    from reference_models.data.regression import SAMPLE_CSV

    degree, at = _degree_and_points(options)
    x, y = options.get("x"), options.get("y")
    if not (isinstance(x, list) and isinstance(y, list) and len(x) == len(y) and all(_number(v) for v in x + y)):
        raise DeriveError(
            "keys 'x' and 'y' must be two lists of as many finite numbers (the pairs of the fit); "
            f"got {len(x) if isinstance(x, list) else x!r} x and {len(y) if isinstance(y, list) else y!r} y."
        )
    if len(x) <= degree:
        raise DeriveError(f"{len(x)} pairs cannot fix the {degree + 1} coefficients of a degree-{degree} polynomial.")
    data = options.get("data")
    if data is not None and (not isinstance(data, str) or not data.strip()):
        raise DeriveError(f"key 'data' must be the name of the CSV of the pairs or null, got {data!r}.")
    path, label = (SAMPLE_CSV, SAMPLE_CSV.name) if data is None else (Path(data), data)
    return Polyfit(
        path=path,
        label=label,
        x=tuple(float(v) for v in x),
        y=tuple(float(v) for v in y),
        degree=degree,
        at=tuple(float(v) for v in at),
    )
