"""`derive params` and `derive shape`: the wiring, one end-to-end run each, errors as one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from derive.cli import app

runner = CliRunner()


def test_derive_help_does_not_import_torch() -> None:
    code = (
        "import sys; sys.argv = ['derive', '--help']\nfrom derive.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\nassert 'torch' not in sys.modules, 'torch imported'"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "params" in run.stdout and "shape" in run.stdout


def test_params_json_end_to_end() -> None:
    result = runner.invoke(app, ["params", "hw1-cifar", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["total"] == 3_177_418 and doc["layers"][0]["formula"] == "(3·3·3 + 1)·32 = 896"


def test_params_text_latex_and_list() -> None:
    text = runner.invoke(app, ["params", "hw1-circles"])
    assert text.exit_code == 0 and "(2 + 1)·16 = 48" in text.output and "equal to the total" in text.output
    tex = runner.invoke(app, ["params", "hw1-circles", "--format", "latex"])
    assert tex.exit_code == 0 and tex.output.lstrip("% ").count(r"\begin{tabular}") == 1
    listing = runner.invoke(app, ["params", "--list"])
    assert listing.exit_code == 0 and "wide-resnet50-2" in listing.output and "3x32x32" in listing.output
    poly = runner.invoke(app, ["params", "hw1-regression", "--set", "kind='polynomial'", "--set", "degree=5"])
    assert poly.exit_code == 0 and "Total parameters: 6" in poly.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["params", "hw1-cifr"], "derive: error: Unknown model 'hw1-cifr'"),
        (["params", "hw1-cifar", "--input", "3x64x64"], "derive: error: hw1-cifar: layer 'fc1'"),
        (["params"], "derive: error: derive params needs a model name"),
        (["params", "fer-cnn4", "--set", "num_classes"], "derive: error: --set takes KEY=VALUE"),
        (["shape", "--in", "2", "--kernel", "5"], "derive: error: input 2 plus padding 2·0 is smaller than the kernel"),
    ],
    ids=["unknown", "shape", "no-model", "set", "shape-small"],
)
def test_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    run = subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.startswith(message) and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr


def test_shape_end_to_end() -> None:
    out = runner.invoke(app, ["shape", "--in", "32", "--kernel", "3", "--stride", "2", "--padding", "1"])
    assert out.exit_code == 0
    assert "⌊(32 + 2·1 − 3)/2⌋ + 1" in out.output and "result        16" in out.output
    same = runner.invoke(
        app, ["shape", "--in", "16", "--kernel", "3", "--stride", "2", "--padding", "same", "--format", "json"]
    )
    assert json.loads(same.output)["result"] == 8
    pool = runner.invoke(app, ["shape", "--in", "48", "--kernel", "2", "--pool", "--format", "latex"])
    assert pool.output.strip().endswith("= 24$")
