"""Find each student's submission in a class folder or an LMS zip.

Layouts recognised (case-insensitively; hidden files, ``__MACOSX`` and Office
lock files ignored). A student without a ``.csv`` but with one ``.tsv`` or
``.txt`` has it read as CSV (with a note); a spreadsheet (``.xlsx``, ``.xls``,
``.ods``, ``.numbers``) gets the advice to save it as CSV:

- **flat folder** ``b10901001.csv``: the student is the file stem.
- **per-student folders** ``b10901001/HW2_prob1.csv``: the student is the folder
  name; the file named in ``[submission] filename`` is taken, or the only CSV when
  there is one (with a note), searched in sub-folders too.
- **Moodle** "Download all submissions" (folders or, older Moodle, flat files):
  ``Ada Lovelace_12345_assignsubmission_file_/HW2_prob1.csv`` or
  ``Ada Lovelace_12345_assignsubmission_file_HW2_prob1.csv``: name ``Ada Lovelace``,
  student ``12345`` (the participant id). A participant who sent online text
  only (``..._assignsubmission_onlinetext_/``) gets an invalid entry ("no file").
- **Canvas** "Download submissions": ``lovelaceada_12345_67890_HW2_prob1.csv``,
  ``lovelaceada_LATE_12345_67890_HW2_prob1-1.csv``: name ``lovelaceada``,
  student ``12345`` (the Canvas user id), ``late`` set. Canvas joins the sortable
  name (lower case, only word characters, underscores kept), ``LATE`` and the user
  id with ``_`` (``lib/content_zipper.rb``, ``get_filename``), so ``o_brienpat_12021_…``,
  ``agent_007james_12112_…`` and ``_12042_…`` (a name without letters) occur;
  anonymous grading writes ``anon_<id>`` for both (the student is ``anon_<id>``).
  Online text (``<prefix>_text.html``) and a website URL (``<prefix>_link.html``)
  give an invalid entry ("no file"), as Moodle's online text does.

A folder or a zip may wrap everything in one top folder; it is looked through.
Every student found gets a :class:`Submission`, whether or not a usable file
was found (``problem`` says why not). An entry refused while unpacking never costs
a student a file that was accepted: it becomes a note, and the file chosen is
among the accepted ones. A hidden folder (``.name``) or an Office
lock folder (``~$name``) is not graded but reported in ``skipped``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grading.safety import format_size

__all__ = ["Submission", "collect_files", "owners", "parse_lms_name", "walk_folder"]

_MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_(?P<plugin>assignsubmission_file|onlinetext|assignsubmission_onlinetext)_(?P<rest>.*)$"
)
# Canvas: sanitize_file_name([sortable name, "LATE"?, user id or "anon_<id>"].compact.join("_")), then
# "_<attachment id>_<file name>" (instructure/canvas-lms lib/content_zipper.rb, get_filename and
# add_upload_submission). The name keeps only word characters; it may be empty or hold "_" and digits,
# but never "_<digits>_" (sanitize_user_name removes that), so the first "_<id>_<id>_" is the split.
_CANVAS_ID = r"(?:(?P<name>\w*?)_)??(?P<late>LATE_)?(?P<id>\d+|anon_[A-Za-z0-9]+)"
_CANVAS = re.compile(rf"^{_CANVAS_ID}_(?P<sub>\d+)_(?P<rest>.+)$")
_CANVAS_ONLINE = re.compile(rf"^{_CANVAS_ID}_(?P<kind>text|link)\.html$")
_RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)$")
_TABLES = (".tsv", ".txt")  # read as CSV when a student has no .csv (the reader finds the delimiter)
_SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")


@dataclass
class Submission:
    """One student's entry in a class: who, and which file (if any) to grade."""

    student: str
    name: str = ""
    path: Path | None = None
    source: str = ""
    late: bool = False
    problem: str = ""
    notes: list[str] = field(default_factory=list)
    lms: str = ""
    """``"moodle"`` or ``"canvas"`` when the name followed that LMS's naming, else ``""``."""


