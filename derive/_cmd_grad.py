"""`derive grad`: placeholder until the engine lands (issue 2)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def grad() -> None:
        """Derive a gradient of the conv-sigmoid-dense problem (not built yet)."""
        raise typer.Exit(1)
