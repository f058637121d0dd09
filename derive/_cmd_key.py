"""`derive key`, `derive softmax-ce`, `derive batchnorm`: answer keys and the two output-layer derivations.

Each command parses, calls the library (:mod:`derive.key`, :mod:`derive.softmax_ce`,
:mod:`derive.batchnorm`) and renders. sympy, torch and jinja2 are imported inside
the commands. A PDF that cannot be made (no TeX, a LaTeX error) exits with 1,
the ``.tex`` kept; a usage error exits with 2 through :func:`derive.cli.main`.
"""

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from derive._options import Format, FormatOption, NoCheckOption, RandomOption, fail_on_mismatch, one_source
from derive.errors import DeriveError


class Output(str, Enum):
    softmax = "softmax"
    sigmoid = "sigmoid"


def _emit(
    module: Any,
    problem: Any,
    derive_one: Any,
    wrt: str | None,
    all_: bool,
    values: Path | None,
    random: int | None,
    fmt: Format,
    check: bool,
) -> None:
    """The shared body of softmax-ce and batchnorm: numbers, derivations, autograd check, output."""
    import json

    from derive.values import read_json

    one_source(values, random)
    if (wrt is None) == (not all_):
        raise DeriveError(f"Give one of --wrt (one of {', '.join(problem.variables)}) or --all.")
    numbers = None
    if values is not None:
        numbers = module.check_values(problem, read_json(values), where=str(values))
    elif random is not None:
        numbers = module.random_values(problem, random)
    names: list[str] = list(problem.variables) if all_ else [str(wrt)]
    derivations = [derive_one(problem, n, values=numbers) for n in names]
    autograds = [module.autograd(problem, n, numbers) if numbers is not None and check else None for n in names]
    if fmt is Format.json:
        docs = [
            {
                "wrt": n,
                "config": vars(problem),
                "values": numbers,
                **d.to_dict(),
                "value": d.result.value,
                "autograd": a,
            }
            for n, d, a in zip(names, derivations, autograds)
        ]
        typer.echo(json.dumps(docs if all_ else docs[0], indent=2, ensure_ascii=False))
        fail_on_mismatch([_Check(n, d.result.value, a) for n, d, a in zip(names, derivations, autograds)])
        return
    from dataclasses import replace

    from derive.render import render_latex, render_text
    from derive.steps import format_number

    checks = [_Check(n, d.result.value, a) for n, d, a in zip(names, derivations, autograds)]
    checked = [
        replace(
            d,
            notes=(
                *d.notes,
                f"Check: torch autograd (float64) gives {format_number(a, 12)}; "
                f"difference {abs(a - d.result.value):.1e}"
                + (": MISMATCH, a bug in derive." if c.check == "mismatch" else "."),
            ),
        )
        if a is not None
        else d
        for d, a, c in zip(derivations, autograds, checks)
    ]
    if fmt is Format.text:
        typer.echo(render_text(checked), nl=False)
    else:
        typer.echo(render_latex(checked, standalone=True), nl=False)
    fail_on_mismatch(checks)


class _Check:
    """One value against torch autograd: ``check`` is ``"ok"``, ``"mismatch"`` or ``None``."""

    def __init__(self, wrt: str, value: Any, autograd: Any) -> None:
        import math

        self.wrt, self.check = wrt, None
        if autograd is not None and value is not None:
            close = math.isclose(value, autograd, rel_tol=1e-9, abs_tol=1e-12)
            self.check = "ok" if close else "mismatch"


