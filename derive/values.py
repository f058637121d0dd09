"""Numbers for a problem: the ``--values`` JSON layout, its validation, and random values.

The layout uses the problem's letters: ``{"a": rows, "w": rows, "v": [...], "y": number}``
plus ``"b"`` / ``"c"`` when the biases are on (``"x"`` instead of ``"a"`` if the input is
renamed). Indices in the lists are 0-based whatever the naming.

>>> from derive.problem import Problem
>>> vals = random_values(Problem(), seed=0)
>>> sorted(vals), len(vals["a"]), len(vals["v"])
(['a', 'v', 'w', 'y'], 4, 4)
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from derive._files import read_user_text
from derive.errors import DeriveError, did_you_mean
from derive.problem import Problem

__all__ = [
    "expected_layout",
    "finite",
    "grid_number",
    "leaf_values",
    "load_values",
    "random_values",
    "read_json",
    "shown",
]


def derived_seed(seed: int, *parts: str) -> int:
    """A 32-bit seed from ``seed`` and text ``parts`` via SHA-256 (stable, unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big")


def expected_layout(problem: Problem) -> dict[str, str]:
    """Key → shape description expected in a values file for ``problem``."""
    p = problem
    out = {
        p.input_symbol: f"a {p.input[0]}x{p.input[1]} list of lists (the input)",
        p.kernel_symbol: f"a {p.kernel[0]}x{p.kernel[1]} list of lists (the kernel)",
        p.dense_symbol: f"a list of {p.n_dense} numbers (the dense weights)",
        "y": "a number (the target)" + (", from 0 to 1" if p.loss == "bce" else ""),
    }
    if p.conv_bias:
        out["b"] = "a number (the conv bias)"
    if p.dense_bias:
        out["c"] = "a number (the dense bias)"
    return out


def finite(x: object) -> float | None:
    """``x`` as a float64 if it is a finite number that float64 can hold, else ``None``.

    >>> finite(3), finite(10**400), finite(float("nan")), finite(True)
    (3.0, None, None, None)
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    try:
        value = float(x)
    except OverflowError:  # a whole number of 309 digits or more
        return None
    return value if math.isfinite(value) else None


def shown(x: object, limit: int = 40) -> str:
    """``repr(x)`` cut to ``limit`` characters (a 400-digit number names its length)."""
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 10**limit:
        return f"a whole number of {len(str(abs(x)))} digits"
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(x: object, where: str) -> float:
    value = finite(x)
    if value is None:
        big = isinstance(x, int) and not isinstance(x, bool) or isinstance(x, float) and math.isinf(x)
        why = "beyond float64 (|x| > 1.8e308)" if big else "not a finite number"
        raise DeriveError(f"values: {where} is {shown(x)}, {why}.")
    return value


def _matrix(x: object, key: str, shape: tuple[int, int]) -> list[list[float]]:
    rows, cols = shape
    if not isinstance(x, list) or len(x) != rows or not all(isinstance(r, list) and len(r) == cols for r in x):
        got = _shape_of(x)
        raise DeriveError(f"values: {key!r} must be a {rows}x{cols} list of lists (rows of {cols} numbers); got {got}.")
    return [[_number(v, f"{key!r} row {i}, column {j}") for j, v in enumerate(r)] for i, r in enumerate(x)]


def _shape_of(x: object) -> str:
    if isinstance(x, list):
        if x and all(isinstance(r, list) for r in x):
            lens = sorted({len(r) for r in x})
            return f"{len(x)} rows of {'/'.join(map(str, lens))} numbers"
        return f"a list of {len(x)} items"
    return repr(x)


def check_values(values: Mapping, problem: Problem) -> dict[str, object]:
    """Validate ``values`` for ``problem`` and return them normalized (floats).

    Raises:
        DeriveError: A missing or unknown key, a wrong shape, or a non-number, named precisely.
    """
    if not isinstance(values, Mapping):
        raise DeriveError(
            f"values: expected a JSON object with keys {', '.join(expected_layout(problem))}; got {type(values).__name__}."
        )
    layout = expected_layout(problem)
    for key in values:
        if key not in layout:
            hint = did_you_mean(str(key), list(layout))
            extra = ""
            if key == "b" and not problem.conv_bias:
                extra = " (the problem has no conv bias: add --conv-bias, or drop 'b')"
            elif key == "c" and not problem.dense_bias:
                extra = " (the problem has no dense bias: add --dense-bias, or drop 'c')"
            raise DeriveError(f"values: unknown key {key!r}{extra}; expected keys {', '.join(layout)}.{hint}")
    for key, shape in layout.items():
        if key not in values:
            raise DeriveError(f"values: missing key {key!r}: expected {shape}.")
    p = problem
    out: dict[str, object] = {
        p.input_symbol: _matrix(values[p.input_symbol], p.input_symbol, p.input),
        p.kernel_symbol: _matrix(values[p.kernel_symbol], p.kernel_symbol, p.kernel),
    }
    v = values[p.dense_symbol]
    if not isinstance(v, list) or len(v) != p.n_dense:
        raise DeriveError(
            f"values: {p.dense_symbol!r} must be a list of {p.n_dense} numbers (one per conv output, row-major); got {_shape_of(v)}."
        )
    out[p.dense_symbol] = [_number(x, f"{p.dense_symbol!r} item {k}") for k, x in enumerate(v)]
    out["y"] = y = _number(values["y"], "'y'")
    if p.loss == "bce" and not 0.0 <= y <= 1.0:
        raise DeriveError(f"values: 'y' is {values['y']!r}, but cross-entropy needs a target from 0 to 1.")
    for key in ("b", "c"):
        if key in layout:
            out[key] = _number(values[key], repr(key))
    return out


def leaf_values(values: Mapping, problem: Problem) -> dict[str, float]:
    """Validated values as ``{leaf name: number}`` (``"a21": 0.3``...)."""
    v = check_values(values, problem)
    p = problem
    out: dict[str, float] = {}
    for kind, key in (("a", p.input_symbol), ("w", p.kernel_symbol)):
        for i, row in enumerate(cast(list[list[float]], v[key])):
            for j, x in enumerate(row):
                out[p.name(kind, i, j)] = x
    for k, x in enumerate(cast(list[float], v[p.dense_symbol])):
        out[p.name("v", k)] = x
    for key in ("y", "b", "c"):
        if key in v:
            out[key] = cast(float, v[key])
    return out


def read_json(path: str | Path) -> Any:
    """Read a ``--values`` JSON file, whatever its layout.

    Raises:
        DeriveError: The file is missing, a folder, unreadable, not UTF-8, or not JSON; named with the path.
    """
    path = Path(path)
    raw = read_user_text(path, "values file", save_as="UTF-8 JSON")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DeriveError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}).") from None
    except RecursionError:
        raise DeriveError(
            f"{path}: the JSON is nested too deeply to read; a values file is an object of numbers, "
            "lists and lists of rows (two levels)."
        ) from None


def load_values(path: str | Path, problem: Problem) -> dict[str, object]:
    """Read and validate a ``--values`` JSON file.

    Raises:
        DeriveError: The file is missing, is not JSON, or does not fit ``problem``.
    """
    path = Path(path)
    data = read_json(path)
    try:
        return check_values(data, problem)
    except DeriveError as exc:
        raise DeriveError(f"{path}: {exc}") from None


def grid_number(rng: random.Random, lo: float = -1.0, hi: float = 1.0) -> float:
    """A number with one decimal from ``[lo, hi]`` (ends on the 0.1 grid), never exactly 0.

    A 0 in a product wipes out a term a student should work through, and makes a wrong answer
    look right, so a drawn 0.0 is drawn again from the same ``rng`` (the same seed gives the same
    numbers). Only a range with no other number on the grid (``lo == hi == 0``) gives 0.0.

    >>> rng = random.Random(0)
    >>> [grid_number(rng, 0.0, 1.0) for _ in range(5)], grid_number(rng, 0.0, 0.0)
    ([0.8, 0.8, 0.4, 0.3, 0.5], 0.0)
    """
    if not lo <= hi:
        raise ValueError(f"grid_number: lo = {lo!r} is above hi = {hi!r}")
    if math.floor(hi * 10 + 1e-9) < 1 and math.ceil(lo * 10 - 1e-9) > -1:
        return 0.0  # the range holds no number on the grid but 0: the problem asks for 0
    while True:
        x = round(rng.uniform(lo, hi), 1) + 0.0  # + 0.0 turns -0.0 into 0.0
        if x != 0.0:
            return x


def random_values(problem: Problem, seed: int) -> dict[str, object]:
    """Values a student can work by hand: one decimal, in [-1, 1] (y in [0, 1]), never 0.

    The same seed gives the same values. For ReLU, values that put some ``z`` within
    0.05 of the kink are redrawn (the derivative there is a convention, not maths).
    """
    p = problem
    rng = random.Random(seed)

    def num(lo: float = -1.0, hi: float = 1.0) -> float:
        return grid_number(rng, lo, hi)

    for _ in range(1000):
        out: dict[str, object] = {
            p.input_symbol: [[num() for _ in range(p.input[1])] for _ in range(p.input[0])],
            p.kernel_symbol: [[num() for _ in range(p.kernel[1])] for _ in range(p.kernel[0])],
            p.dense_symbol: [num() for _ in range(p.n_dense)],
            "y": num(0.0, 1.0),
        }
        if p.conv_bias:
            out["b"] = num()
        if p.dense_bias:
            out["c"] = num()
        if p.activation != "relu" or _clear_of_kink(out, p):
            return out
    return out  # pragma: no cover - practically unreachable


def _clear_of_kink(values: dict[str, object], p: Problem) -> bool:
    a = cast(list[list[float]], values[p.input_symbol])
    w = cast(list[list[float]], values[p.kernel_symbol])
    (h, wd), (kh, kw) = p.input, p.kernel
    for i in range(p.output[0]):
        for j in range(p.output[1]):
            z = float(cast(float, values.get("b", 0.0)))
            for m in range(kh):
                for n in range(kw):
                    r, c = p.stride * i + m - p.padding, p.stride * j + n - p.padding
                    if 0 <= r < h and 0 <= c < wd:
                        z += w[m][n] * a[r][c]
            if abs(z) < 0.05:
                return False
    return True
