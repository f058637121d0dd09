"""Nobody lost, no bad entry stops the class: each case with the file that shows it."""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grading import AnswerKey, GradeReport, UsageError, grade_bytes, grade_file
from grading.assignment import Assignment
from grading.batch import grade_class, render_class_summary
from grading.modelparams import count_parameters
from grading.rubric import parse_rubric
from grading.safety import safe_extract

N = 20
TRUTH = [i % 10 for i in range(N)]
IDS = [f"{i:07d}.png" for i in range(N)]
KEY = AnswerKey.from_lists(IDS, TRUTH, classes=range(10))
MOODLE_TEMPLATE = Path(__file__).parent / "lms" / "moodle-grading-worksheet.example.csv"


def predictions(n_right: int = N) -> str:
    return "image,class\n" + "".join(f"{IDS[i]},{t if i < n_right else (t + 1) % 10}\n" for i, t in enumerate(TRUTH))


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "key.csv"
    path.write_text("image,class\n" + "".join(f"{i},{t}\n" for i, t in zip(IDS, TRUTH)))
    return path


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


SUFFIX = "_{pid}_assignsubmission_file_"
LONG = "長" * ((255 - len(SUFFIX.format(pid=52115).encode())) // 3)  # a folder name of 255 bytes at most
HOSTILE = {
    "52110": "Mallory $x^$ Evil",
    "52111": "<script>alert(1)<img src=x onerror=alert(1)>",
    "52112": "=cmd|' -C calc'!A0",
    "52113": "鄭呈毅",
    "52114": "Eve \x1b[31mred\x1b[0m\x07",
    "52115": LONG,
}


def test_every_student_has_exactly_one_row_in_every_output(tmp_path: Path, key: Path) -> None:
    z = tmp_path / "class.zip"
    with zipfile.ZipFile(z, "w") as f:
        for pid, name in HOSTILE.items():
            folder = name + SUFFIX.format(pid=pid)
            assert len(folder.encode()) <= 255
            f.writestr(f"{folder}/HW2_prob1.csv", predictions(10 + int(pid) % 10))
    template = tmp_path / "worksheet.csv"
    head, *_ = MOODLE_TEMPLATE.read_text(encoding="utf-8").splitlines()
    template.write_text(
        head
        + "\n"
        + "".join(f'"Participant {pid}","x",a@b,"Submitted for grading",,100.00,Yes,-,-,\n' for pid in HOSTILE)
    )
    rubric = parse_rubric([{"name": "Accuracy", "rule": "linear", "floor": 0.0, "target": 1.0, "points": 100}])
    out = tmp_path / "out"
    result = grade_class(z, Assignment(key_path=key, rubric=rubric), out, heatmaps=True, lms_template=template)
    assert result.n_ok == len(HOSTILE) and not result.bugs
    ids = sorted(HOSTILE)
    assert sorted(r["student"] for r in csv_rows(out / "gradebook.csv")) == ids
    assert sorted(r["student"] for r in csv_rows(out / "leaderboard.csv")) == ids
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert sorted(s["student"] for s in doc["students"]) == ids and doc["lms"]["unmatched"] == []
    imported = list(csv.reader(io.StringIO((out / "lms-import.csv").read_text(encoding="utf-8"))))[1:]
    assert [r[0] for r in imported] == [f"Participant {pid}" for pid in HOSTILE] and all(r[4] for r in imported)
    for ext in ("html", "md", "png"):
        assert len(list((out / "feedback").glob(f"*.{ext}"))) == len(HOSTILE), ext
    names = {r["student"]: r["name"] for r in csv_rows(out / "gradebook.csv")}
    assert names["52110"] == "Mallory $x^$ Evil"  # literal: no mathtext anywhere
    assert names["52112"].startswith("'=")  # a formula is defused
    assert names["52114"] == "Eve red"  # no escape codes reach a CSV
    for path in [*out.glob("*.csv"), *out.glob("*.html"), *(out / "feedback").glob("*.[hm][td]*")]:
        assert b"\x1b" not in path.read_bytes(), path
    assert b"\x1b" not in (out / "results.json").read_bytes()  # JSON writes it escaped, as \u001b
    html = (out / "feedback" / "52111.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system=None)
    console.print(render_class_summary(result))
    assert "\x1b[31m" not in console.file.getvalue() and "\x07" not in console.file.getvalue()


def test_zip_entries_are_refused_one_by_one(tmp_path: Path, key: Path) -> None:
    z = tmp_path / "odd.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("alice/HW2_prob1.csv", predictions())
        f.writestr("bob/HW2_prob1.csv", predictions(5))
        f.writestr("bob/HW2_prob1.csv/x.csv", predictions())  # a folder named like bob's file
        f.writestr("carol/" + "x" * 300 + ".csv", predictions())  # too long for the disk: shortened there
        f.writestr("/tmp/HW2_prob1.csv", predictions())  # absolute: belongs to nobody
        f.writestr("~$dave/HW2_prob1.csv", predictions())  # an Office lock folder
        f.writestr(".erin_1_assignsubmission_file_/HW2_prob1.csv", predictions())  # a hidden folder
    result = grade_class(z, key, tmp_path / "out", feedback=False)
    rows = {s["student"]: s for s in result.students}
    assert sorted(rows) == ["alice", "bob", "carol"]  # no student called "tmp"
    assert rows["alice"]["status"] == rows["bob"]["status"] == "ok"
    assert rows["carol"]["status"] == "ok" and rows["carol"]["source"] == "carol/" + "x" * 300 + ".csv"
    assert any("a file and a folder both named 'bob/HW2_prob1.csv'" in n for n in rows["bob"]["notes"])
    refused = {e["entry"]: e["reason"] for e in result.refused}
    assert refused["/tmp/HW2_prob1.csv"].startswith("refused: an absolute path")
    assert refused["~$dave/"].startswith("skipped: a hidden or Office lock folder (its name starts with '~$')")
    assert refused[".erin_1_assignsubmission_file_/"].startswith("skipped: a hidden or Office lock folder")


def test_zip_bomb_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        for i in range(6):
            f.writestr(f"s{i}/HW2_prob1.csv", b"0" * 9_900_000)
    assert z.stat().st_size < 500_000
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(
        UsageError, match=r"would unpack to 59\.4 MB \(\d+ times more; CSV files compress about 10 times\)"
    ):
        safe_extract(z, dest, max_member_bytes=10_000_000)
    assert not any(dest.iterdir())


def test_output_folder_inside_the_class_folder_is_never_read(tmp_path: Path, key: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "b1.csv").write_text(predictions())
    (subs / "b2.csv").write_text(predictions(3))
    for _ in range(2):  # the second run sees the first run's gradebook.csv, leaderboard.csv ... inside subs
        result = grade_class(subs, key, subs / "results")
        assert sorted(s["student"] for s in result.students) == ["b1", "b2"]


def test_online_text_only_participant_gets_an_invalid_row(tmp_path: Path, key: Path) -> None:
    z = tmp_path / "m.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("Ada_1_assignsubmission_file_/HW2_prob1.csv", predictions())
        f.writestr("Ada_1_assignsubmission_onlinetext_/onlinetext.html", "<p>see file</p>")
        f.writestr("Bo_2_assignsubmission_onlinetext_/onlinetext.html", "<p>my answer</p>")
    result = grade_class(z, key, tmp_path / "out", feedback=False)
    rows = {s["student"]: s for s in result.students}
    assert rows["1"]["status"] == "ok"
    assert rows["2"]["status"] == "invalid" and rows["2"]["name"] == "Bo"
    assert rows["2"]["reason"] == (
        "no file: online text only ('Bo_2_assignsubmission_onlinetext_/onlinetext.html'); "
        "the assignment needs the file 'HW2_prob1.csv'."
    )


def test_output_files_have_ordinary_permissions(tmp_path: Path, key: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "b1.csv").write_text(predictions())
    old = os.umask(0o027)
    try:
        grade_class(subs, key, tmp_path / "out")
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert modes and set(modes.values()) == {0o640}, modes


# --- one file -----------------------------------------------------------------------------------------

MESSY = [
    ("sep-line", "sep=;\r\nimage;class\r\n" + "".join(f"{i};{t}\r\n" for i, t in zip(IDS, TRUTH)), 1.0, []),
    (
        "title-line",
        "HW2 predictions of Ada\nimage,class\n" + predictions().split("\n", 1)[1],
        1.0,
        [
            "s.csv, line 1: 'HW2 predictions of Ada' is not part of the table (a title above the header?); it was skipped."
        ],
    ),
    (
        "mixed-separators",
        "image,class\n" + "".join(f"{i}{';' if n % 2 else ','}{t}\n" for n, (i, t) in enumerate(zip(IDS, TRUTH))),
        0.5,
        [
            "s.csv: 10 rows separate their cells with semicolons while the file uses commas (line 3: '0000001.png;1', "
            "line 5: '0000003.png;3', line 7: '0000005.png;5', and 7 more); they are ignored. Save the file again with one "
            "separator (in Excel: File > Save As > CSV UTF-8)."
        ],
    ),
    (
        "unbalanced-quote",
        predictions().replace("0000004.png,4", '0000004.png,"4'),
        1.0,
        [
            's.csv, line 6: a quote (") opens a cell and is not closed before line 21, which would make lines 6 to 21 one '
            "cell; the file was read with quotes ignored. Remove the stray quote."
        ],
    ),
    ("ids-written-5.0", "image,class\n" + "".join(f"{n}.0,{t}\n" for n, t in enumerate(TRUTH)), 1.0, []),
    (
        "superscript-id",
        predictions() + "²,3\n",
        1.0,
        ["s.csv: 1 row has an id that is not in the answer key (line 22: '²'); it is ignored."],
    ),
]


@pytest.mark.parametrize(("text", "top1", "messages"), [c[1:] for c in MESSY], ids=[c[0] for c in MESSY])
def test_messy_files_say_what_is_really_wrong(text: str, top1: float, messages: list[str]) -> None:
    report = grade_bytes(text.encode(), KEY, name="s.csv", k=1)
    assert report.status == "ok" and report.top1 == top1
    assert [w.message for w in report.warnings if w.code != "missing_rows"] == messages


FUZZ_ALPHABET = st.sampled_from(list(',;\t"\n\r .0123456789²³¹٣x=-+é鄭\x00\x1b\ufeff') + ["png", "class", "image"])


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), st.lists(FUZZ_ALPHABET, max_size=4)), max_size=6))
def test_fuzzed_files_never_raise(edits: list[tuple[int, int, list[str]]]) -> None:
    text = predictions(12)
    for at, cut, insert in edits:
        at %= len(text) + 1
        text = text[:at] + "".join(insert) + text[at + cut :]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        for data in (text.encode(), text.encode("utf-16"), text.encode("cp1252", "replace")):
            path.write_bytes(data)
            report = grade_file(path, KEY)  # a bad file is a report, never an exception
            assert isinstance(report, GradeReport) and report.status in ("ok", "invalid")
            json.dumps(report.to_dict())


