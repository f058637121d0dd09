"""The answer key: ids, their true classes, the class list, the public/private split.

:func:`load_key` reads a key CSV (``image,class``; extra columns such as
bounding boxes are ignored; an optional Kaggle-style ``Usage`` column) into an
:class:`AnswerKey`. The key also knows how to match the ids and read the
classes students write: ids match after trimming spaces, a folder prefix and
an image extension (``.png``), and as integers (Excel turns ``0109539.png``
into ``109539``); numeric classes match when written ``8``, ``8.0`` or ``8,0``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grading.errors import InvalidSubmission, UsageError
from grading.reader import read_rows

__all__ = ["ID_ALIASES", "LABEL_ALIASES", "AnswerKey", "load_key", "normalize_header", "normalize_id"]

ID_ALIASES = (
    "image", "id", "image_id", "imageid", "img", "image_name", "filename", "file_name", "file",
    "name", "sample", "sample_id", "path", "image_path",
)  # fmt: skip
LABEL_ALIASES = (
    "class", "label", "prediction", "predicted", "pred", "predicted_class", "predicted_label",
    "class_1", "label_1", "pred_1", "top_1", "top1", "class1", "label1", "target", "y", "y_pred",
    "digit", "category",
)  # fmt: skip
USAGE_ALIASES = ("usage", "split", "set")
_IMAGE_EXTENSIONS = re.compile(r"\.(png|jpe?g|bmp|gif|tiff?|webp)$", re.IGNORECASE)
_NOT_NAME = re.compile(r"[\s\-.]+")


def normalize_header(name: str) -> str:
    """Lower-case a header cell and join its words with ``_``.

    >>> normalize_header(" Predicted Class ")
    'predicted_class'
    """
    return _NOT_NAME.sub("_", name.strip().lower()).strip("_")


_EXTENSIONS = frozenset(("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp"))


def normalize_id(raw: str) -> str:
    """The comparable form of an id: no spaces, folder, image extension, or case.

    >>> normalize_id(" test/0109539.PNG ")
    '0109539'
    """
    text = raw.strip()
    if "/" in text or "\\" in text:
        text = text.replace("\\", "/").rsplit("/", 1)[-1]
    dot = text.rfind(".")
    if dot >= 0 and text[dot + 1 :].lower() in _EXTENSIONS:
        text = text[:dot].strip()
    return text.lower()


_WHOLE_FLOAT = re.compile(r"([0-9]+)[.,]0+")


def _id_number(loose: str) -> int | None:
    """An id read as a number: ``'0109539'`` and ``'109539.0'`` (Excel) -> 109539; ASCII digits only,
    so ``'²'`` (which passes ``str.isdigit``) is no number.

    >>> _id_number("0109539"), _id_number("5.0"), _id_number("²"), _id_number("5.5")
    (109539, 5, None, None)
    """
    if loose.isascii() and loose.isdigit():
        return int(loose)
    if "." not in loose and "," not in loose:
        return None
    m = _WHOLE_FLOAT.fullmatch(loose)
    return int(m.group(1)) if m else None


def _as_int(text: str) -> int | None:
    """``'8'``, ``'8.0'``, ``'8,0'``, ``' +8 '`` -> 8; anything else -> None."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value.is_integer() else None


