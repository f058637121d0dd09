"""param_table: the cases where tools disagree, the JSON contract, goldens, LaTeX, bad inputs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch
import torchinfo
from torch import nn

from reference_models.errors import ModelError
from reference_models.summary import ParamTable, param_table


class Tied(nn.Module):
    """An encoder and a decoder sharing one 4×3 weight (weight tying)."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(3, 4)  # weight 4×3, bias 4
        self.dec = nn.Linear(4, 3)  # its own bias 3, weight replaced by enc's
        self.dec.weight = self.enc.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(self.enc(x), self.dec.weight.t(), self.dec.bias)


def test_a_shared_weight_is_counted_once() -> None:
    model = Tied()
    table = param_table(model, (3,))
    # enc (3 + 1)·4 = 16, dec only its bias 3: 19; sum(p.numel()) dedups and agrees
    assert table.total == (3 + 1) * 4 + 3 == sum(p.numel() for p in model.parameters()) == 19
    dec = next(r for r in table.layers if r.name == "dec")
    assert dec.params == 3 and any("enc.weight" in n for n in dec.notes)
    assert table.checked


def test_torchinfo_counts_the_shared_weight_twice() -> None:
    """The disagreement the issue names: torchinfo 1.8 reports 4·3 more than exists."""
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    model[1].weight = model[0].weight
    stats = torchinfo.summary(model, input_size=(1, 3), verbose=0)
    table = param_table(model, (3,))
    assert table.total == (3 + 1) * 3 + 3 == 15
    assert stats.total_params == table.total + 3 * 3  # torchinfo: 24


def test_a_frozen_layer_is_non_trainable() -> None:
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    model[0].requires_grad_(False)
    table = param_table(model, (4,))
    assert (table.total, table.trainable, table.non_trainable) == (25 + 12, 12, (4 + 1) * 5)
    assert table.layers[0].notes == ("frozen",)
    assert table.to_dict()["non_trainable"] == 25


def test_batchnorm_buffers_are_not_parameters() -> None:
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8))
    table = param_table(model, (1, 6, 6))
    assert table.total == (3 * 3 * 1 + 1) * 8 + 2 * 8  # conv 80 + γ, β 16
    assert table.buffers == 8 + 8 + 1  # running mean, running var, num_batches_tracked
    bn = table.layers[1]
    assert (bn.formula, bn.buffers) == ("2·8 = 16", 17)
    stats = torchinfo.summary(model, input_size=(1, 1, 6, 6), verbose=0)
    assert stats.total_params == table.total  # torchinfo leaves buffers out too


