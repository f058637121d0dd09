"""assignment.toml: a full file loads, defaults are sensible, each mistake gets its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from grading.assignment import (
    DEFAULT_MAX_BYTES,
    Assignment,
    find_assignment,
    load_assignment,
    parse_size,
    read_params_file,
)
from grading.errors import UsageError

FULL = """
title = "HW2 2024, problem 1"
k = 3

[key]
path = "key.csv"
id_column = "image"
label_column = "class"
labels = [0, 1, 2]
usage_column = "Usage"

[submission]
filename = "HW2_prob1.csv"
max_size = "5 MB"

[baseline]
name = "Handout CNN"
predictions = "baseline.csv"
params = 1_250_858

[ranking]
by = "top1_per_param"
min_top1 = 0.8

[[rubric]]
name = "Accuracy"
rule = "linear"
floor = 0.5
target = 0.95
points = 70

[[rubric]]
name = "Beat the handout"
rule = "baseline"
margin = 0.10
points = 10
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "key.csv").write_text("image,class\n0000000.png,0\n", encoding="utf-8")
    (tmp_path / "baseline.csv").write_text("image,class\n0000000.png,0\n", encoding="utf-8")
    path = tmp_path / "assignment.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_file_loads(tmp_path: Path) -> None:
    a = load_assignment(write(tmp_path, FULL))
    assert a.title == "HW2 2024, problem 1"
    assert a.key_path == (tmp_path / "key.csv").resolve()
    assert (a.id_column, a.label_column, a.labels, a.k) == ("image", "class", ["0", "1", "2"], 3)
    assert a.usage_column == "Usage"
    assert (a.submission_filename, a.max_bytes) == ("HW2_prob1.csv", 5_000_000)
    assert a.baseline is not None and a.baseline.name == "Handout CNN"
    assert a.baseline.predictions == (tmp_path / "baseline.csv").resolve()
    assert a.baseline.params == 1_250_858
    assert (a.ranking.by, a.ranking.min_top1) == ("top1_per_param", 0.8)
    assert [(r.name, r.kind, r.points) for r in a.rubric] == [
        ("Accuracy", "linear", 70.0),
        ("Beat the handout", "baseline", 10.0),
    ]


def test_minimal_file_has_defaults(tmp_path: Path) -> None:
    a = load_assignment(write(tmp_path, '[key]\npath = "key.csv"\n'))
    assert isinstance(a, Assignment)
    assert (a.id_column, a.label_column, a.labels) == (None, None, None)
    assert (a.k, a.submission_filename, a.max_bytes) == (3, "HW2_prob1.csv", DEFAULT_MAX_BYTES)
    assert (a.baseline, a.rubric, a.ranking.by) == (None, [], "top1")


def test_key_path_is_relative_to_the_toml_not_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[key]\npath = "key.csv"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_assignment(path).key_path == (tmp_path / "key.csv").resolve()


def test_find_assignment(tmp_path: Path) -> None:
    assert find_assignment(tmp_path) is None
    write(tmp_path, '[key]\npath = "key.csv"\n')
    assert find_assignment(tmp_path) == tmp_path / "assignment.toml"


