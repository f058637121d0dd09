"""`derive grad`: wiring and one end-to-end run per format (behaviour is tested on the library)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from derive import Problem, gradient, random_values
from derive.cli import app, main

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    """Run through main() so that DeriveError becomes 'derive: error: ...' and exit 2."""
    proc = subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_text_end_to_end() -> None:
    result = runner.invoke(app, ["grad", "--wrt", "w11", "--loss", "mse"])
    assert result.exit_code == 0, result.output
    assert "∂L/∂w₁₁ = 2·(ŷ - y) · Σ_i=0..1 Σ_j=0..1 v₂ᵢ₊ⱼ · σ(zᵢⱼ)·(1 - σ(zᵢⱼ)) · aᵢ₊₁,ⱼ₊₁" in result.output
    assert "cross-correlation" in result.output


def test_latex_end_to_end() -> None:
    result = runner.invoke(app, ["grad", "--wrt", "a21", "--loss", "bce", "--format", "latex"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("\\documentclass") and result.output.rstrip().endswith("\\end{document}")


def test_json_end_to_end_with_numbers_checked(tmp_path: Path) -> None:
    values = random_values(Problem(loss="bce"), 3)
    path = tmp_path / "values.json"
    path.write_text(json.dumps(values))
    result = runner.invoke(app, ["grad", "--wrt", "w00", "--loss", "bce", "--values", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["wrt", "loss", "config", "steps", "closed_form_latex", "expanded_latex", "value", "autograd"]
    assert all(list(s) == ["name", "latex", "value"] for s in data["steps"])
    assert abs(data["value"] - data["autograd"]) < 1e-9
    assert data["value"] == gradient(Problem(loss="bce"), "w00", values=values, check=False).value


def test_json_without_numbers_has_nulls() -> None:
    data = json.loads(runner.invoke(app, ["grad", "--wrt", "v2", "--format", "json"]).output)
    assert data["value"] is None and data["autograd"] is None
    assert data["closed_form_latex"] == r"\frac{\partial L}{\partial v_{2}} = 2 \left(\hat{y} - y\right) \, h_{10}"


def test_all_table_with_random_numbers() -> None:
    result = runner.invoke(app, ["grad", "--all", "--random", "1", "--conv-bias", "--dense-bias"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("∂L/∂")]
    assert len(lines) == 16 + 9 + 1 + 4 + 1
    assert "Largest difference from torch autograd (float64)" in result.output


def test_all_json_is_a_list() -> None:
    data = json.loads(
        runner.invoke(app, ["grad", "--all", "--input", "3x3", "--kernel", "2x2", "--format", "json"]).output
    )
    assert [d["wrt"] for d in data][:3] == ["a00", "a01", "a02"] and len(data) == 9 + 4 + 4


def test_renamed_one_based_course() -> None:
    result = runner.invoke(app, ["grad", "--wrt", "x11", "--input-symbol", "x", "--one-based"])
    assert result.exit_code == 0, result.output
    assert "∂L/∂x₁₁ = 2·(ŷ - y) · v₁ · σ(z₁₁)·(1 - σ(z₁₁)) · w₁₁" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--wrt", "w33"],
            "derive: error: Unknown variable 'w33': kernel indices run from 0 to 2. Did you mean 'w22'?",
        ),
        (["--wrt", "w11", "--kernel", "5x5"], "derive: error: Kernel 5x5 is larger than the padded input 4x4"),
        (["--wrt", "w11", "--stride", "2"], "derive: error: Stride 2 does not fit the rows"),
        (["--wrt", "w11", "--input", "four"], "derive: error: --input 'four' is not a size"),
        (["--wrt", "w11", "--values", "missing.json"], "derive: error: values file 'missing.json' does not exist."),
        (
            ["--wrt", "w11", "--values", "x.json", "--random", "1"],
            "derive: error: --values and --random both give numbers",
        ),
        ([], "derive: error: Missing --wrt"),
        (
            ["--wrt", "w11", "--loss", "bce", "--half-mse"],
            "derive: error: half_mse (--half-mse) only applies to the MSE loss",
        ),
    ],
    ids=["unknown-var", "kernel", "stride", "input", "values-file", "both-numbers", "no-wrt", "half-bce"],
)
def test_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    code, out, err = run("grad", *args)
    assert code == 2
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_choice_is_a_usage_error() -> None:
    code, _, err = run("grad", "--wrt", "w11", "--activation", "sigmiod")
    assert code == 2 and "sigmiod" in err and "Traceback" not in err


def test_main_is_wired(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["derive", "grad", "--wrt", "a00"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code in (0, None)
    assert "∂L/∂a₀₀" in capsys.readouterr().out


def test_grad_without_numbers_does_not_import_torch() -> None:
    code = "import sys; sys.argv=['derive','grad','--wrt','w11']\nfrom derive.cli import main\ntry: main()\nexcept SystemExit: pass\nassert 'torch' not in sys.modules, 'torch imported'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def _help_words(command: str) -> str:
    """``--help`` as one line of words (rich's box and wrapping removed)."""
    return re.sub(r"[│╭╮╰╯─\s]+", " ", runner.invoke(app, [command, "--help"]).output)


def test_help_shows_the_whole_loss_formula() -> None:
    """rich reads '[y ln p ...]' as markup and used to drop it from --help."""
    out = _help_words("grad")
    assert "L = -[y ln p + (1 - y) ln(1 - p)]" in out


def test_option_defaults_are_the_library_defaults() -> None:
    out = _help_words("grad")
    for option, default in (("--input", "4x4"), ("--kernel", "3x3"), ("--activation", "sigmoid"), ("--loss", "mse")):
        assert re.search(re.escape(option) + r" .*?\[default: " + re.escape(default) + r"\]", out), option
