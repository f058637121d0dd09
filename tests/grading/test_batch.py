"""grade_class: every layout, bad files among good ones, hostile zips, the files it writes."""

from __future__ import annotations

import csv
import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from grading.assignment import Assignment, Baseline, Ranking, load_assignment
from grading.batch import grade_class
from grading.errors import UsageError
from grading.rubric import parse_rubric

N = 20
TRUTH = [i % 10 for i in range(N)]


def predictions(n_right: int, *, header: str = "image,class") -> str:
    """A submission with the first ``n_right`` rows right and the others wrong."""
    rows = [f"{i:07d}.png,{t if i < n_right else (t + 1) % 10}" for i, t in enumerate(TRUTH)]
    return header + "\n" + "\n".join(rows) + "\n"


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "key.csv"
    path.write_text("image,class\n" + "".join(f"{i:07d}.png,{t}\n" for i, t in enumerate(TRUTH)), encoding="utf-8")
    return path


def read_gradebook(out: Path) -> list[dict[str, str]]:
    text = (out / "gradebook.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def by_student(out: Path) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in read_gradebook(out)}


def test_flat_folder(tmp_path: Path, key: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "b10901001.csv").write_text(predictions(18))
    (subs / "b10901002.csv").write_text(predictions(10))
    (subs / "README.txt").write_text("not a student")
    result = grade_class(subs, key, tmp_path / "out", feedback=False)
    assert (result.n_ok, result.n_invalid) == (2, 0)
    book = by_student(tmp_path / "out")
    assert set(book) == {"b10901001", "b10901002"}
    assert book["b10901001"]["top1"] == "0.9"
    assert book["b10901002"]["n_correct"] == "10"


def test_per_student_folders_with_wrapper_and_fallback(tmp_path: Path, key: Path) -> None:
    root = tmp_path / "download" / "HW2"
    for sid, n, name in [("alice", 20, "HW2_prob1.csv"), ("bob", 15, "preds.csv"), ("carol", 5, "HW2_PROB1.CSV")]:
        (root / sid / "code").mkdir(parents=True)
        (root / sid / name).write_text(predictions(n))
        (root / sid / "code" / "train.py").write_text("print(1)")
    (root / "dave").mkdir()
    (root / "dave" / "report.pdf").write_bytes(b"%PDF-1.4")
    (root / "erin").mkdir()
    (root / "erin" / "a.csv").write_text(predictions(1))
    (root / "erin" / "b.csv").write_text(predictions(2))
    (root / ".DS_Store").write_bytes(b"\0")
    result = grade_class(tmp_path / "download", key, tmp_path / "out", feedback=False)
    book = by_student(tmp_path / "out")
    assert set(book) == {"alice", "bob", "carol", "dave", "erin"}
    assert [book[s]["top1"] for s in ("alice", "bob", "carol")] == ["1", "0.75", "0.25"]
    assert book["dave"]["status"] == "invalid"
    assert "no CSV file found (expected 'HW2_prob1.csv'" in book["dave"]["reason"]
    assert "2 CSV files and none named 'HW2_prob1.csv'" in book["erin"]["reason"]
    bob = next(s for s in result.students if s["student"] == "bob")
    assert bob["notes"] == ["no file named 'HW2_prob1.csv'; graded the only CSV, 'bob/preds.csv'."]


def moodle_zip(path: Path, entries: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def test_moodle_zip_folders_and_flat_names(tmp_path: Path, key: Path) -> None:
    z = moodle_zip(
        tmp_path / "HW2-submissions.zip",
        {
            "Ada Lovelace_12345_assignsubmission_file_/HW2_prob1.csv": predictions(19),
            "Ada Lovelace_12345_onlinetext_/onlinetext.html": "<p>hi</p>",
            "Chen, Wei_12346_assignsubmission_file_/HW2_prob1.csv": predictions(12),
            "王小明_12347_assignsubmission_file_HW2_prob1.csv": predictions(16),
        },
    )
    grade_class(z, key, tmp_path / "out", feedback=False)
    book = by_student(tmp_path / "out")
    assert {s: (r["name"], r["top1"]) for s, r in book.items()} == {
        "12345": ("Ada Lovelace", "0.95"),
        "12346": ("Chen, Wei", "0.6"),
        "12347": ("王小明", "0.8"),
    }
    assert not any(p.name.startswith(".unpacked") for p in (tmp_path / "out").iterdir())


def test_canvas_zip_late_and_resubmission(tmp_path: Path, key: Path) -> None:
    z = moodle_zip(
        tmp_path / "submissions.zip",
        {
            "lovelaceada_12345_67890_HW2_prob1.csv": predictions(20),
            "chenwei_LATE_12346_67891_HW2_prob1.csv": predictions(4),
            "chenwei_LATE_12346_67891_HW2_prob1-1.csv": predictions(14),
            "turingalan_12348_67893_report.pdf": b"%PDF-1.4",
        },
    )
    result = grade_class(z, key, tmp_path / "out", feedback=False)
    book = by_student(tmp_path / "out")
    assert book["12345"]["name"] == "lovelaceada"
    assert (book["12346"]["late"], book["12346"]["top1"]) == ("yes", "0.7")
    assert book["12345"]["late"] == "no"
    assert book["12348"]["status"] == "invalid"
    chen = next(s for s in result.students if s["student"] == "12346")
    assert "graded the latest, 'chenwei_LATE_12346_67891_HW2_prob1-1.csv'" in chen["notes"][0]


def test_bad_files_never_stop_the_class(tmp_path: Path, key: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "good.csv").write_text(predictions(15))
    (subs / "empty.csv").write_text("")
    (subs / "excel.csv").write_bytes(b"PK\x03\x04 this is an xlsx")
    (subs / "header.csv").write_text("image,class\n")
    (subs / "later.csv").write_text(predictions(5))
    result = grade_class(subs, key, tmp_path / "out", feedback=False)
    book = by_student(tmp_path / "out")
    assert list(book) == ["empty", "excel", "good", "header", "later"]
    assert [book[s]["status"] for s in book] == ["invalid", "invalid", "ok", "invalid", "ok"]
    assert all(book[s]["reason"] for s in ("empty", "excel", "header"))
    assert result.bugs == []


def test_zip_slip_and_symlinks_are_refused(tmp_path: Path, key: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("alice/HW2_prob1.csv", predictions(20))
        z.writestr("../../escape.csv", predictions(20))
        z.writestr("/abs/HW2_prob1.csv", predictions(20))
        z.writestr("mallory/..\\..\\escape2.csv", predictions(20))
        link = zipfile.ZipInfo("trudy/HW2_prob1.csv")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
    out = tmp_path / "deep" / "out"
    result = grade_class(path, key, out, feedback=False)
    assert not (tmp_path / "escape.csv").exists() and not (tmp_path / "deep" / "escape.csv").exists()
    assert not (tmp_path / "escape2.csv").exists()
    reasons = {s["student"]: s["reason"] for s in result.students}
    assert by_student(out)["alice"]["status"] == "ok"
    assert "symbolic link" in reasons["trudy"]
    assert (
        "a '..' in the path" in reasons["mallory"]
        and "zip entry 'mallory/..\\\\..\\\\escape2.csv'" in reasons["mallory"]
    )
    assert result.refused == [
        {
            "entry": "../../escape.csv",
            "reason": "refused: a '..' in the path would be written outside the output folder",
        },
        {
            "entry": "/abs/HW2_prob1.csv",
            "reason": "refused: an absolute path would be written outside the output folder",
        },
    ]
    assert set(reasons) == {"alice", "mallory", "trudy"}  # an absolute path makes up no student


def test_oversize_files_refused_before_reading(tmp_path: Path, key: Path) -> None:
    a = Assignment(key_path=key, max_bytes=1000)
    z = moodle_zip(
        tmp_path / "big.zip",
        {"big/HW2_prob1.csv": predictions(20) + "x" * 5000, "small/HW2_prob1.csv": predictions(20)},
    )
    grade_class(z, a, tmp_path / "out", feedback=False)
    book = by_student(tmp_path / "out")
    assert book["small"]["status"] == "ok"
    assert "refused: the file is 5.3 kB, above the 1.0 kB limit" in book["big"]["reason"]
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "big.csv").write_text(predictions(20) + "x" * 5000)
    grade_class(folder, a, tmp_path / "out2", feedback=False)
    assert "above the 1.0 kB limit" in by_student(tmp_path / "out2")["big"]["reason"]


def test_zip_bomb_refused_as_a_whole(tmp_path: Path, key: Path) -> None:
    from grading.safety import safe_extract

    z = moodle_zip(tmp_path / "bomb.zip", {f"s{i}/HW2_prob1.csv": "0" * 2000 for i in range(5)})
    with pytest.raises(
        UsageError, match="would unpack to 10.0 kB, more than 5.0 kB; refusing it as a possible zip bomb"
    ):
        safe_extract(z, tmp_path, max_member_bytes=4000, max_total_bytes=5000)
    with pytest.raises(UsageError, match="holds 5 files, more than the 3"):
        safe_extract(z, tmp_path, max_member_bytes=4000, max_members=3)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing", "does not exist; give the folder or the zip"),
        ("one.csv", "is a single file, not a folder"),
        ("empty", "holds no submissions"),
        ("broken.zip", None),
    ],
)
def test_bad_sources(tmp_path: Path, key: Path, source: str, message: str | None) -> None:
    (tmp_path / "one.csv").write_text(predictions(1))
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(UsageError, match=message or "is a single file|not a valid zip"):
        grade_class(tmp_path / source, key, tmp_path / "out", feedback=False)