def register(app: typer.Typer) -> None:
    """Add ``key``, ``softmax-ce`` and ``batchnorm`` to the ``derive`` app."""
    from derive import batchnorm as bn_defaults
    from derive.problemset import DEFAULT_SEED

    @app.command("softmax-ce")
    def softmax_ce(
        wrt: Annotated[
            str | None, typer.Option("--wrt", help="The logit: z0, z1, ... (softmax) or z (sigmoid).")
        ] = None,
        classes: Annotated[
            int | None, typer.Option(help="Number of logits: 3 by default for softmax, 1 for sigmoid.")
        ] = None,
        output: Annotated[
            Output, typer.Option("--output", help="softmax + cross-entropy, or sigmoid + binary cross-entropy.")
        ] = Output.softmax,
        values: Annotated[
            Path | None, typer.Option("--values", help='JSON numbers: {"z": [...], "y": one-hot [...]}.')
        ] = None,
        random: RandomOption = None,
        fmt: FormatOption = Format.text,
        all_: Annotated[bool, typer.Option("--all", help="Every logit's gradient.")] = False,
        no_check: NoCheckOption = False,
    ) -> None:
        """Derive ∂L/∂z_i = ŷ_i − y_i for softmax + cross-entropy (or sigmoid + binary cross-entropy)."""
        from derive import softmax_ce as module

        default = module.SoftmaxCE.classes if output is Output.softmax else 1
        problem = module.SoftmaxCE(classes=default if classes is None else classes, activation=output.value)
        _emit(module, problem, module.derive_softmax_ce, wrt, all_, values, random, fmt, not no_check)

    @app.command()
    def batchnorm(
        wrt: Annotated[str | None, typer.Option("--wrt", help="gamma, beta, var, mu, or an input x0, x1, ...")] = None,
        batch: Annotated[int, typer.Option("--batch", help="Mini-batch size m.")] = bn_defaults.BatchNorm.batch,
        values: Annotated[
            Path | None,
            typer.Option("--values", help='JSON: {"x": [...], "gamma": n, "beta": n, "dy": [...], "eps": n}.'),
        ] = None,
        random: RandomOption = None,
        fmt: FormatOption = Format.text,
        all_: Annotated[bool, typer.Option("--all", help="Every gradient: γ, β, σ², μ and each x_i.")] = False,
        no_check: NoCheckOption = False,
    ) -> None:
        """Derive the batch-norm backward pass (∂L/∂γ, ∂L/∂β, ∂L/∂σ², ∂L/∂μ, ∂L/∂x_i) from the upstream ∂L/∂y_i."""
        from derive import batchnorm as module

        problem = module.BatchNorm(batch=batch)
        _emit(module, problem, module.derive_batchnorm, wrt, all_, values, random, fmt, not no_check)

    @app.command()
    def key(
        problems: Annotated[Path, typer.Argument(help="The problem set (TOML), e.g. examples/hw2-2024.toml.")],
        out: Annotated[
            Path | None,
            typer.Option("--out", help="The key's PDF (default NAME-key.pdf); with --roster a folder (default keys/)."),
        ] = None,
        tex: Annotated[bool, typer.Option("--tex", help="Stop at the .tex files (no pdflatex).")] = False,
        roster: Annotated[
            Path | None, typer.Option("--roster", help="CSV with a 'student' column (and 'name'): one variant each.")
        ] = None,
        seed: Annotated[
            int | None,
            typer.Option("--seed", help=f"Seed of the random values (default: the set's 'seed', else {DEFAULT_SEED})."),
        ] = None,
        jobs: Annotated[
            int | None, typer.Option("--jobs", help="Parallel pdflatex runs (default: all cores).", min=1)
        ] = None,
    ) -> None:
        """Render a problem set as an answer-key PDF, or per-student question and answer sheets with --roster."""
        from derive.key import write_keys
        from derive.pdf import LatexError
        from derive.problemset import load_problem_set, read_roster

        problem_set = load_problem_set(problems)
        students = read_roster(roster) if roster is not None else None
        target = out or (Path("keys") if students else Path(f"{problems.stem}-key.pdf"))
        try:
            if students is None:
                files = write_keys(problem_set, target, seed=seed, tex_only=tex)
            else:
                files = _with_progress(write_keys, problem_set, target, seed, students, tex, jobs)
        except LatexError as exc:
            typer.echo(f"derive: error: {exc}", err=True)
            raise typer.Exit(1) from None
        if students is None:
            typer.echo(f"wrote {files.pdfs[0] if files.pdfs else files.tex[0]}")
            for name, value in files.sheets[0].answers().items():
                typer.echo(f"  {name} = {value:.6g}" if isinstance(value, float) else f"  {name} = {value:,}")
            return
        if tex:
            typer.echo(
                f"wrote {len(files.tex)} .tex files for {len(students)} students in {target}/ and {files.answers_json}"
            )
            return
        fresh = len(files.pdfs) - files.reused
        if not fresh:
            typer.echo(
                f"all {files.reused} PDFs for {len(students)} students in {target}/ were up to date: no LaTeX run; "
                f"wrote {files.answers_json}"
            )
            return
        kept = f" ({files.reused} unchanged, kept)" if files.reused else ""
        typer.echo(
            f"wrote {fresh} PDFs{kept} for {len(students)} students in {target}/ (with class-questions.pdf and "
            f"class-answers.pdf for printing) and {files.answers_json}"
        )


def _with_progress(
    write_keys: Any, problem_set: Any, target: Path, seed: int | None, students: Any, tex: bool, jobs: int | None
) -> Any:
    """Run :func:`write_keys` for a roster with a rich progress bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("compiling"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("pdf", total=None if tex else 2 * len(students))
        return write_keys(
            problem_set,
            target,
            seed=seed,
            roster=students,
            tex_only=tex,
            jobs=jobs,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
