"""The pdflatex side of answer keys: LaTeX-safe text, and compiling ``.tex`` to PDF.

* :func:`latex_escape` makes any user string (a title, a question, a student
  name) print exactly as written; :func:`label_latex` turns our own Unicode
  labels (``∂L/∂w₁₁``, ``x̂ᵢ``) into LaTeX; :func:`aligned` breaks an equation
  chain ``a = b = c`` into aligned lines.
* :func:`compile_pdf` runs ``latexmk -pdf -no-shell-escape`` (or ``pdflatex
  -no-shell-escape`` without latexmk), never with shell escape. A LaTeX error
  becomes a :class:`~derive.errors.DeriveError` quoting the offending line of
  the generated source; without TeX the message names the Debian packages to
  install. :func:`compile_many` compiles several files on all cores.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from derive.errors import DeriveError

__all__ = [
    "CJK_FONTS",
    "CJK_PACKAGES",
    "LUALATEX_MAGIC",
    "LatexError",
    "TEX_PACKAGES",
    "aligned",
    "cjk_font",
    "compile_many",
    "compile_pdf",
    "have_tex",
    "is_cjk",
    "label_latex",
    "latex_env",
    "latex_escape",
    "latex_flags",
    "needs_unicode",
    "no_cjk_message",
    "quote_error",
]

TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended latexmk"
"""The Debian/Ubuntu packages that provide everything the answer keys need."""


class LatexError(DeriveError):
    """The PDF could not be made (no TeX, or a LaTeX error); the ``.tex`` is kept. Exit code 1."""


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
    from derive.render import split_latex

    lines = split_latex(latex, width)
    if len(lines) == 1:  # fits on one line
        return latex
    return r"\begin{aligned}[t] " + r" \\ ".join(lines) + r" \end{aligned}"


# ---------------------------------------------------------------- compiling

CJK_PACKAGES = "texlive-luatex fonts-arphic-uming"
"""The Debian packages that add LuaLaTeX (with fontspec) and a Traditional Chinese font."""

CJK_FONTS = (
    "AR PL UMing TW",
    "Noto Serif CJK TC",
    "Noto Sans CJK TC",
    "AR PL UKai TW",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
"""CJK fonts a document may use, in order of preference (the first one installed is taken)."""

LUALATEX_MAGIC = "% !TEX program = lualatex"
"""First line of a document that must be compiled with LuaLaTeX (it holds Chinese text)."""


def have_tex() -> bool:
    """True when ``pdflatex`` is on the PATH."""
    return shutil.which("pdflatex") is not None


_FOUND: dict[str, str | None] = {}


def cjk_font() -> str | None:
    """The CJK font LuaLaTeX can use here, or ``None`` when LuaLaTeX, fontspec or every CJK font is missing."""
    if "font" not in _FOUND:
        _FOUND["font"] = _find_cjk_font()
    return _FOUND["font"]


def _find_cjk_font() -> str | None:
    if not shutil.which("lualatex") or not shutil.which("kpsewhich") or not shutil.which("fc-list"):
        return None
    try:
        sty = subprocess.run(
            ["kpsewhich", "fontspec.sty", "luaotfload.sty"], capture_output=True, text=True, timeout=30
        )
        families = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if len(sty.stdout.split()) < 2:
        return None
    installed = {name.strip() for line in families.stdout.splitlines() for name in line.split(",")}
    return next((f for f in CJK_FONTS if f in installed), None)


def no_cjk_message(what: str) -> str:
    """Why a document with Chinese text cannot be compiled here, and how to fix it."""
    return (
        f"{what} is Chinese (or Japanese/Korean) text, which pdflatex cannot set. Install LuaLaTeX and a CJK font "
        f"with 'sudo apt-get install {CJK_PACKAGES}' (see the README), or use --tex to stop at the .tex files."
    )


def latex_flags() -> list[str]:
    """The flags of every LaTeX run: never shell escape, stop at the first error, errors as ``file:line:``."""
    return ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]


def latex_env() -> dict[str, str]:
    """The environment of every LaTeX run: no shell escape, no writing outside the folder, a fixed date.

    ``SOURCE_DATE_EPOCH`` (kept when the caller set it) with ``FORCE_SOURCE_DATE`` makes
    the same source give the same bytes; the templates also drop the dates and the ID.
    """
    return {
        **os.environ,
        "openout_any": "p",
        "shell_escape": "f",
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0"),
        "FORCE_SOURCE_DATE": "1",
    }


def _command(tex: Path) -> list[str]:
    flags = latex_flags()
    with tex.open(encoding="utf-8", errors="replace") as fh:
        lua = fh.readline().strip() == LUALATEX_MAGIC
    if shutil.which("latexmk"):
        return ["latexmk", "-lualatex" if lua else "-pdf", "-quiet", *flags, tex.name]
    return ["lualatex" if lua else "pdflatex", *flags, tex.name]


_ERROR = re.compile(r"^(?:\./)?(?P<file>[^:\n]+\.tex):(?P<line>\d+): (?P<msg>.*)$", re.M)


def _explain(tex: Path, log: str) -> str:
    """The first LaTeX error of ``log`` with the offending line of ``tex``."""
    match = _ERROR.search(log)
    if match is None:
        bang = re.search(r"^! (.*)$", log, re.M)
        tail = bang.group(1) if bang else "see the .log file"
        return f"{tex}: LaTeX failed ({tail}); the log is {tex.with_suffix('.log')}."
    return quote_error(tex, int(match.group("line")), match.group("msg").strip())


def quote_error(tex: Path, number: int, message: str) -> str:
    """A LaTeX error at line ``number`` of ``tex``, quoting that line, and what to do."""
    lines = tex.read_text(encoding="utf-8").splitlines()
    source = lines[number - 1].strip() if 0 < number <= len(lines) else "?"
    if len(source) > 160:
        source = source[:157] + "..."
    return (
        f"{tex}, line {number}: LaTeX error: {message}\n"
        f"  {number} | {source}\n"
        f"The .tex is kept; the full log is {tex.with_suffix('.log')}. If the line holds text you wrote "
        "in the problem set, change it there; otherwise this is a gradkit bug, please report it."
    )


def compile_pdf(tex: str | Path, *, timeout: float = 120.0) -> Path:
    """Compile ``tex`` to a PDF beside it (never with shell escape) and return the PDF's path.

    Raises:
        DeriveError: TeX is not installed (the ``.tex`` stays), or LaTeX stopped on an
            error (the message quotes the offending line of the source).
    """
    tex = Path(tex).resolve()
    if not have_tex():
        raise LatexError(
            f"pdflatex is not installed, so {tex.name} was written but not compiled. Install TeX with "
            f"'sudo apt-get install {TEX_PACKAGES}' (or TeX Live / MiKTeX elsewhere), or use --tex to stop at the .tex."
        )
    with tex.open(encoding="utf-8", errors="replace") as fh:
        if fh.readline().strip() == LUALATEX_MAGIC and cjk_font() is None:
            raise LatexError(no_cjk_message(f"{tex.name} holds text that"))
    env = latex_env()
    try:
        run = subprocess.run(
            _command(tex),
            cwd=tex.parent,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise LatexError(f"{tex}: LaTeX did not finish within {timeout:.0f} s; the .tex is kept.") from None
    pdf = tex.with_suffix(".pdf")
    if run.returncode != 0 or not pdf.exists():
        log_path = tex.with_suffix(".log")
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else run.stdout + run.stderr
        raise LatexError(_explain(tex, log))
    for ext in (".aux", ".fls", ".fdb_latexmk", ".out", ".log"):
        tex.with_suffix(ext).unlink(missing_ok=True)
    return pdf


def compile_many(
    paths: Sequence[str | Path], *, jobs: int | None = None, on_done: Callable[[Path], None] | None = None
) -> list[Path]:
    """Compile every ``.tex`` of ``paths`` in parallel (``jobs`` at a time, default: the cores).

    ``on_done`` is called with each finished PDF (for a progress bar). All files
    are tried; the first error is raised at the end, naming how many failed.
    """
    jobs = jobs or os.cpu_count() or 1
    if paths and not have_tex():
        compile_pdf(paths[0])  # raises the "install TeX" message once, not once per file
    results: dict[int, Path] = {}
    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each job is a pdflatex process: threads suffice
        futures = {pool.submit(compile_pdf, p): k for k, p in enumerate(paths)}
        for future in as_completed(futures):
            try:
                results[futures[future]] = future.result()
            except LatexError as exc:
                errors.append(str(exc))
                continue
            if on_done is not None:
                on_done(results[futures[future]])
    if errors:
        more = f" ({len(errors) - 1} more file(s) failed too)" if len(errors) > 1 else ""
        raise LatexError(errors[0] + more)
    return [results[k] for k in range(len(paths))]
