"""The tokens of a student's formula (plain text or LaTeX): names, numbers, functions, operators.

:func:`prepare` normalises the text (Unicode minus and dots, subscript and superscript digits,
``x̂``) and refuses what cannot be meant (``y^`` for ŷ); :func:`tokens` splits it. Nothing here
evaluates anything; :mod:`grading.answers.parse` builds the expression from the tokens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from grading.errors import GradingError

__all__ = ["MAX_CHARS", "Tok", "Unreadable", "last_side", "prepare", "tokens"]

MAX_CHARS = 1000
"""The longest formula read (characters, after trimming)."""
_MAX_TOKENS = 400
_MAX_NUMBER = 30


class Unreadable(GradingError):
    """A formula that cannot be read; the message says why (shown to the student)."""


@dataclass(frozen=True)
class Tok:
    kind: str  # NUM NAME FUNC FRAC HAT OP
    text: str


_FUNCS = {
    "sigma": "sigma",
    "sigmoid": "sigma",
    "σ": "sigma",
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "sqrt": "sqrt",
    "√": "sqrt",
    "tanh": "tanh",
    "relu": "relu",
    "ReLU": "relu",
}
_GREEK = {
    "gamma": "gamma",
    "beta": "beta",
    "mu": "mu",
    "epsilon": "eps",
    "varepsilon": "eps",
    "eps": "eps",
    "gamma_": "gamma",
}
_UNICODE = {"γ": "gamma", "β": "beta", "μ": "mu", "ε": "eps", "ϵ": "eps", "ŷ": "yhat"}
_SKIP_CMDS = {
    "left",
    "right",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "Biggl",
    "Biggr",
    "quad",
    "qquad",
    "displaystyle",
    "limits",
}
_MUL_CMDS = {"cdot", "times", "ast", "cdotp"}
_CHAR_MAP = {
    "−": "-",
    "–": "-",
    "—": "-",
    "‐": "-",
    "·": "*",
    "⋅": "*",
    "×": "*",
    "∙": "*",
    "∗": "*",
    "÷": "/",
    "≈": "=",
    "≅": "=",
    "≃": "=",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u2002": " ",
    "\u2003": " ",
}
_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def prepare(text: str) -> str:
    s = unicodedata.normalize("NFC", text).strip()
    if len(s) > MAX_CHARS:
        raise Unreadable(f"the formula is {len(s)} characters long; at most {MAX_CHARS} are read.")
    for wrapper in ("$", "\\(", "\\)", "\\[", "\\]"):
        s = s.replace(wrapper, "")
    s = "".join(_CHAR_MAP.get(ch, ch) for ch in s).replace("**", "^")
    s = re.sub(r"([A-Za-z])\u0302", r"\1hat", s)  # x̂ (x + combining circumflex) -> xhat
    hat = re.search(r"([A-Za-z]\w*)\s*\^(?=\s|$|[)\]}*/=,]|[-+]\s*[A-Za-z\\])", s)  # y^ - y, y^-y: ŷ meant
    if hat:
        raise Unreadable(
            f"{hat.group(1) + '^'!r} has no exponent after '^'; write ŷ as yhat or \\hat{{y}}, a power as y^2."
        )
    s = re.sub(r"[₀-₉]+", lambda m: "_{" + m.group().translate(_SUB) + "}", s)
    s = re.sub(r"[⁰-⁹⁻⁺¹²³]+", lambda m: "^{" + m.group().translate(_SUP) + "}", s)
    return s


def tokens(s: str) -> list[Tok]:
    out: list[Tok] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            i += 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and s[i + 1].isdigit()):
            m = _NUMBER.match(s, i)
            assert m is not None
            if len(m.group()) > _MAX_NUMBER:
                raise Unreadable(
                    f"the number {m.group()[:12]!r}... is too long; write at most {_MAX_NUMBER} characters."
                )
            out.append(Tok("NUM", m.group()))
            i = m.end()
        elif ch == "\\":
            m = re.compile(r"\\([A-Za-z]+)").match(s, i)
            if m is None:
                if i + 1 < n and s[i + 1] in ",;:! ":
                    i += 2
                    continue
                raise Unreadable(f"unexpected {s[i : i + 2]!r} at character {i + 1}.")
            i = m.end()
            cmd = m.group(1)
            if cmd in _SKIP_CMDS:
                continue
            if cmd in _MUL_CMDS:
                out.append(Tok("OP", "*"))
            elif cmd == "approx":
                out.append(Tok("OP", "="))
            elif cmd in ("partial", "nabla"):
                out.append(Tok("OP", "∂"))
            elif cmd == "sum":
                out.append(Tok("SUM", "sum"))
            elif cmd in ("frac", "dfrac", "tfrac"):
                out.append(Tok("FRAC", cmd))
            elif cmd in ("hat", "widehat"):
                out.append(Tok("HAT", cmd))
            elif cmd in ("operatorname", "mathrm", "text", "mathit", "textrm"):
                m2 = re.compile(r"\s*\{\s*([A-Za-z]+)\s*\}").match(s, i)
                if m2 is None:
                    raise Unreadable(f"\\{cmd} must be followed by a name in braces, such as \\{cmd}{{exp}}.")
                word = m2.group(1)
                out.append(Tok("FUNC", _FUNCS[word]) if word in _FUNCS else Tok("NAME", word))
                i = m2.end()
            elif cmd == "sigma" and re.compile(r"\s*_\s*\{?\s*B").match(s, i):
                out.append(Tok("NAME", "sigma"))  # \sigma_B: the batch standard deviation
            elif cmd in _FUNCS:
                out.append(Tok("FUNC", _FUNCS[cmd]))
                i = _prime(s, i, out)
            elif cmd in _GREEK:
                out.append(Tok("NAME", _GREEK[cmd]))
            else:
                raise Unreadable(f"unknown LaTeX command '\\{cmd}'.")
        elif ch in "∑Σ":
            out.append(Tok("SUM", "sum"))
            i += 1
        elif ch.isalpha():
            m = _WORD.match(s, i)
            word = m.group() if m else ch  # an ASCII word, or one other letter (σ, ŷ, γ...)
            if word in _UNICODE:
                out.append(Tok("NAME", _UNICODE[word]))
            elif word in _FUNCS:
                out.append(Tok("FUNC", _FUNCS[word]))
            else:
                out.append(Tok("NAME", word))
            i += len(word)
            if out[-1].kind == "FUNC":
                i = _prime(s, i, out)
        elif ch == "∂":
            out.append(Tok("OP", "∂"))
            i += 1

        elif ch == "√":
            out.append(Tok("FUNC", "sqrt"))
            i += 1
        elif ch in "+-*/^()[]{}_,=":
            out.append(Tok("OP", ch))
            i += 1
        else:
            raise Unreadable(f"unexpected character {ch!r} at character {i + 1}.")
        if len(out) > _MAX_TOKENS:
            raise Unreadable(f"the formula has more than {_MAX_TOKENS} symbols; write a shorter one.")
    return out


def _prime(s: str, i: int, out: list[Tok]) -> int:
    """``σ'(z)``, ``σ′(z)``, ``\\sigma'(z)``: the derivative of σ, a function students name; else nothing."""
    if i < len(s) and s[i] in "'′’" and out[-1].text == "sigma":
        out[-1] = Tok("FUNC", "dsigma")
        return i + 1
    return i


def last_side(toks: list[Tok]) -> list[Tok]:
    """``∂L/∂w = 2(ŷ − y)… = 0.07``: the part after the last top-level ``=``."""
    depth, cut = 0, 0
    for k, t in enumerate(toks):
        if t.kind == "OP" and t.text in "([{":
            depth += 1
        elif t.kind == "OP" and t.text in ")]}":
            depth -= 1
        elif t.kind == "OP" and t.text == "=" and depth == 0:
            cut = k + 1
    return toks[cut:]
