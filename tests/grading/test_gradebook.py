"""gradebook.csv: importable, one row per student, formulas defused, commas safe."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from grading.gradebook import gradebook_columns, render_gradebook, write_atomic
from grading.safety import defuse_cell, slugify, unique_slugs

STUDENTS = [
    {
        "student": '=HYPERLINK("http://evil","x")',
        "name": "Chen, Wei",
        "status": "ok",
        "late": True,
        "report": {
            "top1": 0.85,
            "top3": 0.97,
            "params": 12345,
            "top1_per_param": 0.85 / 12345,
            "n_correct": 17,
            "n_key": 20,
            "n_missing": 0,
        },
        "rubric": {"total": 42.5, "max_total": 70.0, "rules": [{"name": "acc", "points": 42.5}]},
        "rank": 1,
        "reason": "",
        "feedback": "feedback/HYPERLINK.html",
    },
    {
        "student": "b1",
        "name": "+cmd|' /C calc'!A0",
        "status": "invalid",
        "report": None,
        "rubric": {"total": 0.0, "max_total": 70.0, "rules": [{"name": "acc", "points": 0.0}]},
        "reason": "-2+3 line one\nline two",
        "feedback": "",
    },
    {"student": "@SUM(1)", "name": "\tTab", "status": "invalid", "reason": "\rcr"},
]


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_header_and_one_row_per_student() -> None:
    text = render_gradebook(STUDENTS, ["acc"], split=False)
    rows = parse(text)
    assert list(rows[0]) == gradebook_columns(["acc"], split=False)
    assert gradebook_columns([], split=True)[:12] == [
        "student",
        "name",
        "status",
        "top1",
        "top3",
        "params",
        "top1_per_param",
        "n_correct",
        "n_key",
        "n_missing",
        "public_top1",
        "private_top1",
    ]
    assert len(rows) == 3
    assert rows[0]["name"] == "Chen, Wei"
    assert (rows[0]["top1"], rows[0]["params"], rows[0]["points"], rows[0]["points: acc"]) == (
        "0.85",
        "12345",
        "42.5",
        "42.5",
    )
    assert rows[0]["top1_per_param"] == "6.88538e-05"
    assert rows[0]["late"] == "yes" and rows[1]["late"] == "no"
    assert rows[1]["reason"] == "'-2+3 line one line two"


def test_every_cell_is_quoted() -> None:
    for line in render_gradebook(STUDENTS, ["acc"], split=False).splitlines():
        assert line.startswith('"') and line.endswith('"')


def test_formula_cells_are_defused_when_read_back() -> None:
    rows = parse(render_gradebook(STUDENTS, ["acc"], split=False))
    cells = [c for r in rows for c in r.values()]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert rows[0]["student"] == '\'=HYPERLINK("http://evil","x")'
    assert rows[1]["name"] == "'+cmd|' /C calc'!A0"
    assert rows[2]["student"] == "'@SUM(1)" and rows[2]["name"] == "'\tTab"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ada", "Ada"),
        ("", ""),
    ],
)
def test_defuse_cell(cell: str, safe: str) -> None:
    assert defuse_cell(cell) == safe


def test_written_with_bom_and_atomically(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.csv"
    write_atomic(path, render_gradebook(STUDENTS, [], split=False), bom=True)
    data = path.read_bytes()
    assert data.startswith(b'\xef\xbb\xbf"student"')
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("/abs", "abs"),
        ("a\\b", "a_b"),
        ("CON", "_CON"),
        ("..", "student"),
        ("<script>alert(1)</script>", "script_alert_1_script"),
        ("王小明", "王小明"),
        ("x" * 200, "x" * 80),
    ],
)
def test_slugify_never_escapes_the_folder(text: str, slug: str) -> None:
    assert slugify(text) == slug
    assert "/" not in slug and "\\" not in slug and ".." not in slug


def test_unique_slugs_case_insensitive() -> None:
    assert unique_slugs(["Ann", "ann", "a/nn", "a_nn"]) == ["Ann", "ann-2", "a_nn", "a_nn-2"]
