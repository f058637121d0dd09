"""Load ``assignment.toml``: everything a TA states once about one assignment.

Paths are relative to the folder of the TOML file. Every table but ``[key]`` is
optional; accuracies are fractions from 0 to 1. A complete example
(``examples/hw2/assignment.toml``)::

    title = "HW2 2024, problem 1: handwritten digits"
    k = 3                               # top-k accuracy reported besides top-1

    [key]
    path = "key.csv"                    # the answer key (required)
    id_column = "image"                 # default: detected from the header
    label_column = "class"              # default: detected from the header
    labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]   # default: the labels found in the key
    usage_column = "Usage"              # Kaggle-style Public/Private split, if present

    [submission]
    filename = "HW2_prob1.csv"          # the file looked for in a student's folder
    max_size = "5 MB"                   # larger files are refused (int = bytes)
    params_file = "params.csv"          # optional: student,params (for top-1 / parameters)

    [baseline]                          # the handout's reference model
    name = "Handout CNN"
    predictions = "baseline.csv"        # its prediction CSV, graded like a student's
    params = 1_250_858                  # or: model = "handout.safetensors"

    [ranking]
    by = "top1_per_param"               # or "top1"
    min_top1 = 0.80                     # below this top-1 a ratio is not ranked
    show = "pseudonyms"                 # or "names" (default), "ids": who the leaderboard names

    [lms]                               # give the grades back to the LMS (see grading.lms)
    template = "grading-worksheet.csv"  # Moodle's grading worksheet or Canvas's gradebook export
    column = "HW2 (88231)"              # Canvas: the assignment column, when there are several
    scale_to = 100                      # class runs: the LMS gets points rescaled so the rubric's total is 100

    [answers]                           # grade --variants (derivation answers): read with --key FILE
    rtol = 0.02                         # a number is right within 2 % (default 0.01)
    atol = 1e-4                         # ... or within this near zero (default 5e-05)

    [notebook]                          # the notebook part (grading.notebook), optional
    problems = "hw1-2025.toml"          # a derive problem set: its questions are looked for
    variants = "keys/answers.json"      # optional: each student's own numbers (derive key --roster)
    filename = "*.ipynb"                # which file of a student's; several match: the newest
    points = 10                         # optional: the notebook part's total (else the problem set's)
    [[notebook.manual]]                 # parts only a person judges, shown on the review pages
    name = "decision boundary"
    points = 10

    [[rubric]]                          # rules: see grading.rubric
    name = "Test accuracy"
    rule = "linear"
    floor = 0.50
    target = 0.95
    points = 70

Errors raise :class:`grading.errors.UsageError` with the file, the table, the key,
what came and how to fix it.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.errors import UsageError
from grading.rubric import Rule, parse_rubric
from grading.score import DEFAULT_K, DEFAULT_MAX_BYTES

__all__ = [
    "ASSIGNMENT_FILENAME",
    "DEFAULT_K",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_SUBMISSION_FILENAME",
    "RANK_BY",
    "SHOW",
    "AnswersSettings",
    "Assignment",
    "NotebookSettings",
    "Baseline",
    "Ranking",
    "find_assignment",
    "load_answers_settings",
    "load_assignment",
    "load_notebook_settings",
    "parse_size",
    "read_params_file",
]

ASSIGNMENT_FILENAME = "assignment.toml"
DEFAULT_SUBMISSION_FILENAME = "HW2_prob1.csv"
RANK_BY = ("top1", "top1_per_param")
SHOW = ("names", "ids", "pseudonyms")

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


@dataclass(frozen=True)
class Baseline:
    """The reference model a class is compared with (shown as its own leaderboard row)."""

    name: str = "Reference baseline"
    predictions: Path | None = None
    params: int | None = None
    model: Path | None = None
    top1: float | None = None
    top3: float | None = None


@dataclass(frozen=True)
class Ranking:
    """How the leaderboard is ordered."""

    by: str = "top1"
    min_top1: float = 0.0
    show: str = "names"
    """Who the published leaderboard names: ``"names"``, student ``"ids"`` only, or ``"pseudonyms"``."""


@dataclass(frozen=True)
class NotebookSettings:
    """``[notebook]``: the problem set looked for, optional variants, the file pattern, points, manual items."""

    problems: Path
    variants: Path | None = None
    filename: str = "*.ipynb"
    points: float | None = None
    manual: tuple[dict[str, Any], ...] = ()
    standalone: bool = False
    """True when the file has no ``[key]``: the assignment is the notebook alone."""
    path: Path | None = None
    """The assignment file."""


def _notebook(folder: Path, doc: Mapping[str, Any], where: str) -> NotebookSettings | None:
    if "notebook" not in doc:
        return None
    table = _table(doc, "notebook", where)
    w = f"{where}: [notebook]"
    if "problems" not in table:
        raise UsageError(f'{w} needs problems = "hw1-2025.toml", the derive problem set whose questions are graded.')
    problems = _file(folder, table, "problems", w)
    assert problems is not None
    filename = _str(table, "filename", w, "*.ipynb") or "*.ipynb"
    if "/" in filename or "\\" in filename:
        raise UsageError(f'{w} filename must be a file name or pattern such as "*.ipynb", got {filename!r}.')
    points = table.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0):
        raise UsageError(f"{w} points must be a number >= 0, got {points!r}.")
    manual = table.get("manual", [])
    if not isinstance(manual, list):
        raise UsageError(f'{w} manual must be [[notebook.manual]] tables with name = "..." and points = N.')
    items = []
    for n, item in enumerate(manual, start=1):
        ok = isinstance(item, dict) and set(item) <= {"name", "points"} and isinstance(item.get("name"), str)
        pts = item.get("points", 0) if isinstance(item, dict) else None
        if not ok or not str(item["name"]).strip() or isinstance(pts, bool) or not isinstance(pts, (int, float)):
            raise UsageError(
                f'{w}: manual item {n} must have name = "decision boundary" and points = 10, got {item!r}.'
            )
        items.append({"name": item["name"].strip(), "points": float(pts)})
    return NotebookSettings(
        problems=problems,
        variants=_file(folder, table, "variants", w),
        filename=filename,
        points=None if points is None else float(points),
        manual=tuple(items),
        standalone="key" not in doc,
        path=Path(where).resolve(),
    )


def load_notebook_settings(path: str | Path) -> NotebookSettings | None:
    """Read only ``[notebook]`` of an assignment file (a notebook-only assignment needs no ``[key]``).

    Raises:
        UsageError: the file is missing, is not TOML, or a value is wrong.
    """
    path = Path(path)
    if path.is_dir() and (path / ASSIGNMENT_FILENAME).is_file():
        path = path / ASSIGNMENT_FILENAME
    where = str(path)
    doc = _read_toml(path, where)
    _check_keys(doc, "", where)
    return _notebook(path.resolve().parent, doc, where)


@dataclass(frozen=True)
class Assignment:
    """A validated ``assignment.toml``; see the module docstring for the format."""

    key_path: Path
    path: Path | None = None
    title: str = ""
    id_column: str | None = None
    label_column: str | None = None
    labels: list[str] | None = None
    usage_column: str = "Usage"
    k: int = DEFAULT_K
    submission_filename: str = DEFAULT_SUBMISSION_FILENAME
    max_bytes: int = DEFAULT_MAX_BYTES
    params_file: Path | None = None
    baseline: Baseline | None = None
    ranking: Ranking = field(default_factory=Ranking)
    rubric: list[Rule] = field(default_factory=list)
    lms_template: Path | None = None
    lms_column: str | None = None
    lms_scale_to: float | None = None
    """``[lms] scale_to``: the LMS file gets each grade times ``scale_to`` / the rubric's total (100 without one)."""
    notebook: NotebookSettings | None = None

    def load_key(self) -> Any:
        """Read the answer key as this assignment describes it (an :class:`~grading.key.AnswerKey`)."""
        from grading.key import load_key

        return load_key(
            self.key_path,
            id_column=self.id_column,
            label_column=self.label_column,
            labels=self.labels,
            usage_column=self.usage_column,
        )


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


