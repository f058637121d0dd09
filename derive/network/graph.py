"""The network's graph: one node per tensor, each knowing its layer, its values and its local derivative.

Like :mod:`derive.graph` (micrograd's ``Value``), but a node is a whole tensor: ``T[0]`` is
the input ``x``, ``T[k + 1]`` the output of layer ``k``, the last one ``ŷ``. :func:`forward`
evaluates every node in float64 with the stable forms (σ from ``e^{-|z|}``, the log-sum-exp
for softmax, ``log1p`` for the cross-entropy) and records what a max-pool chose;
:meth:`Forward.backward` gives every ``∂L/∂T[k]`` and every parameter's gradient by the chain
rule, layer by layer; :func:`reach` gives the elements an element of ``x`` or of a parameter
reaches, so that a derivation shows only those paths.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from derive.network.spec import Layer, Network
from derive.numeric import bce_dlogit, relu_derivative, sech2, softmax_ce_dlogits, softplus
from derive.numeric import sigmoid as _sigmoid

__all__ = ["Forward", "Symbol", "forward", "param_symbol", "reach", "sigmoid", "symbols"]


@dataclass(frozen=True)
class Symbol:
    """How a tensor prints: ``z^{(1)}`` / ``z1`` (LaTeX base, text base)."""

    latex: str
    text: str

    def at(self, index: tuple[int, ...] | str) -> tuple[str, str]:
        """(LaTeX, text) of one element: ``z^{(1)}_{0,1,2}`` and ``z1[0,1,2]``."""
        idx = index if isinstance(index, str) else ",".join(map(str, index))
        return f"{self.latex}_{{{idx}}}", f"{self.text}[{idx}]"


_LETTER = {"conv": "z", "act": "h", "maxpool": "q", "avgpool": "q", "flatten": "f", "dense": "u"}


def symbols(net: Network) -> list[Symbol]:
    """The symbol of each node ``T[0..n]``: ``x``, then a letter per layer type, ``ŷ`` last.

    A letter used by several layers gets the occurrence as superscript: ``z^{(1)}``, ``z^{(2)}``.

    >>> from derive.network.spec import parse_network
    >>> net = parse_network('input = [4]\\n[[layer]]\\ntype = "dense"\\noutputs = 2\\n[[layer]]\\ntype = "act"\\n'
    ...                     'fn = "tanh"\\n[[layer]]\\ntype = "dense"\\noutputs = 1\\n[[layer]]\\ntype = "loss"\\nfn = "mse"\\n')
    >>> [s.text for s in symbols(net)]
    ['x', 'u', 'h', 'ŷ']
    """
    letters = [_LETTER[layer.type] for layer in net.layers[:-1]]
    out = [Symbol("x", "x")]
    for k, letter in enumerate(letters):
        if letters.count(letter) > 1:
            nth = letters[: k + 1].count(letter)
            out.append(Symbol(f"{letter}^{{({nth})}}", f"{letter}{nth}"))
        else:
            out.append(Symbol(letter, letter))
    out.append(Symbol(r"\hat{y}", "ŷ"))
    return out


def param_symbol(name: str) -> Symbol:
    """``conv1.w`` → ``w^{\\mathrm{conv1}}`` / ``conv1.w``."""
    layer, kind = name.split(".")
    safe = layer.replace("_", r"\_")
    return Symbol(f"{kind}^{{\\mathrm{{{safe}}}}}", name)


# ------------------------------------------------------------------ numbers
def _each(f: Any, z: np.ndarray | float) -> np.ndarray:
    """``f`` (a float64 function of :mod:`derive.numeric`) on every element: one implementation for all routes."""
    z = np.asarray(z, dtype=np.float64)
    return np.fromiter((f(float(v)) for v in z.ravel()), dtype=np.float64, count=z.size).reshape(z.shape)


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    """σ(z) without overflow, elementwise (:func:`derive.numeric.sigmoid`)."""
    return _each(_sigmoid, z)


def _act(fn: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value, local derivative) of an activation, both stable at the extremes."""
    if fn == "sigmoid":
        return sigmoid(z), sigmoid(z) * sigmoid(-z)  # σ(1 − σ) with 1 − σ = σ(−z): no cancellation
    if fn == "tanh":
        return _each(math.tanh, z), _each(sech2, z)  # sech², not 1 − tanh² (which is 0 too early)
    return np.maximum(z, 0.0), _each(relu_derivative, z)  # 𝟙[z > 0]: 0 at z = 0 exactly, as torch


