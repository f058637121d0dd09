"""Find the derivations in a notebook: math spans, equation chains, each question's answer.

Math is scanned from the raw markdown source (``$…$``, ``$$…$$``, ``\\[ \\]``, ``\\begin{align}``
and its kin); markdown lines outside math that hold an ``=`` are read too (``dL/dw00 = …``
written as prose). Each line of a span is an equation chain ``lhs = side = … = right-most``; a
line that starts with ``=`` (``&= …`` in an align) continues the chain above it.

A chain whose left side is a derivative (``\\frac{\\partial L}{\\partial w_{00}}``,
``\\partial L/\\partial w_{00}``, ``∂L/∂w₀₀``, ``dL/dw00``, ``\\dfrac``/``\\tfrac``,
``\\nabla_{w_{00}} L``; the loss written ``L``, ``E``, ``J``, ``\\mathcal{L}`` or ``Loss``) is
an answer when the numerator is the loss and the denominator resolves to a question, else a
step. The answer is the right-most side of the last such chain; a number printed by a code cell
whose source or output names the question counts when no equation is found. Definitions
(``z_{ij} = …``, ``o = \\sigma(s)``) are collected for the grader to resolve names with.
Nothing is evaluated here: this is text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from grading.notebook.model import Notebook

__all__ = [
    "Chain",
    "Definition",
    "Found",
    "Step",
    "chains",
    "definitions",
    "find_answers",
    "math_spans",
    "name_key",
]

MAX_SPAN = 20_000
"""A math span longer than this (characters) is not looked for: no derivation is that long."""

Resolve = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Chain:
    """One equation chain: its sides as written, the cell, and the exact source text."""

    cell: int
    sides: tuple[str, ...]
    snippet: str


@dataclass(frozen=True)
class Step:
    """An intermediate derivative ``∂num/∂den = rhs`` (num and den as name keys)."""

    label: str
    num: str
    den: str
    rhs: str
    cell: int
    order: int


@dataclass(frozen=True)
class Found:
    """Where a question's answer was found: ``source`` is ``equation`` or ``code``."""

    question: str
    cell: int
    snippet: str
    answer: str
    source: str
    order: int


@dataclass(frozen=True)
class Definition:
    """A student's definition ``name = rhs``; ``indices`` are its generic index letters (``ij``) or empty."""

    name: str
    indices: str
    rhs: str
    cell: int


# ------------------------------------------------------------------ math spans

_ENVS = "align|aligned|equation|gather|multline|eqnarray|split|alignat"
_OPEN = re.compile(rf"\$\$|\\\[|\\begin\{{((?:{_ENVS})\*?)\}}|(?<!\\)\$")


def math_spans(source: str) -> list[tuple[int, int, str]]:
    """The math of a markdown source: ``(start, end, body)`` with offsets of the body in ``source``.

    Linear in the source: each opener looks for its closer at most :data:`MAX_SPAN` characters on
    (a notebook of ten thousand unclosed ``\\begin{align}`` must not take minutes).

    >>> [b for _, _, b in math_spans(r"so $x=1$ and $$y = 2$$ and \\[z\\] costs \\$5")]
    ['x=1', 'y = 2', 'z']
    """
    out = []
    pos, n = 0, len(source)
    ahead: dict[str, int] = {}  # each closer's next position: searched forward once, so linear

    def next_at(text: str, start: int) -> int:
        found = ahead.get(text, -1)
        if found < start:
            found = source.find(text, start)
            found = n if found == -1 else found
            ahead[text] = found
        return found

    while (m := _OPEN.search(source, pos)) is not None:
        token, start = m.group(0), m.end()
        if token == "$$":
            closer = "$$"
        elif token == "\\[":
            closer = "\\]"
        elif m.group(1):
            closer = "\\end{" + m.group(1) + "}"
        else:
            closer = "$"
        end = next_at(closer, start)
        if end >= n or end == start or end - start > MAX_SPAN or (closer == "$" and next_at("\n", start) < end):
            pos = start
            continue
        out.append((start, end, source[start:end]))
        pos = end + len(closer)
    return out


