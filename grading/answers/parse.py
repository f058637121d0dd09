"""Read a student's formula, plain text or LaTeX, into a sympy expression without running it.

A small tokenizer and a recursive-descent parser build the expression from the
tokens they recognise; nothing a student wrote reaches ``eval``, ``sympify`` or
``parse_expr``. Names go through a whitelist (the question's ``resolve``), the
text and the nesting have size limits, and every node is built with
``evaluate=False`` so that no big-number arithmetic can be asked for.

Grammar (both syntaxes; implicit multiplication everywhere)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary | unary)*
    unary   := ("+" | "-") unary | power
    power   := primary ("^" unary)?
    primary := NUMBER | NAME subscript? | FUNC argument | \\frac{expr}{expr} | (expr) | [expr] | {expr}
             | \\sum_{i,j=lo}^{hi} term       (the rest of the product, once per index value)

>>> str(parse_formula("2*(yhat - y)*v0", lambda n: n if n in ("yhat", "y", "v0") else None))
'2*v0*(-y + yhat)'
>>> str(parse_formula(r"2\\left(\\hat{y}-y\\right) v_{0}", lambda n: n if n in ("yhat", "y", "v0") else None))
'2*v0*(-y + yhat)'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping

import sympy

from derive.kinds import relu, sigma
from grading.answers.tokens import MAX_CHARS, Tok, Unreadable, last_side, prepare, tokens

__all__ = ["MAX_CHARS", "MAX_DEPTH", "Unreadable", "evaluate", "parse_formula"]

MAX_DEPTH = 40
"""The deepest nesting of parentheses, powers and signs read."""

Resolve = Callable[[str], "str | None"]


_CLOSE = {"(": ")", "[": "]", "{": "}"}
_MAX_SUM_TERMS = 256
_NATURAL_MAX = 10  # a sum with no stated range runs over 0..9, where the indexed names exist


class _OutOfRange(Unreadable):
    """Inside a sum with no stated range: a name that does not exist ends the range there."""


class _Parser:
    def __init__(self, toks: list[Tok], resolve: Resolve) -> None:
        self.toks, self.k, self.resolve, self.depth = toks, 0, resolve, 0
        self.bound: dict[str, int] = {}  # a sum's indices and their current values
        self.natural = False  # inside a sum with no stated range: an unknown name ends the range
        self.reads = 0

    def peek(self) -> Tok | None:
        return self.toks[self.k] if self.k < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.toks[self.k]
        self.k += 1
        return tok

    def is_op(self, text: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "OP" and t.text == text

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unreadable(f"the formula is nested more than {MAX_DEPTH} levels deep.")

    def expr(self) -> sympy.Expr:
        terms = [self.term()]
        while self.is_op("+") or self.is_op("-"):
            sign = self.take().text
            t = self.term()
            terms.append(t if sign == "+" else sympy.Mul(-1, t, evaluate=False))
        return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)

    def starts_primary(self) -> bool:
        t = self.peek()
        return t is not None and (
            t.kind in ("NUM", "NAME", "FUNC", "FRAC", "HAT", "SUM") or (t.kind == "OP" and t.text in "([{")
        )

    def term(self) -> sympy.Expr:
        factors = [self.unary()]
        while True:
            if self.is_op("*"):
                self.take()
                factors.append(self.unary())
            elif self.is_op("/"):
                self.take()
                factors.append(sympy.Pow(self.unary(), -1, evaluate=False))
            elif self.starts_primary():
                factors.append(self.unary())
            else:
                break
        return factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False)

    def unary(self) -> sympy.Expr:
        self.deeper()
        try:
            if self.is_op("-"):
                self.take()
                return sympy.Mul(-1, self.unary(), evaluate=False)
            if self.is_op("+"):
                self.take()
                return self.unary()
            return self.power()
        finally:
            self.depth -= 1

    def power(self) -> sympy.Expr:
        base = self.primary()
        if self.is_op("^"):
            self.take()
            if self.peek() is None:
                raise Unreadable("'^' at the end has no exponent.")
            return sympy.Pow(base, self.unary(), evaluate=False)
        return base

    def group(self, what: str) -> sympy.Expr:
        t = self.peek()
        if t is None or t.kind != "OP" or t.text not in _CLOSE:
            raise Unreadable(f"{what} must be followed by a bracket or braces.")
        self.take()
        inner = self.expr()
        if not self.is_op(_CLOSE[t.text]):
            got = self.peek()
            raise Unreadable(
                "unbalanced parenthesis: "
                + (f"{t.text!r} is never closed." if got is None else f"expected {_CLOSE[t.text]!r}, got {got.text!r}.")
            )
        self.take()
        return inner

    def subscript(self) -> str:
        """The text of a subscript: ``_{1,1}`` -> ``"1_1"``, ``_0`` -> ``"0"``, ``_B`` -> ``"B"``."""
        self.take()  # "_"
        t = self.peek()
        if t is None:
            raise Unreadable("'_' at the end has no subscript.")
        if t.kind in ("NUM", "NAME"):
            self.take()
            return self.index([t]) if self.bound else t.text
        if t.kind == "OP" and t.text == "{":
            self.take()
            parts: list[list[Tok]] = [[]]
            while not self.is_op("}"):
                u = self.peek()
                if u is None:
                    raise Unreadable("unbalanced parenthesis: a subscript's '{' is never closed.")
                self.take()
                if u.kind == "OP" and u.text == ",":
                    parts.append([])
                elif u.kind in ("NUM", "NAME") or (self.bound and u.kind == "OP" and u.text in "+-"):
                    parts[-1].append(u)
                else:
                    raise Unreadable(f"a subscript holds indices such as {{1,1}}, not {u.text!r}.")
            self.take()
            return "_".join(self.index(part) if self.bound else "".join(u.text for u in part) for part in parts)
        raise Unreadable(f"a subscript holds indices such as {{1,1}}, not {t.text!r}.")

    def index(self, part: list[Tok]) -> str:
        """One index inside a sum: ``ij`` → ``"01"`` (each letter its value), ``2i+j`` or ``i+1`` → their value."""
        letters = "".join(u.text for u in part if u.kind == "NAME")
        if not letters or any(c not in self.bound for c in letters):
            return "".join(u.text for u in part)
        if not any(u.kind == "OP" for u in part) and all(u.kind == "NAME" for u in part):
            return "".join(str(self.bound[c]) for c in letters)
        total, sign, factor = 0, 1, 1
        for u in [*part, Tok("OP", "+")]:
            if u.kind == "OP":
                total, sign, factor = total + sign * factor, (1 if u.text == "+" else -1), 1
            elif u.kind == "NUM" and u.text.isdigit():
                factor *= int(u.text)
            elif u.kind == "NAME" and all(c in self.bound for c in u.text):
                factor *= math.prod(self.bound[c] for c in u.text)
            else:
                raise Unreadable(f"an index of a sum holds the sum's letters and whole numbers, not {u.text!r}.")
        return str(total)

    def summation(self) -> sympy.Expr:
        """``\\sum_{i=0}^{1}``, ``\\sum_{i,j=0}^{1}`` or ``\\sum_{i,j}`` (every index where the names exist)
        over the rest of the product, the names' indices read with the letters' values."""
        self.take()
        letters, bounds = self.sum_range()
        start, end, terms = self.k, self.k, []
        values = range(bounds[0], bounds[1] + 1) if bounds else range(_NATURAL_MAX)
        if len(values) ** len(letters) > _MAX_SUM_TERMS:
            raise Unreadable(f"the sum has more than {_MAX_SUM_TERMS} terms; write it out or narrow its range.")
        outer, natural = self.bound, self.natural
        for combo in itertools.product(values, repeat=len(letters)):
            self.reads += 1
            if self.reads > _MAX_SUM_TERMS:
                raise Unreadable(f"the sums have more than {_MAX_SUM_TERMS} terms; write them out.")
            self.k, self.bound, self.natural = start, {**outer, **dict(zip(letters, combo))}, natural or not bounds
            try:
                terms.append(self.term())
            except _OutOfRange:
                if bounds:
                    raise
            end = max(end, self.k)
        self.k, self.bound, self.natural = end, outer, natural
        if not terms:
            raise Unreadable("the sum has no term: no index value gives names of this question.")
        return sympy.Add(*terms, evaluate=False)

    def sum_range(self) -> tuple[str, tuple[int, int] | None]:
        """The sum's index letters and its range (``None`` when not stated)."""
        how = "write a sum as \\sum_{i=0}^{1} or \\sum_{i,j=0}^{1}"
        if not self.is_op("_"):
            raise Unreadable(f"a sum needs its indices; {how}.")
        self.take()
        braced = self.is_op("{")
        if braced:
            self.take()
        letters, low = "", None
        while True:
            u = self.peek()
            if u is None:
                raise Unreadable(f"a sum's indices are not closed; {how}.")
            if not braced and letters:
                break
            self.take()
            if u.kind == "OP" and u.text == "}" and braced:
                break
            if u.kind == "NAME" and low is None and all(c.isalpha() and c not in letters for c in u.text):
                letters += u.text
            elif u.kind == "OP" and u.text == "," and low is None:
                continue
            elif u.kind == "OP" and u.text == "=" and letters and low is None:
                low = self.bound_number(how)
            else:
                raise Unreadable(f"a sum's indices hold letters and a start, not {u.text!r}; {how}.")
        if not letters:
            raise Unreadable(f"a sum needs its indices; {how}.")
        if low is None:
            return letters, None
        if not self.is_op("^"):
            raise Unreadable(f"the sum starts at {letters[0]} = {low} but has no end; {how}.")
        self.take()
        if self.is_op("{"):
            self.take()
            high = self.bound_number(how)
            if not self.is_op("}"):
                raise Unreadable(f"a sum's end is one whole number; {how}.")
            self.take()
        else:
            high = self.bound_number(how)
        return letters, (low, high)

    def bound_number(self, how: str) -> int:
        u = self.peek()
        if u is None or u.kind != "NUM" or not u.text.isdigit() or len(u.text) > 3:
            raise Unreadable(f"a sum's start and end are whole numbers; {how}.")
        self.take()
        return int(u.text)

    def name(self, spelled: str) -> sympy.Expr:
        while self.is_op("_"):
            sub = self.subscript()
            spelled = f"{spelled}_{sub}" if spelled[-1:].isdigit() and sub[:1].isdigit() else f"{spelled}{sub}"
        if spelled == "e" and self.resolve("e") is None:
            return sympy.E
        canonical = self.resolve(spelled)
        if canonical is not None:
            return sympy.Symbol(canonical)
        parts = self.run_together(spelled)
        if parts is None:
            if self.natural:
                raise _OutOfRange(spelled)
            raise Unreadable(f"unknown name {spelled!r}.")
        return sympy.Mul(*(sympy.Symbol(p) for p in parts), evaluate=False)

    def run_together(self, word: str) -> list[str] | None:
        """``v0h00`` → ``["v0", "h00"]``: known names written without a ``*`` (the longest first name first)."""
        if not word:
            return []
        for cut in range(len(word) - 1, 0, -1):
            head = word[:cut]
            if head[-1].isdigit() and word[cut].isdigit():
                continue  # never inside a run of digits: w110 is not w11·0
            canonical = self.resolve(head)
            if canonical is not None:
                rest = self.resolve(word[cut:])
                tail = [rest] if rest is not None else self.run_together(word[cut:])
                if tail is not None:
                    return [canonical, *tail]
        return None

    def primary(self) -> sympy.Expr:
        t = self.peek()
        if t is None:
            raise Unreadable("the formula ends too early: an operand is missing.")
        self.deeper()
        try:
            if t.kind == "NUM":
                self.take()
                return sympy.Integer(t.text) if t.text.isdigit() else sympy.Float(t.text)
            if t.kind == "NAME":
                self.take()
                return self.name(t.text)
            if t.kind == "HAT":
                self.take()
                u = self.peek()
                if u is not None and u.kind == "OP" and u.text == "{":
                    self.take()
                    u = self.peek()
                    if u is None or u.kind != "NAME" or self.toks[self.k + 1 : self.k + 2] != [Tok("OP", "}")]:
                        raise Unreadable("\\hat takes one letter, such as \\hat{y}.")
                    self.take()
                    self.take()
                elif u is not None and u.kind == "NAME":
                    self.take()
                else:
                    raise Unreadable("\\hat takes one letter, such as \\hat{y}.")
                return self.name(u.text + "hat")
            if t.kind == "SUM":
                return self.summation()
            if t.kind == "FRAC":
                self.take()
                num = self.group("\\frac")
                den = self.group("\\frac's numerator")
                return sympy.Mul(num, sympy.Pow(den, -1, evaluate=False), evaluate=False)
            if t.kind == "FUNC":
                self.take()
                nxt = self.peek()
                arg = (
                    self.group(t.text) if nxt is not None and nxt.kind == "OP" and nxt.text in _CLOSE else self.power()
                )
                return _apply(t.text, arg)
            if t.kind == "OP" and t.text in _CLOSE:
                return self.group("it")
            if t.kind == "OP" and t.text in ")]}":
                raise Unreadable(f"unbalanced parenthesis: {t.text!r} closes nothing.")
            raise Unreadable(f"unexpected {t.text!r}: an operand is missing.")
        finally:
            self.depth -= 1


