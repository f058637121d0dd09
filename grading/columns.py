"""Which column of a submission is the id, the class, the next guesses, the scores.

With a header, columns are found by name in any order and case (``Image``,
`` class ``, ``Predicted Class``); a pandas index column (an unnamed first
column) and extra columns are ignored. Without a header, or when the names
are unknown, the content decides: the id column is the one whose cells the
key recognises, the class column the one whose cells are classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grading.key import ID_ALIASES, LABEL_ALIASES, AnswerKey, _as_int, normalize_header
from grading.report import Issue

__all__ = ["Columns", "find_columns", "looks_like_header", "parse_scores"]

_SAMPLE = 200
_SCORE_PATTERNS = ("p{}", "p_{}", "prob_{}", "prob{}", "proba_{}", "score_{}", "score{}", "{}")
_PANDAS_INDEX = ("", "unnamed_0", "index")


@dataclass
class Columns:
    """Column positions in a submission's rows.

    Attributes:
        id: the id column.
        label: the class column (top-1), or None when only scores are given.
        label_name: the header of the class column, or None without a header.
        ranked: the columns of the 2nd, 3rd, ... guesses, best first.
        scores: one column per class of the key, in class order, or empty.
        warnings: remarks about the columns.
        errors: reasons the columns cannot be found (the file is invalid).
    """

    id: int = -1
    label: int | None = None
    label_name: str | None = None
    ranked: list[int] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)


def looks_like_header(row: list[str], key: AnswerKey) -> bool:
    """True when the first row names columns rather than holding a prediction."""
    names = {normalize_header(cell) for cell in row}
    if names & (set(ID_ALIASES) | set(LABEL_ALIASES) | {normalize_header(key.id_column)}):
        return True
    if any(key.index_of(cell) is not None for cell in row):
        return False
    if any("." in cell and cell.rsplit(".", 1)[-1].lower() in ("png", "jpg", "jpeg") for cell in row):
        return False
    return not all(_as_int(cell) is not None for cell in row)


def _by_name(names: list[str], wanted: list[str]) -> int | None:
    for name in wanted:
        if name in names:
            return names.index(name)
    return None


def _ranked_by_name(names: list[str], label_name: str) -> list[int]:
    base = label_name[:-2] if label_name.endswith("_1") else label_name[:-1] if label_name[-1:] == "1" else label_name
    ranked: list[int] = []
    for j in range(2, 100):
        found = _by_name(names, [f"{base}_{j}", f"{base}{j}", f"top_{j}", f"top{j}", f"rank_{j}", f"guess_{j}"])
        if found is None:
            break
        ranked.append(found)
    return ranked


def _scores_by_name(names: list[str], key: AnswerKey) -> list[int]:
    classes = [normalize_header(str(c)) for c in key.classes]
    for pattern in _SCORE_PATTERNS:
        found = [_by_name(names, [pattern.format(c)]) for c in classes]
        if all(f is not None for f in found):
            return found  # type: ignore[return-value]
    return []


def _fraction(sample: list[list[str]], column: int, test) -> float:  # type: ignore[no-untyped-def]
    cells = [row[column] for row in sample if len(row) > column]
    return sum(1 for c in cells if test(c)) / max(len(sample), 1)


def find_columns(header: list[str] | None, rows: list[list[str]], key: AnswerKey, *, name: str) -> Columns:
    """Find the id, class, ranked and score columns of a submission.

    Args:
        header: the header cells, or None when the file has no header.
        rows: the data rows.
        key: the answer key (its ids and classes identify unnamed columns).
        name: the file name used in messages.

    Returns:
        the :class:`Columns`; ``errors`` is non-empty when the file cannot be scored.
    """
    cols = Columns()
    sample = rows[:_SAMPLE]
    width = max(len(row) for row in sample)
    names = [normalize_header(c) for c in header] if header is not None else [""] * width
    names += [""] * (width - len(names))
    ignored = {j for j, n in enumerate(names) if header is not None and n in _PANDAS_INDEX}

    found_id = _by_name(names, [normalize_header(key.id_column), *ID_ALIASES]) if header else None
    if found_id is None:
        found_id = _id_by_content(sample, width, key)
    if found_id is None:
        shown = f"the header is {', '.join(map(repr, header))}" if header else "the file has no header"
        cols.errors.append(Issue(
            "no_id_column",
            f"{name}: no column of image ids was found ({shown}, and no column holds ids of the key such as "
            f"{key.ids[0]!r}); the file needs a column {key.id_column!r}.", 1))  # fmt: skip
        return cols
    cols.id = found_id

    if header is not None:
        cols.label = _by_name(names, [normalize_header(key.label_column), *LABEL_ALIASES])
        cols.scores = _scores_by_name(names, key)
        if cols.label is not None:
            cols.label_name = header[cols.label]
            cols.ranked = _ranked_by_name(names, names[cols.label])
        elif not cols.scores:
            taken = {cols.id, *ignored}
            candidates = [j for j in range(width) if j not in taken]
            fractions = [(_fraction(sample, j, lambda c: key.class_index(c) >= 0), -j) for j in candidates]
            if len(candidates) == 1:
                cols.label = candidates[0]
            elif fractions and max(fractions)[0] > 0:
                cols.label = -max(fractions)[1]
            if cols.label is not None and cols.label < len(header):
                cols.label_name = header[cols.label]
    else:
        _columns_by_content(cols, sample, width, key)

    if cols.label is None and not cols.scores:
        shown = f"the header is {', '.join(map(repr, header))}" if header else "the file has no header"
        cols.errors.append(Issue(
            "no_label_column",
            f"{name}: no column of predicted classes was found ({shown}); the file needs a column "
            f"{key.label_column!r} next to the ids.", 1))  # fmt: skip
    return cols


def _id_by_content(sample: list[list[str]], width: int, key: AnswerKey) -> int | None:
    """The column whose cells the key knows: exact matches first; a column of small
    integers that are also classes matches only loosely and is not taken for ids."""
    exact = [_fraction(sample, j, key.is_exact_id) for j in range(width)]
    if max(exact, default=0.0) > 0:
        return exact.index(max(exact))
    loose = [
        _fraction(sample, j, lambda c: key.index_of(c) is not None)
        if _fraction(sample, j, lambda c: key.class_index(c) >= 0) < 0.9 else 0.0
        for j in range(width)
    ]  # fmt: skip
    return loose.index(max(loose)) if max(loose, default=0.0) > 0 else None


def _is_sequence(sample: list[list[str]], column: int) -> bool:
    """A pandas index written without a header: 0, 1, 2, ... down the column."""
    return all(len(row) > column and row[column] == str(i) for i, row in enumerate(sample))


def _columns_by_content(cols: Columns, sample: list[list[str]], width: int, key: AnswerKey) -> None:
    others = [j for j in range(width) if j != cols.id]
    valid = {j: _fraction(sample, j, lambda c: key.class_index(c) >= 0) for j in others}
    numeric = {j: _fraction(sample, j, _is_float) for j in others}
    floats = [j for j in others if numeric[j] == 1.0 and valid[j] != 1.0]
    if len(floats) >= len(key.classes) > 1:
        cols.scores = floats[-len(key.classes) :]
    candidates = [j for j in others if j not in cols.scores and not (_is_sequence(sample, j) and len(others) > 1)]
    if not candidates:
        return
    best = max(candidates, key=lambda j: (valid[j], -j))
    if valid[best] == 0 and cols.scores:
        return
    cols.label = best
    for j in range(best + 1, width):
        if j in cols.scores or valid.get(j, 0) < 1.0:
            break
        cols.ranked.append(j)


def _is_float(cell: str) -> bool:
    try:
        float(cell.replace(",", "."))
    except ValueError:
        return False
    return True


def parse_scores(rows: list[list[str]], columns: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The score matrix of the given columns and whether each row's scores are all finite numbers."""
    table = [[row[c] if c < len(row) else "" for c in columns] for row in rows]
    try:
        scores = np.array(table, dtype=np.float64)
    except ValueError:
        scores = np.array([[_to_float(c) for c in row] for row in table], dtype=np.float64)
    valid: np.ndarray = np.asarray(np.isfinite(scores).all(axis=1))
    return np.where(np.isfinite(scores), scores, 0.0), valid


def _to_float(cell: str) -> float:
    try:
        return float(cell.replace(",", "."))
    except ValueError:
        return float("nan")
