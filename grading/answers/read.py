"""Read the students' answers: a responses CSV, or Moodle's quiz "Responses" download.

- **CSV**: a ``student`` column and one column per question, named as in ``answers.json``
  (``student,w11,a00``); any other column (``name``, ``email``...) is left alone.
- **Moodle quiz responses**: the columns ``Response 1`` … ``Response N`` in the order of
  the questions; the student is found by ``ID number``, else by ``Email address`` (the
  whole address, or the part before ``@``).

Bytes are read as prediction files are (:func:`grading.reader.read_rows`: encodings,
separators, BOM, quoted decimal commas). :func:`read_number` reads one cell as
students write numbers (``−0,062``, ``≈ -0.062``, ``1.2e-3``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grading.errors import InvalidSubmission
from grading.reader import read_rows

__all__ = ["ATTEMPTS", "Responses", "normalize_digits", "read_number", "read_responses"]

_ID_COLUMNS = ("student", "student id", "student_id", "studentid", "id")
_MOODLE_RESPONSE = re.compile(r"response\s*(\d+)", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+")
_MINUS = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-", "\u00a0": "", "\u2009": "", "\u202f": "", " ": ""})
_BLANK = ("", "-", "—", "–")
ATTEMPTS = ("last", "highest")
"""Which of a student's ``Finished`` Moodle quiz attempts is graded: the last one, or the highest grade."""


def normalize_digits(text: str) -> str:
    """Fullwidth forms to ASCII (NFKC: ``１２３．５`` → ``123.5``) and every decimal digit to 0-9 (``١٢٣`` → ``123``).

    Only these: NFKC of the whole text would also turn ``x²`` into ``x2``.

    >>> normalize_digits("１２３．５"), normalize_digits("٣٫٥")
    ('123.5', '3.5')
    """
    out = []
    for ch in text:
        if "\uff01" <= ch <= "\uff5e" or ch == "\u3000":
            ch = unicodedata.normalize("NFKC", ch)
        elif ch == "\u066b":  # the Arabic decimal separator
            ch = "."
        elif ch > "\x7f" and unicodedata.decimal(ch, None) is not None:
            ch = str(unicodedata.decimal(ch))
        out.append(ch)
    return "".join(out)


def read_number(text: str, *, integer: bool = False) -> float | None:
    """A number as students write it, or ``None`` when the cell is not one number.

    ``integer`` reads ``3,177,418`` as thousands; otherwise one comma is a decimal comma.

    >>> read_number("≈ −0,062"), read_number("1.2e-3"), read_number("3,177,418", integer=True)
    (-0.062, 0.0012, 3177418.0)
    >>> read_number("2*(yhat - y)") is None
    True
    """
    s = normalize_digits(text).strip().translate(_MINUS)
    for prefix in ("≈", "~", "=", "≅", "approx."):
        s = s.removeprefix(prefix)
    if integer and _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    elif s.count(",") == 1 and "." not in s:
        s = s.replace(",", ".")
    return float(s) if _NUMBER.fullmatch(s) else None  # 1e309 → inf: the caller says "too large"


@dataclass
class Responses:
    """Each student's raw answer per question (``None`` when blank), and what was noticed on the way.

    Attributes:
        answers: student id → question name → the cell, or ``None``.
        lines: student id → the line of their row.
        warnings: one sentence each (unknown students, repeated rows, missing columns).
        moodle: True for a Moodle quiz responses download.
    """

    answers: dict[str, dict[str, str | None]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    moodle: bool = False


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().casefold())


