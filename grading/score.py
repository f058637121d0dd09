"""Grade one prediction file against an answer key.

Data flows one way: read the rows (:mod:`grading.reader`), find the columns
(:mod:`grading.columns`), match every row to the key by id, decide a verdict
for each problem, then compute the metrics on index arrays
(:mod:`grading.metrics`). :func:`grade_file` never raises for a bad
submission: a file that cannot be scored gives a report with status
``"invalid"`` and its errors, and every problem of a file is reported in one
pass. Messages name ids, line numbers and what the student wrote, never a
label of the key.
"""

from __future__ import annotations

import itertools
import stat
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from grading.columns import Columns, find_columns, looks_like_header, parse_scores
from grading.errors import UsageError
from grading.key import ID_ALIASES, LABEL_ALIASES, AnswerKey, normalize_header
from grading.metrics import top_k_hits_from_indices, top_k_predictions
from grading.reader import Rows, UnreadableFile, read_rows
from grading.report import GradeReport, Issue
from grading.safety import format_size

__all__ = ["DEFAULT_K", "DEFAULT_MAX_BYTES", "grade_bytes", "grade_file"]

DEFAULT_K = 3
DEFAULT_MAX_BYTES = 10_000_000  # [submission] max_size; grade FILE --max-size
_SHOW = 3  # examples quoted in a warning
_SAMPLE = 200  # rows looked at to find the columns


def _check_options(k: int, params: int | None) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UsageError(f"k must be a whole number of at least 1, got {k!r}.")
    if params is not None and (isinstance(params, bool) or not isinstance(params, int) or params < 1):
        raise UsageError(f"the parameter count must be a whole number of at least 1, got {params!r}.")


def grade_file(
    path: str | Path,
    key: AnswerKey,
    *,
    k: int = DEFAULT_K,
    params: int | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> GradeReport:
    """Grade one prediction CSV.

    Args:
        path: the student's file.
        key: the answer key (:func:`grading.load_key`).
        k: the k of the top-k accuracy.
        params: the model's parameter count, for top-1 ÷ parameters.
        max_bytes: a larger file is not read: the report is invalid (``too_large``);
            None for no limit.

    Returns:
        a :class:`GradeReport`; ``status == "invalid"`` when the file cannot be scored.

    Raises:
        UsageError: the path does not exist, is not a regular file (a folder, a pipe,
            a device), cannot be read, or ``k``/``params`` are wrong.
    """
    _check_options(k, params)
    path = Path(path)
    where = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{where!r} does not exist; check the path of the submission.") from None
    except OSError as exc:
        raise UsageError(f"{where!r} cannot be read ({exc.strerror}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{where!r} is a folder; grade a folder with grading.grade_class.") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(
            f"{where!r} is not a regular file (a pipe, socket or device); save the predictions "
            "to a CSV file and grade that."
        )
    if max_bytes is not None and info.st_size > max_bytes:
        return _invalid(
            key,
            path.name,
            k,
            params,
            [
                Issue(
                    "too_large",
                    f"{path.name}: refused: the file is {format_size(info.st_size)}, above the "
                    f"{format_size(max_bytes)} limit; raise it with --max-size (or [submission] max_size) if it is genuine.",
                )
            ],
        )
    try:
        with path.open("rb") as f:
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    except PermissionError:
        raise UsageError(f"{where!r} cannot be read (permission denied).") from None
    except OSError as exc:
        raise UsageError(f"{where!r} cannot be read ({exc.strerror}).") from None
    if max_bytes is not None and len(data) > max_bytes:  # it grew while we looked
        return _invalid(
            key,
            path.name,
            k,
            params,
            [Issue("too_large", f"{path.name}: refused: the file is above the {format_size(max_bytes)} limit.")],
        )
    return grade_bytes(data, key, name=path.name, k=k, params=params)


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _it(count: int) -> str:
    return "it is" if count == 1 else "they are"


def _examples(pairs: list[tuple[int, str]], total: int) -> str:
    shown = ", ".join(f"line {line}: {value!r}" for line, value in pairs[:_SHOW])
    return shown + (f", and {total - _SHOW} more" if total > _SHOW else "")


def _invalid(
    key: AnswerKey,
    name: str,
    k: int,
    params: int | None,
    errors: list[Issue],
    warnings: list[Issue] | None = None,
    **counts: int,
) -> GradeReport:
    return GradeReport(
        status="invalid", name=name, labels=list(key.classes), ids=list(key.ids), y_true=key.y,
        y_pred=np.full(len(key), -1, dtype=np.int64), answered=np.zeros(len(key), dtype=bool), k=k,
        usage=key.usage, params=params, errors=errors, warnings=warnings or [], **counts,  # type: ignore[arg-type]
    )  # fmt: skip


def grade_bytes(
    data: bytes, key: AnswerKey, *, name: str = "submission.csv", k: int = DEFAULT_K, params: int | None = None
) -> GradeReport:
    """Grade the bytes of one prediction file (see :func:`grade_file`).

    >>> key = AnswerKey.from_lists(["0000000.png", "0000001.png"], [0, 8], classes=range(10))
    >>> report = grade_bytes(b"image,class\\n0000001.png,8.0\\n0000000.png,3\\n", key)
    >>> report.status, report.top1, report.n_correct
    ('ok', 0.5, 1)
    """
    _check_options(k, params)
    try:
        table = read_rows(data, name=name)
    except UnreadableFile as exc:
        return _invalid(key, name, k, params, [Issue(exc.code, str(exc))])
    return _grade_table(table, key, name=name, k=k, params=params)


_SEP_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}


