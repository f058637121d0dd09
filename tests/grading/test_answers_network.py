"""grade --variants on network questions: each mistake, produced by an independent torch model of it.

The torch model is built here from the network's table in answers.json (``F.conv2d``,
``F.max_pool2d``, ``F.linear``...), not with derive.network; a mistake is made in torch
(the other mse, a straight-through activation or probability, the kernel flipped, another
element). Its numbers go into a responses CSV for every student of a ``derive key --roster``
run, and the grader must name the mistake exactly when its value differs from the right one and
from every other mistake's.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from derive.key import write_keys
from derive.problemset import load_problem_set, read_roster
from grading.answers import grade_answers
from grading.answers.grade import DEFAULT_ATOL, DEFAULT_RTOL
from grading.answers.mistakes import explain

torch = pytest.importorskip("torch")
F = torch.nn.functional

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

MSE_NET = """title = "Small mse network"
[[item]]
kind = "network"
wrt = ["conv1.w[1,0,0,1]", "x[0,1,2]", "dense1.w[1,3]", "conv1.b[0]"]
values = "random"
input = [1, 3, 3]
[[item.layer]]
type = "conv"
kernel = [2, 2]
channels = 2
bias = true
[[item.layer]]
type = "act"
fn = "tanh"
[[item.layer]]
type = "flatten"
[[item.layer]]
type = "dense"
outputs = 2
[[item.layer]]
type = "act"
fn = "sigmoid"
[[item.layer]]
type = "loss"
fn = "mse"
"""

BCE_NET = (
    MSE_NET.replace("Small mse", "Small bce")
    .replace('fn = "mse"', 'fn = "bce"')
    .replace("outputs = 2", "outputs = 1")
    .replace('"dense1.w[1,3]"', '"dense1.w[0,3]"')
    .replace('fn = "sigmoid"', 'fn = "relu"')
)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= max(DEFAULT_RTOL * abs(b), DEFAULT_ATOL)


# ------------------------------------------------------------------ the torch model, from the table


def torch_grad(
    problem: dict,
    values: dict,
    wrt: str,
    *,
    loss: str | None = None,
    no_act: bool = False,
    flip: bool = False,
    no_prob_derivative: bool = False,
) -> float:
    """∂L/∂wrt in float64 autograd, with the mistake built into the network."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items() if k != "y"}
    h = t["x"]
    fn = None
    for layer in problem["layer"]:
        kind, name = layer["type"], layer.get("name")
        if kind == "conv":
            w = t[f"{name}.w"]
            h = F.conv2d(
                h[None],
                torch.flip(w, [2, 3]) if flip else w,
                t.get(f"{name}.b"),
                stride=layer["stride"],
                padding=layer["padding"],
            )[0]
        elif kind == "act":
            act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[layer["fn"]]
            h = h + (act(h) - h).detach() if no_act else act(h)  # straight through: ∂h/∂z = 1
        elif kind == "maxpool":
            h = F.max_pool2d(h[None], layer["size"], layer["stride"])[0]
        elif kind == "avgpool":
            h = F.avg_pool2d(h[None], layer["size"], layer["stride"])[0]
        elif kind == "flatten":
            h = h.reshape(-1)
        elif kind == "dense":
            h = F.linear(h, t[f"{name}.w"], t.get(f"{name}.b"))
        else:
            fn = loss or layer["fn"]
    y = values["y"]
    if fn in ("mse", "half-mse"):
        total = ((h - torch.tensor(y, dtype=torch.float64)) ** 2).sum() * (0.5 if fn == "half-mse" else 1.0)
    elif fn == "bce":
        target = torch.tensor([float(y)], dtype=torch.float64)
        if no_prob_derivative:  # ∂p/∂ŷ = 1: ∂L/∂p used as ∂L/∂ŷ
            total = F.binary_cross_entropy(h + (torch.sigmoid(h) - h).detach(), target)
        else:
            total = F.binary_cross_entropy_with_logits(h, target)
    elif no_prob_derivative:  # softmax-ce without the softmax's Jacobian
        p = h + (torch.softmax(h, 0) - h).detach()
        total = -torch.log(p[y])
    else:
        total = F.cross_entropy(h[None], torch.tensor([y]))
    total.backward()
    base, idx = wrt.split("[")
    return float(t[base].grad[tuple(int(i) for i in idx.rstrip("]").split(","))])


