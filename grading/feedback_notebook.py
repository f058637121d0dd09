"""The notebook part of a student's feedback page in a CSV + notebook class, and the combined total.

:func:`notebook_feedback` turns the row's ``notebook`` result (the TA's decisions applied) and its
``total`` (:mod:`grading.class_total`) into pre-rendered strings for ``templates/feedback.*.j2``:
per question the verdict (with the named mistake, as the LMS comment says it), the final points,
"set by TA" where the TA decided, the TA's comment; each manual item's points once decided ("not
yet decided" before); the notebook's points and the total, the same numbers as ``gradebook.csv``
and the LMS comment. Never the key's answer, the key's formula or the engine's explanation (which
may quote the key): only what the LMS comment already tells the student.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["notebook_feedback"]

_VERDICT = {"correct": "correct", "wrong": "wrong", "needs-review": "needs review", "not-found": "not found"}


def _num(value: Any) -> str:
    return f"{float(value):g}"


def _points(item: Mapping[str, Any], most: Any) -> tuple[str, bool]:
    """``"3 / 10"`` and whether the TA set it; ``"not yet decided / 10"`` for an undecided manual item."""
    points = item.get("final_points", item.get("points"))
    out_of = f" / {_num(most)}" if most is not None else ""
    if points is None:
        return f"not yet decided{out_of}", False
    return f"{_num(points)}{out_of}", bool(item.get("set_by_ta"))


def notebook_feedback(student: Mapping[str, Any], esc: Callable[[str], str]) -> dict[str, Any] | None:
    """The notebook section and the total of one student's feedback page; None without a notebook part.

    Args:
        student: the student's row as in ``results.json`` (``notebook`` and ``total`` present in a
            CSV + notebook class).
        esc: how a text reaches the page (the HTML template autoescapes; Markdown needs escaping).
    """
    nb, total = student.get("notebook"), student.get("total")
    if not nb or not total:
        return None
    graded = nb.get("status") == "graded"
    rows = []
    for q in nb.get("questions") or []:
        verdict = _VERDICT.get(str(q.get("verdict")), "needs review")
        if q.get("verdict") == "wrong" and q.get("misconception"):
            verdict += f" ({q['misconception']})"
        points, by_ta = _points(q, q.get("max_points"))
        rows.append({"name": esc(q["question"]), "verdict": esc(verdict), "points": points, "by_ta": by_ta})
        rows[-1]["comment"] = esc(q.get("comment") or "")
    for m in nb.get("manual") or []:
        if not graded and m.get("final_points") is None:
            continue  # nothing to judge without a notebook: nothing waits, only the TA's points count
        points, by_ta = _points(m, m.get("max_points"))
        rows.append(
            {
                "name": esc(m["name"]),
                "verdict": "marked by the TA",
                "points": points,
                "by_ta": by_ta,
                "comment": esc(m.get("comment") or ""),
            }
        )
    undecided = [str(u) for u in total.get("undecided") or []]
    return {
        "file": esc(nb.get("notebook") or ""),
        "graded": graded,
        "reason": "" if graded else esc((nb.get("errors") or ["no notebook was found."])[0]),
        "rows": rows,
        "points": _num(total["notebook_points"]),
        "max": _num(total["notebook_max_points"]),
        "csv_points": _num(total["csv_points"]),
        "csv_max": _num(total["csv_max_points"]),
        "final": _num(total["final_points"]),
        "max_total": _num(total["max_points"]),
        "decided": not undecided,
        "undecided": esc(", ".join(undecided)),
    }