def _other_separator(
    row_key: np.ndarray, id_cells: list[str], delimiter: str, key: AnswerKey
) -> tuple[list[int], str] | None:
    """Rows whose id cell is really a whole row split by another separator (``'0000001.png;0'``)."""
    unknown = row_key < 0
    if not unknown.any():
        return None
    for other in _SEP_NAMES:
        if other == delimiter:
            continue
        hits = [
            i
            for i, c in enumerate(itertools.compress(id_cells, unknown))
            if other in c and key.index_of(c.split(other, 1)[0].strip().strip('"')) is not None
        ]
        if hits:
            return np.flatnonzero(unknown)[hits].tolist(), other
    return None


def _grade_table(table: Rows, key: AnswerKey, *, name: str, k: int, params: int | None) -> GradeReport:
    head = table.head(_SAMPLE + 2)
    skipped: list[Issue] = list(table.issues)
    title = 0
    if (
        len(head) > 2
        and len(head[0]) < len(head[1])
        and _names_columns(head[1], key)
        and not _names_columns(head[0], key)
    ):
        title = 1  # a title line above the header
        shown = ", ".join(map(repr, head[0]))[:80]
        skipped.append(
            Issue(
                "title_line",
                f"{name}, line {table.lines[0]}: {shown} is not part of the table "
                "(a title above the header?); it was skipped.",
                table.lines[0],
            )
        )
        head = head[1:]
    header = head[0] if looks_like_header(head[0], key) else None
    offset = title + (1 if header is not None else 0)
    if header is not None and len(table) == offset:
        cells = ", ".join(map(repr, header))
        if set(map(normalize_header, header)) & {*ID_ALIASES, *LABEL_ALIASES, normalize_header(key.id_column)}:
            issue = Issue("header_only", f"{name} has a header ({cells}) but no rows.", 1)
        else:
            issue = Issue("no_rows", f"{name} has a single line ({cells[:80]}) and no rows of predictions; "
                          f"expected a CSV such as '{key.id_column},{key.label_column}' then one row per image.", 1)  # fmt: skip
        return _invalid(key, name, k, params, [issue])
    cols = find_columns(header, head[offset - title :], key, name=name)
    cols.warnings[:0] = skipped
    if cols.errors:
        return _invalid(key, name, k, params, cols.errors, skipped)
    return _score(table, offset, cols, key, name=name, k=k, params=params)


def _names_columns(row: list[str], key: AnswerKey) -> bool:
    names = set(map(normalize_header, row))
    return bool(
        names & {*ID_ALIASES, *LABEL_ALIASES, normalize_header(key.id_column), normalize_header(key.label_column)}
    )


def _lookup_ids(cells: list[str], key: AnswerKey) -> np.ndarray:
    """Key row of each id cell, -1 when unknown: exact matches first, the loose rules for the rest."""
    if cells == key.ids:  # written in key order: nothing to look up
        return np.arange(len(cells), dtype=np.int64)
    try:
        return np.fromiter(map(key._exact.__getitem__, cells), dtype=np.int64, count=len(cells))
    except KeyError:
        pass
    get = key._exact.get
    found = np.fromiter((get(c, -1) for c in cells), dtype=np.int64, count=len(cells))
    misses = np.flatnonzero(found < 0)
    for start in range(0, len(misses), 65536):  # in chunks: a 50 MB file of unknown ids stays small
        chunk = misses[start : start + 65536]
        found[chunk] = key.loose_indices([cells[r] for r in chunk.tolist()])
    return found


def _lookup_classes(cells: list[str], key: AnswerKey) -> np.ndarray:
    """Class index of each written class, -1 when it is not a class."""
    try:
        return np.fromiter(map(key._label_map.__getitem__, cells), dtype=np.int64, count=len(cells))
    except KeyError:
        return np.array([key.class_index(c) for c in cells], dtype=np.int64)