@dataclass(frozen=True, eq=False)
class AnswerKey:
    """The answer key of one assignment.

    Attributes:
        ids: the ids as written in the key, in key order.
        labels: the true class of each id (ints for numeric classes, else strings).
        classes: the ordered class list; class ``classes[j]`` has index ``j``.
        y: the index into ``classes`` of each id's true class.
        usage: the Kaggle-style ``Usage`` value of each id (``"Public"``/``"Private"``), or None.
        id_column: the header of the id column (``"image"`` when the key has no header).
        label_column: the header of the label column (``"class"`` when the key has no header).
        name: the file name of the key, for messages.
    """

    ids: list[str]
    labels: list[int | str]
    classes: list[int | str]
    y: np.ndarray
    usage: list[str] | None = None
    id_column: str = "image"
    label_column: str = "class"
    name: str = "key.csv"
    _exact: dict[str, int] = field(default_factory=dict, repr=False)
    _loose: dict[str, int] = field(default_factory=dict, repr=False)
    _by_int: dict[int, int] = field(default_factory=dict, repr=False)
    _label_map: dict[str, int] = field(default_factory=dict, repr=False)
    _ids_look_like_classes: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self._exact.update(zip(self.ids, range(len(self.ids))))
        for index, cls in enumerate(self.classes):
            self._label_map[str(cls)] = index
            if isinstance(cls, int):
                self._label_map[f"{cls}.0"] = index
            else:
                self._label_map.setdefault(cls.lower(), index)
        clash = any(raw in self._label_map for raw in self.ids)
        object.__setattr__(self, "_ids_look_like_classes", clash)

    def _build_loose(self) -> None:
        """The trimmed/extension-free and integer forms of the ids, built on the first miss."""
        by_int: dict[int, int] = {}
        clashes: set[int] = set()
        for index, raw in enumerate(self.ids):
            loose = normalize_id(raw)
            self._loose.setdefault(loose, index)
            number = _id_number(loose)
            if number is not None:
                if number in by_int:
                    clashes.add(number)
                by_int[number] = index
        self._by_int.update({n: i for n, i in by_int.items() if n not in clashes})

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def numeric(self) -> bool:
        """True when the classes are integers (``0`` … ``9``)."""
        return all(isinstance(c, int) for c in self.classes)

    def index_of(self, raw_id: str) -> int | None:
        """The key row of a student's id, or None when the key does not know it.

        >>> key = AnswerKey.from_lists(["0000000.png", "0109539.png"], [0, 8])
        >>> key.index_of("109539"), key.index_of(" 0000000.PNG"), key.index_of("x.png")
        (1, 0, None)
        """
        index = self._exact.get(raw_id)
        if index is not None:
            return index
        if not self._loose and self.ids:
            self._build_loose()
        loose = normalize_id(raw_id)
        index = self._loose.get(loose)
        if index is None:
            number = _id_number(loose)
            if number is not None:
                index = self._by_int.get(number)
        return index

    def loose_indices(self, raw_ids: Sequence[str]) -> list[int]:
        """:meth:`index_of` for many ids at once (-1 when unknown), without a call per id."""
        if not self._loose and self.ids:
            self._build_loose()
        loose_get, int_get, extensions = self._loose.get, self._by_int.get, _EXTENSIONS
        out = []
        for raw in raw_ids:
            text = raw.strip()
            if "/" in text or "\\" in text:
                text = text.replace("\\", "/").rsplit("/", 1)[-1]
            dot = text.rfind(".")
            if dot >= 0 and text[dot + 1 :].lower() in extensions:
                text = text[:dot].strip()
            loose = text.lower()
            index = loose_get(loose)
            if index is None:
                if loose.isdigit() and loose.isascii():
                    index = int_get(int(loose))
                elif "." in loose or "," in loose:
                    number = _id_number(loose)
                    index = int_get(number) if number is not None else None
            out.append(-1 if index is None else index)
        return out

    def is_exact_id(self, raw_id: str) -> bool:
        """True when an id matches without the integer fallback (used to find id columns)."""
        if raw_id in self._exact:
            return True
        if not self._loose and self.ids:
            self._build_loose()
        return normalize_id(raw_id) in self._loose

    def class_index(self, raw: str) -> int:
        """The index of a written class in :attr:`classes`, or -1 when it is not a class.

        >>> AnswerKey.from_lists(["a"], [3], classes=range(10)).class_index("8.0")
        8
        """
        index = self._label_map.get(raw)
        if index is not None:
            return index
        if self.numeric:
            number = _as_int(raw)
            return self._label_map.get(str(number), -1) if number is not None else -1
        return self._label_map.get(raw.strip().lower(), -1)

    def describe_classes(self) -> str:
        """How the class list reads in a message, without naming any row's label."""
        first, last = self.classes[0], self.classes[-1]
        if (
            self.numeric
            and isinstance(first, int)
            and isinstance(last, int)
            and self.classes == [*range(first, last + 1)]
        ):
            return f"a number from {first} to {last}"
        return f"one of the {len(self.classes)} classes of the assignment"

    @classmethod
    def from_lists(
        cls,
        ids: Sequence[str],
        labels: Sequence[int | str],
        *,
        classes: Sequence[int | str] | None = None,
        usage: Sequence[str] | None = None,
        id_column: str = "image",
        label_column: str = "class",
        name: str = "key",
    ) -> AnswerKey:
        """Build a key in memory (tests, notebooks).

        Args:
            ids: the ids, unique.
            labels: the true class of each id.
            classes: the ordered class list; default: the sorted distinct labels.
            usage: an optional Public/Private value per id.
            id_column: the header of the id column.
            label_column: the header of the label column.
            name: a name for messages.

        Returns:
            the :class:`AnswerKey`.
        """
        class_list = list(classes) if classes is not None else sorted(set(labels), key=lambda c: (str(type(c)), c))
        position = {c: i for i, c in enumerate(class_list)}
        try:
            y = np.array(list(map(position.__getitem__, labels)), dtype=np.int64)
        except KeyError as exc:
            raise UsageError(f"{name}: label {exc.args[0]!r} is not in the class list {class_list!r}.") from None
        return cls(
            ids=list(ids),
            labels=list(labels),
            classes=class_list,
            y=y,
            usage=list(usage) if usage is not None else None,
            id_column=id_column,
            label_column=label_column,
            name=name,
        )


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
    return all(_as_int(c) is None and not _IMAGE_EXTENSIONS.search(c) for c in row)


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
        UsageError: the key is missing, unreadable, or its columns or labels cannot be used.
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
    lines = table.lines
    first = table.head(1)[0]
    header: list[str] | None = first if _is_header(first, (id_column, label_column)) else None
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
    parsed = {cell: _as_int(cell) for cell in set(raw)}
    ints = [parsed[cell] for cell in raw]
    int_values = [v for v in ints if v is not None]
    numeric = len(int_values) == len(ints)
    classes: list[int | str]
    if labels is not None:
        as_ints = [c if isinstance(c, int) else _as_int(str(c)) for c in labels]
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
