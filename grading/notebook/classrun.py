"""A class of notebooks: from a folder or an LMS zip to results.json, a gradebook and review pages.

``grade submissions.zip --problems P.toml --out results/`` calls :func:`grade_notebook_class`:
each student (named as :mod:`grading.collect` names them: Moodle, Canvas, per-student folders,
flat files) gets exactly one row, whether their notebook was graded, invalid or missing. When
a student handed in several notebooks matching the pattern, the newest is graded, with a note.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from grading.collect import parse_lms_name, walk_folder
from grading.errors import UsageError
from grading.gradebook import write_atomic
from grading.notebook.grade import Problems, grade_read, invalid_result, load_problems
from grading.notebook.images import release_images
from grading.notebook.read import MAX_BYTES, InvalidNotebook, read_notebook
from grading.safety import defuse_cell, is_zip, safe_extract, strip_control

__all__ = [
    "NotebookClass",
    "Pick",
    "gather_notebooks",
    "grade_notebook_class",
    "grade_notebooks",
    "notebook_maximum",
    "render_notebook_gradebook",
    "write_review_pages",
]


@dataclass
class Pick:
    """One student's notebook: which file (``path`` None when there is none: ``problem`` says why)."""

    student: str
    name: str = ""
    path: Path | None = None
    source: str = ""
    problem: str = ""
    notes: list[str] = field(default_factory=list)
    lms: str = ""


@dataclass
class NotebookClass:
    """The class graded: one ``{student, name, notebook}`` per student, and the files written."""

    title: str
    students: list[dict[str, Any]]
    files: dict[str, Path] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    """Students whose LMS grade waits for the TA (manual items undecided)."""
    override_warnings: list[str] = field(default_factory=list)
    """One line each: decisions of ``--overrides`` that a later file replaced (for the TA)."""

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "students": self.students}


def gather_notebooks(files: list[tuple[str, Path | None, str]], pattern: str = "*.ipynb") -> list[Pick]:
    """Group ``(relative path, path or None, refusal)`` by student and pick each one's notebook."""
    rels = [
        (PurePosixPath(r), p, why)
        for r, p, why in files
        if not any(part.startswith((".", "__MACOSX", "~$")) for part in PurePosixPath(r).parts)
    ]
    depth = 0
    while (
        rels
        and all(len(r.parts) > depth + 2 for r, _, _ in rels)
        and len({r.parts[depth] for r, _, _ in rels}) == 1
        and parse_lms_name(rels[0][0].parts[depth], "x") is None
    ):
        depth += 1
    groups: dict[str, list[tuple[str, str, str, Path | None, str, str]]] = {}
    for rel, path, why in rels:
        rel = PurePosixPath(*rel.parts[depth:])
        first, rest = rel.parts[0], "/".join(rel.parts[1:])
        lms = parse_lms_name(first, rest)
        kind = ""
        if lms is not None:
            student, name, _late, inner = lms
            kind = "moodle" if "_assignsubmission_" in first or "_onlinetext_" in first else "canvas"
        elif len(rel.parts) == 1:
            student, name, inner = PurePosixPath(first).stem, "", first
        else:
            student, name, inner = first, "", rest
        groups.setdefault(student, []).append((name, PurePosixPath(inner).name, str(rel), path, why, kind))
    picks = []
    for student in sorted(groups):
        found = groups[student]
        pick = Pick(student, next((f[0] for f in found if f[0]), ""), lms=next((f[5] for f in found if f[5]), ""))
        matching = [f for f in found if fnmatch.fnmatch(f[1].lower(), pattern.lower())]
        if not matching:
            shown = ", ".join(repr(f[2]) for f in found[:3]) + (", …" if len(found) > 3 else "")
            pick.problem = f"no notebook matching {pattern!r} was handed in (found {shown})."
        else:
            matching.sort(key=lambda f: (_mtime(f[3]), f[2]))
            chosen = matching[-1]
            pick.source = chosen[2]
            if len(matching) > 1:
                pick.notes.append(f"{len(matching)} notebooks match {pattern!r}; graded the newest, {chosen[2]!r}.")
            if chosen[3] is None:
                pick.problem = f"{chosen[2]}: {chosen[4]}."
            else:
                pick.path = chosen[3]
        picks.append(pick)
    return picks


def _mtime(path: Path | None) -> float:
    try:
        return path.stat().st_mtime if path is not None else 0.0
    except OSError:
        return 0.0