@dataclass
class _Found:
    student: str
    name: str
    late: bool
    inner: str  # the file name as the student uploaded it (LMS prefix removed)
    source: str  # path relative to the class folder / zip, for messages
    path: Path | None  # None when the file was refused during extraction
    refused: str = ""
    lms: str = ""


def parse_lms_name(first_part: str, rest_of_path: str) -> tuple[str, str, bool, str] | None:
    """Recognise Moodle and Canvas naming. Returns (student, name, late, inner file name) or None.

    >>> parse_lms_name("Ada Lovelace_12345_assignsubmission_file_", "HW2_prob1.csv")
    ('12345', 'Ada Lovelace', False, 'HW2_prob1.csv')
    >>> parse_lms_name("lovelaceada_LATE_12345_67890_HW2_prob1-1.csv", "")
    ('12345', 'lovelaceada', True, 'HW2_prob1-1.csv')
    """
    m = _MOODLE.match(first_part)
    if m:
        inner = rest_of_path or m.group("rest")
        return m.group("id"), m.group("name"), False, inner
    m = _CANVAS.match(first_part) or _CANVAS_ONLINE.match(first_part)
    if m and not rest_of_path:
        rest = m.group("rest") if "rest" in m.groupdict() else first_part
        return m.group("id"), m.group("name") or "", bool(m.group("late")), rest
    return None


_JUNK = ("Thumbs.db", "desktop.ini", ".DS_Store")


def _ignored(rel: PurePosixPath) -> bool:
    return any(p.startswith((".", "__MACOSX", "~$")) or p in _JUNK for p in rel.parts)


def _hidden_folder(rel: PurePosixPath) -> str | None:
    """The first hidden or ``~$`` folder on the path (not ``__MACOSX``, not a file), or None."""
    for depth, part in enumerate(rel.parts[:-1]):
        if part.startswith("__MACOSX"):
            return None
        if part.startswith((".", "~$")):
            return "/".join(rel.parts[: depth + 1])
    return None


def _is_onlinetext(rel: PurePosixPath) -> bool:
    """Moodle's online text folder, or Canvas's online text or website URL page."""
    m = _MOODLE.match(rel.parts[0])
    if m is not None:
        return "onlinetext" in m.group("plugin")
    return len(rel.parts) == 1 and _CANVAS_ONLINE.match(rel.parts[0]) is not None and not _CANVAS.match(rel.parts[0])


def _strip_wrapper(rels: list[PurePosixPath], expected: str) -> int:
    """How many leading folders all files share (a zip of a folder of a folder…).

    A lone folder holding the expected file is one student's folder, not a wrapper.
    """
    depth = 0
    while rels and all(len(r.parts) > depth + 1 for r in rels) and len({r.parts[depth] for r in rels}) == 1:
        first = rels[0].parts[depth]
        if parse_lms_name(first, "x") is not None:
            break
        if any(len(r.parts) == depth + 2 and r.name.lower() == expected.lower() for r in rels):
            break
        depth += 1
    return depth


def _identify(rel: PurePosixPath, path: Path | None, refused: str) -> _Found:
    first = rel.parts[0]
    rest = "/".join(rel.parts[1:])
    lms = parse_lms_name(first, rest)
    kind = ""
    if lms is not None:
        student, name, late, inner = lms
        kind = "moodle" if _MOODLE.match(first) else "canvas"
    elif len(rel.parts) == 1:
        student, name, late, inner = PurePosixPath(first).stem, "", False, first
    else:
        student, name, late, inner = first, "", False, rest
    return _Found(student, name, late, inner, str(rel), path, refused, kind)


def _canonical(file_name: str) -> str:
    """``HW2_prob1-1.csv`` -> ``hw2_prob1.csv`` (Canvas numbers a re-upload)."""
    p = PurePosixPath(file_name)
    m = _RESUBMITTED.match(p.stem)
    stem = m.group("stem") if m else p.stem
    return (stem + p.suffix).lower()


def _resubmission_number(file_name: str) -> int:
    m = _RESUBMITTED.match(PurePosixPath(file_name).stem)
    return int(m.group("n")) if m else 0