def torch_mistakes(q: dict, values: dict) -> tuple[float, dict[str, list[float]]]:
    problem, wrt = q["problem"], q["wrt"]
    fn = problem["layer"][-1]["fn"]
    right = torch_grad(problem, values, wrt)
    out: dict[str, list[float]] = {"sign": [-right]}
    if fn in ("mse", "half-mse"):
        out["factor-2"] = [torch_grad(problem, values, wrt, loss="half-mse" if fn == "mse" else "mse")]
    elif fn == "bce":
        out["bce-missing-sigmoid-derivative"] = [torch_grad(problem, values, wrt, no_prob_derivative=True)]
    else:
        out["missing-softmax-derivative"] = [torch_grad(problem, values, wrt, no_prob_derivative=True)]
    out["no-activation-derivative"] = [torch_grad(problem, values, wrt, no_act=True)]
    base, idx = wrt.split("[")
    index = [int(i) for i in idx.rstrip("]").split(",")]
    shape = torch.tensor(values[base]).shape
    if not base.endswith(".b") and len(index) >= 2 and index[-1] != index[-2]:
        swapped = [*index[:-2], index[-1], index[-2]]
        if all(i < n for i, n in zip(swapped, shape)):
            out["transposed-index"] = [torch_grad(problem, values, f"{base}[{','.join(map(str, swapped))}]")]
    if base.endswith(".w") and len(index) == 4:
        o, c, m, n = index
        kh, kw = shape[2], shape[3]
        flipped_at = f"{base}[{o},{c},{kh - 1 - m},{kw - 1 - n}]"
        out["flipped-kernel"] = [torch_grad(problem, values, wrt, flip=True), torch_grad(problem, values, flipped_at)]
    return right, out


# ------------------------------------------------------------------ answers.json and responses


