"""The problem family: input -> conv (cross-correlation) -> activation -> dense sum -> loss.

A :class:`Problem` is a frozen, validated configuration. It also owns the naming of
every variable (``a21``, ``w00``, ``z10``, ``v3``...), so that the graph, the values
files and the error messages all agree on one spelling.

>>> p = Problem()
>>> p.output
(2, 2)
>>> p.name("a", 2, 1), p.name("v", 3)
('a21', 'v3')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from derive.errors import DeriveError, did_you_mean

__all__ = ["ACTIVATIONS", "LOSSES", "Problem", "parse_size"]

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "bce")
MAX_SIDE = 64
# Letters the graph uses itself; a renamed input/kernel/dense symbol may not take one.
_RESERVED = {"z", "h", "b", "c", "y", "L", "p"}


def parse_size(text: str, *, option: str = "--input") -> tuple[int, int]:
    """Parse ``"4x4"`` (or ``"4"``, ``"4×4"``, ``"4,4"``) into ``(rows, cols)``.

    >>> parse_size("4x3")
    (4, 3)
    """
    match = re.fullmatch(r"\s*(\d+)\s*(?:[x×X,*]\s*(\d+)\s*)?", text)
    if not match:
        raise DeriveError(
            f"{option} {text!r} is not a size: expected ROWSxCOLS such as '4x4' (or one number for a square)."
        )
    rows = int(match.group(1))
    cols = int(match.group(2) or rows)
    return rows, cols


@dataclass(frozen=True)
class Problem:
    """One problem of the family, validated on construction.

    Attributes:
        input: Input feature map size (rows, cols).
        kernel: Kernel size (rows, cols).
        stride: Stride of the convolution (same in both directions).
        padding: Zero padding on every side.
        conv_bias: Whether the convolution adds a bias ``b``.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        dense_bias: Whether the dense sum adds a bias ``c``.
        loss: ``"mse"`` (``L = (ŷ - y)^2``) or ``"bce"`` (``p = σ(ŷ)``, cross-entropy).
        half_mse: Use ``L = ½(ŷ - y)^2`` (only with ``loss="mse"``).
        input_symbol: Letter of the input (``"a"``; a course may call it ``"x"``).
        kernel_symbol: Letter of the kernel weights (``"w"``).
        dense_symbol: Letter of the dense weights (``"v"``).
        one_based: Number indices from 1 (``a11`` is the top-left input).
    """

    input: tuple[int, int] = (4, 4)
    kernel: tuple[int, int] = (3, 3)
    stride: int = 1
    padding: int = 0
    conv_bias: bool = False
    activation: Literal["sigmoid", "tanh", "relu"] = "sigmoid"
    dense_bias: bool = False
    loss: Literal["mse", "bce"] = "mse"
    half_mse: bool = False
    input_symbol: str = "a"
    kernel_symbol: str = "w"
    dense_symbol: str = "v"
    one_based: bool = False
    _wide: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "input", _pair(self.input, "input"))
        object.__setattr__(self, "kernel", _pair(self.kernel, "kernel"))
        for label, value, low in (("stride", self.stride, 1), ("padding", self.padding, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DeriveError(f"{label} {value!r} is not valid: expected a whole number >= {low}.")
        if self.activation not in ACTIVATIONS:
            raise DeriveError(
                f"Unknown activation {self.activation!r}: expected one of {', '.join(ACTIVATIONS)}."
                + did_you_mean(str(self.activation), ACTIVATIONS)
            )
        if self.loss not in LOSSES:
            raise DeriveError(
                f"Unknown loss {self.loss!r}: expected one of {', '.join(LOSSES)}."
                + did_you_mean(str(self.loss), LOSSES)
            )
        if self.half_mse and self.loss != "mse":
            raise DeriveError("half_mse (--half-mse) only applies to the MSE loss; drop it or use --loss mse.")
        self._check_symbols()
        (h, w), (kh, kw), p, s = self.input, self.kernel, self.padding, self.stride
        if kh > h + 2 * p or kw > w + 2 * p:
            raise DeriveError(
                f"Kernel {kh}x{kw} is larger than the padded input {h + 2 * p}x{w + 2 * p} "
                f"(input {h}x{w}, padding {p}): use a smaller --kernel or more --padding."
            )
        for label, side, k in (("rows", h, kh), ("columns", w, kw)):
            span = side + 2 * p - k
            if span % s:
                raise DeriveError(
                    f"Stride {s} does not fit the {label}: (input {side} + 2*padding {p} - kernel {k}) = {span} "
                    f"is not a multiple of {s}, so the last {label} would be skipped; "
                    f"choose a stride that divides {span}, or change --input or --padding."
                )
        biggest = max(h, w, kh, kw, *self.output) - 1 + int(self.one_based)
        object.__setattr__(self, "_wide", biggest > 9)

    def _check_symbols(self) -> None:
        symbols = {
            "input_symbol": self.input_symbol,
            "kernel_symbol": self.kernel_symbol,
            "dense_symbol": self.dense_symbol,
        }
        for label, letter in symbols.items():
            if not isinstance(letter, str) or not re.fullmatch(r"[A-Za-z]", letter):
                raise DeriveError(f"{label} {letter!r} is not valid: expected one letter such as 'a' or 'x'.")
            if letter in _RESERVED:
                raise DeriveError(
                    f"{label} {letter!r} is taken: z, h, b, c, y, L and p already name parts of the network; pick another letter."
                )
        if len(set(symbols.values())) < 3:
            raise DeriveError(f"The input, kernel and dense symbols must differ; got {tuple(symbols.values())!r}.")

    # ------------------------------------------------------------------ shape
    @property
    def output(self) -> tuple[int, int]:
        """Size (rows, cols) of the convolution output ``z``."""
        (h, w), (kh, kw), p, s = self.input, self.kernel, self.padding, self.stride
        return (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1

    @property
    def n_dense(self) -> int:
        """Number of dense weights (flattened conv outputs)."""
        return self.output[0] * self.output[1]

    @property
    def base(self) -> int:
        """First index: 0, or 1 with ``one_based``."""
        return int(self.one_based)

    # ----------------------------------------------------------------- naming
    def name(self, kind: str, *index: int) -> str:
        """Name of a variable from 0-based indices: ``name("a", 2, 1) == "a21"``.

        ``kind`` is one of ``"a" "w" "z" "h" "v"`` (the roles; renamed letters are applied here).
        """
        letter = {"a": self.input_symbol, "w": self.kernel_symbol, "v": self.dense_symbol}.get(kind, kind)
        shown = [i + self.base for i in index]
        if len(shown) == 1:
            return f"{letter}{shown[0]}"
        if self._wide:
            return f"{letter}{shown[0]}_{shown[1]}"
        return f"{letter}{shown[0]}{shown[1]}"

    def dense_index(self, i: int, j: int) -> int:
        """0-based index k of ``v_k`` multiplying ``h_ij`` (row-major flatten)."""
        return i * self.output[1] + j

    def describe(self) -> str:
        """One line describing the network, for headings."""
        (h, w), (kh, kw) = self.input, self.kernel
        parts = [f"{h}x{w} input", f"{kh}x{kw} kernel", f"stride {self.stride}", f"padding {self.padding}"]
        parts.append("conv bias" if self.conv_bias else "no conv bias")
        parts.append(self.activation)
        parts.append("dense sum + bias" if self.dense_bias else "dense sum")
        parts.append({"mse": "half MSE" if self.half_mse else "MSE", "bce": "sigmoid + cross-entropy"}[self.loss])
        return ", ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """The configuration as JSON-ready data (the ``config`` field of the JSON output)."""
        return {
            "input": list(self.input),
            "kernel": list(self.kernel),
            "stride": self.stride,
            "padding": self.padding,
            "conv_bias": self.conv_bias,
            "activation": self.activation,
            "dense_bias": self.dense_bias,
            "loss": self.loss,
            "half_mse": self.half_mse,
            "input_symbol": self.input_symbol,
            "kernel_symbol": self.kernel_symbol,
            "dense_symbol": self.dense_symbol,
            "one_based": self.one_based,
        }


def _pair(value: object, label: str) -> tuple[int, int]:
    if isinstance(value, str):
        value = parse_size(value, option=label)
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        raise DeriveError(
            f"{label} size {value!r} is not valid: expected two positive whole numbers (rows, cols), such as (4, 4)."
        )
    if max(value) > MAX_SIDE:
        raise DeriveError(f"{label} size {tuple(value)!r} is too large: at most {MAX_SIDE} per side.")
    return int(value[0]), int(value[1])
