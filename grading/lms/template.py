"""Read and check a template downloaded from the LMS: which LMS, which columns, which grade column."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from grading.encodings import ENCODING_NAMES
from grading.errors import UsageError
from grading.lms._csv import Record, decode, scan, sniff
from grading.lms.headers import find_moodle_columns, moodle_needs

__all__ = ["LmsTemplate", "read_lms_template"]

_CANVAS_NEEDS = ("Student", "ID")
_CANVAS_ASSIGNMENT = re.compile(r"^(?P<name>.*\S)\s*\((?P<id>\d+)\)\s*$")
_READ_ONLY = "(read only)"
NON_STUDENT_ROWS = ("points possible", "manual posting")


@dataclass
class LmsTemplate:
    """A parsed template: the text, its records with raw field spans, and what the header says.

    Attributes:
        language: a Moodle worksheet's language (``"en"``, ``"de"``, ``"zh_tw"`` …; see
            :mod:`grading.lms.headers`); ``""`` for Canvas.
        student_columns: the columns that name the students themselves (Moodle's ID number and
            email address, Canvas's SIS ids and ID), with ``"email"`` for an email column.
        notes: remarks on reading it (an encoding the LMS does not write), for the TA.
    """

    path: Path
    text: str
    encoding: str
    delimiter: str
    records: list[Record]
    kind: str
    header: list[str]
    id_col: int
    grade_col: int
    feedback_col: int | None
    max_col: int | None
    column: str
    language: str = ""
    student_columns: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def points_possible(self) -> float | None:
        """Canvas: the ``Points Possible`` of the grade column, if the row is there."""
        cell = _points_possible_cell(self.records, self.grade_col)
        return None if cell is None else number(cell)


def number(text: str) -> float | None:
    """A cell as a number (a decimal comma allowed), or None."""
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _points_possible_cell(records: list[Record], col: int) -> str | None:
    for rec in records[1:]:
        if rec.values and rec.values[0].strip().lower() == "points possible" and col < len(rec.values):
            return rec.values[col].strip()
    return None


def _pick_canvas_column(header: list[str], records: list[Record], column: str | None, where: str) -> int:
    assignments = [j for j, h in enumerate(header) if _CANVAS_ASSIGNMENT.match(h)]
    if not assignments:
        raise UsageError(
            f"{where}: a Canvas gradebook with no assignment column (a header such as "
            "'HW2 (88231)'); create the assignment in Canvas and export the gradebook again."
        )
    shown = ", ".join(repr(header[j]) for j in assignments)
    if column is None:
        writable = [j for j in assignments if _points_possible_cell(records, j) != _READ_ONLY]
        if len(writable) > 1:
            raise UsageError(
                f"{where}: the gradebook has {len(writable)} assignment columns "
                f"({', '.join(repr(header[j]) for j in writable)}); "
                "choose one with --lms-column NAME (or [lms] column in assignment.toml)."
            )
        return _writable(writable[0] if writable else assignments[0], header, records, where)
    wanted = column.strip()
    exact = []
    for j in assignments:
        m = _CANVAS_ASSIGNMENT.match(header[j])
        assert m is not None
        if wanted in (header[j].strip(), m.group("name"), m.group("id")):
            exact.append(j)
    begins = [j for j in assignments if header[j].strip().lower().startswith(wanted.lower())]
    for found in (exact, begins):
        if len(found) == 1:
            return _writable(found[0], header, records, where)
        if len(found) > 1:
            raise UsageError(
                f"{where}: --lms-column {column!r} matches {len(found)} columns "
                f"({', '.join(repr(header[j]) for j in found)}); give its number (the digits in brackets) "
                "or the whole header."
            )
    raise UsageError(
        f"{where}: no assignment column {column!r}; the gradebook has {shown}. "
        "Give the header, the assignment name or its number."
    )


def _writable(col: int, header: list[str], records: list[Record], where: str) -> int:
    if _points_possible_cell(records, col) == _READ_ONLY:
        raise UsageError(
            f"{where}: the column {header[col]!r} is read only in Canvas (its Points Possible cell says "
            f"'{_READ_ONLY}'): Canvas would import none of its grades. Enter the grades in Canvas's own "
            "gradebook, or export the gradebook again once the assignment can be graded there."
        )
    return col


def _read_bytes(path: Path) -> bytes:
    where = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"the LMS template {where!r} does not exist; download it from Moodle "
            "(Download grading worksheet) or Canvas (Grades → Export)."
        ) from None
    except OSError as exc:
        raise UsageError(f"the LMS template {where!r} cannot be read ({exc.strerror}).") from None


@dataclass
class _Columns:
    id_col: int
    grade_col: int
    feedback_col: int | None = None
    max_col: int | None = None
    student_columns: list[tuple[int, str]] = field(default_factory=list)
    language: str = ""


def _moodle(header: list[str], found: tuple[str, dict[str, int]], column: str | None, where: str) -> _Columns:
    language, cols = found
    if "scale" in cols:
        raise UsageError(
            f"{where}: the worksheet of a scale assignment (its {header[cols['scale']]!r} column): Moodle "
            "takes a scale item's name in the grade column and skips every number, so it would store no "
            "grade. In Moodle set the assignment's Grade type to 'Point', download the worksheet again "
            "and grade again."
        )
    lowered = [h.lower() for h in header]
    if column is not None and column.strip().lower() not in lowered:
        raise UsageError(
            f"{where}: no column {column!r} in the Moodle worksheet; its header is {', '.join(map(repr, header))}."
        )
    return _Columns(
        id_col=cols["recordid"],
        grade_col=lowered.index(column.strip().lower()) if column is not None else cols["grade"],
        feedback_col=cols.get("feedback"),
        max_col=cols.get("maxgrade"),
        student_columns=[(cols[r], r) for r in ("idnumber", "email") if r in cols],
        language=language,
    )


def read_lms_template(template: str | Path, *, column: str | None = None) -> LmsTemplate:
    """Read and check a Moodle grading worksheet or a Canvas gradebook export.

    A Moodle worksheet's header may be in any language of :mod:`grading.lms.headers`; it is
    kept as it came.

    Args:
        template: the CSV downloaded from the LMS.
        column: Canvas: the assignment column (header, name or number) when there are
            several; Moodle: the grade column's header (default: ``Grade`` in the worksheet's language).

    Returns:
        the :class:`LmsTemplate`.

    Raises:
        UsageError: the file is missing, unreadable, or neither LMS's format (the message says which
            columns are missing); a Moodle scale assignment; a Canvas column that is read only;
            ``column`` names no column or several.
    """
    path = Path(template)
    where = str(path)
    data = _read_bytes(path)
    text, encoding = decode(data, where)
    if not text.strip():
        raise UsageError(f"{where}: the LMS template is empty; download it from the LMS again.")
    delimiter = sniff(text.splitlines()[0])
    records = scan(text, delimiter, where)
    header = [h.strip() for h in records[0].values]
    lowered = [h.lower() for h in header]
    found = find_moodle_columns(header)
    if found is not None:
        kind, cols = "moodle", _moodle(header, found, column, where)
    elif all(n.lower() in lowered for n in _CANVAS_NEEDS):
        kind = "canvas"
        cols = _Columns(
            id_col=lowered.index("id"),
            grade_col=_pick_canvas_column(header, records, column, where),
            student_columns=[(lowered.index(c), c) for c in ("sis user id", "sis login id", "id") if c in lowered],
        )
    else:
        missing = [n for n in moodle_needs() if n.lower() not in lowered]
        raise UsageError(
            f"{where}: neither a Moodle grading worksheet (missing {', '.join(map(repr, missing))}) nor a "
            f"Canvas gradebook export (needs 'Student' and 'ID'); the header is {', '.join(map(repr, header[:8]))}. "
            "Download the template from the LMS without editing its first row."
        )
    tpl = LmsTemplate(
        path,
        text,
        encoding,
        delimiter,
        records,
        kind,
        header,
        cols.id_col,
        cols.grade_col,
        cols.feedback_col,
        cols.max_col,
        header[cols.grade_col],
        language=cols.language,
        student_columns=cols.student_columns,
    )
    tpl.notes.extend(_encoding_notes(tpl))
    return tpl


def _encoding_notes(tpl: LmsTemplate) -> list[str]:
    """One line when the template is not UTF-8: the encoding it was read in, and what is written back."""
    if tpl.encoding in ("utf-8", "utf-8-sig"):
        return []
    name = tpl.path.name
    read_as = f" (read as {ENCODING_NAMES[tpl.encoding]})" if tpl.encoding in ENCODING_NAMES else ""
    if tpl.kind == "canvas":
        return [
            f"{name} was saved as {tpl.encoding}{read_as}, not UTF-8 (Excel re-saves a gradebook so); Canvas "
            "imports UTF-8 only, so lms-import.csv is written in UTF-8."
        ]
    return [
        f"{name} is in {tpl.encoding}, not the UTF-8 Moodle downloads{read_as}; lms-import.csv keeps "
        f"{tpl.encoding}: choose that encoding in Moodle's 'Upload grading worksheet' form."
    ]
