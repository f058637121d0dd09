r"""Derivations in a notebook: the Markdown and LaTeX that Jupyter shows for a result in a cell.

``Gradient``, the softmax-ce and batch-norm derivations and the network gradients all have
``_repr_markdown_`` and ``_repr_latex_``, so ``derive.gradient(derive.Problem(), "w11")`` as
the last line of a cell shows the steps as maths (MathJax renders ``aligned`` blocks).

Every equation is broken at its top-level ``=`` and ``+`` signs (:func:`derive.latexlines.split_latex`),
the boxed result too (an ``aligned`` block inside the box), and a group longer than
:data:`BLOCK_LINES` lines is cut into several display blocks, so no line is wider than the
cell and no block is taller than a page.

>>> from derive.steps import Derivation, Step
>>> d = Derivation("∂L/∂z", (Step("a", "a = 1", "a = 1", 1.0, "Given"),), Step("r", "r = 2", "r = 2", 2.0, "Result"))
>>> print(markdown(d))
**∂L/∂z**
<BLANKLINE>
*Given*
$$\begin{aligned} a &= 1 \end{aligned}$$
<BLANKLINE>
*Result*
$$\boxed{\begin{aligned} r &= 2 \end{aligned}}$$
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Protocol

from derive.latexlines import groups, split_latex

__all__ = ["BLOCK_LINES", "latex", "markdown"]

BLOCK_LINES = 30
"""Lines of one display block at most (a page of maths; a longer group continues in the next block)."""


class _Step(Protocol):
    @property
    def latex(self) -> str: ...
    @property
    def group(self) -> str: ...


class _Derivation(Protocol):  # derive.steps.Derivation, without importing it (derive.steps imports this module)
    @property
    def title(self) -> str: ...
    @property
    def steps(self) -> Sequence[_Step]: ...
    @property
    def result(self) -> _Step: ...
    @property
    def notes(self) -> Sequence[str]: ...


def _aligned(lines: list[str]) -> str:
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


def _blocks(lines: list[str]) -> list[str]:
    """``$$ aligned $$`` blocks of at most :data:`BLOCK_LINES` lines each."""
    return ["$$" + _aligned(lines[k : k + BLOCK_LINES]) + "$$" for k in range(0, len(lines), BLOCK_LINES)]


def _boxed(derivation: _Derivation) -> str:
    """The result in a box, broken into lines like every other equation."""
    return "$$" + r"\boxed{" + _aligned(split_latex(derivation.result.latex)) + "}$$"


def markdown(derivation: _Derivation) -> str:
    """Markdown with ``$$`` blocks: the title in bold, each group's equations aligned, the result boxed, the notes."""
    out = [f"**{html.escape(derivation.title)}**", ""]
    for group, steps in groups(derivation.steps):
        out.append(f"*{html.escape(group or 'Steps')}*")
        out += _blocks([line for s in steps for line in split_latex(s.latex)])
        out.append("")
    out.append("*Result*")
    out.append(_boxed(derivation))
    out += ["", *(f"- {html.escape(n)}" for n in derivation.notes)]
    return "\n".join(out).rstrip() + "\n" if derivation.notes else "\n".join(out).rstrip()


def latex(derivation: _Derivation) -> str:
    """Display-maths blocks (``$$ ... $$``) of every step, a page at most each, the result boxed last."""
    lines = [line for s in derivation.steps for line in split_latex(s.latex)]
    return "\n".join([*_blocks(lines), _boxed(derivation)])
