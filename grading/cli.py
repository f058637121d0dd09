"""The ``grade`` command: parse, call one library function, render, exit.

``grade FILE`` scores one prediction CSV (exit 0 scored, 1 invalid);
``grade FOLDER_OR_ZIP`` grades a class with :func:`grading.batch.grade_class`.
A :class:`~grading.errors.UsageError` becomes one line on stderr and exit 2.
Heavy libraries stay out of the one-file path: torch is imported for
``--model`` only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from grading.errors import GradingError, InvalidSubmission, UsageError
from grading.score import DEFAULT_K

app = typer.Typer(name="grade", add_completion=False, pretty_exceptions_enable=False)


def _resolve(key: Path | None) -> tuple[Any, Any]:
    """(assignment or None, key path or assignment) from --key or ./assignment.toml."""
    if key is not None and key.suffix.lower() != ".toml":
        return None, key
    from grading.assignment import find_assignment, load_assignment

    toml = key if key is not None else find_assignment(".")
    if toml is None:
        raise UsageError(
            "no answer key: pass --key key.csv (or --key assignment.toml), "
            "or run grade in the folder that holds assignment.toml."
        )
    return load_assignment(toml), toml


@app.command()
def grade(
    path: Annotated[Path, typer.Argument(help="A prediction CSV, or a folder / LMS zip of a whole class.")],
    key: Annotated[Path | None, typer.Option(help="The answer key CSV or an assignment.toml.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (the documented fields).")] = False,
    k: Annotated[int | None, typer.Option("--k", help=f"k of top-k accuracy (default: the assignment's k, else {DEFAULT_K}).")] = None,
    params: Annotated[int | None, typer.Option(help="The model's parameter count, for top-1 / params.")] = None,
    model: Annotated[Path | None, typer.Option(help="A state_dict (.pt/.pth) or .safetensors file to count parameters.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (class: gradebook, leaderboard, feedback; file: the JSON report).")] = None,
    feedback: Annotated[bool, typer.Option("--feedback/--no-feedback", help="Class: write per-student feedback pages.")] = True,
    heatmaps: Annotated[bool, typer.Option("--heatmaps/--no-heatmaps", help="Class: draw a confusion-matrix PNG per student (the slow part).")] = True,
) -> None:
    """Score prediction CSVs against an answer key, as a careful TA would.

    Rows are matched by id (trimmed, '.png' optional, leading zeros optional).
    A missing row or a label that is not a class counts as wrong; unknown ids and
    identical duplicates are ignored; each with a warning. Top-k ties between
    equal scores go to the later class (scikit-learn's rule).
    Exit status: 0 scored, 1 invalid submission, 2 usage error.
    """
    assignment, source = _resolve(key)
    if k is None:
        k = assignment.k if assignment is not None else DEFAULT_K
    if params is not None and model is not None:
        raise UsageError("give either --params N or --model FILE, not both.")
    if path.is_dir() or _is_zip(path):
        if params is not None or model is not None:
            raise UsageError("--params and --model apply to one file; a class takes its counts from assignment.toml.")
        _grade_class(path, assignment or source, out or Path("results"), k, as_json, feedback=feedback, heatmaps=heatmaps)
        return
    if not path.exists():
        raise UsageError(f"{str(path)!r} does not exist; give a prediction CSV, a folder or a zip.")
    if model is not None:
        from grading.modelparams import count_parameters

        params = count_parameters(model)
    from grading.key import load_key
    from grading.score import grade_file

    if assignment is not None:
        the_key = load_key(assignment.key_path, id_column=assignment.id_column, label_column=assignment.label_column,
                           labels=assignment.labels, usage_column=assignment.usage_column)  # fmt: skip
    else:
        the_key = load_key(source)
    report = grade_file(path, the_key, k=k, params=params)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{path.stem}.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the report into {str(out)!r} ({exc.strerror}).") from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        from rich.console import Console

        from grading.report import render_summary

        Console(highlight=False).print(render_summary(report))
    raise typer.Exit(0 if report.ok else 1)


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            if f.read(4) != b"PK\x03\x04":
                return False
    except OSError:
        return False
    import zipfile

    return zipfile.is_zipfile(path)


def _grade_class(source: Path, key: Any, out: Path, k: int, as_json: bool, *, feedback: bool, heatmaps: bool) -> None:
    import dataclasses

    from rich.console import Console
    from rich.progress import Progress

    from grading.batch import grade_class, resolve_assignment

    assignment = dataclasses.replace(resolve_assignment(key), k=k)
    console = Console(stderr=True, highlight=False)
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("grading", total=None)

        def progress(done: int, total: int, student: str) -> None:
            bar.update(task, completed=done, total=total, description=f"grading {student}"[:60])

        result = grade_class(source, assignment, out, progress=progress, feedback=feedback, heatmaps=heatmaps)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    console = Console(highlight=False)
    console.print(f"{len(result.students)} submissions: {result.n_ok} scored, {result.n_invalid} invalid.")
    for name, written in result.files.items():
        console.print(f"  {name}: {written}")
    for entry in result.refused:
        console.print(f"  refused {entry['entry']!r}: {entry['reason']}")
    for bug in result.bugs:
        console.print(f"[red]gradkit failed on {bug}; please report it.[/]")


def main() -> None:
    """Entry point of the ``grade`` console script."""
    try:
        app()
    except UsageError as exc:
        typer.echo(f"grade: error: {exc}", err=True)
        sys.exit(2)
    except InvalidSubmission as exc:
        typer.echo(f"grade: {exc}", err=True)
        sys.exit(1)
    except GradingError as exc:
        typer.echo(f"grade: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
