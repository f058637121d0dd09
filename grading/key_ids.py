"""How ids, header cells and class cells are read loosely: the column aliases, and the forms that match.

Ids match after trimming spaces, a folder prefix and an image extension (``.png``), and as integers
(Excel turns ``0109539.png`` into ``109539``); numeric classes match when written ``8``, ``8.0`` or ``8,0``.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "ID_ALIASES",
    "IMAGE_EXTENSIONS",
    "IMAGE_EXTENSION_RE",
    "LABEL_ALIASES",
    "USAGE_ALIASES",
    "as_int",
    "id_number",
    "normalize_header",
    "normalize_id",
]

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
IMAGE_EXTENSION_RE = re.compile(r"\.(png|jpe?g|bmp|gif|tiff?|webp)$", re.IGNORECASE)
_NOT_NAME = re.compile(r"[\s\-.]+")


def normalize_header(name: str) -> str:
    """Lower-case a header cell and join its words with ``_``.

    >>> normalize_header(" Predicted Class ")
    'predicted_class'
    """
    return _NOT_NAME.sub("_", name.strip().lower()).strip("_")


IMAGE_EXTENSIONS = frozenset(("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp"))


def normalize_id(raw: str) -> str:
    """The comparable form of an id: no spaces, folder, image extension, or case.

    >>> normalize_id(" test/0109539.PNG ")
    '0109539'
    """
    text = raw.strip()
    if "/" in text or "\\" in text:
        text = text.replace("\\", "/").rsplit("/", 1)[-1]
    dot = text.rfind(".")
    if dot >= 0 and text[dot + 1 :].lower() in IMAGE_EXTENSIONS:
        text = text[:dot].strip()
    return text.lower()


_WHOLE_FLOAT = re.compile(r"([0-9]+)[.,]0+")


def id_number(loose: str) -> int | None:
    """An id read as a number: ``'0109539'`` and ``'109539.0'`` (Excel) -> 109539; ASCII digits only,
    so ``'²'`` (which passes ``str.isdigit``) is no number.

    >>> id_number("0109539"), id_number("5.0"), id_number("²"), id_number("5.5")
    (109539, 5, None, None)
    """
    if loose.isascii() and loose.isdigit():
        return int(loose)
    if "." not in loose and "," not in loose:
        return None
    m = _WHOLE_FLOAT.fullmatch(loose)
    return int(m.group(1)) if m else None


def as_int(text: str) -> int | None:
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
