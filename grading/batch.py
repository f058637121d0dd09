"""Grade a whole class: one command from a folder or an LMS zip to a gradebook.

:func:`grade_class` finds each student's file (:mod:`grading.collect`), grades it
with :func:`grading.grade_file`, never stopping at a bad file, applies the
rubric, ranks the class, and writes into ``out_dir``:

- ``gradebook.csv``: one row per student (see :mod:`grading.gradebook`);
- ``results.json``: every student's full report, rubric detail and notes;
- ``leaderboard.csv`` and ``leaderboard.html`` (see :mod:`grading.leaderboard`);
- ``feedback/<student>.md``, ``.html`` and ``.png`` (see :mod:`grading.feedback`);
- ``lms-import.csv``: the LMS's own template with the grades filled in, when one
  is given (see :mod:`grading.lms`); else, for a Moodle class,
  ``moodle-grading-worksheet.csv``.

A zip is unpacked safely (:func:`grading.safety.safe_extract`) into a temporary
folder inside ``out_dir`` that is removed afterwards. Files are written
atomically; a ``gradebook.csv`` edited by hand since the last run is kept as
``gradebook.csv.bak`` rather than overwritten.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.assignment import ASSIGNMENT_FILENAME, Assignment, find_assignment, load_assignment, read_params_file
from grading.collect import Submission, collect_files, owners, walk_folder
from grading.errors import GradingError, UsageError
from grading.gradebook import render_gradebook, write_atomic
from grading.leaderboard import (
    anonymise,
    build_leaderboard,
    pseudonyms,
    render_leaderboard_csv,
    render_leaderboard_html,
)
from grading.lms import (
    LmsGrade,
    LmsTemplate,
    read_lms_template,
    worksheet_warnings,
    write_lms_import,
    write_moodle_worksheet,
)
from grading.rubric import score_class
from grading.safety import is_zip, safe_extract, strip_control, unique_slugs

__all__ = ["ClassResult", "Progress", "grade_class", "lms_grade", "render_class_summary", "resolve_assignment"]

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
    """

    title: str
    students: list[dict[str, Any]]
    baseline: dict[str, Any] | None = None
    files: dict[str, Path] = field(default_factory=dict)
    bugs: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    lms: dict[str, Any] | None = None

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
            "students": self.students,
        }


def resolve_assignment(key_or_assignment: Assignment | str | Path | None) -> Assignment:
    """An :class:`Assignment` from itself, an ``assignment.toml`` path, or a key CSV path (defaults).

    ``None`` means the ``assignment.toml`` of the current folder.

    Raises:
        UsageError: nothing usable was named, or the file is missing or invalid.
    """
    if isinstance(key_or_assignment, Assignment):
        return key_or_assignment
    if key_or_assignment is None:
        key_or_assignment = find_assignment(".") or ""
        if not key_or_assignment:
            raise UsageError(
                "no answer key: pass --key key.csv (or --key assignment.toml), "
                "or run grade in the folder that holds assignment.toml."
            )
    path = Path(key_or_assignment)
    if path.is_dir() and (path / ASSIGNMENT_FILENAME).is_file():
        path = path / ASSIGNMENT_FILENAME
    if path.suffix.lower() == ".toml":
        return load_assignment(path)
    if not path.is_file():
        raise UsageError(f"the answer key {str(path)!r} does not exist; check the path given to --key.")
    return Assignment(key_path=path.resolve(), title=path.resolve().parent.name)


def _owner(entry: str) -> str | None:
    """A safe relative path for a refused zip entry, keeping its first folder (the student), or None.

    An absolute path (``/tmp/x.csv``, ``C:/x.csv``) belongs to nobody: its first folder is not a student.
    """
    name = entry.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".", "..")]
    first = name.split("/")[0]
    if not parts or first in ("", ".", "..") or (len(first) == 2 and first[1] == ":"):
        return None
    return "/".join(parts)


