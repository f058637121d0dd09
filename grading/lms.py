"""Give a class's grades back to the LMS: fill Moodle's or Canvas's own CSV and nothing else.

A TA downloads a template from the LMS, ``grade`` fills it, the TA uploads it:

- **Moodle** grading worksheet (Assignment → View all submissions → Grading
  action → Download grading worksheet): header ``Identifier, Full name, …,
  Grade, …, Last modified (grade), Feedback comments``; ``Identifier`` holds
  ``Participant 52110``, the number in the "Download all submissions" folder
  names. The ``Grade`` cell is filled, and ``Feedback comments`` when the
  column is there.
- **Canvas** gradebook export (Grades → Export → Export Entire Gradebook):
  header ``Student, ID, SIS User ID, SIS Login ID, Section, <Assignment>
  (<assignment id>), …``, then a ``Points Possible`` row. Rows match on ``ID``,
  the user id in the submission file names; the one assignment column is
  filled (``column`` picks one when there are several).

Which LMS a template comes from is read from its header. Only the grade cell
(and Moodle's feedback cell) of a matched student is rewritten; every other
byte — the header, the row order, the other cells and their quoting, the
``Points Possible`` row, the encoding, a byte-order mark, the line ends — is
copied as it was. A student in the template without a grade keeps their cell;
a grade whose student has no row is listed in :attr:`LmsImport.unmatched`.

The interface, for other tools as well as :func:`grading.grade_class`:

- :func:`read_lms_template` checks a template early (before a long class run).
- :func:`fill_lms_template` ``(template, grades, *, column=None) -> LmsImport``:
  ``grades`` maps the LMS identity (Moodle participant number or Canvas user id,
  as a string) to an :class:`LmsGrade` ``(grade, feedback)``.
- :func:`write_lms_import` ``(out_dir, template, grades, column=None)`` writes
  ``out_dir/lms-import.csv`` in the template's own encoding.
- Both take ``match="student"`` when ``grades`` is keyed by the student's own id
  (a roster id such as ``b11901001``, as ``grade --variants`` has) instead of the
  LMS identity: a row is then found, case-insensitively and trimmed, by Moodle's
  ``ID number`` (when the worksheet has it) or ``Email address`` (the whole
  address or the part before ``@``), by Canvas's ``SIS User ID``, ``SIS Login ID``
  or ``ID``.
- :func:`write_moodle_worksheet` writes, without a template, the smallest file
  Moodle's "Upload grading worksheet" accepts.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "w.csv").write_text('Identifier,"Full name",Grade,"Last modified (grade)"\\r\\n'
...                                   '"Participant 7","Ada L",,-\\r\\n', encoding="utf-8")
>>> filled = fill_lms_template(folder / "w.csv", {"7": LmsGrade(85.0, "")})
>>> filled.kind, filled.filled, filled.text.splitlines()[1]
('moodle', 1, '"Participant 7","Ada L",85.00,-')
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grading.errors import UsageError

__all__ = [
    "LMS_IMPORT_FILENAME",
    "MATCH",
    "MOODLE_WORKSHEET_FILENAME",
    "LmsGrade",
    "LmsImport",
    "LmsTemplate",
    "fill_lms_template",
    "moodle_date",
    "read_lms_template",
    "write_lms_import",
    "write_moodle_worksheet",
]

LMS_IMPORT_FILENAME = "lms-import.csv"
MOODLE_WORKSHEET_FILENAME = "moodle-grading-worksheet.csv"
_MOODLE_NEEDS = ("Identifier", "Grade", "Last modified (grade)")
_CANVAS_NEEDS = ("Student", "ID")
_CANVAS_ASSIGNMENT = re.compile(r"^(?P<name>.*\S)\s*\((?P<id>\d+)\)\s*$")
_PARTICIPANT = re.compile(r"^\s*\D*?\s(?P<id>[0-9]+)\s*$")  # "Participant 52110", "Teilnehmer/in 52110"
_NON_STUDENT_ROWS = ("points possible", "manual posting")
_MAX_FEEDBACK = 600
MATCH = ("lms-id", "student")
"""How :func:`fill_lms_template` finds a grade's row: by the LMS identity, or by the student's own id."""
_STUDENT_COLUMNS = {"moodle": ("id number", "email address"), "canvas": ("sis user id", "sis login id", "id")}


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
        encoding: the template's encoding (``"utf-8-sig"`` when it had a BOM).
        warnings: remarks for the TA (a grade above the row's maximum, ...).
    """

    text: str
    kind: str
    column: str
    unmatched: list[str] = field(default_factory=list)
    filled: int = 0
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """The file's bytes in the template's encoding; the template's own bytes come back unchanged."""
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


