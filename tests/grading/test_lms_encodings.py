"""LMS templates Excel re-saved in a Windows code page are read through grading.encodings, the one
decoder of every CSV: Chinese names come back intact and each grade lands in its student's row;
Moodle's worksheet keeps its encoding (its upload form has an Encoding list), Canvas's gradebook is
written in UTF-8 (Canvas imports nothing else). Built from the example templates of tests/grading/lms."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from grading.lms import LmsGrade, write_lms_import

HERE = Path(__file__).parent / "lms"
MOODLE = (HERE / "moodle-grading-worksheet.example.csv").read_text(encoding="utf-8")
CANVAS = (HERE / "canvas-gradebook.example.csv").read_text(encoding="utf-8")

TRADITIONAL = {"Chen Wei-Lin": "鄭呈毅", "林雨婷": "林雨婷", "Alex Kim": "王小明"}
SIMPLIFIED = {"Chen Wei-Lin": "郑呈毅", "林雨婷": "林雨婷", "Alex Kim": "陈小明"}
NAMES = {"cp950": TRADITIONAL, "gb18030": SIMPLIFIED}
ENCODING_SAID = {"cp950": "Big5 (cp950, Excel on Traditional Chinese Windows)", "gb18030": "GB18030"}


def moodle_in(encoding: str) -> tuple[bytes, dict[str, str]]:
    text, names = MOODLE, NAMES[encoding]
    for english, chinese in names.items():
        text = text.replace(f'"{english}"', f'"{chinese}"')
    pids = dict(zip(("52110", "52111", "52112"), names.values(), strict=True))
    return text.encode(encoding), pids


def canvas_in(encoding: str) -> tuple[bytes, dict[str, str]]:
    text, names = CANVAS, NAMES[encoding]
    for english, chinese in zip(("Chen, Wei-Lin", "Lin, Yu-Ting", "Kim, Alex"), names.values(), strict=True):
        text = text.replace(f'"{english}"', f'"{chinese[0]}, {chinese[1:]}"')
    ids = dict(zip(("40117", "40118", "40119"), names.values(), strict=True))
    return text.encode(encoding), ids


@pytest.mark.parametrize("encoding", ["cp950", "gb18030"])
def test_a_moodle_worksheet_in_big5_or_gb18030(tmp_path: Path, encoding: str) -> None:
    data, pids = moodle_in(encoding)
    (tmp_path / "w.csv").write_bytes(data)
    grades = {pid: (85.0 + i, f"{name}：Top-1 {85 + i}%") for i, (pid, name) in enumerate(pids.items())}
    filled = write_lms_import(tmp_path, tmp_path / "w.csv", {p: LmsGrade(g, f) for p, (g, f) in grades.items()})
    assert filled.encoding == encoding and filled.filled == 3
    out = (tmp_path / "lms-import.csv").read_bytes().decode(encoding)  # Moodle's form is told this encoding
    header, *body = csv.reader(io.StringIO(out))
    who, grade, feedback = header.index("Full name"), header.index("Grade"), header.index("Feedback comments")
    got = {row[0].removeprefix("Participant "): (row[who], float(row[grade]), row[feedback]) for row in body}
    assert got == {pid: (pids[pid], *grades[pid]) for pid in pids}
    (note,) = filled.warnings
    assert note.startswith(f"w.csv is in {encoding}, not the UTF-8 Moodle downloads (read as {ENCODING_SAID[encoding]}")
    assert "\n" not in note


@pytest.mark.parametrize("encoding", ["cp950", "gb18030"])
def test_a_canvas_gradebook_in_big5_or_gb18030_comes_back_in_utf8(tmp_path: Path, encoding: str) -> None:
    data, ids = canvas_in(encoding)
    (tmp_path / "gb.csv").write_bytes(data)
    grades = {"40117": 91.5, "40118": 40.0, "40119": 77.0}
    filled = write_lms_import(tmp_path, tmp_path / "gb.csv", {i: LmsGrade(g, "") for i, g in grades.items()})
    assert filled.encoding == "utf-8" and filled.filled == 3
    out = (tmp_path / "lms-import.csv").read_bytes().decode("utf-8")
    header, points, *body = csv.reader(io.StringIO(out))
    column = header.index("HW2 Handwritten digits (88231)")
    got = {row[1]: (row[0].replace(", ", ""), float(row[column])) for row in body}
    assert got == {i: (ids[i], grades[i]) for i in ids}
    assert out.replace("91.50", "").replace("40.00", "").replace("77.00", "") == data.decode(encoding)
    (note,) = filled.warnings
    assert note.startswith(f"gb.csv was saved as {encoding} (read as {ENCODING_SAID[encoding]}")
    assert note.endswith("Canvas imports UTF-8 only, so lms-import.csv is written in UTF-8.")


def test_a_cp1252_canvas_gradebook_is_written_back_as_utf8_with_a_note(tmp_path: Path) -> None:
    text = CANVAS.replace('"Kim, Alex"', '"Müller, José"').replace('"Lin, Yu-Ting"', '"Désirée, Côté"')
    (tmp_path / "gb.csv").write_bytes(text.encode("cp1252"))
    filled = write_lms_import(tmp_path, tmp_path / "gb.csv", {"40119": LmsGrade(88, ""), "40118": LmsGrade(12, "")})
    out = (tmp_path / "lms-import.csv").read_bytes().decode("utf-8")
    rows = {row[1]: row for row in csv.reader(io.StringIO(out))}
    assert (rows["40119"][0], rows["40119"][5]) == ("Müller, José", "88.00")
    assert (rows["40118"][0], rows["40118"][5]) == ("Désirée, Côté", "12.00")
    (note,) = filled.warnings
    assert note.startswith("gb.csv was saved as cp1252 (read as Windows-1252 (Excel on Western Windows)), not UTF-8")
