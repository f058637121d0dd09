"""Reading a user's text file (a values file, a network file) with one-line errors that name it."""

from __future__ import annotations

from pathlib import Path

from derive.errors import DeriveError

__all__ = ["read_user_text"]


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
