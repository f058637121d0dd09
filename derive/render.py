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
from collections.abc import Iterable
from pathlib import Path

from derive.latexlines import LATEX_WIDTH, split_latex
from derive.latexlines import groups as _groups
from derive.steps import Derivation

__all__ = ["LATEX_WIDTH", "escape_latex", "render_latex", "render_text", "split_latex"]

TEXT_WIDTH = 100
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
    from derive.latex_env import environment  # the keys' LaTeX-safe jinja2 environment, one for all

    derivations = [derivation] if isinstance(derivation, Derivation) else list(derivation)
    template = environment().from_string((Path(__file__).parent / "derivation.tex.j2").read_text(encoding="utf-8"))
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
