"""The known mistakes of each derivation, computed with the engine at a student's values, and naming one.

Each function returns ``{mistake id: [value, ...]}``: what a student who makes
that mistake answers. ``one-term`` has one value per output position (the student
may have kept any one term); ``flipped-kernel`` two (the whole network convolved
with the flipped kernel, and only ∂z/∂w, ∂z/∂a flipped, as a formula in nodes
reads); every other mistake has one value. A mistake is
named only when the answer matches it and its value differs from the right one
and from every other mistake's (:func:`diagnose`), so an answer that several
mistakes explain equally is called wrong without a name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from derive.graph import Graph, Node, chain_paths, evaluate, forward
from derive.values import leaf_values

__all__ = [
    "EXPLAIN",
    "MISTAKES",
    "bn_mistakes",
    "bn_numbers",
    "conv_chain",
    "conv_mistakes",
    "diagnose",
    "diagnose_points",
    "explain",
    "network_mistakes",
    "shape_mistakes",
    "softmax_mistakes",
]

MISTAKES = (
    "bce-missing-sigmoid-derivative",
    "factor-2",
    "flipped-kernel",
    "missing-softmax-derivative",
    "no-activation-derivative",
    "one-path",
    "one-term",
    "reversed-coefficients",
    "shape-no-padding",
    "shape-no-plus-one",
    "shape-no-stride",
    "shape-padding-once",
    "shape-plus-one-twice",
    "sign",
    "transposed-index",
    "unbiased-variance",
)
"""Every mistake id ``grade --variants`` may name."""

EXPLAIN: dict[str, str] = {
    "factor-2": "At the step ∂L/∂ŷ your answer is off by a factor of 2: the derivative of (ŷ − y)² is 2(ŷ − y), "
    "that of ½(ŷ − y)² is (ŷ − y); use the loss the question gives.",
    "sign": "Your answer has the right size but the wrong sign: check ∂L/∂ŷ (ŷ minus y, not y minus ŷ) and the sign "
    "of every factor of the chain rule.",
    "flipped-kernel": "At the forward pass you flipped the kernel (a true convolution); nn.Conv2d and the course use "
    "cross-correlation, z_ij = Σ w_mn a_(i+m)(j+n), with the kernel not flipped.",
    "no-activation-derivative": "At the step ∂h/∂z you took the activation's derivative as 1; for the sigmoid it is "
    "σ(z)(1 − σ(z)) (tanh: 1 − tanh²(z), ReLU: 1 where z > 0).",
    "one-term": "At the step that sums over the output positions you kept one term only; the variable reaches several "
    "outputs z_ij, and the gradient adds one term per position.",
    "transposed-index": "At the indices: your answer is the gradient of the transposed entry (w_ji for w_ij); the first "
    "index is the row, the second the column.",
    "bce-missing-sigmoid-derivative": "At the step ∂L/∂ŷ = ∂L/∂p · ∂p/∂ŷ you used ∂L/∂p alone; the output sigmoid adds the "
    "factor p(1 − p), which makes ∂L/∂ŷ = p − y.",
    "missing-softmax-derivative": "At the step ∂L/∂z_i you stopped at ∂L/∂ŷ_i = −y_i/ŷ_i; the softmax's derivative still "
    "has to be applied, which gives ŷ_i − y_i.",
    "unbiased-variance": "At the step σ²_B you divided by m − 1 (the unbiased variance); batch norm normalises with the "
    "biased batch variance, divided by m.",
    "one-path": "At the step ∂L/∂x_i you kept the path through x̂_i only; x_i also reaches L through σ²_B and μ_B, and "
    "the three terms add up.",
    "reversed-coefficients": "At reading the fit you took the coefficients in the wrong order: numpy.polyfit returns "
    "the highest power first (w_m, …, w_0); numpy.polynomial.polynomial.polyfit returns w_0 first.",
    "shape-plus-one-twice": "At the output-size formula you added 1 inside the floor as well (as the FER report does); "
    "it is ⌊(W + 2P − K)/S⌋ + 1, with the +1 outside only.",
    "shape-no-padding": "At the output-size formula you left out the padding: the padded input is W + 2P wide, "
    "so the size is ⌊(W + 2P − K)/S⌋ + 1.",
    "shape-padding-once": "At the output-size formula you padded one side only: padding P is added on both sides, "
    "W + 2P, not W + P.",
    "shape-no-plus-one": "At the output-size formula you left out the + 1 after the floor: a kernel of size K fits "
    "⌊(W + 2P − K)/S⌋ + 1 times.",
    "shape-no-stride": "At the output-size formula you left out the stride: divide by S inside the floor, "
    "⌊(W + 2P − K)/S⌋ + 1.",
}
"""One sentence per mistake, naming the step of the derivation where it happens."""

_SOFTMAX_ONE_TERM = (
    "At the step ∂L/∂z_i = Σ_k ∂L/∂ŷ_k · ∂ŷ_k/∂z_i you kept the k = i term only; the softmax couples "
    "every output, and the other terms (−ŷ_k ŷ_i) make it ŷ_i − y_i."
)


_SIGN = {
    "softmax-ce": "Your answer has the right size but the wrong sign: ∂L/∂z_i is ŷ_i − y_i (prediction minus target), "
    "not y_i − ŷ_i.",
    "batchnorm": "Your answer has the right size but the wrong sign: check the signs of (x_i − μ_B), of −½ in "
    "∂L/∂σ²_B and of −1/√(σ²_B + ε) in ∂L/∂μ_B.",
}


_NETWORK = {
    "missing-softmax-derivative": "At the step ∂L/∂ŷ_k (softmax + cross-entropy) you stopped at ∂L/∂p_k = −[k = y]/p_k; "
    "the softmax's derivative still has to be applied, which gives p_k − [k = y].",
    "transposed-index": "At the indices: your answer is the gradient of the element with its last two indices swapped "
    "(row and column, e.g. w[o,c,n,m] for w[o,c,m,n]); the first is the row, the second the column.",
    "flipped-kernel": "At the forward pass you flipped the kernel (a true convolution); nn.Conv2d and the course use "
    "cross-correlation, z[o,i,j] = Σ_c Σ_m Σ_n w[o,c,m,n] x[c,i+m,j+n], with the kernel not flipped.",
}


def explain(mistake: str, kind: str) -> str:
    """The sentence for ``mistake`` in a question of ``kind``.

    >>> explain("sign", "softmax-ce").startswith("Your answer has the right size")
    True
    """
    if mistake == "one-term" and kind == "softmax-ce":
        return _SOFTMAX_ONE_TERM
    if kind == "network" and mistake in _NETWORK:
        return _NETWORK[mistake]
    if mistake == "sign" and kind in _SIGN:
        return _SIGN[kind]
    return EXPLAIN[mistake]


Close = Callable[[float, float], bool]


# ---------------------------------------------------------------- naming one


def diagnose(answer: float, right: float, mistakes: Mapping[str, Sequence[float]], close: Close) -> str | None:
    """The one mistake ``answer`` matches whose value differs from ``right`` and from the other mistakes'.

    >>> diagnose(-1.0, 1.0, {"sign": [-1.0], "factor-2": [2.0]}, lambda a, b: abs(a - b) < 1e-9)
    'sign'
    >>> diagnose(0.0, 0.0, {"sign": [-0.0]}, lambda a, b: abs(a - b) < 1e-9) is None
    True
    """
    return diagnose_points([answer], [right], [mistakes], close)


def diagnose_points(
    answers: Sequence[float], rights: Sequence[float], mistakes: Sequence[Mapping[str, Sequence[float]]], close: Close
) -> str | None:
    """:func:`diagnose` over several points: a formula matches a mistake when it does at every point."""
    ids = list(mistakes[0])
    found: list[str] = []
    for mid in ids:
        for c in range(len(mistakes[0][mid])):
            value = [m[mid][c] for m in mistakes]
            if not all(math.isfinite(v) and close(a, v) for a, v in zip(answers, value)):
                continue
            if all(close(v, r) for v, r in zip(value, rights)):
                continue  # the mistake changes nothing here
            others = [[m[o][k] for m in mistakes] for o in ids if o != mid for k in range(len(mistakes[0][o]))]
            if any(all(close(v, u) for v, u in zip(value, other)) for other in others):
                continue  # another mistake gives the same answer: no telling them apart
            found.append(mid)
            break
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------- conv-gradient

Mutate = Callable[[Node, str, float], float]


def conv_chain(graph: Graph, env: Mapping[str, float], name: str, mutate: Mutate | None = None) -> list[float]:
    """The chain-rule product along each path from L down to ``name`` (one per output position reached).

    Their sum is ∂L/∂name; ``mutate(node, input, local value)`` replaces a local derivative
    (how a mistake is made: ∂h/∂z as 1, ∂L/∂ŷ halved...).
    """
    terms = []
    for path in chain_paths(graph, name):
        prod = 1.0
        for parent, child in path:
            node = graph.nodes[parent]
            local = node.local[child]
            v = env[local.name] if local.is_Symbol else evaluate(local, env)
            prod *= mutate(node, child, v) if mutate else v
        terms.append(prod)
    return terms


def _flipped(values: Mapping[str, Any], symbol: str) -> dict[str, Any]:
    out = dict(values)
    out[symbol] = [list(reversed(row)) for row in reversed(values[symbol])]
    return out


def _flip_local(graph: Graph, env: Mapping[str, float]) -> Mutate:
    """∂z_ij/∂a_rc read off the flipped kernel (w_(K−1−m)(K−1−n) for w_mn), the forward pass kept right."""
    p = graph.problem
    (kh, kw) = p.kernel

    def flip(w: str) -> str:
        m, n = graph.nodes[w].index
        return p.name("w", kh - 1 - m, kw - 1 - n)

    def mutate(node: Node, child: str, v: float) -> float:
        if node.op != "conv" or graph.nodes[child].role != "input":
            return v
        w = next(w for w, a in node.pairs if a == child)
        return env[flip(w)]

    return mutate


def _scale_mse(k: float) -> Mutate:
    """∂L/∂ŷ times ``k`` (the factor-2 mistakes)."""
    return lambda n, i, v: v * k if n.op == "mse" else v


def conv_mistakes(graph: Graph, values: Mapping[str, Any], wrt: str, right: float) -> dict[str, list[float]]:
    """Each mistake's ∂L/∂``wrt`` for a conv-gradient question at ``values`` (the --values layout)."""
    p = graph.problem
    env = forward(graph, leaf_values(values, p))
    node = graph.nodes[wrt]
    out: dict[str, list[float]] = {"sign": [-right]}
    if p.loss == "mse":  # half MSE: the 2 of (ŷ − y)² kept; plain MSE: the 2 dropped, or doubled (2·2(ŷ − y))
        out["factor-2"] = [
            math.fsum(conv_chain(graph, env, wrt, _scale_mse(k))) for k in ((2.0,) if p.half_mse else (0.5, 2.0))
        ]
    else:
        out["bce-missing-sigmoid-derivative"] = [
            math.fsum(conv_chain(graph, env, wrt, lambda n, i, v: 1.0 if n.op == "sigmoid" else v))
        ]
    out["no-activation-derivative"] = [
        math.fsum(conv_chain(graph, env, wrt, lambda n, i, v: 1.0 if n.op == "act" else v))
    ]
    terms = conv_chain(graph, env, wrt)
    if len(terms) > 1:
        out["one-term"] = terms
    flipped_wrt = wrt
    if node.role == "kernel":
        (kh, kw), (m, n) = p.kernel, node.index
        flipped_wrt = p.name("w", kh - 1 - m, kw - 1 - n)
    flipped_env = forward(graph, leaf_values(_flipped(values, p.kernel_symbol), p))
    # ∂z/∂w_mn read off the flipped kernel is the right ∂L/∂w_(K−1−m)(K−1−n); ∂z/∂a takes the flipped weight
    local = (
        conv_chain(graph, env, flipped_wrt)
        if node.role == "kernel"
        else conv_chain(graph, env, wrt, _flip_local(graph, env))
    )
    out["flipped-kernel"] = [math.fsum(conv_chain(graph, flipped_env, flipped_wrt)), math.fsum(local)]
    if node.role in ("input", "kernel") and node.index[0] != node.index[1]:
        i, j = node.index
        kind, (rows, cols) = ("a", p.input) if node.role == "input" else ("w", p.kernel)
        if j < rows and i < cols:
            out["transposed-index"] = [math.fsum(conv_chain(graph, env, p.name(kind, j, i)))]
    return out


