"""Per-student feedback: Markdown and HTML from jinja2 templates, with a confusion-matrix heatmap.

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

__all__ = ["draw_confusion_png", "md_escape", "per_class_scores", "render_feedback", "template_env"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|<>&~])")


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
        out.append({"label": label, "support": row,
                    "precision": cm[i][i] / col if col else None,
                    "recall": cm[i][i] / row if row else None})
    return out


class _Painter:
    """One reusable figure per label set, redrawn by blitting.

    Laying out a figure costs more than drawing it, and drawing its static parts
    (axes, ticks, labels) costs more than the cells: so the figure is laid out
    once, its static parts are rendered once into a saved background, and each
    student's picture restores that background and draws only what changes
    (the cells, their counts, the title, the colour bar), then hands the pixels
    to Pillow. :meth:`render` draws the same picture the slow, ordinary way.
    """

    def __init__(self, labels: tuple[str, ...]) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        n = len(labels)
        size = min(7.0, 1.6 + 0.42 * n)
        self.fig = Figure(figsize=(size + 0.8, size), dpi=100)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = ax = self.fig.add_subplot()
        self.image = ax.imshow([[0] * n for _ in range(n)], cmap="Blues", vmin=0, vmax=1)
        self.colorbar = self.fig.colorbar(self.image, ax=ax, fraction=0.046, pad=0.04)
        ax.set_xticks(range(n), [x[:12] for x in labels], rotation=45 if n > 12 else 0)
        ax.set_yticks(range(n), [x[:12] for x in labels])
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        self.title = ax.set_title("Confusion matrix", fontsize=10)  # reserve room before the layout
        self.texts = [[ax.text(j, i, "", ha="center", va="center", fontsize=8) for j in range(n)]
                      for i in range(n)] if n <= 20 else []
        self.fig.tight_layout()
        ticks = [*ax.xaxis.get_major_ticks(), *ax.yaxis.get_major_ticks()]
        self._frame = [*ax.spines.values(), *(t.tick1line for t in ticks)]  # drawn over the image's edge
        dynamic = [self.image, self.title, self.colorbar.ax, *self._frame]
        for artist in [*dynamic, *(t for row in self.texts for t in row)]:
            artist.set_visible(False)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        for artist in dynamic:
            artist.set_visible(True)

    def _update(self, cm: Sequence[Sequence[int]], title: str) -> None:
        peak = max((max(r) for r in cm), default=0) or 1
        self.image.set_data(cm)
        self.image.set_clim(0, peak)
        self.title.set_text(title[:60])
        for i, row in enumerate(self.texts):
            for j, text in enumerate(row):
                v = cm[i][j]
                text.set_text(str(v))
                text.set_visible(bool(v))
                text.set_color("white" if v > peak / 2 else "black")

    def render(self, cm: Sequence[Sequence[int]], title: str) -> Any:
        """The picture drawn the ordinary way (every artist), as an RGBA array."""
        import numpy as np

        self._update(cm, title)
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba()).copy()

    def blit(self, cm: Sequence[Sequence[int]], title: str) -> Any:
        """The same picture drawn over the saved background, as an RGBA array."""
        import numpy as np

        self._update(cm, title)
        self.canvas.restore_region(self.background)
        ax = self.ax
        ax.draw_artist(self.image)
        for artist in self._frame:
            ax.draw_artist(artist)
        for row in self.texts:
            for text in row:
                if text.get_visible():
                    ax.draw_artist(text)
        ax.draw_artist(self.title)
        self.fig.draw_artist(self.colorbar.ax)
        return np.asarray(self.canvas.buffer_rgba()).copy()

    def draw(self, cm: Sequence[Sequence[int]], path: Path, title: str) -> None:
        from PIL import Image

        Image.fromarray(self.blit(cm, title), "RGBA").save(path, format="png", compress_level=1)


@lru_cache(maxsize=4)
def _painter(labels: tuple[str, ...]) -> _Painter:
    return _Painter(labels)


def draw_confusion_png(cm: Sequence[Sequence[int]], labels: Sequence[str], path: Path, *, title: str = "") -> None:
    """Draw the confusion matrix as a heatmap PNG (rows = true class), counts in the cells.

    matplotlib (its Agg canvas, no GUI backend) is imported here only, on first use.
    """
    _painter(tuple(str(x) for x in labels)).draw(cm, path, title)


def _pct(x: float | None) -> str:
    return "unavailable" if x is None else f"{100 * x:.2f}%"


def _context(student: Mapping[str, Any], *, title: str, heatmap: Path | None, html: bool) -> dict[str, Any]:
    esc = (lambda s: str(s)) if html else md_escape
    r = student.get("report") or {}
    cm = r.get("confusion_matrix") or []
    labels = [str(x) for x in r.get("labels") or []]
    classes = per_class_scores(cm, labels) if cm else []
    if student.get("recall") is not None:  # the grader's own figures count missing rows as misses
        for c, p, q in zip(classes, student["precision"], student["recall"], strict=True):
            c["precision"], c["recall"] = p, q
        for c, n in zip(classes, student.get("support") or [], strict=False):
            c["support"] = n
    rubric = student.get("rubric") or {}
    metrics = []
    if r:
        metrics = [("Top-1 accuracy", _pct(r.get("top1"))), (f"Top-{student.get('k', 3)} accuracy", _pct(r.get("top3"))),
                   ("Rows scored", f"{r.get('n_scored', 0)} of {r.get('n_key', 0)}")]
        if student.get("public_top1") is not None:
            metrics += [("Public top-1", _pct(student.get("public_top1"))),
                        ("Private top-1", _pct(student.get("private_top1")))]
        if r.get("params") is not None:
            metrics += [("Parameters", f"{r['params']:,}"),
                        ("Top-1 ÷ parameters", f"{r['top1_per_param']:.3e}" if r.get("top1_per_param") else "–")]
    if student.get("rank") is not None:
        metrics.append(("Leaderboard rank", f"{student['rank']} of {student.get('n_ranked', '?')}"))
    if student.get("alias") and r:
        metrics.append(("Your name on the leaderboard", str(student["alias"])))
    image = ""
    if heatmap is not None:
        image = ("data:image/png;base64," + base64.b64encode(heatmap.read_bytes()).decode("ascii")) if html else heatmap.name
    return {
        "title": esc(title),
        "who": esc(f"{student['name']} ({student['student']})" if student.get("name") else student.get("student", "")),
        "status": student.get("status", "invalid"),
        "reason": esc(student.get("reason", "")),
        "source": esc(student.get("source", "")),
        "late": bool(student.get("late")),
        "metrics": [(esc(a), esc(b)) for a, b in metrics],
        "rules": [{"name": esc(p["name"]), "points": f"{p['points']:g}", "max": f"{p['max_points']:g}",
                   "why": esc(p["explanation"])} for p in rubric.get("rules", [])],
        "total": f"{rubric['total']:g}" if rubric else "",
        "max_total": f"{rubric['max_total']:g}" if rubric else "",
        "messages": [esc(m) for m in [*(w["message"] for w in r.get("warnings", [])), *student.get("notes", [])]],
        "labels": [esc(x) for x in labels],
        "cm": cm,
        "classes": [{"label": esc(c["label"]), "support": c["support"], "precision": _pct(c["precision"]),
                     "recall": _pct(c["recall"])} for c in classes],
        "image": image,
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
