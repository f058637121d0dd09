"""The classic conv problem's float64 numbers, computed by the network engine: one set of numbers.

``derive grad`` (the sympy route, :mod:`derive.engine`) and ``derive grad --net`` describe the
course's conv problem in two ways; the numbers of both come from :mod:`derive.network.graph`
(forward pass, local derivatives, ∂L/∂ŷ) and :func:`derive.network.derivation.element_value`
(a gradient as the exactly rounded sum of its terms). The sympy graph is left with what only it
can do: the closed form, the index form and formula equivalence for grading.

>>> from derive.problem import Problem
>>> n = solve(Problem(activation="relu"), {"a00": 0.1, "a01": 0.2, "a02": -0.3, **{f"a{r}{c}": 0.0
...     for r in range(4) for c in range(4) if (r, c) not in ((0, 0), (0, 1), (0, 2))},
...     **{f"w{m}{k}": float(m == 0) for m in range(3) for k in range(3)},
...     **{f"v{k}": 1.0 for k in range(4)}, "y": 0.0})
>>> n.env["z00"]  # 0.1 + 0.2 - 0.3 in float64: not the kink, so ReLU' = 1 there (as torch)
5.551115123125783e-17
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from derive.network.derivation import element_value
from derive.network.graph import Forward, forward
from derive.network.spec import Layer, Network
from derive.problem import Problem

__all__ = ["ConvNumbers", "as_network", "element_of", "elements", "solve"]


def as_network(problem: Problem) -> Network:
    """The classic problem as a network: conv (1 channel), activation, flatten, one dense output, loss.

    Built directly (not through the network file's size limit): the classic problem checked its own sizes.
    """
    p = problem
    (h, w), (oh, ow) = p.input, p.output
    layers = (
        Layer(
            "conv",
            "conv1",
            kernel=p.kernel,
            channels=1,
            stride=(p.stride, p.stride),
            padding=(p.padding, p.padding),
            bias=p.conv_bias,
        ),
        Layer("act", "act1", fn=p.activation),
        Layer("flatten", "flatten1"),
        Layer("dense", "dense1", outputs=1, bias=p.dense_bias),
    )
    loss = "bce" if p.loss == "bce" else "half-mse" if p.half_mse else "mse"
    shapes = ((1, h, w), (1, oh, ow), (1, oh, ow), (oh * ow,), (1,))
    return Network(input=(1, h, w), layers=layers, loss=loss, shapes=shapes)


def elements(problem: Problem) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Classic node name → network tensor and index: ``a21`` → ``("x", (0, 2, 1))``, ``v3`` → ``("dense1.w", (0, 3))``.

    ``z``/``h`` map to the conv and act outputs (``"z"``, ``"h"``), ``yhat`` to ŷ.
    """
    p = problem
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for r in range(p.input[0]):
        for c in range(p.input[1]):
            out[p.name("a", r, c)] = ("x", (0, r, c))
    for m in range(p.kernel[0]):
        for n in range(p.kernel[1]):
            out[p.name("w", m, n)] = ("conv1.w", (0, 0, m, n))
    for k in range(p.n_dense):
        out[p.name("v", k)] = ("dense1.w", (0, k))
    for i in range(p.output[0]):
        for j in range(p.output[1]):
            out[p.name("z", i, j)] = ("z", (0, i, j))
            out[p.name("h", i, j)] = ("h", (0, i, j))
    out.update({"b": ("conv1.b", (0,)), "c": ("dense1.b", (0,)), "yhat": ("yhat", (0,))})
    return out


def element_of(problem: Problem, name: str) -> tuple[str, tuple[int, ...]]:
    """The network element of a classic leaf name (see :func:`elements`)."""
    return elements(problem)[name]


@dataclass(frozen=True)
class ConvNumbers:
    """Every number of a classic problem at given leaf values.

    Attributes:
        env: Node name → value (leaves, ``z``, ``h``, ``yhat``, ``p`` for bce, ``L``).
        act_local: ``h`` node name → ∂h/∂z (σ(z)σ(−z), sech²(z), or 𝟙[z > 0] with 0 at z = 0 exactly).
        dloss: ∂L/∂ŷ (2(ŷ − y), ŷ − y, or p − y in the stable form).
        net: The problem as a network; ``fw`` its forward pass.
    """

    problem: Problem
    env: dict[str, float]
    act_local: dict[str, float]
    dloss: float
    net: Network
    fw: Forward
    names: dict[str, tuple[str, tuple[int, ...]]]

    def gradient(self, name: str) -> float | None:
        """∂L/∂(a leaf, ``z``, ``h`` or ``yhat``) as ``derive grad --net`` computes it; ``None`` for ``p``."""
        if name not in self.names:
            return None
        tensor, index = self.names[name]
        deltas = self.fw.backward()[0]
        if tensor in ("z", "h", "yhat"):
            return float(deltas[{"z": 1, "h": 2, "yhat": -1}[tensor]][index])
        return element_value(self.net, self.fw, tensor, index)


def solve(problem: Problem, leaves: Mapping[str, float]) -> ConvNumbers:
    """Forward and backward of ``problem`` at ``leaves`` (``{"a00": 0.1, ..., "y": 1.0}``) by the network engine.

    A value beyond float64 is left as ``inf`` here; :func:`derive.graph.forward` says which node.
    """
    p = problem
    net = as_network(p)
    (h, w), (kh, kw), (oh, ow) = p.input, p.kernel, p.output
    values: dict[str, object] = {
        "x": [[[leaves[p.name("a", r, c)] for c in range(w)] for r in range(h)]],
        "conv1.w": [[[[leaves[p.name("w", m, n)] for n in range(kw)] for m in range(kh)]]],
        "dense1.w": [[leaves[p.name("v", k)] for k in range(p.n_dense)]],
        "y": float(leaves["y"]) if p.loss == "bce" else [float(leaves["y"])],
    }
    if p.conv_bias:
        values["conv1.b"] = [leaves["b"]]
    if p.dense_bias:
        values["dense1.b"] = [leaves["c"]]
    import numpy as np

    arrays = {k: (v if k == "y" and p.loss == "bce" else np.asarray(v, dtype=np.float64)) for k, v in values.items()}
    with np.errstate(over="ignore", invalid="ignore"):
        fw = forward(net, arrays)
        deltas = fw.backward()[0]
    env: dict[str, float] = dict(leaves)
    act_local: dict[str, float] = {}
    for i in range(oh):
        for j in range(ow):
            env[p.name("z", i, j)] = float(fw.tensors[1][0, i, j])
            env[p.name("h", i, j)] = float(fw.tensors[2][0, i, j])
            act_local[p.name("h", i, j)] = float(fw.local[1][0, i, j])
    env["yhat"] = float(fw.tensors[-1][0])
    if p.loss == "bce" and fw.probs is not None:
        env["p"] = float(fw.probs[0])
    env["L"] = fw.loss
    return ConvNumbers(p, env, act_local, float(deltas[-1][0]), net, fw, elements(p))
