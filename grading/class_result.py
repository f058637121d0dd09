"""What a class run returns: :class:`ClassResult`, and the ``Progress`` callback's type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Progress = Callable[[int, int, str], None]
"""``progress(done, total, what)``: ``total`` counts each student once for grading and, with
feedback, once more for their feedback page; called before each step and once at the end."""


@dataclass
class ClassResult:
    """What :func:`grade_class` did.

    Attributes:
        title: the assignment title.
        students: one dict per student, as written to ``results.json``.
        baseline: the baseline's dict in the same form, or None.
        files: name -> path of every file written into ``out_dir``.
        bugs: students whose file made gradkit itself fail (please report these).
        refused: zip entries refused that belong to no student, and hidden folders
            skipped (``{"entry", "reason"}``).
        lms: what went back to the LMS (``kind``, ``column``, ``filled``, ``unmatched``,
            ``warnings``, ``file``), or None.
        key_warnings: what was read around in the answer key (a stray quote, a legacy encoding),
            one line per kind naming the row (:func:`grading.key.key_warning_lines`); for the TA only.
        withheld: a CSV + notebook class: students whose LMS grade waits for the TA (a manual
            item of theirs undecided; ``allow_partial`` writes it anyway).
        override_warnings: a CSV + notebook class: what applying ``--overrides`` warned about, one
            line each (decisions a later file replaced); for the TA only, not in ``results.json``.
    """

    title: str
    students: list[dict[str, Any]]
    baseline: dict[str, Any] | None = None
    files: dict[str, Path] = field(default_factory=dict)
    bugs: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    lms: dict[str, Any] | None = None
    key_warnings: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    override_warnings: list[str] = field(default_factory=list)

    @property
    def n_ok(self) -> int:
        """Students whose file was scored."""
        return sum(s["status"] == "ok" for s in self.students)

    @property
    def n_invalid(self) -> int:
        """Students without a scorable file."""
        return len(self.students) - self.n_ok

    def to_dict(self) -> dict[str, Any]:
        """The ``results.json`` document."""
        return {
            "title": self.title,
            "n_students": len(self.students),
            "n_ok": self.n_ok,
            "n_invalid": self.n_invalid,
            "baseline": self.baseline,
            "refused": self.refused,
            "lms": self.lms,
            "key_warnings": self.key_warnings,
            "students": self.students,
        }