def _refusals(found: list[_Found]) -> str:
    """The refused entries in one sentence each, a reason shared by several given once."""
    reasons: dict[str, list[str]] = {}
    for f in found:
        if f.refused:
            reasons.setdefault(f.refused, []).append(f.source)
    return "; ".join(
        f"{sources[0]}: {why}" if len(sources) == 1 else f"{len(sources)} entries ({sources[0]!r}, …): {why}"
        for why, sources in reasons.items()
    )


def _named(files: list[_Found], expected: str) -> list[_Found]:
    return [
        f
        for f in files
        if PurePosixPath(f.inner).name.lower() == expected.lower()
        or _canonical(PurePosixPath(f.inner).name) == expected.lower()
    ]


def _choose(student: str, found: list[_Found], expected: str, max_bytes: int) -> Submission:
    first = found[0]
    sub = Submission(student=student, name=first.name, late=any(f.late for f in found), lms=first.lms)
    if any(f.refused for f in found):
        sub.notes.append(_refusals(found))
    accepted = [f for f in found if not f.refused]
    csvs = [f for f in accepted if PurePosixPath(f.inner).suffix.lower() == ".csv"]
    tables = [f for f in accepted if PurePosixPath(f.inner).suffix.lower() in _TABLES]
    sheets = [f for f in accepted if PurePosixPath(f.inner).suffix.lower() in _SPREADSHEETS]
    if not csvs and len(tables) == 1:
        csvs = tables
        sub.notes.append(f"no CSV file; read {tables[0].source!r} as CSV (please submit {expected!r} next time).")
    named = _named(csvs, expected)
    refused_named = _named([f for f in found if f.refused], expected)
    if not named and refused_named:  # the file asked for was sent but refused: never grade another in its place
        sub.problem = _refusals(refused_named)
        sub.notes = [n for n in sub.notes if n != sub.problem]
        return sub
    if named:
        named.sort(key=lambda f: (_resubmission_number(PurePosixPath(f.inner).name), f.source))
        chosen = named[-1]
        if len(named) > 1:
            sub.notes.append(f"{len(named)} files named {expected!r}; graded the latest, {chosen.source!r}.")
    elif len(csvs) == 1:
        chosen = csvs[0]
        if chosen not in tables and ("/" in chosen.source or chosen.inner != chosen.source):  # not flat
            sub.notes.append(f"no file named {expected!r}; graded the only CSV, {chosen.source!r}.")
    else:
        names = ", ".join(repr(f.source) for f in found[:4]) + (", …" if len(found) > 4 else "")
        if csvs:
            sub.problem = (
                f"{len(csvs)} CSV files and none named {expected!r} ({names}); keep one and name it {expected!r}."
            )
        elif any(f.refused for f in found):
            sub.problem = _refusals(found)
            sub.notes.clear()
        elif sheets:
            kind = PurePosixPath(sheets[0].inner).suffix.lower()
            sub.problem = (
                f"{sheets[0].source!r} is a spreadsheet ({kind}), not a CSV file; open it, "
                f"save the sheet as CSV (Excel: File > Save As > CSV UTF-8) and submit it as {expected!r}."
            )
        else:
            sub.problem = f"no CSV file found (expected {expected!r}; found {names or 'nothing'})."
        return sub  # no file was chosen, so no source: nothing was graded
    sub.source = chosen.source
    if chosen.path is None:  # pragma: no cover - accepted entries always have a path
        sub.problem = f"{chosen.source}: cannot be read."
        return sub
    try:
        size = chosen.path.stat().st_size
    except OSError as exc:
        sub.problem = f"{chosen.source}: cannot be read ({exc.strerror})."
        return sub
    if size > max_bytes:
        sub.problem = (
            f"{chosen.source}: refused: the file is {format_size(size)}, above the "
            f"{format_size(max_bytes)} limit; raise [submission] max_size if it is genuine"
        )
        return sub
    sub.path = chosen.path
    return sub


