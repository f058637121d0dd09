"""Numbers a student printed that a TA would otherwise copy by hand, and the figures to look at.

- ``params``: ``Total params: 2,938`` (torchinfo, Keras ``summary()``), or the number printed by a
  cell whose source sums ``p.numel()`` (``sum(p.numel() for p in model.parameters())``);
- ``top1`` / ``top3``: an accuracy printed beside ``top-1``/``top1``/``top-3`` (or ``accuracy``
  alone for top-1), as a percentage (``0.912`` is read as 91.2).

The last printed value of each wins (a notebook prints its final model last). Figures are the
image outputs, already re-encoded by the reader, written as files for the review page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from grading.notebook.model import Notebook

__all__ = ["find_claims", "write_figures"]

_COUNT = r"(\d{1,3}(?:[,_ ]\d{3})+|\d+)"
_PARAMS = re.compile(r"(?i)\btotal\s+params\s*[:=]?\s*" + _COUNT + r"(?![\d.])")
_PCT = r"([-+]?\d+(?:\.\d+)?)\s*(%)?"
_TOP = re.compile(r"(?i)\btop[-_ ]?([13])(?:[-_ ]?acc(?:uracy)?)?\b[^0-9\n]{0,20}?" + _PCT)
_ACC = re.compile(r"(?i)\b(?:test\s+)?acc(?:uracy)?\b[^0-9\n]{0,20}?" + _PCT)
_NUMEL = re.compile(r"numel\s*\(")


def _percent(number: str, sign: str | None) -> float | None:
    value = float(number)
    if sign is None and 0 <= value <= 1:
        value *= 100
    return round(value, 4) if 0 <= value <= 100 else None


def find_claims(nb: Notebook) -> list[dict[str, Any]]:
    """``[{what, value, cell}]``: params (an int), top1 and top3 (percent), the last printed of each."""
    last: dict[str, dict[str, Any]] = {}
    for cell in nb.cells:
        if cell.kind != "code":
            continue
        text = "\n".join(o.text for o in cell.outputs if o.kind == "text")
        if not text:
            continue
        for m in _PARAMS.finditer(text):
            last["params"] = {"what": "params", "value": int(re.sub(r"[,_ ]", "", m.group(1))), "cell": cell.index}
        if ("params" not in last or last["params"]["cell"] != cell.index) and _NUMEL.search(cell.source):
            counts = re.findall(r"(?<![\d.])" + _COUNT + r"(?![\d.])", text)
            if counts:
                value = int(re.sub(r"[,_ ]", "", counts[-1]))
                last["params"] = {"what": "params", "value": value, "cell": cell.index}
        for line in text.splitlines():
            if len(line) > 500:
                continue
            tops = list(_TOP.finditer(line))
            for m in tops:
                pct = _percent(m.group(2), m.group(3))
                if pct is not None:
                    what = f"top{m.group(1)}"
                    last[what] = {"what": what, "value": pct, "cell": cell.index}
            if not tops:
                m2 = _ACC.search(line)
                if m2:
                    pct = _percent(m2.group(1), m2.group(2))
                    if pct is not None:
                        last["top1"] = {"what": "top1", "value": pct, "cell": cell.index}
    return [last[w] for w in ("params", "top1", "top3") if w in last]


def write_figures(nb: Notebook, folder: Path, rel_to: Path) -> list[dict[str, Any]]:
    """Write each image output as ``folder/cell<N>-<k>.png|jpg``; ``[{cell, file}]`` relative to ``rel_to``."""
    out = []
    for cell in nb.cells:
        k = 0
        for o in cell.outputs:
            if o.kind not in ("png", "jpeg"):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"cell{cell.index}-{k}.{'png' if o.kind == 'png' else 'jpg'}"
            path.write_bytes(o.data)
            out.append({"cell": cell.index, "file": path.relative_to(rel_to).as_posix()})
            k += 1
    return out
