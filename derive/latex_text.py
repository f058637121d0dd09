"""LaTeX-safe text for the answer keys: user strings printed exactly as written, our labels, long equations.

* :func:`latex_escape` makes any user string (a title, a question, a student
  name) print exactly as written; :func:`needs_unicode` says when it needs LuaLaTeX;
  :func:`label_latex` turns our own Unicode labels (``∂L/∂w₁₁``, ``x̂ᵢ``) into LaTeX;
  :func:`aligned` breaks an equation chain ``a = b = c`` into aligned lines.
"""

from __future__ import annotations

import unicodedata

__all__ = ["KEY_WIDTH", "aligned", "is_cjk", "label_latex", "latex_escape", "needs_unicode"]

_SPECIALS = {
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    # cmr has no glyph for these ($ would come from a bitmap font); the typewriter font has all of ASCII.
    **{ch: rf"\texttt{{\char{ord(ch)}}}" for ch in "\\{}~^_<>|$"},
    '"': r"\texttt{\char34}",
    "'": r"\gkquote{}",
    "`": r"\texttt{\char18}",
}
_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0308": '"',
    "\u030a": "r",
    "\u0327": "c",
    "\u030c": "v",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u030b": "H",
}
_LETTERS = {
    "ß": r"\ss{}",
    "æ": r"\ae{}",
    "Æ": r"\AE{}",
    "ø": r"\o{}",
    "Ø": r"\O{}",
    "œ": r"\oe{}",
    "Œ": r"\OE{}",
    "ł": r"\l{}",
    "Ł": r"\L{}",
    "ı": r"\i{}",
    "–": "--",
    "—": "---",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "…": r"\dots{}",
    "×": r"$\times$",
    "−": "-",
    "→": r"\ensuremath{\to}",
    "·": r"$\cdot$",
    "\u00a0": "~",
}


def is_cjk(ch: str) -> bool:
    """True for a Chinese, Japanese or Korean character or CJK punctuation (what the CJK font sets).

    >>> is_cjk("鄭"), is_cjk("（"), is_cjk("ë")
    (True, True, False)
    """
    return any(lo <= ord(ch) <= hi for lo, hi in _CJK_RANGES)


_CJK_RANGES = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x30FF),
    (0x3100, 0x31FF),
    (0x3200, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x2FA1F),
)


def needs_unicode(text: str) -> bool:
    """True when ``text`` holds a character pdflatex cannot set (Chinese names and titles).

    >>> needs_unicode("Zoë O'Brien"), needs_unicode("鄭呈毅")
    (False, True)
    """
    return "[U+" in latex_escape(text)


_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")
"""Letters a LuaLaTeX document sets as they are (Latin Modern, and the CJK font's Greek and Cyrillic)."""


def latex_escape(text: str, *, unicode: bool = False) -> str:
    r"""Escape user text for LaTeX so that it prints exactly as written.

    LaTeX specials become commands, accented Latin letters become accent
    commands, and a character pdflatex cannot set (CJK, emoji) becomes
    ``[U+XXXX]`` rather than breaking the document. With ``unicode=True`` (a
    document for LuaLaTeX with a CJK font, see ``templates/key_document.tex.j2``)
    Chinese, Japanese and Korean characters, accented letters, Greek and Cyrillic
    are kept as they are; other unknown characters still become ``[U+XXXX]``.

    >>> latex_escape("Ann & Bob_1 50% #2")
    'Ann \\& Bob\\texttt{\\char95}1 50\\% \\#2'
    >>> latex_escape("Zoë")
    'Zo\\"{e}'
    >>> latex_escape("鄭呈毅 Zoë", unicode=True)
    '鄭呈毅 Zoë'
    """
    out = []
    for ch in unicodedata.normalize("NFC", text) if unicode else text:
        if unicode and (
            is_cjk(ch) or (not ch.isascii() and ch.isalpha() and unicodedata.name(ch, "").startswith(_SCRIPTS))
        ):
            out.append(ch)
        elif ch in _SPECIALS:
            out.append(_SPECIALS[ch])
        elif ch in _LETTERS:
            out.append(_LETTERS[ch])
        elif ch.isascii():
            out.append(" " if ch in "\t\r\n" else ch if ch.isprintable() else "")
        else:
            decomposed = unicodedata.normalize("NFD", ch)
            base, marks = decomposed[0], decomposed[1:]
            if base.isascii() and base.isalpha() and marks and all(m in _ACCENTS for m in marks):
                body = r"\i" if base == "i" else base
                for m in marks:
                    body = f"\\{_ACCENTS[m]}{{{body}}}"
                out.append(body)
            else:
                out.append(rf"\texttt{{[U+{ord(ch):04X}]}}")
    return "".join(out)