@dataclass
class _Record:
    spans: list[tuple[int, int]]  # raw field spans (quotes included) in the text
    values: list[str]


@dataclass
class LmsTemplate:
    """A parsed template: the text, its records with raw field spans, and what the header says."""

    path: Path
    text: str
    encoding: str
    delimiter: str
    records: list[_Record]
    kind: str
    header: list[str]
    id_col: int
    grade_col: int
    feedback_col: int | None
    max_col: int | None
    column: str

    @property
    def points_possible(self) -> float | None:
        """Canvas: the ``Points Possible`` of the grade column, if the row is there."""
        for rec in self.records[1:]:
            if rec.values and rec.values[0].strip().lower() == "points possible" and self.grade_col < len(rec.values):
                return _number(rec.values[self.grade_col])
        return None


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _decode(data: bytes, where: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="surrogateescape"), "cp1252"


def _scan(text: str, delimiter: str, where: str) -> list[_Record]:
    """Split CSV text into records, keeping each field's raw span so it can be rewritten in place."""
    records: list[_Record] = []
    i, n = 0, len(text)
    while i < n:
        spans: list[tuple[int, int]] = []
        values: list[str] = []
        while True:
            start = i
            if i < n and text[i] == '"':
                j = i + 1
                while True:
                    q = text.find('"', j)
                    if q < 0:
                        line = text.count("\n", 0, start) + 1
                        raise UsageError(
                            f'{where}, line {line}: a quote (") is opened and never closed; '
                            "download the file from the LMS again."
                        )
                    if text.startswith('"', q + 1):
                        j = q + 2
                        continue
                    break
                i = q + 1
                value = text[start + 1 : q].replace('""', '"')
                while i < n and text[i] not in (delimiter, "\r", "\n"):  # "a"b: keep what follows
                    value += text[i]
                    i += 1
            else:
                while i < n and text[i] not in (delimiter, "\r", "\n"):
                    i += 1
                value = text[start:i]
            spans.append((start, i))
            values.append(value)
            if i < n and text[i] == delimiter:
                i += 1
                continue
            break
        if text.startswith("\r\n", i):
            i += 2
        elif i < n:
            i += 1
        records.append(_Record(spans, values))
    return records


def _sniff(first_line: str) -> str:
    counts = {d: len(next(csv.reader([first_line], delimiter=d))) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _pick_canvas_column(header: list[str], column: str | None, where: str) -> int:
    assignments = [j for j, h in enumerate(header) if _CANVAS_ASSIGNMENT.match(h)]
    if not assignments:
        raise UsageError(
            f"{where}: a Canvas gradebook with no assignment column (a header such as "
            "'HW2 (88231)'); create the assignment in Canvas and export the gradebook again."
        )
    shown = ", ".join(repr(header[j]) for j in assignments)
    if column is None:
        if len(assignments) > 1:
            raise UsageError(
                f"{where}: the gradebook has {len(assignments)} assignment columns ({shown}); "
                "choose one with --lms-column NAME (or [lms] column in assignment.toml)."
            )
        return assignments[0]
    wanted = column.strip()
    for j in assignments:
        m = _CANVAS_ASSIGNMENT.match(header[j])
        assert m is not None
        if wanted in (header[j].strip(), m.group("name"), m.group("id")):
            return j
    lowered = [j for j in assignments if header[j].strip().lower().startswith(wanted.lower())]
    if len(lowered) == 1:
        return lowered[0]
    raise UsageError(
        f"{where}: no assignment column {column!r}; the gradebook has {shown}. "
        "Give the header, the assignment name or its number."
    )


def read_lms_template(template: str | Path, *, column: str | None = None) -> LmsTemplate:
    """Read and check a Moodle grading worksheet or a Canvas gradebook export.

    Args:
        template: the CSV downloaded from the LMS.
        column: Canvas: the assignment column (header, name or number) when there are
            several; Moodle: the grade column's header (default ``Grade``).

    Returns:
        the :class:`LmsTemplate`.

    Raises:
        UsageError: the file is missing, unreadable, or neither LMS's format; the message says which columns are missing.
    """
    path = Path(template)
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"the LMS template {where!r} does not exist; download it from Moodle "
            "(Download grading worksheet) or Canvas (Grades → Export)."
        ) from None
    except OSError as exc:
        raise UsageError(f"the LMS template {where!r} cannot be read ({exc.strerror}).") from None
    try:
        text, encoding = _decode(data, where)
    except UnicodeDecodeError:
        raise UsageError(f"{where}: starts with a UTF-8 mark but is not UTF-8; download it again.") from None
    if not text.strip():
        raise UsageError(f"{where}: the LMS template is empty; download it from the LMS again.")
    first_line = text.splitlines()[0]
    delimiter = _sniff(first_line)
    records = _scan(text, delimiter, where)
    header = [h.strip() for h in records[0].values]
    lowered = [h.lower() for h in header]
    if all(n.lower() in lowered for n in _MOODLE_NEEDS):
        kind = "moodle"
        grade_name = column or "Grade"
        if grade_name.lower() not in lowered:
            raise UsageError(
                f"{where}: no column {grade_name!r} in the Moodle worksheet; its header is "
                f"{', '.join(map(repr, header))}."
            )
        grade_col = lowered.index(grade_name.lower())
        id_col = lowered.index("identifier")
        feedback_col = lowered.index("feedback comments") if "feedback comments" in lowered else None
        max_col = lowered.index("maximum grade") if "maximum grade" in lowered else None
    elif all(n.lower() in lowered for n in _CANVAS_NEEDS):
        kind = "canvas"
        id_col = lowered.index("id")
        grade_col = _pick_canvas_column(header, column, where)
        feedback_col = max_col = None
    else:
        missing = [n for n in _MOODLE_NEEDS if n.lower() not in lowered]
        raise UsageError(
            f"{where}: neither a Moodle grading worksheet (missing {', '.join(map(repr, missing))}) nor a "
            f"Canvas gradebook export (needs 'Student' and 'ID'); the header is {', '.join(map(repr, header[:8]))}. "
            "Download the template from the LMS without editing its first row."
        )
    return LmsTemplate(
        path,
        text,
        encoding,
        delimiter,
        records,
        kind,
        header,
        id_col,
        grade_col,
        feedback_col,
        max_col,
        header[grade_col],
    )


