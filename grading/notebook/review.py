"""The review pages: ``review/index.html`` for the class and one page per student.

A student's page shows the notebook rendered safely (:mod:`grading.notebook.review_render`), and
beside it, per question, the verdict, the student's answer and the key's, the named mistake, the
step ticks, a points field and a comment field (manual items too), the claims and the figures.
The page's only script is ours, allowed by the hash in its Content-Security-Policy; it builds
``overrides.csv`` from the fields (read back by :mod:`grading.notebook.overrides`). Nothing on a
page is fetched: styles are inline (hashed), images are ``data:`` URIs of the bytes the reader
re-encoded (:mod:`grading.notebook.images`), so the pages work from ``file://`` with no server.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from grading.notebook import review_render as rr
from grading.notebook.model import VERDICTS, Cell, Notebook, NotebookResult, Output
from grading.safety import slugify, strip_control

__all__ = ["MAX_PAGE_CHARS", "ReviewEntry", "review_filename", "write_review"]

_SYMBOLS = {"correct": "✓", "wrong": "✗", "needs-review": "?", "not-found": "–"}
_FIGURE_SIDE = 460
_MAX_NAME_BYTES = 200
MAX_PAGE_CHARS = 40_000_000  # a student's page stops adding cells beyond this (figures are data: URIs)


@dataclass(frozen=True)
class ReviewEntry:
    """One student's line of the class and page: ``result`` is the ``--json`` dict (maybe with overrides applied)."""

    student: str
    name: str
    result: NotebookResult
    notebook: Notebook | None


def review_filename(student: str) -> str:
    """A file name for ``student``'s page: readable, distinct for distinct ids, at most 200 bytes.

    >>> review_filename("../鄭呈毅")[:4], len(review_filename("x" * 300).encode()) <= 200
    ('鄭呈毅-', True)
    """
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    slug = slugify(student)
    while len(slug.encode()) > _MAX_NAME_BYTES - len(digest) - 6:
        slug = slug[:-1]
    return f"{slug.rstrip('._-') or 'student'}-{digest}.html"


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return str(value)
        return f"{value:g}" if float(value) != int(value) else str(int(value))
    return strip_control(str(value))[:200]


def _maths(value: Any) -> Markup:
    """A key value or a student's right side: a number as a number, text as maths (or its source)."""
    if value is None or value == "":
        return Markup("")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Markup(rr.render_math(_num(value), display=False))
    return Markup(rr.render_math(strip_control(str(value))[: rr.MAX_FORMULA + 1], display=False))


def _question(q: dict[str, Any]) -> dict[str, Any]:
    verdict = str(q["verdict"]) if q.get("verdict") in VERDICTS else "needs-review"
    auto = q.get("auto_points", q.get("points"))
    final = q.get("final_points", auto)
    auto_text = "" if verdict == "needs-review" and not q.get("set_by_ta") else _num(auto)
    return {
        "question": strip_control(str(q.get("question", ""))),
        "verdict": verdict,
        "verdict_label": verdict.replace("-", " "),
        "cell": q.get("cell") if isinstance(q.get("cell"), int) else None,
        "answer": _maths(q.get("answer")),
        "expected": _maths(q.get("expected")),
        "misconception": strip_control(str(q.get("misconception") or "")),
        "why": strip_control(str(q.get("why") or "")),
        "steps": [{"step": _maths(s.get("step")), "ok": s.get("ok")} for s in q.get("steps") or []],
        "snippet": strip_control(str(q.get("snippet") or ""))[:1000],
        "auto": auto_text,
        "value": auto_text if not q.get("set_by_ta") else _num(final),
        "kept": "1" if q.get("set_by_ta") else "0",
        "comment": strip_control(str(q.get("comment") or "")),
        "max_points": _num(q.get("max_points")),
    }


def _manual(result: NotebookResult, manual: Sequence[dict]) -> list[dict[str, Any]]:
    """The manual items; ``counts``: left empty, the item holds the student's LMS grade back.

    The class's ``undecided`` list says which do; a notebook that could not be read holds nothing
    back (:func:`grading.notebook.finalize.notebook_points`); without a list, every undecided item does.
    """
    decided = {m.get("name"): m for m in result.get("manual") or []}
    waiting = result.get("undecided") if result.get("status") == "graded" else []
    items = []
    for spec in manual:
        got = decided.get(spec["name"], {})
        points = got.get("final_points", got.get("points"))
        counts = spec["name"] in waiting if isinstance(waiting, list) else True
        items.append(
            {
                "name": strip_control(str(spec["name"])),
                "max_points": _num(spec.get("points")),
                "value": _num(points),
                "decided": points is not None,
                "counts": points is not None or counts,
                "kept": "1" if points is not None else "0",
                "comment": strip_control(str(got.get("comment") or "")),
            }
        )
    return items


