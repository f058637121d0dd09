"""``conv-shape``: the output shape of a convolution, ``⌊(W + 2P − K)/S⌋ + 1`` per spatial dimension (:mod:`derive.shapes`).

Options ``input``, ``kernel``, ``stride``, ``padding`` (a number or ``[rows, cols]``; padding also
``"same"`` / ``"valid"``) and ``channels`` (``[in, out]``). No values: the answers are ``out``
(a square result) or ``out_h`` and ``out_w``, whole numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from derive.errors import DeriveError
from derive.kinds.base import AnswerModel, Kind, Part, naming, question_template
from derive.latex_env import esc
from derive.steps import Derivation, Step

__all__ = ["ConvShape", "ConvShapeKind", "ShapeModel", "shape_mistakes"]


@dataclass(frozen=True)
class ConvShape:
    """The conv output-shape question: ``⌊(W + 2P − K)/S⌋ + 1`` per spatial dimension."""

    input: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int | str, int | str] = (0, 0)
    channels: tuple[int, int] | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        """``out`` for a square result, else ``out_h`` and ``out_w``."""
        if (
            self.input[0] == self.input[1]
            and self.kernel[0] == self.kernel[1]
            and self.stride[0] == self.stride[1]
            and self.padding[0] == self.padding[1]
        ):
            return ("out",)
        return ("out_h", "out_w")


class ConvShapeKind(Kind):
    """``kind = "conv-shape"``."""

    name = "conv-shape"
    options = ("channels", "input", "kernel", "padding", "stride")
    asks = False
    example = """
kind = "conv-shape"
input = 48
kernel = 7
stride = 2
padding = 3
channels = [3, 64]
"""

    def parse(self, options: dict[str, Any], *, where: str, source: str) -> ConvShape:
        with naming(where):
            return _conv_shape(options)

    def solve(self, problem: ConvShape, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        return _parts(problem)

    def question_latex(self, problem: ConvShape, wrt: tuple[str, ...]) -> str:
        p = problem
        same = p.kernel[0] == p.kernel[1]
        return question_template(
            self.name,
            [],
            height=p.input[0],
            width=p.input[1],
            kernel=p.kernel[0] if same else f"{p.kernel[0]}\\times{p.kernel[1]}",
            stride=_pair(p.stride),
            padding=_pair(p.padding),
            c_in=p.channels[0] if p.channels else "C_{in}",
            c_out=p.channels[1] if p.channels else "C_{out}",
        )

    def model(self, problem: ConvShape, value: float) -> ShapeModel:
        return ShapeModel(problem)


class ShapeModel(AnswerModel):
    """A whole number per dimension; the mistakes are the formula's usual slips."""

    kind = "conv-shape"
    integer = True
    formulas = False

    def _dim(self, wrt: str) -> int:
        return 1 if wrt == "out_w" else 0

    def right(self, values: Any, wrt: str) -> float:
        from derive.shapes import conv_output_size

        p, d = self.problem, self._dim(wrt)
        return float(conv_output_size(p.input[d], p.kernel[d], p.stride[d], p.padding[d]).result)

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        p, d = self.problem, self._dim(wrt)
        return shape_mistakes(p.input[d], p.kernel[d], p.stride[d], p.padding[d])


def shape_mistakes(w: int, k: int, s: int, p: int | str) -> dict[str, list[float]]:
    """The output sizes a student gets with each shape mistake, for one dimension (padding a number or 'valid')."""
    if p == "same":
        return {}
    pad = 0 if p == "valid" else int(p)
    return {
        "shape-plus-one-twice": [float((w + 2 * pad - k + 1) // s + 1)],
        "shape-no-padding": [float((w - k) // s + 1)],
        "shape-padding-once": [float((w + pad - k) // s + 1)],
        "shape-no-plus-one": [float((w + 2 * pad - k) // s)],
        "shape-no-stride": [float(w + 2 * pad - k + 1)],
    }


def _pair(pair: tuple[Any, Any]) -> str:
    return esc(str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})")


def _ints(value: Any, key: str, *, low: int, allow: tuple[str, ...] = ()) -> tuple[Any, Any]:
    pair = value if isinstance(value, list) else [value, value]
    ok = len(pair) == 2 and all(
        (isinstance(v, int) and not isinstance(v, bool) and v >= low) or (isinstance(v, str) and v in allow)
        for v in pair
    )
    if not ok:
        extra = f" or {' / '.join(repr(a) for a in allow)}" if allow else ""
        raise DeriveError(
            f"key {key!r} must be a whole number >= {low}{extra}, or a list [rows, cols] of them, got {value!r}."
        )
    return pair[0], pair[1]


def _conv_shape(options: dict[str, Any]) -> ConvShape:
    for key in ("input", "kernel"):
        if key not in options:
            raise DeriveError(
                f"missing key {key!r}: a conv-shape question needs 'input' and 'kernel' (e.g. input = 48, kernel = 3)."
            )
    channels = options.get("channels")
    if channels is not None:
        if not (
            isinstance(channels, list)
            and len(channels) == 2
            and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in channels)
        ):
            raise DeriveError(f"key 'channels' must be [in_channels, out_channels], got {channels!r}.")
        channels = (channels[0], channels[1])
    shape = ConvShape(
        input=_ints(options["input"], "input", low=1),
        kernel=_ints(options["kernel"], "kernel", low=1),
        stride=_ints(options.get("stride", 1), "stride", low=1),
        padding=_ints(options.get("padding", 0), "padding", low=0, allow=("same", "valid")),
        channels=channels,
    )
    from derive.shapes import conv_output_size

    for d in range(2):
        conv_output_size(shape.input[d], shape.kernel[d], shape.stride[d], shape.padding[d])
    return shape


def _parts(shape: ConvShape) -> tuple[Part, ...]:
    from derive.shapes import conv_output_size

    dims = [conv_output_size(shape.input[d], shape.kernel[d], shape.stride[d], shape.padding[d]) for d in range(2)]
    c_in, c_out = (str(c) for c in shape.channels) if shape.channels else ("C_{in}", "C_{out}")
    final = Step(
        "output shape",
        f"(B, {c_in}, {shape.input[0]}, {shape.input[1]}) \\to (B, {c_out}, {dims[0].result}, {dims[1].result})",
        f"(B, {c_in}, {shape.input[0]}, {shape.input[1]}) → (B, {c_out}, {dims[0].result}, {dims[1].result})",
        None,
        "Output size",
    )
    formula = Step(
        "formula",
        "\\left\\lfloor \\frac{W + 2P - K}{S} \\right\\rfloor + 1",
        "⌊(W + 2P − K)/S⌋ + 1",
        None,
        "Output size",
    )
    notes = ["No +1 inside the floor: a kernel of size K fits ⌊(W + 2P − K)/S⌋ + 1 times."]
    square = len(shape.variables) == 1
    parts = []
    for name, label, step in zip(shape.variables, ("H = W",) if square else ("H", "W"), dims):
        side = {"H": "H_{out}", "W": "W_{out}", "H = W": "H_{out} = W_{out}"}[label]
        work = Step(name, f"{side} = {step.latex()}", f"{label}_out = {step.text()}", float(step.result), "Output size")
        steps = (formula, work, final) if name != "out_h" else (formula, work)
        d = Derivation(
            title=f"{label} output size",
            steps=steps,
            result=work,
            notes=tuple(notes + ([step.note] if step.note else [])),
        )
        parts.append(Part(name=name, derivation=d, value=step.result))
    return tuple(parts)