def _apply(func: str, arg: sympy.Expr) -> sympy.Expr:
    if func == "dsigma":  # σ'(x) = σ(x)(1 − σ(x))
        return sympy.Mul(
            sigma(arg, evaluate=False),
            sympy.Add(1, sympy.Mul(-1, sigma(arg, evaluate=False), evaluate=False), evaluate=False),
            evaluate=False,
        )
    if func == "sqrt":
        return sympy.Pow(arg, sympy.Rational(1, 2), evaluate=False)
    ctor = {"sigma": sigma, "exp": sympy.exp, "log": sympy.log, "tanh": sympy.tanh, "relu": relu}[func]
    return ctor(arg, evaluate=False)


def parse_formula(text: str, resolve: Resolve | Mapping[str, str]) -> sympy.Expr:
    """Read ``text`` (plain or LaTeX) into a sympy expression over whitelisted names.

    Args:
        text: What the student wrote. A left side (``∂L/∂w11 =``) is dropped: the part
            after the last ``=`` (or ``≈``) is read.
        resolve: Maps a spelled name (``"w11"``, ``"w1_1"`` for ``w_{1,1}``, ``"yhat"``,
            ``"muB"``) to its canonical name, or ``None`` when the question has no such name.

    Raises:
        Unreadable: with the reason (``unknown name 'q'``, ``unbalanced parenthesis: ...``).
    """
    lookup = resolve.get if isinstance(resolve, Mapping) else resolve
    toks = last_side(tokens(prepare(text)))
    if not toks:
        raise Unreadable("there is no formula or number.")
    if any(t.text == "∂" for t in toks):
        raise Unreadable("write the gradient's value or formula, not a partial derivative (∂) on its right side.")
    depth = 0
    for t in toks:
        if t.kind == "OP" and t.text in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise Unreadable(f"the formula is nested more than {MAX_DEPTH} levels deep.")
        elif t.kind == "OP" and t.text in ")]}":
            depth -= 1
    parser = _Parser(toks, lookup)
    expr = parser.expr()
    rest = parser.peek()
    if rest is not None:
        if rest.kind == "OP" and rest.text in ")]}":
            raise Unreadable(f"unbalanced parenthesis: {rest.text!r} closes nothing.")
        raise Unreadable(f"unexpected {rest.text!r}.")
    return expr


