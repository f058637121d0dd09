"""The output size of one convolution or pooling layer, with its working, for :mod:`derive`.

The arithmetic lives in :mod:`reference_models.shapes` (pure Python, below both
packages, so ``reference_models`` imports nothing of ``derive``); this module
re-exports it and turns its :class:`~reference_models.shapes.ShapeError` into a
:class:`~derive.errors.DeriveError`, so ``derive shape``, the answer keys and
``grade --variants`` keep one exception tree.

>>> step = conv_output_size(32, 3, stride=2, padding=1)
>>> step.substitution, step.result
('⌊(32 + 2·1 − 3)/2⌋ + 1', 16)
>>> conv_output_size(16, 3, stride=2, padding="same").text()
'⌈W/S⌉ = ⌈16/2⌉ = 8'
"""

from __future__ import annotations

from derive.errors import DeriveError
from reference_models import shapes as _shapes
from reference_models.shapes import ShapeStep, latex_math, same_padding

__all__ = ["ShapeStep", "conv_output_size", "latex_math", "same_padding"]


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
    """:func:`reference_models.shapes.conv_output_size`, raising :class:`DeriveError` (same message).

    >>> conv_output_size(2, 3).result
    Traceback (most recent call last):
    ...
    derive.errors.DeriveError: input 2 plus padding 2·0 is smaller than the kernel (3), so the output would be empty; use padding ≥ 1 or a smaller kernel.
    """
    try:
        return _shapes.conv_output_size(n, kernel, stride, padding, dilation, pool=pool, ceil_mode=ceil_mode)
    except _shapes.ShapeError as exc:
        raise DeriveError(str(exc)) from None