def _windows(layer: Layer, shape: tuple[int, ...], out: tuple[int, ...]) -> Iterator[tuple[int, int, range, range]]:
    """(i, j, rows, cols) of every window of a conv or pool, rows/cols in the padded input."""
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    for i in range(out[1]):
        for j in range(out[2]):
            yield i, j, range(sh * i, sh * i + kh), range(sw * j, sw * j + kw)


@dataclass
class Forward:
    """Every node's values at given numbers, and what the layers chose.

    Attributes:
        net: The network.
        values: The validated values (``x``, parameters, ``y``).
        tensors: ``tensors[k]`` is ``T[k]`` (``tensors[-1]`` is ŷ).
        local: For an act layer ``k``, the local derivative ``∂T[k+1]/∂T[k]`` elementwise.
        winners: For a max-pool layer ``k``, ``winners[k][c, i, j]`` = (row, col) of the maximum.
        ties: For a max-pool layer ``k``, windows (c, i, j) with several maxima, and their positions.
        zeros: For a ReLU layer ``k``, inputs that are exactly 0 (where torch's derivative 0 is used).
        probs: Softmax or sigmoid probabilities of the outputs (``None`` for mse).
        loss: The loss.
    """

    net: Network
    values: Mapping[str, Any]
    tensors: list[np.ndarray]
    local: dict[int, np.ndarray] = field(default_factory=dict)
    winners: dict[int, np.ndarray] = field(default_factory=dict)
    ties: dict[int, list[tuple[tuple[int, int, int], list[tuple[int, int]]]]] = field(default_factory=dict)
    zeros: dict[int, list[tuple[int, ...]]] = field(default_factory=dict)
    probs: np.ndarray | None = None
    loss: float = 0.0
    _grads: tuple[list[np.ndarray], dict[str, np.ndarray]] | None = None

    def clear(self, relu_margin: float, tie_margin: float) -> bool:
        """No ReLU input within ``relu_margin`` of 0 and no max-pool window with two maxima that close."""
        for k, layer in enumerate(self.net.layers):
            if layer.type == "act" and layer.fn == "relu" and np.any(np.abs(self.tensors[k]) < relu_margin):
                return False
            if layer.type == "maxpool":
                src = self.tensors[k]
                for _c, _i, _j, block in _blocks(layer, src, self.tensors[k + 1].shape):
                    top = np.sort(block.ravel())[-2:]
                    if len(top) == 2 and top[1] - top[0] < tie_margin:
                        return False
        return True

    def dloss(self) -> np.ndarray:
        """∂L/∂ŷ: 2(ŷ − y), ŷ − y, p − y or p − onehot(y), the last two in the stable forms of :mod:`derive.numeric`."""
        yhat, y, loss = self.tensors[-1], self.values["y"], self.net.loss
        if loss == "mse":
            return 2.0 * (yhat - y)
        if loss == "half-mse":
            return yhat - y
        if loss == "bce":
            return np.array([bce_dlogit(float(yhat[0]), float(y))])
        return np.array(softmax_ce_dlogits([float(v) for v in yhat], int(y)))

    def backward(
        self, *, act_derivative: bool = True, dloss: np.ndarray | None = None
    ) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """(``∂L/∂T[k]`` for every node, ``∂L/∂θ`` for ``x`` and every parameter), by the chain rule.

        The two options change the backward rule, as a student's mistake does (grading names them):
        ``act_derivative=False`` takes every act layer's local derivative as 1, and ``dloss`` replaces
        ∂L/∂ŷ. The default result is cached; a changed rule is computed afresh.
        """
        default = act_derivative and dloss is None
        if default and self._grads is not None:
            return self._grads
        net, v = self.net, self.values
        deltas: list[np.ndarray] = [np.zeros(0)] * len(self.tensors)
        deltas[-1] = self.dloss() if dloss is None else np.asarray(dloss, dtype=np.float64)
        grads: dict[str, np.ndarray] = {}
        for k in range(len(net.layers) - 1, -1, -1):
            layer, up, src = net.layers[k], deltas[k + 1], self.tensors[k]
            if layer.type == "dense":
                w = v[f"{layer.name}.w"]
                grads[f"{layer.name}.w"] = np.outer(up, src)
                if layer.bias:
                    grads[f"{layer.name}.b"] = up.copy()
                down = w.T @ up
            elif layer.type == "act":
                down = up * self.local[k] if act_derivative else up.copy()
            elif layer.type == "flatten":
                down = up.reshape(src.shape)
            elif layer.type == "maxpool":
                down = np.zeros_like(src)
                win = self.winners[k]
                for c, i, j in np.ndindex(up.shape):
                    r, s = win[c, i, j]
                    down[c, r, s] += up[c, i, j]
            elif layer.type == "avgpool":
                down = np.zeros_like(src)
                size = layer.kernel[0] * layer.kernel[1]
                for i, j, rows, cols in _windows(layer, src.shape, up.shape):
                    down[:, rows.start : rows.stop, cols.start : cols.stop] += up[:, i, j][:, None, None] / size
            else:  # conv
                w = v[f"{layer.name}.w"]
                ph, pw = layer.padding
                padded = np.pad(src, ((0, 0), (ph, ph), (pw, pw)))
                dpad = np.zeros_like(padded)
                dw = np.zeros_like(w)
                for i, j, rows, cols in _windows(layer, src.shape, up.shape):
                    patch = padded[:, rows.start : rows.stop, cols.start : cols.stop]
                    dw += up[:, i, j][:, None, None, None] * patch[None]
                    dpad[:, rows.start : rows.stop, cols.start : cols.stop] += np.tensordot(up[:, i, j], w, axes=(0, 0))
                grads[f"{layer.name}.w"] = dw
                if layer.bias:
                    grads[f"{layer.name}.b"] = up.sum(axis=(1, 2))
                down = dpad[:, ph : ph + src.shape[1], pw : pw + src.shape[2]]
            deltas[k] = down
        grads["x"] = deltas[0]
        if not default:
            return deltas, grads
        self._grads = (deltas, grads)
        return self._grads