def grade_notebook_class(
    source: str | Path,
    problems: str | Path | Problems,
    out: str | Path,
    *,
    variants: Any = None,
    pattern: str = "*.ipynb",
    max_bytes: int = MAX_BYTES,
    points: float | None = None,
    manual: tuple[Mapping[str, Any], ...] = (),
    progress: Callable[[int, int, str], None] | None = None,
    overrides: str | Path | Sequence[str | Path] | None = None,
    allow_partial: bool = False,
    lms_template: Path | None = None,
    lms_column: str | None = None,
) -> NotebookClass:
    """Grade every student's notebook and write ``results.json``, ``gradebook.csv``, figures and review pages.

    Args:
        points: The notebook part's total; each question's points are scaled to it.
        manual: ``[[notebook.manual]]`` items (``{name, points}``), shown on the review pages.
        overrides: The TA's ``overrides.csv`` (from the review pages): a file, a folder of them, or several
            (:func:`grading.notebook.finalize.apply_decisions`), applied before anything is written.
        allow_partial: Write an LMS grade even when manual items are undecided (the comment says so).
        lms_template, lms_column: Moodle's worksheet or Canvas's export to fill (``lms-import.csv``);
            without one, a Moodle zip gets ``moodle-grading-worksheet.csv``.

    Raises:
        UsageError: the source, the problem set, the variants or the output folder is unusable.
    """
    out = Path(out)
    rows, notebooks = grade_notebooks(
        source, problems, out, variants=variants, pattern=pattern, max_bytes=max_bytes, points=points, progress=progress
    )
    probs = problems if isinstance(problems, Problems) else load_problems(problems)
    template = None
    if lms_template is not None:
        from grading.lms import read_lms_template

        template = read_lms_template(lms_template, column=lms_column)
    from grading.notebook.finalize import apply_decisions

    warnings = apply_decisions(rows, overrides, manual)  # without overrides: automatic = final, manual undecided
    result_class = NotebookClass(probs.problem_set.title, rows, override_warnings=warnings)
    files_written = {"results.json": out / "results.json", "gradebook.csv": out / "gradebook.csv"}
    files_written.update(_write_lms(out, rows, manual, allow_partial, template, points, result_class.withheld))
    maximum = notebook_maximum(rows, points, manual)
    write_atomic(files_written["gradebook.csv"], render_notebook_gradebook(rows, maximum), bom=True)
    write_atomic(files_written["results.json"], json.dumps(result_class.to_dict(), indent=1, ensure_ascii=False) + "\n")
    if write_review_pages(out, rows, notebooks, title=result_class.title, manual=manual, maximum=maximum):
        files_written["review"] = out / "review" / "index.html"
    result_class.files = files_written
    return result_class


def _write_lms(
    out: Path,
    rows: list[dict[str, Any]],
    manual: Any,
    allow_partial: bool,
    template: Any,
    points: float | None,
    withheld: list[str],
) -> dict[str, Path]:
    from grading.lms import write_lms_import, write_moodle_worksheet
    from grading.notebook.finalize import notebook_lms_grades

    grades = notebook_lms_grades(rows, manual, allow_partial=allow_partial)
    withheld.extend(s for s, g in grades.items() if g.grade is None)
    if template is not None:
        write_lms_import(out, template, grades)
        return {"lms-import.csv": out / "lms-import.csv"}
    moodle = [(r["student"], r["name"]) for r in rows if r.get("lms") == "moodle"]
    if not moodle:
        return {}
    total = notebook_maximum(rows, points, manual)
    path = write_moodle_worksheet(out, moodle, grades, maximum=total or 100.0)
    return {path.name: path}


def notebook_maximum(
    rows: Sequence[Mapping[str, Any]], points: float | None, manual: Sequence[Mapping[str, Any]]
) -> float:
    """What the notebook part is out of: ``points`` (else the questions' points as graded), plus the manual items."""
    questions = points
    if questions is None:
        questions = max((math.fsum(q["max_points"] for q in r["notebook"]["questions"]) for r in rows), default=0.0)
    return questions + math.fsum(float(m.get("points", 0)) for m in manual)


