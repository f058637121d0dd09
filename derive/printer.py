"""How derive prints maths: one LaTeX printer and one Unicode printer for the terminal.

Symbol names print as the handouts write them: ``w11`` → ``w_{11}`` / ``w₁₁``,
``a12_3`` → ``a_{12,3}`` / ``a₁₂,₃``, ``yhat`` → ``\\hat{y}`` / ``ŷ``. The sigmoid is
``\\sigma``, ReLU's derivative ``Heaviside(z, 0)`` prints as ``\\mathbb{1}[z > 0]``
(needs amssymb), and products keep the order they were built in (``order='none'``).

>>> import sympy
>>> latex(sympy.Symbol("w11")), text(sympy.Symbol("yhat"))
('w_{11}', 'ŷ')
"""

from __future__ import annotations

import re

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

__all__ = ["DerivePrinter", "TextPrinter", "latex", "latex_name", "text", "text_name"]

_NAME = re.compile(r"([A-Za-z])(\d+)(?:_(\d+))?")
_SUB = str.maketrans("0123456789+-=()ijkmn,", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ᵢⱼₖₘₙ,")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def latex_name(name: str) -> str:
    """LaTeX for a node name: ``"a21"`` → ``"a_{21}"``, ``"a12_3"`` → ``"a_{12,3}"``."""
    if name == "yhat":
        return r"\hat{y}"
    match = _NAME.fullmatch(name)
    if match:
        letter, first, second = match.groups()
        return f"{letter}_{{{first},{second}}}" if second else f"{letter}_{{{first}}}"
    return name


def text_name(name: str) -> str:
    """Unicode for a node name: ``"a21"`` → ``"a₂₁"``, ``"yhat"`` → ``"ŷ"``."""
    if name == "yhat":
        return "ŷ"
    match = _NAME.fullmatch(name)
    if match:
        letter, first, second = match.groups()
        return letter + (f"{first},{second}" if second else first).translate(_SUB)
    return name


def subscript(text_: str) -> str:
    """Unicode subscript of ``text_`` if every character has one, else ``[text_]``.

    >>> subscript("2i+j"), subscript("i+1,j+1")
    ('₂ᵢ₊ⱼ', 'ᵢ₊₁,ⱼ₊₁')
    """
    compact = text_.replace(" ", "")
    if all(ch in "0123456789+-=()ijkmn," for ch in compact):
        return compact.translate(_SUB)
    return f"[{compact}]"


class DerivePrinter(LatexPrinter):
    """The one LaTeX printer of derive (sympy's ``LatexPrinter`` with course notation)."""

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__({"order": "none", **(settings or {})})

    def _print_Symbol(self, expr: sympy.Symbol, style: str = "plain") -> str:
        return latex_name(expr.name)

    def _print_sigma(self, expr: sympy.Expr, exp: str | None = None) -> str:
        tex = rf"\sigma({self._print(expr.args[0])})"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_relu(self, expr: sympy.Expr, exp: str | None = None) -> str:
        tex = rf"\operatorname{{ReLU}}({self._print(expr.args[0])})"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_tanh(self, expr: sympy.Expr, exp: str | None = None) -> str:
        return rf"\tanh^{{{exp}}}({self._print(expr.args[0])})" if exp else rf"\tanh({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sympy.Expr, exp: str | None = None) -> str:
        return rf"\mathbb{{1}}[{self._print(expr.args[0])} > 0]"

    def _print_log(self, expr: sympy.Expr, exp: str | None = None) -> str:
        arg = expr.args[0]
        inner = self._print(arg) if arg.is_Symbol else rf"\left({self._print(arg)}\right)"
        return rf"\ln^{{{exp}}} {inner}" if exp else rf"\ln {inner}"

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        num = self._print(expr.expr)
        den = "".join(rf"\partial {self._print(v)}" for v, _ in expr.variable_count)
        return rf"\frac{{\partial {num}}}{{{den}}}"


class TextPrinter(StrPrinter):
    """One-line Unicode maths for a terminal: ``2·(ŷ - y)·v₀·σ(z₀₀)·(1 - σ(z₀₀))``."""

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__({"order": "none", **(settings or {})})

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return text_name(expr.name)

    def _print_sigma(self, expr: sympy.Expr) -> str:
        return f"σ({self._print(expr.args[0])})"

    def _print_relu(self, expr: sympy.Expr) -> str:
        return f"ReLU({self._print(expr.args[0])})"

    def _print_tanh(self, expr: sympy.Expr) -> str:
        return f"tanh({self._print(expr.args[0])})"

    def _print_log(self, expr: sympy.Expr) -> str:
        return f"ln({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sympy.Expr) -> str:
        return f"𝟙[{self._print(expr.args[0])} > 0]"

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp.is_Integer and int(exp) > 1:
            return self.parenthesize(base, 60) + str(int(exp)).translate(_SUP)
        return super()._print_Pow(expr, rational)


_LATEX = DerivePrinter()
_TEXT = TextPrinter()


def latex(expr: sympy.Basic) -> str:
    """LaTeX of ``expr`` with derive's notation (compiles with amsmath + amssymb)."""
    return _LATEX.doprint(expr)


def text(expr: sympy.Basic) -> str:
    """One-line Unicode of ``expr`` for a terminal."""
    out = _TEXT.doprint(expr)
    return out.replace("**", "^").replace("*", "·")
