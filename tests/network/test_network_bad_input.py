"""Bad network files, bad --wrt and bad values: one clear message each (where, what, what came, how to fix)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from derive import DeriveError
from derive.network import check_values, load_network, parse_network, random_values, resolve_wrt

BOARD = Path(__file__).parents[2] / "examples" / "board-net.toml"

FILES = [
    (
        "unknown type",
        'input = [1, 4, 4]\n[[layer]]\ntype = "convolution"\nkernel = 3\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n',
        "net.toml, layer 1: unknown layer type 'convolution'; expected one of conv, act, maxpool, avgpool, flatten, dense, loss. Did you mean 'conv'?",
    ),
    (
        "unknown key",
        'input = [1, 4, 4]\n[[layer]]\ntype = "conv"\nkernel = 3\nchannel = 2\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n',
        "net.toml, layer 1 (conv): unknown key 'channel'; a conv layer takes name, kernel, channels, stride, padding, bias. Did you mean 'channels'?",
    ),
    (
        "kernel too big",
        'input = [1, 4, 4]\n[[layer]]\ntype = "conv"\nkernel = 5\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n',
        "net.toml, layer 1 (conv1): the kernel 5×5 does not fit the input 1×4×4 (5 > 4 rows); use a smaller kernel or more padding.",
    ),
    (
        "stride",
        'input = [1, 4, 4]\n[[layer]]\ntype = "conv"\nkernel = 3\nstride = 2\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n',
        "net.toml, layer 1 (conv1): stride 2 does not fit the rows: (4 + 2·0 − 3) = 1 is not a multiple of 2, so the last row would be dropped; change the stride or the size.",
    ),
    (
        "pool window",
        'input = [1, 4, 4]\n[[layer]]\ntype = "conv"\nkernel = 3\n[[layer]]\ntype = "maxpool"\nsize = 3\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n',
        "net.toml, layer 2 (maxpool1): the window 3×3 does not fit the input 1×2×2 (3 > 2 rows); use a smaller size.",
    ),
    (
        "dense no flatten",
        'input = [1, 4, 4]\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml, layer 1 (dense1): a dense layer needs a flat input, but it gets 1×4×4; add a flatten layer before it.",
    ),
    (
        "conv after flatten",
        'input = [1, 4, 4]\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "conv"\nkernel = 1\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n',
        "net.toml, layer 2 (conv1): a conv layer needs a C×H×W input, but it gets 16 values; put it before the flatten layer.",
    ),
    (
        "no loss",
        'input = [1, 4, 4]\n[[layer]]\ntype = "flatten"\n',
        'net.toml: no loss: end with a [[layer]] of type = "loss" and fn = one of mse, half-mse, bce, softmax-ce.',
    ),
    (
        "loss not last",
        'input = [4]\n[[layer]]\ntype = "loss"\nfn = "mse"\n[[layer]]\ntype = "flatten"\n',
        "net.toml, layer 2: a flatten layer after the loss; the loss must be the last layer.",
    ),
    (
        "bad act",
        'input = [4]\n[[layer]]\ntype = "act"\nfn = "sigmiod"\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml, layer 1 (act1): key 'fn' must be one of sigmoid, tanh, relu, got 'sigmiod'. Did you mean 'sigmoid'?",
    ),
    (
        "bad loss",
        'input = [4]\n[[layer]]\ntype = "dense"\noutputs = 2\n[[layer]]\ntype = "loss"\nfn = "cross-entropy"\n',
        "net.toml, layer 2 (loss): key 'fn' must be one of mse, half-mse, bce, softmax-ce, got 'cross-entropy'.",
    ),
    (
        "bce outputs",
        'input = [4]\n[[layer]]\ntype = "dense"\noutputs = 2\n[[layer]]\ntype = "loss"\nfn = "bce"\n',
        'net.toml: the bce loss takes one output, but the last layer gives 2; use outputs = 1, or fn = "softmax-ce" for several classes.',
    ),
    (
        "softmax one",
        'input = [4]\n[[layer]]\ntype = "dense"\noutputs = 1\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n',
        'net.toml: softmax-ce needs at least 2 outputs (one per class), but the last layer gives 1; use fn = "bce" for one output.',
    ),
    (
        "loss on 3d",
        'input = [1, 4, 4]\n[[layer]]\ntype = "act"\nfn = "tanh"\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml: the loss needs a flat output, but the last layer gives 1×4×4; add a flatten layer (and a dense layer) before the loss.",
    ),
    (
        "bad input",
        'input = [4, 4]\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml: key 'input' must be [C, H, W] (channels, rows, columns) such as [1, 4, 4], or [n] for a flat input; got [4, 4].",
    ),
    (
        "missing kernel",
        'input = [1, 4, 4]\n[[layer]]\ntype = "conv"\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n',
        "net.toml, layer 1 (conv1): missing key 'kernel': give the kernel size, such as kernel = [3, 3].",
    ),
    (
        "dup name",
        'input = [4]\n[[layer]]\ntype = "dense"\nname = "fc"\noutputs = 2\n[[layer]]\ntype = "dense"\nname = "fc"\noutputs = 2\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml, layer 2 (dense): name 'fc' is already used by layer 1; names must differ.",
    ),
    (
        "bad name",
        'input = [4]\n[[layer]]\ntype = "dense"\nname = "fc 1"\noutputs = 2\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml, layer 1 (dense): name 'fc 1' is not valid: expected a letter, then letters, digits or _ (at most 16), such as 'conv1'.",
    ),
    (
        "bias str",
        'input = [4]\n[[layer]]\ntype = "dense"\noutputs = 2\nbias = "yes"\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml, layer 1 (dense1): key 'bias' must be true or false, got 'yes'.",
    ),
    (
        "top key",
        'inputs = [4]\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml: unknown key 'inputs'; a network file has 'input' and [[layer]] tables. Did you mean 'input'?",
    ),
    (
        "toml",
        "input = [4\n",
        "net.toml: not valid TOML: Unclosed array (at end of document). Check quotes, brackets and '=' on that line.",
    ),
    (
        "too big",
        'input = [3, 32, 32]\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "loss"\nfn = "mse"\n',
        "net.toml: input 3×32×32 is too large for a worked answer (at most 1024 numbers).",
    ),
]


@pytest.mark.parametrize("text, message", [c[1:] for c in FILES], ids=[c[0] for c in FILES])
def test_bad_network_file(text: str, message: str) -> None:
    with pytest.raises(DeriveError, match=f"^{re.escape(message)}$"):
        parse_network(text, source="net.toml")


WRT = [
    (
        "conv1.w[0,0,3,1]",
        "--wrt 'conv1.w[0,0,3,1]': the kernel row index 3 is out of range; conv1.w's kernel row indices run "
        "from 0 to 2 (shape 2×2×3×3). Did you mean 'conv1.w[0,0,2,1]'?",
    ),
    (
        "x[2,0,0]",
        "--wrt 'x[2,0,0]': the channel index 2 is out of range; x's channel indices run from 0 to 1 (shape 2×6×6). "
        "Did you mean 'x[1,0,0]'?",
    ),
    (
        "dense1.w[3,0]",
        "--wrt 'dense1.w[3,0]': the output index 3 is out of range; dense1.w's output indices run from 0 to 2 "
        "(shape 3×8). Did you mean 'dense1.w[2,0]'?",
    ),
    (
        "x[0,-1,0]",
        "--wrt 'x[0,-1,0]': the row index -1 is out of range; x's row indices run from 0 to 5 (shape 2×6×6). "
        "Did you mean 'x[0,0,0]'?",
    ),
    (
        "conv1.w[0,0,1]",
        "--wrt 'conv1.w[0,0,1]': conv1.w has 4 indices (output channel, input channel, kernel row, kernel column; "
        "shape 2×2×3×3), got 3.",
    ),
    (
        "conv2.w[0,0,1,1]",
        "--wrt 'conv2.w[0,0,1,1]': this network has no tensor 'conv2.w'; it has x, conv1.w, dense1.w. "
        "Did you mean 'conv1.w'?",
    ),
    (
        "conv1.b[0]",
        "--wrt 'conv1.b[0]': conv1 has no bias (bias = false in the network file); add bias = true to derive ∂L/∂conv1.b.",
    ),
    (
        "dense1.w",
        "--wrt 'dense1.w' names a whole tensor: name one element with 2 indices in brackets, such as 'dense1.w[0,0]'.",
    ),
    (
        "conv1.W[0,0,1,1]",
        "--wrt 'conv1.W[0,0,1,1]' is not an element of this network: expected a name of x, conv1.w, dense1.w and "
        "indices in brackets, such as 'dense1.w[0,0]'. Did you mean 'conv1.w[0,0,1,1]'?",
    ),
    (
        "w11",
        "--wrt 'w11' is not an element of this network: expected a name of x, conv1.w, dense1.w and indices in brackets, "
        "such as 'dense1.w[0,0]'. The classic names such as 'w11' belong to derive grad without --net; here name one "
        "element, such as 'conv1.w[0,0,1,1]'.",
    ),
]


@pytest.mark.parametrize("wrt, message", WRT, ids=[w for w, _ in WRT])
def test_bad_wrt(wrt: str, message: str) -> None:
    with pytest.raises(DeriveError, match=f"^{re.escape(message)}$"):
        resolve_wrt(load_network(BOARD), wrt)


def _drop_y(d: dict) -> None:
    d.pop("y")


VALUES = [
    ("missing", _drop_y, "values: missing key 'y': expected the class index, a whole number from 0 to 2."),
    (
        "unknown",
        lambda d: d.__setitem__("conv1.b", [0, 0]),
        "values: unknown key 'conv1.b' (conv1 has no bias: drop 'conv1.b', or add bias = true); expected keys x, conv1.w, "
        "dense1.w, y. Did you mean 'conv1.w'?",
    ),
    (
        "shape",
        lambda d: d.__setitem__("dense1.w", [[0] * 7] * 3),
        "values: 'dense1.w' must be 3×8 nested lists; got nested lists of shape 3×7.",
    ),
    (
        "class",
        lambda d: d.__setitem__("y", 3),
        "values: 'y' is 3, but softmax-ce needs the class index, a whole number from 0 to 2.",
    ),
    ("nan", lambda d: d["x"][1][2].__setitem__(3, float("nan")), "values: x[1,2,3] is nan, not a finite number."),
]


@pytest.mark.parametrize("change, message", [v[1:] for v in VALUES], ids=[v[0] for v in VALUES])
def test_bad_values(change, message: str) -> None:
    net = load_network(BOARD)
    values = copy.deepcopy(random_values(net, 0))
    change(values)
    with pytest.raises(DeriveError, match=f"^{re.escape(message)}$"):
        check_values(net, values)


def test_missing_and_folder_network_files(tmp_path: Path) -> None:
    with pytest.raises(
        DeriveError, match="network file '.*nope.toml' does not exist; see examples/board-net.toml for one."
    ):
        load_network(tmp_path / "nope.toml")
    with pytest.raises(DeriveError, match="is a folder: give the .toml file inside it."):
        load_network(tmp_path)
