"""The ``derive`` command: parses, calls one library function, renders.

Each sub-command lives in its own ``derive/_cmd_*.py`` module, which imports
sympy or torch inside the command function only, so that ``derive --help``
and ``derive grad`` start fast. A :class:`~derive.errors.DeriveError` becomes
one line on stderr and exit code 2; anything else is our bug and keeps its
traceback.
"""

from __future__ import annotations

import sys

import typer

from derive.errors import DeriveError

app = typer.Typer(
    name="derive",
    help="Backpropagation answer keys, derived symbolically and checked against torch autograd.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command module; each module defines `register(app)`.
from derive import _cmd_grad  # noqa: E402
from derive import _cmd_params  # noqa: E402
from derive import _cmd_key  # noqa: E402

_cmd_grad.register(app)
_cmd_params.register(app)
_cmd_key.register(app)


def main() -> None:
    """Entry point of the ``derive`` console script."""
    try:
        app()
    except DeriveError as exc:
        typer.echo(f"derive: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