def grade_notebooks(
    source: str | Path,
    problems: str | Path | Problems,
    out: Path,
    *,
    variants: Any = None,
    pattern: str = "*.ipynb",
    max_bytes: int = MAX_BYTES,
    points: float | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each student's ``{student, name, notebook}`` row (figures written under ``out``) and the notebooks read."""
    from grading.answers.variants import load_variants

    source = Path(source)
    probs = problems if isinstance(problems, Problems) else load_problems(problems)
    vs = {v.student: v for v in load_variants(variants)} if isinstance(variants, (str, Path)) else None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder {str(out)!r} ({exc.strerror}).") from None
    rows: list[dict[str, Any]] = []
    notebooks: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=out, prefix=".unpacked-") as scratch:
        if source.is_dir():
            files = walk_folder(source, exclude=out)
        elif is_zip(source):
            ex = safe_extract(source, Path(scratch), max_member_bytes=max_bytes)
            files = [(rel, path, "") for rel, path in ex.files] + [(n, None, why) for n, why in ex.refused]
        else:
            raise UsageError(f"{str(source)!r} is not a folder or a zip of submissions.")
        picks = gather_notebooks(files, pattern)
        if not picks:
            raise UsageError(f"{str(source)!r} holds no submissions.")
        for i, pick in enumerate(picks):
            if progress is not None:
                progress(i, len(picks), pick.student)
            variant = vs.get(pick.student) if vs is not None else None
            if pick.path is None:
                result = invalid_result(pick.student, pick.source, pick.problem, pick.notes)
            else:
                try:
                    nb = read_notebook(pick.path, max_bytes=max_bytes)
                except InvalidNotebook as exc:
                    result = invalid_result(pick.student, PurePosixPath(pick.source).name, str(exc), pick.notes)
                else:
                    result = grade_read(nb, probs, variant=variant, student=pick.student, out=out)
                    result["warnings"] = pick.notes + result["warnings"]
                    if vs is not None and variant is None:
                        result["warnings"].append(
                            "no variant for this student in answers.json; checked at random values."
                        )
                    notebooks[pick.student] = release_images(nb, result["figures"], out)  # figures: on disk only
                    _scale(result, points)
            name = " ".join(strip_control(pick.name).split())
            rows.append({"student": pick.student, "name": name, "lms": pick.lms, "notebook": result})
    return rows, notebooks


def _scale(result: dict[str, Any], points: float | None) -> None:
    """Scale each question's points so that the notebook part is worth ``points`` in all."""
    total = sum(q["max_points"] for q in result["questions"])
    if points is None or not total:
        return
    for q in result["questions"]:
        q["points"] = round(q["points"] * points / total, 6)
        q["max_points"] = round(q["max_points"] * points / total, 6)


def write_review_pages(
    out: Path,
    rows: list[dict[str, Any]],
    notebooks: Mapping[str, Any],
    *,
    title: str,
    manual: Any,
    maximum: float | None = None,
) -> list[Path]:
    """The review pages, by :func:`grading.notebook.review.write_review` (the one call into that module)."""
    from grading.notebook.review import ReviewEntry, write_review

    entries = [
        ReviewEntry(student=r["student"], name=r["name"], result=r["notebook"], notebook=notebooks.get(r["student"]))
        for r in rows
    ]
    return list(write_review(out, entries, title=title, manual=list(manual), maximum=maximum))


def render_notebook_gradebook(rows: list[dict[str, Any]], maximum: float) -> str:
    """``gradebook.csv``: a row per student; per question its verdict and points; cells defused.
    ``max_points`` is ``maximum``, what the notebook part is out of (:func:`notebook_maximum`: the
    questions and the manual items), the same for every student."""
    questions: list[str] = []
    for r in rows:
        for q in r["notebook"]["questions"]:
            if q["question"] not in questions:
                questions.append(q["question"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    header = ["student", "name", "status", "points", "max_points", "needs_review"]
    for q in questions:
        header += [f"{q} verdict", f"{q} points"]
    w.writerow([*header, "params", "top1", "top3", "notebook", "reason"])
    for r in rows:
        nb = r["notebook"]
        by = {q["question"]: q for q in nb["questions"]}
        claims = {c["what"]: c["value"] for c in nb["claims"]}
        row = [
            r["student"],
            r["name"],
            nb["status"],
            f"{nb.get('final_points', sum(q['points'] for q in nb['questions'])):g}",
            f"{maximum:g}",
            sum(q["verdict"] == "needs-review" for q in nb["questions"]),
        ]
        for q in questions:
            item = by.get(q)
            mark = " (set by TA)" if item and item.get("set_by_ta") else ""
            row += [item["verdict"], f"{item.get('final_points', item['points']):g}{mark}"] if item else ["", ""]
        row += [claims.get("params", ""), claims.get("top1", ""), claims.get("top3", "")]
        row += [nb["notebook"], " ".join(nb["errors"])]
        w.writerow([defuse_cell(" ".join(strip_control(str(c)).split())) for c in row])
    return buf.getvalue()
