"""The one exception tree of :mod:`derive`.

Every error a user can cause (a bad option, a values file of the wrong shape, an
unknown variable) is a :class:`DeriveError`; the CLI prints its message on one
line and exits with code 2. Anything else is our bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import reprlib

__all__ = ["DeriveError", "did_you_mean", "shown"]


class DeriveError(ValueError):
    """A problem with what the user asked for: where, what was expected, what came, how to fix it."""


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxtuple, _SHOWN.maxdict = 3, 6, 6, 4
_SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = 80, 80, 40
SHOWN_CHARS = 120
"""A value echoed in a message is cut to about this many characters (a 50,000-number list is not echoed whole)."""


def shown(value: object) -> str:
    """``repr(value)`` for a message, cut: at most a few items of a list, 3 levels of nesting, ~120 characters.

    >>> shown([0.5] * 50000)
    '[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, ...]'
    >>> shown("w11"), shown([[[[[1]]]]])
    ("'w11'", '[[[[...]]]]')
    """
    out = _SHOWN.repr(value)
    return out if len(out) <= SHOWN_CHARS else out[: SHOWN_CHARS - 3] + "..."


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""`` if none is close.

    Case is ignored when comparing (a TA who types ``W11`` means ``w11``), and the
    choice is suggested as it is spelled.

    >>> did_you_mean("sigmiod", ["sigmoid", "tanh", "relu"])
    " Did you mean 'sigmoid'?"
    >>> did_you_mean("W11", ["z11", "w11", "a11"])
    " Did you mean 'w11'?"
    """
    spelled: dict[str, str] = {}
    for choice in choices:
        spelled.setdefault(str(choice).lower(), str(choice))
    close = difflib.get_close_matches(str(word).lower(), list(spelled), n=1, cutoff=0.5)
    return f" Did you mean {spelled[close[0]]!r}?" if close else ""
