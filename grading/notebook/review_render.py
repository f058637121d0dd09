"""A student's cells as safe HTML for the review page: markdown, maths, code, outputs.

Everything here starts from a student's text and ends as HTML that can hold no script:

- markdown: the maths spans are taken out of the raw source first (``$…$``, ``$$…$$``, ``\\(…\\)``,
  ``\\[…\\]``, ``\\begin{align}…``; code spans are left alone), the rest is rendered by
  markdown-it-py's ``js-default`` preset (raw HTML shown as text, images as their alt text but
  the cell's own re-encoded attachments), the maths put back as MathML, and the whole sanitized by
  nh3 with :data:`TAGS`/:data:`ATTRIBUTES` (attachment ``<img>`` tags are put in after it);
- maths: latex2mathml, for formulas under :data:`MAX_FORMULA` characters and :data:`MAX_DEPTH`
  nested groups, without macro definitions, within :data:`FORMULA_SECONDS` each (main thread)
  and :data:`NOTEBOOK_SECONDS` per notebook; anything else is shown as its escaped source;
- code: Pygments, lines holding the found answer highlighted;
- outputs, default-deny: text, and PNG/JPEG as ``data:`` URIs of the bytes the reader re-encoded
  with Pillow (:mod:`grading.notebook.images`; other bytes are re-encoded here by the same code);
  HTML, SVG, JavaScript and the rest are named, never shown.
"""

from __future__ import annotations

import contextlib
import html
import re
import secrets
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import FrameType
from typing import Any
from urllib.parse import unquote

import nh3

from grading.notebook.images import MAX_SIDE, Reencoded, reencode
from grading.notebook.model import Output
from grading.safety import strip_control

__all__ = [
    "MathBudget",
    "image_data_uri",
    "output_image_uri",
    "output_html",
    "pygments_css",
    "render_code",
    "render_markdown",
    "render_math",
    "sanitize",
    "text_block",
]

MAX_FORMULA = 4000
MAX_DEPTH = 40
FORMULA_SECONDS = 0.5
NOTEBOOK_SECONDS = 10.0
MAX_TEXT = 20_000
MAX_SOURCE = 100_000
MAX_IMAGE_BYTES = 30_000_000
MAX_IMAGE_SIDE = MAX_SIDE

_MATHML = {
    "math": {"display"},
    "mrow": set(),
    "mi": {"mathvariant"},
    "mn": {"mathvariant"},
    "mo": {"stretchy", "fence", "separator", "lspace", "rspace", "form", "largeop", "movablelimits", "accent"},
    "ms": set(),
    "mtext": {"mathvariant"},
    "mspace": {"width", "height", "depth"},
    "msub": set(),
    "msup": set(),
    "msubsup": set(),
    "mfrac": {"linethickness"},
    "msqrt": set(),
    "mroot": set(),
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": set(),
    "mtable": {"columnalign", "rowspacing", "columnspacing", "displaystyle"},
    "mtr": set(),
    "mtd": {"columnalign"},
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant"},
    "mpadded": {"width", "lspace", "voffset"},
    "mphantom": set(),
    "menclose": {"notation"},
}
_HTML = {
    **{t: set() for t in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "li", "blockquote", "pre", "em", "strong")},
    **{t: set() for t in ("del", "s", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "sub", "sup")},
    "ol": {"start"},
    "code": {"class"},
    "a": {"href", "title"},
    "span": {"class", "title"},
    "mark": {"class", "id"},
}
TAGS = set(_HTML) | set(_MATHML)
ATTRIBUTES = {**_HTML, **_MATHML}

_MACRO_DEFS = re.compile(r"\\(?:def|gdef|edef|xdef|let|newcommand|renewcommand|providecommand|DeclareMathOperator)\b")
_MATH = re.compile(
    r"(?P<fence>^[ \t]*(?P<f>```+|~~~+)[^\n]*\n.*?(?:^[ \t]*(?P=f)[ \t]*$|\Z))"
    r"|(?P<code>(?P<t>`+).+?(?P=t))"
    r"|(?P<esc>\\\$)"
    r"|\$\$(?P<dd>.+?)\$\$"
    r"|\\\[(?P<bd>.+?)\\\]"
    r"|(?P<env>\\begin\{(?P<e>(?:align|aligned|equation|gather|multline|eqnarray|split)\*?)\}.*?\\end\{(?P=e)\})"
    r"|\\\((?P<pi>.+?)\\\)"
    r"|\$(?P<di>(?!\s)(?:\\.|[^$\\])+?)(?<!\s)\$(?!\d)",
    re.DOTALL | re.MULTILINE,
)