# --------------------------------------------------------------- evaluating


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


_EVAL = {"sigma": _sig, "exp": math.exp, "log": math.log, "tanh": math.tanh, "relu": lambda x: max(0.0, x)}


def _eval(expr: sympy.Expr, env: Mapping[str, float]) -> float:
    if expr.is_Symbol:
        return env[expr.name]
    if expr.is_Number or isinstance(expr, sympy.NumberSymbol):
        return float(expr)
    args = [_eval(a, env) for a in expr.args]
    if expr.is_Add:
        return math.fsum(args)
    if expr.is_Mul:
        return math.prod(args)
    if expr.is_Pow:
        base, exp = args
        if base < 0 and exp != int(exp):
            raise ValueError("a negative number to a fractional power")
        return float(base**exp)
    if isinstance(expr, sympy.Heaviside):
        return 1.0 if args[0] > 0 else (args[1] if len(args) > 1 and args[0] == 0 else 0.0)
    return _EVAL[type(expr).__name__](*args)


def evaluate(expr: sympy.Expr, env: Mapping[str, float]) -> float:
    """The value of ``expr`` in float64 from named values, or NaN where it is undefined or overflows.

    >>> evaluate(parse_formula("log(x) + 1", {"x": "x"}), {"x": 1.0})
    1.0
    >>> math.isnan(evaluate(parse_formula("log(-x)", {"x": "x"}), {"x": 1.0}))
    True
    """
    try:
        value = _eval(expr, env)
    except (ArithmeticError, ValueError, TypeError):
        return math.nan
    return value if isinstance(value, float) and math.isfinite(value) else math.nan
