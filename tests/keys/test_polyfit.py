"""The polyfit kind (HW1 2023 (一)(b)): coefficients and f'(x) against exact least squares (sympy) and numpy.polynomial."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.errors import DeriveError
from derive.key import render_tex
from derive.problemset import load_problem_set, parse_problem_set
from derive.sheet import solve
from reference_models.data.regression import SAMPLE_CSV

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _exact_least_squares(path: Path, degree: int) -> list[sympy.Rational]:
    """w_m … w_0 from the normal equations in exact rationals of the CSV's own digits (an oracle numpy is not part of)."""
    rows = [line.split(",") for line in path.read_text().splitlines()[1:] if line.strip()]
    xs, ys = [sympy.Rational(r[0]) for r in rows], [sympy.Rational(r[1]) for r in rows]
    design = sympy.Matrix([[x**k for k in range(degree, -1, -1)] for x in xs])
    return list((design.T * design).LUsolve(design.T * sympy.Matrix(ys)))


def _items(text: str, source: str = "<problem set>"):
    return parse_problem_set('title = "t"\n[[item]]\nkind = "polyfit"\n' + text, source=source).items


def test_the_hw1_2023_key_has_part_one_exactly() -> None:
    sheet = solve(load_problem_set(EXAMPLES / "hw1-2023.toml"))
    answers = sheet.answers()
    exact = [float(v) for v in _exact_least_squares(SAMPLE_CSV, 3)]
    assert [answers[k] for k in ("w3", "w2", "w1", "w0")] == pytest.approx(exact, rel=1e-9, abs=1e-12)
    w3, w2, w1, _ = exact
    for point in (3.0, 0.1, -0.5):
        assert answers[f"f'({point!r})"] == pytest.approx(3 * w3 * point**2 + 2 * w2 * point + w1, rel=1e-9)
    assert answers["params"] == 3_177_418 and "w10" in answers  # the other parts are still there


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-9, 9), min_size=1, max_size=5), st.sampled_from([(3.0, 0.1, -0.5), (1.0,), (-2.0, 2.5)]))
def test_noise_free_data_gives_back_its_polynomial(
    tmp_path_factory, coefficients: list[int], at: tuple[float, ...]
) -> None:
    from numpy.polynomial import Polynomial

    degree = len(coefficients) - 1
    xs = np.linspace(-2, 2, 9)
    folder = tmp_path_factory.mktemp("p")
    (folder / "pairs.csv").write_text(
        "x,y\n" + "\n".join(f"{float(x)!r},{float(np.polyval(coefficients, x))!r}" for x in xs) + "\n"
    )
    ps = parse_problem_set(
        f'title = "t"\n[[item]]\nkind = "polyfit"\ndata = "pairs.csv"\ndegree = {degree}\nat = {list(at)}\n',
        source=str(folder / "set.toml"),
    )  # data is relative to the problem set's folder
    item = ps.items[0]
    answers = {p.name: p.value for p in solve(ps).solved[0].parts}
    assert item.wrt == tuple(f"w{k}" for k in range(degree, -1, -1)) + tuple(f"f'({p!r})" for p in at)
    assert [answers[f"w{k}"] for k in range(degree, -1, -1)] == pytest.approx(coefficients, abs=1e-8)
    oracle = Polynomial(coefficients[::-1]).deriv()
    assert [answers[f"f'({p!r})"] for p in at] == pytest.approx([oracle(p) for p in at], abs=1e-7)


def test_the_key_shows_the_working_and_escapes_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "my_pairs&1.csv").write_text("x,y\n0,1\n1,3\n2,5\n3,7.5\n")
    ps = parse_problem_set(
        'title = "t"\n[[item]]\nkind = "polyfit"\ndata = "my_pairs&1.csv"\ndegree = 1\nat = [3.0]\n',
        source=str(tmp_path / "set.toml"),
    )
    tex = render_tex(solve(ps))
    assert r"\texttt{my\texttt{\char95}pairs\&1.csv}" in tex and "my_pairs&1" not in tex
    assert r"\boxed{w_{1} = " in tex and r"f'(x) = w_{1}" in tex and r"X^\top X\, w = X^\top y" in tex
    assert r"\begin{tabular}{rrrr}" in tex  # the data with the fitted values
    assert "the shipped sample" not in tex  # it is said only for the sample
    sample = render_tex(solve(parse_problem_set('title = "t"\n[[item]]\nkind = "polyfit"\n')))
    assert "the shipped sample" in sample and "0.5x^3 - 2x^2 + x + 1" in sample


BAD = [
    ("degree", "degree = -1\n", r"item 1 \(polyfit\): key 'degree' must be a whole number from 0 to 10 .*got -1\."),
    ("degree-text", 'degree = "3"\n', r"key 'degree' must be a whole number from 0 to 10 .*got '3'\."),
    ("at", 'at = "x"\n', r"key 'at' must list the points of f'\(x\), such as \[3\.0, 0\.1, -0\.5\], got 'x'\."),
    ("at-empty", "at = []\n", r"key 'at' must list the points"),
    ("at-twice", "at = [1, 1.0]\n", r"key 'at' names a point twice: \[1, 1\.0\]\."),
    ("data-missing", 'data = "nope.csv"\n', r"key 'data': .*nope\.csv: no such file; pass a CSV of x,y pairs\."),
    (
        "too-few",
        'data = "two.csv"\ndegree = 3\n',
        r"key 'data': 2 pairs cannot fix the 4 coefficients of a degree-3 polynomial; lower 'degree' to 1 or less\.",
    ),
    (
        "unknown",
        'wrt = ["w3"]\n',
        r"unknown key 'wrt'; expected one of at, data, degree, id, kind, points, question, title\.",
    ),
]


@pytest.mark.parametrize(("text", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_polyfit_items(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "two.csv").write_text("x,y\n0,1\n1,2\n")
    with pytest.raises(DeriveError, match=message):
        _items(text, source=str(tmp_path / "set.toml"))