class Scaled(nn.Module):
    """A bare nn.Parameter on a container, next to a Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(5))
        self.fc = nn.Linear(2, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) * self.scale


def test_a_bare_parameter_gets_its_own_row() -> None:
    table = param_table(Scaled(), (2,))
    root = table.layers[0]
    assert (root.name, root.params, root.formula) == ("(Scaled)", 5, "5")
    assert table.total == 5 + (2 + 1) * 5 == 20 and table.checked


def test_an_unused_layer_is_still_counted_and_marked() -> None:
    class Spare(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.used, self.spare = nn.Linear(2, 2), nn.Linear(2, 7)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.used(x)

    table = param_table(Spare(), (2,))
    assert table.total == 6 + 21
    assert table.layers[-1].output_shape is None and "not called" in table.layers[-1].notes[0]


def test_the_hw1_cifar_working() -> None:
    rows = {r.name: r for r in param_table("hw1-cifar").layers}
    assert rows["conv1"].formula == "(3·3·3 + 1)·32 = 896"
    assert rows["conv2"].formula == "(3·3·32 + 1)·64 = 18,496"
    assert rows["conv2"].shape_formula == "H: ⌈16/1⌉ = 16; W: ⌈16/2⌉ = 8"
    assert rows["fc1"].formula == "(2048 + 1)·1024 = 2,098,176"
    assert rows["flatten"].shape_formula == "64·8·4 = 2,048"
    fer = {r.name: r for r in param_table("fer-cnn4").layers}
    assert fer["conv1"].shape_formula == "⌊(48 + 2·1 − 3)/1⌋ + 1 = 48"
    assert fer["pool4"].shape_formula == "⌊(6 + 2·0 − 2)/2⌋ + 1 = 3"


def test_json_contract() -> None:
    doc = json.loads(json.dumps(param_table("hw1-cifar").to_dict()))
    assert {"model", "input_shape", "layers", "total", "trainable", "non_trainable"} <= set(doc)
    assert {"name", "type", "output_shape", "params", "formula"} <= set(doc["layers"][0])
    assert doc["input_shape"] == [3, 32, 32] and doc["total"] == 3_177_418
    assert sum(layer["params"] for layer in doc["layers"]) == doc["total"]
    assert doc["check"]["ok"] is True


def test_golden_text_and_json(golden) -> None:
    table = param_table("hw1-cifar")
    golden("params/hw1-cifar.txt", table.to_text())
    golden("params/hw1-cifar.json", json.dumps(table.to_dict(), indent=2, ensure_ascii=False) + "\n")
    golden("params/hw1-cifar.tex", table.to_latex())


def test_latex_escapes_user_names() -> None:
    model = nn.Sequential()
    model.add_module("my_layer&50%", nn.Linear(2, 2))
    tex = param_table(model, (2,)).to_latex()
    assert r"my\_layer\&50\%" in tex and "my_layer&" not in tex


@pytest.mark.latex
def test_latex_fragment_compiles(tmp_path: Path) -> None:
    body = param_table("hw1-cifar").to_latex() + param_table("fer-cnn3").to_latex()
    doc = (
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage[margin=1cm,landscape]{geometry}\n"
        "\\begin{document}\n\\scriptsize\n" + body + "\\end{document}\n"
    )
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]


BAD = [
    ("nope", None, r"Unknown model 'nope'; the known models are: .*hw1-cifar"),
    ("hw1-cifr", None, r"Did you mean 'hw1-cifar'\?"),
    ("hw1-cifar", "32x32", r"hw1-cifar takes an input of 3 numbers like '3x32x32'.*got '32x32'"),
    ("hw1-cifar", "3x0x32", r"input shape '3x0x32' is not a list of whole numbers"),
    ("hw1-cifar", "3xax32", r"input shape '3xax32' is not a list of whole numbers"),
    (
        "hw1-cifar",
        "3x64x64",
        r"layer 'fc1' \(Linear 2048→1024\): input has 8,192 features, expected 2,048; "
        r"this model takes square inputs from 29×29 to 32×32 only",
    ),
    ("hw1-cifar", "1x32x32", r"layer 'conv1' \(Conv2dSame .*\): input has 1 channel, expected 3"),
    (
        "fer-cnn4",
        "1x8x8",
        r"layer 'pool4' .*: input 1×1 is smaller than the pooling window 2×2; "
        r"this model takes square inputs from 48×48 to 63×63 only",
    ),
    ("hw1-circles", "3", r"layer 'fc1' \(Linear 2→16\): input has 3 features, expected 2"),
]


@pytest.mark.parametrize("name, shape, message", BAD, ids=[f"{n}-{s}" for n, s, _ in BAD])
def test_bad_input_says_where_and_why(name: str, shape: str | None, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        param_table(name, shape)


def test_a_module_needs_a_shape_and_overrides_are_checked() -> None:
    with pytest.raises(ModelError, match="give input_shape"):
        param_table(nn.Linear(2, 2))
    with pytest.raises(ModelError, match=r"no setting 'num_clases'.*Did you mean 'num_classes'"):
        param_table("fer-cnn4", overrides={"num_clases": 3})
    with pytest.raises(ModelError, match=r"'num_classes' takes a whole number like 7; got 'x'"):
        param_table("fer-cnn4", overrides={"num_classes": "x"})
    assert param_table("fer-cnn4", overrides={"num_classes": 3}).layers[-1].output_shape == (3,)


def test_smallest_input_of_a_resnet_and_other_sizes() -> None:
    table = param_table("fer-wide-resnet50-2")  # 48×48 faces: adaptive pooling takes them
    assert isinstance(table, ParamTable) and table.layers[-1].output_shape == (7,)
    small = param_table("fer-cnn4", "1x55x55")  # ⌊55/2⌋ = 27 → 13 → 6 → 3: still 3·3·128
    assert small.total == 537_223


def _bn_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 2))


def test_a_model_on_the_meta_device_gives_the_cpu_table() -> None:
    """Big models are traced on the meta device (BatchNorm's shape-only forward); same rows, same numbers."""
    cpu = param_table(_bn_net(), (3, 6, 6))
    with torch.device("meta"):
        net = _bn_net()
    meta = param_table(net, (3, 6, 6))
    assert meta.to_dict() == cpu.to_dict() and meta.to_text() == cpu.to_text() and meta.buffers == 8 + 8 + 1
    assert "forward" not in net[1].__dict__  # the shape-only forward is removed after the trace
    broken = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(16))
    with pytest.raises(ModelError, match=r"layer '1' \(BatchNorm2d 16\)") as on_cpu:
        param_table(broken, (3, 6, 6))
    with torch.device("meta"):
        broken = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(16))
    with pytest.raises(ModelError, match=r"layer '1' \(BatchNorm2d 16\)") as on_meta:
        param_table(broken, (3, 6, 6))
    assert str(on_meta.value) == str(on_cpu.value)


def test_tracing_batchnorm_on_meta_does_not_import_dynamo() -> None:
    """torch's meta batch norm imports torch._dynamo (about a second of `derive params wide-resnet50-2`)."""
    code = (
        "import sys, torch\n"
        "from torch import nn\n"
        "from reference_models.summary import param_table\n"
        "with torch.device('meta'):\n"
        "    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
        "param_table(net, (3, 6, 6))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
