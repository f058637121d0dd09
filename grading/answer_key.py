"""The :class:`AnswerKey`: ids, their true classes, the class list and the public/private split, and the lookups grading uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from grading.errors import UsageError
from grading.key_ids import IMAGE_EXTENSIONS, as_int, id_number, normalize_id
from grading.report import Issue

__all__ = ["AnswerKey"]


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
        warnings: what the CSV reader noticed in the key file and read around (a stray quote, a
            legacy encoding), one :class:`~grading.report.Issue` per kind with its line; for the TA,
            never for a student's feedback.
    """

    ids: list[str]
    labels: list[int | str]
    classes: list[int | str]
    y: np.ndarray
    usage: list[str] | None = None
    id_column: str = "image"
    label_column: str = "class"
    name: str = "key.csv"
    warnings: list[Issue] = field(default_factory=list)
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
            number = id_number(loose)
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
            number = id_number(loose)
            if number is not None:
                index = self._by_int.get(number)
        return index

    def loose_indices(self, raw_ids: Sequence[str]) -> list[int]:
        """:meth:`index_of` for many ids at once (-1 when unknown), without a call per id."""
        if not self._loose and self.ids:
            self._build_loose()
        loose_get, int_get, extensions = self._loose.get, self._by_int.get, IMAGE_EXTENSIONS
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
                    number = id_number(loose)
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
            number = as_int(raw)
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
