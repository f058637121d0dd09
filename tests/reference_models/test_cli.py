"""The wiring of ``python -m reference_models``: one end-to-end run per command, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reference_models.cli import main


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["reference_models", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reference_models.train import TrainConfig, train_model

    path = tmp_path_factory.mktemp("w") / "c.safetensors"
    return train_model(
        "hw1-circles", None, path, TrainConfig(epochs=150, batch_size=70, lr=1e-2, weight_decay=0.0)
    ).weights


def test_make_data_then_predict_and_evaluate_hw2(tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(
        capsys,
        monkeypatch,
        "make-data",
        "hw2",
        "--out",
        str(tmp_path / "d"),
        "--n-train",
        "3",
        "--n-test",
        "5",
        "--seed",
        "1",
    )
    assert code == 0 and "test/labels.csv" in out and len(list((tmp_path / "d" / "test").glob("*.png"))) == 5
    from reference_models.registry import build
    from reference_models.train import save_weights

    save_weights(build("hw2-digits"), tmp_path / "w.safetensors", name="hw2-digits")
    code, out, _ = run(
        capsys,
        monkeypatch,
        "predict",
        "hw2-digits",
        "--data",
        str(tmp_path / "d"),
        "--weights",
        str(tmp_path / "w.safetensors"),
        "--out",
        str(tmp_path / "p.csv"),
    )
    assert code == 0 and "(5 rows)" in out
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "image,class,class_2,class_3"
    code, out, _ = run(
        capsys,
        monkeypatch,
        "evaluate",
        "hw2-digits",
        "--data",
        str(tmp_path / "d"),
        "--weights",
        str(tmp_path / "w.safetensors"),
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["n"] == 5 and result["model"] == "hw2-digits" and len(result["confusion_matrix"]) == 10


def test_train_regression_prints_coefficients_and_derivatives(tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(
        capsys,
        monkeypatch,
        "train",
        "hw1-regression",
        "--set",
        "kind=polynomial",
        "--epochs",
        "300",
        "--out",
        str(tmp_path / "p.safetensors"),
    )
    assert code == 0
    assert "coefficients: w3 = " in out and "(4 parameters)" in out
    assert "f'(x), this model (polynomial)" in out and "generating function" in out
    assert [line.split()[0] for line in out.splitlines() if line.strip().startswith(("3 ", "0.1 ", "-0.5 "))] == [
        "3",
        "0.1",
        "-0.5",
    ]


def test_evaluate_and_figures_for_the_circles(weights: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "evaluate", "hw1-circles", "--weights", str(weights), "--json")
    result = json.loads(out)
    assert (
        code == 0 and result["n"] == 30 and result["top1"] >= 0.9 and result["top3"] is None and result["params"] == 354
    )
    code, out, _ = run(capsys, monkeypatch, "figures", "hw1-circles", "--weights", str(weights), "--out", str(tmp_path))
    assert code == 0 and {p.name for p in tmp_path.iterdir()} == {
        "history.png",
        "confusion_matrix.png",
        "decision_boundary.png",
    }


ERRORS = [
    ("unknown-model", ["evaluate", "hw9"], 2, r"Unknown model 'hw9'; the known models are: .*hw2-digits"),
    (
        "missing-data",
        ["predict", "hw2-digits", "--data", "/no/such", "--out", "x.csv"],
        2,
        r"--data '/no/such' does not exist",
    ),
    (
        "bad-set",
        ["train", "hw1-regression", "--set", "kind", "--out", "x.safetensors"],
        2,
        r"--set expects KEY=VALUE, got 'kind'",
    ),
    (
        "make-data-task",
        ["make-data", "mnist", "--out", "x"],
        2,
        r"make-data knows hw2, circles and regression, not 'mnist'",
    ),
    ("no-weights", ["evaluate", "hw1-circles"], 2, r"ships no trained weights; pass --weights FILE"),
    (
        "bad-weights",
        ["evaluate", "hw2-digits", "--weights", "labels.csv"],
        1,
        r"labels.csv: not a readable safetensors file",
    ),
]


@pytest.mark.parametrize(("args", "code", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_are_one_line_with_the_right_exit_code(
    args: list[str], code: int, message: str, capsys, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "labels.csv").write_text("image,class\n")
    got, out, err = run(capsys, monkeypatch, *args)
    assert got == code and out == ""
    assert err.count("\n") == 1 and err.startswith("reference_models: error: ")
    import re

    assert re.search(message, err)


def test_help_does_not_import_torch() -> None:
    code = "import sys, runpy; sys.argv=['reference_models','--help']\ntry:\n runpy.run_module('reference_models', run_name='__main__')\nexcept SystemExit: pass\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


def test_make_data_circles_and_regression(tmp_path: Path, capsys, monkeypatch) -> None:
    assert run(capsys, monkeypatch, "make-data", "circles", "--out", str(tmp_path))[0] == 0
    rows = (tmp_path / "circles.csv").read_text().splitlines()
    assert rows[0] == "x1,x2,label,split" and len(rows) == 101 and sum(r.endswith(",test") for r in rows) == 30
    assert run(capsys, monkeypatch, "make-data", "regression", "--out", str(tmp_path))[0] == 0
    from reference_models.data.regression import load_xy_csv

    assert len(load_xy_csv(tmp_path / "hw1_regression.csv")) == 20


@pytest.mark.parametrize(
    "module",
    [
        "reference_models.data",
        "reference_models.data.hw2",
        "reference_models.data.cifar",
        "reference_models.data.fer",
        "reference_models.data.regression",
        "reference_models.data.circles",
        "reference_models.train",
        "reference_models.evaluate",
        "reference_models.predict",
        "reference_models.figures",
    ],
)
def test_public_names_are_sorted_and_exist(module: str) -> None:
    import importlib

    mod = importlib.import_module(module)
    assert mod.__all__ == sorted(mod.__all__)
    assert all(hasattr(mod, name) for name in mod.__all__)