def _quote(value: str, delimiter: str) -> str:
    if any(c in value for c in (delimiter, '"', "\r", "\n", " ")) or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def _plain(text: str) -> str:
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


def _format_grade(grade: float) -> str:
    return f"{grade:.2f}"


def _row_key(tpl: LmsTemplate, rec: _Record) -> str | None:
    if tpl.id_col >= len(rec.values):
        return None
    cell = rec.values[tpl.id_col].strip()
    if tpl.kind == "moodle":
        m = _PARTICIPANT.match(cell)
        return m.group("id") if m else None
    if not cell or (rec.values and rec.values[0].strip().lower() in _NON_STUDENT_ROWS):
        return None
    return cell


def _student_finder(tpl: LmsTemplate, grades: Mapping[str, LmsGrade]) -> Callable[[_Record], str | None]:
    """``match="student"``: a row -> the key of ``grades`` that one of its identity cells names (or None)."""
    lowered = [h.lower() for h in tpl.header]
    columns = [(lowered.index(c), c) for c in _STUDENT_COLUMNS[tpl.kind] if c in lowered]
    if not columns:  # Moodle without an ID number or Email address column
        raise UsageError(
            f"{tpl.path}: no column names the students themselves (a Moodle worksheet needs "
            "'ID number' or 'Email address'); in Moodle, show the email among the identity fields "
            "and download the grading worksheet again."
        )
    wanted: dict[str, str] = {}
    for key in grades:
        wanted.setdefault(key.strip().casefold(), key)

    def find(rec: _Record) -> str | None:
        if rec.values and rec.values[0].strip().lower() in _NON_STUDENT_ROWS:
            return None
        for j, name in columns:
            cell = rec.values[j].strip().casefold() if j < len(rec.values) else ""
            if not cell or cell == "-":
                continue
            names = [cell, cell.split("@", 1)[0]] if name == "email address" and "@" in cell else [cell]
            for n in names:
                if n in wanted:
                    return wanted[n]
        return None

    return find


