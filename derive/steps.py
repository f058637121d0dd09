"""Generic building blocks of a worked answer: a :class:`Step` and a :class:`Derivation`.

They hold pre-rendered strings (LaTeX and Unicode) and numbers only, so that any
derivation (conv backprop here; softmax + cross-entropy or batch-norm elsewhere) can be
rendered by :mod:`derive.render` as terminal text, a LaTeX fragment or a document.

>>> s = Step("∂L/∂ŷ", r"\\frac{\\partial L}{\\partial \\hat{y}} = 2(\\hat{y} - y)", "∂L/∂ŷ = 2(ŷ - y)", 0.5)
>>> s.to_dict()["value"]
0.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Derivation", "Step", "factor_number", "format_number", "given_steps", "int_latex", "latex_number"]

GIVEN = "Given"
"""Group of the steps that state the numbers used (a key prints them once per question)."""


@dataclass(frozen=True)
class Step:
    """One line of a derivation.

    Attributes:
        name: Short Unicode label (``"∂L/∂ŷ"``, ``"z₀₀"``); the JSON ``name``.
        latex: The equation in LaTeX math (no ``$``), as ``lhs = rhs [= number]``.
        text: The same equation in Unicode for a terminal.
        value: Its numeric value when numbers were given, else ``None``.
        group: Heading the step belongs to (``"Forward pass"``); renderers group by it.
    """

    name: str
    latex: str
    text: str
    value: float | None = None
    group: str = ""

    def to_dict(self) -> dict[str, object]:
        """``{"name", "latex", "value"}``: the JSON contract of one step."""
        return {"name": self.name, "latex": self.latex, "value": self.value}


@dataclass(frozen=True)
class Derivation:
    """A worked answer: a title, its steps, the result, and notes.

    Attributes:
        title: Plain-text title (escaped by the LaTeX renderer).
        steps: The steps in reading order; consecutive steps with the same ``group``
            are shown under one heading.
        result: The final step (the answer), shown boxed.
        notes: Plain-text remarks (conventions, the autograd check).
    """

    title: str
    steps: tuple[Step, ...]
    result: Step
    notes: tuple[str, ...] = field(default_factory=tuple)

    def _repr_markdown_(self) -> str:  # Jupyter shows the steps as maths (derive.notebook)
        from derive.notebook import markdown

        return markdown(self)

    def _repr_latex_(self) -> str:
        from derive.notebook import latex

        return latex(self)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready data: title, steps, result and notes."""
        return {
            "title": self.title,
            "steps": [s.to_dict() for s in self.steps],
            "result": self.result.to_dict(),
            "notes": list(self.notes),
        }


def format_number(x: float, digits: int = 6) -> str:
    """A number as a TA writes it, to ``digits`` significant digits: ``0.125``, ``-1.5``, ``2.5e-7``.

    Significant digits, never fixed decimals: a gradient of 6.9e-303 is 6.9e-303, not 0, and a
    sum that is 0 by hand but not in float64 (0.1 + 0.2 − 0.3) shows what float64 holds.
    Every route (``derive grad``, ``--net``, the keys) writes its numbers with this function.

    >>> format_number(0.1 + 0.2), format_number(-3.0), format_number(2e-9), format_number(6.9e-303)
    ('0.3', '-3', '2e-9', '6.9e-303')
    >>> format_number(0.1 + 0.2 - 0.3), format_number(-0.0)
    ('5.55112e-17', '0')
    """
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    out = f"{x:.{digits}g}"
    if "e" in out:
        mant, exp = out.split("e")
        return f"{mant}e{int(exp)}"
    return out


def factor_number(x: float, digits: int = 6) -> tuple[str, str]:
    r"""(LaTeX, text) of a number written as a factor of a product: a negative one in parentheses.

    >>> factor_number(-2.5e-7)[1], factor_number(0.5)[1], factor_number(-2e-303)[0]
    ('(-2.5e-7)', '0.5', '\\left(-2 \\times 10^{-303}\\right)')
    """
    tex, txt = latex_number(x, digits), format_number(x, digits)
    return (rf"\left({tex}\right)", f"({txt})") if x < 0 else (tex, txt)


