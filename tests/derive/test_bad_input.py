"""Bad input: one clear message each (where, what was expected, what came, how to fix)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from derive import DeriveError, Problem, gradient, load_values, random_values
from derive.problem import parse_size

PROBLEMS = [
    (
        dict(kernel=(5, 5)),
        "Kernel 5x5 is larger than the padded input 4x4 (input 4x4, padding 0): use a smaller --kernel or more --padding.",
    ),
    (dict(stride=2), "Stride 2 does not fit the rows: (input 4 + 2*padding 0 - kernel 3) = 1 is not a multiple of 2"),
    (dict(stride=0), "stride 0 is not valid: expected a whole number >= 1."),
    (dict(padding=-1), "padding -1 is not valid: expected a whole number >= 0."),
    (
        dict(activation="sigmiod"),
        "Unknown activation 'sigmiod': expected one of sigmoid, tanh, relu. Did you mean 'sigmoid'?",
    ),
    (dict(loss="ce"), "Unknown loss 'ce': expected one of mse, bce."),
    (dict(loss="bce", half_mse=True), "half_mse (--half-mse) only applies to the MSE loss"),
    (dict(input=(0, 4)), "input size (0, 4) is not valid: expected two positive whole numbers (rows, cols)"),
    (dict(input=(100, 100)), "input size (100, 100) is too large: at most 64 per side."),
    (dict(input_symbol="z"), "input_symbol 'z' is taken: z, h, b, c, y, L and p already name parts of the network"),
    (dict(input_symbol="xx"), "input_symbol 'xx' is not valid: expected one letter such as 'a' or 'x'."),
    (dict(input_symbol="w"), "The input, kernel and dense symbols must differ; got ('w', 'w', 'v')."),
]


@pytest.mark.parametrize("kwargs, message", PROBLEMS, ids=[m[:40] for _, m in PROBLEMS])
def test_bad_problem(kwargs: dict, message: str) -> None:
    with pytest.raises(DeriveError, match=re.escape(message)):
        Problem(**kwargs)


VARIABLES = [
    ("w33", {}, "Unknown variable 'w33': kernel indices run from 0 to 2. Did you mean 'w22'?"),
    ("a44", {}, "Unknown variable 'a44': input indices run from 0 to 3. Did you mean 'a33'?"),
    (
        "a40",
        dict(input=(4, 3)),
        "Unknown variable 'a40': input indices run from 0 to 3 (rows) and from 0 to 2 (columns). Did you mean 'a30'?",
    ),
    (
        "v4",
        {},
        "Unknown variable 'v4': dense weights run from 'v0' to 'v3' (one per conv output, row-major). Did you mean 'v3'?",
    ),
    ("w00", dict(one_based=True), "Unknown variable 'w00': kernel indices run from 1 to 3. Did you mean 'w11'?"),
    ("b", {}, "Unknown variable 'b': this convolution has no bias; add --conv-bias to derive ∂L/∂b."),
    ("c", {}, "Unknown variable 'c': this dense sum has no bias; add --dense-bias to derive ∂L/∂c."),
    ("y", {}, "Unknown variable 'y': expected an input a00..a33, a kernel weight w00..w22, a dense weight v0..v3."),
    ("q11", {}, "Unknown variable 'q11': expected an input a00..a33"),
    (
        "W11",
        {},
        "Unknown variable 'W11': expected an input a00..a33, a kernel weight w00..w22, a dense weight v0..v3. Did you mean 'w11'?",
    ),
    ("a21", dict(input_symbol="x"), "Unknown variable 'a21': expected an input x00..x33"),
]


@pytest.mark.parametrize("wrt, kwargs, message", VARIABLES, ids=[v[0] + str(v[1]) for v in VARIABLES])
def test_unknown_variable(wrt: str, kwargs: dict, message: str) -> None:
    with pytest.raises(DeriveError, match=re.escape(message)):
        gradient(Problem(**kwargs), wrt)


@pytest.mark.parametrize(
    "typed, name",
    [("w11", "w11"), ("w_{1,1}", "w11"), ("w[1,1]", "w11"), ("w1_1", "w11"), ("ŷ", "yhat"), ("z01", "z01")],
)
def test_spellings_of_a_variable(typed: str, name: str) -> None:
    assert gradient(Problem(), typed).wrt == name


def test_wide_names_use_an_underscore() -> None:
    p = Problem(input=(12, 12), kernel=(3, 3))
    assert gradient(p, "a10,2").wrt == "a10_2"
    assert gradient(p, "w1_2").wrt == "w1_2"


GOOD = {"a": [[0.1] * 4] * 4, "w": [[0.2] * 3] * 3, "v": [0.1, 0.2, 0.3, 0.4], "y": 0.5}


def _without(key: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != key}


VALUES = [
    (_without("w"), {}, "values: missing key 'w': expected a 3x3 list of lists (the kernel)."),
    (
        {**GOOD, "a": [[0.1] * 4] * 3},
        {},
        "values: 'a' must be a 4x4 list of lists (rows of 4 numbers); got 3 rows of 4 numbers.",
    ),
    (
        {**GOOD, "w": [0.1] * 9},
        {},
        "values: 'w' must be a 3x3 list of lists (rows of 3 numbers); got a list of 9 items.",
    ),
    (
        {**GOOD, "v": [0.1, 0.2]},
        {},
        "values: 'v' must be a list of 4 numbers (one per conv output, row-major); got a list of 2 items.",
    ),
    ({**GOOD, "y": "1"}, {}, "values: 'y' is '1', not a finite number."),
    (
        {**GOOD, "a": [[0.1, 0.2, "x", 0.4]] + [[0.1] * 4] * 3},
        {},
        "values: 'a' row 0, column 2 is 'x', not a finite number.",
    ),
    ({**GOOD, "b": 0.1}, {}, "values: unknown key 'b' (the problem has no conv bias: add --conv-bias, or drop 'b')"),
    (GOOD, dict(conv_bias=True), "values: missing key 'b': expected a number (the conv bias)."),
    ({**GOOD, "y": 2.0}, dict(loss="bce"), "values: 'y' is 2.0, but cross-entropy needs a target from 0 to 1."),
    ({**GOOD, "vv": 1}, {}, "values: unknown key 'vv'; expected keys a, w, v, y. Did you mean 'v'?"),
    ([1, 2], {}, "values: expected a JSON object with keys a, w, v, y; got list."),
]


@pytest.mark.parametrize("values, kwargs, message", VALUES, ids=[m[8:48] for _, _, m in VALUES])
def test_bad_values(values: object, kwargs: dict, message: str) -> None:
    with pytest.raises(DeriveError, match=re.escape(message)):
        gradient(Problem(**kwargs), "w11", values=values, check=False)


def test_values_file_errors_name_the_file(tmp_path: Path) -> None:
    p = Problem()
    with pytest.raises(DeriveError, match=r"values file '.*nope.json' does not exist\."):
        load_values(tmp_path / "nope.json", p)
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": [1, 2,]}')
    with pytest.raises(DeriveError, match=r"bad.json, line 1, column 13: not valid JSON"):
        load_values(bad, p)
    short = tmp_path / "short.json"
    short.write_text(json.dumps(_without("y")))
    with pytest.raises(DeriveError, match=r"short.json: values: missing key 'y': expected a number \(the target\)\."):
        load_values(short, p)


def test_values_file_that_is_a_folder_or_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(DeriveError, match=r"values file '.*' is a folder: give the JSON file inside it\."):
        load_values(tmp_path, Problem())
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"note": "Zoë"}'.encode("latin-1"))
    with pytest.raises(DeriveError, match=r"values file '.*latin1.json' is not UTF-8 text: save it as UTF-8 JSON\.$"):
        load_values(latin1, Problem())


def test_values_file_round_trip(tmp_path: Path) -> None:
    p = Problem(conv_bias=True, dense_bias=True, loss="bce")
    vals = random_values(p, 7)
    path = tmp_path / "v.json"
    path.write_text(json.dumps(vals))
    assert load_values(path, p) == vals


@pytest.mark.parametrize("text, size", [("4x4", (4, 4)), ("3×5", (3, 5)), ("6", (6, 6)), (" 2 x 3 ", (2, 3))])
def test_parse_size(text: str, size: tuple[int, int]) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["4y4", "", "x4", "4x", "-1x2", "4x4x4"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(
        DeriveError, match=re.escape(f"--input {text!r} is not a size: expected ROWSxCOLS such as '4x4'")
    ):
        parse_size(text)