# ---------------------------------------------------------------- network


def _net_grad(net: Any, values: Mapping[str, Any], name: str, index: tuple[int, ...], **rule: Any) -> float:
    from derive.network.graph import forward as net_forward

    return float(net_forward(net, values).backward(**rule)[1][name][index])


def network_mistakes(net: Any, values: Mapping[str, Any], wrt: str, right: float) -> dict[str, list[float]]:
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


# ---------------------------------------------------------------- softmax-ce


def softmax_mistakes(problem: Any, env: Mapping[str, float], wrt: str, right: float) -> dict[str, list[float]]:
    """Each mistake's ∂L/∂``wrt`` for a softmax-ce (or sigmoid + cross-entropy) question; ``env`` from the model."""
    out: dict[str, list[float]] = {"sign": [-right]}
    if problem.activation == "sigmoid":
        y, p = env["y"], env["yhat"]
        out["bce-missing-sigmoid-derivative"] = [-y / p + (1 - y) / (1 - p) if 0 < p < 1 else math.nan]
        return out
    i = wrt[1:]
    y, p = env[f"y{i}"], env[f"yhat{i}"]
    out["one-term"] = [-y * (1 - p)]
    out["missing-softmax-derivative"] = [-y / p if p > 0 else math.nan]
    return out


# ---------------------------------------------------------------- batchnorm


