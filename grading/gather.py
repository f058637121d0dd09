"""A class's submissions from a folder or an LMS zip (unpacked safely), refused entries kept."""

from __future__ import annotations

from pathlib import Path

from grading.assignment import Assignment
from grading.collect import Submission, collect_files, owners, walk_folder
from grading.errors import UsageError
from grading.safety import is_zip, safe_extract


def zip_owner(entry: str) -> str | None:
    """A safe relative path for a refused zip entry, keeping its first folder (the student), or None.

    An absolute path (``/tmp/x.csv``, ``C:/x.csv``) belongs to nobody: its first folder is not a student.
    """
    name = entry.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".", "..")]
    first = name.split("/")[0]
    if not parts or first in ("", ".", "..") or (len(first) == 2 and first[1] == ":"):
        return None
    return "/".join(parts)


def gather(
    source: Path, scratch: Path, a: Assignment, unattributed: list[dict[str, str]], out: Path | None = None
) -> list[Submission]:
    if source.is_dir():
        files = walk_folder(source, exclude=out)
    elif is_zip(source):
        ex = safe_extract(
            source,
            scratch,
            max_member_bytes=a.max_bytes,
            owners=lambda names: owners(names, expected=a.submission_filename),
        )
        if not ex.files and not ex.refused:
            raise UsageError(
                f"{str(source)!r} is an empty zip (it holds no files); download the submissions from the LMS again."
            )
        files = [(rel, path, "") for rel, path in ex.files]
        for name, why in ex.refused:
            owner = zip_owner(name)
            if owner is None:
                unattributed.append({"entry": name, "reason": why})
            else:
                files.append((owner, None, why if owner == name else f"{why} (zip entry {name!r})"))
    elif source.is_file():
        raise UsageError(
            f"{str(source)!r} is a single file, not a folder or a zip of submissions; "
            f"grade it with `grade {source} --key KEY`."
        )
    else:
        raise UsageError(f"{str(source)!r} does not exist; give the folder or the zip of submissions.")
    subs = collect_files(files, expected=a.submission_filename, max_bytes=a.max_bytes, skipped=unattributed)
    if not subs:
        raise UsageError(f"{str(source)!r} holds no submissions (no CSV files and no student folders).")
    return subs