def latex_number(x: float, digits: int = 6) -> str:
    r"""A number in LaTeX: ``2.5 \times 10^{-7}`` for small ones.

    >>> latex_number(2.5e-07)
    '2.5 \\times 10^{-7}'
    """
    out = format_number(x, digits)
    if "e" in out:
        mant, exp = out.split("e")
        return rf"{mant} \times 10^{{{exp}}}" if mant not in ("1", "-1") else rf"{mant[:-1]}10^{{{exp}}}"
    return out


def int_latex(n: int) -> str:
    """A whole number in LaTeX with thousands separators.

    >>> int_latex(3177418)
    '3{,}177{,}418'
    """
    return f"{n:,}".replace(",", "{,}")


def given_steps(
    values: Mapping[str, Any], *, latex_names: Mapping[str, str] | None = None, base: int = 0
) -> tuple[Step, ...]:
    r"""The numbers of a ``--values`` layout as the first steps of a derivation (group ``Given``).

    A matrix (list of rows) is written as a matrix (a LaTeX ``array``, which has no column
    limit; rows under each other in text), a list as a tuple, a number as itself.

    Args:
        values: Key → number, list or list of rows, in the order to show them.
        latex_names: LaTeX for a key that is not a plain letter (``{"gamma": r"\gamma"}``).
        base: The first index (0, or 1 for a course that counts from 1), printed beside a wide matrix.

    >>> [s.text for s in given_steps({"w": [[1, -0.5], [0.25, 2]], "v": [1, 2], "y": 0.5})]
    ['w = [   1  -0.5 ]\n    [0.25     2 ]', 'v = (1, 2)', 'y = 0.5']
    >>> [s.latex for s in given_steps({"v": [1, -2], "gamma": 2}, latex_names={"gamma": r"\gamma"})]
    ['v = (1, -2)', '\\gamma = 2']
    """
    names = latex_names or {}
    out = []
    for key, value in values.items():
        tex_name = names.get(key, key)
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
            out += _matrix_steps(key, tex_name, value, base)
        elif isinstance(value, (list, tuple)):
            out.append(
                Step(
                    key,
                    f"{tex_name} = ({', '.join(latex_number(float(x)) for x in value)})",
                    f"{key} = ({', '.join(format_number(float(x)) for x in value)})",
                    None,
                    GIVEN,
                )
            )
        else:
            out.append(
                Step(
                    key,
                    f"{tex_name} = {latex_number(float(value))}",
                    f"{key} = {format_number(float(value))}",
                    float(value),
                    GIVEN,
                )
            )
    return tuple(out)


TEXT_MATRIX_WIDTH = 70
"""Characters of one row of a given matrix in a terminal; a wider matrix goes in blocks of columns."""

GRID_PT = 420.0
"""Points a block of a wide matrix may take on the page (A4, 2 cm margins, beside ``a =`` and the row numbers)."""
GRID_ROWS = 40
"""Rows of a wide matrix per block: a block is one unbreakable line of maths, so it must fit a page's height."""


