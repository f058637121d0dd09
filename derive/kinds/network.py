"""``network``: any small network written as ``derive grad --net`` reads it, by the network engine (:mod:`derive.network`).

The options are a network file's table, inline: ``input`` and ``[[item.layer]]`` tables
(:mod:`derive.network.spec`); the values are its ``--values`` layout; ``wrt`` names one
element each (``conv1.w[0,0,1,1]``). Grading takes numbers only; the mistakes are the
engine run on a changed network or with a changed backward rule (:func:`network_mistakes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from derive.errors import DeriveError
from derive.kinds.base import AnswerModel, Kind, Part, derivation_parts, question_template
from derive.latex_env import esc

if TYPE_CHECKING:
    from derive.network.spec import Network as Problem

__all__ = ["NetworkKind", "NetworkModel", "network_mistakes"]


class NetworkKind(Kind):
    """``kind = "network"``."""

    name = "network"
    options = ("input", "layer")
    wrt_example = '["conv1.w[0,0,1,1]"]'
    explanations = {
        "missing-softmax-derivative": "At the step ∂L/∂ŷ_k (softmax + cross-entropy) you stopped at ∂L/∂p_k = "
        "−[k = y]/p_k; the softmax's derivative still has to be applied, which gives p_k − [k = y].",
        "transposed-index": "At the indices: your answer is the gradient of the element with its last two indices "
        "swapped (row and column, e.g. w[o,c,n,m] for w[o,c,m,n]); the first is the row, the second the column.",
        "flipped-kernel": "At the forward pass you flipped the kernel (a true convolution); nn.Conv2d and the course "
        "use cross-correlation, z[o,i,j] = Σ_c Σ_m Σ_n w[o,c,m,n] x[c,i+m,j+n], with the kernel not flipped.",
    }
    example = """
