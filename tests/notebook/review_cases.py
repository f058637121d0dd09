"""What both browser tests of the review page (Chromium, Firefox) put on it: a hostile student id,
one manual item, and a question result as a class run records it."""

from __future__ import annotations

from typing import Any

STUDENT = "=cmd 鄭呈毅"
MANUAL = [{"name": "decision boundary", "points": 10}]


def question(name: str, cell: int, verdict: str, points: float) -> dict[str, Any]:
    """One question of a notebook result, found in ``cell``, out of 2 points."""
    return {
        "question": name,
        "found": True,
        "cell": cell,
        "snippet": "0.25",
        "answer": "0.25",
        "verdict": verdict,
        "misconception": None,
        "expected": 0.3125,
        "points": points,
        "max_points": 2.0,
        "why": None,
        "steps": [],
    }
