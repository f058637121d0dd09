"""The output size of one convolution or pooling layer, with its working.

Pure Python (no torch, no sympy, nothing of :mod:`derive`): the parameter
tables of :mod:`reference_models.summary` and, through :mod:`derive.shapes`
(which re-exports it with :class:`~derive.errors.DeriveError`), the answer keys
and ``derive shape`` use it. It sits below both packages, so every import arrow
points down. One spatial dimension
at a time, as the course writes it::

    ⌊(W + 2P − K)/S⌋ + 1                    explicit padding P
    ⌊(W + 2P − D·(K − 1) − 1)/S⌋ + 1        with dilation D ≠ 1
    ⌈W/S⌉                                   TensorFlow's padding='same'

For 'same' the working also says how TensorFlow splits the padding
(``total = max((⌈W/S⌉ − 1)·S + K − W, 0)``, the extra pixel after, i.e. on the
bottom or right), which is what :mod:`reference_models.layers` reproduces.

>>> step = conv_output_size(32, 3, stride=2, padding=1)
>>> step.substitution, step.result
('⌊(32 + 2·1 − 3)/2⌋ + 1', 16)
>>> conv_output_size(16, 3, stride=2, padding="same").text()
'⌈W/S⌉ = ⌈16/2⌉ = 8'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from reference_models.errors import ModelError

__all__ = ["ShapeError", "ShapeStep", "conv_output_size", "latex_math", "same_padding"]


class ShapeError(ModelError):
    """A layer's numbers give no output (a window larger than the padded input, a size below 1)."""


_LATEX = {
    "⌊": r"\left\lfloor ",
    "⌋": r"\right\rfloor ",
    "⌈": r"\left\lceil ",
    "⌉": r"\right\rceil ",
    "·": r" \cdot ",
    "×": r" \times ",
    "−": "-",
    "→": r" \to ",
    "≥": r" \geq ",
    ",": "{,}",
}


def latex_math(text: str) -> str:
    """Turn one of our plain formulas (digits, letters, ``⌊⌋⌈⌉·×−``) into LaTeX maths.

    Only for strings this package writes; user text must be escaped instead.

    >>> latex_math("(3·3·3 + 1)·32 = 896")
    '(3 \\\\cdot 3 \\\\cdot 3 + 1) \\\\cdot 32 = 896'
    """
    return "".join(_LATEX.get(ch, ch) for ch in text)


