"""The data of a parameter table (:class:`LayerRow`, :class:`ParamTable`) and its text, JSON and LaTeX.

No torch: :mod:`reference_models.summary` builds a table (through
:mod:`reference_models._summary_trace`, which traces the model) and both import
this module, which imports neither of them.
"""

from __future__ import annotations

import dataclasses
import io
import re
from dataclasses import dataclass, field
from typing import Any

import jinja2

from reference_models.shapes import latex_math

__all__ = ["CHECK_EXPR", "META_THRESHOLD", "SHAPE_LEGEND", "LayerRow", "ParamTable", "shape_text"]

#: Models with more parameters than this are traced on the ``meta`` device (no arithmetic).
META_THRESHOLD = 5_000_000
SHAPE_LEGEND = "output size per dimension: ⌊(W + 2P − K)/S⌋ + 1, or ⌈W/S⌉ for TensorFlow's 'same'"
CHECK_EXPR = "sum(p.numel() for p in model.parameters())"


def shape_text(shape: tuple[int, ...] | None) -> str:
    """``3×32×32``, or a dash for no shape."""
    return "—" if shape is None else "×".join(str(d) for d in shape)


@dataclass(frozen=True)
class LayerRow:
    """One layer of a :class:`ParamTable` (only the parameters it owns and uses first)."""

    name: str
    type: str
    detail: str
    output_shape: tuple[int, ...] | None
    shape_formula: str
    params: int
    formula: str
    trainable: int
    buffers: int
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON row: ``name, type, output_shape, params, formula`` plus the extra fields."""
        d = dataclasses.asdict(self)
        d["output_shape"] = None if self.output_shape is None else list(self.output_shape)
        d["non_trainable"] = self.params - self.trainable
        d["notes"] = list(self.notes)
        return d


@dataclass(frozen=True)
class ParamTable:
    """A model's layers, totals and the ``sum(p.numel())`` check; render with ``to_*``."""

    model: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerRow, ...]
    total: int
    trainable: int
    non_trainable: int
    buffers: int
    numel_check: int
    notes: tuple[str, ...] = field(default=())

    @property
    def checked(self) -> bool:
        """True when the table's total equals ``sum(p.numel() for p in model.parameters())``."""
        return self.total == self.numel_check

    def check_line(self) -> str:
        """The sentence that states the cross-check."""
        if self.checked:
            return f"Check: {CHECK_EXPR} = {self.numel_check:,}, equal to the total."
        return f"CHECK FAILED: {CHECK_EXPR} = {self.numel_check:,} but the table sums to {self.total:,}."

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``derive params --format json``."""
        return {
            "model": self.model,
            "input_shape": list(self.input_shape),
            "layers": [row.to_dict() for row in self.layers],
            "total": self.total,
            "trainable": self.trainable,
            "non_trainable": self.non_trainable,
            "buffers": self.buffers,
            "check": {"expression": CHECK_EXPR, "value": self.numel_check, "ok": self.checked},
            "notes": list(self.notes),
        }

    def to_text(self, width: int | None = None) -> str:
        """A plain-text table (rich, no colour) with the totals and the check below it.

        Args:
            width: wrap the table to this many columns; ``None`` keeps every row on one line.
        """
        from rich import box
        from rich.console import Console
        from rich.table import Table

        with_notes = any(row.notes for row in self.layers)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for header, justify in [
            ("Layer", "left"),
            ("Type", "left"),
            ("Output", "right"),
            ("Output size", "left"),
            ("Params", "right"),
            ("Working", "left"),
        ]:
            table.add_column(header, justify=justify, no_wrap=header in ("Output", "Params"))  # type: ignore[arg-type]
        if with_notes:
            table.add_column("Notes")
        for row in self.layers:
            cells = [
                row.name,
                f"{row.type} {row.detail}".strip(),
                shape_text(row.output_shape),
                row.shape_formula,
                f"{row.params:,}",
                row.formula,
            ]
            table.add_row(*cells, *(["; ".join(row.notes)] if with_notes else []))
        out = io.StringIO()
        console = Console(file=out, width=width or 1000, color_system=None, force_terminal=False, soft_wrap=False)
        console.print(
            f"{self.model}: input {shape_text(self.input_shape)} (batch dimension left out; shapes are C×H×W)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        console.print(table)
        for line in self.summary_lines():
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"

    def summary_lines(self) -> list[str]:
        """The lines under the table: total with its sum, trainable, buffers, the check, notes."""
        counted = [row.params for row in self.layers if row.params]
        total = f"Total parameters: {self.total:,}"
        if 1 < len(counted) <= 12:
            total += " = " + " + ".join(f"{n:,}" for n in counted)
        return [
            total,
            f"  trainable {self.trainable:,}, non-trainable (frozen) {self.non_trainable:,}",
            f"Buffers (not parameters; BatchNorm keeps running mean and variance, C each, and a counter): "
            f"{self.buffers:,}",
            self.check_line(),
            f"Legend: {SHAPE_LEGEND}.",
            *self.notes,
        ]

    def to_latex(self) -> str:
        """A ``tabular`` fragment (needs only amsmath) for an answer key; every name is escaped."""
        rows = [
            {
                "name": _tex_text(row.name),
                "type": _tex_text(f"{row.type} {row.detail}".strip()),
                "shape": f"${latex_math(shape_text(row.output_shape))}$" if row.output_shape else "---",
                "shape_formula": f"${_dims_colon(latex_math(row.shape_formula))}$" if row.shape_formula else "",
                "params": latex_math(f"{row.params:,}"),
                "formula": f"${latex_math(row.formula)}$" if row.formula else "",
            }
            for row in self.layers
        ]
        return _LATEX_TEMPLATE.render(
            rows=rows,
            total=latex_math(f"{self.total:,}"),
            trainable=latex_math(f"{self.trainable:,}"),
            non_trainable=latex_math(f"{self.non_trainable:,}"),
            buffers=latex_math(f"{self.buffers:,}"),
            check=_tex_text(self.check_line()),
            model=_tex_text(self.model),
            input_shape=latex_math(shape_text(self.input_shape)),
        )


_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "×": r"$\times$",
    "→": r"$\to$",
    "·": r"$\cdot$",
    "−": "-",
    "'": r"\textquotesingle{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def _dims_colon(tex: str) -> str:
    """Show ``H: …; W: …`` in maths as labels: a colon, and a quad between the dimensions."""
    return re.sub(r"\b([LDHW]): ", r"\1\\colon ", tex).replace("; ", r",\quad ")


def _tex_text(text: str) -> str:
    """Escape text for LaTeX (specials, our few maths signs); anything else non-ASCII becomes '?'."""
    return "".join(_TEX_SPECIALS.get(ch, ch if ch.isascii() else "?") for ch in text)


_LATEX_TEMPLATE = jinja2.Environment(
    block_start_string="((*",
    block_end_string="*))",
    variable_start_string="(((",
    variable_end_string=")))",
    comment_start_string="((=",
    comment_end_string="=))",
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
).from_string(r"""% (((model))): input $(((input_shape)))$, shapes C$\times$H$\times$W
\begin{tabular}{llrlrl}
\hline
Layer & Type & Output & Output size & Parameters & Working \\
\hline
((* for r in rows *))
(((r.name))) & (((r.type))) & (((r.shape))) & (((r.shape_formula))) & (((r.params))) & (((r.formula))) \\
((* endfor *))
\hline
\multicolumn{4}{l}{Total (trainable (((trainable))), non-trainable (((non_trainable))))} & (((total))) & \\
\multicolumn{6}{l}{Buffers (not parameters): (((buffers)))} \\
\multicolumn{6}{l}{(((check)))} \\
\hline
\end{tabular}
""")