@dataclass
class MathBudget:
    """Time left for one notebook's formulas; once spent, formulas are shown as source."""

    seconds: float = NOTEBOOK_SECONDS
    skipped: int = field(default=0)


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (a real-time alarm; only in the main thread, and only
    when no other alarm is set, so a caller's own timer is never cancelled)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "setitimer")
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0  # someone else's alarm is set: leave it alone
    ):
        yield
        return

    def ring(_sig: int, _frame: FrameType | None) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _depth(tex: str) -> int:
    depth = deepest = 0
    for ch in tex:
        if ch == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "}":
            depth -= 1
    return deepest


def _source(tex: str, display: bool, why: str) -> str:
    kind = "math-source display" if display else "math-source"
    return f'<span class="{kind}" title="{html.escape(why)}">{html.escape(tex)}</span>'


def render_math(tex: str, *, display: bool, budget: MathBudget | None = None) -> str:
    """MathML for ``tex`` (sanitized), or its escaped source with a reason when it cannot be shown."""
    if len(tex) > MAX_FORMULA:
        return _source(tex[:MAX_FORMULA] + " …", display, f"not rendered: longer than {MAX_FORMULA} characters")
    if _depth(tex) > MAX_DEPTH:
        return _source(tex, display, f"not rendered: more than {MAX_DEPTH} nested groups")
    if _MACRO_DEFS.search(tex):
        return _source(tex, display, "not rendered: defines macros")
    if budget is not None and budget.seconds <= 0:
        budget.skipped += 1
        return _source(tex, display, "not rendered: this notebook's time for formulas is used up")
    start = time.monotonic()
    try:
        with _deadline(FORMULA_SECONDS):
            mathml = _mathml(tex, display)
    except _Timeout:
        return _source(tex, display, f"not rendered: took more than {FORMULA_SECONDS} s")
    except Exception:  # latex2mathml raises many kinds on input it does not know  # noqa: BLE001
        return _source(tex, display, "not rendered: latex2mathml cannot read it")
    finally:
        if budget is not None:
            budget.seconds -= time.monotonic() - start
    cls = "math display" if display else "math"
    return f'<span class="{cls}">{mathml}</span>'


@lru_cache(maxsize=4096)
def _mathml(tex: str, display: bool) -> str:
    """Sanitized MathML of ``tex``; kept, since every student's page shows the key's formulas again
    (a formula that fails or runs out of time raises, and is not kept)."""
    from latex2mathml.converter import convert

    return sanitize(convert(tex, display="block" if display else "inline"))


