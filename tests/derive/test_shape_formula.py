"""derive.shapes.conv_output_size: against torch for random layers, by hand, and its bad inputs."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.errors import DeriveError
from derive.shapes import conv_output_size, same_padding


def test_the_course_examples_by_hand() -> None:
    step = conv_output_size(32, 3, stride=2, padding=1)
    assert (step.formula, step.substitution, step.result) == ("⌊(W + 2P − K)/S⌋ + 1", "⌊(32 + 2·1 − 3)/2⌋ + 1", 16)
    assert (32 + 2 * 1 - 3) // 2 + 1 == 16
    same = conv_output_size(16, 3, stride=2, padding="same")
    assert same.text() == "⌈W/S⌉ = ⌈16/2⌉ = 8"
    assert "= 1, 0 before and 1 after" in same.note  # (8 − 1)·2 + 3 − 16 = 1
    assert conv_output_size(48, 2, stride=2, pool=True).result == 24
    assert conv_output_size(5, 3, dilation=2).substitution == "⌊(5 + 2·0 − 2·(3 − 1) − 1)/1⌋ + 1"
    assert conv_output_size(7, 3, padding="valid").result == 5


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3))
def test_conv_matches_torch(n: int, k: int, s: int, p: int, d: int) -> None:
    if n + 2 * p < d * (k - 1) + 1:
        with pytest.raises(DeriveError, match="smaller than the kernel"):
            conv_output_size(n, k, s, p, d)
        return
    out = torch.nn.functional.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    assert conv_output_size(n, k, s, p, d).result == out.shape[-1]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 2), ceil=st.booleans())
def test_pool_matches_torch(n: int, k: int, s: int, p: int, ceil: bool) -> None:
    try:
        out = torch.nn.functional.max_pool1d(torch.zeros(1, 1, n), k, s, p, ceil_mode=ceil).shape[-1]
    except RuntimeError:  # torch refuses: padding above ⌊K/2⌋, or no window at all
        with pytest.raises(DeriveError):
            conv_output_size(n, k, s, p, pool=True, ceil_mode=ceil)
        return
    assert conv_output_size(n, k, s, p, pool=True, ceil_mode=ceil).result == out


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 6), s=st.integers(1, 4))
def test_same_is_ceil_and_the_padding_gives_it(n: int, k: int, s: int) -> None:
    before, after = same_padding(n, k, s)
    assert 0 <= after - before <= 1  # the extra pixel after (bottom/right), as TensorFlow
    assert conv_output_size(n, k, s, "same").result == math.ceil(n / s) == (n + before + after - k) // s + 1


BAD = [
    (dict(n=0, kernel=3), r"the input size must be a whole number ≥ 1; got 0"),
    (dict(n=4, kernel=0), r"the kernel size must be a whole number ≥ 1; got 0"),
    (dict(n=4, kernel=3, stride=0), r"the stride must be a whole number ≥ 1; got 0"),
    (dict(n=4, kernel=3, padding=-1), r"the padding must be a whole number ≥ 0; got -1"),
    (dict(n=4, kernel=3, padding="half"), r"padding must be a whole number ≥ 0, 'same' or 'valid'; got 'half'"),
    (dict(n=2, kernel=5), r"input 2 plus padding 2·0 is smaller than the kernel \(5\).*use padding ≥ 2"),
    (dict(n=8, kernel=2, padding=2, pool=True), r"padding 2 is more than half the pooling window 2"),
]


@pytest.mark.parametrize("kwargs, message", BAD, ids=[m[:30] for _, m in BAD])
def test_bad_numbers(kwargs: dict, message: str) -> None:
    with pytest.raises(DeriveError, match=message):
        conv_output_size(**kwargs)


def test_latex_of_the_working() -> None:
    assert conv_output_size(32, 3, 2, 1).latex() == (
        r"\left\lfloor (W + 2P - K)/S\right\rfloor  + 1 = \left\lfloor (32 + 2 \cdot 1 - 3)/2\right\rfloor  + 1 = 16"
    )


def test_pool_corners_follow_torch_on_a_grid() -> None:
    """Every (W, K, S, P, D, ceil_mode) of a small grid: the same size as F.max_pool2d, or refused as torch refuses.

    The two corners of issue 12: dilation > 1 with padding above ⌊K/2⌋ of the undilated
    window (PyTorch refuses), and ceil_mode with a window larger than the input (PyTorch gives 1).
    """
    import itertools

    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    differ = []
    for n, k, s, p, d, ceil in itertools.product(
        range(1, 7), range(1, 5), range(1, 4), range(0, 3), range(1, 4), (False, True)
    ):
        try:
            expected = F.max_pool2d(torch.zeros(1, 1, n, n), k, s, p, d, ceil_mode=ceil).shape[-1]
        except RuntimeError:
            expected = None
        try:
            got = conv_output_size(n, k, s, p, d, pool=True, ceil_mode=ceil).result
        except DeriveError:
            got = None
        if got != expected:
            differ.append((n, k, s, p, d, ceil, expected, got))
    assert differ == []
    assert conv_output_size(2, 3, 3, 0, pool=True, ceil_mode=True).result == 1
    with pytest.raises(DeriveError, match=r"padding ≤ ⌊K/2⌋ = 1 on the undilated window"):
        conv_output_size(8, 3, 3, 2, 2, pool=True)
