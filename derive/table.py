"""The ``--all`` table: every gradient of a problem, its closed form and its value."""

from __future__ import annotations

import re
from collections.abc import Sequence

from derive.engine import CONVENTION, Gradient, check_note
from derive.render import COMPACT_WIDTH, LATEX_WIDTH, escape_latex, split_latex
from derive.steps import GIVEN, Step, format_number, latex_number

__all__ = ["render_table_latex", "render_table_text"]


def render_table_text(gradients: Sequence[Gradient]) -> str:
    """A terminal table: variable, closed form (index form), value, autograd, difference."""
    if not gradients:
        return ""
    p = gradients[0].problem
    lines = [f"All gradients of L ({p.describe()})", ""]
    given = _given(gradients)
    if given:
        lines += ["Given:", *("  " + row for s in given for row in s.text.split("\n")), ""]
    numbers = gradients[0].value is not None
    width = max(len(g.closed_form_text) for g in gradients)  # the numbers in one column
    for g in gradients:
        row = g.closed_form_text
        if numbers:
            assert g.value is not None  # one call gives every gradient numbers, or none
            row = f"{row.ljust(width)}  = {format_number(g.value, 10)}"
            if g.autograd is not None:
                row = f"{row.ljust(width + 22)} [autograd {format_number(g.autograd, 10)}, diff {g.difference:.1e}]"
        lines.append(row)
    lines += ["", CONVENTION]
    if numbers and gradients[0].autograd is not None:
        worst = _largest_difference(gradients)
        lines.append(f"Largest difference from torch autograd (float64): {worst:.1e}.")
    return "\n".join(lines) + "\n"


def _largest_difference(gradients: Sequence[Gradient]) -> float:
    """The largest ``|value - autograd|`` over gradients that were all checked against autograd."""
    return max(d for g in gradients if (d := g.difference) is not None)


TABLE_WIDTH = 30
"""Visible characters per line of a gradient in the ``--all`` table's middle column."""
COMPACT_ROWS = 60
"""A table of more gradients than this is set in ``\\footnotesize`` (rows closer, the index form wider)."""
COMPACT_TABLE_WIDTH = 44
"""Visible characters per line of the middle column in a compact table."""


def render_table_latex(gradients: Sequence[Gradient], *, standalone: bool = False) -> str:
    """Every gradient as a row of a ``longtable``: variable, index form, value, torch autograd.

    The table breaks across pages with its header repeated; a long index form breaks
    into lines inside its cell, whose width is what the other columns leave of the line
    (measured by LaTeX on their widest entries). A table of more than :data:`COMPACT_ROWS`
    gradients is set smaller. Needs ``longtable`` (in texlive-latex-base), loaded by the
    standalone document; a fragment is meant for a document that loads it.
    """
    if not gradients:
        return ""
    p = gradients[0].problem
    body = [rf"\section*{{All gradients of $L$ ({escape_latex(p.describe())})}}"]
    compact = len(gradients) > COMPACT_ROWS
    given = _given(gradients)
    if given:
        width = COMPACT_WIDTH if compact else LATEX_WIDTH
        body += [
            r"\paragraph{Given}",
            *([r"\begingroup\footnotesize"] if compact else []),
            r"\begin{align*}",
            " \\\\\n".join(line for s in given for line in split_latex(s.latex, width)),
            r"\end{align*}",
            *([r"\endgroup"] if compact else []),
        ]
    numbers = gradients[0].value is not None
    checked = numbers and gradients[0].autograd is not None
    rows = []
    for g in gradients:
        lhs, _, rhs = g.closed_form_latex.partition(" = ")
        name = lhs.removeprefix(r"\frac{\partial L}{\partial ").removesuffix("}")
        lines = split_latex("x = " + rhs, COMPACT_TABLE_WIDTH if compact else TABLE_WIDTH)
        lines = [line.replace("x &= ", "&", 1) if k == 0 else line for k, line in enumerate(lines)]
        joined = r" \\ ".join(lines)
        cell = rf"$\begin{{aligned}}[t] {joined} \end{{aligned}}$" if len(lines) > 1 else f"${rhs}$"
        row = [f"${name}$", cell]
        if numbers:
            assert g.value is not None  # one call gives every gradient numbers, or none
            row.append(f"${latex_number(g.value, 10)}$")
        if checked:
            assert g.autograd is not None  # and checks every one of them, or none
            row.append(f"${latex_number(g.autograd, 10)}$")
        rows.append(row)
    head = (
        [r"$x$", r"$\partial L / \partial x$ (index form)"]
        + (["value"] if numbers else [])
        + (["torch autograd"] if checked else [])
    )
    # the index form gets the line less the other columns at their widest (LaTeX measures one entry of each shape)
    measure = [r"\ifdefined\gkcell\else\newlength{\gkcell}\newlength{\gkrest}\newlength{\gkwidest}\fi", r"\gkrest=0pt"]
    for k in [0, *range(2, len(head))]:
        longest = [head[k], *{re.sub(r"\d", "0", r[k]): r[k] for r in rows}.values()]  # digits are of one width
        measure.append(r"\gkwidest=0pt")
        measure += [rf"\settowidth{{\gkcell}}{{{w}}}\ifdim\gkcell>\gkwidest \gkwidest=\gkcell\fi" for w in longest]
        measure.append(r"\advance\gkrest by \gkwidest")
    gaps = 2 * (len(head) - 1)
    cols = rf"@{{}}l p{{\dimexpr\linewidth-\gkrest-{gaps}\tabcolsep\relax}}" + " r" * (len(head) - 2) + "@{}"
    body += [r"\begingroup" + (r"\footnotesize" if compact else ""), *measure]
    body += [rf"\begin{{longtable}}{{{cols}}}", " & ".join(head) + r" \\ \hline", r"\endhead"]
    gap = r" \\" if compact else r" \\[2pt]"
    body += [" & ".join(row) + gap for row in rows]
    body.append(r"\end{longtable}")
    body.append(r"\endgroup")
    body.append(escape_latex(CONVENTION))
    if checked:
        worst = _largest_difference(gradients)
        body.append(r"\par " + escape_latex(f"Largest difference from torch autograd (float64): {worst:.1e}."))
        for note in sorted({check_note(g) for g in gradients if g.check != "ok"}):
            body.append(r"\par " + escape_latex(note))
    text = "\n".join(body) + "\n"
    if not standalone:
        return text
    return (
        "\\documentclass[11pt]{article}\n\\usepackage[a4paper,margin=2cm]{geometry}\n"
        "\\usepackage{amsmath,amssymb,longtable}\n"
        "\\let\\gkmathbb\\mathbb\n"  # the indicator 1 in bold, as derivation.tex.j2 does (amssymb's \mathbb has no 1)
        "\\renewcommand{\\mathbb}[1]{\\ifx1#1\\mathbf{1}\\else\\gkmathbb{#1}\\fi}\n"
        "\\allowdisplaybreaks\n\\begin{document}\n" + text + "\\end{document}\n"
    )


def _given(gradients: Sequence[Gradient]) -> list[Step]:
    """The numbers the gradients were evaluated at (the same for all of them)."""
    return [s for s in gradients[0].steps if s.group == GIVEN]
