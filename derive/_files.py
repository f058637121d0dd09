"""Reading a user's text file (a values file, a network file) with one-line errors that name it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from derive.errors import DeriveError

__all__ = ["MAX_TOML_DEPTH", "parse_toml", "read_user_text"]

MAX_TOML_DEPTH = 16
"""Deepest nesting of tables and arrays a network file or a problem set may have (they need about 5)."""


def read_user_text(
    path: str | Path, what: str, *, inside: str = "JSON", missing: str = ".", save_as: str = "UTF-8"
) -> str:
    """The UTF-8 text of ``path``, the ``what`` file of a command (``"values file"``).

    Args:
        inside: the kind of file a folder should hold (``"JSON"``, ``".toml"``), for the folder message.
        missing: the end of the sentence when the file does not exist (a hint, or ``"."``).
        save_as: what the "not UTF-8" message asks the user to save it as.

    Raises:
        DeriveError: a folder, no such file, not UTF-8 or unreadable; one sentence naming the path.

    >>> read_user_text("/nonexistent.json", "values file")
    Traceback (most recent call last):
    derive.errors.DeriveError: values file '/nonexistent.json' does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise DeriveError(f"{what} {str(path)!r} is a folder: give the {inside} file inside it.")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeriveError(f"{what} {str(path)!r} does not exist{missing}") from None
    except UnicodeDecodeError:
        raise DeriveError(f"{what} {str(path)!r} is not UTF-8 text: save it as {save_as}.") from None
    except OSError as exc:
        raise DeriveError(f"{what} {str(path)!r} cannot be read: {exc.strerror or exc}.") from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML ``text`` as a dict, or one line naming ``source``: not TOML, or nested too deeply.

    A file nested hundreds of levels deep (``[[[[...]]]]`` or ``{a = {a = ...}}``) is refused here in
    one sentence, never with a RecursionError from the TOML reader or from a later walk over it.

    >>> parse_toml("a = " + "[" * 300 + "]" * 300, "net.toml")
    Traceback (most recent call last):
    derive.errors.DeriveError: net.toml: nested more than 16 levels deep (arrays or tables inside each other); a network file or a problem set needs at most about 5.
    """
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeriveError(f"{source}: not valid TOML: {exc}. Check quotes, brackets and '=' on that line.") from None
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_TOML_DEPTH:
        raise DeriveError(
            f"{source}: nested more than {MAX_TOML_DEPTH} levels deep (arrays or tables inside each other); "
            "a network file or a problem set needs at most about 5."
        )
    return data


def _depth(value: object) -> int:
    """How deeply lists and dicts nest in ``value`` (iteratively: no recursion however deep)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_TOML_DEPTH:
            break
        if isinstance(v, dict):
            stack += [(x, d + 1) for x in v.values()]
        elif isinstance(v, list):
            stack += [(x, d + 1) for x in v]
    return deepest