def keys(tmp: Path, toml: Path, seed: int) -> list[dict]:
    write_keys(load_problem_set(toml), tmp, seed=seed, roster=read_roster(EXAMPLES / "roster.csv"), tex_only=True)
    return json.loads((tmp / "answers.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=["board", "mse", "bce"])
def answers(request, tmp_path_factory) -> tuple[Path, list[dict]]:
    tmp = tmp_path_factory.mktemp(request.param)
    toml = EXAMPLES / "board-net-set.toml"
    if request.param != "board":
        toml = tmp / f"{request.param}.toml"
        toml.write_text(MSE_NET if request.param == "mse" else BCE_NET, encoding="utf-8")
    return tmp / "answers.json", keys(tmp, toml, seed=11)


def write_responses(path: Path, data: list[dict], answer) -> Path:
    names = [q["name"] for q in data[0]["questions"]]
    buf = io.StringIO()
    rows = [["student", *names]] + [[s["student"], *(answer(s, q) for q in s["questions"])] for s in data]
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


ORACLE: dict[tuple[str, str], tuple[float, dict[str, list[float]]]] = {}
NAMED: dict[str, set[str]] = {}


def oracle(s: dict, q: dict) -> tuple[float, dict[str, list[float]]]:
    key = (s["student"] + repr(s["values"]), q["name"])
    if key not in ORACLE:
        ORACLE[key] = torch_mistakes(q, s["values"])
    return ORACLE[key]


def test_right_answers_are_correct_and_equal_the_stored_values(answers):
    path, data = answers
    assert {q["kind"] for s in data for q in s["questions"]} == {"network"}
    responses = write_responses(path.parent / "right.csv", data, lambda s, q: f"{oracle(s, q)[0]:.10g}")
    result = grade_answers(responses, path)
    assert result.status == "graded" and not result.warnings
    for student, s in zip(result.students, data):
        assert [i.verdict for i in student.items] == ["correct"] * len(s["questions"])
        for item, q in zip(student.items, s["questions"]):
            assert item.expected == pytest.approx(q["value"], rel=1e-12, abs=1e-15)
            assert item.expected == pytest.approx(oracle(s, q)[0], rel=1e-10, abs=1e-13)


MISTAKES = [
    "sign",
    "factor-2",
    "no-activation-derivative",
    "bce-missing-sigmoid-derivative",
    "missing-softmax-derivative",
    "transposed-index",
    "flipped-kernel",
]


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_torch_mistake_is_named_per_student(answers, mistake):
    path, data = answers
    cases: list[list[float]] = []  # the mistake's values per question: one CSV per value (flipped-kernel has 2)
    for s in data:
        for q in s["questions"]:
            cases.append(oracle(s, q)[1].get(mistake, []))
    for c in range(max(map(len, cases))):

        def answer(s: dict, q: dict, c: int = c) -> str:
            right, ms = oracle(s, q)
            vs = ms.get(mistake, [])
            return f"{(vs[c] if c < len(vs) else right):.10g}"

        result = grade_answers(write_responses(path.parent / f"{mistake}-{c}.csv", data, answer), path)
        assert result.status == "graded"
        for student, s in zip(result.students, data):
            for item, q in zip(student.items, s["questions"]):
                right, ms = oracle(s, q)
                vs = ms.get(mistake, [])
                if c >= len(vs):
                    assert item.verdict == "correct"
                    continue
                value = vs[c]
                others = [u for m, us in ms.items() if m != mistake for u in us]
                # a bare "0" names no mistake (issue 18: a vanishing term is not evidence of a mistake)
                distinct = value != 0.0 and not close(value, right) and not any(close(value, u) for u in others)
                assert item.verdict == ("correct" if close(value, right) else "wrong"), (s["student"], q["name"])
                assert item.misconception == (mistake if distinct else None), (
                    s["student"],
                    q["name"],
                    value,
                    right,
                    ms,
                )
                if distinct:
                    assert item.why == explain(mistake, "network") and item.why.startswith(("At ", "Your answer"))
                    NAMED.setdefault(path.parent.name, set()).add(mistake)


def test_every_mistake_is_named_somewhere():
    if not NAMED:
        pytest.skip("run with the tests above")
    seen = set().union(*NAMED.values())
    assert seen == set(MISTAKES), seen


def test_a_stored_value_that_differs_from_the_engine_is_a_warning(tmp_path):
    data = keys(tmp_path, EXAMPLES / "board-net-set.toml", seed=11)
    data[0]["questions"][0]["value"] += 0.5  # our bug (or a stale key): the engine's number is used, loudly
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    responses = write_responses(tmp_path / "r.csv", data, lambda s, q: "")
    result = grade_answers(responses, path)
    assert any("answers.json's value of conv1.w[0,0,1,1] differs from the engine's" in w for w in result.warnings)


def test_a_formula_is_unreadable_with_why(answers):
    path, data = answers
    responses = write_responses(path.parent / "formula.csv", data, lambda s, q: "2*x00*w11")
    result = grade_answers(responses, path)
    item = result.students[0].items[0]
    assert item.verdict == "unreadable" and item.why == "unknown name 'x00'; this question takes a number."


def test_out_writes_feedback_with_the_mistake(answers):
    path, data = answers
    s0 = next(s["student"] for s in data if any(abs(q["value"]) > 1e-3 for q in s["questions"]))  # ReLU may kill all
    responses = write_responses(
        path.parent / "out.csv", data, lambda s, q: f"{-q['value'] if s['student'] == s0 else q['value']:.10g}"
    )
    out = path.parent / "results"
    result = grade_answers(responses, path, out=out)
    assert result.status == "graded"
    text = (out / "feedback" / f"{s0}.txt").read_text(encoding="utf-8")
    assert "Mistake (sign)" in text and '"x": [[' in text
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["misconceptions"] == {"sign": 1}