def test_example_assignment_is_valid(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "hw2" / "assignment.toml"
    a = load_assignment(write(tmp_path, example.read_text(encoding="utf-8")))
    assert a.labels == [str(i) for i in range(10)]
    assert a.baseline is not None and a.baseline.params == 1_250_858
    assert [r.kind for r in a.rubric] == ["linear", "thresholds", "rank", "baseline"]
    assert sum(r.points for r in a.rubric) == 105


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[key\npath = 1", r"invalid TOML: .*line 1"),
        ("[submission]\nfilename = 'x.csv'\n", r"\[key\] needs path = \"key.csv\""),
        ('[key]\npath = "nokey.csv"\n', r"path = 'nokey.csv' does not exist .*relative to the assignment file"),
        ('[key]\npath = "key.csv"\npaht = 1\n', r"unknown key 'paht' in \[key\].*Did you mean 'path'\?"),
        ('titel = "x"\n[key]\npath = "key.csv"\n', r"unknown key 'titel' in the top level.*Did you mean 'title'\?"),
        ('k = 0\n[key]\npath = "key.csv"\n', r"k must be a positive integer .*got 0"),
        ('[key]\npath = "key.csv"\nlabels = "0-9"\n', r"labels must be a list .*got '0-9'"),
        ('[key]\npath = "key.csv"\nlabels = [1, "1"]\n', r"labels lists '1' twice"),
        (
            '[key]\npath = "key.csv"\n[submission]\nmax_size = "lots"\n',
            r"max_size: expected a positive size .*got 'lots'",
        ),
        ('[key]\npath = "key.csv"\n[submission]\nfilename = "../x.csv"\n', r"bare file name, got '../x.csv'"),
        ('[key]\npath = "key.csv"\n[ranking]\nby = "acc"\n', r"by must be 'top1' or 'top1_per_param', got 'acc'"),
        ('[key]\npath = "key.csv"\n[ranking]\nmin_top1 = 80\n', r"min_top1 must be an accuracy from 0 to 1 .*got 80"),
        (
            '[key]\npath = "key.csv"\n[ranking]\nshow = "anonymous"\n',
            r"show must be 'names', 'ids' or 'pseudonyms' .*got 'anonymous'",
        ),
        ('[key]\npath = "key.csv"\n[baseline]\nname = "x"\n', r"\[baseline\]: needs predictions = "),
        (
            '[key]\npath = "key.csv"\n[baseline]\ntop1 = 0.6\nparams = -3\n',
            r"params must be a positive integer .*got -3",
        ),
        ('[key]\npath = "key.csv"\n[[rubric]]\nrule = "beat"\npoints = 1\n', r"rule must be one of .*got 'beat'"),
        (
            '[key]\npath = "key.csv"\n[[rubric]]\nrule = "linear"\nfloor = 50\ntarget = 90\npoints = 1\n',
            r"floor = 50.0 is not an accuracy from 0 to 1\. Write accuracies as fractions, e\.g\. 0\.5 for 50%",
        ),
        (
            '[key]\npath = "key.csv"\n[[rubric]]\nrule = "linear"\nfloor = 0.9\ntarget = 0.5\npoints = 1\n',
            r"target \(0.5\) must be above floor \(0.9\)",
        ),
        (
            '[key]\npath = "key.csv"\n[[rubric]]\nrule = "linear"\nflor = 0.5\ntarget = 0.9\npoints = 1\n',
            r"unknown key 'flor' for a 'linear' rule.*Did you mean 'floor'\?",
        ),
        (
            '[key]\npath = "key.csv"\n[[rubric]]\nrule = "baseline"\nmargin = 0.1\npoints = 10\n',
            r"compares with the baseline, but there is no \[baseline\] table",
        ),
        (
            '[key]\npath = "key.csv"\n[[rubric]]\nname = "a"\nrule = "rank"\npoints = 1\n'
            '[[rubric]]\nname = "a"\nrule = "rank"\npoints = 1\n',
            r"two \[\[rubric\]\] rules are named 'a'",
        ),
        (
            '[key]\npath = "key.csv"\n[[rubric]]\nrule = "thresholds"\nsteps = [0.5, 0.9]\n',
            r"step #1 must be `\{at = <value>, points = <points>\}`, got 0.5",
        ),
    ],
    ids=[
        "not-toml",
        "no-key",
        "key-missing",
        "typo-in-key",
        "typo-top-level",
        "k-zero",
        "labels-string",
        "labels-duplicate",
        "size-words",
        "filename-path",
        "rank-by",
        "floor-percent",
        "show-unknown",
        "baseline-empty",
        "params-negative",
        "rule-unknown",
        "rubric-percent",
        "target-below-floor",
        "rubric-typo",
        "baseline-rule-without-baseline",
        "rule-names-twice",
        "steps-bare",
    ],
)
def test_bad_assignment_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_assignment(write(tmp_path, text))


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no such assignment file; create it .* or pass --key key.csv"):
        load_assignment(tmp_path / "assignment.toml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "assignment.toml"
    path.write_bytes(b"title = '\xff\xfe'\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        load_assignment(path)


@pytest.mark.parametrize(("value", "size"), [(1, 1), ("5 MB", 5_000_000), ("512KiB", 524_288), ("1.5 mb", 1_500_000)])
def test_parse_size(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize("value", [0, -1, True, "5 XB", "", 1.5])
def test_parse_size_refuses(value: object) -> None:
    with pytest.raises(UsageError, match="expected a positive size"):
        parse_size(value)


def test_params_file(tmp_path: Path) -> None:
    (tmp_path / "params.csv").write_text('student,params\n12345,"1,250,858"\nb1, 5000\n\n', encoding="utf-8")
    path = write(tmp_path, '[key]\npath = "key.csv"\n[submission]\nparams_file = "params.csv"\n')
    a = load_assignment(path)
    assert a.params_file == (tmp_path / "params.csv").resolve()
    assert read_params_file(a.params_file) == {"12345": 1_250_858, "b1": 5000}


def test_params_file_bad_row(tmp_path: Path) -> None:
    (tmp_path / "params.csv").write_text("student,params\nb1,lots\n", encoding="utf-8")
    with pytest.raises(
        UsageError, match=r"params.csv, line 2: expected `student,params` with a positive integer, got \['b1', 'lots'\]"
    ):
        read_params_file(tmp_path / "params.csv")