def _cell(cell: Cell, found: list[tuple[str, str]], language: str, budget: rr.MathBudget) -> dict[str, Any]:
    spans = []
    for question, snippet in found:
        at = cell.source.find(snippet) if snippet else -1
        if at >= 0:
            spans.append((at, at + len(snippet), question))
    if cell.kind == "markdown":
        body = rr.render_markdown(cell.source, marks=tuple(spans), budget=budget, attachments=dict(cell.attachments))
    elif cell.kind == "code":
        lines = sorted(
            {
                n + 1
                for s, e, _ in spans
                for n in range(cell.source.count("\n", 0, s), cell.source.count("\n", 0, e) + 1)
            }
        )
        body = rr.render_code(cell.source, language, hl_lines=tuple(lines))
    else:
        body = f'<pre class="raw">{rr.text_block(cell.source)}</pre>'
    return {
        "index": cell.index,
        "kind": cell.kind,
        "html": Markup(body),
        "outputs": [Markup(rr.output_html(o)) for o in cell.outputs],
        "found": [q for q, _ in found],
    }


def _cut(index: int, total: int) -> dict[str, Any]:
    note = (
        f'<p class="dropped">Cells {index} to {total - 1} are not shown: the page already holds '
        f"{MAX_PAGE_CHARS // 1_000_000} MB. Open the notebook itself to read them (nothing in it runs).</p>"
    )
    return {"index": index, "kind": "raw", "html": Markup(note), "outputs": [], "found": []}


def _figures(result: NotebookResult, out_dir: Path, notebook: Notebook | None) -> list[dict[str, Any]]:
    """The figures section: each figure's bytes as the reader re-encoded them (no second decode);
    a figure file is decoded and re-encoded only when the notebook is not at hand."""
    root = out_dir.resolve()
    read: dict[int, list[Output]] = {}
    for c in notebook.cells if notebook is not None else ():
        read[c.index] = [o for o in c.outputs if o.kind in ("png", "jpeg")]
    figures = []
    for f in result.get("figures") or []:
        cell = f.get("cell") if isinstance(f.get("cell"), int) else None
        src = None
        if cell is not None and read.get(cell):
            src = rr.output_image_uri(read[cell].pop(0))
        else:
            try:
                path = (root / str(f.get("file", ""))).resolve()
                if path.is_relative_to(root) and path.is_file() and path.stat().st_size <= rr.MAX_IMAGE_BYTES:
                    src = rr.image_data_uri(path.read_bytes(), side=_FIGURE_SIDE)
            except (OSError, ValueError):
                src = None
        figures.append({"cell": "?" if cell is None else cell, "src": src})
    return figures


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def _assets() -> tuple[str, str]:
    from grading.feedback import template_env

    env = template_env()
    style = env.get_template("review_style.css.j2").render() + rr.pygments_css()
    return style, env.get_template("review_script.js.j2").render()


def _csp(style: str, script: str | None) -> str:
    scripts = _csp_hash(script) if script is not None else "'none'"
    return (
        f"default-src 'none'; script-src {scripts}; style-src {_csp_hash(style)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _student_page(
    entry: ReviewEntry, out_dir: Path, title: str, manual: Sequence[dict], maximum: float | None = None
) -> str:
    from grading.feedback import template_env

    result = entry.result
    questions = [_question(q) for q in result.get("questions") or []]
    found: dict[int, list[tuple[str, str]]] = {}
    for q in result.get("questions") or []:
        if isinstance(q.get("cell"), int):
            found.setdefault(q["cell"], []).append((str(q.get("question", "")), str(q.get("snippet") or "")))
    cells = []
    if entry.notebook is not None:
        budget, size = rr.MathBudget(), 0
        for c in entry.notebook.cells:
            if size > MAX_PAGE_CHARS:
                cells.append(_cut(c.index, len(entry.notebook.cells)))
                break
            cells.append(_cell(c, found.get(c.index, []), entry.notebook.language, budget))
            size += len(cells[-1]["html"]) + sum(len(o) for o in cells[-1]["outputs"])
    invalid = "; ".join(strip_control(str(e)) for e in result.get("errors") or [])
    if result.get("status") == "invalid" and not invalid:
        invalid = "the notebook could not be read."
    notes = [*(result.get("warnings") or []), *(entry.notebook.warnings if entry.notebook is not None else ())]
    warnings = list(dict.fromkeys(strip_control(str(w)) for w in notes))
    style, script = _assets()
    max_points = maximum if maximum is not None else _most(result, manual)
    return (
        template_env()
        .get_template("review_student.html.j2")
        .render(
            csp=_csp(style, script),
            style=Markup(style),
            script=Markup(script),
            title=strip_control(title),
            student=strip_control(entry.student),
            name=strip_control(entry.name or entry.student),
            notebook_name=strip_control(str(result.get("notebook") or "")),
            auto_points=_num(
                result.get("auto_points", sum(float(q.get("points") or 0) for q in result.get("questions") or []))
            ),
            max_points=_num(max_points),
            invalid=invalid if result.get("status") == "invalid" or entry.notebook is None else "",
            warnings=warnings,
            cells=cells,
            questions=questions,
            manual=_manual(result, manual),
            claims=[
                {"what": strip_control(str(c.get("what", ""))), "value": _num(c.get("value")), "cell": c.get("cell")}
                for c in result.get("claims") or []
            ],
            figures=_figures(result, out_dir, entry.notebook),
        )
    )


