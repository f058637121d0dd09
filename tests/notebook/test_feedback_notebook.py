"""A student's feedback page in a CSV + notebook class shows both parts and the combined total.

The class is test_csv_and_notebook's (points worked by hand there and below), with the TA's
decisions, one of them a hostile comment. The pages are read back with the standard library's HTML
parser (the tables as a browser sees them) and as Markdown text; the numbers are compared with
hand-computed ones, then with gradebook.csv and the LMS comment, which must agree.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from grading.batch import grade_class
from grading.feedback import md_escape
from tests.grading.test_class_extremes import csv_rows, moodle_template
from tests.notebook.test_csv_and_notebook import HOSTILE, STUDENTS, assignment, lms_rows, moodle_zip, overrides

EVIL = "<script>alert(1)</script> =cmd|' -C calc'!A0 $x^$ 鄭呈毅"


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, and every text outside a tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _page(path: Path) -> _Tables:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _table(page: _Tables, first: str) -> dict[str, list[str]]:
    """The table whose first row starts with ``first``: each row's first cell -> the other cells."""
    table = next(t for t in page.tables if t and t[0] and t[0][0] == first)
    return {row[0]: row[1:] for row in table}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fb")
    decisions = overrides(
        folder,
        [
            f'52110,a21,3,"{EVIL}"',
            "52110,decision boundary,8,regions right; the ring is coarse",
            "52113,w00,6,graded from the PDF by hand",
            f'52114,w00,,"{EVIL}"',
        ],
    )
    out = folder / "out"
    grade_class(
        moodle_zip(folder), assignment(folder), out, overrides=decisions, lms_template=moodle_template(folder, STUDENTS)
    )
    return out


# Worked by hand (see test_csv_and_notebook): the CSV part is 100 x top-1; w00, a21 10 points each,
# the decision boundary 10: 130 in all.
WANT: dict[str, dict[str, dict[str, Any]]] = {
    # 52110: CSV 75; w00 right 10, a21 one-term 0 -> TA 3, decision boundary TA 8
    "52110": {
        "rows": {
            "w00": ["correct", "10 / 10", ""],
            "a21": ["wrong (one-term)", "3 / 10 (set by TA)", EVIL],
            "decision boundary": ["marked by the TA", "8 / 10 (set by TA)", "regions right; the ring is coarse"],
        },
        "total": {"Predictions": "75 of 100", "Notebook": "21 of 30", "Total": "96 of 130"},
    },
    # 52112: no CSV; w00 right 10, a21 not found, the decision boundary still open
    "52112": {
        "rows": {
            "w00": ["correct", "10 / 10", ""],
            "a21": ["not found", "0 / 10", ""],
            "decision boundary": ["marked by the TA", "not yet decided / 10", ""],
        },
        "total": {"Predictions": "0 of 100", "Notebook": "10 of 30", "Total so far": "10 of 130"},
    },
    # 52113: a PDF; the TA graded w00 from it (6); nothing else waits
    "52113": {
        "rows": {"w00": ["not found", "6 / 10 (set by TA)", "graded from the PDF by hand"]},
        "total": {"Predictions": "0 of 100", "Notebook": "6 of 30", "Total": "6 of 130"},
    },
    # 52114: CSV 100 (all right); the notebook answers nothing; a hostile comment on w00
    "52114": {
        "rows": {
            "w00": ["not found", "0 / 10", EVIL],
            "a21": ["not found", "0 / 10", ""],
            "decision boundary": ["marked by the TA", "not yet decided / 10", ""],
        },
        "total": {"Predictions": "100 of 100", "Notebook": "0 of 30", "Total so far": "100 of 130"},
    },
}


@pytest.mark.parametrize("sid", sorted(WANT))
def test_the_html_page_shows_both_parts_and_the_total(graded: Path, sid: str) -> None:
    page = _page(graded / "feedback" / f"{sid}.html")
    want = WANT[sid]
    questions = _table(page, "Question")
    assert questions.pop("Question") == ["Verdict", "Points", "TA's comment"]
    assert questions == want["rows"]  # the hostile comment is shown as the very text the TA typed
    assert {k: v[0] for k, v in _table(page, "Predictions").items()} == want["total"]
    html = (graded / "feedback" / f"{sid}.html").read_text(encoding="utf-8")
    assert "<script" not in html
    if EVIL in str(want["rows"]):
        assert "&lt;script&gt;alert(1)&lt;/script&gt; =cmd|&#39; -C calc&#39;!A0 $x^$ 鄭呈毅" in html
    if "Total so far" in want["total"]:
        assert "Not yet decided by the TA: decision boundary." in "".join(page.text)


def test_the_markdown_page_says_the_same_escaped(graded: Path) -> None:
    md = (graded / "feedback" / "52110.md").read_text(encoding="utf-8")
    assert "| a21 | wrong (one-term) | 3 / 10 (set by TA) | " + md_escape(EVIL) + " |" in md
    assert "\\<script\\>alert(1)\\</script\\>" in md and "\\$x^\\$" in md and "鄭呈毅" in md
    assert "<script>" not in md
    assert "| decision boundary | marked by the TA | 8 / 10 (set by TA) | regions right; the ring is coarse |" in md
    assert "| Total | 96 of 130 |" in md
    open_item = (graded / "feedback" / "52112.md").read_text(encoding="utf-8")
    assert "| decision boundary | marked by the TA | not yet decided / 10 |  |" in open_item
    assert "| Total so far | 10 of 130 |" in open_item


def test_the_pages_agree_with_the_gradebook_and_the_lms_comment(graded: Path) -> None:
    book = {r["student"]: r for r in csv_rows(graded / "gradebook.csv")}
    lms = lms_rows(graded)
    for sid, want in WANT.items():
        total = next(v for k, v in want["total"].items() if k.startswith("Total"))
        final, most = total.split(" of ")
        assert (book[sid]["total"], book[sid]["max_total"]) == (final, most), sid
        assert book[sid]["notebook_points"] == want["total"]["Notebook"].split(" of ")[0], sid
        for question, (_, points, _) in want["rows"].items():
            cell = book[sid][f"notebook: {question} points"]
            shown = points.split(" / ")[0] + (" (set by TA)" if "set by TA" in points else "")
            assert cell == ("" if shown == "not yet decided" else shown), (sid, question)
        if "Total so far" not in want["total"]:  # a decided grade: the LMS carries it and says the same total
            assert float(lms[sid][4]) == float(final) and f"Total {final} of {most} points." in lms[sid][9], sid


def test_no_answer_key_material_reaches_a_student(graded: Path) -> None:
    import json

    rows = {s["student"]: s for s in json.loads((graded / "results.json").read_text(encoding="utf-8"))["students"]}
    for sid in STUDENTS:
        for ext in ("html", "md"):
            text = (graded / "feedback" / f"{sid}.{ext}").read_text(encoding="utf-8")
            assert "\\frac" not in text and "\\partial" not in text, (sid, ext)
            for q in rows[sid]["notebook"]["questions"]:
                for secret in (q["expected"], q["why"]):
                    assert not secret or str(secret) not in text, (sid, ext, secret)


def test_a_hostile_student_name_is_escaped_on_their_page(graded: Path) -> None:
    html = (graded / "feedback" / "52114.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "&lt;script&gt;" in html
    md = (graded / "feedback" / "52114.md").read_text(encoding="utf-8")
    assert "<script>" not in md


def test_md_escape_defuses_dollar_maths() -> None:
    assert md_escape("$x^$ costs $5") == "\\$x^\\$ costs \\$5"
