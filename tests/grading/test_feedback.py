"""Feedback pages: escaped, no key labels row by row, a heatmap PNG."""

from __future__ import annotations

from pathlib import Path

import pytest

from grading.feedback import draw_confusion_png, md_escape, per_class_scores, render_feedback

CM = [[3, 1, 0], [0, 2, 1], [1, 0, 4]]
STUDENT = {
    "student": "<script>alert(1)</script>",
    "name": "*Ada* <b>Lovelace</b> & co",
    "status": "ok",
    "source": "sub/HW2_prob1.csv",
    "late": True,
    "k": 3,
    "rank": 2,
    "n_ranked": 5,
    "public_top1": 0.8,
    "private_top1": 0.7,
    "notes": ["graded the only CSV, '<img src=x onerror=alert(1)>'"],
    "report": {
        "top1": 0.75,
        "top3": 0.9,
        "n_scored": 12,
        "n_key": 12,
        "params": 1000,
        "top1_per_param": 0.00075,
        "labels": [0, 1, 2],
        "confusion_matrix": CM,
        "errors": [],
        "warnings": [{"code": "missing", "message": "2 rows are missing", "line": None}],
    },
    "rubric": {
        "total": 42.5,
        "max_total": 70,
        "rules": [
            {"name": "Accuracy", "points": 42.5, "max_points": 70, "explanation": "top1 0.750: 0 points at 0.500"}
        ],
    },
}


def test_html_autoescapes_everything_from_students() -> None:
    html = render_feedback(STUDENT, title="HW2 <i>", html=True)
    assert "<script>" not in html and "<img src=x" not in html and "<b>Lovelace" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "HW2 &lt;i&gt;: feedback" in html
    assert "Submitted late." in html and "42.5 of 70" in html and "75.00%" in html


def test_markdown_escapes_specials() -> None:
    md = render_feedback(STUDENT, title="HW2", html=False)
    assert "**Student:** \\*Ada\\* \\<b\\>Lovelace\\</b\\> \\& co (\\<script\\>alert(1)\\</script\\>)" in md
    assert "| Accuracy | 42.5 / 70 |" in md
    assert "<script>" not in md


def test_no_key_label_row_by_row() -> None:
    md = render_feedback(STUDENT, title="HW2", html=False)
    assert ".png" not in md.replace("HW2\\_prob1.csv", "")  # no image ids at all
    assert "| **0** | 3 | 1 | 0 |" in md  # the aggregate is there


def test_invalid_submission_shows_reason() -> None:
    bad = {
        "student": "b1",
        "name": "",
        "status": "invalid",
        "reason": "b1.csv is empty.",
        "notes": [],
        "report": None,
        "rubric": None,
    }
    md = render_feedback(bad, title="HW2", html=False)
    assert "## Your file could not be graded" in md and "b1.csv is empty." in md
    assert "Confusion" not in md


def test_per_class_scores_exact() -> None:
    scores = per_class_scores(CM, ["0", "1", "2"])
    assert [(s["support"], s["precision"], s["recall"]) for s in scores] == [
        (4, 0.75, 0.75),
        (3, 2 / 3, 2 / 3),
        (5, 0.8, 0.8),
    ]
    assert per_class_scores([[0, 0], [1, 0]], ["a", "b"])[1] == {
        "label": "b",
        "support": 1,
        "precision": None,
        "recall": 0.0,
    }


def test_md_escape() -> None:
    assert md_escape("a_b|c\nd") == "a\\_b\\|c d"


def test_heatmap_png(tmp_path: Path) -> None:
    png = tmp_path / "cm.png"
    draw_confusion_png(CM, ["0", "1", "2"], png, title="<Ada>")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 2000
    html = render_feedback(STUDENT, title="HW2", html=True, heatmap=png)
    assert 'src="data:image/png;base64,iVBOR' in html
    md = render_feedback(STUDENT, title="HW2", html=False, heatmap=png)
    assert "![Confusion matrix](cm.png)" in md


@pytest.mark.parametrize("n", [2, 10, 15, 25], ids=["2-classes", "10-classes", "15-rotated-ticks", "25-no-counts"])
def test_heatmap_cells_have_the_colour_of_their_count(tmp_path: Path, n: int) -> None:
    import numpy as np
    from PIL import Image

    from grading.feedback import _frame, cell_colours

    labels = [f"class {i}" for i in range(n)]
    rng = np.random.default_rng(n)
    for trial in range(3):  # the cached frame must not keep anything of the previous picture
        cm = (rng.integers(0, 30, (n, n)) * (rng.random((n, n)) < 0.4) + np.eye(n, dtype=int) * 200 * trial).tolist()
        path = tmp_path / f"{trial}.png"
        draw_confusion_png(cm, labels, path, title="Mallory $x^$ Evil \x1b[31m")  # literal, never mathtext
        image = Image.open(path).convert("RGB")
        frame = _frame(tuple(labels))
        peak = max(max(r) for r in cm) or 1
        for i in range(n):
            for j in range(n):
                corner = image.getpixel((frame.left + j * frame.cell + 1, frame.top + i * frame.cell + 1))
                assert "#%02x%02x%02x" % corner == cell_colours(cm[i][j], peak)[0], (i, j)


def test_html_feedback_colours_the_table_and_needs_no_image() -> None:
    from grading.feedback import cell_colours

    html = render_feedback(STUDENT, title="HW2", html=True)
    assert "<img" not in html
    peak = max(max(r) for r in CM)
    assert (
        f'style="background:{cell_colours(CM[0][0], peak)[0]};color:{cell_colours(CM[0][0], peak)[1]}">{CM[0][0]}</td>'
        in html
    )
