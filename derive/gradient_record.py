"""The :class:`Gradient` record of the conv family: ∂L/∂(one variable), its steps, closed forms, numbers and autograd check."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import sympy

from derive.printer import text_name
from derive.problem import Problem
from derive.steps import Derivation, Step, format_number

CONVENTION = "The convolution is a cross-correlation, as in PyTorch (nn.Conv2d) and Keras: the kernel is not flipped."


@dataclass(frozen=True)
class Gradient:
    """∂L/∂(one variable), with every step, closed forms and (optionally) numbers.

    Attributes:
        problem: The problem it belongs to.
        wrt: Name of the variable (``"w11"``).
        steps: Forward pass, chain-rule factors, terms and the result, in reading order.
        closed_form_latex: The gradient in index form (sum over the positions reached).
        expanded_latex: The same written out term by term.
        value: Its value at the given numbers, else ``None``.
        autograd: torch autograd's float64 value at the same numbers, else ``None``.
        positions: The 0-based output positions (i, j) the variable reaches.
    """

    problem: Problem
    wrt: str
    steps: tuple[Step, ...]
    closed_form_latex: str
    expanded_latex: str
    closed_form_text: str
    expanded_text: str
    value: float | None = None
    autograd: float | None = None
    positions: tuple[tuple[int, ...], ...] = ()
    _chain: tuple = field(default=(), repr=False, compare=False)
    kinks: tuple[str, ...] = ()
    scale: float = 0.0
    slack: float = 0.0
    loss_overflows: bool = False

    @property
    def check(self) -> str | None:
        """How the value compares with torch autograd: ``"ok"``, ``"kink"``, ``"mismatch"``, or ``None``.

        ``"ok"`` is agreement within float64 rounding of the sum (relative to the size of
        its terms, ``scale``); ``"kink"`` a difference explained by a ReLU input at 0 up to
        rounding, where we (and torch) take the derivative as 0 but torch's own summation
        may land on the other side; ``"mismatch"`` anything else (a bug: the CLI exits 1).
        """
        if self.value is None or self.autograd is None:
            return None
        if not math.isfinite(self.autograd):
            return "kink" if self.kinks else "mismatch"
        allowed = CHECK_TOL * max(self.scale, abs(self.value), abs(self.autograd), 1e-300) + 8 * _EPS * self.slack
        if abs(self.value - self.autograd) <= allowed:
            return "ok"
        return "kink" if self.kinks else "mismatch"

    @property
    def difference(self) -> float | None:
        """``|value - autograd|``, or ``None`` without numbers."""
        if self.value is None or self.autograd is None:
            return None
        return abs(self.value - self.autograd)

    def expr(self) -> sympy.Expr:
        """The gradient as one sympy expression in node symbols (ŷ, p, z_ij, leaves)."""
        head, shared, rests = self._chain
        total = sympy.Add(*[sympy.Mul(*r) for r in rests])
        return sympy.Mul(*head, *shared) * total

    def to_dict(self) -> dict[str, object]:
        """The JSON contract: wrt, loss, config, steps, closed_form_latex, expanded_latex, value, autograd."""
        return {
            "wrt": self.wrt,
            "loss": self.problem.loss,
            "config": self.problem.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "closed_form_latex": self.closed_form_latex,
            "expanded_latex": self.expanded_latex,
            "value": self.value,
            "autograd": self.autograd,
        }

    def _repr_markdown_(self) -> str:  # a notebook cell shows the steps as maths (derive.notebook)
        return self.to_derivation()._repr_markdown_()

    def _repr_latex_(self) -> str:
        return self.to_derivation()._repr_latex_()

    def to_derivation(self) -> Derivation:
        """This gradient as a generic :class:`~derive.steps.Derivation` for the renderers."""
        notes = [CONVENTION]
        if self.loss_overflows:
            notes.append(LOSS_OVERFLOW)
        if self.value is not None and self.autograd is not None:
            notes.append(check_note(self))
        title = f"∂L/∂{text_name(self.wrt)} ({self.problem.describe()})"
        return Derivation(title, self.steps[:-1], self.steps[-1], tuple(notes))


CHECK_TOL = 1e-9
LOSS_OVERFLOW = (
    "The loss L itself overflows float64 (|L| > 1.8e308) at these numbers; its gradient does not, and is shown."
)
_EPS = 2.0**-52
"""Relative tolerance of the autograd check (float64 sums of a few thousand terms stay far below)."""


def check_note(g: Gradient) -> str:
    """The note under a derivation that says what torch autograd gave."""
    head = f"Check: torch autograd (float64) gives {format_number(g.autograd or 0.0, 12)}; difference {g.difference or 0.0:.1e}"
    if g.check == "ok":
        return head + "."
    if g.check == "kink":
        where = ", ".join(text_name(k) for k in g.kinks)
        return (
            f"{head}. {where} {'is' if len(g.kinks) == 1 else 'are'} 0 up to rounding, the kink of ReLU: "
            "the derivative is taken as 0 there, as torch does, but torch's own sum may land on the other "
            "side, so the check is not meaningful at that point."
        )
    return f"{head}: MISMATCH. This is a bug in derive; please report it with the command and values."