def _plain_lines(source: str, spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Lines of markdown outside math that hold an ``=`` (a derivation written as prose)."""
    import bisect

    starts = [s - 2 for s, _, _ in spans]  # spans are in order and do not overlap
    ends = [e + 2 for _, e, _ in spans]
    out = []
    pos = 0
    for line in source.splitlines(keepends=True):
        start, end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        if "=" not in line or "$" in line or end - start > MAX_SPAN:
            continue
        k = bisect.bisect_right(starts, end) - 1  # the last span opening before the line ends
        if k >= 0 and ends[k] >= start:
            continue  # the line touches math
        out.append((start, end, source[start:end]))
    return out


_LINEBREAK = re.compile(r"\\\\(?:\[[^\]]*\])?|\n")
_JUNK = re.compile(r"\\(?:nonumber|notag|label\{[^{}]*\}|tag\{[^{}]*\})|&")


def _split_top(text: str, sep: Callable[[str, int], int]) -> list[str]:
    """Split at top-level (brace depth 0) positions where ``sep`` returns a separator length."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            n = sep(text, i)
            if n:
                parts.append(text[start:i])
                i += n
                start = i
                continue
        i += 1
    parts.append(text[start:])
    return parts


def _equals(text: str, i: int) -> int:
    if text[i] == "=" and (i == 0 or text[i - 1] not in "<>!:") and text[i + 1 : i + 2] != "=":
        return 1
    if text.startswith("\\approx", i):
        return len("\\approx")
    return 0


def chains(nb: Notebook) -> list[Chain]:
    """Every equation chain of the notebook's markdown cells, in order."""
    out: list[Chain] = []
    for cell in nb.cells:
        if cell.kind != "markdown" or "=" not in cell.source:
            continue
        spans = math_spans(cell.source)
        for start, _end, body in sorted([*spans, *_plain_lines(cell.source, spans)]):
            current: list[str] = []
            first = last = start
            for ls, le in _pieces(body):
                line = _JUNK.sub(" ", body[ls:le]).strip()
                if not line:
                    continue
                sides = [s.strip() for s in _split_top(line, _equals)]
                if current and not sides[0] and len(sides) >= 2:
                    current.extend(s for s in sides[1:] if s)
                    last = start + le
                    continue
                if len(current) >= 2:
                    out.append(Chain(cell.index, tuple(current), cell.source[first:last]))
                current = sides if len(sides) >= 2 and sides[0] else []
                first, last = start + ls, start + le
            if len(current) >= 2:
                out.append(Chain(cell.index, tuple(current), cell.source[first:last]))
    return out


def _pieces(body: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for m in _LINEBREAK.finditer(body):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(body)


# ------------------------------------------------------------------ derivatives and names

_LOSSES = {"L", "E", "J", "Loss", "loss", "ell", "C"}
_SPACES = re.compile(
    r"\\(?:left|right|displaystyle|limits|[,;:! ]|big|Big|bigl|bigr|mathrm|mathit|text)(?![A-Za-z])|\s"
)


def name_key(spelled: str) -> str:
    """A name as a key: ``w_{0,0}`` → ``w00``, ``\\hat{y}`` → ``yhat``, ``\\mathcal{L}`` → ``L``, ``w₀₀`` → ``w00``.

    >>> [name_key(s) for s in (r"w_{0,0}", "w_00", r"\\hat{y}", r"\\mathcal{L}", "w₀₀", "ŷ")]
    ['w00', 'w00', 'yhat', 'L', 'w00', 'yhat']
    """
    s = spelled.translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")).replace("ŷ", "yhat")
    s = re.sub(r"\\(?:mathcal|mathscr|mathbf|boldsymbol|operatorname|mathrm|text)\s*\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\\(?:hat|widehat)\s*\{?\s*([A-Za-z])\s*\}?", r"\1hat", s)
    s = s.replace("\\ell", "ell").replace("ℒ", "L")
    s = _SPACES.sub("", s)
    return re.sub(r"[{}_,()]", "", s)


def _normalize(lhs: str) -> str:
    s = (
        lhs.replace("∂", "\\partial ")
        .replace("∇", "\\nabla ")
        .replace("\\dfrac", "\\frac")
        .replace("\\tfrac", "\\frac")
    )
    return _SPACES.sub("", s)


def _braced(s: str, i: int) -> tuple[str, int] | None:
    """The brace group at ``s[i]`` and the index after it, or None."""
    if i >= len(s) or s[i] != "{":
        return None
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "{":
            depth += 1
        elif s[j] == "}":
            depth -= 1
            if depth == 0:
                return s[i + 1 : j], j + 1
    return None


def _d_of(part: str) -> str | None:
    """``\\partial L`` / ``dL`` / ``\\partial{L}`` → the name key after the d; None if not a differential."""
    for d in ("\\partial", "d", "\\mathrm{d}", "\\delta"):
        if part.startswith(d) and len(part) > len(d):
            rest = part[len(d) :]
            if d == "d" and not re.match(r"[A-Za-z\\{]", rest):
                return None
            key = name_key(rest)
            return key if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key) else None
    return None


def derivative(lhs: str) -> tuple[str, str] | None:
    """``(numerator, denominator)`` name keys of a derivative left side, or None.

    >>> derivative(r"\\frac{\\partial L}{\\partial w_{00}}"), derivative("dL/dw00"), derivative(r"\\nabla_{w_{0,0}} E")
    (('L', 'w00'), ('L', 'w00'), ('E', 'w00'))
    """
    if len(lhs) > 400:  # no derivative is written that long; a long side is not searched
        return None
    s = _normalize(lhs)
    if s.startswith("\\frac"):
        a = _braced(s, len("\\frac"))
        b = a and _braced(s, a[1])
        if a and b and b[1] == len(s):
            num, den = _d_of(a[0]), _d_of(b[0])
            return (num, den) if num and den else None
        return None
    if s.startswith("\\nabla"):
        m = re.fullmatch(r"\\nabla_(\{.*\}|[A-Za-z])(.+)", s)
        if m:
            den, num = name_key(m.group(1)), name_key(m.group(2))
            ok = re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", den) and re.fullmatch(r"[A-Za-z]+", num)
            return (num, den) if ok else None
        return None
    parts = _split_top(s, lambda t, i: 1 if t[i] == "/" else 0)
    if len(parts) == 2:
        num, den = _d_of(parts[0].strip("{}()") or ""), _d_of(parts[1].strip("{}()") or "")
        return (num, den) if num and den else None
    return None


def is_loss(key: str) -> bool:
    return key in _LOSSES


_DEF_LHS = re.compile(r"\s*(\\hat\{?[A-Za-z]\}?|[A-Za-z](?:\s*_\s*(?:\{[^{}]{1,12}\}|[A-Za-z0-9]))?|[A-Za-z]{2,6})\s*")


def definitions(all_chains: Sequence[Chain]) -> list[Definition]:
    """The student's definitions: chains whose left side is a plain name (``o_{ij} = \\sigma(z_{ij})``)."""
    out = []
    for ch in all_chains:
        if len(ch.sides[0]) > 60:
            continue
        m = _DEF_LHS.fullmatch(ch.sides[0])
        if not m or not ch.sides[1]:
            continue
        raw = m.group(1)
        sub = re.search(r"_\s*\{?([^{}]*)\}?", raw)
        indices = ""
        if sub and re.fullmatch(r"[ijklmnrc](?:,?[ijklmnrc])*", sub.group(1).replace(" ", "")):
            indices = sub.group(1).replace(",", "").replace(" ", "")
            base = name_key(raw[: sub.start()])
        else:
            base = name_key(raw)
        out.append(Definition(base, indices, ch.sides[1], ch.cell))
    return out


# ------------------------------------------------------------------ answers


def find_answers(
    nb: Notebook, questions: Sequence[str], resolve: Resolve
) -> tuple[dict[str, Found], dict[str, list[Step]], list[Chain]]:
    """Each question's answer (absent when not found), the steps before it, and all chains.

    Args:
        questions: The canonical names asked (``w00``, ``a21``).
        resolve: A name key (``w00``, ``u1``) → its canonical name, or None.
    """
    all_chains = chains(nb)
    found: dict[str, Found] = {}
    steps: list[Step] = []
    for order, ch in enumerate(all_chains):
        d = derivative(ch.sides[0])
        if d is None:
            continue
        num, den = d
        target = resolve(den) if is_loss(num) else None
        if target is not None and target in questions:
            found[target] = Found(target, ch.cell, ch.snippet, ch.sides[-1], "equation", order)
        else:
            label = f"∂{num}/∂{den}"
            steps.append(Step(label, num, den, ch.sides[-1], ch.cell, order))
    for q in questions:
        if q not in found:
            hit = _from_code(nb, q)
            if hit is not None:
                found[q] = hit
    return found, _steps_per_question(found, steps, questions), all_chains


def _steps_per_question(found: dict[str, Found], steps: list[Step], questions: Sequence[str]) -> dict[str, list[Step]]:
    """Each step goes to the first question whose answer follows it (the last question keeps the rest)."""
    ends = sorted((f.order, q) for q, f in found.items() if f.source == "equation")
    out: dict[str, list[Step]] = {q: [] for q in questions}
    for st in steps:
        owner = next((q for o, q in ends if o > st.order), ends[-1][1] if ends else None)
        if owner is not None:
            out[owner].append(st)
    return out


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _code_names(q: str) -> list[str]:
    m = re.fullmatch(r"([A-Za-z]+)(\d)(\d)", q)
    names = [q]
    if m:
        b, i, j = m.groups()
        names += [f"{b}_{i}{j}", f"{b}_{{{i}{j}}}", f"{b}[{i}][{j}]", f"{b}[{i},{j}]", f"{b}[{i}, {j}]", f"{b}_{i}_{j}"]
    return names


def _from_code(nb: Notebook, q: str) -> Found | None:
    """A number printed by a code cell whose source or output names ``q`` (the last such cell)."""
    names = _code_names(q)
    pattern = re.compile(r"(?<![0-9])(?:" + "|".join(re.escape(n) for n in names) + r")(?![0-9])")
    best = None
    for cell in nb.cells:
        if cell.kind != "code":
            continue
        text = "\n".join(o.text for o in cell.outputs if o.kind == "text")
        if not text or not (pattern.search(cell.source) or pattern.search(text)):
            continue
        for line in text.splitlines():
            if len(line) > 500:
                continue
            rest = pattern.sub(" ", line) if pattern.search(line) else None
            if rest is None and not pattern.search(cell.source):
                continue
            numbers = re.findall(_NUM, rest if rest is not None else line)
            if rest is None and len(numbers) != 1:
                continue
            if numbers:
                best = Found(q, cell.index, line.strip(), numbers[-1], "code", 10**9 + cell.index)
    return best
