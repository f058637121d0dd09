"""Issue 18, "derive: the extremes": numbers and messages at the edges of float64.

The reference where torch's own float64 cancels (p − y at a confident right answer) is mpmath at
50 digits; each test is built from the value that showed the fault.
"""

from __future__ import annotations

import json
from pathlib import Path

import mpmath
import pytest

from derive import Problem, gradient
from derive.errors import DeriveError
from derive.network import network_gradient, parse_network
from tests.derive.test_extremes import run_main

mpmath.mp.dps = 50

ONE_BY_ONE = Problem(input=(1, 1), kernel=(1, 1), activation="relu", loss="bce")  # ŷ = v0 · relu(w00 · a00)
BCE_NET = 'input = [1]\n[[layer]]\ntype = "dense"\noutputs = 1\n[[layer]]\ntype = "loss"\nfn = "bce"\n'
CE_NET = 'input = [1]\n[[layer]]\ntype = "dense"\noutputs = 3\n[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n'
MSE_NET = 'input = [1]\n[[layer]]\ntype = "dense"\noutputs = 1\n[[layer]]\ntype = "loss"\nfn = "mse"\n'


def exact_bce_dlogit(yhat: float, y: float) -> float:
    """σ(ŷ) − y at 50 digits (at y = 1 as −1/(1 + e^ŷ): 1 − 1e-302 needs more than 50 digits), rounded once."""
    if y == 1.0:
        return float(-1 / (1 + mpmath.exp(mpmath.mpf(yhat))))
    return float(1 / (1 + mpmath.exp(-mpmath.mpf(yhat))) - y)


@pytest.mark.parametrize("yhat", [30.0, 40.0, 695.0, 700.0])
def test_bce_with_a_confident_right_answer_keeps_its_digits_by_both_routes(yhat: float) -> None:
    exact = exact_bce_dlogit(yhat, 1.0)  # −σ(−ŷ): −9.4e-14, −4.2e-18, −1.06e-302, −9.9e-305
    g = gradient(ONE_BY_ONE, "v0", values={"a": [[1.0]], "w": [[1.0]], "v": [yhat], "y": 1.0})
    assert g.value == pytest.approx(exact, rel=1e-13, abs=0) and g.value != 0.0
    assert g.check == "ok" and g.autograd == pytest.approx(exact, rel=1e-13, abs=0)  # the oracle does not cancel either
    n = network_gradient(parse_network(BCE_NET), "dense1.w[0,0]", values={"x": [1.0], "dense1.w": [[yhat]], "y": 1})
    assert n.value == g.value and n.autograd == pytest.approx(exact, rel=1e-13, abs=0)


def test_bce_with_a_label_between_0_and_1_is_p_minus_y() -> None:
    g = gradient(ONE_BY_ONE, "v0", values={"a": [[1.0]], "w": [[1.0]], "v": [3.0], "y": 0.25})
    assert g.value == pytest.approx(exact_bce_dlogit(3.0, 0.25), rel=1e-15, abs=0) and g.check == "ok"


def test_softmax_ce_target_entry_does_not_cancel() -> None:
    """Logits (40, 0, −40), target 0: p₀ − 1 = −4.25e-18, not 0.0."""
    z = [mpmath.mpf(40), mpmath.mpf(0), mpmath.mpf(-40)]
    exact = float(mpmath.exp(z[0]) / sum(mpmath.exp(v) for v in z) - 1)
    values = {"x": [1.0], "dense1.w": [[40.0], [0.0], [-40.0]], "y": 0}
    n = network_gradient(parse_network(CE_NET), "dense1.w[0,0]", values=values)
    assert n.value == pytest.approx(exact, rel=1e-13, abs=0) and exact == pytest.approx(-4.25e-18, rel=1e-3)
    assert n.autograd == pytest.approx(exact, rel=1e-13, abs=0)


def test_text_and_latex_print_significant_digits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A gradient of 6.9e-303 is not printed as 0, nor is torch's value."""
    yhat = float(-mpmath.log(mpmath.mpf("6.9e-303")))
    path = tmp_path / "v.json"
    path.write_text(json.dumps({"a": [[1.0]], "w": [[1.0]], "v": [yhat], "y": 1.0}))
    args = ("grad", "--wrt", "v0", "--input", "1x1", "--kernel", "1x1", "--activation", "relu", "--loss", "bce")
    code, out, _ = run_main(monkeypatch, capsys, *args, "--values", str(path))
    text = " ".join(out.split())
    assert code == 0 and "= -6.9e-303" in text and "gives -6.9e-303;" in text and "gives 0" not in text
    code, out, _ = run_main(monkeypatch, capsys, *args, "--values", str(path), "--format", "latex")
    assert code == 0 and r"-6.9 \times 10^{-303}" in out


def test_a_tiny_negative_factor_is_written_the_same_by_both_routes() -> None:
    from derive.network.layout import num
    from derive.steps import factor_number

    assert num(-2.8e-17) == factor_number(-2.8e-17) == (r"\left(-2.8 \times 10^{-17}\right)", "(-2.8e-17)")


def test_mse_with_y_1e200_gives_the_gradient_and_says_the_loss_overflows() -> None:
    a = [[0.1, 0.2, 0.3, 0.4]] * 4
    g = gradient(Problem(), "w11", values={"a": a, "w": [[0.1, -0.2, 0.3]] * 3, "v": [0.1, 0.2, -0.3, 0.4], "y": 1e200})
    assert g.value == pytest.approx(-6.88775e198, rel=1e-5) and g.check == "ok"
    assert any("overflows float64" in n for n in g.to_derivation().notes)
    n = network_gradient(parse_network(MSE_NET), "dense1.w[0,0]", values={"x": [1.0], "dense1.w": [[0.5]], "y": 1e200})
    assert n.value == -2e200 and n.autograd == -2e200 and any("overflows float64" in x for x in n.notes)


DEEP = 'input = [1, 4, 4]\n[[layer]]\ntype = "conv"\nkernel = ' + "{a = " * 400 + "1" + "}" * 400 + "\n"


def test_toml_nested_hundreds_deep_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    with pytest.raises(DeriveError, match="nested more than 16 levels deep"):
        parse_network(DEEP)
    net = tmp_path / "deep.toml"
    net.write_text(DEEP)
    code, out, err = run_main(monkeypatch, capsys, "grad", "--net", str(net), "--wrt", "x[0,0,0]")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "nested more than" in err
    problems = tmp_path / "set.toml"
    problems.write_text('title = "t"\n[[item]]\nkind = "conv-gradient"\nx = ' + "[" * 300 + "]" * 300 + "\n")
    code, out, err = run_main(monkeypatch, capsys, "key", str(problems))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "nested more than" in err


def test_a_50000_element_value_is_not_echoed_whole() -> None:
    with pytest.raises(DeriveError) as info:
        network_gradient(parse_network(BCE_NET), "x[0]", values={"x": [1.0], "dense1.w": [[0.1]], "y": [0.5] * 50000})
    assert len(str(info.value)) < 300 and "..." in str(info.value)
