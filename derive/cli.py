"""The ``derive`` command: parses, calls one library function, renders.

Each sub-command lives in its own ``derive/_cmd_*.py`` module, which imports
sympy or torch inside the command function only, so that ``derive --help``
and ``derive grad`` start fast. A :class:`~derive.errors.DeriveError` becomes
one line on stderr and exit code 2; anything else is our bug and keeps its
traceback.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from derive.errors import DeriveError

if TYPE_CHECKING:
    from typer._click.exceptions import ClickException

app = typer.Typer(
    name="derive",
    help="Backpropagation answer keys, derived symbolically and checked against torch autograd.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command module; each module defines `register(app)`.
from derive import _cmd_grad, _cmd_key, _cmd_params  # noqa: E402

_cmd_grad.register(app)
_cmd_params.register(app)
_cmd_key.register(app)


def main() -> None:
    """Entry point of the ``derive`` console script.

    A usage error typer finds (an unknown choice, a word where a number goes) is one
    line ``derive: error: ...`` and exit 2, like a :class:`DeriveError`; option values
    are coerced by :mod:`derive._coerce` (no pydantic at start-up).
    """
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    from derive._coerce import install

    install()
    try:
        code = app(standalone_mode=False)
    except DeriveError as exc:
        typer.echo(f"derive: error: {exc}", err=True)
        sys.exit(2)
    except NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help())
        sys.exit(exc.exit_code)
    except ClickException as exc:
        typer.echo(f"derive: error: {usage_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def usage_line(exc: ClickException) -> str:
    """One line for a usage error: typer's message, and where the options are listed."""
    text = " ".join(exc.format_message().split())
    text = text.removeprefix("Invalid value: ")
    if text.startswith("Invalid value for '") and "': --" in text:  # our own sentence names the option
        text = text.split("': ", 1)[1]
    ctx = getattr(exc, "ctx", None)
    names = []
    while ctx is not None and ctx.parent is not None:  # "derive grad", however Python was started
        names.append(ctx.info_name)
        ctx = ctx.parent
    where = (
        f" See '{' '.join(['derive', *reversed(names)])} --help'." if ctx is not None and "--help" not in text else ""
    )
    return text + where


if __name__ == "__main__":  # pragma: no cover
    main()