def collect_files(
    files: Iterable[tuple[str, Path | None, str]],
    *,
    expected: str,
    max_bytes: int,
    skipped: list[dict[str, str]] | None = None,
) -> list[Submission]:
    """Group files by student and choose the one to grade.

    Args:
        files: ``(relative path with /, path on disk or None, refusal reason or "")``
            for every file of the class folder or zip.
        expected: the submission file name (``[submission] filename``).
        max_bytes: files above this size are refused, checked before reading.
        skipped: hidden and ``~$`` folders that were not looked into are appended
            here as ``{"entry", "reason"}``.

    Returns:
        One :class:`Submission` per student, sorted by student.
    """
    items = [(PurePosixPath(rel), path, refused) for rel, path, refused in files]
    hidden = sorted({h for it in items if (h := _hidden_folder(it[0])) is not None})
    if skipped is not None:
        skipped.extend(
            {
                "entry": h + "/",
                "reason": "skipped: a hidden or Office lock folder (its name starts with "
                f"{'~$' if h.rsplit('/', 1)[-1].startswith('~$') else '.'!r}); rename it and grade again if it holds a submission",
            }
            for h in hidden
        )
    items = [it for it in items if not _ignored(it[0])]
    depth = _strip_wrapper([it[0] for it in items], expected)
    groups: dict[str, list[_Found]] = {}
    online: dict[str, _Found] = {}
    for rel, path, refused in items:
        rel = PurePosixPath(*rel.parts[depth:])
        if _is_onlinetext(rel):
            found = _identify(rel, path, refused)
            online.setdefault(found.student, found)
            continue
        found = _identify(rel, path, refused)
        flat = len(rel.parts) == 1 and found.inner == rel.name
        if flat and rel.suffix.lower() not in (".csv", ".tsv", *_SPREADSHEETS):
            continue  # a README.txt or notes beside the CSVs of a flat folder
        groups.setdefault(found.student, []).append(found)
    subs = {sid: _choose(sid, groups[sid], expected, max_bytes) for sid in groups}
    for sid, found in online.items():
        if sid not in subs:
            subs[sid] = Submission(
                student=sid,
                name=found.name,
                late=found.late,
                lms=found.lms,
                problem=f"no file: online text only ({found.source!r}); the assignment needs the file {expected!r}.",
            )
    return [subs[sid] for sid in sorted(subs)]


def owners(names: Sequence[str], *, expected: str) -> dict[str, str]:
    """Zip entry name -> the student :func:`collect_files` gives it to (for the per-student zip-bomb check).

    >>> owners(["HW2/Ada_7_assignsubmission_file_/a.csv", "HW2/lovelaceada_12_901_b.csv"], expected="x.csv")
    {'HW2/Ada_7_assignsubmission_file_/a.csv': '7', 'HW2/lovelaceada_12_901_b.csv': '12'}
    """
    rels = {n: PurePosixPath(n.replace("\\", "/").lstrip("/")) for n in names}
    depth = _strip_wrapper([r for r in rels.values() if r.parts and not _ignored(r)], expected)
    out: dict[str, str] = {}
    for name, rel in rels.items():
        parts = rel.parts[depth:] if len(rel.parts) > depth else rel.parts
        out[name] = _identify(PurePosixPath(*parts), None, "").student if parts else name
    return out


def walk_folder(folder: Path, *, exclude: Path | None = None) -> list[tuple[str, Path | None, str]]:
    """Every regular file under ``folder`` as ``(relative path, path, "")``; symlinks are refused.

    ``exclude`` (the output folder, when it lies inside ``folder``) is never read.
    """
    out: list[tuple[str, Path | None, str]] = []
    skip = exclude.resolve() if exclude is not None else None
    root = folder.resolve()
    for path in sorted(root.rglob("*")):
        if skip is not None and path.is_relative_to(skip):
            continue
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out.append((rel, None, "refused: a symbolic link; copy the file itself into the folder"))
        elif path.is_file():
            out.append((rel, path, ""))
        elif not path.is_dir():
            out.append((rel, None, "refused: not a regular file (a pipe, socket or device)"))
    return out
