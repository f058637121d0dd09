"""Fill the grade cells (and Moodle's feedback comments) of a template; every other byte is copied."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grading.errors import UsageError
from grading.lms._csv import Record, quote
from grading.lms.template import NON_STUDENT_ROWS, LmsTemplate, number, read_lms_template

__all__ = [
    "LMS_IMPORT_FILENAME",
    "MATCH",
    "LmsGrade",
    "LmsImport",
    "fill_lms_template",
    "format_grade",
    "plain",
    "write_lms_import",
]

LMS_IMPORT_FILENAME = "lms-import.csv"
MATCH = ("lms-id", "student")
"""How :func:`fill_lms_template` finds a grade's row: by the LMS identity, or by the student's own id."""
_PARTICIPANT = re.compile(r"^\s*\D*?\s*(?P<id>[0-9]+)\s*$")  # "Participant 52110", "參與者52110", "Teilnehmer/in 52110"
_MAX_FEEDBACK = 600
_SHOWN = 3


@dataclass(frozen=True)
class LmsGrade:
    """One student's grade for the LMS.

    Attributes:
        grade: the points to enter, or None to leave the student's cell as it is.
        feedback: a short plain-text comment (Moodle's ``Feedback comments``; Canvas ignores it).
    """

    grade: float | None
    feedback: str = ""


@dataclass
class LmsImport:
    """A filled template.

    Attributes:
        text: the CSV to write (without a byte-order mark; :attr:`encoding` adds it).
        kind: ``"moodle"`` or ``"canvas"``.
        column: the header of the grade column that was filled.
        unmatched: keys of ``grades`` that have no row in the template, sorted.
        filled: how many grade cells were written.
        encoding: the file's encoding: the template's (``"utf-8-sig"`` when it had a BOM), but
            UTF-8 for a Canvas gradebook that came in another (Canvas imports UTF-8 only).
        warnings: remarks for the TA, one line per kind (grades above the maximum, an encoding, ...).
    """

    text: str
    kind: str
    column: str
    unmatched: list[str] = field(default_factory=list)
    filled: int = 0
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """The file's bytes in :attr:`encoding`; the template's own bytes come back unchanged."""
        return self.text.encode(self.encoding, errors="surrogateescape")

    def to_dict(self) -> dict[str, object]:
        """The ``lms`` entry of ``results.json`` (without the text)."""
        return {
            "kind": self.kind,
            "column": self.column,
            "filled": self.filled,
            "unmatched": list(self.unmatched),
            "warnings": list(self.warnings),
        }


def plain(text: str) -> str:
    """One line of plain text: control characters and escape codes gone, HTML specials written as
    entities (Moodle shows feedback comments as HTML), never a formula."""
    from grading.safety import defuse_cell, strip_control

    text = " ".join(strip_control(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(text) > _MAX_FEEDBACK:
        text = text[: _MAX_FEEDBACK - 1] + "…"
    return defuse_cell(text)  # after the join no tab or CR can lead, so the same four signs as before


def _fit(value: str, encoding: str) -> str:
    """``value`` with the characters the template's encoding cannot hold replaced by ``?``."""
    return value.encode(encoding, errors="replace").decode(encoding)


def format_grade(grade: float) -> str:
    """A grade as the LMS file holds it: two decimals."""
    return f"{grade:.2f}"


def _row_key(tpl: LmsTemplate, rec: Record) -> str | None:
    if tpl.id_col >= len(rec.values):
        return None
    cell = rec.values[tpl.id_col].strip()
    if tpl.kind == "moodle":
        m = _PARTICIPANT.match(cell)
        return m.group("id") if m else None
    if not cell or (rec.values and rec.values[0].strip().lower() in NON_STUDENT_ROWS):
        return None
    return cell


def _student_finder(tpl: LmsTemplate, grades: Mapping[str, LmsGrade]) -> Callable[[Record], str | None]:
    """``match="student"``: a row -> the key of ``grades`` that one of its identity cells names (or None)."""
    if not tpl.student_columns:  # Moodle without an ID number or Email address column
        raise UsageError(
            f"{tpl.path}: no column names the students themselves (a Moodle worksheet needs "
            "'ID number' or 'Email address'); in Moodle, show the email among the identity fields "
            "and download the grading worksheet again."
        )
    wanted: dict[str, str] = {}
    for key in grades:
        wanted.setdefault(key.strip().casefold(), key)

    def find(rec: Record) -> str | None:
        if rec.values and rec.values[0].strip().lower() in NON_STUDENT_ROWS:
            return None
        for j, role in tpl.student_columns:
            cell = rec.values[j].strip().casefold() if j < len(rec.values) else ""
            if not cell or cell == "-":
                continue
            names = [cell, cell.split("@", 1)[0]] if role == "email" and "@" in cell else [cell]
            for n in names:
                if n in wanted:
                    return wanted[n]
        return None

    return find


def _lms_id_finder(tpl: LmsTemplate, grades: Mapping[str, LmsGrade]) -> Callable[[Record], str | None]:
    """``match="lms-id"``: a row -> the key of ``grades`` naming its Moodle participant number or Canvas user id."""
    wanted: dict[str, str] = {}
    for key in grades:
        norm = key.strip()
        wanted[norm] = key
        if norm.isascii() and norm.isdigit():
            wanted.setdefault(str(int(norm)), key)

    def find(rec: Record) -> str | None:
        row_key = _row_key(tpl, rec)
        if row_key is None:
            return None
        key = wanted.get(row_key)
        if key is None and row_key.isascii() and row_key.isdigit():
            key = wanted.get(str(int(row_key)))
        return key

    return find


def _above_maximum(tpl: LmsTemplate, over: list[tuple[str, float, float]]) -> list[str]:
    """One warning for every grade above its row's maximum, with the count and the fix."""
    if not over:
        return []
    maximum = over[0][2]
    shown = ", ".join(f"{who}: {grade:g}" for who, grade, _ in over[:_SHOWN]) + (", …" if len(over) > _SHOWN else "")
    n = len(over)
    return [
        f"{n} grade{'s are' if n > 1 else ' is'} above the maximum {maximum:g} of {tpl.column!r} ({shown}): "
        "Moodle skips such a row and Canvas stores more points than the assignment has. Raise the maximum "
        f"in the LMS, or add `[lms] scale_to = {maximum:g}` to assignment.toml to rescale the grades."
    ]


def fill_lms_template(
    template: str | Path | LmsTemplate,
    grades: Mapping[str, LmsGrade],
    *,
    column: str | None = None,
    match: str = "lms-id",
) -> LmsImport:
    """Fill the grade cells (and Moodle's feedback comments) of a template.

    Args:
        template: the file downloaded from the LMS, or a :class:`LmsTemplate` already read.
        grades: LMS identity (Moodle participant number, Canvas user id; strings) -> :class:`LmsGrade`.
            Keys may carry leading zeros or spaces; they are matched as written, then as integers.
        column: see :func:`grading.lms.read_lms_template`.
        match: ``"lms-id"`` (the default): ``grades`` is keyed by the LMS identity, as above;
            ``"student"``: by the student's own id, found (case-insensitively, trimmed) in Moodle's
            ``ID number`` or ``Email address`` (whole or before ``@``), Canvas's ``SIS User ID``,
            ``SIS Login ID`` or ``ID``.

    Returns:
        the :class:`LmsImport`: the text to write, what was filled, and the grades without a row.

    Raises:
        UsageError: the template cannot be used (see :func:`grading.lms.read_lms_template`), ``match`` is
            unknown, or (``"student"``) no column of the template names the students.
    """
    if match not in MATCH:
        raise UsageError(f"match={match!r}: expected one of {', '.join(map(repr, MATCH))}.")
    tpl = template if isinstance(template, LmsTemplate) else read_lms_template(template, column=column)
    find = (_student_finder if match == "student" else _lms_id_finder)(tpl, grades)
    encoding = tpl.encoding if tpl.kind == "moodle" or tpl.encoding in ("utf-8", "utf-8-sig") else "utf-8"
    edits: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    filled = 0
    over: list[tuple[str, float, float]] = []
    maximum_canvas = tpl.points_possible if tpl.kind == "canvas" else None
    for rec in tpl.records[1:]:
        key = find(rec)
        if key is None or key in seen:
            continue
        seen.add(key)
        g = grades[key]
        if g.grade is None or tpl.grade_col >= len(rec.spans):
            continue
        maximum = maximum_canvas
        if tpl.max_col is not None and tpl.max_col < len(rec.values):
            maximum = number(rec.values[tpl.max_col])
        if maximum is not None and g.grade > maximum + 1e-9:
            over.append((rec.values[tpl.id_col].strip(), g.grade, maximum))
        start, end = rec.spans[tpl.grade_col]
        edits.append((start, end, quote(format_grade(g.grade), tpl.delimiter)))
        filled += 1
        if tpl.feedback_col is not None and tpl.feedback_col < len(rec.spans) and g.feedback:
            start, end = rec.spans[tpl.feedback_col]
            edits.append((start, end, quote(_fit(plain(g.feedback), encoding), tpl.delimiter)))
    parts: list[str] = []
    pos = 0
    for start, end, new in sorted(edits):
        parts += [tpl.text[pos:start], new]
        pos = end
    parts.append(tpl.text[pos:])
    unmatched = sorted((k for k in grades if k not in seen), key=lambda s: (len(s), s))
    warnings = [*tpl.notes, *_above_maximum(tpl, over)]
    return LmsImport("".join(parts), tpl.kind, tpl.column, unmatched, filled, encoding, warnings)


def write_lms_import(
    out_dir: str | Path,
    template: str | Path | LmsTemplate,
    grades: Mapping[str, LmsGrade],
    column: str | None = None,
    *,
    match: str = "lms-id",
) -> LmsImport:
    """Fill the template (:func:`fill_lms_template`, ``match`` as there) and write ``out_dir/lms-import.csv``.

    Returns:
        the :class:`LmsImport`, as written.
    """
    from grading.gradebook import write_atomic

    filled = fill_lms_template(template, grades, column=column, match=match)
    write_atomic(Path(out_dir) / LMS_IMPORT_FILENAME, filled.to_bytes())
    return filled
