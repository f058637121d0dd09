"""The ``--all`` table: every gradient of a problem, its closed form and its value."""

from __future__ import annotations

from collections.abc import Sequence

from derive.engine import CONVENTION, Gradient
from derive.render import escape_latex, split_latex
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
            row = f"{row.ljust(width)}  = {format_number(g.value, 10)}"
            if g.autograd is not None:
                row = f"{row.ljust(width + 22)} [autograd {format_number(g.autograd, 10)}, diff {g.difference:.1e}]"
        lines.append(row)
    lines += ["", CONVENTION]
    if numbers and gradients[0].autograd is not None:
        worst = max(g.difference for g in gradients)
        lines.append(f"Largest difference from torch autograd (float64): {worst:.1e}.")
    return "\n".join(lines) + "\n"


def render_table_latex(gradients: Sequence[Gradient], *, standalone: bool = False) -> str:
    """Every gradient as ``align*`` lines (index form = value), optionally a full document."""
    if not gradients:
        return ""
    p = gradients[0].problem
    body = [rf"\section*{{All gradients of $L$ ({escape_latex(p.describe())})}}"]
    given = _given(gradients)
    if given:
        body += [r"\paragraph{Given}", r"\begin{align*}", " \\\\\n".join("&" + s.latex for s in given), r"\end{align*}"]
    body.append(r"\begin{align*}")
    rows = []
    for g in gradients:
        eq = g.closed_form_latex
        if g.value is not None:
            eq += f" = {latex_number(g.value, 10)}"
        rows.append(" \\\\\n".join(split_latex(eq)))
    body.append(" \\\\\n".join(rows))
    body.append(r"\end{align*}")
    body.append(escape_latex(CONVENTION))
    if gradients[0].autograd is not None:
        worst = max(g.difference for g in gradients)
        body.append(r"\par " + escape_latex(f"Largest difference from torch autograd (float64): {worst:.1e}."))
    text = "\n".join(body) + "\n"
    if not standalone:
        return text
    return (
        "\\documentclass[11pt]{article}\n\\usepackage[a4paper,margin=2cm]{geometry}\n"
        "\\usepackage{amsmath,amssymb}\n\\allowdisplaybreaks\n\\begin{document}\n" + text + "\\end{document}\n"
    )


def _given(gradients: Sequence[Gradient]) -> list[Step]:
    """The numbers the gradients were evaluated at (the same for all of them)."""
    return [s for s in gradients[0].steps if s.group == GIVEN]
