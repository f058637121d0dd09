"""Reading an assignment file's TOML: its allowed keys, tables, and each kind of value, every mistake a one-line message."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grading.errors import UsageError

ASSIGNMENT_FILENAME = "assignment.toml"
_SECTIONS: dict[str, set[str]] = {
    "": {"title", "k", "key", "submission", "baseline", "ranking", "rubric", "lms", "answers", "notebook"},
    "key": {"path", "id_column", "label_column", "labels", "usage_column"},
    "submission": {"filename", "max_size", "params_file"},
    "baseline": {"name", "predictions", "params", "model", "top1", "top3"},
    "ranking": {"by", "min_top1", "show"},
    "lms": {"template", "column", "scale_to"},
    "answers": {"rtol", "atol"},
    "notebook": {"problems", "variants", "filename", "points", "manual"},
}
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_size(value: Any, where: str = "max_size") -> int:
    """Read a size: an int (bytes) or a string such as ``"5 MB"`` or ``"512 KiB"``.

    >>> parse_size("5 MB"), parse_size(1024), parse_size("2kib")
    (5000000, 1024, 2048)
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
        if m and m.group(2).lower() in _UNITS and float(m.group(1)) > 0:
            return int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    raise UsageError(f'{where}: expected a positive size such as 5000000 or "5 MB", got {value!r}.')


def check_keys(table: Mapping[str, Any], section: str, where: str) -> None:
    allowed = _SECTIONS[section]
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            place = f"[{section}]" if section else "the top level"
            raise UsageError(f"{where}: unknown key {key!r} in {place} (allowed: {', '.join(sorted(allowed))}).{hint}")


def toml_table(doc: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise UsageError(f"{where}: {name!r} must be a table written [{name}], got {value!r}.")
    check_keys(value, name, where)
    return value


def toml_str(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str | None:
    value = table.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise UsageError(f"{where}: {key} must be a non-empty string, got {value!r}.")
    return value


def toml_file(folder: Path, table: Mapping[str, Any], key: str, where: str) -> Path | None:
    name = toml_str(table, key, where)
    if name is None:
        return None
    path = (folder / name).resolve()
    if not path.is_file():
        raise UsageError(
            f"{where}: {key} = {name!r} does not exist (looked for {str(path)!r}); "
            "paths are relative to the assignment file's folder."
        )
    return path


def toml_accuracy(table: Mapping[str, Any], key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise UsageError(f"{where}: {key} must be an accuracy from 0 to 1 (e.g. 0.85), got {value!r}.")
    return float(value)


def toml_labels(value: Any, where: str) -> list[str] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value)
    ):
        raise UsageError(f'{where}: [key] labels must be a list such as [0, 1, 2] or ["cat", "dog"], got {value!r}.')
    labels = [str(v).strip() for v in value]
    dupes = sorted({v for v in labels if labels.count(v) > 1})
    if dupes:
        raise UsageError(f"{where}: [key] labels lists {dupes[0]!r} twice; list each class once.")
    return labels


def toml_tolerance(table: Mapping[str, Any], key: str, where: str) -> float | None:
    import math

    value = table.get(key)
    if value is None:
        return None
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
    if key == "rtol" and ok and value >= 1:
        ok = False
    if not ok:
        expected = (
            "a relative tolerance from 0 to 1, such as 0.01 for 1 %"
            if key == "rtol"
            else "an absolute tolerance >= 0, such as 5e-05"
        )
        raise UsageError(f"{where}: [answers] {key} must be {expected}; got {value!r}.")
    return float(value)


def read_toml(path: Path, where: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"{where}: no such assignment file; create it (see examples/hw2/assignment.toml) or pass --key key.csv."
        ) from None
    except OSError as exc:
        raise UsageError(f"{where}: cannot read the assignment file ({exc.strerror}).") from None
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not UTF-8 text; save the assignment file as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: invalid TOML: {exc}; check the quotes and brackets on that line.") from None