def read_params_file(path: str | Path) -> dict[str, int]:
    """Read ``student,params`` rows (a header row is optional) into ``{student: params}``.

    Raises:
        UsageError: a row is not a student and a positive integer; the message gives the line.
    """
    import csv

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the parameter counts ({exc}); save it as UTF-8 CSV.") from None
    out: dict[str, int] = {}
    for line, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        count = cells[1].replace(",", "").replace("_", "") if len(cells) >= 2 else ""
        digits = count.isascii() and count.isdigit()
        if line == 1 and not digits:
            continue  # header
        if len(cells) < 2 or not digits or int(count) <= 0 or not cells[0]:
            raise UsageError(f"{path}, line {line}: expected `student,params` with a positive integer, got {row!r}.")
        out[cells[0]] = int(count)
    return out


def find_assignment(folder: str | Path = ".") -> Path | None:
    """Return ``folder/assignment.toml`` if it exists, else ``None``."""
    candidate = Path(folder) / ASSIGNMENT_FILENAME
    return candidate if candidate.is_file() else None


def _check_keys(table: Mapping[str, Any], section: str, where: str) -> None:
    allowed = _SECTIONS[section]
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            place = f"[{section}]" if section else "the top level"
            raise UsageError(f"{where}: unknown key {key!r} in {place} (allowed: {', '.join(sorted(allowed))}).{hint}")


