"""The answer key: ids, their true classes, the class list, the public/private split.

:func:`load_key` reads a key CSV (``image,class``; extra columns such as
bounding boxes are ignored; an optional Kaggle-style ``Usage`` column) into an
:class:`AnswerKey`. The key also knows how to match the ids and read the
classes students write: ids match after trimming spaces, a folder prefix and
an image extension (``.png``), and as integers (Excel turns ``0109539.png``
into ``109539``); numeric classes match when written ``8``, ``8.0`` or ``8,0``.

What the CSV reader reads around in a key (a stray quote, a legacy encoding) is kept in
:attr:`AnswerKey.warnings`, one :class:`~grading.report.Issue` per kind with its line, for the TA
to see; a stray quote that leaves a row's cells uncertain refuses the key instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from grading.answer_key import AnswerKey
from grading.errors import InvalidSubmission, UsageError
from grading.key_ids import (
    ID_ALIASES,
    IMAGE_EXTENSION_RE,
    LABEL_ALIASES,
    USAGE_ALIASES,
    as_int,
    normalize_header,
    normalize_id,
)
from grading.reader import Rows, read_rows
from grading.report import Issue

__all__ = [
    "ID_ALIASES",
    "LABEL_ALIASES",
    "AnswerKey",
    "key_warning_lines",
    "load_key",
    "normalize_header",
    "normalize_id",
]

_as_int = as_int  # grading.columns imports it from here


def _find(header: list[str], wanted: str | None, aliases: Sequence[str], role: str, name: str) -> int | None:
    names = [normalize_header(cell) for cell in header]
    if wanted is not None:
        target = normalize_header(wanted)
        if target in names:
            return names.index(target)
        hint = difflib.get_close_matches(target, names, n=1)
        maybe = f" Did you mean {header[names.index(hint[0])]!r}?" if hint else ""
        raise UsageError(
            f"{name}: there is no {role} column {wanted!r}; the header is {', '.join(map(repr, header))}.{maybe}"
        )
    for alias in aliases:
        if alias in names:
            return names.index(alias)
    return None


def _is_header(row: list[str], wanted: Sequence[str | None]) -> bool:
    names = {normalize_header(cell) for cell in row}
    if names & (set(ID_ALIASES) | set(LABEL_ALIASES)):
        return True
    if any(w is not None and normalize_header(w) in names for w in wanted):
        return True
    return all(as_int(c) is None and not IMAGE_EXTENSION_RE.search(c) for c in row)


def load_key(
    path: str | Path,
    *,
    id_column: str | None = None,
    label_column: str | None = None,
    labels: Sequence[int | str] | None = None,
    usage_column: str | None = None,
) -> AnswerKey:
    """Read an answer-key CSV.

    Args:
        path: the key file (``image,class``, extra columns ignored).
        id_column: the id column's header; default: ``image``, ``id``, ``filename``, ...
        label_column: the label column's header; default: ``class``, ``label``, ...
        labels: the ordered class list; default: the labels found in the key
            (for integer labels, every integer from the smallest to the largest).
        usage_column: a Kaggle-style Public/Private column, used when present
            (default ``Usage``); a key without it has no public/private split.

    Returns:
        the :class:`AnswerKey`.

    Raises:
        UsageError: the key is missing, unreadable, or its columns or labels cannot be used;
            a stray quote leaves a row's cells uncertain.
    """
    path = Path(path)
    name = path.name
    try:
        table = read_rows(path.read_bytes(), name=name)
    except FileNotFoundError:
        raise UsageError(f"the answer key {str(path)!r} does not exist; check the path given to --key.") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise UsageError(f"the answer key {str(path)!r} cannot be read ({exc.strerror}).") from None
    except InvalidSubmission as exc:
        raise UsageError(f"the answer key cannot be used: {exc}") from None
    first = table.head(1)[0]
    header: list[str] | None = first if _is_header(first, (id_column, label_column)) else None
    for issue in table.issues:
        if issue.code == "unbalanced_quote":
            _refuse_split_rows(table, issue, 2 if header is None else len(header), name)
    key = _load_table(table, header, name, id_column, label_column, labels, usage_column)
    key.warnings.extend(table.issues)
    return key


def key_warning_lines(warnings: Sequence[Issue]) -> list[str]:
    """One line per kind of :attr:`AnswerKey.warnings` for the TA (the terminal, ``results.json``), with
    the count when a kind comes more than once; each line names the key file and the row.

    >>> key_warning_lines([Issue("unbalanced_quote", 'k.csv, line 3: a stray quote.', 3)])
    ['the answer key k.csv, line 3: a stray quote.']
    """
    by_kind: dict[str, list[Issue]] = {}
    for issue in warnings:
        by_kind.setdefault(issue.code, []).append(issue)
    lines = []
    for same in by_kind.values():
        more = f" ({len(same)} such places; lines {', '.join(str(i.line) for i in same)})" if len(same) > 1 else ""
        lines.append(f"the answer key {same[0].message}{more}")
    return lines


def _refuse_split_rows(table: Rows, quote: Issue, width: int, name: str) -> None:
    """A key read with quotes ignored (a stray quote) is refused when a row then has more or fewer
    cells than the header: a quoted cell holding the delimiter was split, so its id and class are a guess."""
    for row, line in zip(table.rows, table.lines):
        if len(row) != width:
            raise UsageError(
                f"{name}, line {line}: expected {width} cells as in the header, got {len(row)}: the stray quote "
                f'(") on line {quote.line} made the key be read with quotes ignored, so a quoted cell holding a '
                f"{table.delimiter_name} was split and this row's id and class are uncertain. Remove the stray "
                "quote and run again."
            )


def _load_table(
    table: Rows,
    header: list[str] | None,
    name: str,
    id_column: str | None,
    label_column: str | None,
    labels: Sequence[int | str] | None,
    usage_column: str | None,
) -> AnswerKey:
    lines = table.lines
    first = table.head(1)[0]
    id_col: int | None
    label_col: int | None
    usage_col: int | None
    if header is None:
        if id_column or label_column:
            raise UsageError(f"{name} has no header row, so columns cannot be named; add the header 'image,class'.")
        width = len(first)
        if width != 2:
            raise UsageError(f"{name} has no header row and {width} columns; add a header such as 'image,class'.")
        id_col, label_col, usage_col, id_name, label_name = 0, 1, None, "image", "class"
    else:
        lines = lines[1:]
        id_col = _find(header, id_column, ID_ALIASES, "id", name)
        label_col = _find(header, label_column, LABEL_ALIASES, "label", name)
        usage_col = _find(header, None, (normalize_header(usage_column or "usage"), *USAGE_ALIASES), "usage", name)
        if id_col is None:
            raise UsageError(
                f"{name}: no id column among {', '.join(map(repr, header))}; name it 'image' or 'id', "
                "or set id_column in assignment.toml."
            )
        if label_col is None:
            raise UsageError(
                f"{name}: no label column among {', '.join(map(repr, header))}; name it 'class' or 'label', "
                "or set label_column in assignment.toml."
            )
        id_name, label_name = header[id_col], header[label_col]
    if not lines:
        raise UsageError(f"{name} has a header but no rows.")
    need = max(c for c in (id_col, label_col, usage_col) if c is not None)
    offset = 0 if header is None else 1
    if table.rectangular and len(first) > need:  # fast: whole columns, then the checks
        column_ids, column_labels = table.column(id_col, offset), table.column(label_col, offset)
        column_usage = table.column(usage_col, offset) if usage_col is not None else None
        if "" not in column_ids and "" not in column_labels and len(set(column_ids)) == len(column_ids):
            values, classes = _parse_labels(column_labels, lines, labels, name)
            return AnswerKey.from_lists(
                column_ids,
                values,
                classes=classes,
                usage=column_usage,
                id_column=id_name,
                label_column=label_name,
                name=name,
            )
    ids: list[str] = []
    rows = table.rows[offset:]
    raw_labels: list[str] = []
    usage: list[str] | None = [] if usage_col is not None else None
    seen: dict[str, int] = {}
    for row, line in zip(rows, lines):
        if len(row) <= need:
            raise UsageError(f"{name}, line {line}: the row has {len(row)} cells, {need + 1} are needed.")
        raw_id = row[id_col]
        if not raw_id:
            raise UsageError(f"{name}, line {line}: the id cell is empty.")
        if raw_id in seen:
            raise UsageError(f"{name}, line {line}: id {raw_id!r} already appears on line {seen[raw_id]}.")
        seen[raw_id] = line
        if not row[label_col]:
            raise UsageError(f"{name}, line {line}: the label cell of id {raw_id!r} is empty.")
        ids.append(raw_id)
        raw_labels.append(row[label_col])
        if usage is not None and usage_col is not None:
            usage.append(row[usage_col])
    values, classes = _parse_labels(raw_labels, lines, labels, name)
    return AnswerKey.from_lists(
        ids, values, classes=classes, usage=usage, id_column=id_name, label_column=label_name, name=name
    )


def _parse_labels(
    raw: Sequence[str], lines: Sequence[int], labels: Sequence[int | str] | None, name: str
) -> tuple[list[int | str], list[int | str]]:
    parsed = {cell: as_int(cell) for cell in set(raw)}
    ints = [parsed[cell] for cell in raw]
    int_values = [v for v in ints if v is not None]
    numeric = len(int_values) == len(ints)
    classes: list[int | str]
    if labels is not None:
        as_ints = [c if isinstance(c, int) else as_int(str(c)) for c in labels]
        class_ints = [c for c in as_ints if c is not None]
        numeric = numeric and len(class_ints) == len(as_ints)
        classes = (
            [c for c in class_ints] if numeric else [str(c).strip() for c in labels]
        )  # a comprehension widens the type
        if len(set(classes)) != len(classes):
            raise UsageError(f"the class list {list(labels)!r} repeats a class.")
    values: list[int | str] = [v for v in int_values] if numeric else list(raw)  # a comprehension widens the type
    if labels is None:
        if numeric:
            low, high = min(int_values), max(int_values)
            classes = [*range(low, high + 1)] if high - low < 1000 else [*sorted(set(int_values))]
        else:
            classes = sorted(set(values), key=str)
    allowed = set(classes)
    if set(values) <= allowed:
        return values, classes
    for value, line in zip(values, lines):
        if value not in allowed:
            raise UsageError(
                f"{name}, line {line}: label {value!r} is not in the class list {classes!r}; "
                "fix the key or the labels in assignment.toml."
            )
    return values, classes
