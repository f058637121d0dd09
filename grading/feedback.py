"""Per-student feedback: Markdown and HTML from jinja2 templates, with a confusion-matrix heatmap.

The HTML page colours its confusion-matrix table by count (no image); the Markdown
page links a PNG drawn with Pillow (:func:`draw_confusion_png`). With a Public/Private
split, the matrix and the per-class figures a student sees come from the Public rows
only (``student_view`` of the student's dict): a confusion matrix tells the true class
of every row a student answered.

The templates (``templates/feedback.md.j2``, ``templates/feedback.html.j2``) receive
only pre-rendered strings and numbers. HTML is autoescaped; text bound for
Markdown is escaped here (:func:`md_escape`), so a student named ``<script>`` or
``*bold*`` shows literally. Feedback never lists key labels row by row: only the
aggregate confusion matrix and per-class precision and recall.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2

__all__ = ["cell_colours", "draw_confusion_png", "md_escape", "per_class_scores", "render_feedback", "template_env"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|<>&~$])")


@cache
def template_env() -> jinja2.Environment:
    """The jinja2 environment for ``templates/``: HTML autoescaped, undefined names are errors."""
    import templates

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(templates.__file__).parent),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def md_escape(text: str) -> str:
    r"""Escape Markdown and inline-HTML specials so text shows literally.

    >>> md_escape("<script>*x*</script>")
    '\\<script\\>\\*x\\*\\</script\\>'
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def per_class_scores(cm: Sequence[Sequence[int]], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Support, precision and recall per class from a confusion matrix (rows = true class).

    >>> per_class_scores([[3, 1], [0, 2]], ["0", "1"])[1]
    {'label': '1', 'support': 2, 'precision': 0.6666666666666666, 'recall': 1.0}
    """
    out = []
    for i, label in enumerate(labels):
        row = sum(cm[i])
        col = sum(r[i] for r in cm)
        out.append(
            {
                "label": label,
                "support": row,
                "precision": cm[i][i] / col if col else None,
                "recall": cm[i][i] / row if row else None,
            }
        )
    return out


_WHITE = (247, 251, 255)
_BLUE = (8, 48, 107)


@lru_cache(maxsize=65536)
def cell_colours(value: int, peak: int) -> tuple[str, str]:
    """Background and text colour of a confusion-matrix cell: white for 0, dark blue for the peak.

    >>> cell_colours(0, 10), cell_colours(10, 10)
    (('#f7fbff', '#000000'), ('#08306b', '#ffffff'))
    """
    t = value / peak if peak else 0.0
    rgb = tuple(round(a + (b - a) * t) for a, b in zip(_WHITE, _BLUE, strict=True))
    return "#%02x%02x%02x" % rgb, "#ffffff" if t > 0.5 else "#000000"


@lru_cache(maxsize=8)
def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size)


@lru_cache(maxsize=4096)
def _stamp(text: str, size: int) -> Any:
    """The anti-aliased mask of a short text, rendered once and pasted many times."""
    from PIL import Image, ImageDraw

    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (max(1, int(right - left) + 2), max(1, int(bottom - top) + 2)), 0)
    ImageDraw.Draw(mask).text((1 - left, 1 - top), text, fill=255, font=font)
    return mask


class _Frame:
    """The static part of a heatmap for one label set: size, margins, labels, axis names."""

    def __init__(self, labels: tuple[str, ...]) -> None:
        from PIL import Image, ImageDraw

        from grading.safety import strip_control

        n = len(labels)
        self.n = n
        self.cell = cell = 36 if n <= 12 else max(12, 432 // n)
        self.size = size = 12 if cell >= 24 else 9
        font, small = _font(size), _font(11)
        names = [" ".join(strip_control(str(x)).split())[:12] for x in labels]
        label_w = int(max((font.getlength(x) for x in names), default=0))
        rotate = any(font.getlength(x) > cell - 4 for x in names)
        self.left, self.top = label_w + 34, 28
        side = cell * n
        below = (label_w + 8) if rotate else 20
        image = Image.new("RGB", (max(self.left + side + 12, 180), self.top + side + below + 18), "white")
        draw = ImageDraw.Draw(image)
        draw.rectangle((self.left - 1, self.top - 1, self.left + side, self.top + side), outline="#555555")
        for k, name in enumerate(names):
            draw.text((self.left - 6, self.top + k * cell + cell / 2), name, fill="black", font=font, anchor="rm")
            if not rotate:
                draw.text(
                    (self.left + k * cell + cell / 2, self.top + side + 4), name, fill="black", font=font, anchor="ma"
                )
            else:
                tile = Image.new("L", (int(font.getlength(name)) + 2, cell), 0)
                ImageDraw.Draw(tile).text((0, cell / 2), name, fill=255, font=font, anchor="lm")
                image.paste((0, 0, 0), (self.left + k * cell, self.top + side + 4), tile.rotate(90, expand=True))
        draw.text(
            (self.left + side / 2, self.top + side + below), "predicted class", fill="black", font=small, anchor="ma"
        )
        axis = Image.new("L", (side, 14), 0)
        ImageDraw.Draw(axis).text((side / 2, 7), "true class", fill=255, font=small, anchor="mm")
        image.paste((0, 0, 0), (4, self.top), axis.rotate(90, expand=True))
        self.image = image


@lru_cache(maxsize=4)
def _frame(labels: tuple[str, ...]) -> _Frame:
    return _Frame(labels)


def draw_confusion_png(cm: Sequence[Sequence[int]], labels: Sequence[str], path: Path, *, title: str = "") -> None:
    """Draw the confusion matrix as a heatmap PNG (rows = true class), counts in the cells.

    Drawn with Pillow alone in a few milliseconds (the frame and the digits are rendered
    once and pasted): no matplotlib, so no text is ever parsed as mathtext. Labels and
    ``title`` are shown literally (control characters removed, labels cut at 12 characters).
    """
    from PIL import ImageDraw

    from grading.safety import strip_control

    frame = _frame(tuple(str(x) for x in labels))
    image = frame.image.copy()
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((6, 8), " ".join(strip_control(title).split())[:60], fill="black", font=_font(11))
    cell, left, top = frame.cell, frame.left, frame.top
    peak = max((max(r) for r in cm), default=0) or 1
    for i, row in enumerate(cm):
        for j, v in enumerate(row):
            bg, fg = cell_colours(int(v), peak)
            x, y = left + j * cell, top + i * cell
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=bg)
            if v and frame.n <= 20:
                mask = _stamp(str(v), frame.size)
                image.paste(fg, (x + (cell - mask.width) // 2, y + (cell - mask.height) // 2), mask)
    image.save(path, format="png", compress_level=1)


def _matrix_html(cm: Sequence[Sequence[int]], labels: Sequence[str]) -> Any:
    """The confusion matrix as HTML table rows, each cell coloured by its count (labels escaped)."""
    from markupsafe import Markup, escape

    if not cm:
        return ""
    peak = max((max(row) for row in cm), default=0) or 1
    head = "".join(f'<th class="num">{escape(x)}</th>' for x in labels)
    rows = [f"<tr><th>true \\ predicted</th>{head}</tr>"]
    for label, row in zip(labels, cm, strict=False):
        tds = "".join(
            '<td class="num" style="background:%s;color:%s">%d</td>' % (*cell_colours(int(v), peak), v) for v in row
        )
        rows.append(f"<tr><th>{escape(label)}</th>{tds}</tr>")
    return Markup("\n".join(rows))


def _pct(x: float | None) -> str:
    return "unavailable" if x is None else f"{100 * x:.2f}%"


def _context(student: Mapping[str, Any], *, title: str, heatmap: Path | None, html: bool) -> dict[str, Any]:
    from grading.feedback_notebook import notebook_feedback
    from grading.safety import strip_control

    esc = (lambda s: strip_control(str(s))) if html else (lambda s: md_escape(strip_control(str(s))))
    r = student.get("report") or {}
    view = student.get("student_view") or {"confusion_matrix": r.get("confusion_matrix"), **student}
    cm = view.get("confusion_matrix") or []
    labels = [str(x) for x in r.get("labels") or []]
    classes = per_class_scores(cm, labels) if cm else []
    if view.get("recall") is not None:  # the grader's own figures count missing rows as misses
        for c, p, q in zip(classes, view["precision"], view["recall"], strict=True):
            c["precision"], c["recall"] = p, q
        for c, n in zip(classes, view.get("support") or [], strict=False):
            c["support"] = n
    cells = _matrix_html(cm, labels) if html else ""
    scope = f"Computed on the {view['n_rows']} public rows of the test set only." if student.get("student_view") else ""
    rubric = student.get("rubric") or {}
    metrics = []
    if r:
        metrics = [
            ("Top-1 accuracy", _pct(r.get("top1"))),
            (f"Top-{student.get('k', 3)} accuracy", _pct(r.get("top3"))),
            ("Rows scored", f"{r.get('n_scored', 0)} of {r.get('n_key', 0)}"),
        ]
        if student.get("public_top1") is not None:
            metrics += [
                ("Public top-1", _pct(student.get("public_top1"))),
                ("Private top-1", _pct(student.get("private_top1"))),
            ]
        if r.get("params") is not None:
            metrics += [
                ("Parameters", f"{r['params']:,}"),
                ("Top-1 ÷ parameters", f"{r['top1_per_param']:.3e}" if r.get("top1_per_param") else "–"),
            ]
    if student.get("rank") is not None:
        metrics.append(("Leaderboard rank", f"{student['rank']} of {student.get('n_ranked', '?')}"))
    if student.get("alias") and r:
        metrics.append(("Your name on the leaderboard", str(student["alias"])))
    image = ""
    if heatmap is not None:
        image = (
            ("data:image/png;base64," + base64.b64encode(heatmap.read_bytes()).decode("ascii"))
            if html
            else heatmap.name
        )
    return {
        "title": esc(title),
        "who": esc(
            strip_control(
                f"{student['name']} ({student['student']})" if student.get("name") else student.get("student", "")
            )
        ),
        "status": student.get("status", "invalid"),
        "reason": esc(student.get("reason", "")),
        "source": esc(student.get("source", "")),
        "late": bool(student.get("late")),
        "metrics": [(esc(a), esc(b)) for a, b in metrics],
        "rules": [
            {
                "name": esc(p["name"]),
                "points": f"{p['points']:g}",
                "max": f"{p['max_points']:g}",
                "why": esc(p["explanation"]),
            }
            for p in rubric.get("rules", [])
        ],
        "total": f"{rubric['total']:g}" if rubric else "",
        "max_total": f"{rubric['max_total']:g}" if rubric else "",
        "messages": [esc(m) for m in [*(w["message"] for w in r.get("warnings", [])), *student.get("notes", [])]],
        "labels": [esc(x) for x in labels],
        "cm": cm,
        "cells": cells,
        "scope": esc(scope),
        "classes": [
            {
                "label": esc(c["label"]),
                "support": c["support"],
                "precision": _pct(c["precision"]),
                "recall": _pct(c["recall"]),
            }
            for c in classes
        ],
        "image": image,
        "notebook": notebook_feedback(student, esc),
    }


def render_feedback(student: Mapping[str, Any], *, title: str, html: bool, heatmap: Path | None = None) -> str:
    """Render one student's feedback page.

    Args:
        student: the student's dict as in ``results.json``.
        title: the assignment title.
        html: HTML (image inlined) when true, Markdown (image linked) when false.
        heatmap: the confusion-matrix PNG, if drawn.
    """
    name = "feedback.html.j2" if html else "feedback.md.j2"
    return template_env().get_template(name).render(**_context(student, title=title, heatmap=heatmap, html=html))
