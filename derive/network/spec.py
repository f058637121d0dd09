"""The network file: a small TOML description of a network a lecturer writes on the board.

::

    input = [1, 5, 5]                 # C, H, W (or [n] for a flat input)
    [[layer]]
    type = "conv"                     # conv | act | maxpool | avgpool | flatten | dense | loss
    kernel = [2, 2]
    channels = 2                      # output channels
    stride = 1
    padding = 0
    bias = true
    [[layer]]
    type = "act"
    fn = "relu"                       # sigmoid | tanh | relu
    [[layer]]
    type = "maxpool"                  # or avgpool
    size = [2, 2]
    stride = 2                        # default: the size
    [[layer]]
    type = "flatten"                  # C, H, W order, as torch's flatten
    [[layer]]
    type = "dense"
    outputs = 3
    bias = false
    [[layer]]
    type = "loss"
    fn = "softmax-ce"                 # mse | half-mse | bce | softmax-ce

Layers are named by type and position (``conv1``, ``conv2``, ``dense1``; ``name`` overrides).
Parameters use torch's shapes and names: ``conv1.w`` is O×C×kh×kw, ``conv1.b`` O,
``dense1.w`` outputs×inputs, ``dense1.b`` outputs. ``bias`` is false unless set.
:func:`parse_network` checks everything once and says where, what and how to fix it.

>>> net = parse_network('input = [1, 4, 4]\\n[[layer]]\\ntype = "conv"\\nkernel = 3\\n'
...                     '[[layer]]\\ntype = "flatten"\\n[[layer]]\\ntype = "dense"\\noutputs = 1\\n'
...                     '[[layer]]\\ntype = "loss"\\nfn = "mse"\\n')
>>> [layer.name for layer in net.layers], net.shapes[-1]
(['conv1', 'flatten1', 'dense1'], (1,))
>>> net.params
(('conv1.w', (1, 1, 3, 3)), ('dense1.w', (1, 4)))
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from derive._files import parse_toml, read_user_text
from derive.errors import DeriveError, did_you_mean, shown

__all__ = [
    "ACTS",
    "LAYER_TYPES",
    "LOSSES",
    "Layer",
    "MAX_ELEMENTS",
    "Network",
    "load_network",
    "network_from_dict",
    "parse_network",
]

LAYER_TYPES = ("conv", "act", "maxpool", "avgpool", "flatten", "dense", "loss")
"""The layer types a network file may use."""
ACTS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "half-mse", "bce", "softmax-ce")
MAX_ELEMENTS = 1024
"""Largest tensor (input or any layer's output) a worked answer is written for."""

_KEYS = {
    "conv": ("kernel", "channels", "stride", "padding", "bias"),
    "act": ("fn",),
    "maxpool": ("size", "stride"),
    "avgpool": ("size", "stride"),
    "flatten": (),
    "dense": ("outputs", "bias"),
    "loss": ("fn",),
}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")


@dataclass(frozen=True)
class Layer:
    """One validated layer. Sizes are (rows, cols) pairs; ``fn`` is the activation or loss."""

    type: str
    name: str
    kernel: tuple[int, int] = (1, 1)
    channels: int = 0
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    bias: bool = False
    fn: str = ""
    outputs: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The layer as the network file writes it (only the keys of its type)."""
        out: dict[str, Any] = {"type": self.type, "name": self.name}
        if self.type == "conv":
            out.update(
                kernel=list(self.kernel),
                channels=self.channels,
                stride=list(self.stride),
                padding=list(self.padding),
                bias=self.bias,
            )
        elif self.type in ("maxpool", "avgpool"):
            out.update(size=list(self.kernel), stride=list(self.stride))
        elif self.type == "dense":
            out.update(outputs=self.outputs, bias=self.bias)
        elif self.type in ("act", "loss"):
            out["fn"] = self.fn
        return out


@dataclass(frozen=True)
class Network:
    """A validated network: its input shape, its layers (the loss last) and every tensor's shape.

    Attributes:
        input: The input shape, (C, H, W) or (n,).
        layers: The layers before the loss, in order.
        loss: The loss function (one of :data:`LOSSES`).
        shapes: ``shapes[0]`` is the input's, ``shapes[k + 1]`` the output of ``layers[k]``.
    """

    input: tuple[int, ...]
    layers: tuple[Layer, ...]
    loss: str
    shapes: tuple[tuple[int, ...], ...]

    def config(self) -> dict[str, Any]:
        """The network as its file's table (``input`` and ``layer``, the loss last), JSON-safe.

        :func:`network_from_dict` reads it back to the same network; ``answers.json`` stores it.
        """
        return {
            "input": list(self.input),
            "layer": [layer.to_dict() for layer in self.layers] + [{"type": "loss", "fn": self.loss}],
        }

    @property
    def outputs(self) -> int:
        """Number of outputs ŷ that reach the loss."""
        return self.shapes[-1][0]

    @property
    def params(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """``(name, shape)`` of every parameter, in layer order (torch's names and shapes)."""
        out: list[tuple[str, tuple[int, ...]]] = []
        for k, layer in enumerate(self.layers):
            if layer.type == "conv":
                out.append((f"{layer.name}.w", (layer.channels, self.shapes[k][0], *layer.kernel)))
            elif layer.type == "dense":
                out.append((f"{layer.name}.w", (layer.outputs, self.shapes[k][0])))
            else:
                continue
            if layer.bias:
                out.append((f"{layer.name}.b", (out[-1][1][0],)))
        return tuple(out)

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """The input ``x`` and every parameter, name → shape: the keys of a values file (with ``y``)."""
        return {"x": self.input, **dict(self.params)}

    def layer_of(self, name: str) -> int:
        """Index in :attr:`layers` of the layer that owns parameter ``name`` (``"conv1.w"``)."""
        prefix = name.split(".")[0]
        return next(k for k, layer in enumerate(self.layers) if layer.name == prefix)

    def describe(self) -> str:
        """One line: ``input 1×4×4 → conv1 3×3 → sigmoid → flatten → dense1 1 → MSE``."""
        parts = [f"input {'×'.join(map(str, self.input))}"]
        for layer in self.layers:
            if layer.type == "conv":
                extra = "".join(
                    [
                        f", stride {_pair(layer.stride)}" if layer.stride != (1, 1) else "",
                        f", padding {_pair(layer.padding)}" if layer.padding != (0, 0) else "",
                        ", bias" if layer.bias else "",
                    ]
                )
                parts.append(f"{layer.name} {layer.channels}×{layer.kernel[0]}×{layer.kernel[1]}{extra}")
            elif layer.type == "act":
                parts.append(layer.fn)
            elif layer.type in ("maxpool", "avgpool"):
                stride = f" stride {_pair(layer.stride)}" if layer.stride != layer.kernel else ""
                parts.append(f"{layer.type} {layer.kernel[0]}×{layer.kernel[1]}{stride}")
            elif layer.type == "flatten":
                parts.append("flatten")
            else:
                parts.append(f"{layer.name} {layer.outputs}{', bias' if layer.bias else ''}")
        parts.append(
            {"mse": "MSE", "half-mse": "half-MSE", "bce": "sigmoid + BCE", "softmax-ce": "softmax + CE"}[self.loss]
        )
        return " → ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``config``: input, layers (with their names) and loss."""
        return {"input": list(self.input), "layers": [layer.to_dict() for layer in self.layers], "loss": self.loss}


def _pair(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


def load_network(path: str | Path) -> Network:
    """Read and validate the network file at ``path``.

    Raises:
        DeriveError: the file is missing or unreadable, not TOML, or a layer is wrong; named with the path.
    """
    text = read_user_text(path, "network file", inside=".toml", missing="; see examples/board-net.toml for one.")
    return parse_network(text, source=str(path))


def parse_network(text: str, *, source: str = "<network>") -> Network:
    """Validate network TOML ``text``; ``source`` names it in the messages."""
    return network_from_dict(parse_toml(text, source), source=source)


def network_from_dict(
    data: Mapping[str, Any], *, source: str = "<network>", extra_keys: tuple[str, ...] = ()
) -> Network:
    """Validate an already-parsed network table (also a problem-set item, whose own keys are ``extra_keys``)."""
    for key in data:
        if key not in ("input", "layer", *extra_keys):
            raise DeriveError(
                f"{source}: unknown key {shown(key)}; a network file has 'input' and [[layer]] tables."
                f"{did_you_mean(str(key), ['input', 'layer'])}"
            )
    shape = _input(data.get("input"), source)
    raw_layers = data.get("layer")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise DeriveError(f'{source}: no layers: add [[layer]] tables, the last one of type = "loss".')
    layers: list[Layer] = []
    shapes = [shape]
    counts: dict[str, int] = {}
    names: dict[str, int] = {}
    loss = ""
    for n, raw in enumerate(raw_layers, start=1):
        where = f"{source}, layer {n}"
        if not isinstance(raw, dict):
            raise DeriveError(f"{where}: expected a table ([[layer]]), got {shown(raw)}.")
        kind = raw.get("type")
        if kind not in LAYER_TYPES:
            hint = did_you_mean(kind, LAYER_TYPES) if isinstance(kind, str) else ""
            raise DeriveError(
                f"{where}: unknown layer type {shown(kind)}; expected one of {', '.join(LAYER_TYPES)}.{hint}"
            )
        if loss:
            raise DeriveError(f"{where}: a {kind} layer after the loss; the loss must be the last layer.")
        allowed = ("type", "name", *_KEYS[kind])
        for key in raw:
            if key not in allowed:
                raise DeriveError(
                    f"{where} ({kind}): unknown key {shown(key)}; a {kind} layer takes "
                    f"{', '.join(allowed[1:]) or 'only name'}.{did_you_mean(str(key), allowed)}"
                )
        if kind == "loss":
            loss = _choice(raw, "fn", LOSSES, f"{where} (loss)")
            continue
        counts[kind] = counts.get(kind, 0) + 1
        name = raw.get("name", f"{kind}{counts[kind]}")
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name in ("x", "y"):
            raise DeriveError(
                f"{where} ({kind}): name {shown(name)} is not valid: expected a letter, then letters, digits or _ "
                "(at most 16), such as 'conv1'."
            )
        if name in names:
            raise DeriveError(
                f"{where} ({kind}): name {shown(name)} is already used by layer {names[name]}; names must differ."
            )
        names[name] = n
        layer = _layer(kind, name, raw, shapes[-1], f"{where} ({name})")
        layers.append(layer)
        shapes.append(_output_shape(layer, shapes[-1], f"{where} ({name})"))
    if not loss:
        raise DeriveError(
            f'{source}: no loss: end with a [[layer]] of type = "loss" and fn = one of {", ".join(LOSSES)}.'
        )
    if not layers:
        raise DeriveError(f"{source}: only a loss: add the layers before it.")
    out = shapes[-1]
    if len(out) != 1:
        raise DeriveError(
            f"{source}: the loss needs a flat output, but the last layer gives {_shape(out)}; "
            "add a flatten layer (and a dense layer) before the loss."
        )
    if loss == "bce" and out[0] != 1:
        raise DeriveError(
            f"{source}: the bce loss takes one output, but the last layer gives {out[0]}; "
            'use outputs = 1, or fn = "softmax-ce" for several classes.'
        )
    if loss == "softmax-ce" and out[0] < 2:
        raise DeriveError(
            f"{source}: softmax-ce needs at least 2 outputs (one per class), but the last layer gives "
            f'{out[0]}; use fn = "bce" for one output.'
        )
    return Network(input=shape, layers=tuple(layers), loss=loss, shapes=tuple(shapes))


def _shape(s: tuple[int, ...]) -> str:
    return "×".join(map(str, s)) if len(s) > 1 else f"{s[0]} values"


def _input(value: Any, source: str) -> tuple[int, ...]:
    ok = (
        isinstance(value, list)
        and len(value) in (1, 3)
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    )
    if not ok:
        raise DeriveError(
            f"{source}: key 'input' must be [C, H, W] (channels, rows, columns) such as [1, 4, 4], "
            f"or [n] for a flat input; got {shown(value)}."
        )
    if math.prod(value) > MAX_ELEMENTS:
        raise DeriveError(
            f"{source}: input {'×'.join(map(str, value))} is too large for a worked answer "
            f"(at most {MAX_ELEMENTS} numbers)."
        )
    return tuple(value)


def _choice(raw: Mapping[str, Any], key: str, choices: tuple[str, ...], where: str) -> str:
    value = raw.get(key)
    if value not in choices:
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        raise DeriveError(f"{where}: key {shown(key)} must be one of {', '.join(choices)}, got {shown(value)}.{hint}")
    return value


def _whole(value: Any, key: str, where: str, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DeriveError(f"{where}: key {shown(key)} must be a whole number >= {low}, got {shown(value)}.")
    return value


def _two(value: Any, key: str, where: str, *, low: int) -> tuple[int, int]:
    pair = value if isinstance(value, list) else [value, value]
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= low for v in pair):
        raise DeriveError(
            f"{where}: key {shown(key)} must be a whole number >= {low} or [rows, cols] of them, got {shown(value)}."
        )
    return pair[0], pair[1]


def _layer(kind: str, name: str, raw: Mapping[str, Any], shape: tuple[int, ...], where: str) -> Layer:
    bias = raw.get("bias", False)
    if not isinstance(bias, bool):
        raise DeriveError(f"{where}: key 'bias' must be true or false, got {shown(bias)}.")
    if kind == "conv":
        if "kernel" not in raw:
            raise DeriveError(f"{where}: missing key 'kernel': give the kernel size, such as kernel = [3, 3].")
        return Layer(
            kind,
            name,
            kernel=_two(raw["kernel"], "kernel", where, low=1),
            channels=_whole(raw.get("channels", 1), "channels", where, low=1),
            stride=_two(raw.get("stride", 1), "stride", where, low=1),
            padding=_two(raw.get("padding", 0), "padding", where, low=0),
            bias=bias,
        )
    if kind == "act":
        return Layer(kind, name, fn=_choice(raw, "fn", ACTS, where))
    if kind in ("maxpool", "avgpool"):
        if "size" not in raw:
            raise DeriveError(f"{where}: missing key 'size': give the window, such as size = [2, 2].")
        size = _two(raw["size"], "size", where, low=1)
        return Layer(kind, name, kernel=size, stride=_two(raw.get("stride", list(size)), "stride", where, low=1))
    if kind == "dense":
        if "outputs" not in raw:
            raise DeriveError(f"{where}: missing key 'outputs': give the number of units, such as outputs = 3.")
        return Layer(kind, name, outputs=_whole(raw["outputs"], "outputs", where, low=1), bias=bias)
    return Layer(kind, name)


def _output_shape(layer: Layer, shape: tuple[int, ...], where: str) -> tuple[int, ...]:
    kind = layer.type
    if kind in ("conv", "maxpool", "avgpool"):
        if len(shape) != 3:
            raise DeriveError(
                f"{where}: a {kind} layer needs a C×H×W input, but it gets {_shape(shape)}; "
                "put it before the flatten layer."
            )
        c, h, w = shape
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.padding
        dims = []
        for side, size, k, s, p in (("rows", h, kh, sh, ph), ("columns", w, kw, sw, pw)):
            if k > size + 2 * p:
                what = "kernel" if kind == "conv" else "window"
                raise DeriveError(
                    f"{where}: the {what} {kh}×{kw} does not fit the input {c}×{h}×{w}"
                    f"{f' with padding {p}' if p else ''} ({k} > {size + 2 * p} {side}); "
                    f"use a smaller {'kernel' if kind == 'conv' else 'size'}"
                    f"{' or more padding' if kind == 'conv' else ''}."
                )
            if (size + 2 * p - k) % s:
                raise DeriveError(
                    f"{where}: stride {s} does not fit the {side}: ({size} + 2·{p} − {k}) = {size + 2 * p - k} "
                    f"is not a multiple of {s}, so the last {side[:-1]} would be dropped; change the stride or the size."
                )
            dims.append((size + 2 * p - k) // s + 1)
        out = (layer.channels if kind == "conv" else c, *dims)
    elif kind == "flatten":
        if len(shape) != 3:
            raise DeriveError(f"{where}: the input is flat already ({_shape(shape)}); remove this flatten layer.")
        out = (math.prod(shape),)
    elif kind == "dense":
        if len(shape) != 1:
            raise DeriveError(
                f"{where}: a dense layer needs a flat input, but it gets {_shape(shape)}; "
                "add a flatten layer before it."
            )
        out = (layer.outputs,)
    else:
        out = shape
    if math.prod(out) > MAX_ELEMENTS:
        raise DeriveError(
            f"{where}: the output {_shape(out)} is too large for a worked answer (at most {MAX_ELEMENTS} numbers)."
        )
    return out
