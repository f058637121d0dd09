"""Reading a student's formula: both syntaxes, equivalent forms, and hostile text that must never run."""

from __future__ import annotations

import builtins
import contextlib
import math

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from grading.answers.parse import MAX_CHARS, Unreadable, evaluate, parse_formula
from grading.answers.read import read_number

NAMES = {"yhat", "y", "v0", "v1", "z00", "z01", "h00", "w00", "w11", "a00", "a21", "p", "mu", "var", "sigmaB", "x0"}
ALIASES = {"w1_1": "w11", "a2_1": "a21", "muB": "mu"}


def resolve(spelled: str) -> str | None:
    return spelled if spelled in NAMES else ALIASES.get(spelled)


ENV = {
    "yhat": 0.3,
    "y": 0.8,
    "v0": -0.4,
    "v1": 0.9,
    "z00": 0.25,
    "z01": -0.6,
    "h00": 1 / (1 + math.exp(-0.25)),
    "w00": 0.6,
    "w11": -0.4,
    "a00": 0.1,
    "a21": -0.8,
    "p": 0.57,
    "mu": 0.2,
    "var": 1.7,
    "sigmaB": math.sqrt(1.7),
    "x0": -0.7,
}


def value(text: str) -> float:
    return evaluate(parse_formula(text, resolve), ENV)


RIGHT = 2 * (0.3 - 0.8) * -0.4 * ENV["h00"] * (1 - ENV["h00"]) * 0.6


@pytest.mark.parametrize(
    "text",
    [
        "2*(yhat - y)*v0*sigma(z00)*(1 - sigma(z00))*w00",
        r"2\left(\hat{y}-y\right) v_{0}\,\sigma(z_{00})\left(1-\sigma(z_{00})\right) w_{00}",
        r"$2 \cdot (\hat y - y) \cdot v_0 \cdot \sigma(z_{00}) \cdot (1 - \sigma(z_{00})) \cdot w_{00}$",
        "2(ŷ − y)·v₀·σ(z₀₀)(1 − σ(z₀₀))·w₀₀",
        "2*(yhat-y)*v0*h00*(1-h00)*w00",
        "-2*(y - yhat)*w00*v0*(h00 - h00**2)",
        r"\frac{2 (\hat{y} - y) v_0 w_{00} e^{-z_{00}}}{(1 + e^{-z_{00}})^2}",
        "2*(yhat - y)*v0*w00*exp(-z00)/(1+exp(-z00))^2",
        r"\frac{\partial L}{\partial a_{00}} = 2(\hat{y}-y) v_{0} h_{00}(1-h_{00}) w_{00}",
        "dL/da00 = 2*(yhat - y)*v0*h00*(1 - h00)*w00",
        r"2\Big[\hat{y}-y\Big] v_{0} \sigma\left(z_{00}\right)\left[1-\sigma\left(z_{00}\right)\right] w_{00}",
        r"2\left(\hat{y}-y\right) v_{0}\,\dfrac{1}{1+\exp(-z_{00})}\left(1-\sigma(z_{00})\right) w_{00}",
    ],
    ids=[
        "plain",
        "latex",
        "latex-cdot-dollars",
        "unicode",
        "nodes",
        "rearranged",
        "frac-exp",
        "plain-exp",
        "latex-lhs",
        "plain-lhs",
        "big-brackets",
        "dfrac",
    ],
)
def test_equivalent_forms_in_both_syntaxes(text):
    assert value(text) == pytest.approx(RIGHT, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("w_{1,1} + a_{2,1}", -0.4 - 0.8),
        ("w_11 a_21", -0.4 * -0.8),
        (r"\sigma_B^2", 1.7),
        (r"\mu_B + \sqrt{var}", 0.2 + math.sqrt(1.7)),
        ("√(var)", math.sqrt(1.7)),
        ("ln(p) - log(p)", 0.0),
        ("2 ^ 3 ^ 2", 2.0**9),
        ("-x0^2", -(0.7**2)),
        ("1.2e-3 * 2", 0.0024),
        (r"3 \times 2", 6.0),
        ("x0²", 0.49),
        ("ŷ_{}".replace("_{}", ""), 0.3),
    ],
)
def test_spellings(text, expected):
    assert value(text) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("__import__('os').system('x')", 'unexpected character "\'" at character 12.'),
        ("q + 1", "unknown name 'q'."),
        ("os.system", "unexpected character '.' at character 3."),
        ("(a00 + 1", "unbalanced parenthesis: '(' is never closed."),
        ("a00 + 1)", "unbalanced parenthesis: ')' closes nothing."),
        ("(a00]", "unbalanced parenthesis: expected ')', got ']'."),
        ("a00 +", "the formula ends too early: an operand is missing."),
        ("a00^", "'a00^' has no exponent after '^'; write ŷ as yhat or \\hat{y}, a power as y^2."),
        ("(" * 60 + "1" + ")" * 60, "the formula is nested more than 40 levels deep."),
        ("-" * 300 + "1", "the formula is nested more than 40 levels deep."),
        ("+".join(["1"] * 300), "the formula has more than 400 symbols; write a shorter one."),
        ("1" * (MAX_CHARS + 1), f"the formula is {MAX_CHARS + 1} characters long; at most {MAX_CHARS} are read."),
        ("1" * 40, "the number '111111111111'... is too long; write at most 30 characters."),
        (r"\input{/etc/passwd}", "unknown LaTeX command '\\input'."),
        (r"\def\x{1}", "unknown LaTeX command '\\def'."),
        ("lambda: 0", "unexpected character ':' at character 7."),
        ("a00; import os", "unexpected character ';' at character 4."),
        ("ж + 1", "unknown name 'ж'."),
        ("\u202eyhat", "unexpected character '\\u202e' at character 1."),
        (r"\frac{1}", "\\frac's numerator must be followed by a bracket or braces."),
        (r"\hat{y z}", "\\hat takes one letter, such as \\hat{y}."),
        ("∂L/∂a00", "write the gradient's value or formula, not a partial derivative (∂) on its right side."),
        ("", "there is no formula or number."),
        ("y = ", "there is no formula or number."),
    ],
    ids=lambda x: x[:20] if isinstance(x, str) else x,
)
def test_unreadable_with_reason(text, why):
    with pytest.raises(Unreadable) as info:
        parse_formula(text, resolve)
    assert str(info.value) == why