def _score(
    table: Rows, offset: int, cols: Columns, key: AnswerKey, *, name: str, k: int, params: int | None
) -> GradeReport:
    warnings: list[Issue] = list(cols.warnings)
    lines = table.lines[offset:]
    id_cells = table.column(cols.id, offset)
    row_key = _lookup_ids(id_cells, key)
    rows = table.rows[offset:] if cols.scores or cols.ranked else []
    scores = valid_scores = None
    if cols.scores:
        scores, valid_scores = parse_scores(rows, cols.scores)
    if cols.label is not None:
        label_cells = table.column(cols.label, offset)
        row_pred = _lookup_classes(label_cells, key)
    else:  # the best score is the prediction
        assert scores is not None and valid_scores is not None
        label_cells = [
            "" if not ok else str(key.classes[j]) for ok, j in zip(valid_scores, top_k_predictions(scores, 1)[:, 0])
        ]
        row_pred = np.where(valid_scores, top_k_predictions(scores, 1)[:, 0], -1)

    known = np.flatnonzero(row_key >= 0)
    first_rows = known
    errors: list[Issue] = []
    n_duplicate = 0
    if len(known) and np.bincount(row_key[known], minlength=len(key)).max() > 1:
        first_at: dict[int, int] = {}
        keep: list[int] = []
        repeats: list[tuple[int, str]] = []
        conflicts: list[str] = []
        for r in known.tolist():
            kr = int(row_key[r])
            if kr not in first_at:
                first_at[kr] = r
                keep.append(r)
            elif row_pred[r] == row_pred[first_at[kr]] and (
                row_pred[r] >= 0 or label_cells[r] == label_cells[first_at[kr]]
            ):
                repeats.append((lines[r], f"{id_cells[r]!r} repeats line {lines[first_at[kr]]}"))
            else:
                f = first_at[kr]
                conflicts.append(
                    f"line {lines[r]}: {id_cells[r]!r} has {label_cells[r]!r} but line {lines[f]} has {label_cells[f]!r}"
                )
        first_rows = np.asarray(keep, dtype=np.int64)
        n_duplicate = len(repeats)
        if repeats:
            shown = ", ".join(f"line {line}: {text}" for line, text in repeats[:_SHOW])
            more = f", and {len(repeats) - _SHOW} more" if len(repeats) > _SHOW else ""
            warnings.append(Issue(
                "duplicate_rows",
                f"{name}: {_n(len(repeats), 'row repeats', 'rows repeat')} an earlier row for the same image "
                f"({shown}{more}); {_it(len(repeats))} ignored.", repeats[0][0]))  # fmt: skip
        if conflicts:
            more = f"; and {len(conflicts) - _SHOW} more" if len(conflicts) > _SHOW else ""
            errors.append(Issue(
                "conflicting_rows",
                f"{name}: {_n(len(conflicts), 'image has', 'images have')} two rows with different classes "
                f"({'; '.join(conflicts[:_SHOW])}{more}); keep one row per image and submit again.",
                None))  # fmt: skip

    unknown = np.flatnonzero(row_key < 0)
    mixed = _other_separator(row_key, id_cells, table.delimiter, key)
    if mixed:
        rows_mixed, other = mixed
        pairs = [(lines[r], id_cells[r]) for r in rows_mixed[: _SHOW + 1]]
        warnings.append(Issue(
            "mixed_separators",
            f"{name}: {_n(len(rows_mixed), 'row separates its', 'rows separate their')} cells with {_SEP_NAMES[other]} "
            f"while the file uses {_SEP_NAMES.get(table.delimiter, repr(table.delimiter))} "
            f"({_examples(pairs, len(rows_mixed))}); {_it(len(rows_mixed))} ignored. Save the file again with one "
            "separator (in Excel: File > Save As > CSV UTF-8).", pairs[0][0]))  # fmt: skip
        unknown = np.setdiff1d(unknown, np.asarray(rows_mixed, dtype=np.int64))
    if len(unknown):
        pairs = [(lines[r], id_cells[r]) for r in unknown[: _SHOW + 1].tolist()]
        warnings.append(Issue(
            "unknown_ids",
            f"{name}: {_n(len(unknown), 'row has', 'rows have')} an id that is not in the answer key "
            f"({_examples(pairs, len(unknown))}); {_it(len(unknown))} ignored.", pairs[0][0]))  # fmt: skip
    bad = first_rows[row_pred[first_rows] < 0]
    if len(bad):
        what = key.label_column
        if len(bad) == 1:
            r = int(bad[0])
            text = f"{name}, line {lines[r]}: {what} {label_cells[r]!r} is not {key.describe_classes()}; the row counts as wrong."
        else:
            pairs = [(lines[r], label_cells[r]) for r in bad[: _SHOW + 1].tolist()]
            text = (f"{name}: {len(bad)} rows have a {what} that is not {key.describe_classes()} "
                    f"({_examples(pairs, len(bad))}); they count as wrong.")  # fmt: skip
        warnings.append(Issue("invalid_label", text, lines[int(bad[0])]))

    n = len(key)
    answered = np.zeros(n, dtype=bool)
    answered[row_key[first_rows]] = True
    missing = np.flatnonzero(~answered)
    if len(missing):
        shown = ", ".join(repr(key.ids[i]) for i in missing[:_SHOW].tolist())
        more = ", ..." if len(missing) > _SHOW else ""
        warnings.append(Issue(
            "missing_rows",
            f"{name}: {len(missing)} of the {n} ids of the answer key {'has' if len(missing) == 1 else 'have'} "
            f"no row ({shown}{more}); {'it counts' if len(missing) == 1 else 'they count'} as wrong.", None))  # fmt: skip
    if errors:
        return _invalid(key, name, k, params, errors, warnings, n_unknown=len(unknown), n_duplicate=n_duplicate)

    y_pred = np.full(n, -1, dtype=np.int64)
    y_pred[row_key[first_rows]] = row_pred[first_rows]
    topk_hit, source = _top_k(
        rows, lines, first_rows, row_key, row_pred, cols, key, k, scores, valid_scores, name, warnings
    )
    return GradeReport(
        status="ok", name=name, labels=list(key.classes), ids=list(key.ids), y_true=key.y, y_pred=y_pred,
        answered=answered, topk_hit=topk_hit, k=k, topk_source=source, usage=key.usage, params=params,
        n_unknown=len(unknown), n_duplicate=n_duplicate, warnings=warnings,
    )  # fmt: skip


