"""Answer keys: reproducible variants, answers against torch autograd, escaping, golden .tex files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from derive.key import derived_seed, render_tex, solve, write_keys
from derive.pdf import latex_escape
from derive.problemset import Student, load_problem_set, parse_problem_set
from derive.values import check_values

torch = pytest.importorskip("torch")

EXAMPLES = Path(__file__).parents[2] / "examples"
ROSTER = tuple(Student(f"b1190{k:04d}", f"Student {k}") for k in range(6))


def conv_autograd(problem, values: dict) -> dict[str, float]:
    """An independent oracle: the network in torch (float64), every leaf's gradient by name."""
    f64 = torch.float64
    a = torch.tensor(values["a"], dtype=f64, requires_grad=True)
    w = torch.tensor(values["w"], dtype=f64, requires_grad=True)
    v = torch.tensor(values["v"], dtype=f64)
    z = torch.nn.functional.conv2d(a[None, None], w[None, None], stride=problem.stride, padding=problem.padding)
    h = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[problem.activation](z).flatten()
    yhat = (v * h).sum()
    y = torch.tensor(values["y"], dtype=f64)
    if problem.loss == "bce":
        loss = torch.nn.functional.binary_cross_entropy_with_logits(yhat, y)
    else:
        loss = (yhat - y) ** 2 * (0.5 if problem.half_mse else 1.0)
    loss.backward()
    out = {f"a{i}{j}": a.grad[i, j].item() for i in range(a.shape[0]) for j in range(a.shape[1])}
    out.update({f"w{i}{j}": w.grad[i, j].item() for i in range(w.shape[0]) for j in range(w.shape[1])})
    return out


def test_derived_seed_is_stable() -> None:
    # SHA-256 of "7\x1fb1\x1f1": the same on every machine and Python (not hash()).
    assert derived_seed(7, "b1", "1") == 228888755
    assert len({derived_seed(7, s.id, "1") for s in ROSTER}) == len(ROSTER)


@pytest.mark.parametrize("name", ["hw2-2024.toml", "hw1-2025.toml"])
def test_every_variant_agrees_with_autograd(name: str) -> None:
    ps = load_problem_set(EXAMPLES / name)
    for student in ROSTER:
        sheet = solve(ps, seed=11, student=student)
        (solved,) = sheet.solved
        expected = conv_autograd(solved.item.problem, solved.values)
        answers = sheet.to_dict()["answers"]
        assert set(answers) == set(solved.item.wrt)
        for var, value in answers.items():
            assert value == pytest.approx(expected[var], abs=1e-12), (student.id, var)


def test_same_seed_same_variants_and_students_differ() -> None:
    ps = load_problem_set(EXAMPLES / "hw2-2024.toml")
    first = [solve(ps, seed=5, student=s).to_dict() for s in ROSTER]
    again = [solve(ps, seed=5, student=s).to_dict() for s in ROSTER]
    assert first == again
    assert len({json.dumps(d["values"]) for d in first}) == len(ROSTER)
    other_seed = [solve(ps, seed=6, student=s).to_dict() for s in ROSTER]
    assert all(a["values"] != b["values"] for a, b in zip(first, other_seed))
    assert render_tex(solve(ps, seed=5, student=ROSTER[0])) == render_tex(solve(ps, seed=5, student=ROSTER[0]))


def test_given_values_are_shared_by_all_students() -> None:
    ps = load_problem_set(EXAMPLES / "fer-report.toml")
    z = [solve(ps, student=s).solved[2].values for s in ROSTER]
    assert all(v == z[0] for v in z)
    assert len({json.dumps(solve(ps, student=s).solved[1].values) for s in ROSTER}) == len(ROSTER)


def test_fer_report_answers() -> None:
    sheet = solve(load_problem_set(EXAMPLES / "fer-report.toml"))
    answers = sheet.answers()
    assert answers["out"] == 24  # ⌊(48 + 2·3 − 7)/2⌋ + 1, not the report's ⌊(48 + 6 − 7 + 1)/2⌋ + 1 = 25
    z = torch.tensor([0.5, -1.2, 0.3, 2.0, 0.0, -0.4, 1.1], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([3])).backward()
    assert answers["z3"] == pytest.approx(z.grad[3].item(), abs=1e-12)


def test_params_answer_is_sum_of_numel() -> None:
    from reference_models.registry import build

    sheet = solve(load_problem_set(EXAMPLES / "hw1-2023.toml"))
    model = build("hw1-cifar")
    assert sheet.answers()["params"] == sum(p.numel() for p in model.parameters()) == 3_177_418


