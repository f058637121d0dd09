"""The one place a student's image bytes become bytes the review page may show.

A figure (an ``image/png`` or ``image/jpeg`` output, or a markdown cell's attachment) is decoded
by Pillow once, checked (PNG or JPEG only, at most :data:`MAX_PIXELS` pixels before it is decoded,
Pillow's decompression-bomb warning an error), shrunk to at most :data:`MAX_SIDE` pixels a side
and encoded again, once: PNG at ``compress_level=1`` (fast; plots are lines and flat colour),
JPEG for a JPEG and for a photo-like opaque PNG (more than 0.75 bytes a pixel, and more than
:data:`PHOTO_COLOURS` colours). The result is a :class:`Reencoded` — bytes Pillow produced from a decoded image,
never the student's own bytes — which the review page embeds as it is, without a second decode.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import io
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from grading.notebook.model import Notebook

__all__ = [
    "MAX_B64",
    "MAX_PIXELS",
    "MAX_SIDE",
    "PHOTO_COLOURS",
    "ImageFile",
    "Reencoded",
    "decode_b64",
    "reencode",
    "release_images",
]

MAX_B64 = 30 * 1024 * 1024
"""An image longer than this (base64 characters) is not read."""
MAX_PIXELS = 40_000_000
"""An image with more pixels is not decoded (a decompression bomb)."""
MAX_SIDE = 1400
"""The longest side of a re-encoded image (pixels); larger images are shrunk to it."""
PHOTO_COLOURS = 16_384
"""An opaque PNG with more distinct colours than this is photo-like and written as JPEG (a
matplotlib plot has a few hundred to a few thousand; a photo or a grid of dataset images more)."""
JPEG_QUALITY = 88


class Reencoded(bytes):
    """PNG or JPEG bytes that :func:`reencode` wrote with Pillow from a decoded image; ``kind`` says which."""

    kind: Literal["png", "jpeg"]

    def __new__(cls, data: bytes, kind: Literal["png", "jpeg"]) -> Reencoded:
        self = super().__new__(cls, data)
        self.kind = kind
        return self

    def data_uri(self) -> str:
        """``data:image/png;base64,…`` (or ``image/jpeg``) of these bytes."""
        return f"data:image/{self.kind};base64," + base64.b64encode(self).decode("ascii")


@dataclasses.dataclass(frozen=True)
class ImageFile:
    """A :class:`Reencoded` image written to ``path``: only its SHA-256 stays in memory."""

    path: Path
    sha256: bytes
    kind: Literal["png", "jpeg"]

    def read(self) -> Reencoded | None:
        """The bytes written, or None when the file is gone or no longer holds exactly them."""
        try:
            data = self.path.read_bytes()
        except OSError:
            return None
        return Reencoded(data, self.kind) if hashlib.sha256(data).digest() == self.sha256 else None


def release_images(nb: Notebook, figures: Sequence[Mapping[str, Any]], root: Path) -> Notebook:
    """``nb`` with each image output that was written as a figure (``figures``, in the order
    :func:`grading.notebook.claims.write_figures` wrote them, paths relative to ``root``) held as
    an :class:`ImageFile` instead of its bytes, so a class of notebooks does not keep every figure
    in memory until the review pages are written."""
    files, root = iter(figures), root.resolve()
    cells = []
    for cell in nb.cells:
        outputs = []
        for o in cell.outputs:
            f = next(files, None) if o.kind in ("png", "jpeg") else None  # one file per image output
            if f is not None and isinstance(o.data, Reencoded) and f.get("cell") == cell.index:
                stored = ImageFile(root / str(f.get("file")), hashlib.sha256(o.data).digest(), o.data.kind)
                o = dataclasses.replace(o, data=b"", file=stored)
            outputs.append(o)
        cells.append(dataclasses.replace(cell, outputs=tuple(outputs)))
    return dataclasses.replace(nb, cells=tuple(cells))


def decode_b64(value: Any, *, limit: int = MAX_B64) -> bytes | str:
    """The bytes of a notebook's base64 image (a string or a list of lines), or why there are none.

    >>> decode_b64(["aGk=\\n"]), decode_b64("not base64!")
    (b'hi', 'is not valid base64 and was dropped')
    """
    parts = (
        [value]
        if isinstance(value, str)
        else [v for v in value if isinstance(v, str)]
        if isinstance(value, list)
        else []
    )
    size = sum(len(p) for p in parts)
    if size > limit:
        return f"of {size / 1e6:.0f} MB (base64) was not read; the limit is {limit / 1e6:.0f} MB"
    try:
        return base64.b64decode("".join("".join(parts).split()), validate=True)
    except (binascii.Error, ValueError):
        return "is not valid base64 and was dropped"


def reencode(blob: bytes, *, side: int = MAX_SIDE) -> Reencoded | None:
    """``blob`` (a PNG or JPEG) decoded, shrunk to ``side`` and encoded again by Pillow; None if it is not a safe image."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(blob)) as im:
                pixels = im.width * im.height
                if im.format not in ("PNG", "JPEG") or pixels > MAX_PIXELS:
                    return None
                kind: Literal["png", "jpeg"] = "png" if im.format == "PNG" else "jpeg"
                if kind == "jpeg":
                    im.draft("RGB", (side, side))  # JPEG decodes at 1/2, 1/4, 1/8 scale directly
                image = im.convert("RGBA" if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info else "RGB")
            image.thumbnail((side, side))
            if image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 255:
                image = image.convert("RGB")  # matplotlib's figures are RGBA, all opaque
            dense = len(blob) > 0.75 * pixels  # a plot's PNG takes about 0.2 bytes a pixel, a photo's 1.5 to 3
            if kind == "png" and image.mode == "RGB" and dense and image.getcolors(PHOTO_COLOURS) is None:
                kind = "jpeg"  # photo-like: JPEG is 10-20 times faster to write than PNG, and smaller
            buf = io.BytesIO()
            if kind == "png":
                image.save(buf, format="PNG", compress_level=1)
            else:
                image.save(buf, format="JPEG", quality=JPEG_QUALITY)
    except Exception:  # Pillow raises many kinds on a hostile image; each is one dropped image  # noqa: BLE001
        return None
    return Reencoded(buf.getvalue(), kind)
