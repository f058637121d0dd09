"""Read a student's ``.ipynb`` into a :class:`~grading.notebook.model.Notebook`, never running it.

The file is a student's, so it is read defensively: its size is checked before parsing
(:data:`MAX_BYTES`, raise with ``max_bytes``), a zip or a PDF renamed ``.ipynb`` is named as
such, JSON nested too deeply or malformed is an invalid notebook with one sentence, nbformat 3 is
upgraded (with a note), 4.x read as is and a newer major read as 4 (with a note); a missing or
odd key is skipped, never a stopped class. Outputs are default-deny: text, ``image/png`` and
``image/jpeg`` re-encoded once with Pillow (size-capped, :mod:`grading.notebook.images`),
``text/html`` kept raw for the review page to sanitize, anything else dropped with its mime type
noted; a markdown cell's PNG/JPEG attachments are re-encoded the same way, anything else dropped
with a note. The JSON is parsed once with :func:`json.loads` and checked here (no nbformat
validation pass: it costs more than the reading and stops nothing). No kernel, no ``exec``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grading.errors import InvalidSubmission
from grading.notebook.images import MAX_B64, decode_b64, reencode
from grading.notebook.model import Cell, CellKind, Notebook, Output
from grading.safety import strip_control

__all__ = ["MAX_BYTES", "MAX_CELLS", "MAX_IMAGE_B64", "InvalidNotebook", "parse_notebook", "read_notebook"]

MAX_BYTES = 50 * 1024 * 1024
"""The largest ``.ipynb`` read (bytes); ``read_notebook(..., max_bytes=)`` raises it."""
MAX_CELLS = 20_000
"""Cells beyond this many are dropped with a warning."""
MAX_IMAGE_B64 = MAX_B64
"""An image output longer than this (base64 characters) is dropped with a note."""
MAX_ATTACHMENTS = 100
"""A markdown cell's attachments beyond this many are ignored."""
MAX_TEXT = 200_000
"""The characters kept of one text output or one cell's source."""


class InvalidNotebook(InvalidSubmission):
    """The file cannot be read as a notebook; the message is one sentence that says why."""


def read_notebook(path: str | Path, *, max_bytes: int = MAX_BYTES) -> Notebook:
    """Read the notebook at ``path``.

    Raises:
        InvalidNotebook: the file is missing, too large, not JSON, a zip or a PDF, or not a notebook.
    """
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InvalidNotebook(
                f"{name}: {size / 1e6:.1f} MB is larger than the {max_bytes / 1e6:.0f} MB read; "
                "raise the limit (--max-notebook-mb) if it is a real notebook."
            )
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidNotebook(f"{name}: cannot read the file ({exc.strerror or exc}).") from None
    if len(raw) > max_bytes:
        raise InvalidNotebook(f"{name}: larger than the {max_bytes / 1e6:.0f} MB read.")
    return parse_notebook(raw, name=name)