def _matrix_steps(key: str, tex_name: str, value: Any, base: int = 0) -> list[Step]:
    r"""A given matrix as one step, or as blocks of columns when its rows would not fit the page.

    A terminal shows a wide matrix in blocks of :data:`TEXT_MATRIX_WIDTH` characters. LaTeX sets
    it smaller, as a grid with its row and column indices (numbered from ``base``), in blocks
    that fill the page's width; a step is one LaTeX block and holds the terminal's blocks in it.

    >>> [s.name for s in _matrix_steps("a", "a", [[-0.5] * 30])]
    ['a (columns 1-15 of 30)', 'a (columns 16-30 of 30)']
    >>> print(_matrix_steps("a", "a", [[-0.5] * 30])[1].text)
    a (columns 16-22 of 30) = [-0.5  -0.5  -0.5  -0.5  -0.5  -0.5  -0.5 ]
    a (columns 23-30 of 30) = [-0.5  -0.5  -0.5  -0.5  -0.5  -0.5  -0.5  -0.5 ]
    """
    cells = [[format_number(float(x)) for x in row] for row in value]
    tex_cells = [[latex_number(float(x)) for x in row] for row in value]
    width = max(len(c) for row in cells for c in row)
    tex_width = max(_visible_len(c) for row in tex_cells for c in row)
    ncols = len(value[0])
    # printed: about 5.5 pt per character plus 10 pt of column gap, in 300 pt beside "a =" and the label
    column_pt = 5.5 * tex_width + 10
    fits = ncols * column_pt <= 420 and ncols * (width + 2) <= TEXT_MATRIX_WIDTH + 20  # one block, no label
    per_text = ncols if fits else max(1, min((TEXT_MATRIX_WIDTH - len(key)) // (width + 2), int(300 // column_pt)))
    per_text = -(-ncols // -(-ncols // per_text))  # the same number of blocks, as even as they go
    if fits:
        text = _text_block(key, cells, width, 0, ncols, blocked=False)
        body = r" \\ ".join(" & ".join(row) for row in tex_cells)
        latex = rf"{tex_name} = \left(\begin{{array}}{{{'r' * ncols}}} {body} \end{{array}}\right)"
        return [Step(key, latex, text, None, GIVEN)]
    # LaTeX: script size (4.1 pt a character, a minus sign wider) and 10 pt between columns: blocks that fill
    # GRID_PT, each holding whole terminal blocks (cut evenly), so that a step is the same columns in both
    per_grid = max(1, int(GRID_PT // (4.1 * tex_width + 10)))
    per_grid = -(-ncols // -(-ncols // per_grid))
    out = []
    for start in range(0, ncols, per_grid):
        stop = min(start + per_grid, ncols)
        blocked = stop - start < ncols
        name = f"{key} (columns {start + 1}-{stop} of {ncols})" if blocked else key
        pieces = -(-(stop - start) // per_text)
        cuts = [start + (stop - start) * k // pieces for k in range(pieces + 1)]
        text = "\n".join(_text_block(key, cells, width, a, b, blocked=True) for a, b in zip(cuts, cuts[1:]))
        lines = [
            _grid(tex_cells, base, r0, min(r0 + GRID_ROWS, len(value)), start, stop)
            for r0 in range(0, len(value), GRID_ROWS)
        ]
        latex = f"{tex_name} = " + r" \\ & ".join(lines)  # a tall block goes on in the next line
        out.append(Step(name, latex, text, None, GIVEN))
    return out


def _text_block(key: str, cells: list[list[str]], width: int, start: int, stop: int, *, blocked: bool) -> str:
    """Columns ``start:stop`` of a matrix for a terminal, named with them when the matrix is cut."""
    name = f"{key} (columns {start + 1}-{stop} of {len(cells[0])})" if blocked else key
    pad = " " * (len(name) + 3)
    rows = ["[" + "  ".join(c.rjust(width) for c in row[start:stop]) + " ]" for row in cells]
    return f"{name} = " + f"\n{pad}".join(rows)


def _grid(tex_cells: list[list[str]], base: int, r0: int, r1: int, c0: int, c1: int) -> str:
    """Rows ``r0:r1`` and columns ``c0:c1`` of a matrix in script size, headed with their indices (from ``base``).

    Maths only (``\\scriptstyle`` in each cell, no text-mode size or length), so MathJax in a notebook
    shows it as LaTeX does.
    """
    head = " & ".join(rf"\scriptstyle {c + base}" for c in range(c0, c1))
    rows = [
        rf"\scriptstyle {r + base} & " + " & ".join(rf"\scriptstyle {x}" for x in tex_cells[r][c0:c1])
        for r in range(r0, r1)
    ]
    body = rf" & {head} \\ \hline " + r" \\ ".join(rows)
    return rf"\begin{{array}}{{r|{'r' * (c1 - c0)}}} {body} \end{{array}}"


def _visible_len(tex: str) -> int:
    """Rough printed width in characters of a LaTeX number (``2.5 \\times 10^{-7}`` is about 9)."""
    return len(tex.replace(r"\times", "x").replace("{", "").replace("}", "").replace("^", "").replace(" ", ""))
