"""`derive grad`: one gradient (or all of them) of the conv → activation → dense → loss problem.

Parses options, calls :func:`derive.gradient` / :func:`derive.all_gradients`, renders.
sympy is imported inside the command (``derive --help`` stays fast); torch only when
numbers are checked.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from derive._options import Format, FormatOption, NoCheckOption, RandomOption, fail_on_mismatch, one_source
from derive.errors import DeriveError
from derive.problem import ACTIVATIONS, LOSSES, Problem

_P = Problem  # one source of truth: the options' defaults are the library's


# --activation and --loss choices; mypy reads Enum() members only from a literal, not from a comprehension
Activation = Enum("Activation", {name: name for name in ACTIVATIONS}, type=str)  # type: ignore[misc]
Loss = Enum("Loss", {name: name for name in LOSSES}, type=str)  # type: ignore[misc]


def register(app: typer.Typer) -> None:
    """Add the ``grad`` command to the ``derive`` app."""

    @app.command()
    def grad(
        wrt: Annotated[
            str | None, typer.Option("--wrt", help="Variable: a21, w11, v0, b, c (or z00, h00, yhat, p).")
        ] = None,
        loss: Annotated[
            Loss, typer.Option(help="mse: L = (ŷ - y)²; bce: p = σ(ŷ), L = -\\[y ln p + (1 - y) ln(1 - p)].")
        ] = Loss(_P.loss),
        input: Annotated[str, typer.Option("--input", help="Input size ROWSxCOLS.")] = "x".join(map(str, _P.input)),
        kernel: Annotated[str, typer.Option(help="Kernel size ROWSxCOLS.")] = "x".join(map(str, _P.kernel)),
        stride: Annotated[int, typer.Option(help="Convolution stride.")] = _P.stride,
        padding: Annotated[int, typer.Option(help="Zero padding on each side.")] = _P.padding,
        conv_bias: Annotated[
            bool, typer.Option("--conv-bias/--no-conv-bias", help="Convolution bias b.")
        ] = _P.conv_bias,
        dense_bias: Annotated[bool, typer.Option("--dense-bias/--no-dense-bias", help="Dense bias c.")] = _P.dense_bias,
        activation: Annotated[Activation, typer.Option(help="Activation after the convolution.")] = Activation(
            _P.activation
        ),
        half_mse: Annotated[bool, typer.Option("--half-mse", help="Use L = ½(ŷ - y)² (MSE only).")] = _P.half_mse,
        input_symbol: Annotated[
            str, typer.Option("--input-symbol", help="Letter of the input (a course may use x).")
        ] = _P.input_symbol,
        one_based: Annotated[
            bool, typer.Option("--one-based", help="Number indices from 1 (a11 is the top-left input).")
        ] = _P.one_based,
        values: Annotated[
            Path | None, typer.Option("--values", help='JSON numbers: {"a": rows, "w": rows, "v": [...], "y": n}.')
        ] = None,
        random: RandomOption = None,
        fmt: FormatOption = Format.text,
        all_: Annotated[bool, typer.Option("--all", help="Every gradient of the problem in one table.")] = False,
        no_check: NoCheckOption = False,
        net: Annotated[
            Path | None,
            typer.Option("--net", help='A network file (TOML): any small network; --wrt "conv1.w[0,0,1,1]".'),
        ] = None,
    ) -> None:
        """Derive ∂L/∂WRT step by step: forward pass, chain-rule factors, index form, terms.

        The network: input → convolution (a cross-correlation, as in PyTorch and Keras)
        → activation → flatten (row-major) → weighted sum ŷ → loss.
        """
        if net is not None:  # any small network (derive.network); the options above are the classic problem's
            from derive.network.render import grad_net

            classic = (
                loss.value,
                input,
                kernel,
                stride,
                padding,
                conv_bias,
                dense_bias,
                activation.value,
                half_mse,
                input_symbol,
                one_based,
            )
            if classic != (
                _P.loss,
                "x".join(map(str, _P.input)),
                "x".join(map(str, _P.kernel)),
                _P.stride,
                _P.padding,
                _P.conv_bias,
                _P.dense_bias,
                _P.activation,
                _P.half_mse,
                _P.input_symbol,
                _P.one_based,
            ):
                raise DeriveError(
                    "--net describes the whole network: drop the classic problem's options (--loss, --input, --kernel, "
                    "--stride, --padding, --activation, the biases, --half-mse, --input-symbol, --one-based), or drop --net."
                )

            typer.echo(
                grad_net(net, wrt=wrt, values=values, random=random, all_=all_, fmt=fmt.value, check=not no_check),
                nl=False,
            )
            return
        import json

        from derive import all_gradients, gradient, load_values, random_values
        from derive.problem import Problem, parse_size
        from derive.table import render_table_latex, render_table_text

        one_source(values, random)
        if not all_ and wrt is None:
            raise DeriveError(
                "Missing --wrt: name the variable to differentiate with respect to (e.g. --wrt w11), or use --all."
            )
        if all_ and wrt is not None:
            raise DeriveError("--all derives every gradient: drop --wrt, or drop --all.")
        problem = Problem(
            input=parse_size(input, option="--input"),
            kernel=parse_size(kernel, option="--kernel"),
            stride=stride,
            padding=padding,
            conv_bias=conv_bias,
            activation=activation.value,
            dense_bias=dense_bias,
            loss=loss.value,
            half_mse=half_mse,
            input_symbol=input_symbol,
            one_based=one_based,
        )
        numbers = (
            load_values(values, problem)
            if values is not None
            else random_values(problem, random)
            if random is not None
            else None
        )
        check = not no_check
        if all_:
            grads = all_gradients(problem, values=numbers, check=check)
            if fmt is Format.json:
                typer.echo(json.dumps([g.to_dict() for g in grads], indent=2, ensure_ascii=False))
            elif fmt is Format.latex:
                typer.echo(render_table_latex(grads, standalone=True), nl=False)
            else:
                typer.echo(render_table_text(grads), nl=False)
            fail_on_mismatch(grads)
            return
        assert wrt is not None  # the checks above: without --all, --wrt is required
        g = gradient(problem, wrt, values=numbers, check=check)
        if fmt is Format.json:
            typer.echo(json.dumps(g.to_dict(), indent=2, ensure_ascii=False))
            fail_on_mismatch([g])
            return
        from derive.render import render_latex, render_text

        d = g.to_derivation()
        typer.echo(render_latex(d, standalone=True) if fmt is Format.latex else render_text(d), nl=False)
        fail_on_mismatch([g])