def _most(result: NotebookResult, manual: Sequence[dict]) -> float:
    """What one result is out of: its questions' and the manual items' points."""
    most = sum(float(q.get("max_points") or 0) for q in result.get("questions") or [])
    return most + sum(float(m.get("points") or 0) for m in manual)


def _row(
    entry: ReviewEntry, columns: list[str], manual: Sequence[dict], maximum: float | None = None
) -> dict[str, Any]:
    result = entry.result
    by_name = {str(q.get("question")): q for q in result.get("questions") or []}
    verdicts = [
        by_name[c].get("verdict") if c in by_name and by_name[c].get("verdict") in VERDICTS else None for c in columns
    ]
    notes = [
        strip_control(str(by_name[c].get("misconception") or by_name[c].get("why") or ""))[:200] if c in by_name else ""
        for c in columns
    ]
    undecided = result.get("undecided") if result.get("status") == "graded" else []  # as on the student's page
    n_undecided = len(undecided) if isinstance(undecided, list) else len(manual)
    invalid = result.get("status") == "invalid" or entry.notebook is None
    points = result.get("final_points", result.get("auto_points"))
    if points is None:
        points = sum(float(q.get("points") or 0) for q in result.get("questions") or [])
    most = maximum if maximum is not None else _most(result, manual)
    return {
        "student": strip_control(entry.student),
        "name": strip_control(entry.name),
        "href": review_filename(entry.student),
        "verdicts": verdicts,
        "notes": notes,
        "invalid": "; ".join(strip_control(str(e)) for e in result.get("errors") or [])[:200] if invalid else "",
        "attention": invalid or "needs-review" in verdicts,
        "undecided": n_undecided,
        "points": _num(points),
        "max_points": _num(most),
    }


def write_review(
    out_dir: Path,
    entries: Sequence[ReviewEntry],
    *,
    title: str,
    manual: Sequence[dict],
    maximum: float | None = None,
) -> list[Path]:
    """Write ``out_dir/review/index.html`` and one page per student; return the paths written (index first).

    ``maximum`` is what every student is out of (a class run passes
    :func:`grading.notebook.classrun.notebook_maximum`, so an unreadable notebook is out of the same);
    without it, each student is out of their own questions' and the manual items' points.
    """
    from grading.feedback import template_env

    folder = Path(out_dir) / "review"
    folder.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for entry in entries:
        for q in entry.result.get("questions") or []:
            if str(q.get("question")) not in columns:
                columns.append(str(q.get("question")))
    rows = [_row(e, columns, manual, maximum) for e in entries]
    rows.sort(key=lambda r: (not r["attention"], r["undecided"] == 0 and not r["invalid"], r["student"]))
    counts = {v: sum(r["verdicts"].count(v) for r in rows) for v in VERDICTS}
    style, _ = _assets()
    index = (
        template_env()
        .get_template("review_index.html.j2")
        .render(
            csp=_csp(style, None),
            style=Markup(style),
            title=strip_control(title),
            rows=rows,
            columns=[strip_control(c) for c in columns],
            symbols=_SYMBOLS,
            attention=sum(1 for r in rows if r["attention"]),
            undecided_total=sum(r["undecided"] for r in rows),
            invalid=sum(1 for r in rows if r["invalid"]),
            verdict_counts=[(v, n) for v, n in counts.items()],
        )
    )
    written = [folder / "index.html"]
    written[0].write_text(index, encoding="utf-8")
    for entry in entries:
        path = folder / review_filename(entry.student)
        path.write_text(_student_page(entry, Path(out_dir), title, manual, maximum), encoding="utf-8")
        written.append(path)
    return written