def test_outputs_results_json_and_assignment_file(tmp_path: Path, key: Path) -> None:
    (tmp_path / "baseline.csv").write_text(predictions(14))
    (tmp_path / "assignment.toml").write_text(
        'title = "HW2"\n[key]\npath = "key.csv"\n[baseline]\nname = "Handout CNN"\npredictions = "baseline.csv"\n'
        'params = 1000\n[ranking]\nby = "top1_per_param"\nmin_top1 = 0.5\n'
        '[[rubric]]\nname = "Accuracy"\nrule = "linear"\nfloor = 0.5\ntarget = 1.0\npoints = 70\n'
        '[[rubric]]\nname = "Beat the handout"\nrule = "baseline"\nmargin = 0.1\npoints = 10\n'
    )
    subs = tmp_path / "subs"
    subs.mkdir()
    for sid, n in [("s1", 20), ("s2", 16), ("s3", 8)]:
        (subs / f"{sid}.csv").write_text(predictions(n))
    out = tmp_path / "out"
    result = grade_class(subs, tmp_path / "assignment.toml", out, params={"s1": 4000, "s2": 100, "s3": 10})
    assert sorted(p.name for p in out.iterdir()) == [
        "feedback",
        "gradebook.csv",
        "leaderboard.csv",
        "leaderboard.html",
        "results.json",
    ]
    doc = json.loads((out / "results.json").read_text())
    assert doc["n_students"] == 3 and doc["baseline"]["report"]["top1"] == 0.7
    book = by_student(out)
    # s1: 70 + 10 (1.0 >= 0.7 + 0.1); s2: 0.8 -> 42 + 10; s3: 0.4 -> 0 + 0
    assert [book[s]["points"] for s in ("s1", "s2", "s3")] == ["80", "52", "0"]
    assert [book[s]["points: Accuracy"] for s in ("s1", "s2", "s3")] == ["70", "42", "0"]
    assert book["s1"]["max_points"] == "80"
    # ranked on top-1 / params among top-1 >= 0.5: s2 (0.008) before s1 (0.00025); s3 below the floor
    assert [book[s]["rank"] for s in ("s1", "s2", "s3")] == ["2", "1", ""]
    assert result.students[0]["rubric"]["rules"][1]["name"] == "Beat the handout"