def _table(doc: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise UsageError(f"{where}: {name!r} must be a table written [{name}], got {value!r}.")
    _check_keys(value, name, where)
    return value


def _str(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str | None:
    value = table.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise UsageError(f"{where}: {key} must be a non-empty string, got {value!r}.")
    return value


def _file(folder: Path, table: Mapping[str, Any], key: str, where: str) -> Path | None:
    name = _str(table, key, where)
    if name is None:
        return None
    path = (folder / name).resolve()
    if not path.is_file():
        raise UsageError(
            f"{where}: {key} = {name!r} does not exist (looked for {str(path)!r}); "
            "paths are relative to the assignment file's folder."
        )
    return path


def _accuracy(table: Mapping[str, Any], key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise UsageError(f"{where}: {key} must be an accuracy from 0 to 1 (e.g. 0.85), got {value!r}.")
    return float(value)


def _labels(value: Any, where: str) -> list[str] | None:
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


def _baseline(folder: Path, table: Mapping[str, Any], where: str) -> Baseline | None:
    if not table:
        return None
    w = f"{where}: [baseline]"
    params = table.get("params")
    if params is not None and (isinstance(params, bool) or not isinstance(params, int) or params <= 0):
        raise UsageError(f"{w}: params must be a positive integer (e.g. 1_250_858), got {params!r}.")
    if params is not None and "model" in table:
        raise UsageError(f"{w}: give params or model, not both.")
    baseline = Baseline(
        name=_str(table, "name", w, "Reference baseline") or "Reference baseline",
        predictions=_file(folder, table, "predictions", w),
        params=params,
        model=_file(folder, table, "model", w),
        top1=_accuracy(table, "top1", w),
        top3=_accuracy(table, "top3", w),
    )
    if baseline.predictions is None and baseline.top1 is None:
        raise UsageError(f'{w}: needs predictions = "baseline.csv" (graded like a student\'s file) or top1 = 0.62.')
    if baseline.predictions is not None and baseline.top1 is not None:
        raise UsageError(f"{w}: give predictions or top1, not both.")
    return baseline


@dataclass(frozen=True)
class AnswersSettings:
    """What ``grade --variants`` takes from an assignment file: ``[answers]`` tolerances and ``[lms]``.

    ``None`` means the file does not say (the command line's value or the default applies).
    """

    path: Path
    rtol: float | None = None
    atol: float | None = None
    lms_template: Path | None = None
    lms_column: str | None = None


def _tolerance(table: Mapping[str, Any], key: str, where: str) -> float | None:
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


def _read_toml(path: Path, where: str) -> dict[str, Any]:
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


def load_answers_settings(path: str | Path) -> AnswersSettings:
    """Read ``[answers] rtol/atol`` and ``[lms] template/column`` of an assignment file for ``grade --variants``.

    Only these tables (and the top-level names) are checked: a file for derivation answers needs no ``[key]``.

    Raises:
        UsageError: the file is missing, is not TOML, or a value is wrong (one line naming the file and key).
    """
    path = Path(path)
    if path.is_dir() and (path / ASSIGNMENT_FILENAME).is_file():
        path = path / ASSIGNMENT_FILENAME
    where = str(path)
    doc = _read_toml(path, where)
    _check_keys(doc, "", where)
    answers = _table(doc, "answers", where)
    lms = _table(doc, "lms", where)
    if "scale_to" in lms:
        raise UsageError(
            f"{where}: [lms] scale_to rescales a class run's rubric points; grade --variants gives the points "
            "the answers file sets, so remove it here or set the points in the problem set."
        )
    folder = path.resolve().parent
    return AnswersSettings(
        path=path.resolve(),
        rtol=_tolerance(answers, "rtol", where),
        atol=_tolerance(answers, "atol", where),
        lms_template=_file(folder, lms, "template", f"{where}: [lms]"),
        lms_column=_str(lms, "column", f"{where}: [lms]"),
    )


def load_assignment(path: str | Path) -> Assignment:
    """Read and validate an assignment file.

    Args:
        path: the TOML file; relative paths inside it are resolved against its folder.

    Returns:
        The :class:`Assignment`.

    Raises:
        UsageError: the file is missing, is not TOML, or a value is wrong; the
            message says where, what was expected, what came, and how to fix it.
    """
    path = Path(path)
    where = str(path)
    doc = _read_toml(path, where)
    _check_keys(doc, "", where)
    answers = _table(doc, "answers", where)
    _tolerance(answers, "rtol", where)
    _tolerance(answers, "atol", where)
    folder = path.resolve().parent

    key = _table(doc, "key", where)
    if "path" not in key:
        raise UsageError(f'{where}: [key] needs path = "key.csv", the answer key relative to this file.')
    key_path = _file(folder, key, "path", f"{where}: [key]")
    assert key_path is not None

    k = doc.get("k", DEFAULT_K)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UsageError(f"{where}: k must be a positive integer (top-k accuracy), got {k!r}.")
    title = doc.get("title", path.resolve().parent.name)
    if not isinstance(title, str):
        raise UsageError(f"{where}: title must be a string, got {title!r}.")

    submission = _table(doc, "submission", where)
    filename = _str(submission, "filename", f"{where}: [submission]", DEFAULT_SUBMISSION_FILENAME)
    assert filename is not None
    if "/" in filename or "\\" in filename:
        raise UsageError(f"{where}: [submission] filename must be a bare file name, got {filename!r}.")
    max_bytes = parse_size(submission.get("max_size", DEFAULT_MAX_BYTES), f"{where}: [submission] max_size")

    ranking_t = _table(doc, "ranking", where)
    by = ranking_t.get("by", "top1")
    if by not in RANK_BY:
        raise UsageError(f"{where}: [ranking] by must be 'top1' or 'top1_per_param', got {by!r}.")
    min_top1 = _accuracy(ranking_t, "min_top1", f"{where}: [ranking]") or 0.0
    show = ranking_t.get("show", "names")
    if show not in SHOW:
        raise UsageError(
            f"{where}: [ranking] show must be 'names', 'ids' or 'pseudonyms' (for a leaderboard "
            f"posted to the class), got {show!r}."
        )

    baseline = _baseline(folder, _table(doc, "baseline", where), where)
    rubric = parse_rubric(doc.get("rubric"), where)
    lms = _table(doc, "lms", where)
    if baseline is None and any(r.kind == "baseline" for r in rubric):
        raise UsageError(f"{where}: a rubric rule compares with the baseline, but there is no [baseline] table.")

    return Assignment(
        key_path=key_path,
        path=path.resolve(),
        title=title,
        id_column=_str(key, "id_column", f"{where}: [key]"),
        label_column=_str(key, "label_column", f"{where}: [key]"),
        labels=_labels(key.get("labels"), where),
        usage_column=_str(key, "usage_column", f"{where}: [key]", "Usage") or "Usage",
        k=k,
        submission_filename=filename,
        max_bytes=max_bytes,
        params_file=_file(folder, submission, "params_file", f"{where}: [submission]"),
        baseline=baseline,
        ranking=Ranking(by=by, min_top1=min_top1, show=show),
        rubric=rubric,
        lms_template=_file(folder, lms, "template", f"{where}: [lms]"),
        lms_column=_str(lms, "column", f"{where}: [lms]"),
        lms_scale_to=_scale_to(lms, where),
        notebook=_notebook(folder, doc, where),
    )


def _scale_to(lms: Mapping[str, Any], where: str) -> float | None:
    value = lms.get("scale_to")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise UsageError(
            f"{where}: [lms] scale_to must be a positive number (the LMS's maximum grade, e.g. 100), got {value!r}."
        )
    return float(value)