def _top_k(
    rows: list[list[str]],
    lines: Sequence[int],
    first_rows: np.ndarray,
    row_key: np.ndarray,
    row_pred: np.ndarray,
    cols: Columns,
    key: AnswerKey,
    k: int,
    scores: np.ndarray | None,
    valid_scores: np.ndarray | None,
    name: str,
    warnings: list[Issue],
) -> tuple[np.ndarray | None, str | None]:
    n = len(key)
    targets = row_key[first_rows]
    if scores is not None and valid_scores is not None:
        t = np.where(valid_scores[first_rows], key.y[targets], -1)
        hit = np.zeros(n, dtype=bool)
        hit[targets] = top_k_hits_from_indices(t, scores[first_rows], k)
        bad = first_rows[~valid_scores[first_rows]]
        if len(bad):
            pairs = [
                (lines[r], ", ".join(rows[r][c] if c < len(rows[r]) else "" for c in cols.scores))
                for r in bad[:4].tolist()
            ]
            warnings.append(Issue(
                "invalid_scores",
                f"{name}: {_n(len(bad), 'row has', 'rows have')} a score that is not a number "
                f"({_examples(pairs, len(bad))}); {'it counts' if len(bad) == 1 else 'they count'} as wrong for top-{k}.", lines[int(bad[0])]))  # fmt: skip
        return hit, "scores"
    if k == 1:
        hit = np.zeros(n, dtype=bool)
        hit[targets] = row_pred[first_rows] == key.y[targets]
        return hit, "class"
    if cols.ranked and len(cols.ranked) + 1 >= k:
        hit = np.zeros(n, dtype=bool)
        guesses = [row_pred[first_rows]]
        chosen = [rows[r] for r in first_rows.tolist()]
        guesses += [
            _lookup_classes([row[c] if len(row) > c else "" for row in chosen], key) for c in cols.ranked[: k - 1]
        ]
        hit[targets] = np.any(np.stack(guesses) == key.y[targets][None, :], axis=0)
        return hit, "ranked"
    label = cols.label_name or key.label_column
    extra = " and ".join(f"{label}_{j}" for j in range(2, k + 1))
    have = f"only {len(cols.ranked) + 1} ranked columns" if cols.ranked else "one class per row"
    score_cols = f"p{key.classes[0]} … p{key.classes[-1]}" if key.numeric else "one score column per class"
    warnings.append(Issue(
        "top_k_unavailable",
        f"{name}: top-{k} accuracy is unavailable because the file has {have}; to provide it, add the columns "
        f"{extra} (the next guesses, best first) or one score column per class ({score_cols}).", None))  # fmt: skip
    return None, None