def test_progress_callback_and_public_private(tmp_path: Path) -> None:
    key = tmp_path / "key.csv"
    key.write_text(
        "image,class,Usage\n"
        + "".join(f"{i:07d}.png,{t},{'Public' if i < 10 else 'Private'}\n" for i, t in enumerate(TRUTH))
    )
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.csv").write_text(predictions(15))
    (subs / "b.csv").write_text(predictions(5))
    calls: list[tuple[int, int, str]] = []
    grade_class(subs, key, tmp_path / "out", feedback=False, progress=lambda d, t, s: calls.append((d, t, s)))
    assert calls == [(0, 2, "grading a"), (1, 2, "grading b"), (2, 2, "")]
    calls.clear()
    grade_class(subs, key, tmp_path / "out", progress=lambda d, t, s: calls.append((d, t, s)))
    assert calls == [(0, 4, "grading a"), (1, 4, "grading b"), (2, 4, "feedback a"), (3, 4, "feedback b"), (4, 4, "")]
    book = by_student(tmp_path / "out")
    assert (book["a"]["public_top1"], book["a"]["private_top1"]) == ("1", "0.5")
    assert (book["b"]["public_top1"], book["b"]["private_top1"]) == ("0.5", "0")
    board = (tmp_path / "out" / "leaderboard.csv").read_text(encoding="utf-8-sig").splitlines()
    assert (
        board[0]
        == '"rank","student","name","top1","top3","params","top1_per_param","public_top1","private_top1","note"'
    )


