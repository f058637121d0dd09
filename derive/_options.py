"""What the ``derive`` commands share: the output format, the numbers options, and their checks.

Only typer and the standard library here: every command module imports this at start-up.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from derive.errors import DeriveError

__all__ = ["Format", "FormatOption", "NoCheckOption", "RandomOption", "fail_on_mismatch", "one_source"]


class Format(str, Enum):
    """``--format``: text for a terminal, LaTeX, or JSON for other tools."""

    text = "text"
    latex = "latex"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text (terminal), latex (compiles as is) or json.")]
RandomOption = Annotated[
    int | None, typer.Option("--random", help="Evaluate at random hand-sized numbers from this seed.")
]
NoCheckOption = Annotated[bool, typer.Option("--no-check", help="Skip the torch autograd check of the numbers.")]


def one_source(values: Path | None, random: int | None) -> None:
    """Refuse ``--values`` together with ``--random``: both give the numbers."""
    if values is not None and random is not None:
        raise DeriveError("--values and --random both give numbers: use one of them.")


def fail_on_mismatch(gradients: list) -> None:
    """Exit 1 (after the output) when torch autograd disagrees with a derived value.

    A difference at a ReLU kink (``check == "kink"``) is explained in the notes and is
    not a failure; any other disagreement is a bug in derive and must not pass silently.
    """
    bad = [g for g in gradients if getattr(g, "check", None) == "mismatch"]
    if bad:
        names = ", ".join(str(g.wrt) for g in bad[:5]) + (" ..." if len(bad) > 5 else "")
        typer.echo(
            f"derive: error: torch autograd disagrees with the derived value of {names}; "
            "this is a bug in derive, please report the command and values.",
            err=True,
        )
        raise typer.Exit(1)
