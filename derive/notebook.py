"""Derivations in a notebook: the Markdown and LaTeX that Jupyter shows for a result in a cell.

``Gradient``, the softmax-ce and batch-norm derivations and the network gradients all have
``_repr_markdown_`` and ``_repr_latex_``, so ``derive.gradient(derive.Problem(), "w11")`` as
the last line of a cell shows the steps as maths (MathJax renders ``aligned`` blocks).

>>> from derive.steps import Derivation, Step
>>> d = Derivation("∂L/∂z", (Step("a", "a = 1", "a = 1", 1.0, "Given"),), Step("r", "r = 2", "r = 2", 2.0, "Result"))
>>> print(markdown(d))
**∂L/∂z**
<BLANKLINE>
*Given*
$$\\begin{aligned} a &= 1 \\end{aligned}$$
<BLANKLINE>
*Result*
$$\\boxed{r = 2}$$
"""

from __future__ import annotations

import html

from derive.render import _groups, split_latex
from derive.steps import Derivation

__all__ = ["latex", "markdown"]


def _aligned(lines: list[str]) -> str:
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


def markdown(derivation: Derivation) -> str:
    """Markdown with ``$$`` blocks: the title in bold, each group's equations aligned, the result boxed, the notes."""
    out = [f"**{html.escape(derivation.title)}**", ""]
    for group, steps in _groups(derivation.steps):
        out.append(f"*{html.escape(group or 'Steps')}*")
        out.append("$$" + _aligned([line for s in steps for line in split_latex(s.latex)]) + "$$")
        out.append("")
    out.append("*Result*")
    out.append(r"$$\boxed{" + derivation.result.latex + "}$$")
    out += ["", *(f"- {html.escape(n)}" for n in derivation.notes)]
    return "\n".join(out).rstrip() + "\n" if derivation.notes else "\n".join(out).rstrip()


def latex(derivation: Derivation) -> str:
    """One display-maths block (``$$ ... $$``) of every step, the result boxed last."""
    lines = [line for s in derivation.steps for line in split_latex(s.latex)]
    lines.append(r"&\boxed{" + derivation.result.latex + "}")
    return "$$" + _aligned(lines) + "$$"