def test_one_file_fifo_device_and_size_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match=r"pipe\.csv' is not a regular file \(a pipe, socket or device\)"):
        grade_file(fifo, KEY)
    with pytest.raises(UsageError, match=r"'/dev/zero' is not a regular file"):
        grade_file("/dev/zero", KEY)
    big = tmp_path / "big.csv"
    big.write_text(predictions() + "x" * 2000)
    report = grade_file(big, KEY, max_bytes=1000)
    assert report.status == "invalid" and report.errors[0].message == (
        "big.csv: refused: the file is 2.3 kB, above the 1.0 kB limit; raise it with --max-size "
        "(or [submission] max_size) if it is genuine."
    )
    assert grade_file(big, KEY, max_bytes=5000).status == "ok"


def test_cli_max_size_raises_the_limit(tmp_path: Path, key: Path) -> None:
    import subprocess
    import sys

    big = tmp_path / "big.csv"
    big.write_text(predictions() + "".join(f"9{i:09d}.png,3\n" for i in range(800_000)))  # 12 MB
    cmd = [sys.executable, "-m", "grading", str(big), "--key", str(key), "--json"]
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and json.loads(refused.stdout)["errors"][0]["code"] == "too_large"
    done = subprocess.run([*cmd, "--max-size", "20 MB"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["n_unknown"] == 800_000


def _safetensors(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


SAFETENSORS = [
    ("deep-nesting", _safetensors(b"[" * 100_000 + b"]" * 100_000), r"its header is not the expected JSON"),
    (
        "null-shape",
        _safetensors(b'{"w":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}', b"\0" * 4),
        r"tensor 'w' has the shape None, not a list of non-negative integers",
    ),
    (
        "string-shape",
        _safetensors(b'{"w":{"dtype":"F32","shape":"25","data_offsets":[0,4]}}', b"\0" * 4),
        r"tensor 'w' has the shape 25, not a list",
    ),
    (
        "negative-dims",
        _safetensors(b'{"w":{"dtype":"F32","shape":[-5,-5],"data_offsets":[0,100]}}', b"\0" * 100),
        r"tensor 'w' has the shape \[-5, -5\], not a list of non-negative integers",
    ),
    (
        "offsets-past-end",
        _safetensors(b'{"w":{"dtype":"F32","shape":[25],"data_offsets":[0,100]}}', b"\0" * 8),
        r"tensor 'w' has data offsets \[0, 100\] outside the file's 8 bytes of data",
    ),
    (
        "shape-disagrees",
        _safetensors(b'{"w":{"dtype":"F32","shape":[5],"data_offsets":[0,8]}}', b"\0" * 8),
        r"its shape \[5\] needs 20 bytes, its offsets give 8",
    ),
    ("not-an-object", _safetensors(b"[1,2]"), r"its header is not a JSON object of tensors"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in SAFETENSORS], ids=[c[0] for c in SAFETENSORS])
def test_crafted_safetensors_headers_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    with pytest.raises(UsageError, match=message) as info:
        count_parameters(path)
    assert "\n" not in str(info.value)


def test_students_see_public_rows_only_in_their_matrix(tmp_path: Path) -> None:
    key = tmp_path / "key.csv"
    key.write_text(
        "image,class,Usage\n"
        + "".join(f"{i},{t},{'Public' if n < 10 else 'Private'}\n" for n, (i, t) in enumerate(zip(IDS, TRUTH)))
    )
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "one.csv").write_text(f"image,class\n{IDS[15]},{TRUTH[15]}\n")  # one Private row
    result = grade_class(subs, key, tmp_path / "out", heatmaps=True)
    student = result.students[0]
    assert sum(map(sum, student["report"]["confusion_matrix"])) == 1  # the TA's results.json keeps everything
    assert sum(map(sum, student["student_view"]["confusion_matrix"])) == 0  # the student's view: Public rows only
    html = (tmp_path / "out" / "feedback" / "one.html").read_text(encoding="utf-8")
    md = (tmp_path / "out" / "feedback" / "one.md").read_text(encoding="utf-8")
    assert "Computed on the 10 public rows of the test set only." in html and "10 public rows" in md
    support = [c for c in student["student_view"]["support"]]
    assert sum(support) == 10 and ">1</td>" not in html.split('class="cm"')[1].split("</table>")[0]
