"""A class of notebooks: one row per student in every output, hostile names defused, the generated class graded."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import sys
import zipfile
from pathlib import Path

from grading.notebook.classrun import gather_notebooks, grade_notebook_class
from tests.notebook.conftest import HW1, md, notebook

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "examples" / "make_notebooks.py")
assert _spec is not None and _spec.loader is not None
make_notebooks = importlib.util.module_from_spec(_spec)
sys.modules["make_notebooks"] = make_notebooks
_spec.loader.exec_module(make_notebooks)  # at import, before the no-execution guard is on

HOSTILE = ["<script>alert(1)<script>", "=cmd|' -C calc'!A0", "鄭呈毅", "x" * 300, "+SUM(1)"]


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def test_one_row_per_student_hostile_names(tmp_path: Path) -> None:
    good = json.dumps(notebook(md("$dL/dw00 = 1$"))).encode()
    entries = {f"{name}_{k}_assignsubmission_file_/HW1.ipynb": good for k, name in enumerate(HOSTILE, start=100)}
    entries["nobody_200_assignsubmission_file_/report.pdf"] = b"%PDF-1.4"
    entries["=1+1/HW1.ipynb"] = good  # a folder named like a formula: the student id is "=1+1"
    entries["twice_300_assignsubmission_file_/a.ipynb"] = good
    entries["twice_300_assignsubmission_file_/b.ipynb"] = b"{"
    result = grade_notebook_class(_zip(tmp_path / "s.zip", entries), HW1, tmp_path / "out")
    ids = [s["student"] for s in result.students]
    assert ids == sorted({"100", "101", "102", "103", "104", "200", "300", "=1+1"})
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert [s["student"] for s in doc["students"]] == ids
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8-sig"))))
    assert [r["student"] for r in rows] == [("'" + i if i.startswith("=") else i) for i in ids]
    names = {r["student"]: r["name"] for r in rows}
    assert names["101"].startswith("'=") and names["104"].startswith("'+") and names["102"] == "鄭呈毅"
    by = {s["student"]: s["notebook"] for s in result.students}
    assert by["200"]["status"] == "invalid" and "no notebook" in by["200"]["errors"][0]
    assert any("newest" in w for w in by["300"]["warnings"]) or by["300"]["status"] == "invalid"


def test_gather_newest_wins(tmp_path: Path) -> None:
    old, new = tmp_path / "old.ipynb", tmp_path / "new.ipynb"
    old.write_text("{}")
    new.write_text("{}")
    import os

    os.utime(old, (1_000_000, 1_000_000))
    picks = gather_notebooks([("s1/old.ipynb", old, ""), ("s1/new.ipynb", new, ""), ("s1/x.csv", None, "")])
    assert len(picks) == 1 and picks[0].path == new and "newest" in picks[0].notes[0]


def test_generated_class_verdicts(tmp_path: Path) -> None:
    zip_path = make_notebooks.write_class(tmp_path)
    result = grade_notebook_class(zip_path, HW1, tmp_path / "out")
    by = {s["student"]: {q["question"]: q for q in s["notebook"]["questions"]} for s in result.students}
    status = {s["student"]: s["notebook"]["status"] for s in result.students}
    assert by["10001"]["w00"]["verdict"] == "correct" and by["10001"]["a21"]["verdict"] == "correct"
    assert (by["10002"]["a21"]["verdict"], by["10002"]["a21"]["misconception"]) == ("wrong", "one-term")
    assert by["10003"]["w00"]["verdict"] == "needs-review" and "g00" in by["10003"]["w00"]["why"]
    assert by["10003"]["a21"]["verdict"] == "needs-review"  # a printed number, no variants
    assert status["10005"] == "graded" and status["10006"] == "invalid"
    claims = {s["student"]: s["notebook"]["claims"] for s in result.students}
    assert {"what": "params", "value": 2938, "cell": 3} in claims["10004"]
    figures = {s["student"]: s["notebook"]["figures"] for s in result.students}
    assert len(figures["10001"]) == 1 and (tmp_path / "out" / figures["10001"][0]["file"]).is_file()


def test_class_run_writes_review_pages(tmp_path: Path) -> None:
    zip_path = make_notebooks.write_class(tmp_path)
    result = grade_notebook_class(zip_path, HW1, tmp_path / "out")
    index = tmp_path / "out" / "review" / "index.html"
    assert result.files["review"] == index and index.is_file()
    page = index.read_text(encoding="utf-8")
    assert "<script>alert('pwned')" not in page
    # every student is out of what the notebook part is out of, the unreadable one (a PDF) too
    outs = re.findall(r'<td class="num">[0-9.]+ / ([0-9.]+)</td>', page)
    assert len(outs) == len(result.students) and set(outs) == {"10"}, outs


def test_csv_and_notebook_in_one_run(tmp_path: Path) -> None:
    """[key] and [notebook]: one row per student; the printed count stands in for params; a far accuracy flagged."""
    from grading.batch import grade_class

    truth = [i % 10 for i in range(20)]
    (tmp_path / "key.csv").write_text("image,class\n" + "".join(f"{i},{t}\n" for i, t in enumerate(truth)))
    (tmp_path / "hw1.toml").write_text(HW1.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "assignment.toml").write_text(
        '[key]\npath = "key.csv"\n[submission]\nfilename = "pred.csv"\n'
        '[notebook]\nproblems = "hw1.toml"\npoints = 20\n[[notebook.manual]]\nname = "figure"\npoints = 5\n',
        encoding="utf-8",
    )
    subs = tmp_path / "subs"
    for sid, printed in (("s1", "Total params: 1,000\ntop-1 acc 50%\n"), ("s2", "")):
        (subs / sid).mkdir(parents=True)
        (subs / sid / "pred.csv").write_text("image,class\n" + "".join(f"{i},{t}\n" for i, t in enumerate(truth)))
        cells = [md(r"$dL/dw00 = (p-y) v_0 h_{00}(1-h_{00}) a_{00}$")]
        if printed:
            cells.append(
                {
                    "cell_type": "code",
                    "source": "summary(m)",
                    "metadata": {},
                    "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}],
                }
            )
        (subs / sid / "HW1.ipynb").write_text(json.dumps(notebook(*cells)), encoding="utf-8")
    (subs / "s3").mkdir()
    (subs / "s3" / "pred.csv").write_text("image,class\n0,0\n")
    result = grade_class(subs, tmp_path / "assignment.toml", tmp_path / "out", feedback=False)
    rows = {r["student"]: r for r in result.students}
    assert sorted(rows) == ["s1", "s2", "s3"]
    assert rows["s1"]["report"]["params"] == 1000
    assert any("from the notebook" in n for n in rows["s1"]["notes"])
    assert any("top-1 50%" in n for n in rows["s1"]["notes"])
    assert rows["s2"]["report"]["params"] is None
    assert rows["s3"]["notebook"]["status"] == "invalid"
    q = rows["s1"]["notebook"]["questions"][0]
    assert q["max_points"] == 10 and q["verdict"] == "wrong"
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert [s["student"] for s in doc["students"]] == ["s1", "s2", "s3"] and "notebook" in doc["students"][0]
    book = list(csv.DictReader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["student"], r["notebook: w00 verdict"]) for r in book] == [("s1", "wrong"), ("s2", "wrong"), ("s3", "")]
    assert not (tmp_path / "out" / "notebook-gradebook.csv").exists()  # one gradebook, not two


def test_notebook_only_assignment_from_the_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from grading.cli import app

    zip_path = make_notebooks.write_class(tmp_path)
    r = CliRunner().invoke(
        app,
        [str(zip_path), "--key", str(ROOT / "examples" / "notebooks-assignment.toml"), "--out", str(tmp_path / "o")],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    assert len(doc["students"]) == 6
    q = doc["students"][0]["notebook"]["questions"][0]
    assert q["max_points"] == 5  # [notebook] points = 10 over two questions


def test_lms_withheld_until_manual_items_decided(tmp_path: Path) -> None:
    """A manual item undecided: Moodle's worksheet leaves the grade empty; --allow-partial writes it and says so."""
    zip_path = make_notebooks.write_class(tmp_path)
    manual = ({"name": "decision boundary", "points": 10.0},)
    result = grade_notebook_class(zip_path, HW1, tmp_path / "o", manual=manual)
    sheet = (tmp_path / "o" / "moodle-grading-worksheet.csv").read_text(encoding="utf-8-sig")
    rows = {r["Full name"]: r for r in csv.DictReader(io.StringIO(sheet))}
    assert rows["陳怡君"]["Grade"] == "" and "withheld" in rows["陳怡君"]["Feedback comments"]
    assert "10001" in result.withheld
    grade_notebook_class(zip_path, HW1, tmp_path / "o", manual=manual, allow_partial=True)
    sheet = (tmp_path / "o" / "moodle-grading-worksheet.csv").read_text(encoding="utf-8-sig")
    rows = {r["Full name"]: r for r in csv.DictReader(io.StringIO(sheet))}
    assert float(rows["陳怡君"]["Grade"]) == 10 and "Partial grade" in rows["陳怡君"]["Feedback comments"]
    assert float(rows["Eve Renamed"]["Grade"]) == 0  # the PDF renamed .ipynb
    grade_notebook_class(zip_path, HW1, tmp_path / "o")  # no manual item: every grade written
    sheet = (tmp_path / "o" / "moodle-grading-worksheet.csv").read_text(encoding="utf-8-sig")
    assert all(r["Grade"] for r in csv.DictReader(io.StringIO(sheet)))


