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

from derive.latexlines import LATEX_WIDTH, split_latex, visible_width
from derive.latexlines import groups as _groups
from derive.steps import Derivation

__all__ = ["LATEX_WIDTH", "escape_latex", "render_latex", "render_text", "split_latex"]

TEXT_WIDTH = 100
COMPACT_LINES = 150
"""A derivation longer than this many LaTeX lines is set in ``\\footnotesize``, in lines of :data:`COMPACT_WIDTH`."""
COMPACT_WIDTH = 88
"""Visible characters per line in a compact derivation (footnotesize: 9 pt type on 11 pt's page)."""
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


PACK_MAX = 4
"""Short equations of a compact derivation side by side: at most this many on one line."""
PACK_PT, PACK_CHAR_PT, PACK_GAP_PT = 480.0, 5.0, 14.0
"""The line (A4, 2 cm margins), a printed character in footnotesize, the least gap between two equations (points)."""


def _packed(split: list[list[str]], width: int) -> list[list[str]]:
    """``align*`` blocks of a group: a run of short one-line equations goes several to a line.

    Each run is a block of its own (``align*`` lines its columns up over the whole block, so a long
    equation would push the second column off the page).

    >>> _packed([["z &= a + b", "&+ c"], ["h_0 &= 1"], ["h_1 &= 2"], ["h_2 &= 3"]], 36)
    [['z &= a + b', '&+ c'], ['h_0 &= 1 & h_1 &= 2 & h_2 &= 3']]
    """
    blocks: list[list[str]] = []
    plain: list[str] = []
    run: list[str] = []

    def flush() -> None:
        nonlocal plain
        if len(run) > 1:
            if plain:
                blocks.append(plain)
                plain = []
            per_line = max(1, min(PACK_MAX, int(PACK_PT // (PACK_CHAR_PT * max(map(_printed, run)) + PACK_GAP_PT))))
            blocks.append([" & ".join(run[k : k + per_line]) for k in range(0, len(run), per_line)])
        else:
            plain += run
        run.clear()

    for lines in split:
        short = len(lines) == 1 and 2 * visible_width(lines[0]) + 6 <= width
        if run and not (short and 0.75 <= _printed(lines[0]) / _printed(run[0]) <= 1.33):
            flush()  # a run is equations of about one width: the widest sets the columns
        if short:
            run.append(lines[0])
        else:
            plain += lines
    flush()
    if plain:
        blocks.append(plain)
    return blocks


def _printed(line: str) -> float:
    """:func:`visible_width` closer to print: subscripts at 0.7 of a character, a ``+``/``-`` between terms 3,
    a ``\\times`` (of ``2.5 \\times 10^{-7}``) 2.5, ``\\tanh`` its 4 letters.

    A sum of many short numbers (``0 + 0 + 0``) is mostly its signs and their spaces.
    """
    subscripts = sum(visible_width(m) for m in re.findall(r"_\{([^{}]*)\}", line))
    signs = line.count(" + ") + line.count(" - ")
    words = sum(len(m) - 1 for m in re.findall(r"\\(tanh|exp|ln|log|max|min)\b", line))  # \tanh prints 4 letters
    return visible_width(line) - 0.3 * subscripts + 2 * signs + 1.5 * line.count(r"\times") + words


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
        compact = sum(len(split_latex(s.latex)) for s in d.steps) > COMPACT_LINES
        width, measure = (COMPACT_WIDTH, _printed) if compact else (LATEX_WIDTH, visible_width)
        groups = []
        for group, steps in _groups(d.steps):
            split = [split_latex(s.latex, width, measure) for s in steps]
            blocks = _packed(split, width) if compact else [[line for lines in split for line in lines]]
            groups.append((escape_latex(group or "Steps"), blocks))
        data.append(
            {
                "title": escape_latex(d.title),
                "compact": compact,
                "groups": groups,
                "result": " \\\\\n".join(split_latex(d.result.latex, width, measure)),
                "notes": [escape_latex(n) for n in d.notes],
            }
        )
    return template.render(derivations=data, standalone=standalone)
