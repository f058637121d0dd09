"""Problem-set TOML and roster CSV: the examples load; every mistake gets its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.errors import DeriveError
from derive.problemset import load_problem_set, parse_problem_set, read_roster

EXAMPLES = Path(__file__).parents[2] / "examples"
DATA = Path(__file__).parent / "data"

GOOD_ITEM = '[[item]]\nkind = "conv-gradient"\nwrt = ["w11"]\n'
GOOD_TITLE_ITEM = 'title = "t"\n' + GOOD_ITEM


@pytest.mark.parametrize("name", ["hw1-2023.toml", "hw2-2024.toml", "hw1-2025.toml"])
def test_examples_load(name: str) -> None:
    ps = load_problem_set(EXAMPLES / name)
    assert ps.title.startswith("Homework") and ps.items and ps.seed is not None


def test_handout_questions_are_asked() -> None:
    asked = {
        name: [w for item in load_problem_set(EXAMPLES / name).items for w in item.wrt]
        for name in ("hw1-2023.toml", "hw2-2024.toml", "hw1-2025.toml")
    }
    assert asked == {
        "hw1-2023.toml": ["w3", "w2", "w1", "w0", "f'(3.0)", "f'(0.1)", "f'(-0.5)", "params", "w10"],
        "hw2-2024.toml": ["w11", "a00"],
        "hw1-2025.toml": ["w00", "a21"],
    }
    bce = load_problem_set(EXAMPLES / "hw1-2025.toml").items[0].problem
    assert bce.loss == "bce" and bce.activation == "sigmoid"


def test_names_a_student_may_use_are_kept_for_grading() -> None:
    """The [names] table of issue 17: read, checked, kept for `grade`, ignored by the items."""
    ps = parse_problem_set(GOOD_TITLE_ITEM + '[names]\nv = ["u", " w2 ", "W^{(2)}"]\nh = []\n')
    assert ps.names == {"v": ("u", "w2", "W^{(2)}"), "h": ()}
    assert ps.items == parse_problem_set(GOOD_TITLE_ITEM).items and parse_problem_set(GOOD_TITLE_ITEM).names == {}


def test_spellings_are_canonical() -> None:
    ps = parse_problem_set('title = "t"\n[[item]]\nkind = "conv-gradient"\nwrt = ["w_{1,1}", "a[0,0]"]\n')
    assert ps.items[0].wrt == ("w11", "a00")


BAD = [
    ("title = \n", "not valid TOML"),
    (GOOD_ITEM, "key 'title' must be a non-empty string"),
    ('title = "t"\n', r"no questions: add at least one \[\[item\]\]"),
    ('title = "t"\ntitel = "x"\n' + GOOD_ITEM, "unknown key 'titel'.*Did you mean 'title'"),
    ('title = "t"\nseed = -1\n' + GOOD_ITEM, "key 'seed' must be a whole number >= 0, got -1"),
    (
        'title = "t"\n[[item]]\nkind = "conv-grad"\n',
        r"item 1: key 'kind' must be one of .* got 'conv-grad'. Did you mean 'conv-gradient'",
    ),
    (
        'title = "t"\n[[item]]\nkind = "conv-gradient"\n',
        r"item 1 \(conv-gradient\): key 'wrt' must list the variables asked",
    ),
    (
        'title = "t"\n[[item]]\nkind = "conv-gradient"\nwrt = ["w33"]\n',
        r"key 'wrt': Unknown variable 'w33'.*Did you mean 'w22'",
    ),
    (
        'title = "t"\n[[item]]\nkind = "conv-gradient"\nwrt = ["w11"]\nlos = "mse"\n',
        "unknown key 'los'.*Did you mean 'loss'",
    ),
    ('title = "t"\n[[item]]\nkind = "conv-gradient"\nwrt = ["w11"]\nloss = "cross"\n', "Unknown loss 'cross'"),
    (
        'title = "t"\n[[item]]\nkind = "conv-gradient"\nwrt = ["w11"]\npoints = -2\n',
        "key 'points' must be a number >= 0, got -2",
    ),
    ('title = "t"\n[[item]]\nkind = "conv-gradient"\nwrt = ["w11", "w_{1,1}"]\n', "names a variable twice"),
    (
        'title = "t"\n[[item]]\nkind = "conv-gradient"\nwrt = ["w11"]\nvalues = "rand"\n',
        "key 'values' must be \"random\" or a table",
    ),
    (
        'title = "t"\n[[item]]\nkind = "conv-gradient"\nwrt = ["w11"]\nvalues = { a = 1 }\n',
        r"item 1 \(conv-gradient\), values: (unknown key|missing key)",
    ),
    (
        'title = "t"\n[[item]]\nkind = "softmax-ce"\nwrt = ["z4"]\n',
        r"unknown variable 'z4'; this problem has z0, z1, z2",
    ),
    (
        'title = "t"\n[[item]]\nkind = "softmax-ce"\nclasses = 3\nwrt = ["z0"]\nvalues = { z = [1, 2, 3], y = [1, 1, 0] }\n',
        "'y' must be one-hot",
    ),
    (
        'title = "t"\n[[item]]\nkind = "batchnorm"\nbatch = 1\nwrt = ["x0"]\n',
        r"item 1 \(batchnorm\): The batch size m must be a whole number from 2 to 16, got 1",
    ),
    ('title = "t"\n[[item]]\nkind = "conv-shape"\nkernel = 3\n', "missing key 'input'"),
    ('title = "t"\n[[item]]\nkind = "conv-shape"\ninput = 2\nkernel = 5\n', "output would be empty"),
    ('title = "t"\n[[item]]\nkind = "conv-shape"\ninput = 8\nkernel = 3\nwrt = ["out"]\n', "unknown key 'wrt'"),
    (
        'title = "t"\n[[item]]\nkind = "params"\nmodel = "hw1-cifr"\n',
        "unknown model 'hw1-cifr'.*Did you mean 'hw1-cifar'",
    ),
    (
        'title = "t"\n[[item]]\nkind = "params"\nmodel = "hw1-cifar"\ninput_shape = "3x32"\n',
        "key 'input_shape' must be a list",
    ),
    (
        'title = "t"\n[[item]]\nid = "q"\nkind = "batchnorm"\nwrt = ["x0"]\n[[item]]\nid = "q"\nkind = "batchnorm"\nwrt = ["x1"]\n',
        "item 2: id 'q' is already used by item 1",
    ),
    (
        GOOD_TITLE_ITEM + '[names]\nv = "u"\n',
        r"\[names\] must map a name to a list of spellings.*got 'v' = 'u'\. Write",
    ),
    (GOOD_TITLE_ITEM + "[names]\nv = [1, 2]\n", r"\[names\] must map .*got 'v' = \[1, 2\]"),
    (GOOD_TITLE_ITEM + '[names]\nv = ["u", " "]\n', r"\[names\] must map .*got 'v' = \['u', ' '\]"),
    (
        'title = "t"\nnames = ["u"]\n' + GOOD_ITEM,
        r"\[names\] must map .*got names = \['u'\]\. Write it as a \[names\] table",
    ),
    (
        GOOD_TITLE_ITEM + "[names]\nv = [" + '"u", ' * 5000 + "1]\n",
        r"got 'v' = \['u', 'u', 'u', 'u', 'u', 'u', \.\.\.\]\. Write",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m[:30] for _, m in BAD])
def test_bad_problem_sets(text: str, message: str) -> None:
    with pytest.raises(DeriveError, match=message) as info:
        parse_problem_set(text, source="hw.toml")
    assert str(info.value).startswith("hw.toml")


def test_missing_file() -> None:
    with pytest.raises(DeriveError, match="no such problem-set file"):
        load_problem_set("nope.toml")


def roster(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_roster_reads_ids_and_names(tmp_path: Path) -> None:
    path = roster(tmp_path, "\ufeffStudent , Name,email\nb1,Ann,a@x\n\nb2,,b@x\n", "utf-8")
    assert [(s.id, s.name) for s in read_roster(path)] == [("b1", "Ann"), ("b2", None)]


BAD_ROSTERS = [
    ("id,name\nb1,Ann\n", "line 1: no 'student' column; the header has 'id', 'name'"),
    ("student,name\nb1,Ann\n,Bob\n", "line 3: the 'student' cell is empty"),
    ("student\nb1\nb2\nb1\n", "line 4: student 'b1' is already on line 2"),
    ("student\n", "has a header but no students"),
    ("", "the roster is empty"),
]


@pytest.mark.parametrize(("text", "message"), BAD_ROSTERS, ids=[m[:24] for _, m in BAD_ROSTERS])
def test_bad_rosters(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DeriveError, match=message):
        read_roster(roster(tmp_path, text))


def test_roster_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(DeriveError, match="not UTF-8 text; save it as 'CSV UTF-8'"):
        read_roster(roster(tmp_path, "student,name\nb1,Zoë\n", "latin-1"))
