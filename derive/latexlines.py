"""Breaking LaTeX equations into lines that fit a page: one module below every renderer.

:mod:`derive.render` (terminal text, LaTeX documents), :mod:`derive.notebook` (what Jupyter
shows) and the answer keys break an equation ``lhs = rhs ...`` at its top-level ``=`` and ``+``
signs the same way; nothing here imports the rest of derive, so any of them may use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

__all__ = ["LATEX_WIDTH", "groups", "split_latex", "visible_width"]

LATEX_WIDTH = 60  # visible characters per align line (a4, 2cm margins, 11pt)


class _Grouped(Protocol):
    @property
    def group(self) -> str: ...


S = TypeVar("S", bound=_Grouped)


def visible_width(tex: str) -> int:
    """Rough printed width of LaTeX in characters (commands count as one, a fraction as four)."""
    tex = re.sub(r"\\(left|right|Big|big|,|quad|cdot)", "", tex)
    tex = re.sub(r"\\frac\{[^{}]*\}\{[^{}]*\}", "xxxx", tex)
    tex = re.sub(r"\\[a-zA-Z]+", "x", tex)
    return len(re.sub(r"[{}_^ ]", "", tex)) + tex.count(", -") // 2  # a minus sign is wider than a digit


def _tokens(tex: str) -> list[str]:
    """Split at top-level `` = ``, `` + `` / `` - `` and after ``, `` (outside braces and \\left..\\right)."""
    parts, depth, start, k = [], 0, 0, 0
    while k < len(tex):
        if tex.startswith(r"\left", k):
            depth += 1
            k += 5
            continue
        if tex.startswith(r"\right", k):
            depth -= 1
            k += 6
            continue
        ch = tex[k]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and tex.startswith((" = ", " + ", " - "), k) and k > start:
            parts.append(tex[start:k])
            start = k + 1
            k += 3
            continue
        elif (
            depth == 0 and tex.startswith(", ", k) and k > start and tex[k - 1] != "\\"
        ):  # a long tuple of numbers breaks after a comma
            parts.append(tex[start : k + 1])
            start = k + 2
            k += 2
            continue
        k += 1
    parts.append(tex[start:])
    return parts


def split_latex(
    equation: str, width: float = LATEX_WIDTH, measure: Callable[[str], float] = visible_width
) -> list[str]:
    """An equation ``lhs = rhs ...`` as ``align*`` lines, broken at top-level signs.

    ``measure`` is the printed width of a line in characters (:func:`visible_width` unless the
    caller knows better, e.g. for smaller type).

    >>> split_latex("x = a + b", 100)
    ['x &= a + b']
    """
    tokens = _tokens(equation)
    if len(tokens) == 1:
        return ["&" + equation]
    lhs, rest = tokens[0], tokens[1:]
    lines: list[str] = []
    current = ""
    for tok in rest:
        if current and measure(current + tok) > width:
            lines.append(current)
            current = ""
        current = f"{current} {tok}" if current else tok
    lines.append(current)
    out = []
    for n, line in enumerate(lines):
        line = line.strip()
        if line.startswith("= "):
            out.append(("" if n else lhs + " ") + "&" + line)
        else:  # a continued sum
            if n == 0:
                out.append(f"{lhs} &{line}")
            else:
                out.append(r"&\quad " + line)
    return out


def groups(steps: Sequence[S]) -> list[tuple[str, list[S]]]:
    """Consecutive steps with the same ``group``, as (heading, steps)."""
    out: list[tuple[str, list[S]]] = []
    for s in steps:
        if out and out[-1][0] == s.group:
            out[-1][1].append(s)
        else:
            out.append((s.group, [s]))
    return out