def _gather(
    source: Path, scratch: Path, a: Assignment, unattributed: list[dict[str, str]], out: Path | None = None
) -> list[Submission]:
    if source.is_dir():
        files = walk_folder(source, exclude=out)
    elif is_zip(source):
        ex = safe_extract(
            source,
            scratch,
            max_member_bytes=a.max_bytes,
            owners=lambda names: owners(names, expected=a.submission_filename),
        )
        if not ex.files and not ex.refused:
            raise UsageError(
                f"{str(source)!r} is an empty zip (it holds no files); download the submissions from the LMS again."
            )
        files = [(rel, path, "") for rel, path in ex.files]
        for name, why in ex.refused:
            owner = _owner(name)
            if owner is None:
                unattributed.append({"entry": name, "reason": why})
            else:
                files.append((owner, None, why if owner == name else f"{why} (zip entry {name!r})"))
    elif source.is_file():
        raise UsageError(
            f"{str(source)!r} is a single file, not a folder or a zip of submissions; "
            f"grade it with `grade {source} --key KEY`."
        )
    else:
        raise UsageError(f"{str(source)!r} does not exist; give the folder or the zip of submissions.")
    subs = collect_files(files, expected=a.submission_filename, max_bytes=a.max_bytes, skipped=unattributed)
    if not subs:
        raise UsageError(f"{str(source)!r} holds no submissions (no CSV files and no student folders).")
    return subs


