"""`derive params` (a model's parameter/shape table) and `derive shape` (one layer's output size).

torch is imported inside `params` only; `shape` is pure Python.
"""

from __future__ import annotations

import ast
import json
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.shapes import ShapeStep

__all__ = ["register"]


class Format(str, Enum):
    """Output formats of both commands."""

    text = "text"
    latex = "latex"
    json = "json"


def _overrides(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise DeriveError(f"--set takes KEY=VALUE, like --set num_classes=7; got {pair!r}.")
        try:
            out[key.strip()] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            out[key.strip()] = raw.strip()
    return out


def _model_list() -> str:
    from reference_models.registry import MODELS

    width = max(len(n) for n in MODELS)
    return "\n".join(
        f"{s.name:<{width}}  {'x'.join(map(str, s.input_shape)):>9}  {s.description}"
        for s in sorted(MODELS.values(), key=lambda s: s.name)
    )


def _shape_text(step: ShapeStep) -> str:
    lines = [
        f"{'pooling' if step.pool else 'convolution'} output size (one dimension):",
        f"  formula       {step.formula}",
        f"  substitution  {step.substitution}",
        f"  result        {step.result}",
    ]
    if step.note:
        lines.append(f"  note          {step.note}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add the `params` and `shape` commands to ``app``."""

    @app.command()
    def params(
        model: Annotated[str | None, typer.Argument(help="Model name, e.g. hw1-cifar (see --list).")] = None,
        input: Annotated[
            str | None, typer.Option("--input", help="One sample's shape, e.g. 3x32x32 (no batch).")
        ] = None,
        format: Annotated[
            Format, typer.Option("--format", help="text, latex (tabular fragment) or json.")
        ] = Format.text,
        set_: Annotated[list[str], typer.Option("--set", help="Change a Config field: --set num_classes=7.")] = [],  # noqa: B006
        list_: Annotated[bool, typer.Option("--list", help="Name the models and their input shapes.")] = False,
    ) -> None:
        """Parameter and output-shape table of a reference model, with the working of every count.

        Per layer: output shape with ⌊(W + 2P − K)/S⌋ + 1 (⌈W/S⌉ for 'same'), parameters with
        (k·k·C_in + 1)·C_out, then trainable / frozen / buffers, checked against sum(p.numel()).
        """
        if list_:
            typer.echo(_model_list())
            return
        if model is None:
            raise DeriveError(
                "derive params needs a model name, e.g. 'derive params hw1-cifar'; 'derive params --list' names them."
            )
        from reference_models.errors import ModelError
        from reference_models.summary import param_table

        try:
            table = param_table(model, input, overrides=_overrides(set_))
        except ModelError as exc:
            raise DeriveError(str(exc)) from None
        if format is Format.json:
            typer.echo(json.dumps(table.to_dict(), indent=2, ensure_ascii=False))
        elif format is Format.latex:
            typer.echo(table.to_latex(), nl=False)
        else:
            typer.echo(table.to_text(), nl=False)

    @app.command()
    def shape(
        in_: Annotated[int, typer.Option("--in", help="Input size W along one dimension.")],
        kernel: Annotated[int, typer.Option("--kernel", help="Kernel (or pooling window) size K.")],
        stride: Annotated[int | None, typer.Option("--stride", help="Stride S [1; the window for --pool].")] = None,
        padding: Annotated[str, typer.Option("--padding", help="Padding P each side, 'same' or 'valid'.")] = "0",
        dilation: Annotated[int, typer.Option("--dilation", help="Dilation D.")] = 1,
        pool: Annotated[bool, typer.Option("--pool", help="A pooling layer (stride defaults to the window).")] = False,
        ceil_mode: Annotated[
            bool, typer.Option("--ceil-mode", help="Round up, as PyTorch pooling's ceil_mode.")
        ] = False,
        format: Annotated[Format, typer.Option("--format", help="text, latex or json.")] = Format.text,
    ) -> None:
        """Output size of one conv or pool layer: the formula, the numbers put in, the result."""
        from derive.shapes import conv_output_size

        pad: int | str = int(padding) if padding.strip().lstrip("-").isdigit() else padding
        step = conv_output_size(
            in_,
            kernel,
            stride if stride is not None else (kernel if pool else 1),
            pad,
            dilation,
            pool=pool,
            ceil_mode=ceil_mode,
        )
        if format is Format.json:
            typer.echo(json.dumps(step.to_dict(), indent=2, ensure_ascii=False))
        elif format is Format.latex:
            typer.echo(f"${step.latex()}$")
        else:
            typer.echo(_shape_text(step))