def test_class_run_applies_overrides(tmp_path: Path) -> None:
    zip_path = make_notebooks.write_class(tmp_path)
    manual = ({"name": "decision boundary", "points": 10.0},)
    overrides = tmp_path / "overrides.csv"
    rows = ["10003,w00,5,uses g for the sigmoid's derivative"] + [
        f"{s},decision boundary,8," for s in ("10001", "10002", "10003", "10004", "10005", "10006")
    ]
    overrides.write_text("student,question,points,comment\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = grade_notebook_class(zip_path, HW1, tmp_path / "o", manual=manual, overrides=overrides)
    by = {s["student"]: s["notebook"] for s in result.students}
    assert by["10003"]["decided"] and by["10003"]["final_points"] == 5 + 8
    q = next(q for q in by["10003"]["questions"] if q["question"] == "w00")
    assert (q["auto_points"], q["final_points"], q["set_by_ta"]) == (0, 5, True)
    assert result.withheld == []
    sheet = (tmp_path / "o" / "moodle-grading-worksheet.csv").read_text(encoding="utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(sheet)) if r["Full name"] == "林志明")
    assert float(row["Grade"]) == 13 and "uses g" in row["Feedback comments"]
    gradebook = (tmp_path / "o" / "gradebook.csv").read_text(encoding="utf-8-sig")
    assert "set by TA" in gradebook
