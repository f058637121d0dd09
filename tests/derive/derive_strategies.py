"""Hypothesis strategies for derive's tests: valid problems and hand-sized values."""

from __future__ import annotations

from hypothesis import strategies as st

from derive.problem import Problem


@st.composite
def problems(draw: st.DrawFn, max_out: int = 3) -> Problem:
    """A valid problem: output size, stride, kernel and padding first, input derived."""
    out = (draw(st.integers(1, max_out)), draw(st.integers(1, max_out)))
    stride = draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = draw(st.integers(0, min(kernel) - 1))  # padding >= kernel would give all-zero outputs
    inp = tuple((o - 1) * stride + k - 2 * padding for o, k in zip(out, kernel))
    if min(inp) < 1:
        padding = 0
        inp = tuple((o - 1) * stride + k for o, k in zip(out, kernel))
    loss = draw(st.sampled_from(["mse", "bce"]))
    return Problem(
        input=inp,
        kernel=kernel,
        stride=stride,
        padding=padding,
        conv_bias=draw(st.booleans()),
        activation=draw(st.sampled_from(["sigmoid", "tanh", "relu"])),
        dense_bias=draw(st.booleans()),
        loss=loss,
        half_mse=loss == "mse" and draw(st.booleans()),
        one_based=draw(st.booleans()),
    )


def values_for(draw: st.DrawFn, problem: Problem) -> dict[str, object]:
    """Random values in the --values layout (floats in [-2, 2], y in [0, 1])."""
    num = st.floats(-2, 2, allow_nan=False, allow_infinity=False)
    p = problem
    out: dict[str, object] = {
        p.input_symbol: [[draw(num) for _ in range(p.input[1])] for _ in range(p.input[0])],
        p.kernel_symbol: [[draw(num) for _ in range(p.kernel[1])] for _ in range(p.kernel[0])],
        p.dense_symbol: [draw(num) for _ in range(p.n_dense)],
        "y": draw(st.floats(0, 1)),
    }
    if p.conv_bias:
        out["b"] = draw(num)
    if p.dense_bias:
        out["c"] = draw(num)
    return out
