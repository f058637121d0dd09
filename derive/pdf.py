"""The pdflatex side of answer keys: compiling ``.tex`` to PDF (LaTeX-safe text is :mod:`derive.latex_text`).

* :func:`latex_escape`, :func:`label_latex` and :func:`aligned` are re-exported from
  :mod:`derive.latex_text`.
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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from derive.errors import DeriveError
from derive.latex_text import aligned, is_cjk, label_latex, latex_escape, needs_unicode

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
