"""Render :class:`~derive.steps.Derivation` objects as terminal text or LaTeX.

LaTeX goes through one jinja2 template with LaTeX-safe delimiters (``((* *))``,
``((( )))``) and ``StrictUndefined``; only pre-rendered strings reach it, and every
plain-text string (titles, headings, notes) is escaped. Long equations are broken at
top-level ``=`` and ``+`` signs into ``align*`` lines, so the output compiles with plain
pdflatex + amsmath/amssymb and stays inside the page.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

from derive.steps import Derivation, Step

__all__ = ["escape_latex", "render_latex", "render_text", "split_latex"]

TEXT_WIDTH = 100
LATEX_WIDTH = 60  # visible characters per align line (a4, 2cm margins, 11pt)
TEXT_ELIDE = 24  # show at most this many steps of one group in the terminal

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_UNICODE = {
    "∂": r"$\partial$",
    "ŷ": r"$\hat{y}$",
    "σ": r"$\sigma$",
    "·": r"$\cdot$",
    "Σ": r"$\Sigma$",
    "−": "-",
    "²": r"$^2$",
    "γ": r"$\gamma$",
    "β": r"$\beta$",
    "μ": r"$\mu$",
    "ε": r"$\epsilon$",
    "δ": r"$\delta$",
    "½": r"$\frac{1}{2}$",
    "√": r"$\surd$",
    "→": r"$\to$",
    "\u0302": r"\^{}",
    "×": r"$\times$",
    "≈": r"$\approx$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "⌊": r"$\lfloor$",
    "⌋": r"$\rfloor$",
    "⌈": r"$\lceil$",
    "⌉": r"$\rceil$",
}
_SUBDIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉ᵢⱼₘₙₖ₊₋", "0123456789ijmnk+-")


def escape_latex(text: str) -> str:
    """Escape plain text for LaTeX (specials, and the few Unicode signs derive uses).

    >>> escape_latex("50% of a_1 & {b}")
    '50\\\\% of a\\\\_1 \\\\& \\\\{b\\\\}'
    """
    text = re.sub("([A-Za-z])\u0302", lambda m: "\x01" + m.group(1), text)  # x̂ -> \hat{x} below
    out: list[str] = []
    run = ""  # consecutive subscript characters become one $_{...}$
    for ch in text + "\0":
        if ch != "\0" and ch.translate(_SUBDIGITS) != ch:
            run += ch.translate(_SUBDIGITS)
            continue
        if run:
            out.append(r"$_{" + run + "}$")
            run = ""
        if ch == "\0":
            break
        if out and out[-1] == "\x01":
            out[-1] = r"$\hat{" + ch + "}$"
        elif ch == "\x01":
            out.append(ch)
        elif ch in _LATEX_SPECIALS:
            out.append(_LATEX_SPECIALS[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")  # never let an unknown character break pdflatex
    return "".join(out).replace("$$", "${}$")


def _visible(tex: str) -> int:
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


def split_latex(equation: str, width: int = LATEX_WIDTH) -> list[str]:
    """An equation ``lhs = rhs ...`` as ``align*`` lines, broken at top-level signs.

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
        if current and _visible(current + tok) > width:
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


def _groups(steps: Sequence[Step]) -> list[tuple[str, list[Step]]]:
    groups: list[tuple[str, list[Step]]] = []
    for s in steps:
        if groups and groups[-1][0] == s.group:
            groups[-1][1].append(s)
        else:
            groups.append((s.group, [s]))
    return groups


def render_text(derivation: Derivation | Iterable[Derivation], *, width: int = TEXT_WIDTH) -> str:
    """Unicode text for a terminal: headed groups of equations, the result, the notes."""
    derivations = [derivation] if isinstance(derivation, Derivation) else list(derivation)
    out: list[str] = []
    for d in derivations:
        out += [d.title, "=" * min(len(d.title), width), ""]
        for group, steps in _groups(d.steps):
            out.append(f"{group or 'Steps'}:")
            shown = steps if len(steps) <= TEXT_ELIDE else [*steps[: TEXT_ELIDE - 4], None, *steps[-3:]]
            for s in shown:
                if s is None:
                    out.append(f"  ... ({len(steps) - TEXT_ELIDE + 1} more; use --format json or latex for all)")
                    continue
                out += _wrap(s.text, width)
            out.append("")
        out.append("Result:")
        out += _wrap(d.result.text, width)
        out.append("")
        for note in d.notes:
            out += textwrap.wrap(note, width)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _wrap(line: str, width: int) -> list[str]:
    if "\n" in line:  # laid out already (a matrix of given numbers)
        return ["  " + row for row in line.split("\n")]
    if len(line) <= width - 2:
        return ["  " + line]
    chunks = re.split(r"(?= [+=] )", line)
    lines, current = [], ""
    for chunk in chunks:
        if current and len(current) + len(chunk) > width - 2:
            lines.append(current)
            current = "    " + chunk.lstrip()
        else:
            current += chunk
    lines.append(current)
    return ["  " + lines[0], *["  " + x for x in lines[1:]]]


def render_latex(derivation: Derivation | Iterable[Derivation], *, standalone: bool = False) -> str:
    """LaTeX of one or more derivations.

    Args:
        derivation: A derivation or several (one section each).
        standalone: A full document (``\\documentclass`` ... ``\\end{document}``) that
            compiles with pdflatex, or (default) a fragment to ``\\input`` into a document
            that loads amsmath and amssymb.
    """
    import jinja2

    derivations = [derivation] if isinstance(derivation, Derivation) else list(derivation)
    env = jinja2.Environment(
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.from_string((Path(__file__).parent / "derivation.tex.j2").read_text(encoding="utf-8"))
    data = []
    for d in derivations:
        groups = []
        for group, steps in _groups(d.steps):
            lines = [line for s in steps for line in split_latex(s.latex)]
            groups.append((escape_latex(group or "Steps"), lines))
        data.append(
            {
                "title": escape_latex(d.title),
                "groups": groups,
                "result": " \\\\\n".join(split_latex(d.result.latex)),
                "notes": [escape_latex(n) for n in d.notes],
            }
        )
    return template.render(derivations=data, standalone=standalone)
