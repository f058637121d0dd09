"""``[answers]`` and ``[lms]`` of an assignment file, as ``grade --variants`` reads them (no ``[key]`` needed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grading.assignment_toml import (
    ASSIGNMENT_FILENAME,
    check_keys,
    read_toml,
    toml_file,
    toml_str,
    toml_table,
    toml_tolerance,
)
from grading.errors import UsageError


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
    doc = read_toml(path, where)
    check_keys(doc, "", where)
    answers = toml_table(doc, "answers", where)
    lms = toml_table(doc, "lms", where)
    if "scale_to" in lms:
        raise UsageError(
            f"{where}: [lms] scale_to rescales a class run's rubric points; grade --variants gives the points "
            "the answers file sets, so remove it here or set the points in the problem set."
        )
    folder = path.resolve().parent
    return AnswersSettings(
        path=path.resolve(),
        rtol=toml_tolerance(answers, "rtol", where),
        atol=toml_tolerance(answers, "atol", where),
        lms_template=toml_file(folder, lms, "template", f"{where}: [lms]"),
        lms_column=toml_str(lms, "column", f"{where}: [lms]"),
    )