kind = "network"
input = [1, 4, 4]
wrt = ["conv1.w[0,0,1,1]", "dense1.w[0,2]"]
[[item.layer]]
type = "conv"
kernel = 3
channels = 1
[[item.layer]]
type = "act"
fn = "sigmoid"
[[item.layer]]
type = "flatten"
[[item.layer]]
type = "dense"
outputs = 1
[[item.layer]]
type = "loss"
fn = "mse"
"""

    def parse(self, options: dict[str, Any], *, where: str, source: str) -> Problem:
        from derive.network.spec import network_from_dict

        return network_from_dict(options, source=where)

    def config(self, problem: Problem) -> dict[str, Any]:
        return problem.config()

    def check_variable(self, problem: Problem, name: str) -> str:
        from derive.network.values import element_name, resolve_wrt

        try:
            return element_name(*resolve_wrt(problem, name))
        except DeriveError as exc:
            raise DeriveError(str(exc).removeprefix("--wrt ")) from None

    def random_values(self, problem: Problem, seed: int) -> dict[str, Any]:
        from derive.network.values import random_values

        return random_values(problem, seed)

    def check_values(self, problem: Problem, values: Mapping[str, Any]) -> Any:
        """Checked, but kept in the file's layout (the engine takes it so)."""
        from derive.network.values import check_values

        check_values(problem, values)
        return values

    def solve(self, problem: Problem, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        from derive.network import network_gradient

        return derivation_parts(wrt, lambda n: network_gradient(problem, n, values=values, check=False).to_derivation())

    def question_latex(self, problem: Problem, wrt: tuple[str, ...]) -> str:
        from derive.network.derivation import element_latex, question_latex

        return question_template(
            self.name,
            [element_latex(problem, n) for n in wrt],
            network=question_latex(problem),
            describe=r" $\to$ ".join(esc(part) for part in problem.describe().split(" → ")),
        )

    def given_latex(self, problem: Problem, values: Mapping[str, Any]) -> list[str]:
        from derive.network.derivation import given_latex

        return list(given_latex(problem, values))

    def model(self, problem: Problem, value: float) -> NetworkModel:
        return NetworkModel(problem)


class NetworkModel(AnswerModel):
    """Numbers only; the right one from the network engine."""

    kind = "network"
    formulas = False

    def check(self, values: Any) -> Any:
        """Validated, but kept as answers.json's JSON (the feedback prints it); arrays are made per use."""
        from derive.network.values import check_values

        check_values(self.problem, values)
        return values

    def _arrays(self, values: Any) -> dict[str, Any]:
        from derive.network.values import check_values

        return check_values(self.problem, values)

    def right(self, values: Any, wrt: str) -> float:
        from derive.network.graph import forward
        from derive.network.values import resolve_wrt

        name, index = resolve_wrt(self.problem, wrt)
        return float(forward(self.problem, self._arrays(values)).backward()[1][name][index])

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return network_mistakes(self.problem, self._arrays(values), wrt, right)


def _net_grad(net: Problem, values: Mapping[str, Any], name: str, index: tuple[int, ...], **rule: Any) -> float:
    from derive.network.graph import forward as net_forward

    return float(net_forward(net, values).backward(**rule)[1][name][index])


def network_mistakes(net: Problem, values: Mapping[str, Any], wrt: str, right: float) -> dict[str, list[float]]:
    """Each mistake's ∂L/∂``wrt`` for a network question, with the network engine at checked ``values``.

    Each is the engine on a changed network (the other mse, every kernel flipped) or with a changed
    backward rule (∂h/∂z = 1, ∂L/∂ŷ replaced by ∂L/∂p), or the right gradient of another element.
    """
    import dataclasses

    import numpy as np

    from derive.network.graph import forward as net_forward
    from derive.network.values import resolve_wrt

    name, index = resolve_wrt(net, wrt)
    out: dict[str, list[float]] = {"sign": [-right]}
    if net.loss in ("mse", "half-mse"):
        other = dataclasses.replace(net, loss="half-mse" if net.loss == "mse" else "mse")
        out["factor-2"] = [_net_grad(other, values, name, index)] + ([2.0 * right] if net.loss == "mse" else [])
    elif net.loss == "bce":
        fw = net_forward(net, values)
        assert fw.probs is not None  # a bce network's output probability
        p, y = float(fw.probs[0]), values["y"]
        dp = -y / p + (1 - y) / (1 - p) if 0 < p < 1 else math.nan  # ∂L/∂p used as ∂L/∂ŷ: no p(1 − p)
        out["bce-missing-sigmoid-derivative"] = [float(fw.backward(dloss=np.array([dp]))[1][name][index])]
    else:
        fw = net_forward(net, values)
        onehot = np.zeros_like(fw.probs)
        onehot[values["y"]] = 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            dp = np.where(onehot > 0, -onehot / fw.probs, 0.0)  # ∂L/∂p_k = −[k = y]/p_k, no softmax Jacobian
        out["missing-softmax-derivative"] = [float(fw.backward(dloss=dp)[1][name][index])]
    if any(layer.type == "act" for layer in net.layers):
        out["no-activation-derivative"] = [_net_grad(net, values, name, index, act_derivative=False)]
    shape = net.tensor_shapes()[name]
    if not name.endswith(".b") and len(index) >= 2 and index[-1] != index[-2]:
        swapped = (*index[:-2], index[-1], index[-2])
        if all(i < n for i, n in zip(swapped, shape)):
            out["transposed-index"] = [_net_grad(net, values, name, swapped)]
    layer = None if name == "x" else net.layers[net.layer_of(name)]
    if layer is not None and layer.type == "conv" and name.endswith(".w"):
        o, c, m, n = index
        (kh, kw) = layer.kernel
        at = (o, c, kh - 1 - m, kw - 1 - n)
        flipped = dict(values)
        for lay in net.layers:  # a true convolution everywhere: cross-correlation with the flipped kernel
            if lay.type == "conv":
                flipped[f"{lay.name}.w"] = values[f"{lay.name}.w"][..., ::-1, ::-1].copy()
        # the whole forward pass convolved, or only ∂z/∂w read off the flipped kernel (the right ∂L/∂w at the flip)
        out["flipped-kernel"] = [_net_grad(net, flipped, name, at), _net_grad(net, values, name, at)]
    return out