def test_hand_edited_gradebook_is_kept(tmp_path: Path, key: Path) -> None:
    import os

    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.csv").write_text(predictions(15))
    out = tmp_path / "out"
    grade_class(subs, key, out, feedback=False)
    book = out / "gradebook.csv"
    book.write_text("my manual edits")
    later = (out / "results.json").stat().st_mtime + 60
    os.utime(book, (later, later))
    grade_class(subs, key, out, feedback=False)
    assert (out / "gradebook.csv.bak").read_text() == "my manual edits"
    assert by_student(out)["a"]["top1"] == "0.75"


def test_example_assignment_grades_a_class(tmp_path: Path, key: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "hw2" / "assignment.toml"
    (tmp_path / "assignment.toml").write_text(example.read_text())
    (tmp_path / "baseline.csv").write_text(predictions(14))
    a = load_assignment(tmp_path / "assignment.toml")
    subs = tmp_path / "subs"
    (subs / "s1").mkdir(parents=True)
    (subs / "s1" / "HW2_prob1.csv").write_text(predictions(19))
    result = grade_class(subs, a, tmp_path / "out", feedback=False, params={"s1": 50_000})
    s1 = result.students[0]
    # top1 0.95 -> 70 (linear to 0.95); no top-3 -> 0; rank alone -> 15; 0.95 >= 0.7 + 0.1 -> 5
    assert [r["points"] for r in s1["rubric"]["rules"]] == [70.0, 0.0, 15.0, 5.0]
    assert s1["rubric"]["total"] == 90.0


def test_unused_names_are_importable() -> None:
    assert Ranking().by == "top1" and Baseline(top1=0.5).name == "Reference baseline"
    assert parse_rubric(None) == []


def test_spreadsheets_get_advice_and_text_tables_are_read(tmp_path: Path, key: Path) -> None:
    root = tmp_path / "subs"
    for sid, name, data in [
        ("xl", "HW2_prob1.xlsx", b"PK\x03\x04junk"),
        ("num", "preds.numbers", b"PK\x03\x04"),
        ("tsv", "HW2_prob1.tsv", predictions(20).replace(",", "\t").encode()),
        ("txt", "answers.txt", predictions(10).encode()),
        ("pdf", "report.pdf", b"%PDF-1.4"),
    ]:
        (root / sid).mkdir(parents=True)
        (root / sid / name).write_bytes(data)
    result = grade_class(root, key, tmp_path / "out")
    rows = {s["student"]: s for s in result.students}
    assert rows["xl"]["reason"] == (
        "'xl/HW2_prob1.xlsx' is a spreadsheet (.xlsx), not a CSV file; open it, save the "
        "sheet as CSV (Excel: File > Save As > CSV UTF-8) and submit it as 'HW2_prob1.csv'."
    )
    assert "'num/preds.numbers' is a spreadsheet (.numbers)" in rows["num"]["reason"]
    assert (rows["tsv"]["status"], rows["tsv"]["report"]["top1"]) == ("ok", 1.0)
    assert rows["tsv"]["notes"] == [
        "no CSV file; read 'tsv/HW2_prob1.tsv' as CSV (please submit 'HW2_prob1.csv' next time)."
    ]
    assert rows["txt"]["report"]["top1"] == 0.5
    # Nothing was graded for these students: their feedback names no file as graded.
    for sid in ("xl", "num", "pdf"):
        assert rows[sid]["source"] == ""
        assert "File graded" not in (tmp_path / "out" / "feedback" / f"{sid}.md").read_text(encoding="utf-8")
    assert "File graded:** tsv/HW2\\_prob1.tsv" in (tmp_path / "out" / "feedback" / "tsv.md").read_text(
        encoding="utf-8"
    )


def test_flat_folder_keeps_a_student_who_sent_a_spreadsheet(tmp_path: Path, key: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "b10901001.csv").write_text(predictions(18))
    (subs / "b10901002.xlsx").write_bytes(b"PK\x03\x04")
    (subs / "b10901003.tsv").write_text(predictions(20).replace(",", "\t"))
    (subs / "notes.txt").write_text("a TA's notes, not a student")
    grade_class(subs, key, tmp_path / "out", feedback=False)
    book = by_student(tmp_path / "out")
    assert set(book) == {"b10901001", "b10901002", "b10901003"}
    assert "is a spreadsheet (.xlsx)" in book["b10901002"]["reason"]
    assert book["b10901003"]["top1"] == "1"


@pytest.mark.parametrize("show", ["ids", "pseudonyms"])
def test_leaderboard_posted_to_the_class_hides_names(tmp_path: Path, key: Path, show: str) -> None:
    z = moodle_zip(
        tmp_path / "class.zip",
        {
            "Ada Lovelace_12345_assignsubmission_file_/HW2_prob1.csv": predictions(19),
            "Chen, Wei_12346_assignsubmission_file_/HW2_prob1.csv": predictions(12),
        },
    )
    a = Assignment(key_path=key, title="HW2", ranking=Ranking(show=show))
    result = grade_class(z, a, tmp_path / "out")
    published = [
        (tmp_path / "out" / f).read_text(encoding="utf-8-sig") for f in ("leaderboard.html", "leaderboard.csv")
    ]
    for text in published:
        assert "Lovelace" not in text and "Chen" not in text
        assert ("12345" in text) == (show == "ids")
    rows = {s["student"]: s for s in result.students}
    assert by_student(tmp_path / "out")["12345"]["name"] == "Ada Lovelace"  # the gradebook stays complete
    if show == "pseudonyms":
        alias = rows["12345"]["alias"]
        assert alias.startswith("anon-") and alias != rows["12346"]["alias"]
        assert all(alias in text for text in published)
        assert f"Your name on the leaderboard | {alias}" in (tmp_path / "out" / "feedback" / "12345.md").read_text(
            encoding="utf-8"
        )
        again = grade_class(z, a, tmp_path / "again", feedback=False)
        assert again.students[0]["alias"] == alias  # stable from run to run


def test_outputs_import_cleanly_into_a_spreadsheet_or_lms(tmp_path: Path, key: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "b1.csv").write_text("image,class\n" + "".join(f"{i:07d}.png,0\n" for i in range(N)))  # one class only
    (subs / "b2.csv").write_text("")
    grade_class(subs, key, tmp_path / "out", feedback=False)

    def no_nan(value: str) -> None:
        raise AssertionError(f"results.json holds {value}, which is not JSON")

    json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"), parse_constant=no_nan)
    raw = (tmp_path / "out" / "gradebook.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    rows = read_gradebook(tmp_path / "out")
    assert len(rows) == 2 and rows[0]["top1"] == "0.1" and float(rows[0]["top1_per_param"] or 0) == 0
