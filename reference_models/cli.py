"""``python -m reference_models``: make data, train, evaluate, predict, draw figures.

Thin: each command parses, calls one library function, renders. torch is
imported inside the commands so ``--help`` is quick. A :class:`ModelError`
becomes one line on stderr: exit 2 when the command line is wrong (unknown
model, missing path, a ``--set`` the data does not fit: a :class:`SettingError`),
exit 1 when the data or the weights are, or the training diverges.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from reference_models.config import TrainConfig
from reference_models.errors import ModelError, SettingError, TrainingInterrupted

TRAIN_THREADS = TrainConfig().threads

app = typer.Typer(
    name="reference_models",
    help="Reference models of the course: make data, train, evaluate, predict, draw figures. Nothing is downloaded.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _Usage(SettingError):
    """A ModelError caused by the command line itself (exit 2)."""


def _check(
    name: str,
    data: Path | None = None,
    weights: Path | None = None,
    *,
    out_file: Path | None = None,
    example: str = "out",
    out_folder: Path | None = None,
    overrides: dict[str, Any] | None = None,
    config: Any = None,
) -> None:
    """Refuse a wrong command line (exit 2) before any work: model, settings (that it can be built with them),
    training options, paths to read and to write."""
    from reference_models._files import check_output_file, check_output_folder
    from reference_models.config import check_train_config
    from reference_models.data import task_of
    from reference_models.registry import check_buildable, get

    try:
        get(name)
        task_of(name)
        if overrides:
            check_buildable(name, **overrides)
        if config is not None:
            check_train_config(config)
        if out_file is not None:
            check_output_file(out_file, example=example)
        if out_folder is not None:
            check_output_folder(out_folder)
    except ModelError as exc:
        raise _Usage(str(exc)) from None
    for what, path in (("--data", data), ("--weights", weights)):
        if path is not None and not path.exists():
            raise _Usage(f"{what} {str(path)!r} does not exist; check the path.")


def _check_weights(name: str, weights: Path | None) -> None:
    from reference_models.weights import shipped_weights

    if weights is None and shipped_weights(name) is None:
        raise _Usage(
            f"Model {name!r} ships no trained weights; pass --weights FILE (train one with: python -m reference_models train {name} --data DIR --out FILE)."
        )


@contextmanager
def _progress(label: str) -> Iterator[Any]:
    """A rich progress bar on stderr; yields ``update(done, total)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    quiet = not console.is_terminal or not _main_rank()
    with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _epoch_log(epochs: int) -> Any:
    """``on_epoch`` for ``fit``: a line per epoch on stderr when it is not a terminal (a log, CI, nohup), else nothing.

    Beyond 100 epochs, every k-th epoch so the log has about 100 lines.
    """
    from rich.console import Console

    if Console(stderr=True).is_terminal:
        return None
    from reference_models._train_report import epoch_line

    every = max(1, -(-epochs // 100))  # at most about 100 lines, and always the last epoch
    return lambda h: (
        typer.echo(epoch_line(h, epochs), err=True) if h.epoch[-1] % every == 0 or h.epoch[-1] == epochs else None
    )


def _overrides(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise _Usage(f"--set expects KEY=VALUE, got {item!r}.")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def _main_rank() -> bool:
    """False in the processes of a ``torchrun`` job other than rank 0: they print nothing."""
    import os

    return os.environ.get("RANK", "0") in ("", "0")


def _device(spec: str) -> Any:
    """Resolve ``--device`` (exit 2 when this machine lacks it); name it on stderr when it is not the CPU.

    ``train`` names it in its output's first line (and in ``--json``) whatever it is.
    """
    import os

    from reference_models.device import describe, resolve_device

    device = resolve_device(spec)
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if _main_rank() and device.type != "cpu":
        where = describe(device) if world == 1 else f"{device.type}, {world} torchrun processes"
        typer.echo(f"device: {where}", err=True)
    return device


Model = Annotated[str, typer.Argument(help="Model name, e.g. hw2-digits (derive params --list names them).")]
Data = Annotated[Path | None, typer.Option(help="Data folder or file (see make-data); hw1-circles needs none.")]
Weights = Annotated[Path | None, typer.Option(help="Weights (.safetensors); default: the model's shipped weights.")]
Figures = Annotated[Path | None, typer.Option(help="Also write the figures (PNG) into this folder.")]
Device = Annotated[str, typer.Option(help="auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps.")]


@app.command("make-data")
def make_data(
    task: Annotated[str, typer.Argument(help="hw2, circles or regression.")],
    out: Annotated[Path, typer.Option(help="Folder to write.")],
    n_train: Annotated[int, typer.Option(help="HW2 training images.")] = 10000,
    n_test: Annotated[int, typer.Option(help="HW2 test images (test/labels.csv is the grading key).")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed; the same seed writes the same files.")] = 0,
) -> None:
    """Write a data set: HW2 digits (train/ and test/), the circles, or the regression sample."""
    from reference_models._files import check_output_folder
    from reference_models.data.generate import make_data as run

    if task not in ("hw2", "circles", "regression"):
        raise _Usage(f"make-data knows hw2, circles and regression, not {task!r}.")
    if min(n_train, n_test) < 0:
        raise _Usage(f"--n-train and --n-test must be 0 or more, got {n_train} and {n_test}.")
    try:
        check_output_folder(out)
    except ModelError as exc:
        raise _Usage(str(exc)) from None
    with _progress(f"make-data {task}"):
        written = run(task, out, n_train=n_train, n_test=n_test, seed=seed)
    for path in written:
        typer.echo(f"wrote {path}")


@app.command()
def train(
    model: Model,
    out: Annotated[Path, typer.Option(help="Where to save the trained weights (.safetensors).")],
    data: Data = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: the task's).")] = None,
    seed: Annotated[int, typer.Option(help="Seeds weights, data order and augmentation.")] = 0,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: the task's).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size (default: the task's).")] = None,
    set_: Annotated[
        list[str], typer.Option("--set", help="Model config override KEY=VALUE, e.g. kind=polynomial.")
    ] = [],  # noqa: B006
    figures: Figures = None,
    threads: Annotated[
        int, typer.Option(help="CPU threads while training; the same seed gives the same bytes for the same --threads.")
    ] = TRAIN_THREADS,
    json_: Annotated[
        bool,
        typer.Option(
            "--json", help="Print JSON: history (loss, top-1, top-5 per epoch), notes, HW1's regression answers."
        ),
    ] = False,
    device: Device = "auto",
    amp: Annotated[bool, typer.Option(help="Mixed precision: bf16 autocast (CPU, recent GPUs), else fp16.")] = False,
    resume: Annotated[
        Path | None, typer.Option(help="Continue from this last.pt (written beside --out after every epoch).")
    ] = None,
) -> None:
    """Train MODEL on --data and save its weights; print the history (and HW1's coefficients and f')."""
    from dataclasses import replace

    from reference_models.data import task_of
    from reference_models.registry import get
    from reference_models.train import DEFAULTS, train_model

    overrides = _overrides(set_)
    try:
        get(model)
        task = task_of(model)
    except ModelError as exc:
        raise _Usage(str(exc)) from None
    changes: dict[str, Any] = {
        k: v for k, v in {"epochs": epochs, "lr": lr, "batch_size": batch_size}.items() if v is not None
    }
    config = replace(DEFAULTS[task], seed=seed, threads=threads, **changes)
    _check(
        model,
        data,
        out_file=out,
        example=f"{model}.safetensors",
        out_folder=figures,
        overrides=overrides,
        config=config,
    )
    where = _device(device)
    if amp:
        from reference_models.device import amp_mode

        amp_mode(where)
    with _progress(f"train {model} on {where}") as update:
        run = train_model(
            model,
            data,
            out,
            config,
            overrides=overrides,
            on_step=update,
            on_epoch=_epoch_log(config.epochs) if _main_rank() else None,
            device=device,
            amp=amp,
            resume=resume,
        )
    if not run.main:
        return
    typer.echo(json.dumps(run.to_json()) if json_ else run.to_text())
    if figures:
        from reference_models.figures import write_figures

        for path in write_figures(
            model, run.model, data, figures, history=run.history, seed=seed, augmented=run.augmented
        ):
            typer.echo(f"wrote {path}", err=json_)


@app.command()
def evaluate(
    model: Model,
    data: Data = None,
    weights: Weights = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    figures: Figures = None,
    device: Device = "auto",
) -> None:
    """Top-1/3/5, parameters and confusion matrix of MODEL on the test part of --data."""
    _check(model, data, weights, out_folder=figures)
    _check_weights(model, weights)
    where = _device(device)
    from reference_models.data import load_for, task_of
    from reference_models.evaluate import evaluate as run
    from reference_models.weights import load_model, seed_of

    net, metadata = load_model(model, weights)
    test = load_for(task_of(model), data, "test", seed=seed_of(metadata))
    with _progress(f"evaluate {model}") as update:
        result = run(net.to(where), test, name=model, on_batch=update)
    net.cpu()  # the figures are drawn on the CPU
    typer.echo(json.dumps(result.to_json()) if json_ else result.to_text())
    if figures:
        from reference_models.figures import write_figures

        for path in write_figures(model, net, data, figures, evaluation=result, seed=seed_of(metadata)):
            typer.echo(f"wrote {path}", err=json_)


@app.command()
def predict(
    model: Model,
    out: Annotated[Path, typer.Option(help="Submission CSV to write, e.g. HW2_prob1.csv.")],
    data: Data = None,
    weights: Weights = None,
    device: Device = "auto",
) -> None:
    """Write the submission CSV grade reads (image,class,class_2,class_3) for the test part of --data."""
    _check(model, data, weights, out_file=out, example="HW2_prob1.csv")
    _check_weights(model, weights)
    where = _device(device)
    from reference_models.data import load_for, task_of
    from reference_models.predict import predict as run
    from reference_models.predict import write_submission
    from reference_models.weights import load_model, seed_of

    net, metadata = load_model(model, weights)
    task = task_of(model)
    test = load_for(task, data, "test", seed=seed_of(metadata))
    with _progress(f"predict {model}") as update:
        predictions = run(net.to(where), test, on_batch=update)
    path = write_submission(predictions, out, id_column="image" if task == "hw2" else "id")
    typer.echo(f"wrote {path} ({len(predictions.ids)} rows)")


@app.command("figures")
def figures_(
    model: Model,
    out: Annotated[Path, typer.Option(help="Folder for the PNG files.")],
    data: Data = None,
    weights: Weights = None,
    device: Device = "auto",
) -> None:
    """Draw MODEL's figures: history (from the weights), confusion matrix, saliency, filter patterns, decision boundary.

    --device runs the evaluation behind the confusion matrix; the figures themselves are drawn on the CPU.
    """
    _check(model, data, weights, out_folder=out)
    _check_weights(model, weights)
    where = _device(device)
    from reference_models.data import load_for, task_of
    from reference_models.evaluate import evaluate as run
    from reference_models.figures import write_figures
    from reference_models.weights import augmented_of, history_of, load_model, seed_of

    net, metadata = load_model(model, weights)
    test = load_for(task_of(model), data, "test", seed=seed_of(metadata))
    evaluation = run(net.to(where), test, name=model) if test.labeled else None
    net.cpu()
    for path in write_figures(
        model,
        net,
        data,
        out,
        history=history_of(metadata),
        evaluation=evaluation,
        seed=seed_of(metadata),
        augmented=augmented_of(metadata),
    ):
        typer.echo(f"wrote {path}")


def main() -> None:
    """Entry point of ``python -m reference_models``."""
    try:
        app()
    except TrainingInterrupted as exc:
        typer.echo(f"reference_models: {exc}", err=True)
        sys.exit(130)
    except SettingError as exc:
        typer.echo(f"reference_models: error: {exc}", err=True)
        sys.exit(2)
    except ModelError as exc:
        typer.echo(f"reference_models: error: {exc}", err=True)
        sys.exit(1)