def _metrics(report: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if report is None or report.get("status") != "ok":
        return None
    return {m: report.get(m) for m in ("top1", "top3", "top1_per_param")}


def _split(report: Any) -> tuple[float | None, float | None]:
    if getattr(report, "usage", None) is None or not report.ok:
        return None, None
    return report.subset(usage="Public").top1, report.subset(usage="Private").top1


def _per_class(report: Any) -> dict[str, Any]:
    """Precision, recall and class sizes from the report, when the grader provides them."""
    try:
        import numpy as np

        support = np.bincount(np.asarray(report.y_true), minlength=len(report.labels)).tolist()
        return {
            "precision": [float(x) for x in report.precision],
            "recall": [float(x) for x in report.recall],
            "support": support,
        }
    except (AttributeError, TypeError, ValueError):
        return {}


def _student_view(report: Any) -> dict[str, Any] | None:
    """What a student may see of the per-row truth: with a Public/Private split, the confusion
    matrix and per-class figures of the Public rows only (a matrix shows the true class of every
    row answered, so a one-row file would reveal its truth). None without a split."""
    if getattr(report, "usage", None) is None or not report.ok:
        return None
    public = report.subset(usage="Public")
    cm = public.confusion_matrix
    return {
        "scope": "public",
        "n_rows": public.n_key,
        "confusion_matrix": None if cm is None else cm.tolist(),
        **_per_class(public),
    }


def _grade_one(
    sub: Submission, key: Any, a: Assignment, params: int | None, grader: Callable[..., Any]
) -> tuple[dict[str, Any], str | None]:
    row: dict[str, Any] = {
        "student": sub.student,
        "name": " ".join(strip_control(sub.name).split()),
        "source": sub.source,
        "late": sub.late,
        "status": "invalid",
        "reason": sub.problem,
        "notes": list(sub.notes),
        "k": a.k,
        "report": None,
        "public_top1": None,
        "private_top1": None,
    }
    if sub.problem or sub.path is None:
        return row, None
    try:
        report = grader(sub.path, key, k=a.k, params=params, max_bytes=a.max_bytes)
    except GradingError as exc:
        row["reason"] = f"{sub.source}: {exc}"
        return row, None
    except Exception as exc:  # noqa: BLE001 - one student's file must not stop a class
        row["reason"] = (
            f"{sub.source}: gradkit failed on this file ({type(exc).__name__}: {exc}); "
            "grade it by hand and please report the bug."
        )
        return row, sub.student
    d = report.to_dict()
    row["report"] = d
    row["status"] = d["status"]
    if d["status"] == "ok":
        row["public_top1"], row["private_top1"] = _split(report)
        row.update(_per_class(report))
        row["student_view"] = _student_view(report)
    else:
        row["reason"] = " ".join(e["message"] for e in d["errors"]) or "the file cannot be scored."
    return row, None


def _baseline_row(a: Assignment, key: Any, grader: Callable[..., Any]) -> dict[str, Any] | None:
    b = a.baseline
    if b is None:
        return None
    if b.predictions is not None:
        report = grader(b.predictions, key, k=a.k, params=b.params, max_bytes=None)
        d = report.to_dict()
        if d["status"] != "ok":
            problems = " ".join(e["message"] for e in d["errors"])
            raise UsageError(f"the baseline's predictions {b.predictions.name!r} cannot be scored: {problems}")
        public, private = _split(report)
    else:
        top1_pp = b.top1 / b.params if b.top1 is not None and b.params else None
        d = {"status": "ok", "top1": b.top1, "top3": b.top3, "params": b.params, "top1_per_param": top1_pp}
        public = private = None
    return {
        "student": b.name,
        "name": b.name,
        "status": "ok",
        "report": d,
        "public_top1": public,
        "private_top1": private,
        "baseline": True,
    }


def _write_feedback(
    out: Path, students: list[dict[str, Any]], title: str, *, heatmaps: bool, step: Callable[[str], None]
) -> None:
    from grading.feedback import draw_confusion_png, render_feedback

    folder = out / "feedback"
    folder.mkdir(exist_ok=True)
    for s in students:
        step(s["student"])
        png = None
        r = s.get("report") or {}
        view = s.get("student_view") or r
        if heatmaps and view.get("confusion_matrix"):
            png = folder / f"{s['slug']}.png"
            draw_confusion_png(view["confusion_matrix"], [str(x) for x in r["labels"]], png)
        write_atomic(folder / f"{s['slug']}.md", render_feedback(s, title=title, html=False, heatmap=png))
        write_atomic(folder / f"{s['slug']}.html", render_feedback(s, title=title, html=True))


def lms_grade(student: Mapping[str, Any], *, rubric: bool) -> LmsGrade:
    """The grade and the plain-text comment that go back to the LMS for one student's row.

    The grade is the rubric total; without a rubric, top-1 accuracy in percent (0 for an
    invalid file). The comment says top-1, top-k, points, the main warning, or why the
    file was invalid.
    """
    r = student.get("report") or {}
    rub = student.get("rubric") or {}
    ok = student.get("status") == "ok"
    if rubric and rub:
        grade: float = float(rub["total"])
        points = f" {rub['total']:g} of {rub['max_total']:g} points."
    else:
        grade = round(100 * (r.get("top1") or 0.0), 2) if ok else 0.0
        points = f" {grade:g} points." if not rubric else ""
    k = student.get("k", 3)
    if ok:
        top3 = "unavailable" if r.get("top3") is None else f"{100 * r['top3']:.2f}%"
        text = f"Top-1 {100 * (r.get('top1') or 0):.2f}%, top-{k} {top3}.{points}"
        warnings = [w["message"] for w in r.get("warnings", []) if w.get("code") != "top_k_unavailable"]
        if warnings:
            text += f" Check: {warnings[0]}" + (
                f" (and {len(warnings) - 1} more in the feedback page)" if len(warnings) > 1 else ""
            )
    else:
        text = f"Not graded: {student.get('reason') or 'the file cannot be scored.'}{points}"
    if student.get("late"):
        text += " Submitted late."
    return LmsGrade(grade, " ".join(strip_control(text).split()))


def _notebook_part(source: Path, a: Assignment, out: Path) -> Any:
    """The notebook part of a CSV + notebook assignment, graded before the CSVs (their claims feed params)."""
    if a.notebook is None:
        return None
    from grading.notebook.classrun import NotebookPart

    return NotebookPart.grade(source, a.notebook, out, title=a.title)


def _keep_hand_edits(gradebook: Path, results: Path) -> None:
    """Rename a gradebook edited by hand after the last run instead of overwriting it."""
    if gradebook.exists() and results.exists() and gradebook.stat().st_mtime > results.stat().st_mtime + 1:
        shutil.copy2(gradebook, gradebook.with_name(gradebook.name + ".bak"))


def grade_class(
    source: str | Path,
    key_or_assignment: Assignment | str | Path,
    out_dir: str | Path,
    *,
    params: Mapping[str, int] | None = None,
    progress: Progress | None = None,
    feedback: bool = True,
    heatmaps: bool = False,
    grader: Callable[..., Any] | None = None,
    lms_template: str | Path | None = None,
    lms_column: str | None = None,
) -> ClassResult:
    """Grade every submission of a class and write the gradebook, leaderboard and feedback.

    Args:
        source: a folder (flat CSVs or per-student folders) or a Moodle/Canvas zip.
        key_or_assignment: an :class:`Assignment`, an ``assignment.toml``, or a key CSV.
        out_dir: created if needed; the outputs are written there. When it lies inside
            ``source`` it is never read as a submission.
        params: student -> parameter count, for top-1 ÷ parameters; default: the
            assignment's ``[submission] params_file``, if any.
        progress: called as ``progress(done, total, what)``.
        feedback: write ``feedback/`` (Markdown and HTML per student).
        heatmaps: also draw a confusion-matrix PNG per student for the Markdown page
            (the HTML page colours its table instead).
        grader: the single-file grader; default :func:`grading.grade_file`.
        lms_template: Moodle's grading worksheet or Canvas's gradebook export to fill
            (default: the assignment's ``[lms] template``); written as ``lms-import.csv``.
        lms_column: Canvas: which assignment column to fill (default ``[lms] column``).

    Returns:
        The :class:`ClassResult`; nothing is printed.

    Raises:
        UsageError: the key, the assignment, the LMS template, the source or the output
            folder is unusable. A bad student file never raises: it becomes an ``invalid`` row.
    """
    a = resolve_assignment(key_or_assignment)
    if grader is None:
        from grading.score import grade_file

        grader = grade_file
    key = a.load_key()
    template_path = lms_template if lms_template is not None else a.lms_template
    template = read_lms_template(template_path, column=lms_column or a.lms_column) if template_path else None
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder {str(out)!r} ({exc.strerror}).") from None
    if params is None and a.params_file is not None:
        params = read_params_file(a.params_file)
    params = params or {}
    rows: list[dict[str, Any]] = []
    bugs: list[str] = []
    refused: list[dict[str, str]] = []
    notebooks = _notebook_part(Path(source), a, out)  # the notebook hook (grading.notebook.classrun)
    with tempfile.TemporaryDirectory(dir=out, prefix=".unpacked-") as scratch:
        subs = _gather(Path(source), Path(scratch), a, refused, out)
        total = len(subs) * (2 if feedback else 1)
        for i, sub in enumerate(subs):
            if progress is not None:
                progress(i, total, f"grading {sub.student}")
            count = params.get(sub.student)
            if count is None and notebooks is not None:
                count = notebooks.params_from_notebook(sub)
            row, bug = _grade_one(sub, key, a, count, grader)
            row["lms"] = sub.lms
            rows.append(row)
            if bug:
                bugs.append(bug)
    if notebooks is not None:
        rows = notebooks.attach(rows)
    baseline = _baseline_row(a, key, grader)
    for row, slug in zip(rows, unique_slugs([r["student"] for r in rows]), strict=True):
        row["slug"] = slug
        row["feedback"] = f"feedback/{slug}.html" if feedback else ""
    scores = score_class(
        a.rubric,
        {r["student"]: _metrics(r["report"]) for r in rows},
        baseline=_metrics(baseline["report"]) if baseline else None,
    )
    board = build_leaderboard(rows, a.ranking, baseline=baseline)
    ranks = {e.student: e.rank for e in board if not e.baseline}
    n_ranked = sum(e.rank is not None for e in board)
    aliases = (
        pseudonyms([r["student"] for r in rows], secret=a.key_path.read_bytes())
        if a.ranking.show == "pseudonyms"
        else {}
    )
    for row in rows:
        row["rubric"] = scores[row["student"]].to_dict() if a.rubric else None
        row["rank"] = ranks.get(row["student"])
        row["n_ranked"] = n_ranked
        row["alias"] = aliases.get(row["student"])
    board = anonymise(board, a.ranking.show, aliases)
    result = ClassResult(title=a.title, students=rows, baseline=baseline, bugs=bugs, refused=refused)
    done = len(subs)

    def step(student: str) -> None:
        nonlocal done
        if progress is not None:
            progress(done, total, f"feedback {student}")
        done += 1

    _write_all(out, result, a, board, feedback=feedback, heatmaps=heatmaps, template=template, step=step)
    if progress is not None:
        progress(total, total, "")
    return result


def _lms_grades(result: ClassResult, a: Assignment) -> tuple[dict[str, LmsGrade], float]:
    """Each student's grade for the LMS, rescaled by ``[lms] scale_to``, and the maximum it is out of."""
    maximum = sum(rule.points for rule in a.rubric) if a.rubric else 100.0
    grades = {r["student"]: lms_grade(r, rubric=bool(a.rubric)) for r in result.students}
    if a.lms_scale_to is None or maximum <= 0:
        return grades, maximum
    factor = a.lms_scale_to / maximum
    scaled = {
        sid: LmsGrade(None if g.grade is None else round(g.grade * factor, 2), g.feedback) for sid, g in grades.items()
    }
    return scaled, a.lms_scale_to


def _write_lms(out: Path, result: ClassResult, a: Assignment, template: LmsTemplate | None) -> dict[str, Path]:
    grades, maximum = _lms_grades(result, a)
    if template is not None:
        filled = write_lms_import(out, template, grades)
        result.lms = {**filled.to_dict(), "file": "lms-import.csv", "template": str(template.path)}
        return {"lms-import.csv": out / "lms-import.csv"}
    moodle = [(r["student"], r.get("name") or "") for r in result.students if r.get("lms") == "moodle"]
    if not moodle:
        return {}
    path = write_moodle_worksheet(out, moodle, grades, maximum=maximum)
    result.lms = {
        "kind": "moodle",
        "column": "Grade",
        "filled": sum(grades[m[0]].grade is not None for m in moodle),
        "unmatched": [],
        "warnings": worksheet_warnings({m[0]: grades[m[0]] for m in moodle}, maximum=maximum),
        "file": path.name,
        "template": None,
    }
    return {path.name: path}


def _write_all(
    out: Path,
    result: ClassResult,
    a: Assignment,
    board: list[Any],
    *,
    feedback: bool,
    heatmaps: bool,
    template: LmsTemplate | None = None,
    step: Callable[[str], None] = lambda _: None,
) -> None:
    split = any(r["public_top1"] is not None for r in result.students)
    names = [r.name for r in a.rubric]
    files = {name: out / name for name in ("gradebook.csv", "results.json", "leaderboard.csv", "leaderboard.html")}
    _keep_hand_edits(files["gradebook.csv"], files["results.json"])
    write_atomic(files["gradebook.csv"], render_gradebook(result.students, names, split=split), bom=True)
    write_atomic(files["leaderboard.csv"], render_leaderboard_csv(board, split=split), bom=True)
    write_atomic(
        files["leaderboard.html"], render_leaderboard_html(board, title=a.title, ranking=a.ranking, split=split, k=a.k)
    )
    files.update(_write_lms(out, result, a, template))
    if feedback:
        _write_feedback(out, result.students, a.title, heatmaps=heatmaps, step=step)
        files["feedback"] = out / "feedback"
    write_atomic(files["results.json"], json.dumps(result.to_dict(), indent=1, ensure_ascii=False) + "\n")
    result.files = files


def render_class_summary(result: ClassResult, *, max_listed: int = 20) -> Any:
    """A rich renderable for the terminal: counts, who is invalid and why, what was written.

    Args:
        result: what :func:`grade_class` returned.
        max_listed: at most this many invalid students are listed (the gradebook has them all).
    """
    from rich.console import Group
    from rich.text import Text as _Text

    def Text(text: str, **style: Any) -> Any:  # noqa: N802 - what reaches the terminal has no escape codes
        return _Text(strip_control(text), **style)

    n_late = sum(bool(s.get("late")) for s in result.students)
    head = f"{len(result.students)} submissions: {result.n_ok} scored, {result.n_invalid} invalid."
    parts: list[Any] = [Text(head + (f" {n_late} late." if n_late else ""), style="bold")]
    invalid = [s for s in result.students if s["status"] != "ok"]
    if invalid:
        parts.append(Text("Invalid (0 points; the reason is also in the gradebook and the feedback):", style="red"))
        for s in invalid[:max_listed]:
            who = f"{s['student']} ({s['name']})" if s.get("name") else s["student"]
            parts.append(Text(f"  ✗ {who}: {s['reason']}"))
        if len(invalid) > max_listed:
            parts.append(Text(f"  … and {len(invalid) - max_listed} more; see the gradebook's reason column."))
    for entry in result.refused:
        verb = "skipped" if entry["reason"].startswith("skipped") else "refused"
        why = entry["reason"].removeprefix(f"{verb}: ")
        parts.append(Text(f"  {verb} {entry['entry']!r}: {why}", style="yellow"))
    if result.lms:
        lms = result.lms
        parts.append(
            Text(
                f"{lms['file']}: {lms['filled']} grades filled in {lms['column']!r} "
                f"({lms['kind'].capitalize()}); upload it as the README says."
            )
        )
        if lms["unmatched"]:
            shown = ", ".join(lms["unmatched"][:max_listed]) + (", …" if len(lms["unmatched"]) > max_listed else "")
            n = len(lms["unmatched"])
            what = "1 graded submission has" if n == 1 else f"{n} graded submissions have"
            parts.append(Text(f"  {what} no row in the LMS template (enter by hand): {shown}", style="red"))
        parts.extend(Text(f"  ! {w}", style="yellow") for w in lms["warnings"][:max_listed])
    if result.files:
        parts.append(Text("Written:"))
        parts.extend(Text(f"  {name}: {path}") for name, path in result.files.items())
    parts.extend(
        Text(f"gradkit failed on {bug}'s file; grade it by hand and please report it.", style="red")
        for bug in result.bugs
    )
    return Group(*parts)
