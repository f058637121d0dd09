"""Unpack a class's zip without trusting it: zip-slip, zip bombs, names too long for the disk.

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

:mod:`grading.safety` re-exports these names; import them from there.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grading.errors import UsageError

__all__ = ["DEFAULT_MAX_MEMBERS", "DEFAULT_MAX_TOTAL_BYTES", "Extraction", "format_size", "safe_extract"]

DEFAULT_MAX_MEMBERS = 20_000
DEFAULT_MAX_TOTAL_BYTES = 2_000_000_000
_CHUNK = 1 << 16
_MAX_NAME_BYTES = 255
_BOMB_RATIO = 200  # prediction CSVs deflate about 3-10 times; a bomb, hundreds of times
_BOMB_FLOOR = 50_000_000  # below this total nothing is a bomb, whatever the ratio


def format_size(n: int) -> str:
    """Human size in SI units: ``format_size(5_200_000) == '5.2 MB'``."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


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