def _lms_id_finder(tpl: LmsTemplate, grades: Mapping[str, LmsGrade]) -> Callable[[_Record], str | None]:
    """``match="lms-id"``: a row -> the key of ``grades`` naming its Moodle participant number or Canvas user id."""
    wanted: dict[str, str] = {}
    for key in grades:
        norm = key.strip()
        wanted[norm] = key
        if norm.isascii() and norm.isdigit():
            wanted.setdefault(str(int(norm)), key)

    def find(rec: _Record) -> str | None:
        row_key = _row_key(tpl, rec)
        if row_key is None:
            return None
        key = wanted.get(row_key)
        if key is None and row_key.isascii() and row_key.isdigit():
            key = wanted.get(str(int(row_key)))
        return key

    return find


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
        column: see :func:`read_lms_template`.
        match: ``"lms-id"`` (the default): ``grades`` is keyed by the LMS identity, as above;
            ``"student"``: by the student's own id, found (case-insensitively, trimmed) in Moodle's
            ``ID number`` or ``Email address`` (whole or before ``@``), Canvas's ``SIS User ID``,
            ``SIS Login ID`` or ``ID``.

    Returns:
        the :class:`LmsImport`: the text to write, what was filled, and the grades without a row.

    Raises:
        UsageError: the template cannot be used (see :func:`read_lms_template`), ``match`` is
            unknown, or (``"student"``) no column of the template names the students.
    """
    if match not in MATCH:
        raise UsageError(f"match={match!r}: expected one of {', '.join(map(repr, MATCH))}.")
    tpl = template if isinstance(template, LmsTemplate) else read_lms_template(template, column=column)
    find = (_student_finder if match == "student" else _lms_id_finder)(tpl, grades)
    edits: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    filled = 0
    warnings: list[str] = []
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
            maximum = _number(rec.values[tpl.max_col])
        if maximum is not None and g.grade > maximum + 1e-9:
            warnings.append(
                f"{tpl.header[tpl.id_col]} {rec.values[tpl.id_col].strip()!r}: grade "
                f"{g.grade:g} is above the maximum {maximum:g} of {tpl.column!r}."
            )
        start, end = rec.spans[tpl.grade_col]
        edits.append((start, end, _quote(_format_grade(g.grade), tpl.delimiter)))
        filled += 1
        if tpl.feedback_col is not None and tpl.feedback_col < len(rec.spans) and g.feedback:
            start, end = rec.spans[tpl.feedback_col]
            edits.append((start, end, _quote(_fit(_plain(g.feedback), tpl.encoding), tpl.delimiter)))
    parts: list[str] = []
    pos = 0
    for start, end, new in sorted(edits):
        parts += [tpl.text[pos:start], new]
        pos = end
    parts.append(tpl.text[pos:])
    unmatched = sorted((k for k in grades if k not in seen), key=lambda s: (len(s), s))
    return LmsImport("".join(parts), tpl.kind, tpl.column, unmatched, filled, tpl.encoding, warnings)


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


def moodle_date(when: float | None = None) -> str:
    """A time as Moodle writes it in a worksheet: ``Wednesday, 20 March 2024, 10:41 PM`` (local time)."""
    t = time.localtime(time.time() if when is None else when)
    hour = t.tm_hour % 12 or 12
    return (
        f"{time.strftime('%A', t)}, {t.tm_mday} {time.strftime('%B %Y', t)}, "
        f"{hour}:{t.tm_min:02d} {'AM' if t.tm_hour < 12 else 'PM'}"
    )


def write_moodle_worksheet(
    out_dir: str | Path,
    students: Sequence[tuple[str, str]],
    grades: Mapping[str, LmsGrade],
    *,
    maximum: float = 100.0,
    when: float | None = None,
) -> Path:
    """Write ``out_dir/moodle-grading-worksheet.csv`` without a template.

    Columns ``Identifier, Full name, Grade, Maximum Grade, Last modified (grade), Feedback
    comments``: the smallest file Moodle's "Upload grading worksheet" accepts. ``Last
    modified (grade)`` is the time of this run, so Moodle takes the grades unless one was
    changed in Moodle afterwards.

    Args:
        out_dir: the output folder.
        students: ``(participant number, full name)`` of each student, in order.
        grades: participant number -> :class:`LmsGrade`; a student without one gets an empty grade.
        maximum: the assignment's maximum grade.
        when: the time to write (default: now).

    Returns:
        the path written.
    """
    from grading.gradebook import write_atomic
    from grading.safety import defuse_cell, strip_control

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments"])
    stamp = moodle_date(when)
    for pid, name in students:
        g = grades.get(pid)
        grade = "" if g is None or g.grade is None else _format_grade(g.grade)
        writer.writerow(
            [
                f"Participant {pid}",
                defuse_cell(" ".join(strip_control(name).split())),
                grade,
                f"{maximum:.2f}",
                stamp if grade else "-",
                _plain(g.feedback) if g else "",
            ]
        )
    path = Path(out_dir) / MOODLE_WORKSHEET_FILENAME
    write_atomic(path, buf.getvalue())
    return path