def same_padding(n: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one dimension: ``(before, after)``, the extra one after.

    >>> same_padding(16, 3, stride=2)
    (0, 1)
    >>> same_padding(32, 2, stride=2)
    (0, 0)
    """
    effective = dilation * (kernel - 1) + 1
    total = max((math.ceil(n / stride) - 1) * stride + effective - n, 0)
    return total // 2, total - total // 2


@dataclass(frozen=True)
class ShapeStep:
    """One output-size computation: the formula, the numbers put in, the result.

    Attributes:
        n: input size W along this dimension.
        kernel, stride, padding, dilation: the layer's numbers (``padding`` may be ``"same"``).
        pool: True for a pooling layer (changes the wording only).
        ceil_mode: PyTorch pooling's ``ceil_mode``.
        formula: the general formula, e.g. ``⌊(W + 2P − K)/S⌋ + 1``.
        substitution: the formula with the numbers, e.g. ``⌊(32 + 2·1 − 3)/2⌋ + 1``.
        result: the output size.
        note: padding split for 'same', or PyTorch's ceil-mode correction; may be empty.
    """

    n: int
    kernel: int
    stride: int
    padding: int | str
    dilation: int
    pool: bool
    ceil_mode: bool
    formula: str
    substitution: str
    result: int
    note: str = ""

    def text(self) -> str:
        """``formula = substitution = result`` on one line."""
        if self.note.startswith("PyTorch drops"):
            return f"{self.formula} − 1 = {self.substitution} − 1 = {self.result}"
        return f"{self.formula} = {self.substitution} = {self.result}"

    def latex(self) -> str:
        """The same line as LaTeX maths (without ``$``)."""
        return latex_math(self.text())

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of every field plus ``latex``."""
        return {**asdict(self), "latex": self.latex()}


def _check(name: str, value: int, smallest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
        raise ShapeError(f"{name} must be a whole number ≥ {smallest}; got {value!r}.")


def conv_output_size(
    n: int,
    kernel: int,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    *,
    pool: bool = False,
    ceil_mode: bool = False,
) -> ShapeStep:
    """Output size of a convolution or pooling layer along one dimension, with its working.

    Args:
        n: input size W (pixels along height or width).
        kernel: kernel (or pooling window) size K.
        stride: stride S.
        padding: zero padding P on each side, ``"valid"`` (P = 0) or ``"same"`` (TensorFlow's rule).
        dilation: dilation D.
        pool: word the errors for a pooling window instead of a kernel.
        ceil_mode: round up as PyTorch pooling with ``ceil_mode=True`` does.

    Returns:
        The :class:`ShapeStep` with formula, substitution and result.

    Raises:
        ShapeError: a number out of range, or a window larger than the padded input.

    >>> conv_output_size(32, 3, padding="same").result
    32
    >>> conv_output_size(5, 3, dilation=2).text()
    '⌊(W + 2P − D·(K − 1) − 1)/S⌋ + 1 = ⌊(5 + 2·0 − 2·(3 − 1) − 1)/1⌋ + 1 = 1'
    """
    window = "pooling window" if pool else "kernel"
    _check("the input size", n, 1)
    _check(f"the {window} size", kernel, 1)
    _check("the stride", stride, 1)
    _check("the dilation", dilation, 1)
    if isinstance(padding, str):
        mode = padding.strip().lower()
        if mode == "same":
            before, after = same_padding(n, kernel, stride, dilation)
            note = (
                f"TensorFlow 'same' padding: total = max((⌈W/S⌉ − 1)·S + K − W, 0) = "
                f"max(({math.ceil(n / stride)} − 1)·{stride} + {dilation * (kernel - 1) + 1} − {n}, 0) = "
                f"{before + after}, {before} before and {after} after (bottom/right)"
            )
            return ShapeStep(
                n,
                kernel,
                stride,
                "same",
                dilation,
                pool,
                ceil_mode,
                "⌈W/S⌉",
                f"⌈{n}/{stride}⌉",
                math.ceil(n / stride),
                note,
            )
        if mode != "valid":
            raise ShapeError(f"padding must be a whole number ≥ 0, 'same' or 'valid'; got {padding!r}.")
        padding = 0
    _check("the padding", padding, 0)
    effective = dilation * (kernel - 1) + 1
    if pool and padding > kernel // 2:  # PyTorch's pool2d_shape_check: kernel / 2 >= pad, undilated kernel
        raise ShapeError(
            f"padding {padding} is more than half the pooling window {kernel} (PyTorch checks "
            f"padding ≤ ⌊K/2⌋ = {kernel // 2} on the undilated window, whatever the dilation, and refuses it). "
            f"Use padding ≤ {kernel // 2}."
        )
    if n + 2 * padding < effective and not (pool and ceil_mode):
        raise ShapeError(
            f"input {n} plus padding 2·{padding} is smaller than the {window} ({effective}), so the "
            f"output would be empty; use padding ≥ {math.ceil((effective - n) / 2)} or a smaller {window}."
        )
    if dilation == 1:
        formula, sub_k = "(W + 2P − K)/S", f"({n} + 2·{padding} − {kernel})/{stride}"
    else:
        formula = "(W + 2P − D·(K − 1) − 1)/S"
        sub_k = f"({n} + 2·{padding} − {dilation}·({kernel} − 1) − 1)/{stride}"
    left, right = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    span = n + 2 * padding - effective
    result = (-(-span // stride) if ceil_mode else span // stride) + 1
    note = ""
    if ceil_mode and (result - 1) * stride >= n + padding:
        result -= 1
        note = "PyTorch drops the last window because it would start in the right padding"
    if result < 1:  # only reachable with ceil_mode: PyTorch's "Output size is too small"
        raise ShapeError(
            f"input {n} plus padding 2·{padding} leaves no window of the {window} ({effective}) even rounding up "
            f"(output {result}); PyTorch refuses it. Use a smaller {window} or more padding."
        )
    if pool and ceil_mode and n + 2 * padding < effective:
        note = (
            "the window is larger than the padded input; with ceil_mode PyTorch still gives one output "
            "(pooling_output_shape in ATen's Pool.h rounds ⌈(W + 2P − D·(K − 1) − 1)/S⌉ + 1 up)"
        )
    return ShapeStep(
        n,
        kernel,
        stride,
        padding,
        dilation,
        pool,
        ceil_mode,
        f"{left}{formula}{right} + 1",
        f"{left}{sub_k}{right} + 1",
        result,
        note,
    )