def bn_numbers(values: Mapping[str, Any], *, ddof: int = 0) -> dict[str, Any]:
    """The batch-norm forward and backward numbers, with the variance divided by ``m − ddof``.

    With ``ddof=0`` these are :func:`derive.batchnorm.forward_backward`'s (tested); ``ddof=1``
    is the unbiased-variance mistake carried through every step.
    """
    x, dy, gamma, eps = values["x"], values["dy"], values["gamma"], values["eps"]
    m = len(x)
    mu = math.fsum(x) / m
    var = math.fsum((xi - mu) ** 2 for xi in x) / (m - ddof)
    std = math.sqrt(var + eps)
    xhat = [(xi - mu) / std for xi in x]
    dxhat = [d * gamma for d in dy]
    dvar = math.fsum(d * (xi - mu) for d, xi in zip(dxhat, x)) * -0.5 * (var + eps) ** -1.5
    dmu = math.fsum(-d / std for d in dxhat) + dvar * math.fsum(-2 * (xi - mu) for xi in x) / (m - ddof)
    dx = [d / std + dvar * 2 * (xi - mu) / (m - ddof) + dmu / m for d, xi in zip(dxhat, x)]
    return {
        "mu": mu,
        "var": var,
        "std": std,
        "xhat": xhat,
        "dxhat": dxhat,
        "dvar": dvar,
        "dmu": dmu,
        "dx": dx,
        "dgamma": math.fsum(d * xh for d, xh in zip(dy, xhat)),
        "dbeta": math.fsum(dy),
    }


def _bn_pick(n: Mapping[str, Any], wrt: str) -> float:
    if wrt in ("gamma", "beta", "var", "mu"):
        return n["d" + wrt]
    return n["dx"][int(wrt[1:])]


def bn_mistakes(values: Mapping[str, Any], wrt: str, right: float) -> dict[str, list[float]]:
    """Each mistake's ∂L/∂``wrt`` for a batch-norm question at checked ``values``."""
    out: dict[str, list[float]] = {"sign": [-right], "unbiased-variance": [_bn_pick(bn_numbers(values, ddof=1), wrt)]}
    if wrt.startswith("x"):
        n = bn_numbers(values)
        out["one-path"] = [n["dxhat"][int(wrt[1:])] / n["std"]]
    return out


# ---------------------------------------------------------------- conv-shape


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
