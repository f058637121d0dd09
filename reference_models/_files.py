"""Reading users' files and checking where we write, with one-line :class:`ModelError` messages.

Every loader reads through :func:`read_bytes` / :func:`read_text` and every
command checks its output path with :func:`check_output_file` *before* the
work starts, so an unreadable file, a wrong encoding or an ``--out`` that is a
folder is one sentence, never a traceback (and never an hour of training lost
at the save).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from reference_models.errors import ModelError

__all__ = ["check_output_file", "check_output_folder", "decode_text", "read_bytes", "read_text"]


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``; :class:`ModelError` if it is missing, a folder or unreadable."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise ModelError(f"{path}: is a folder; expected a file.") from None
    except FileNotFoundError:
        raise ModelError(f"{path}: no such file; check the path.") from None
    except PermissionError:
        raise ModelError(f"{path}: permission denied; make the file readable (chmod +r) and run again.") from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc.strerror or exc}).") from None


def decode_text(raw: bytes, where: str) -> str:
    """``raw`` as UTF-8 (a byte-order mark is dropped); :class:`ModelError` names the first bad byte's line.

    >>> decode_text(b"\\xef\\xbb\\xbfx,y", "f.csv")
    'x,y'
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ModelError(
            f"{where}, line {line}: byte {raw[exc.start : exc.start + 1]!r} is not UTF-8; "
            "save the file as UTF-8 (e.g. 'CSV UTF-8' in Excel) and run again."
        ) from None


def read_text(path: Path) -> str:
    """The text of ``path`` as UTF-8, with the messages of :func:`read_bytes` and :func:`decode_text`."""
    return decode_text(read_bytes(path), str(path))


def check_output_file(path: Path | str, what: str = "--out", *, example: str = "out") -> Path:
    """Check that a file can be written at ``path`` (its folder may not exist yet); return it as a Path.

    The nearest existing folder is tested by really creating (and removing) a
    temporary file in it, which is the only test a read-only mount or ``/proc``
    cannot fool.

    Args:
        path: The file to be written.
        what: The option that named it, for the message.
        example: A file name to suggest when ``path`` is a folder.

    Raises:
        ModelError: ``path`` is a folder, a parent is a file, or the folder is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{what} {str(path)!r} is a folder; name a file inside it, e.g. {str(path / example)!r}.")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ModelError(f"{what} {str(path)!r}: {str(parent)!r} is a file, not a folder; choose another path.")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError:
        raise ModelError(
            f"{what} {str(path)!r}: the folder {str(parent)!r} is not writable; choose another path."
        ) from None
    return path


def check_output_folder(path: Path | str, what: str = "--out") -> Path:
    """Check that ``path`` is a folder or can become one; return it as a Path.

    Raises:
        ModelError: ``path`` (or a parent) is a file.
    """
    path = Path(path)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise ModelError(f"{what} {str(path)!r}: {str(part)!r} is a file, not a folder; choose a folder path.")
    return path
