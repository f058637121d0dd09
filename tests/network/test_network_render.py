"""What a TA sees: golden text for the board network, JSON for scripts, LaTeX that compiles and fits, the CLI."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from derive.network import load_network, network_gradient, random_values
from derive.network.render import grad_net

EXAMPLES = Path(__file__).parents[2] / "examples"
BOARD, BIGGEST = EXAMPLES / "board-net.toml", EXAMPLES / "board-net-max.toml"


def test_golden_board_network_text(golden) -> None:
    golden("network/board-conv1.w-0011-random3.txt", grad_net(BOARD, wrt="conv1.w[0,0,1,1]", random=3, check=False))


def test_golden_board_network_input_text(golden) -> None:
    golden("network/board-x-021-random3.txt", grad_net(BOARD, wrt="x[0,2,1]", random=3, check=False))


def test_board_text_reads_like_an_answer() -> None:
    out = grad_net(BOARD, wrt="conv1.w[0,0,1,1]", random=3)
    assert "q[0,:,:] = [h[0,1,1]=2.46  h[0,1,2]=0.94 ]" in out  # which input won each window
    assert "∂L/∂ŷ[k] = p[k] - [k = y]" in out
    assert "(a sum over the 3 units it feeds)" in out
    assert "(the other inputs get 0)" in out
    assert "∂L/∂conv1.w[0,0,1,1] = Σ_i Σ_j ∂L/∂z[0,i,j] · x[0,i+1,j+1]" in out
    assert "+ 12×0 = 0.264388" in out  # 16 terms, 12 of them 0 where the max-pool routed nothing
    assert re.search(r"Check: torch autograd \(float64\) gives 0\.264387749856; difference \d\.\de-1[5-9]\.", out)


def test_json_has_the_grad_contract() -> None:
    data = json.loads(grad_net(BOARD, wrt="dense1.w[2,1]", random=3, fmt="json"))
    assert list(data) == [
        "wrt",
        "loss",
        "config",
        "steps",
        "closed_form_latex",
        "expanded_latex",
        "value",
        "autograd",
        "notes",
    ]
    assert data["wrt"] == "dense1.w[2,1]" and data["loss"] == "softmax-ce"
    assert [layer["name"] for layer in data["config"]["layers"]] == ["conv1", "act1", "maxpool1", "flatten1", "dense1"]
    assert all(list(s) == ["name", "latex", "value"] for s in data["steps"])
    assert abs(data["value"] - data["autograd"]) < 1e-12


def test_without_numbers_the_closed_forms_remain() -> None:
    g = network_gradient(load_network(BOARD), "conv1.w[1,0,2,2]")
    assert g.value is None and g.autograd is None
    assert g.closed_form_text == "∂L/∂conv1.w[1,0,2,2] = Σ_i Σ_j ∂L/∂z[1,i,j] · x[0,i+2,j+2]"


def test_ties_and_relu_at_zero_are_named_with_torchs_convention() -> None:
    net = load_network(BOARD)
    values = random_values(net, 3)
    values["conv1.w"] = [[[[0.0] * 3] * 3] * 2] * 2  # every z is 0: ReLU at its kink, every window a tie
    g = network_gradient(net, "conv1.w[0,0,0,0]", values=values)
    assert any(
        n.startswith(
            "Tie in maxpool1: window q[0,0,0] has several maxima (h[0,0,0], h[0,0,1], h[0,1,0], h[0,1,1]); "
            "the gradient goes to h[0,0,0], the first in row-major order, as torch's max_pool2d does."
        )
        for n in g.notes
    )
    assert any(
        n.startswith("ReLU at exactly 0 (z[0,0,0], z[0,0,1]")
        and n.endswith("its derivative there is taken as 0, torch's convention.")
        for n in g.notes
    )
    assert g.value == g.autograd == 0.0


def test_all_table_lists_every_element_with_its_check() -> None:
    out = grad_net(BOARD, all_=True, random=3)
    rows = [line for line in out.splitlines() if line.startswith("∂L/∂")]
    assert len(rows) == 72 + 36 + 24
    assert all("autograd" in r for r in rows)
    assert "Largest difference from torch autograd (float64)" in out


def _compile(tmp_path: Path, name: str, tex: str) -> str:
    (tmp_path / f"{name}.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    return (tmp_path / f"{name}.log").read_text(encoding="utf-8", errors="replace")


LATEX = [
    (BOARD, "conv1.w[0,0,1,1]"),
    (BOARD, "x[0,2,1]"),
    (BIGGEST, "conv1.w[2,1,0,0]"),
    (BIGGEST, "x[0,3,3]"),
    (BIGGEST, "dense1.w[1,5]"),
    (BIGGEST, "conv1.b[1]"),
    (BIGGEST, None),
]


@pytest.mark.latex
@pytest.mark.parametrize("net, wrt", LATEX, ids=[f"{n.stem}-{w or 'all'}" for n, w in LATEX])
def test_latex_compiles_and_fits_the_page(tmp_path: Path, net: Path, wrt: str | None) -> None:
    tex = grad_net(net, wrt=wrt, all_=wrt is None, random=1, fmt="latex", check=False)
    log = _compile(tmp_path, "answer", tex)
    assert "Overfull" not in log, [line for line in log.splitlines() if "Overfull" in line]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "derive", "grad", *args], capture_output=True, text=True, timeout=120)


def test_cli_end_to_end_and_one_line_errors(tmp_path: Path) -> None:
    values = tmp_path / "v.json"
    values.write_text(json.dumps(random_values(load_network(BOARD), 2)))
    ok = run(
        "--net", str(BOARD), "--wrt", "conv1.w[0,0,1,1]", "--values", str(values), "--format", "json", "--no-check"
    )
    assert ok.returncode == 0, ok.stderr
    assert (
        json.loads(ok.stdout)["value"]
        == network_gradient(
            load_network(BOARD), "conv1.w[0,0,1,1]", values=json.loads(values.read_text()), check=False
        ).value
    )
    bad = run("--net", str(BOARD), "--wrt", "conv1.w[0,0,3,1]", "--no-check")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == (
        "derive: error: --wrt 'conv1.w[0,0,3,1]': the kernel row index 3 is out of range; conv1.w's kernel "
        "row indices run from 0 to 2 (shape 2×2×3×3). Did you mean 'conv1.w[0,0,2,1]'?\n"
    )
    both = run("--net", str(BOARD), "--wrt", "x[0,0,0]", "--random", "1", "--values", str(values))
    assert both.returncode == 2 and "use one of them" in both.stderr
    classic = run("--net", str(BOARD), "--wrt", "x[0,0,0]", "--loss", "bce")
    assert classic.returncode == 2 and classic.stderr.startswith(
        "derive: error: --net describes the whole network: drop the classic"
    )


def test_cli_without_numbers_does_not_import_torch_or_sympy() -> None:
    code = (
        "import sys; from derive.cli import app; from typer.testing import CliRunner; "
        f"r = CliRunner().invoke(app, ['grad', '--net', {str(BOARD)!r}, '--wrt', 'x[0,0,0]']); "
        "assert r.exit_code == 0, r.output; print('torch' in sys.modules, 'sympy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False False", out.stderr


@pytest.mark.parametrize("element", ["x[0,0,0]", "x[1,2,1]", "x[0,5,5]", "x[1,3,0]"])
def test_the_input_index_form_has_as_many_terms_as_the_sum_written_out(element: str) -> None:
    g = network_gradient(load_network(BOARD), element)
    ranges = re.findall(r"Σ_([ij])=(\d+)\.\.(\d+)", g.closed_form_text)
    count = 2 * math.prod(int(hi) - int(lo) + 1 for _, lo, hi in ranges)  # Σ_o over the two kernels
    assert g.expanded_text.count("∂L/∂z[") == count