def test_answers_json_layout(tmp_path: Path) -> None:
    ps = load_problem_set(EXAMPLES / "hw1-2025.toml")
    files = write_keys(ps, tmp_path / "keys", seed=3, roster=ROSTER[:3], tex_only=True)
    data = json.loads(files.answers_json.read_text(encoding="utf-8"))
    assert [d["student"] for d in data] == [s.id for s in ROSTER[:3]]
    problem = ps.items[0].problem
    for entry in data:
        assert set(entry) >= {"student", "values", "answers"}
        check_values(entry["values"], problem)  # the --values layout of derive grad
        assert set(entry["answers"]) == {"w00", "a21"}
        assert entry["answers"]["w00"] == pytest.approx(conv_autograd(problem, entry["values"])["w00"], abs=1e-12)
    assert sorted(p.name for p in files.tex)[:2] == ["b11900000-answers.tex", "b11900000-questions.tex"]
    assert files.pdfs == ()


def test_repeated_variable_names_are_qualified() -> None:
    text = (
        'title = "t"\n[[item]]\nkind = "batchnorm"\nwrt = ["x0"]\n'
        '[[item]]\nid = "b"\nkind = "batchnorm"\nwrt = ["x0", "gamma"]\n'
    )
    assert list(solve(parse_problem_set(text)).answers()) == ["1.x0", "b.x0", "gamma"]


def test_question_sheet_has_no_answers() -> None:
    sheet = solve(load_problem_set(EXAMPLES / "hw2-2024.toml"), student=ROSTER[0])
    questions, answers = render_tex(sheet, answers=False), render_tex(sheet, answers=True)
    assert r"\boxed" not in questions and "seed" not in questions
    assert answers.count(r"\boxed") == 2 and "Student 0 (b11900000)" in answers


def test_latex_escape_covers_the_specials() -> None:
    tt = {ch: rf"\texttt{{\char{ord(ch)}}}" for ch in "_{}~^\\<>|$"}
    assert latex_escape("A&B%C#D") == r"A\&B\%C\#D"
    assert latex_escape("_{}~^\\<>|$") == "".join(tt.values())
    assert latex_escape("Zoë Ñúñez Łukasz") == r"Zo\"{e} \~{N}\'{u}\~{n}ez \L{}ukasz"
    assert latex_escape("陳") == r"\texttt{[U+9673]}"


def test_golden_tex(golden) -> None:
    """The whole question and answer sheets of the FER report's math problem (all derivations of this issue)."""
    sheet = solve(load_problem_set(EXAMPLES / "fer-report.toml"), seed=1, student=Student("b1", "Ann & Bob_1"))
    golden("keys/fer-report-answers.tex", render_tex(sheet))
    golden("keys/fer-report-questions.tex", render_tex(sheet, answers=False))
    hw2 = solve(load_problem_set(EXAMPLES / "hw2-2024.toml"), seed=1, student=Student("b1", "Ann & Bob_1"))
    golden("keys/hw2-2024-questions.tex", render_tex(hw2, answers=False))


def test_given_numbers_are_printed_once_per_question() -> None:
    """The derivations carry their own ``Given`` steps; the key prints the item's block only."""
    sheet = solve(load_problem_set(EXAMPLES / "hw2-2024.toml"), student=ROSTER[0])
    with_values = [s for s in sheet.solved if s.values is not None]
    answers = render_tex(sheet, answers=True)
    assert answers.count(r"\textbf{Given:}") == len(with_values)
    assert answers.count(r"a = \left(\begin{array}") == len(with_values)  # not once more per part
    assert all(s.group == "Given" for s in with_values[0].parts[0].derivation.steps[:4])


def test_term_by_term_sum_is_broken_over_lines_not_shrunk() -> None:
    """A long conv-gradient sum breaks at its top-level + signs (as derive grad's LaTeX does)."""
    sheet = solve(load_problem_set(EXAMPLES / "hw2-2024.toml"), seed=1)
    answers = render_tex(sheet)
    term_by_term = answers[answers.index("(term by term)") :]
    first = term_by_term[: term_by_term.index(r"\end{aligned}")]
    assert r"\\ &\quad + " in first, first[:800]


def test_params_question_names_the_model_and_its_description_in_parentheses() -> None:
    tex = render_tex(solve(load_problem_set(EXAMPLES / "hw1-2023.toml")), answers=False)
    assert r"of the model \texttt{hw1-cifar} \textup{(}HW1 2023: the CIFAR-10 CNN" in tex
