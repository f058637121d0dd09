"""Issue 12: numbers at the extremes, an autograd check that never cries wolf, one-line usage errors.

Every value is compared with torch autograd (float64, BCE from the logits); inputs beyond
float64 must be one line on stderr with exit 2, never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from derive import Problem, gradient
from derive.errors import DeriveError
from derive.softmax_ce import SoftmaxCE, derive_softmax_ce
from derive.softmax_ce import autograd as ce_autograd

ONES4 = [[1.0] * 4 for _ in range(4)]
ONES3 = [[1.0] * 3 for _ in range(3)]


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Run ``derive ARGS`` in this process through main(): (exit code, stdout, stderr)."""
    from derive.cli import main

    monkeypatch.setattr(sys, "argv", ["derive", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def conv_values(v: float, y: float, a: list | None = None) -> dict:
    return {"a": a or ONES4, "w": ONES3, "v": [v] * 4, "y": y}


# ------------------------------------------------------------------ stable forms
@pytest.mark.parametrize("v, y", [(10.0, 0.0), (10.0, 1.0), (-10.0, 1.0), (-10.0, 0.0), (200.0, 1.0), (-200.0, 0.0)])
@pytest.mark.parametrize("wrt", ["w00", "a11", "v2", "yhat"])
def test_bce_at_large_logits_agrees_with_torch(v: float, y: float, wrt: str) -> None:
    """ŷ ≈ ±40 and ±800: no crash, and the check (from the logits) agrees; ŷ ≈ 800 with y = 1 is fine."""
    g = gradient(Problem(loss="bce"), wrt, values=conv_values(v, y))
    assert math.isfinite(g.value) and g.check == "ok", (g.value, g.autograd)
    assert "difference" in g.to_derivation().notes[-1] and "MISMATCH" not in g.to_derivation().notes[-1]


def test_bce_loss_and_p_step_are_right_where_p_rounds_to_one() -> None:
    """At ŷ ≈ 40, 1 − p = 4e-18 is kept (σ(−ŷ)), so ∂L/∂p = 1/(1 − p) is finite and agrees with torch."""
    g = gradient(Problem(loss="bce"), "p", values=conv_values(10.0, 0.0))
    yhat = 4 * 10 / (1 + math.exp(-9.0))
    assert g.value == pytest.approx(1 / (1 / (1 + math.exp(yhat))), rel=1e-9)
    assert g.check == "ok"
    loss = next(s for s in g.steps if s.name == "L")
    assert loss.value == pytest.approx(yhat, rel=1e-12)  # softplus(ŷ) − 0·ŷ, not −ln(1 − p) = inf


def test_sigmoid_derivative_is_not_lost_to_cancellation() -> None:
    """σ'(z) at z = 45 is 2.9e-20, not 0: 1 − σ(z) is evaluated as σ(−z)."""
    a = [[5.0] * 4 for _ in range(4)]
    g = gradient(Problem(loss="mse"), "w00", values={"a": a, "w": ONES3, "v": [1.0] * 4, "y": 0.0})
    assert g.value != 0.0 and g.check == "ok"


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_beyond_float64_is_one_sentence(y: float) -> None:
    """ŷ ≈ 800 with y = 0: ∂L/∂p ≈ e^800 cannot be shown; with y = 1 everything is fine."""
    if y == 1.0:
        assert gradient(Problem(loss="bce"), "w00", values=conv_values(200.0, y)).check == "ok"
        return
    with pytest.raises(
        DeriveError,
        match=r"^values: ∂L/∂p is beyond float64 at ŷ = 799.9\d+ \(p = σ\(ŷ\) rounds to 1\).*\|ŷ\| < 700\.$",
    ):
        gradient(Problem(loss="bce"), "w00", values=conv_values(200.0, y))


def test_softmax_at_800_uses_log_sum_exp() -> None:
    problem = SoftmaxCE(classes=3)
    values = {"z": [800.0, 0.0, 0.0], "y": [0, 1, 0]}
    d = derive_softmax_ce(problem, "z1", values=values)
    loss = next(s for s in d.steps if s.name == "L")
    assert loss.value == pytest.approx(800.0)
    assert d.result.value == pytest.approx(ce_autograd(problem, "z1", values), abs=1e-15) == -1.0
    assert derive_softmax_ce(problem, "z0", values=values).result.value == pytest.approx(1.0)


def test_sigmoid_output_at_40_and_800() -> None:
    problem = SoftmaxCE(classes=1, activation="sigmoid")
    d = derive_softmax_ce(problem, "z", values={"z": [40.0], "y": [0]})
    assert d.result.value == pytest.approx(ce_autograd(problem, "z", {"z": [40.0], "y": [0]}))
    assert next(s for s in d.steps if s.name == "∂L/∂ŷ").value == pytest.approx(math.exp(40), rel=1e-9)
    with pytest.raises(DeriveError, match=r"∂L/∂ŷ is beyond float64 .* z = 800"):
        derive_softmax_ce(problem, "z", values={"z": [800.0], "y": [0]})


# ------------------------------------------------------------------ the kink and a real mismatch
NEAR_KINK = {"a": [[-0.6, -1.0, 0.8]], "w": [[0.7, -0.9, -0.6]], "v": [1.0], "y": 0.5}  # z = 0 by hand, not in float64
KINK = {"a": [[0.5, 0.25, 0.0]], "w": [[1.0, -2.0, 0.0]], "v": [1.0], "y": 0.5}  # z = 0.5 - 0.5 + 0 = 0 exactly


def test_a_relu_input_that_is_not_exactly_0_is_not_at_the_kink() -> None:
    """z00 = -0.42 + 0.9 - 0.48 is 0 by hand but not in float64: ReLU' = 1 there, as torch (this pinned −0 before)."""
    problem = Problem(input=(1, 3), kernel=(1, 3), activation="relu")
    g = gradient(problem, "w00", values=NEAR_KINK)
    assert g.kinks == () and g.check == "ok" and g.value == g.autograd and g.value == pytest.approx(0.6)
    other = gradient(problem, "v0", values=NEAR_KINK)
    assert other.check == "ok" and other.value == other.autograd != 0.0


def test_relu_at_an_exact_0_takes_the_derivative_0_as_torch() -> None:
    problem = Problem(input=(1, 3), kernel=(1, 3), activation="relu")
    g = gradient(problem, "w00", values=KINK)
    assert g.value == 0.0 and g.kinks == ("z00",) and g.autograd == 0.0 and g.check == "ok"


def test_kink_on_the_command_line_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    path = tmp_path / "kink.json"
    path.write_text(json.dumps(KINK))
    code, out, err = run_main(
        monkeypatch,
        capsys,
        "grad",
        "--wrt",
        "w00",
        "--input",
        "1x3",
        "--kernel",
        "1x3",
        "--activation",
        "relu",
        "--values",
        str(path),
    )
    assert code == 0 and err == "" and "torch autograd (float64) gives 0;" in " ".join(out.split())


def test_a_real_mismatch_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import derive.autograd

    real = derive.autograd.autograd_gradients
    monkeypatch.setattr(derive.autograd, "autograd_gradients", lambda p, v: {k: x + 0.5 for k, x in real(p, v).items()})
    path = tmp_path / "v.json"
    path.write_text(json.dumps(conv_values(0.5, 0.3)))
    code, out, err = run_main(monkeypatch, capsys, "grad", "--wrt", "w11", "--values", str(path))
    assert code == 1 and "MISMATCH" in out
    assert err == (
        "derive: error: torch autograd disagrees with the derived value of w11; "
        "this is a bug in derive, please report the command and values.\n"
    )
    code, out, err = run_main(monkeypatch, capsys, "grad", "--all", "--values", str(path), "--format", "json")
    assert code == 1 and err.startswith("derive: error: torch autograd disagrees")


# ------------------------------------------------------------------ one line, exit 2
def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD_NUMBERS = [
    (
        "relu-mse-1e200",
        lambda t: [
            "grad",
            "--wrt",
            "w00",
            "--activation",
            "relu",
            "--values",
            _write(
                t,
                "e200.json",
                json.dumps(
                    {
                        "a": [[1e200] + [1.0] * 3] + ONES4[1:],
                        "w": [[1e200, 1, 1], [1, 1, 1], [1, 1, 1]],
                        "v": [1, 1, 1, 1],
                        "y": 1,
                    }
                ),
            ),
        ],
        "values: z₀₀ is beyond float64 (|x| > 1.8e308) at these numbers",
    ),
    (
        "batchnorm-1e200",
        lambda t: [
            "batchnorm",
            "--wrt",
            "x0",
            "--values",
            _write(t, "bn.json", json.dumps({"x": [1e200, 2e200, 3, 4], "gamma": 1, "beta": 0, "dy": [1, 2, 3, 4]})),
        ],
        "values: the batch-norm variance σ²_B is beyond float64",
    ),
    (
        "y-400-digits",
        lambda t: [
            "grad",
            "--wrt",
            "w00",
            "--values",
            _write(
                t,
                "y.json",
                '{"a": %s, "w": %s, "v": [1, 1, 1, 1], "y": %s}' % (json.dumps(ONES4), json.dumps(ONES3), "9" * 400),
            ),
        ],
        "values: 'y' is a whole number of 400 digits, beyond float64 (|x| > 1.8e308).",
    ),
    (
        "deep-json",
        lambda t: ["grad", "--wrt", "w00", "--values", _write(t, "deep.json", "[" * 100_000 + "]" * 100_000)],
        "the JSON is nested too deeply to read",
    ),
    (
        "num-classes-negative",
        lambda t: ["params", "hw1-cifar", "--set", "num_classes=-1"],
        "Model 'hw1-cifar': setting 'num_classes' must be 1 or more (default 10); got -1.",
    ),
]


@pytest.mark.parametrize("case, args, message", BAD_NUMBERS, ids=[c[0] for c in BAD_NUMBERS])
def test_bad_numbers_are_one_line_exit_2(case, args, message, tmp_path: Path, monkeypatch, capsys) -> None:
    code, out, err = run_main(monkeypatch, capsys, *args(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith("derive: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert message in err


TYPER_ERRORS = [
    (
        ["grad", "--wrt", "w00", "--padding", "same"],
        "derive: error: --padding takes a whole number; got 'same'. ('same' is TensorFlow's rule, for derive shape; "
        "for the same output size with stride 1 pad (K − 1)/2, e.g. --padding 1 for a 3x3 kernel.) See 'derive grad --help'.",
    ),
    (
        ["grad", "--wrt", "w00", "--loss", "foo"],
        "derive: error: --loss takes one of mse, bce; got 'foo'. See 'derive grad --help'.",
    ),
    (
        ["grad", "--wrt", "w00", "--activation", "softmax"],
        "derive: error: --activation takes one of sigmoid, tanh, relu; got 'softmax'. (softmax is an output layer: "
        "'derive softmax-ce' derives it.) See 'derive grad --help'.",
    ),
    (
        ["grad", "--wrt", "w00", "--format", "pdf"],
        "derive: error: --format takes one of text, latex, json; got 'pdf'. (for a PDF: --format latex > file.tex, "
        "then pdflatex file.tex; or 'derive key'.) See 'derive grad --help'.",
    ),
    (
        ["grad", "--wrt", "w00", "--random", "abc"],
        "derive: error: --random takes a whole number; got 'abc'. See 'derive grad --help'.",
    ),
    (
        ["grad", "--wrt", "w00", "--loss", "bse"],
        "derive: error: --loss takes one of mse, bce; got 'bse'. Did you mean 'mse'? See 'derive grad --help'.",
    ),
    (["shape", "--kernel", "3"], "derive: error: Missing option '--in'. See 'derive shape --help'."),
]


@pytest.mark.parametrize("args, line", TYPER_ERRORS, ids=[" ".join(a[-2:]) for a, _ in TYPER_ERRORS])
def test_typer_errors_are_one_line(args: list[str], line: str, monkeypatch, capsys) -> None:
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert (code, out, err) == (2, "", line + "\n")


def test_options_still_parse(monkeypatch, capsys) -> None:
    """The plain coercion gives the same values typer's did: ints, enums, flags, paths."""
    code, out, err = run_main(
        monkeypatch,
        capsys,
        "grad",
        "--wrt",
        "w11",
        "--input",
        "5x5",
        "--stride",
        "2",
        "--padding",
        "0",
        "--activation",
        "tanh",
        "--loss",
        "bce",
        "--no-conv-bias",
        "--random",
        "3",
        "--format",
        "json",
        "--no-check",
    )
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["config"]["stride"] == 2 and data["config"]["activation"] == "tanh" and data["loss"] == "bce"