def sanitize(fragment: str) -> str:
    """``fragment`` with only :data:`TAGS` and :data:`ATTRIBUTES` left (http/https/mailto links)."""
    return nh3.clean(
        fragment,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


@cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("js-default")

    def image(_self: Any, tokens: Any, idx: int, _options: Any, env: Any) -> str:
        alt = "".join(t.content for t in tokens[idx].children or [])
        src = str(tokens[idx].attrGet("src") or "")
        shown = env.get("images") if isinstance(env, dict) else None
        if shown is not None and src.startswith("attachment:"):
            found = env["attachments"].get(unquote(src[len("attachment:") :]))
            if found is not None and isinstance(found.data, Reencoded):
                shown.append(f'<img class="fig" alt="{html.escape(alt)}" src="{found.data.data_uri()}">')
                return f"{env['token']}i{len(shown) - 1}i"  # put back after nh3 (which allows no data: URL)
        return f'<span class="img-alt">[image: {html.escape(alt)}]</span>'

    md.add_render_rule("image", image)
    return md


def _text_marks(
    source: str, marks: tuple[tuple[int, int, str], ...], maths: list[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    """The marks on one line of prose (not overlapping a formula nor each other), in order."""
    out: list[tuple[int, int, str]] = []
    for start, end, q in sorted(marks):
        if end <= start or "\n" in source[start:end] or any(s < end and start < e for s, e in maths):
            continue
        if out and start < out[-1][1]:
            continue
        out.append((start, end, q))
    return out


def render_markdown(
    source: str,
    *,
    marks: tuple[tuple[int, int, str], ...] = (),
    budget: MathBudget | None = None,
    attachments: Mapping[str, Output] | None = None,
) -> str:
    """Safe HTML of a markdown cell; the text or formula under a ``(start, end, question)`` mark is highlighted.

    Formulas are cut out of the raw source and replaced by alphanumeric keys before markdown-it
    sees it (so ``*`` or ``_`` inside maths never turn into emphasis), then put back as MathML.
    ``![alt](attachment:name)`` shows the cell's attachment ``name`` when the reader re-encoded
    it (the same bytes, no second decode); any other image (``http:``, ``data:``, a dropped
    attachment) is shown as its alt text only, never fetched.
    """
    source = strip_control(source[:MAX_SOURCE])
    token = "gkm" + secrets.token_hex(6)
    pieces: dict[str, str] = {}
    edits: list[tuple[int, int, str]] = []
    maths = [m for m in _MATH.finditer(source) if not (m.group("fence") or m.group("code") or m.group("esc"))]
    for m in maths:
        if m.group("env"):
            tex, display = m.group("env"), True
        else:
            tex = m.group("dd") or m.group("bd") or m.group("pi") or m.group("di") or ""
            display = m.group("di") is None and m.group("pi") is None
        rendered = render_math(tex.strip(), display=display, budget=budget)
        hits = [q for start, end, q in marks if start < m.end() and m.start() < end]
        if hits:
            cls = "found display" if display else "found"
            rendered = f'<mark class="{cls}" id="found-{html.escape(hits[0])}">{rendered}</mark>'
        pieces[key := f"{token}x{len(pieces)}x"] = rendered
        edits.append((m.start(), m.end(), key))
    for start, end, q in _text_marks(source, marks, [(m.start(), m.end()) for m in maths]):
        pieces[opening := f"{token}x{len(pieces)}x"] = f'<mark class="found" id="found-{html.escape(q)}">'
        pieces[closing := f"{token}x{len(pieces)}x"] = "</mark>"
        edits += [(start, start, opening), (end, end, closing)]
    parts, at = [], 0
    for start, end, key in sorted(edits, key=lambda e: (e[0], e[1])):
        parts += [source[at:start], key]
        at = end
    images: list[str] = []
    env = {"token": token, "images": images, "attachments": attachments or {}}
    rendered = _markdown().render("".join(parts) + source[at:], env)
    if pieces or images:
        keys = re.compile(token + r"(?:x\d+x|i\d+i)")
        rendered = re.sub(r"<[^>]*>", lambda m: keys.sub("", m.group(0)), rendered)  # none inside a tag
        rendered = keys.sub(lambda m: pieces.get(m.group(0), m.group(0) if m.group(0).endswith("i") else ""), rendered)
    rendered = sanitize(rendered)
    if images:
        rendered = re.sub(token + r"i(\d+)i", lambda m: images[int(m.group(1))], rendered)
    return rendered


def render_code(source: str, language: str = "python", *, hl_lines: tuple[int, ...] = ()) -> str:
    """Pygments HTML of a code cell (CSS classes only, no inline style); ``hl_lines`` are 1-based."""
    from pygments import highlight

    return str(highlight(strip_control(source[:MAX_SOURCE]), _lexer(language), _formatter(tuple(hl_lines))))


@lru_cache(maxsize=32)
def _lexer(language: str) -> Any:
    """One Pygments lexer per language for the class (making one costs more than a short cell's highlighting)."""
    from pygments.lexers import TextLexer, get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language if re.fullmatch(r"[\w+#-]{1,30}", language) else "text")
    except ClassNotFound:
        return TextLexer()


@lru_cache(maxsize=256)
def _formatter(hl_lines: tuple[int, ...]) -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="hl", hl_lines=list(hl_lines), nowrap=False)


def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="friendly").get_style_defs(".hl"))


def text_block(text: str) -> str:
    """Escaped, size-capped text of an output."""
    text = strip_control(text)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"\n… ({len(text) - MAX_TEXT:,} more characters not shown)"
    return html.escape(text)


def image_data_uri(data: bytes, *, side: int = MAX_IMAGE_SIDE) -> str | None:
    """A ``data:`` URI of ``data`` as Pillow encoded it, or None if it is not a safe PNG/JPEG.

    Bytes the reader already re-encoded (a :class:`~grading.notebook.images.Reencoded`) are
    embedded as they are; any other bytes are decoded and re-encoded here first, by the same code.
    """
    if not data or len(data) > MAX_IMAGE_BYTES:
        return None
    image = data if isinstance(data, Reencoded) else reencode(data, side=side)
    return None if image is None else image.data_uri()


def output_image_uri(output: Output) -> str | None:
    """The ``data:`` URI of an image output: its re-encoded bytes, from memory or from the figure file
    they were written to (:func:`grading.notebook.images.release_images`; used only when the file
    still holds exactly those bytes)."""
    if output.file is not None:
        image = output.file.read()
        return None if image is None else image.data_uri()
    return image_data_uri(output.data)


def output_html(output: Output) -> str:
    """One output, default-deny: text as text, PNG/JPEG re-encoded, anything else only named."""
    if output.kind == "text":
        return f'<pre class="out">{text_block(output.text)}</pre>'
    if output.kind in ("png", "jpeg"):
        uri = output_image_uri(output)
        if uri is not None:
            return f'<img class="fig" alt="figure" src="{uri}">'
        return '<p class="dropped">An image that could not be decoded is not shown.</p>'
    mime = html.escape(strip_control(output.mime or output.kind)[:80])
    return f'<p class="dropped">A {mime} output is not shown (the review page shows text and PNG/JPEG only).</p>'