def test_nothing_is_ever_evaluated(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("student text reached eval")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sympy, "sympify", forbidden)
    monkeypatch.setattr(sympy.parsing.sympy_parser, "parse_expr", forbidden)
    for text in ["__import__('os').system('x')", "2*(yhat - y)*v0*h00*(1-h00)*w00", r"\frac{1}{2}\hat{y}"]:
        with contextlib.suppress(Unreadable):
            parse_formula(text, resolve)


@pytest.mark.parametrize("text", ["9^9^9^9", "exp(exp(exp(100)))", "10^400", "1/(a00 - a00)", "log(-p)", "(-8)^0.5"])
def test_huge_or_undefined_values_are_nan_not_hangs(text):
    assert math.isnan(value(text))


@settings(max_examples=60, deadline=None)
@given(st.floats(-50, 50), st.floats(-50, 50), st.sampled_from(["v0", "yhat", "z00"]))
def test_printed_linear_forms_read_back(c1, c0, name):
    text = f"{c1!r}*{name} + ({c0!r})"
    assert value(text) == pytest.approx(c1 * ENV[name] + c0, rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_read_or_refused_with_a_reason(text):
    try:
        expr = parse_formula(text, resolve)
    except Unreadable as exc:
        assert str(exc)
    else:
        assert expr.free_symbols <= {sympy.Symbol(n) for n in NAMES}


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("-0.062", -0.062),
        ("−0.062", -0.062),
        ("≈ -0.062", -0.062),
        ("~0.5", 0.5),
        ("-0,062", -0.062),
        ("1.2e-3", 0.0012),
        ("1.2E+3", 1200.0),
        (" 7 ", 7.0),
        ("+.5", 0.5),
        ("= 3", 3.0),
        ("2*x", None),
        ("1,2,3", None),
        ("nan", None),
        ("inf", None),
        ("1_000", None),
        ("", None),
    ],
)
def test_read_number(cell, number):
    assert read_number(cell) == number


def test_thousands_only_for_counts():
    assert read_number("3,177,418", integer=True) == 3177418.0
    assert read_number("1,234") == 1.234


MODULES = [
    "grading.answers",
    "grading.answers.parse",
    "grading.answers.read",
    "grading.answers.mistakes",
    "grading.answers.grade",
    "grading.answers.report",
    "grading.answers.variants",
    "grading.answers.models",
    "derive.sheet",
    "derive.problemset",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests_and_exports(name):
    import doctest
    import importlib

    module = importlib.import_module(name)
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
    for member in module.__all__:
        assert hasattr(module, member), f"{name}.{member}"
