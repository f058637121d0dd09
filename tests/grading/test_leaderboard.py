"""Leaderboard order: top-1, ratio with a floor, ties, the baseline row."""

from __future__ import annotations

import csv
import io

from grading.assignment import Ranking
from grading.leaderboard import build_leaderboard, render_leaderboard_csv, render_leaderboard_html


def student(sid: str, top1: float | None, params: int | None = None, status: str = "ok") -> dict:
    ratio = top1 / params if top1 is not None and params else None
    return {
        "student": sid,
        "name": sid.title(),
        "status": status,
        "report": None if status != "ok" else {"top1": top1, "top3": None, "params": params, "top1_per_param": ratio},
    }


CLASS = [
    student("big", 0.95, 1_000_000),  # ratio 9.5e-7
    student("lean", 0.90, 100_000),  # ratio 9e-6
    student("tiny", 0.20, 100),  # ratio 2e-3: best ratio, useless model
    student("noparams", 0.97),
    student("twin", 0.90, 100_000),  # ties with lean
    student("broken", None, status="invalid"),
]
BASELINE = {
    "student": "Handout CNN",
    "name": "Handout CNN",
    "status": "ok",
    "report": {"top1": 0.85, "top3": None, "params": 1_250_858, "top1_per_param": 0.85 / 1_250_858},
}


def test_rank_by_top1_with_baseline_row_and_ties() -> None:
    board = build_leaderboard(CLASS, Ranking("top1"), baseline=BASELINE)
    assert [(e.rank, e.student) for e in board] == [
        (1, "noparams"),
        (2, "big"),
        (3, "lean"),
        (3, "twin"),
        (None, "Handout CNN"),
        (5, "tiny"),
    ]
    base = board[4]
    assert base.baseline and base.note == "reference baseline"
    assert "broken" not in [e.student for e in board]


def test_rank_by_ratio_needs_the_floor() -> None:
    board = build_leaderboard(CLASS, Ranking("top1_per_param", min_top1=0.8), baseline=BASELINE)
    assert [(e.rank, e.student) for e in board] == [
        (1, "lean"),
        (1, "twin"),
        (3, "big"),
        (None, "Handout CNN"),
        (None, "noparams"),
        (None, "tiny"),
    ]
    notes = {e.student: e.note for e in board}
    assert notes["tiny"] == "top-1 below 0.80"
    assert notes["noparams"] == "no parameter count"


def test_baseline_below_the_floor_is_listed_unranked() -> None:
    board = build_leaderboard(CLASS, Ranking("top1_per_param", min_top1=0.9), baseline=BASELINE)
    base = next(e for e in board if e.baseline)
    assert base.rank is None and base.note == "reference baseline; top-1 below 0.90"


def test_csv_marks_the_baseline_and_has_public_private_columns() -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(
                render_leaderboard_csv(build_leaderboard(CLASS, Ranking("top1"), baseline=BASELINE), split=True)
            )
        )
    )
    assert [r["rank"] for r in rows] == ["1", "2", "3", "3", "baseline", "5"]
    assert "public_top1" in rows[0] and "private_top1" in rows[0]


def test_html_is_autoescaped_and_marks_the_baseline() -> None:
    evil = [student("<script>alert(1)</script>", 0.9, 10)]
    html = render_leaderboard_html(
        build_leaderboard(evil, Ranking(), baseline=BASELINE), title="HW2 <b>", ranking=Ranking(), split=False
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "HW2 &lt;b&gt;: leaderboard" in html
    assert '<tr class="baseline">' in html and '<span class="tag">baseline</span>' in html
    assert "90.00%" in html and "1,250,858" in html
