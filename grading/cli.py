"""The ``grade`` command: parse, call one library function, render, exit.

``grade FILE`` scores one prediction CSV (exit 0 scored, 1 invalid);
``grade FOLDER_OR_ZIP`` grades a class with :func:`grading.batch.grade_class`.
A :class:`~grading.errors.UsageError` becomes one line on stderr and exit 2.
Heavy libraries stay out of the one-file path: torch is imported for
``--model`` only.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from grading.answers.tolerance import DEFAULT_ATOL, DEFAULT_RTOL
from grading.assignment import Assignment, load_answers_settings, parse_size
from grading.batch import grade_class, render_class_summary, resolve_assignment
from grading.errors import GradingError, InvalidSubmission, UsageError
from grading.safety import is_zip
from grading.score import DEFAULT_K, DEFAULT_MAX_BYTES

app = typer.Typer(name="grade", add_completion=False, pretty_exceptions_enable=False)


@app.command()
def grade(
    path: Annotated[Path, typer.Argument(help="A prediction CSV, or a folder / LMS zip of a whole class.")],
    key: Annotated[
        Path | None,
        typer.Option(
            help="The answer key CSV or an assignment.toml (with --variants: an assignment.toml for \\[answers] and \\[lms])."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (the documented fields).")] = False,
    k: Annotated[
        int | None, typer.Option("--k", help=f"k of top-k accuracy (default: the assignment's k, else {DEFAULT_K}).")
    ] = None,
    params: Annotated[int | None, typer.Option(help="The model's parameter count, for top-1 / params.")] = None,
    model: Annotated[
        Path | None, typer.Option(help="A state_dict (.pt/.pth) or .safetensors file to count parameters.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (class: gradebook, leaderboard, feedback; file: the JSON report)."),
    ] = None,
    feedback: Annotated[
        bool, typer.Option("--feedback/--no-feedback", help="Class: write per-student feedback pages.")
    ] = True,
    heatmaps: Annotated[
        bool,
        typer.Option(
            "--heatmaps/--no-heatmaps",
            help="Class: also draw a confusion-matrix PNG per student for the Markdown pages (the HTML pages colour their table).",
        ),
    ] = False,
    anonymous: Annotated[
        bool,
        typer.Option(
            "--anonymous",
            help='Class: the leaderboard shows pseudonyms, not names (as \\[ranking] show = "pseudonyms").',
        ),
    ] = False,
    variants: Annotated[
        Path | None,
        typer.Option(
            help="answers.json of `derive key --roster`: grade PATH's derivation answers (a responses CSV or a Moodle quiz responses download)."
        ),
    ] = None,
    rtol: Annotated[
        float | None,
        typer.Option(
            help=f"With --variants: relative tolerance of a number (default: \\[answers] rtol, else {DEFAULT_RTOL})."
        ),
    ] = None,
    atol: Annotated[
        float | None,
        typer.Option(
            help=f"With --variants: absolute tolerance near zero (default: \\[answers] atol, else {DEFAULT_ATOL})."
        ),
    ] = None,
    lms_template: Annotated[
        Path | None,
        typer.Option(
            help="Class or --variants: Moodle's grading worksheet or Canvas's gradebook export; writes OUT/lms-import.csv."
        ),
    ] = None,
    lms_column: Annotated[
        str | None,
        typer.Option(help="Class or --variants: the Canvas assignment column to fill, when the export has several."),
    ] = None,
    quiz_attempt: Annotated[
        str | None,
        typer.Option(
            help="With --variants, a Moodle quiz download: grade each student's 'last' finished attempt (default) "
            "or the 'highest'-graded one, as the quiz's grading method."
        ),
    ] = None,
    problems: Annotated[
        Path | None,
        typer.Option(
            help="A derive problem set: grade PATH as a notebook (.ipynb) against its questions (with --variants: the student's own numbers)."
        ),
    ] = None,
    student: Annotated[
        str | None, typer.Option(help="With --problems: the student's id (picks their numbers from --variants).")
    ] = None,
    max_notebook_mb: Annotated[
        float, typer.Option(help="With --problems or a class with \\[notebook]: the largest notebook read, in MB.")
    ] = 50.0,
    overrides: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="<path>",
            help="A class with notebooks: the TA's overrides.csv (from the review pages), applied to the grades; "
            "a folder means each *.csv directly in it (name order); repeat for several files. Where two files "
            "set the same student and question, the later one wins, with a warning.",
        ),
    ] = None,
    allow_partial: Annotated[
        bool,
        typer.Option(
            "--allow-partial",
            help="A class with notebooks: give the LMS a grade even when manual items are undecided.",
        ),
    ] = False,
    max_size: Annotated[
        str | None,
        typer.Option(
            help=f'Largest file accepted (default: \\[submission] max_size, else {DEFAULT_MAX_BYTES:,} bytes), e.g. "50 MB".'
        ),
    ] = None,
) -> None:
    """Score prediction CSVs against an answer key, as a careful TA would.

    Rows are matched by id (trimmed, '.png' optional, leading zeros optional).
    A missing row or a label that is not a class counts as wrong; unknown ids and
    identical duplicates are ignored; each with a warning. Top-k ties between
    equal scores go to the later class (scikit-learn's rule).
    With --variants, PATH holds the derivation answers instead (numbers or formulas, per student).
    Exit status: 0 scored, 1 invalid submission, 2 usage error.
    """
    finals = {
        "overrides": overrides or None,
        "allow_partial": allow_partial,
        "lms_template": lms_template,
        "lms_column": lms_column,
    }
    if problems is not None and (path.is_dir() or is_zip(path)):
        _grade_notebook_class(path, problems, variants, out or Path("results"), as_json, max_notebook_mb, finals)
        return
    settings = _notebook_only(key) if path.is_dir() or is_zip(path) else None
    if settings is not None:  # assignment.toml with [notebook] and no [key]: the notebook is the assignment
        _grade_notebook_class(
            path,
            settings.problems,
            settings.variants,
            out or Path("results"),
            as_json,
            max_notebook_mb,
            finals,
            settings,
        )
        return
    is_class = path.is_dir() or is_zip(path)
    if (overrides or allow_partial) and (not is_class or variants is not None):
        raise UsageError("--overrides and --allow-partial apply to a class of notebooks (--problems, or [notebook]).")
    if problems is not None or path.suffix.lower() == ".ipynb":
        _grade_notebook(path, problems, variants, student, out, as_json, max_notebook_mb)
        return
    if variants is not None:
        if k is not None or params is not None or model is not None:
            raise UsageError("--variants grades derivation answers; --k, --params and --model are for predictions.")
        _grade_answers(
            path,
            variants,
            out,
            as_json,
            key=key,
            rtol=rtol,
            atol=atol,
            lms_template=lms_template,
            lms_column=lms_column,
            attempt=quiz_attempt or "last",
        )
        return
    if quiz_attempt is not None:
        raise UsageError("--quiz-attempt picks a Moodle quiz attempt; it goes with --variants.")
    assignment = resolve_assignment(key)
    if k is not None:
        assignment = dataclasses.replace(assignment, k=k)
    if anonymous:
        assignment = dataclasses.replace(assignment, ranking=dataclasses.replace(assignment.ranking, show="pseudonyms"))
    if max_size is not None:
        assignment = dataclasses.replace(assignment, max_bytes=parse_size(max_size, "--max-size"))
    if params is not None and model is not None:
        raise UsageError("give either --params N or --model FILE, not both.")
    if is_class:
        if params is not None or model is not None:
            raise UsageError("--params and --model apply to one file; a class takes its counts from assignment.toml.")
        _grade_class(
            path,
            assignment,
            out or Path("results"),
            as_json,
            feedback=feedback,
            heatmaps=heatmaps,
            finals=finals,
        )
        return
    if lms_template is not None or lms_column is not None:
        raise UsageError("--lms-template and --lms-column apply to a class (a folder or a zip), not to one file.")
    if model is not None:
        from grading.modelparams import count_parameters

        params = count_parameters(model)
    from grading.score import grade_file

    answer_key = assignment.load_key()
    report = grade_file(path, answer_key, k=assignment.k, params=params, max_bytes=assignment.max_bytes)
    from grading.key import key_warning_lines
    from grading.safety import strip_control

    for line in key_warning_lines(answer_key.warnings):
        typer.echo(f"grade: warning: {strip_control(line)}", err=True)
    if out is not None:
        report.write_json(out)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        from grading.report import render_summary

        Console(highlight=False).print(render_summary(report))
    raise typer.Exit(0 if report.ok else 1)


def _grade_notebook(
    path: Path,
    problems: Path | None,
    variants: Path | None,
    student: str | None,
    out: Path | None,
    as_json: bool,
    max_mb: float,
) -> None:
    from grading.notebook.grade import grade_notebook
    from grading.notebook.summary import render_notebook_summary

    if problems is None:
        raise UsageError(
            f"{path.name} is a notebook: give --problems PROBLEMS.toml (the problem set whose questions it answers)."
        )
    if not max_mb > 0:
        raise UsageError(f"--max-notebook-mb {max_mb!r}: expected a size in MB above 0, such as 100.")
    result = grade_notebook(
        path, problems, variants=variants, student=student, out=out, max_bytes=int(max_mb * 1024 * 1024)
    )
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        Console(highlight=False).print(render_notebook_summary(result))
    raise typer.Exit(0 if result["status"] == "graded" else 1)


def _lms_of(settings: Any) -> Path | None:
    """``[lms] template`` of the notebook-only assignment file, when it has one."""
    from grading.assignment import load_answers_settings

    return load_answers_settings(settings.path).lms_template if settings.path is not None else None


def _notebook_only(key: Path | None) -> Any:
    """The ``[notebook]`` settings of an assignment file that has no ``[key]``, else None."""
    from grading.assignment import find_assignment, load_notebook_settings

    path = key if key is not None else find_assignment(".")
    if path is None or not (path.suffix.lower() == ".toml" or path.is_dir()):
        return None
    settings = load_notebook_settings(path)
    return settings if settings is not None and settings.standalone else None


def _grade_notebook_class(
    path: Path,
    problems: Path,
    variants: Path | None,
    out: Path,
    as_json: bool,
    max_mb: float,
    finals: dict[str, Any],
    settings: Any = None,
) -> None:
    from grading.notebook.classrun import grade_notebook_class
    from grading.notebook.summary import render_class_notebooks

    if not max_mb > 0:
        raise UsageError(f"--max-notebook-mb {max_mb!r}: expected a size in MB above 0, such as 100.")
    extra = dict(finals)
    if settings is not None:
        extra.update(pattern=settings.filename, points=settings.points, manual=settings.manual)
        if extra["lms_template"] is None:
            extra["lms_template"] = _lms_of(settings)
    result = grade_notebook_class(path, problems, out, variants=variants, max_bytes=int(max_mb * 1024 * 1024), **extra)
    _warn(result.override_warnings)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        Console(highlight=False).print(render_class_notebooks(result.students, result.files, len(result.withheld)))


def _grade_answers(
    path: Path,
    variants: Path,
    out: Path | None,
    as_json: bool,
    *,
    key: Path | None,
    rtol: float | None,
    atol: float | None,
    lms_template: Path | None,
    lms_column: str | None,
    attempt: str,
) -> None:
    from grading.answers import grade_answers, render_answers_summary

    settings = None
    if key is not None:
        if not (key.suffix.lower() == ".toml" or key.is_dir()):
            raise UsageError(
                f"--variants grades derivation answers; --key {str(key)!r} is an answer key CSV (for "
                "predictions). With --variants, --key names an assignment.toml ([answers] rtol/atol, [lms])."
            )
        settings = load_answers_settings(key)
    if lms_template is not None and out is None:
        raise UsageError("--lms-template writes OUT/lms-import.csv: give --out DIR as well.")
    if settings is not None:
        rtol = settings.rtol if rtol is None else rtol
        atol = settings.atol if atol is None else atol
        if lms_template is None and out is not None:
            lms_template = settings.lms_template
        lms_column = settings.lms_column if lms_column is None else lms_column
    if lms_column is not None and lms_template is None and out is not None:
        raise UsageError(
            "--lms-column picks the column of an LMS template; give --lms-template FILE "
            "(or [lms] template in the assignment file) as well."
        )
    result = grade_answers(
        path,
        variants,
        rtol=DEFAULT_RTOL if rtol is None else rtol,
        atol=DEFAULT_ATOL if atol is None else atol,
        out=out,
        lms_template=lms_template,
        lms_column=lms_column,
        attempt=attempt,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        Console(highlight=False).print(render_answers_summary(result))
    raise typer.Exit(0 if result.ok else 1)


def _grade_class(
    source: Path,
    assignment: Assignment,
    out: Path,
    as_json: bool,
    *,
    feedback: bool,
    heatmaps: bool,
    finals: dict[str, Any],
) -> None:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from grading.safety import strip_control

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True, disable=as_json or not console.is_terminal) as bar:
        task = bar.add_task("reading the submissions", total=None)

        def progress(done: int, total: int, what: str) -> None:
            text = escape(strip_control(what)[:40].ljust(40))
            bar.update(task, completed=done, total=total, description=text)

        result = grade_class(
            source,
            assignment,
            out,
            progress=progress,
            feedback=feedback,
            heatmaps=heatmaps,
            **finals,
        )
    _warn(result.override_warnings)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        Console(highlight=False).print(render_class_summary(result))


def _warn(lines: list[str]) -> None:
    from grading.safety import strip_control

    for line in lines:
        typer.echo(f"grade: warning: {strip_control(line)}", err=True)


def main() -> None:
    """Entry point of the ``grade`` console script."""
    try:
        app()
    except InvalidSubmission as exc:
        typer.echo(f"grade: {exc}", err=True)
        sys.exit(1)
    except GradingError as exc:  # UsageError and any other usage problem
        typer.echo(f"grade: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
