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

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.answers_settings import AnswersSettings, load_answers_settings
from grading.assignment_toml import (
    ASSIGNMENT_FILENAME,
    check_keys,
    parse_size,
    read_toml,
    toml_accuracy,
    toml_file,
    toml_labels,
    toml_str,
    toml_table,
    toml_tolerance,
)
from grading.errors import UsageError
from grading.notebook_settings import NotebookSettings, load_notebook_settings, read_notebook_table
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

DEFAULT_SUBMISSION_FILENAME = "HW2_prob1.csv"
RANK_BY = ("top1", "top1_per_param")
SHOW = ("names", "ids", "pseudonyms")


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
        name=toml_str(table, "name", w, "Reference baseline") or "Reference baseline",
        predictions=toml_file(folder, table, "predictions", w),
        params=params,
        model=toml_file(folder, table, "model", w),
        top1=toml_accuracy(table, "top1", w),
        top3=toml_accuracy(table, "top3", w),
    )
    if baseline.predictions is None and baseline.top1 is None:
        raise UsageError(f'{w}: needs predictions = "baseline.csv" (graded like a student\'s file) or top1 = 0.62.')
    if baseline.predictions is not None and baseline.top1 is not None:
        raise UsageError(f"{w}: give predictions or top1, not both.")
    return baseline


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
    doc = read_toml(path, where)
    check_keys(doc, "", where)
    answers = toml_table(doc, "answers", where)
    toml_tolerance(answers, "rtol", where)
    toml_tolerance(answers, "atol", where)
    folder = path.resolve().parent

    key = toml_table(doc, "key", where)
    if "path" not in key:
        raise UsageError(f'{where}: [key] needs path = "key.csv", the answer key relative to this file.')
    key_path = toml_file(folder, key, "path", f"{where}: [key]")
    assert key_path is not None

    k = doc.get("k", DEFAULT_K)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UsageError(f"{where}: k must be a positive integer (top-k accuracy), got {k!r}.")
    title = doc.get("title", path.resolve().parent.name)
    if not isinstance(title, str):
        raise UsageError(f"{where}: title must be a string, got {title!r}.")

    submission = toml_table(doc, "submission", where)
    filename = toml_str(submission, "filename", f"{where}: [submission]", DEFAULT_SUBMISSION_FILENAME)
    assert filename is not None
    if "/" in filename or "\\" in filename:
        raise UsageError(f"{where}: [submission] filename must be a bare file name, got {filename!r}.")
    max_bytes = parse_size(submission.get("max_size", DEFAULT_MAX_BYTES), f"{where}: [submission] max_size")

    ranking_t = toml_table(doc, "ranking", where)
    by = ranking_t.get("by", "top1")
    if by not in RANK_BY:
        raise UsageError(f"{where}: [ranking] by must be 'top1' or 'top1_per_param', got {by!r}.")
    min_top1 = toml_accuracy(ranking_t, "min_top1", f"{where}: [ranking]") or 0.0
    show = ranking_t.get("show", "names")
    if show not in SHOW:
        raise UsageError(
            f"{where}: [ranking] show must be 'names', 'ids' or 'pseudonyms' (for a leaderboard "
            f"posted to the class), got {show!r}."
        )

    baseline = _baseline(folder, toml_table(doc, "baseline", where), where)
    rubric = parse_rubric(doc.get("rubric"), where)
    lms = toml_table(doc, "lms", where)
    if baseline is None and any(r.kind == "baseline" for r in rubric):
        raise UsageError(f"{where}: a rubric rule compares with the baseline, but there is no [baseline] table.")

    return Assignment(
        key_path=key_path,
        path=path.resolve(),
        title=title,
        id_column=toml_str(key, "id_column", f"{where}: [key]"),
        label_column=toml_str(key, "label_column", f"{where}: [key]"),
        labels=toml_labels(key.get("labels"), where),
        usage_column=toml_str(key, "usage_column", f"{where}: [key]", "Usage") or "Usage",
        k=k,
        submission_filename=filename,
        max_bytes=max_bytes,
        params_file=toml_file(folder, submission, "params_file", f"{where}: [submission]"),
        baseline=baseline,
        ranking=Ranking(by=by, min_top1=min_top1, show=show),
        rubric=rubric,
        lms_template=toml_file(folder, lms, "template", f"{where}: [lms]"),
        lms_column=toml_str(lms, "column", f"{where}: [lms]"),
        lms_scale_to=_scale_to(lms, where),
        notebook=read_notebook_table(folder, doc, where),
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
