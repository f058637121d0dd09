"""Defences against what a class sends: zip-slip, zip bombs, huge files, spreadsheet formulas.

- :func:`safe_extract` unpacks a zip member by member: an entry whose path is
  absolute, climbs with ``..``, is a symlink, is encrypted, or clashes with another
  entry (a file and a folder of the same name, or the same file twice: the first
  is kept) is refused on its own; an entry above the size limit is refused
  *before* it is read (and the read is capped in case the zip lies about sizes).
  A name longer than the 255 bytes a disk allows is shortened on the disk (its end,
  where the participant number and the file name are, is kept); the entry's own
  name is what the caller sees. The zip-bomb checks (size and compression ratio)
  run per entry, per student (all entries of one owner: that student's entries are
  refused with one reason) and for the rest of the archive; too many entries, or
  a bomb spread over the class, stop the whole extraction with a
  :class:`UsageError` before anything is written.
- :func:`defuse_cell` prefixes ``'`` to a text cell that a spreadsheet would run as
  a formula (starting with ``= + - @``, tab or carriage return), as OWASP advises.
- :func:`slugify` turns a student id or name into a safe file name.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grading.errors import UsageError

__all__ = [
    "DEFAULT_MAX_MEMBERS",
    "DEFAULT_MAX_TOTAL_BYTES",
    "Extraction",
    "defuse_cell",
    "detect_encoding",
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


_EAST_ASIAN = (
    "cp950",
    "gb18030",
    "cp932",
)  # what Excel saves "CSV" as on a Traditional/Simplified Chinese, Japanese Windows


def _east_asian_text(text: str) -> bool:
    """Every non-ASCII character is a letter of a CJK script or CJK/full-width punctuation."""
    wide = [c for c in text if ord(c) > 127]
    return bool(wide) and all(
        0x2010 <= ord(c) <= 0x203F or 0x3000 <= ord(c) <= 0x30FF or 0xFF00 <= ord(c) <= 0xFFEF
        or (unicodedata.category(c) == "Lo" and 0x3400 <= ord(c) <= 0x9FFF)
        for c in wide
    )  # fmt: skip


def detect_encoding(data: bytes, *, candidates: tuple[str, ...] = _EAST_ASIAN) -> str:
    """The encoding of a CSV file a TA or a student saved: a byte-order mark, UTF-8, else the first of
    ``candidates`` (Big5/cp950, GB18030, Shift_JIS) under which every non-ASCII character is CJK, else cp1252.

    >>> detect_encoding("成績".encode("cp950")), detect_encoding("Müller, José".encode("cp1252"))
    ('cp950', 'cp1252')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in candidates:
        try:
            if _east_asian_text(data.decode(encoding)):
                return encoding
        except UnicodeDecodeError:
            continue
    return "cp1252"


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
    if info.file_size > _BOMB_FLOOR and info.file_size > _BOMB_RATIO * max(info.compress_size, 1):
        return "refused: " + _bomb_words(info.file_size, info.compress_size, "the file")
    return None


def _bomb_words(size: int, packed: int, what: str) -> str:
    return (
        f"{what} would unpack to {format_size(size)} from {format_size(packed)} of compressed data "
        f"({size // max(packed, 1)} times more; CSV files compress about 10 times), a possible zip bomb"
    )