_LABEL_MATH = {
    "∂": r"\partial",
    "ŷ": r"\hat{y}",
    "σ": r"\sigma",
    "μ": r"\mu",
    "γ": r"\gamma",
    "β": r"\beta",
    "ε": r"\epsilon",
    "δ": r"\delta",
    "Σ": r"\Sigma",
    "²": "^2",
    "·": r"\cdot",
    "√": r"\surd",
    "½": r"\tfrac12",
    "∈": r"\in",
    "≈": r"\approx",
    "⌊": r"\lfloor",
    "⌋": r"\rfloor",
    "⌈": r"\lceil",
    "⌉": r"\rceil",
    "𝟙": r"\mathbb{1}",
}
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₘₙ₊₋", "0123456789ijkmn+-"))


def label_latex(text: str) -> str:
    r"""LaTeX (for text mode) of a label or note that gradkit wrote with Unicode maths.

    >>> label_latex("∂L/∂w₁₁")
    '\\ensuremath{\\partial}L/\\ensuremath{\\partial}w\\ensuremath{_{11}}'
    >>> label_latex("σ²_B")
    '\\ensuremath{\\sigma}\\ensuremath{^2}\\ensuremath{_{\\mathrm{B}}}'
    >>> label_latex("x̂ᵢ")
    '\\ensuremath{\\hat{x}}\\ensuremath{_{i}}'
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _SUBSCRIPTS:
            j = i
            while j < len(text) and text[j] in _SUBSCRIPTS:
                j += 1
            out.append(r"\ensuremath{_{" + "".join(_SUBSCRIPTS[c] for c in text[i:j]) + "}}")
            i = j
            continue
        if ch == "_" and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalnum():
            j = i + 1
            while j < len(text) and text[j].isascii() and text[j].isalnum():
                j += 1
            out.append(r"\ensuremath{_{\mathrm{" + text[i + 1 : j] + "}}}")
            i = j
            continue
        if i + 1 < len(text) and text[i + 1] == "\u0302" and ch.isascii() and ch.isalpha():
            out.append(rf"\ensuremath{{\hat{{{ch}}}}}")
            i += 2
            continue
        out.append(
            rf"\ensuremath{{{_LABEL_MATH[ch]}}}" if ch in _LABEL_MATH else "'" if ch == "'" else latex_escape(ch)
        )
        i += 1
    return "".join(out)


KEY_WIDTH = 55
"""Visible characters per line of an equation in an answer key (an enumerate item on a4)."""


def aligned(latex: str, width: int = KEY_WIDTH) -> str:
    r"""Break an equation into an ``aligned`` block: at its top-level ``=`` signs, and a long sum at its ``+``/``-``.

    The same line breaking as ``derive grad --format latex`` (:func:`derive.render.split_latex`),
    so a term-by-term gradient stays at full size instead of being shrunk to the page.

    >>> aligned("x = a + b = 3", 5)
    '\\begin{aligned}[t] x &= a + b \\\\ &= 3 \\end{aligned}'
    >>> aligned("x = a + b = 3")
    'x = a + b = 3'
    """
    from derive.latexlines import split_latex

    lines = split_latex(latex, width)
    if len(lines) == 1:  # fits on one line
        return latex
    return r"\begin{aligned}[t] " + r" \\ ".join(lines) + r" \end{aligned}"