def _blocks(layer: Layer, src: np.ndarray, out: tuple[int, ...]) -> Iterator[tuple[int, int, int, np.ndarray]]:
    for i, j, rows, cols in _windows(layer, src.shape, out):
        for c in range(src.shape[0]):
            yield c, i, j, src[c, rows.start : rows.stop, cols.start : cols.stop]


def forward(net: Network, values: Mapping[str, Any]) -> Forward:
    """Evaluate every node at validated ``values`` (:func:`derive.network.values.check_values`)."""
    t = [np.asarray(values["x"], dtype=np.float64)]
    fw = Forward(net, values, t)
    for k, layer in enumerate(net.layers):
        src, shape = t[-1], net.shapes[k + 1]
        if layer.type == "conv":
            w = values[f"{layer.name}.w"]
            ph, pw = layer.padding
            padded = np.pad(src, ((0, 0), (ph, ph), (pw, pw)))
            out = np.zeros(shape)
            for i, j, rows, cols in _windows(layer, src.shape, shape):
                out[:, i, j] = np.tensordot(w, padded[:, rows.start : rows.stop, cols.start : cols.stop], axes=3)
            if layer.bias:
                out += values[f"{layer.name}.b"][:, None, None]
        elif layer.type == "act":
            out, fw.local[k] = _act(layer.fn, src)
            if layer.fn == "relu":
                fw.zeros[k] = [tuple(int(v) for v in idx) for idx in np.argwhere(src == 0.0)]
        elif layer.type in ("maxpool", "avgpool"):
            out = np.zeros(shape)
            win = np.zeros((*shape, 2), dtype=int)
            ties = []
            for c, i, j, block in _blocks(layer, src, shape):
                if layer.type == "avgpool":
                    out[c, i, j] = block.mean()
                    continue
                flat = int(np.argmax(block))  # the first maximum in row-major order, as torch's max_pool2d
                r, s = divmod(flat, block.shape[1])
                out[c, i, j] = block[r, s]
                win[c, i, j] = (layer.stride[0] * i + r, layer.stride[1] * j + s)
                top = np.argwhere(block == block[r, s])
                if len(top) > 1:
                    ties.append(
                        ((c, i, j), [(layer.stride[0] * i + int(a), layer.stride[1] * j + int(b)) for a, b in top])
                    )
            if layer.type == "maxpool":
                fw.winners[k], fw.ties[k] = win, ties
        elif layer.type == "flatten":
            out = src.reshape(-1)
        else:
            out = values[f"{layer.name}.w"] @ src
            if layer.bias:
                out = out + values[f"{layer.name}.b"]
        t.append(out)
    yhat, y = t[-1], values["y"]
    if net.loss in ("mse", "half-mse"):
        with np.errstate(over="ignore"):  # an overflowing loss is inf; its gradient may still be finite
            fw.loss = float(np.sum((yhat - y) ** 2)) * (0.5 if net.loss == "half-mse" else 1.0)
    elif net.loss == "bce":
        z = float(yhat[0])
        fw.probs = sigmoid(yhat)
        fw.loss = softplus(z) - z * y  # −[y ln p + (1−y) ln(1−p)], stably
    else:
        peak = float(np.max(yhat))
        lse = peak + float(np.log(np.sum(np.exp(yhat - peak))))
        fw.probs = np.exp(yhat - lse)
        fw.loss = lse - float(yhat[y])
    return fw


