"""Defences against what a class sends: zip-slip, zip bombs, huge files, spreadsheet formulas.

- :func:`safe_extract` unpacks a zip member by member: an entry whose path is
  absolute, climbs with ``..``, is a symlink, is encrypted, has a name longer than
  255 bytes, or clashes with another entry (a file and a folder of the same name,
  or the same file twice) is refused on its own; an entry above the size limit is
  refused *before* it is read (and the read is capped in case the zip lies about
  sizes); too many entries, too many bytes in total, or a compression ratio no
  CSV reaches stop the whole extraction with a :class:`UsageError` before
  anything is written.
- :func:`defuse_cell` prefixes ``'`` to a text cell that a spreadsheet would run as
  a formula (starting with ``= + - @``, tab or carriage return), as OWASP advises.
- :func:`slugify` turns a student id or name into a safe file name.
"""

from __future__ import annotations

import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grading.errors import UsageError

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

DEFAULT_MAX_MEMBERS = 20_000
DEFAULT_MAX_TOTAL_BYTES = 2_000_000_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_CHUNK = 1 << 16
_MAX_NAME_BYTES = 255
_BOMB_RATIO = 200  # prediction CSVs deflate about 3-10 times; a bomb, hundreds of times
_BOMB_FLOOR = 50_000_000  # below this total nothing is a bomb, whatever the ratio
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
    """True when ``path`` is a readable zip archive (checked by its magic number first, so it is cheap)."""
    try:
        with Path(path).open("rb") as f:
            if f.read(4) != b"PK\x03\x04":
                return False
    except OSError:
        return False
    return zipfile.is_zipfile(path)


def format_size(n: int) -> str:
    """Human size in SI units: ``format_size(5_200_000) == '5.2 MB'``."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


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


@dataclass
class Extraction:
    """What :func:`safe_extract` did: files written, and entries refused with the reason."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _member_problem(info: zipfile.ZipInfo, max_member_bytes: int) -> str | None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "refused: an absolute path would be written outside the output folder"
    if ".." in parts:
        return "refused: a '..' in the path would be written outside the output folder"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "refused: a symbolic link in the zip could point outside the output folder"
    if info.flag_bits & 0x1:
        return "refused: the file is encrypted; ask for it without a password"
    if info.file_size > max_member_bytes:
        return (
            f"refused: the file is {format_size(info.file_size)}, above the "
            f"{format_size(max_member_bytes)} limit; raise [submission] max_size if it is genuine"
        )
    long = next((p for p in parts if len(p.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES), None)
    if long is not None:
        return (
            f"refused: the name {long[:40] + '…'!r} is {len(long.encode('utf-8', 'surrogateescape'))} bytes long, "
            f"more than the {_MAX_NAME_BYTES} a file system allows; ask the student to rename it"
        )
    return None


def _write_problem(exc: OSError, target: Path, dest: Path) -> str:
    """Why an entry could not be written, in words (a file/folder clash, a name the file system refuses)."""
    import errno

    if isinstance(exc, (FileExistsError, NotADirectoryError, IsADirectoryError)) or exc.errno in (
        errno.EEXIST,
        errno.ENOTDIR,
        errno.EISDIR,
    ):
        clash = next((p for p in [target, *target.parents] if p != dest and p.exists()), target)
        if clash == target and target.is_file():
            return "refused: the zip holds this file twice; only the first copy was unpacked"
        kind = "folder" if clash.is_dir() else "file"
        rel = clash.relative_to(dest).as_posix() if clash.is_relative_to(dest) else clash.name
        return (
            f"refused: the zip holds a file and a folder both named {rel!r} (the {kind} came first); "
            "only the first was unpacked"
        )
    if exc.errno == errno.ENAMETOOLONG:
        return "refused: the path is longer than the file system allows; ask the student to rename it"
    return f"refused: it cannot be written ({exc.strerror or type(exc).__name__})"


def safe_extract(
    zip_path: str | Path,
    dest: str | Path,
    *,
    max_member_bytes: int,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
) -> Extraction:
    """Extract a zip into ``dest`` without ever writing outside it.

    Args:
        zip_path: the archive (e.g. Moodle's or Canvas's "download all submissions").
        dest: an existing folder; every file lands strictly inside it.
        max_member_bytes: entries larger than this are refused (not read).
        max_total_bytes: the whole archive may not unpack to more than this.
        max_members: the whole archive may not hold more entries than this.

    Returns:
        An :class:`Extraction` listing written files and refused entries with reasons.

    Raises:
        UsageError: not a zip, or the archive as a whole is too big (a zip bomb).
    """
    dest = Path(dest).resolve()
    where = str(zip_path)
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise UsageError(
            f"{where}: not a valid zip file; download the submissions again or unzip it yourself and pass the folder."
        ) from None
    except OSError as exc:
        raise UsageError(f"{where}: cannot read the zip ({exc.strerror}).") from None
    result = Extraction()
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > max_members:
            raise UsageError(
                f"{where}: holds {len(infos)} files, more than the {max_members} a class export can; "
                "refusing it as a possible zip bomb."
            )
        kept = [i for i in infos if i.file_size <= max_member_bytes]
        total = sum(i.file_size for i in kept)
        if total > max_total_bytes:
            raise UsageError(
                f"{where}: would unpack to {format_size(total)}, more than {format_size(max_total_bytes)}; "
                "refusing it as a possible zip bomb."
            )
        packed = sum(i.compress_size for i in kept)
        if total > _BOMB_FLOOR and total > _BOMB_RATIO * max(packed, 1):
            raise UsageError(
                f"{where}: {format_size(packed)} of compressed data would unpack to {format_size(total)} "
                f"({total // max(packed, 1)} times more; CSV files compress about 10 times); refusing it "
                "as a possible zip bomb before writing anything."
            )
        written = 0
        for info in infos:
            problem = _member_problem(info, max_member_bytes)
            target = dest
            if problem is None:
                try:
                    target = (dest / info.filename.replace("\\", "/")).resolve()
                except OSError as exc:
                    problem = _write_problem(exc, dest, dest)
            if problem is None and not target.is_relative_to(dest):
                problem = "refused: the path would be written outside the output folder"
            if problem is not None:
                result.refused.append((info.filename, problem))
                continue
            size = 0
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                out_file = open(target, "xb")  # noqa: SIM115 - closed by the with below
            except OSError as exc:
                result.refused.append((info.filename, _write_problem(exc, target, dest)))
                continue
            try:
                with archive.open(info) as src, out_file as out:
                    while chunk := src.read(_CHUNK):
                        size += len(chunk)
                        if size > max_member_bytes or written + size > max_total_bytes:
                            raise ValueError("declared size was a lie")
                        out.write(chunk)
            except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
                target.unlink(missing_ok=True)
                why = (
                    "it unpacks to more than its declared size"
                    if isinstance(exc, ValueError)
                    else "it is damaged in the zip"
                )
                result.refused.append((info.filename, f"refused: {why}; ask the student to upload it again"))
                continue
            written += size
            result.files.append((info.filename.replace("\\", "/"), target))
    return result
