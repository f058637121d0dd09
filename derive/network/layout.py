"""Writing a network's maths: element names, partials, numbers, matrices and index expressions.

Everything returns a ``(latex, text)`` pair, so a step's two forms are built side by side.

>>> affine(2, "i", 1)
'2i+1'
>>> matrix_pair([[1.0, -0.5], [0.25, 2.0]])[1]
'[   1  -0.5 ]\\n[0.25     2 ]'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from derive.network.graph import Symbol
from derive.steps import factor_number, format_number, latex_number

__all__ = ["DIGITS", "affine", "dl", "idx", "matrix_pair", "num", "partial", "vector_pair"]

DIGITS = 4
"""Significant digits of the numbers inside matrices and vectors (the sums use full precision)."""
_ROW = 6  # numbers per row of a long vector


def idx(index: Sequence[int | str]) -> str:
    """``(0, 1, 2)`` → ``"0,1,2"``."""
    return ",".join(map(str, index))


def affine(coef: int, var: str, const: int) -> str:
    """An index expression ``coef·var + const`` as a TA writes it: ``i``, ``2i``, ``i+1``, ``2j-1``."""
    head = "" if coef == 0 else var if coef == 1 else f"-{var}" if coef == -1 else f"{coef}{var}"
    if not head:
        return str(const)
    if head.startswith("-") and const:
        return f"{const}{head}"  # 2-i rather than -i+2
    return head if const == 0 else f"{head}+{const}" if const > 0 else f"{head}{const}"


def partial(top: tuple[str, str], low: tuple[str, str]) -> tuple[str, str]:
    """``∂top/∂low`` from (LaTeX, text) names."""
    return rf"\frac{{\partial {top[0]}}}{{\partial {low[0]}}}", f"∂{top[1]}/∂{low[1]}"


def dl(sym: Symbol, index: Sequence[int | str] | str) -> tuple[str, str]:
    """``∂L/∂z_{0,1,2}``."""
    return partial(("L", "L"), sym.at(index if isinstance(index, str) else idx(index)))


def num(x: float, digits: int = 6) -> tuple[str, str]:
    """A number as a factor: negative ones in parentheses (:func:`derive.steps.factor_number`, as every route)."""
    return factor_number(float(x), digits)


def matrix_pair(
    rows: np.ndarray | Sequence[Sequence[float]],
    cells: Sequence[Sequence[tuple[str, str]]] | None = None,
    digits: int = DIGITS,
) -> tuple[str, str]:
    """A 2-D block as a LaTeX ``array`` and as aligned text rows (``cells`` overrides the numbers)."""
    scale = ("", "")
    if cells is None:
        arr = np.asarray(rows, dtype=np.float64)
        top = float(np.max(np.abs(arr))) if arr.size else 0.0
        if 0.0 < top < 0.01 and np.ndim(arr) == 2 and arr.shape[1] > 4:  # a TA factors out the power of ten
            e = int(np.floor(np.log10(top)))
            arr = arr / 10.0**e
            scale = (rf"10^{{{e}}} \cdot ", f"1e{e} × ")
        cells = [[(latex_number(float(v), digits), format_number(float(v), digits)) for v in row] for row in arr]
    width = max(len(c[1]) for row in cells for c in row)
    pad = " " * len(scale[1])
    text = scale[1] + f"\n{pad}".join("[" + "  ".join(c[1].rjust(width) for c in row) + " ]" for row in cells)
    body = r" \\ ".join(" & ".join(c[0] for c in row) for row in cells)
    narrow = r"\arraycolsep=3pt " if len(cells[0]) > 6 else ""
    return rf"{scale[0]}{narrow}\left(\begin{{array}}{{{'r' * len(cells[0])}}} {body} \end{{array}}\right)", text


def vector_pair(values: Iterable[float], digits: int = DIGITS) -> tuple[str, str]:
    """A vector: ``(a, b, c)``, or rows of six numbers when it is long."""
    vals = [float(v) for v in values]
    if len(vals) <= _ROW:
        return (
            f"({', '.join(latex_number(v, digits) for v in vals)})",
            f"({', '.join(format_number(v, digits) for v in vals)})",
        )
    rows = [vals[k : k + _ROW] for k in range(0, len(vals), _ROW)]
    cells = [[(latex_number(v, digits), format_number(v, digits)) for v in row] for row in rows]
    cells[-1] += [("", "")] * (_ROW - len(cells[-1]))
    tex, text = matrix_pair([], cells)
    return tex.replace(r"\left(", r"\left[").replace(r"\right)", r"\right]"), text
