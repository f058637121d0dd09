"""The one exception tree of :mod:`derive`.

Every error a user can cause (a bad option, a values file of the wrong shape, an
unknown variable) is a :class:`DeriveError`; the CLI prints its message on one
line and exits with code 2. Anything else is our bug and keeps its traceback.
"""

from __future__ import annotations

import difflib

__all__ = ["DeriveError", "did_you_mean"]


class DeriveError(ValueError):
    """A problem with what the user asked for: where, what was expected, what came, how to fix it."""


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""`` if none is close.

    >>> did_you_mean("sigmiod", ["sigmoid", "tanh", "relu"])
    " Did you mean 'sigmoid'?"
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""
