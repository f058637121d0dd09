"""The notebook part of a CSV + notebook class: ``[notebook]`` beside ``[key]`` in assignment.toml.

:func:`grading.batch.grade_class` grades the notebooks first (:meth:`NotebookPart.grade`: a
printed parameter count stands in for a missing ``params_file`` row), then the CSVs, then puts
each student's notebook result into their one row (:meth:`NotebookPart.attach`) and applies the
TA's decisions and writes the review pages (:meth:`NotebookPart.finish`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.notebook.classrun import grade_notebooks, notebook_maximum, write_review_pages
from grading.notebook.finalize import OverrideSources
from grading.notebook.grade import invalid_result

__all__ = ["MAX_GAP", "NotebookPart"]

MAX_GAP = 2.0
"""A printed top-1 or top-3 (in percent) further than this from the graded CSV's is flagged."""


@dataclass
class NotebookPart:
    """The notebook part of a CSV + notebook class run (``[notebook]`` beside ``[key]``), for grading.batch.

    Graded before the CSVs: a printed parameter count stands in for a missing ``params_file`` row
    (:meth:`params_from_notebook`); :meth:`attach` puts each student's notebook result into their
    row and flags a printed top-1 or top-3 more than 2 points from the graded CSV's; :meth:`finish`
    applies the TA's decisions and writes the review pages.
    """

    rows: dict[str, dict[str, Any]]
    notebooks: dict[str, Any]
    out: Path
    title: str
    manual: tuple[Mapping[str, Any], ...] = ()
    points: float | None = None
    from_notebook: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """What applying ``--overrides`` warned about, one line each (decisions a later file replaced)."""

    @classmethod
    def grade(cls, source: Path, settings: Any, out: Path, *, title: str) -> NotebookPart:
        rows, notebooks = grade_notebooks(
            source,
            settings.problems,
            out,
            variants=settings.variants,
            pattern=settings.filename,
            points=settings.points,
        )
        return cls({r["student"]: r for r in rows}, notebooks, out, title, settings.manual, settings.points)

    def params_from_notebook(self, sub: Any) -> int | None:
        """The parameter count the student's notebook printed, or None."""
        row = self.rows.get(sub.student)
        claim = next((c for c in row["notebook"]["claims"] if c["what"] == "params"), None) if row else None
        if claim is None:
            return None
        self.from_notebook[sub.student] = claim
        return int(claim["value"])

    def maximum(self) -> float:
        """What the notebook part is out of: ``points`` (else the problem set's), plus the manual items."""
        return notebook_maximum(list(self.rows.values()), self.points, self.manual)

    def attach(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row gets ``notebook`` (a student without one: an invalid result saying so); a student
        with a notebook and no CSV row gets a row of their own."""
        for row in rows:
            student = row["student"]
            mine = self.rows.get(student)
            row["notebook"] = (
                mine["notebook"] if mine else invalid_result(student, "", "no notebook was found for this student.")
            )
            if student in self.from_notebook:
                c = self.from_notebook[student]
                row["notes"].append(f"parameter count {c['value']:,} from the notebook (cell {c['cell']}).")
            report = row.get("report") or {}
            for claim in row["notebook"]["claims"]:
                if claim["what"] not in ("top1", "top3") or not isinstance(report.get(claim["what"]), (int, float)):
                    continue
                graded = 100 * report[claim["what"]]
                if abs(graded - claim["value"]) > MAX_GAP:
                    what = f"top-{claim['what'][-1]}"
                    note = (
                        f"the notebook prints {what} {claim['value']:g}% (cell {claim['cell']}) but the "
                        f"CSV grades {graded:.2f}%; check which model made the CSV."
                    )
                    row["notes"].append(note)
                    row["notebook"]["warnings"].append(note)
        missing = sorted(set(self.rows) - {r["student"] for r in rows})
        for student in missing:  # a notebook but no CSV row at all (a flat folder of notebooks)
            mine = self.rows[student]
            rows.append(
                {
                    "student": student,
                    "name": mine["name"],
                    "source": "",
                    "late": False,
                    "status": "invalid",
                    "reason": "no prediction file was handed in (only a notebook).",
                    "notes": [],
                    "k": rows[0]["k"] if rows else 3,
                    "report": None,
                    "public_top1": None,
                    "private_top1": None,
                    "lms": mine.get("lms", ""),
                    "notebook": mine["notebook"],
                }
            )
        return rows

    def finish(self, rows: list[dict[str, Any]], overrides: OverrideSources) -> Path | None:
        """Apply the TA's ``overrides.csv`` files (None: none yet; several, or a folder: see
        :func:`grading.notebook.finalize.apply_decisions`) to the rows' notebook results and write the
        review pages; their index, when written. What the overrides warn about goes to :attr:`warnings`.

        Raises:
            UsageError: an overrides file is unusable (one line naming the file and the row).
        """
        from grading.notebook.finalize import apply_decisions

        self.warnings = apply_decisions(rows, overrides, self.manual)
        table = [{"student": r["student"], "name": r["name"], "notebook": r["notebook"]} for r in rows]
        if write_review_pages(
            self.out, table, self.notebooks, title=self.title, manual=self.manual, maximum=self.maximum()
        ):
            return self.out / "review" / "index.html"
        return None
