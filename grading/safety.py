"""Defences against what a class sends: zip-slip, zip bombs, huge files, spreadsheet formulas.

- :func:`safe_extract` (from :mod:`grading.unzip`) unpacks a class's zip without trusting it.
- :func:`is_zip` tells a zip from a CSV without ever blocking on a pipe or a device.
- :func:`defuse_cell` prefixes ``'`` to a text cell that a spreadsheet would run as
  a formula (starting with ``= + - @``, tab or carriage return), as OWASP advises.
- :func:`slugify` turns a student id or name into a safe file name.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
import zipfile
from pathlib import Path

from grading.errors import UsageError
from grading.unzip import DEFAULT_MAX_MEMBERS, DEFAULT_MAX_TOTAL_BYTES, Extraction, format_size, safe_extract

__all__ = [
    "DEFAULT_MAX_MEMBERS",
    "DEFAULT_MAX_TOTAL_BYTES",
    "Extraction",
    "defuse_cell",
    "format_size",
    "is_zip",
    "safe_extract",
    "slugify",
    "strip_control",
    "unique_slugs",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_control(text: str) -> str:
    """``text`` without terminal escape sequences, control characters or bidi overrides.

    Tabs and ``\\n`` stay (callers that need one line join the words).

    >>> strip_control("Mallory\\x1b[31m red\\x1b[0m\\x07 \\u202eevil")
    'Mallory red evil'
    """
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def defuse_cell(value: str) -> str:
    """Make a text cell inert in Excel, LibreOffice and Google Sheets.

    >>> defuse_cell("=HYPERLINK(\\"http://x\\")"), defuse_cell("Ada Lovelace")
    ('\\'=HYPERLINK("http://x")', 'Ada Lovelace')
    """
    return "'" + value if value.startswith(_FORMULA_START) else value


def is_zip(path: Path) -> bool:
    """True when ``path`` is a readable zip archive (checked by its magic number first, so it is cheap).

    An empty zip (no entries) is a zip. A path that does not exist, a folder or an unreadable
    file is not.

    Raises:
        UsageError: ``path`` is a pipe, a socket or a device: reading it could wait forever.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            return False
        raise UsageError(
            f"{str(path)!r} is not a regular file (a pipe, socket or device); give a CSV file, "
            "a folder or a zip of submissions."
        )
    try:
        with Path(path).open("rb") as f:
            if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):  # an entry, or the end of an empty zip
                return False
    except OSError:
        return False
    return zipfile.is_zipfile(path)


def slugify(text: str, default: str = "student") -> str:
    """A file-name-safe form of ``text``: letters (any script), digits, ``.``, ``_``, ``-``.

    Path separators, ``..`` and control characters cannot survive, so a student
    called ``../../etc/passwd`` becomes ``etc_passwd``.

    >>> slugify("../../etc/passwd"), slugify("Chen, Wei"), slugify("王小明"), slugify("...")
    ('etc_passwd', 'Chen_Wei', '王小明', 'student')
    """
    text = unicodedata.normalize("NFC", text)
    slug = re.sub(r"[^\w.-]+", "_", text, flags=re.UNICODE)
    slug = re.sub(r"\.{2,}", ".", slug).strip("._-")[:80].rstrip("._-")
    if not slug:
        return default
    if slug.split(".")[0].lower() in _WINDOWS_RESERVED:
        slug = "_" + slug
    return slug


def unique_slugs(ids: list[str]) -> list[str]:
    """Slugs for several ids, made distinct (case-insensitively) with ``-2``, ``-3``…

    >>> unique_slugs(["a/b", "a_b", "A_B"])
    ['a_b', 'a_b-2', 'A_B-3']
    """
    seen: set[str] = set()
    out = []
    for sid in ids:
        base = slugify(sid)
        slug, n = base, 1
        while slug.lower() in seen:
            n += 1
            slug = f"{base}-{n}"
        seen.add(slug.lower())
        out.append(slug)
    return out
