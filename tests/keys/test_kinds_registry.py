"""The kinds registry: a toy kind defined here works through ``derive key`` and ``grade --variants``,
and every registered kind passes one conformance check (after scikit-learn's ``parametrize_with_checks``).

The toy kind ``square`` (L = (a·w)², asked ∂L/∂w or ∂L/∂a) lives in this file only: adding a
kind touches no other file of gradkit.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from derive import kinds
from derive.errors import DeriveError
from derive.kinds import AnswerModel, Kind, Part
from derive.problemset import Student, parse_problem_set
from derive.steps import Derivation, Step, format_number, latex_number

# ------------------------------------------------------------------ the toy kind


class Square(Kind):
    """``kind = "square"``: L = (a·w)², one option ``scale`` (L = scale·(a·w)²)."""

    name = "square"
    options = ("scale",)
    wrt_example = '["w"]'
    explanations = {"no-inner-derivative": "At the chain rule you left out ∂(a·w)/∂w = a."}
    example = 'kind = "square"\nwrt = ["w", "a"]\nscale = 1\n'

    def parse(self, options: dict[str, Any], *, where: str, source: str) -> float:
        scale = options.get("scale", 1)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
            raise DeriveError(f"{where}: key 'scale' must be a number > 0, got {scale!r}.")
        return float(scale)

    def config(self, problem: float) -> dict[str, Any]:
        return {"scale": problem}

    def variables(self, problem: float) -> tuple[str, ...]:
        return ("w", "a")

    def random_values(self, problem: float, seed: int) -> dict[str, Any]:
        rng = random.Random(seed)
        return {"a": rng.choice([-2, -1, 1, 2, 3]) / 2, "w": rng.choice([-3, -1, 1, 2]) / 2}

    def check_values(self, problem: float, values: Mapping[str, Any]) -> dict[str, float]:
        for key in ("a", "w"):
            v = values.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise DeriveError(f"values: {key!r} must be a finite number, got {v!r}.")
        return {"a": float(values["a"]), "w": float(values["w"])}

    def solve(self, problem: float, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        parts = []
        for name in wrt:
            other = "a" if name == "w" else "w"
            value = 2 * problem * values[other] ** 2 * values[name]
            step = Step(
                name,
                rf"\frac{{\partial L}}{{\partial {name}}} = 2 \cdot {latex_number(problem)} \cdot {other}^2 {name}"
                rf" = {latex_number(value)}",
                f"∂L/∂{name} = {format_number(value)}",
                value,
                "Chain rule",
            )
            parts.append(Part(name, Derivation(title=f"dL/d{name}", steps=(step,), result=step), value))
        return tuple(parts)

    def question_latex(self, problem: float, wrt: tuple[str, ...]) -> str:
        asked = " and ".join(rf"$\partial L / \partial {n}$" for n in wrt)
        return rf"Let $L = {latex_number(problem)}\,(a w)^2$. Derive {asked} (toy kind)."

    def model(self, problem: float, value: float) -> AnswerModel:
        return SquareModel(problem)


class SquareModel(AnswerModel):
    kind = "square"

    def resolve(self, spelled: str) -> str | None:
        return spelled if spelled in ("a", "w") else None

    def check(self, values: Any) -> Any:
        return Square().check_values(self.problem, values)

    def env(self, values: Any) -> dict[str, float]:
        return dict(values)

    def right(self, values: Any, wrt: str) -> float:
        other = "a" if wrt == "w" else "w"
        return float(2 * self.problem * values[other] ** 2 * values[wrt])

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        other = "a" if wrt == "w" else "w"
        return {"no-inner-derivative": [2 * self.problem * values[other] * values[wrt]]}

    def random_values(self, seed: int) -> Any:
        return Square().random_values(self.problem, seed)


@pytest.fixture
def square() -> Iterator[Kind]:
    kind = kinds.register(Square())
    try:
        yield kind
    finally:
        kinds.KINDS.pop("square")


PROBLEMS = 'title = "Toy"\nseed = 5\n\n[[item]]\nkind = "square"\nwrt = ["w", "a"]\nscale = 1.5\npoints = 4\n'


def test_a_kind_defined_in_a_test_works_through_derive_key_and_grade_variants(square: Kind, tmp_path: Path) -> None:
    from derive.cli import app as derive_app
    from grading.cli import app as grade_app

    (tmp_path / "toy.toml").write_text(PROBLEMS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text("student,name\nb001,Ann\nb002,Bob\n", encoding="utf-8")
    runner = CliRunner()
    keys = tmp_path / "keys"
    args = ["key", str(tmp_path / "toy.toml"), "--roster", str(tmp_path / "roster.csv"), "--out", str(keys), "--tex"]
    done = runner.invoke(derive_app, args)
    assert done.exit_code == 0, done.output
    entries = json.loads((keys / "answers.json").read_text(encoding="utf-8"))
    assert [e["student"] for e in entries] == ["b001", "b002"]
    for e in entries:  # the numbers, by hand: ∂L/∂w = 2·1.5·a²·w, ∂L/∂a = 2·1.5·w²·a
        a, w = e["values"]["a"], e["values"]["w"]
        assert e["answers"] == {"w": pytest.approx(3 * a * a * w), "a": pytest.approx(3 * w * w * a)}
        assert [(q["kind"], q["problem"], q["points"]) for q in e["questions"]] == [("square", {"scale": 1.5}, 2.0)] * 2
    questions = (keys / "tex" / "b001-questions.tex").read_text(encoding="utf-8")
    answers = (keys / "tex" / "b001-answers.tex").read_text(encoding="utf-8")
    assert r"Let $L = 1.5\,(a w)^2$. Derive $\partial L / \partial w$ and $\partial L / \partial a$" in questions
    a, w = entries[0]["values"]["a"], entries[0]["values"]["w"]
    assert f"a = {latex_number(a)}" in questions and "2 \\cdot 1.5 \\cdot a^2 w" not in questions
    assert "2 \\cdot 1.5 \\cdot a^2 w" in answers

    # grade --variants: b001 right (a number and a formula), b002 one right, one with the toy kind's own mistake
    right_b2 = entries[1]["answers"]["w"]
    wrong_b2 = 2 * 1.5 * entries[1]["values"]["w"] * entries[1]["values"]["a"]  # no ∂(a·w)/∂a = w
    rows = [
        {"student": "b001", "w": repr(entries[0]["answers"]["w"]), "a": "3*w^2*a"},
        {"student": "b002", "w": repr(right_b2), "a": repr(wrong_b2)},
    ]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["student", "w", "a"])
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "responses.csv").write_text(buf.getvalue(), encoding="utf-8")
    graded = runner.invoke(
        grade_app, [str(tmp_path / "responses.csv"), "--variants", str(keys / "answers.json"), "--json"]
    )
    assert graded.exit_code == 0, graded.output
    doc = json.loads(graded.stdout)
    verdicts = {
        s["student"]: [(i["verdict"], i["misconception"], i["points"]) for i in s["items"]] for s in doc["students"]
    }
    assert verdicts == {
        "b001": [("correct", None, 2.0), ("correct", None, 2.0)],
        "b002": [("correct", None, 2.0), ("wrong", "no-inner-derivative", 0.0)],
    }
    assert doc["students"][1]["items"][1]["why"] == Square.explanations["no-inner-derivative"]


def test_the_toy_kind_is_checked_like_the_others(square: Kind) -> None:
    with pytest.raises(DeriveError, match=r"item 1 \(square\): key 'scale' must be a number > 0, got -1"):
        parse_problem_set(PROBLEMS.replace("scale = 1.5", "scale = -1"))
    with pytest.raises(DeriveError, match=r"item 1 \(square\): key 'wrt': unknown variable 'b'; this problem has w, a"):
        parse_problem_set(PROBLEMS.replace('["w", "a"]', '["b"]'))
    with pytest.raises(DeriveError, match=r"item 1 \(square\), values: 'a' must be a finite number"):
        parse_problem_set(PROBLEMS + 'values = { a = "x", w = 1 }\n')
    with pytest.raises(DeriveError, match=r"unknown key 'loss'; expected one of .*scale"):
        parse_problem_set(PROBLEMS + 'loss = "mse"\n')


def test_an_unregistered_kind_is_refused_with_the_list() -> None:
    with pytest.raises(DeriveError, match=r"key 'kind' must be one of batchnorm, .*softmax-ce, got 'square'"):
        parse_problem_set(PROBLEMS)


# ------------------------------------------------------------------ every registered kind


def _example_set(kind: Kind) -> str:
    return f'title = "Conformance: {kind.name}"\nseed = 3\n\n[[item]]\n{kind.example.strip()}\n'


@pytest.mark.parametrize("name", kinds.names())
def test_every_kind_conforms(name: str) -> None:
    from derive.key import render_tex
    from derive.sheet import solve
    from grading.answers.variants import parse_variants

    kind = kinds.get(name)
    assert kind.name == name and isinstance(kind.options, tuple) and kind.example
    tomllib.loads(kind.example)  # the example is TOML
    for mistake in kind.explanations:
        assert kind.explanations[mistake].endswith(".")
    if name == "params":
        pytest.importorskip("torch")
    ps = parse_problem_set(_example_set(kind))
    (item,) = ps.items
    assert item.kind == name and item.wrt
    sheet = solve(ps, student=Student("b001"))
    (solved,) = sheet.solved
    assert [p.name for p in solved.parts] == list(item.wrt)
    assert (solved.values is None) == (not kind.asks)

    # answers.json round-trips: the config reads back to a problem with the same config and answers
    entry = json.loads(json.dumps(sheet.to_dict()))
    for q in entry["questions"]:
        again = kind.from_config(q["problem"], where="answers.json")
        assert kind.config(again) == q["problem"]
    (variant,) = parse_variants([entry])
    for question, part in zip(variant.questions, solved.parts, strict=True):
        # solve equals the answer model's right value (and right_at, the fast route grading uses)
        assert question.model.right(question.values, question.wrt) == pytest.approx(part.value, rel=1e-12, abs=1e-15)
        assert question.model.right_at(question.values, question.wrt) == pytest.approx(part.value, rel=1e-9, abs=1e-12)
        mistakes = question.model.mistakes(question.values, question.wrt, question.value)
        assert all(isinstance(v, list) for v in mistakes.values())

    # the templates render: a question sheet and an answer sheet, each with the item's question
    wording = kind.question_latex(item.problem, item.wrt)
    assert wording and "(((" not in wording and "((*" not in wording
    for answers in (False, True):
        tex = render_tex(sheet, answers=answers)
        assert wording in tex and tex.rstrip().endswith(r"\end{document}")