# ------------------------------------------------------------------ reach
def reach(net: Network, name: str, index: tuple[int, ...]) -> tuple[int, list[np.ndarray]]:
    """The elements one element of ``x`` or of a parameter reaches.

    Returns:
        ``(k, masks)``: the element enters at node ``T[k]`` (0 for ``x``, else the owning
        layer's output ``k = layer + 1``), and ``masks[j]`` marks the elements of ``T[j]``
        it reaches, for ``j >= k`` (earlier entries are ``None``).
    """
    masks: list[Any] = [None] * (len(net.layers) + 1)
    if name == "x":
        start = 0
        m = np.zeros(net.input, dtype=bool)
        m[index] = True
    else:
        li = net.layer_of(name)
        layer, start = net.layers[li], li + 1
        m = np.zeros(net.shapes[start], dtype=bool)
        if layer.type == "dense" or name.endswith(".b"):
            m[index[0]] = True
        else:
            o, c, mm, nn = index
            src = net.shapes[li]
            ph, pw = layer.padding
            for i, j, rows, cols in _windows(layer, src, net.shapes[start]):
                r, s = rows.start + mm - ph, cols.start + nn - pw
                m[o, i, j] = 0 <= r < src[1] and 0 <= s < src[2]  # a padding zero: no path
    masks[start] = m
    for k in range(start, len(net.layers)):
        layer, cur, shape = net.layers[k], masks[k], net.shapes[k + 1]
        if layer.type == "act":
            nxt = cur.copy()
        elif layer.type == "flatten":
            nxt = cur.reshape(-1)
        elif layer.type == "dense":
            nxt = np.full(shape, bool(cur.any()))
        else:
            ph, pw = layer.padding
            padded = np.pad(cur, ((0, 0), (ph, ph), (pw, pw)))
            nxt = np.zeros(shape, dtype=bool)
            for i, j, rows, cols in _windows(layer, cur.shape, shape):
                block = padded[:, rows.start : rows.stop, cols.start : cols.stop]
                if layer.type == "conv":
                    nxt[:, i, j] = block.any()
                else:
                    nxt[:, i, j] = block.any(axis=(1, 2))
        masks[k + 1] = nxt
    return start, masks