def read_responses(
    path: str | Path, students: Sequence[str], questions: Sequence[str], *, attempt: str = "last"
) -> Responses:
    """Read the responses file at ``path`` for these students and questions.

    In a Moodle quiz download only ``Finished`` attempts count (``In progress``, ``Overdue``
    and ``Never submitted`` ones are left out with a warning); of a student's finished
    attempts the last row is graded, or with ``attempt="highest"`` the one with the highest
    ``Grade/…``. An id is matched as written, ignoring case, or with its leading zeros
    dropped (``412345`` for ``0412345``, as Excel shows it).

    Raises:
        InvalidSubmission: the file cannot be read, or has no student column, or no question column.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidSubmission(
            f"{path}: no such responses file; give a CSV with a 'student' column and one column per question."
        ) from None
    except IsADirectoryError:
        raise InvalidSubmission(
            f"{path} is a folder; give the responses CSV (student,{','.join(questions)})."
        ) from None
    except OSError as exc:
        raise InvalidSubmission(f"{path}: cannot read it ({exc}).") from None
    rows = read_rows(data, name=path.name, fast=False)
    header, body = rows.rows[0], rows.rows[1:]
    names = [_norm(h) for h in header]
    moodle = {int(m.group(1)): j for j, h in enumerate(names) if (m := _MOODLE_RESPONSE.fullmatch(h))}
    out = Responses(moodle=bool(moodle))
    out.warnings.extend(issue.message for issue in rows.issues)
    state = names.index("state") if moodle and "state" in names else None
    grade = next((j for j, h in enumerate(names) if moodle and (h == "grade" or h.startswith("grade/"))), None)
    if moodle:
        columns = {q: moodle[k] for k, q in enumerate(questions, start=1) if k in moodle}
        ident = [names.index(c) for c in ("id number", "email address", "email") if c in names]
        if not ident:
            raise InvalidSubmission(
                f"{path.name}, line 1: a Moodle quiz download without an 'ID number' or 'Email address' "
                "column; add one of them to the report's identity fields and download it again."
            )
        extra = sorted(set(moodle) - set(range(1, len(questions) + 1)))
        if extra:
            out.warnings.append(
                f"{path.name}: 'Response {extra[0]}' and later have no question in answers.json; ignored."
            )
    else:
        sid = next((names.index(c) for c in _ID_COLUMNS if c in names), None)
        if sid is None:
            raise InvalidSubmission(
                f"{path.name}, line 1: no 'student' column; the header has "
                f"{', '.join(repr(h) for h in header)}. Name the column of student ids 'student'."
            )
        ident = [sid]
        columns = {}
        for q in questions:
            for j, h in enumerate(header):
                if h.strip() == q or _norm(h) == _norm(q):
                    columns[q] = j
                    break
    if not columns:
        raise InvalidSubmission(
            f"{path.name}, line 1: no column is a question; expected columns named "
            f"{', '.join(repr(q) for q in questions)} (as in answers.json)."
        )
    for q in questions:
        if q not in columns:
            out.warnings.append(f"{path.name}: no column {q!r}; every student's {q} counts as missing.")
    known = {s: s for s in students}
    folded = {s.casefold(): s for s in students}
    known.update({s.lstrip("0"): s for s in students if s.isdigit() and s.lstrip("0") not in known})
    unknown: list[str] = []
    unfinished: Counter[str] = Counter()
    unfinished_lines: list[str] = []
    best: dict[str, float] = {}
    for line, row in zip(rows.lines[1:], body):
        who = _identify(row, ident, known, folded)
        if who is None:
            shown = next((row[j] for j in ident if j < len(row) and row[j]), "")
            if shown and _norm(shown) not in ("overall average", "average"):
                unknown.append(f"{shown!r} (line {line})")
            continue
        if state is not None and _norm(_cell(row, state) or "") != "finished":
            unfinished[_cell(row, state) or "no state"] += 1
            unfinished_lines.append(f"{who!r} (line {line})")
            continue
        score = _grade(row, grade)
        if who in out.answers:
            if not moodle:
                out.warnings.append(
                    f"{path.name}, line {line}: {who!r} again (first on line {out.lines[who]}); the first row is graded."
                )
                continue
            if attempt == "highest" and score <= best[who]:
                out.warnings.append(
                    f"{path.name}, line {line}: {who!r} again (first on line {out.lines[who]}); the attempt with the "
                    f"highest grade (line {out.lines[who]}) is graded."
                )
                continue
            out.warnings.append(
                f"{path.name}, line {line}: {who!r} again (first on line {out.lines[who]}); this later "
                f"{'attempt, with a higher grade,' if attempt == 'highest' else 'row'} is graded."
            )
        out.lines[who] = line
        best[who] = score
        out.answers[who] = {q: _cell(row, j) for q, j in columns.items()}
    if unfinished:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(unfinished.items()))
        out.warnings.append(
            f"{path.name}: {sum(unfinished.values())} attempt(s) not finished ({kinds}) are not graded: "
            f"{', '.join(unfinished_lines[:5])}{' ...' if len(unfinished_lines) > 5 else ''}."
        )
    if unknown:
        out.warnings.append(
            f"{path.name}: {len(unknown)} row(s) name no student of answers.json, not graded: "
            f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}."
        )
    return out


def _cell(row: list[str], j: int) -> str | None:
    text = row[j].strip() if j < len(row) else ""
    return None if text in _BLANK else text


def _grade(row: list[str], j: int | None) -> float:
    """The attempt's grade (``-inf`` when there is none or it is not a number, ``-`` before marking)."""
    number = read_number(_cell(row, j) or "") if j is not None else None
    return -math.inf if number is None or math.isnan(number) else number


def _identify(row: list[str], ident: list[int], known: dict[str, str], folded: dict[str, str]) -> str | None:
    for j in ident:
        cell = row[j].strip() if j < len(row) else ""
        if not cell:
            continue
        for cand in (cell, cell.split("@", 1)[0], cell.lstrip("0") if cell.isdigit() else cell):
            if cand in known:
                return known[cand]
            if cand.casefold() in folded:
                return folded[cand.casefold()]
    return None
