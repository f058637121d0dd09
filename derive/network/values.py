"""Numbers for a network, and the one element ``--wrt`` names.

A values file is a JSON object with ``x`` (C×H×W nested lists, or a list for a flat input),
every parameter by its torch name (``"conv1.w"``: O×C×kh×kw, ``"dense1.b"``: a list) and
``y``: a class index for softmax-ce, a number from 0 to 1 for bce, one number per output for
mse. ``--wrt`` names one element: ``x[0,2,1]``, ``conv1.w[0,0,1,1]``, ``dense2.b[0]``.

>>> from derive.network.spec import parse_network
>>> net = parse_network('input = [3]\\n[[layer]]\\ntype = "dense"\\noutputs = 2\\nbias = true\\n'
...                     '[[layer]]\\ntype = "loss"\\nfn = "softmax-ce"\\n')
>>> resolve_wrt(net, "dense1.b[1]")
('dense1.b', (1,))
>>> sorted(random_values(net, 0))
['dense1.b', 'dense1.w', 'x', 'y']
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from derive.errors import DeriveError, did_you_mean, shown
from derive.network.spec import Network

__all__ = ["check_values", "element_name", "expected_layout", "load_values", "random_values", "resolve_wrt"]

_DIMS = {
    "x": ("channel", "row", "column"),
    "conv.w": ("output channel", "input channel", "kernel row", "kernel column"),
    "dense.w": ("output", "input"),
    "b": ("output",),
}


def element_name(name: str, index: tuple[int, ...]) -> str:
    """``conv1.w[0,0,1,1]``: a tensor's name and an element's 0-based index."""
    return f"{name}[{','.join(map(str, index))}]"


def _dims(net: Network, name: str) -> tuple[str, ...]:
    if name == "x":
        return _DIMS["x"] if len(net.input) == 3 else ("element",)
    if name.endswith(".b"):
        return _DIMS["b"]
    layer = net.layers[net.layer_of(name)]
    return _DIMS[f"{layer.type}.w"]


def expected_layout(net: Network) -> dict[str, str]:
    """Key → what a values file must hold there."""
    out = {
        name: f"{'×'.join(map(str, shape))} nested lists" if len(shape) > 1 else f"a list of {shape[0]} numbers"
        for name, shape in net.tensor_shapes().items()
    }
    k = net.outputs
    out["y"] = {
        "softmax-ce": f"the class index, a whole number from 0 to {k - 1}",
        "bce": "the label, a number from 0 to 1",
    }.get(net.loss, f"the target, {k} number{'s' * (k > 1)}")
    return out


def resolve_wrt(net: Network, text: str) -> tuple[str, tuple[int, ...]]:
    """Map ``"conv1.w[0,0,1,1]"`` to ``("conv1.w", (0, 0, 1, 1))``.

    Raises:
        DeriveError: an unknown tensor, the wrong number of indices, or one out of range,
            with the valid range and the nearest valid element.
    """
    shapes = net.tensor_shapes()
    raw = text.strip()
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*(?:\.[wb])?)\s*\[\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\]", raw)
    names = list(shapes)
    if not match:
        base = raw.split("[")[0].strip()
        if base in shapes:
            shape = shapes[base]
            example = element_name(base, (0,) * len(shape))
            raise DeriveError(
                f"--wrt {shown(text)} names a whole tensor: name one element with {len(shape)} "
                f"ind{'ices' if len(shape) > 1 else 'ex'} in brackets, such as {shown(example)}."
            )
        hint = did_you_mean(base, names)
        if hint and "[" in raw:  # suggest the element, not only the tensor
            hint = hint.replace("'?", raw[raw.index("[") :].replace(" ", "") + "'?")
        if re.fullmatch(r"[avwbczh]\d*", base) and base not in shapes:
            hint = (
                f" The classic names such as {shown(base)} belong to derive grad without --net; here name one element, "
                f"such as {element_name('conv1.w', (0, 0, 1, 1)) if 'conv1.w' in shapes else element_name(names[0], (0,) * len(shapes[names[0]]))!r}."
            )
        if base.split(".")[0] in {layer.name for layer in net.layers} and base.endswith(".b"):
            layer = base.split(".")[0]
            raise DeriveError(f"--wrt {shown(text)}: {layer} has no bias (bias = false in the network file).")
        raise DeriveError(
            f"--wrt {shown(text)} is not an element of this network: expected a name of "
            f"{', '.join(names)} and indices in brackets, such as {element_name(names[-1], (0,) * len(shapes[names[-1]]))!r}.{hint}"
        )
    name, index = match.group(1), tuple(int(v) for v in match.group(2).split(","))
    if name not in shapes:
        layer = name.split(".")[0]
        if name.endswith(".b") and layer in {lay.name for lay in net.layers if lay.type in ("conv", "dense")}:
            raise DeriveError(
                f"--wrt {shown(text)}: {layer} has no bias (bias = false in the network file); "
                f"add bias = true to derive ∂L/∂{name}."
            )
        raise DeriveError(
            f"--wrt {shown(text)}: this network has no tensor {shown(name)}; it has {', '.join(names)}."
            f"{did_you_mean(name, names)}"
        )
    shape = shapes[name]
    dims = _dims(net, name)
    if len(index) != len(shape):
        raise DeriveError(
            f"--wrt {shown(text)}: {name} has {len(shape)} ind{'ices' if len(shape) > 1 else 'ex'} "
            f"({', '.join(dims)}; shape {'×'.join(map(str, shape))}), got {len(index)}."
        )
    for k, (i, n) in enumerate(zip(index, shape)):
        if not 0 <= i < n:
            near = element_name(name, tuple(min(max(v, 0), m - 1) for v, m in zip(index, shape)))
            raise DeriveError(
                f"--wrt {shown(text)}: the {dims[k]} index {i} is out of range; {name}'s {dims[k]} indices run "
                f"from 0 to {n - 1} (shape {'×'.join(map(str, shape))}). Did you mean {shown(near)}?"
            )
    return name, index


def _shape_of(x: Any) -> str:
    if isinstance(x, list):
        dims: list[int] = []
        cur: Any = x
        while isinstance(cur, list):
            dims.append(len(cur))
            cur = cur[0] if cur else None
        return f"nested lists of shape {'×'.join(map(str, dims))}" if len(dims) > 1 else f"a list of {dims[0]} items"
    return repr(x)


def _array(x: Any, key: str, shape: tuple[int, ...]) -> np.ndarray:
    def walk(v: Any, depth: int, at: tuple[int, ...]) -> Any:
        if depth == len(shape):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise DeriveError(f"values: {key}[{','.join(map(str, at))}] is {shown(v)}, not a finite number.")
            return float(v)
        if not isinstance(v, list) or len(v) != shape[depth]:
            raise DeriveError(
                f"values: {shown(key)} must be {'×'.join(map(str, shape))} nested lists"
                f"{' (a list of numbers)' if len(shape) == 1 else ''}; got {_shape_of(x)}."
            )
        return [walk(e, depth + 1, (*at, i)) for i, e in enumerate(v)]

    return np.array(walk(x, 0, ()), dtype=np.float64).reshape(shape)


def check_values(net: Network, values: Any) -> dict[str, Any]:
    """Validate ``values`` for ``net``; return tensors as float64 arrays and ``y`` (int, float or array).

    Raises:
        DeriveError: a missing or unknown key, a wrong shape, a non-number, or a bad target.
    """
    layout = expected_layout(net)
    if not isinstance(values, Mapping):
        raise DeriveError(f"values: expected a JSON object with keys {', '.join(layout)}; got {type(values).__name__}.")
    for key in values:
        if key not in layout:
            extra = ""
            if str(key).endswith(".b") and str(key)[:-2] in {lay.name for lay in net.layers}:
                extra = f" ({str(key)[:-2]} has no bias: drop {shown(key)}, or add bias = true)"
            raise DeriveError(
                f"values: unknown key {shown(key)}{extra}; expected keys {', '.join(layout)}."
                f"{did_you_mean(str(key), list(layout))}"
            )
    for key, what in layout.items():
        if key not in values:
            raise DeriveError(f"values: missing key {shown(key)}: expected {what}.")
    out: dict[str, Any] = {name: _array(values[name], name, shape) for name, shape in net.tensor_shapes().items()}
    y, k = values["y"], net.outputs
    if net.loss == "softmax-ce":
        if isinstance(y, float) and y.is_integer():
            y = int(y)
        if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < k:
            raise DeriveError(
                f"values: 'y' is {shown(y)}, but softmax-ce needs the class index, a whole number from 0 to {k - 1}."
            )
        out["y"] = y
    elif net.loss == "bce":
        y = y[0] if isinstance(y, list) and len(y) == 1 else y
        if isinstance(y, bool) or not isinstance(y, (int, float)) or not 0.0 <= y <= 1.0:
            raise DeriveError(f"values: 'y' is {shown(values['y'])}, but the bce loss needs a label from 0 to 1.")
        out["y"] = float(y)
    else:
        y = [y] if isinstance(y, (int, float)) and not isinstance(y, bool) and k == 1 else y
        out["y"] = _array(y, "y", (k,))
    return out


def load_values(path: str | Path, net: Network) -> dict[str, Any]:
    """Read a ``--values`` JSON file and validate it for ``net`` (see :func:`check_values`)."""
    from derive.values import read_json

    data = read_json(path)
    try:
        check_values(net, data)
    except DeriveError as exc:
        raise DeriveError(f"{path}: {exc}") from None
    return data


def random_values(net: Network, seed: int) -> dict[str, Any]:
    """Values a student can work by hand (one decimal in [-1, 1], never 0), reproducible from ``seed``.

    Draws again (up to 200 times) while a ReLU input is within 0.05 of 0 or a max-pool
    window has two maxima within 0.005: there the derivative is a convention, not maths.
    """
    from derive.network.graph import forward
    from derive.values import grid_number

    rng = random.Random(seed)

    def tensor(shape: tuple[int, ...]) -> Any:
        if len(shape) == 1:
            return [grid_number(rng) for _ in range(shape[0])]
        return [tensor(shape[1:]) for _ in range(shape[0])]

    out: dict[str, Any] = {}
    for _ in range(200):
        out = {name: tensor(shape) for name, shape in net.tensor_shapes().items()}
        k = net.outputs
        out["y"] = (
            rng.randrange(k)
            if net.loss == "softmax-ce"
            else rng.randint(0, 1)
            if net.loss == "bce"
            else [grid_number(rng, 0.0, 1.0) for _ in range(k)]
        )
        if forward(net, check_values(net, out)).clear(0.05, 0.005):
            return out
    return out
