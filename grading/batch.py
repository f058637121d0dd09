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

An assignment with a ``[notebook]`` beside its ``[key]`` grades both parts in the same run
(:mod:`grading.notebook.part`): each student keeps one row, which gains ``notebook`` (the TA's
``overrides.csv`` applied) and ``total`` (:mod:`grading.class_total`); the gradebook gets the
notebook's columns, the LMS file the total, and ``review/`` the review pages.

A zip is unpacked safely (:func:`grading.safety.safe_extract`) into a temporary
folder inside ``out_dir`` that is removed afterwards. Files are written
atomically; a ``gradebook.csv`` edited by hand since the last run is kept as
``gradebook.csv.bak`` rather than overwritten.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from grading.assignment import ASSIGNMENT_FILENAME, Assignment, find_assignment, load_assignment, read_params_file
from grading.class_files import write_all
from grading.class_lms import lms_grade
from grading.class_result import ClassResult, Progress
from grading.class_summary import render_class_summary
from grading.class_total import attach_totals
from grading.errors import UsageError
from grading.gather import gather
from grading.key import key_warning_lines
from grading.leaderboard import anonymise, build_leaderboard, pseudonyms
from grading.lms import read_lms_template
from grading.rubric import score_class
from grading.safety import unique_slugs
from grading.student_row import baseline_row, grade_one, row_metrics

__all__ = ["ClassResult", "Progress", "grade_class", "lms_grade", "render_class_summary", "resolve_assignment"]


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


def _notebook_part(source: Path, a: Assignment, out: Path) -> Any:
    """The notebook part of a CSV + notebook assignment, graded before the CSVs (their claims feed params)."""
    if a.notebook is None:
        return None
    from grading.notebook.part import NotebookPart

    return NotebookPart.grade(source, a.notebook, out, title=a.title)


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
    overrides: str | Path | Sequence[str | Path] | None = None,
    allow_partial: bool = False,
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
        overrides: with a ``[notebook]`` part: the TA's ``overrides.csv`` from the review pages; a file,
            a folder of them (each ``*.csv`` directly in it), or several of either: the later file
            wins where two set the same student and question (``result.override_warnings`` says so).
        allow_partial: with a ``[notebook]`` part: give the LMS a grade even while a manual
            item is undecided (the comment says so); else that grade is withheld.

    Returns:
        The :class:`ClassResult`; nothing is printed.

    Raises:
        UsageError: the key, the assignment, the LMS template, the source or the output
            folder is unusable. A bad student file never raises: it becomes an ``invalid`` row.
    """
    a = resolve_assignment(key_or_assignment)
    if a.notebook is None and (overrides is not None or allow_partial):
        raise UsageError("--overrides and --allow-partial apply to a class of notebooks (--problems, or [notebook]).")
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
        subs = gather(Path(source), Path(scratch), a, refused, out)
        total = len(subs) * (2 if feedback else 1)
        for i, sub in enumerate(subs):
            if progress is not None:
                progress(i, total, f"grading {sub.student}")
            count = params.get(sub.student)
            if count is None and notebooks is not None:
                count = notebooks.params_from_notebook(sub)
            row, bug = grade_one(sub, key, a, count, grader)
            row["lms"] = sub.lms
            rows.append(row)
            if bug:
                bugs.append(bug)
    review = None
    if notebooks is not None:
        rows = notebooks.attach(rows)
        review = notebooks.finish(rows, overrides)
    baseline = baseline_row(a, key, grader)
    for row, slug in zip(rows, unique_slugs([r["student"] for r in rows]), strict=True):
        row["slug"] = slug
        row["feedback"] = f"feedback/{slug}.html" if feedback else ""
    scores = score_class(
        a.rubric,
        {r["student"]: row_metrics(r["report"]) for r in rows},
        baseline=row_metrics(baseline["report"]) if baseline else None,
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
    if notebooks is not None:
        attach_totals(rows, a, notebook_max=notebooks.maximum(), manual=notebooks.manual)
    board = anonymise(board, a.ranking.show, aliases)
    result = ClassResult(
        title=a.title,
        students=rows,
        baseline=baseline,
        bugs=bugs,
        refused=refused,
        key_warnings=key_warning_lines(key.warnings),
        override_warnings=notebooks.warnings if notebooks is not None else [],
    )
    done = len(subs)

    def step(student: str) -> None:
        nonlocal done
        if progress is not None:
            progress(done, total, f"feedback {student}")
        done += 1

    write_all(
        out,
        result,
        a,
        board,
        feedback=feedback,
        heatmaps=heatmaps,
        template=template,
        step=step,
        allow_partial=allow_partial,
    )
    if review is not None:
        result.files["review"] = review
    if progress is not None:
        progress(total, total, "")
    return result