def parse_notebook(raw: bytes, *, name: str = "notebook.ipynb") -> Notebook:
    """Read the bytes of a notebook (see :func:`read_notebook`); ``name`` is used in messages."""
    notes: list[str] = []
    head = raw[:8]
    if head.startswith(b"PK\x03\x04"):
        raise InvalidNotebook(f"{name}: this is a zip archive renamed .ipynb, not a notebook; hand in the .ipynb.")
    if head.lstrip().startswith(b"%PDF"):
        raise InvalidNotebook(f"{name}: this is a PDF renamed .ipynb, not a notebook; hand in the .ipynb.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        notes.append("the file is not valid UTF-8; the bytes that are not were replaced by �.")
    if "\x00" in text:
        text = text.replace("\x00", "")
        notes.append("the file holds NUL characters (\\x00); they were removed.")
    try:
        data = json.loads(text, strict=False)
    except RecursionError:
        raise InvalidNotebook(f"{name}: the JSON is nested too deeply to be a notebook.") from None
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(
            f"{name}: not a notebook: the JSON is broken at line {exc.lineno} ({exc.msg}); was it saved from Jupyter?"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise InvalidNotebook(f"{name}: JSON, but not a notebook: there is no list of cells.")
    major = data.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        major = 4 if "cells" in data else 3
        notes.append("the notebook does not say its nbformat version; it was read as nbformat 4.")
    if major < 3:
        raise InvalidNotebook(f"{name}: nbformat {major} is too old to read; open and save it in Jupyter again.")
    if major == 3 or "cells" not in data:
        data = _from_v3(data, name)
        notes.append("nbformat 3 notebook, upgraded to 4 for reading.")
    elif major > 4:
        notes.append(f"nbformat {major} is newer than 4; it was read as nbformat 4.")
    meta = data.get("metadata")
    language = "python"
    if isinstance(meta, Mapping):
        info = meta.get("language_info") or meta.get("kernelspec")
        if isinstance(info, Mapping) and isinstance(info.get("name") or info.get("language"), str):
            language = str(info.get("language") or info.get("name"))[:40]
    raw_cells = data["cells"]
    if len(raw_cells) > MAX_CELLS:
        notes.append(f"the notebook has {len(raw_cells)} cells; only the first {MAX_CELLS} were read.")
        raw_cells = raw_cells[:MAX_CELLS]
    cells = []
    skipped = 0
    for k, rc in enumerate(raw_cells):
        cell = _cell(k, rc, notes)
        if cell is None:
            skipped += 1
        else:
            cells.append(cell)
    if skipped:
        notes.append(f"{skipped} cell(s) without a cell type or source were skipped.")
    return Notebook(name, tuple(cells), major, language, tuple(_unique(notes)))


def _unique(notes: list[str]) -> list[str]:
    return list(dict.fromkeys(notes))


def _from_v3(data: dict[str, Any], name: str) -> dict[str, Any]:
    """nbformat 3's worksheets to a v4-shaped dict (the parts read here: sources and outputs)."""
    cells: list[Any] = []
    sheets = data.get("worksheets")
    for sheet in sheets if isinstance(sheets, list) else []:
        if isinstance(sheet, Mapping) and isinstance(sheet.get("cells"), list):
            cells.extend(sheet["cells"])
    out = []
    for c in cells:
        if not isinstance(c, Mapping):
            continue
        kind = c.get("cell_type")
        if kind == "code":
            outputs = []
            for o in c.get("outputs") or []:
                if not isinstance(o, Mapping):
                    continue
                otype = o.get("output_type")
                if otype == "stream":
                    outputs.append({"output_type": "stream", "text": o.get("text", "")})
                elif otype in ("pyout", "display_data"):
                    mimes = {"text": "text/plain", "png": "image/png", "jpeg": "image/jpeg", "html": "text/html"}
                    d = {
                        mimes.get(k, k): v
                        for k, v in o.items()
                        if k not in ("output_type", "metadata", "prompt_number")
                    }
                    outputs.append({"output_type": "display_data", "data": d})
                elif otype == "pyerr":
                    outputs.append({"output_type": "error", **{k: o.get(k) for k in ("ename", "evalue", "traceback")}})
            out.append({"cell_type": "code", "source": c.get("input", ""), "outputs": outputs})
        elif kind in ("markdown", "heading"):
            source = c.get("source", "")
            if kind == "heading":
                source = "#" * int(c.get("level", 1) if isinstance(c.get("level"), int) else 1) + " " + _text(source)
            out.append({"cell_type": "markdown", "source": source})
        elif kind == "raw":
            out.append({"cell_type": "raw", "source": c.get("source", "")})
    return {"cells": out, "metadata": data.get("metadata"), "nbformat": 4}


def _text(value: Any) -> str:
    """A notebook's multiline string: a string, or a list of strings (other items ignored)."""
    if isinstance(value, str):
        s = value
    elif isinstance(value, list):
        s = "".join(v for v in value if isinstance(v, str))
    else:
        return ""
    return s[:MAX_TEXT]


def _cell(index: int, raw: Any, notes: list[str]) -> Cell | None:
    if not isinstance(raw, Mapping):
        return None
    kind = raw.get("cell_type")
    if kind not in ("markdown", "code", "raw"):
        return None
    source = _text(raw.get("source"))
    outputs: tuple[Output, ...] = ()
    if kind == "code" and isinstance(raw.get("outputs"), list):
        outputs = tuple(o for item in raw["outputs"] for o in _outputs(item, index, notes))
    attachments = _attachments(raw.get("attachments"), index, notes) if kind == "markdown" else ()
    ckind: CellKind = kind
    return Cell(index, ckind, source, outputs, attachments)


def _outputs(raw: Any, index: int, notes: list[str]) -> list[Output]:
    if not isinstance(raw, Mapping):
        return []
    otype = raw.get("output_type")
    if otype == "stream":
        return [Output("text", strip_control(_text(raw.get("text"))))]
    if otype == "error":
        tb = raw.get("traceback")
        lines = [t for t in tb if isinstance(t, str)] if isinstance(tb, list) else []
        head = f"{_text(raw.get('ename'))}: {_text(raw.get('evalue'))}"
        return [Output("text", strip_control("\n".join([head, *lines]))[:MAX_TEXT])]
    data = raw.get("data")
    if otype not in ("execute_result", "display_data") or not isinstance(data, Mapping):
        return []
    out: list[Output] = []
    image = next((m for m in ("image/png", "image/jpeg") if m in data), None)
    if image is not None:
        img = _image(data[image], image, index, notes)
        if img is not None:
            out.append(img)
    if "text/html" in data:
        out.append(Output("html", _text(data["text/html"]), mime="text/html"))
    elif "text/plain" in data and image is None:
        out.append(Output("text", strip_control(_text(data["text/plain"]))))
    for mime in data:
        if mime not in ("image/png", "image/jpeg", "text/html", "text/plain"):
            out.append(Output("other", mime=str(mime)[:80]))
    return out


def _image(value: Any, mime: str, index: int, notes: list[str], what: str = "") -> Output | None:
    """A figure decoded and re-encoded once (:func:`grading.notebook.images.reencode`), or None with a note."""
    what = what or f"an {mime} output"
    blob = decode_b64(value, limit=MAX_IMAGE_B64)
    if isinstance(blob, str):
        notes.append(f"cell {index}: {what} {blob}.")
        return None
    image = reencode(blob)
    if image is None:
        notes.append(f"cell {index}: {what} is not a readable PNG or JPEG image (or too large) and was dropped.")
        return None
    return Output(image.kind, data=image, mime=f"image/{image.kind}")


def _attachments(raw: Any, index: int, notes: list[str]) -> tuple[tuple[str, Output], ...]:
    """A markdown cell's ``attachments`` (``{name: {mime: base64}}``): PNG/JPEG re-encoded, anything else dropped."""
    if not isinstance(raw, Mapping):
        return ()
    out = []
    for name, bundle in list(raw.items())[:MAX_ATTACHMENTS]:
        label = strip_control(str(name))[:80]
        mime = next((m for m in ("image/png", "image/jpeg") if isinstance(bundle, Mapping) and m in bundle), None)
        if mime is None:
            kinds = (
                ", ".join(strip_control(str(m))[:40] for m in list(bundle)[:5]) if isinstance(bundle, Mapping) else ""
            )
            notes.append(
                f"cell {index}: the attachment {label!r} ({kinds or 'empty'}) is not a PNG or JPEG and was dropped."
            )
            continue
        image = _image(bundle[mime], mime, index, notes, what=f"the attachment {label!r}")
        if image is not None:
            out.append((str(name), image))
    return tuple(out)