def _disk_part(part: str) -> str:
    """One path component as written on the disk: cut to 255 bytes when longer, keeping its end.

    The end from the first ``_<digits>_`` (Moodle's participant number, Canvas's user id, and
    the file name after them) is kept when it fits, else the extension; a short hash of the
    whole name keeps two long names apart.

    >>> short = _disk_part("長" * 90 + "_52115_assignsubmission_file_")
    >>> len(short.encode()) <= 255, short.endswith("_52115_assignsubmission_file_")
    (True, True)
    """
    data = part.encode("utf-8", "surrogateescape")
    if len(data) <= _MAX_NAME_BYTES:
        return part
    tag = "~" + hashlib.sha256(data).hexdigest()[:10]
    m = re.search(r"_\d+_", part)
    tail = part[m.start() :] if m else ""
    if len(tail.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES // 2:
        tail = PurePosixPath(part).suffix if len(PurePosixPath(part).suffix) <= 16 else ""
    head = part[: len(part) - len(tail)]
    budget = _MAX_NAME_BYTES - len(tag) - len(tail.encode("utf-8", "surrogateescape"))
    cut = head.encode("utf-8", "surrogateescape")[:budget].decode("utf-8", "ignore")
    return cut + tag + tail


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


def _first_folder(names: Sequence[str]) -> dict[str, str]:
    return {n: n.replace("\\", "/").lstrip("/").split("/", 1)[0] for n in names}


def _refuse_bombs(
    infos: list[zipfile.ZipInfo], owners: Mapping[str, str], max_member_bytes: int, max_total_bytes: int
) -> dict[str, str]:
    """Entries refused as (part of) a zip bomb, entry name -> reason: per student first, then
    what remains as a whole raises :class:`UsageError`."""
    groups: dict[str, list[zipfile.ZipInfo]] = {}
    for info in infos:
        if info.file_size <= max_member_bytes:
            groups.setdefault(owners.get(info.filename, info.filename), []).append(info)
    refused: dict[str, str] = {}
    for members in groups.values():
        size = sum(i.file_size for i in members)
        packed = sum(i.compress_size for i in members)
        n = f"{len(members)} files" if len(members) > 1 else "file"
        if size > max_total_bytes or (size > _BOMB_FLOOR and size > _BOMB_RATIO * max(packed, 1)):
            why = "refused: " + _bomb_words(size, packed, f"this student's {n}") + "; none of them was unpacked"
            refused.update((i.filename, why) for i in members)
    rest = [i for m in groups.values() for i in m if i.filename not in refused]
    return refused if not rest else _check_whole(rest, max_total_bytes, refused)


def _check_whole(rest: list[zipfile.ZipInfo], max_total_bytes: int, refused: dict[str, str]) -> dict[str, str]:
    total = sum(i.file_size for i in rest)
    if total > max_total_bytes:
        raise UsageError(
            f"would unpack to {format_size(total)}, more than {format_size(max_total_bytes)}; "
            "refusing it as a possible zip bomb."
        )
    packed = sum(i.compress_size for i in rest)
    if total > _BOMB_FLOOR and total > _BOMB_RATIO * max(packed, 1):
        raise UsageError(
            f"{format_size(packed)} of compressed data would unpack to {format_size(total)} "
            f"({total // max(packed, 1)} times more; CSV files compress about 10 times); refusing it "
            "as a possible zip bomb before writing anything."
        )
    return refused


def safe_extract(
    zip_path: str | Path,
    dest: str | Path,
    *,
    max_member_bytes: int,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
    owners: Callable[[Sequence[str]], Mapping[str, str]] = _first_folder,
) -> Extraction:
    """Extract a zip into ``dest`` without ever writing outside it.

    Args:
        zip_path: the archive (e.g. Moodle's or Canvas's "download all submissions").
        dest: an existing folder; every file lands strictly inside it.
        max_member_bytes: entries larger than this are refused (not read).
        max_total_bytes: one student's entries, and the whole archive, may not unpack to more than this.
        max_members: the whole archive may not hold more entries than this.
        owners: entry names -> who each belongs to (default: its first folder); the zip-bomb
            checks run per owner before they run on the whole.

    Returns:
        An :class:`Extraction` listing written files (under the entry's own name, though a
        name too long for the disk is shortened there) and refused entries with reasons.

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
        try:
            bombs = _refuse_bombs(infos, owners([i.filename for i in infos]), max_member_bytes, max_total_bytes)
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}") from None
        written = 0
        for info in infos:
            problem = bombs.get(info.filename) or _member_problem(info, max_member_bytes)
            target = dest
            if problem is None:
                parts = [_disk_part(p) for p in info.filename.replace("\\", "/").split("/") if p]
                try:
                    target = dest.joinpath(*parts).resolve()
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
