"""The table of messy submissions: each input, its verdict, and the message it must produce.

The key has 21 images, ``0000000.png`` … ``0000019.png`` with class ``i % 10`` and
``0109539.png`` with class 8 (the handout's example, whose leading zero Excel strips).
"""

from __future__ import annotations

import re

import pytest

from grading import AnswerKey, grade_bytes

IDS = [f"{i:07d}.png" for i in range(20)] + ["0109539.png"]
LABELS = [i % 10 for i in range(20)] + [8]
KEY = AnswerKey.from_lists(IDS, LABELS, classes=range(10), name="key.csv")


def rows(
    fmt: str = "{id},{label}", *, ids=IDS, labels=LABELS, header: str | None = "image,class", end: str = "\n"
) -> str:
    lines = [header] if header is not None else []
    lines += [fmt.format(id=i, label=c, n=n, bare=i.removesuffix(".png")) for n, (i, c) in enumerate(zip(ids, labels))]
    return end.join(lines) + end


GOOD = rows()
SWAPPED = [*LABELS[:2], 5 if LABELS[2] != 5 else 6, *LABELS[3:]]  # row 3 (line 4) wrong

# (id, bytes, status, warning/error codes, message regex, n_correct)
CASES = [
    (
        "utf8",
        GOOD.encode(),
        "ok",
        {"top_k_unavailable"},
        r"top-3 accuracy is unavailable.*class_2 and class_3.*p0 … p9",
        21,
    ),
    ("utf8-bom", b"\xef\xbb\xbf" + GOOD.encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("utf16-bom", GOOD.encode("utf-16"), "ok", {"top_k_unavailable"}, None, 21),
    ("crlf", rows(end="\r\n").encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("cr", rows(end="\r").encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("semicolon", rows("{id};{label}", header="image;class").encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("tab", rows("{id}\t{label}", header="image\tclass").encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("quoted", rows('"{id}","{label}"', header='"image","class"').encode(), "ok", {"top_k_unavailable"}, None, 21),
    (
        "quoted-with-spaces",
        rows(' "{id}" , "{label}" ', header=' "Image" , "Class" ').encode(),
        "ok",
        {"top_k_unavailable"},
        None,
        21,
    ),
    (
        "header-case-spaces",
        rows(" {id} , {label} ", header=" Image , CLASS ").encode(),
        "ok",
        {"top_k_unavailable"},
        None,
        21,
    ),
    ("no-header", rows(header=None).encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("columns-swapped", rows("{label},{id}", header="class,image").encode(), "ok", {"top_k_unavailable"}, None, 21),
    (
        "extra-columns",
        rows("{n},{id},0.93,ok,{label}", header="student,image,confidence,notes,class").encode(),
        "ok",
        {"top_k_unavailable"},
        None,
        21,
    ),
    ("pandas-index", rows("{n},{id},{label}", header=",image,class").encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("pandas-index-no-header", rows("{n},{id},{label}", header=None).encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("labels-as-floats", rows("{id},{label}.0").encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("decimal-comma", rows("{id};{label},0", header="image;class").encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("trailing-blank-lines", (GOOD + "\n\n  \n,\n").encode(), "ok", {"top_k_unavailable"}, None, 21),
    (
        "excel-stripped-zeros",
        rows("{bare},{label}").replace("0000000", "0").replace("0109539", "109539").encode(),
        "ok",
        {"top_k_unavailable"},
        None,
        21,
    ),
    ("no-extension-upper", rows("{bare}.PNG,{label}").encode(), "ok", {"top_k_unavailable"}, None, 21),
    ("folder-prefix", rows("test/{id},{label}").encode(), "ok", {"top_k_unavailable"}, None, 21),
    (
        "rows-in-any-order",
        ("image,class\n" + "".join(reversed(GOOD.splitlines(True)[1:]))).encode(),
        "ok",
        {"top_k_unavailable"},
        None,
        21,
    ),
    (
        "missing-row",
        rows(ids=IDS[:5] + IDS[6:], labels=LABELS[:5] + LABELS[6:]).encode(),
        "ok",
        {"missing_rows", "top_k_unavailable"},
        r"^sub\.csv: 1 of the 21 ids of the answer key has no row \('0000005\.png'\); it counts as wrong\.$",
        20,
    ),
    (
        "unknown-id",
        (GOOD + "9999999.png,3\n").encode(),
        "ok",
        {"unknown_ids", "top_k_unavailable"},
        r"^sub\.csv: 1 row has an id that is not in the answer key \(line 23: '9999999\.png'\); it is ignored\.$",
        21,
    ),
    (
        "identical-duplicate",
        (GOOD + "0000003.png,3.0\n").encode(),
        "ok",
        {"duplicate_rows", "top_k_unavailable"},
        r"^sub\.csv: 1 row repeats an earlier row for the same image \(line 23: '0000003\.png' repeats line 5\); it is ignored\.$",
        21,
    ),
    (
        "label-not-a-number",
        rows().replace("0000001.png,1", "0000001.png,eight").encode(),
        "ok",
        {"invalid_label", "top_k_unavailable"},
        r"^sub\.csv, line 3: class 'eight' is not a number from 0 to 9; the row counts as wrong\.$",
        20,
    ),
    (
        "label-out-of-range",
        rows().replace("0000001.png,1", "0000001.png,12").encode(),
        "ok",
        {"invalid_label", "top_k_unavailable"},
        r"^sub\.csv, line 3: class '12' is not a number from 0 to 9; the row counts as wrong\.$",
        20,
    ),
    (
        "label-empty-and-fraction",
        rows().replace("0000001.png,1", "0000001.png,").replace("0000002.png,2", "0000002.png,2.5").encode(),
        "ok",
        {"invalid_label", "top_k_unavailable"},
        r"^sub\.csv: 2 rows have a class that is not a number from 0 to 9 \(line 3: '', line 4: '2\.5'\); they count as wrong\.$",
        19,
    ),
    ("wrong-prediction", rows(labels=SWAPPED).encode(), "ok", {"top_k_unavailable"}, None, 20),
    (
        "ragged-rows-same-cell-count",
        rows().replace("0000001.png,1", "0000001.png,1,x").replace("0000002.png,2", "0000002.png").encode(),
        "ok",
        {"invalid_label", "top_k_unavailable"},
        r"^sub\.csv, line 4: class '' is not a number from 0 to 9; the row counts as wrong\.$",
        20,
    ),
    (
        "semicolon-row-of-separators",
        (GOOD.replace(",", ";").replace("0000004.png;4\n", "0000004.png;4\n;\n")).encode(),
        "ok",
        {"top_k_unavailable"},
        None,
        21,
    ),
    ("empty", b"", "invalid", {"empty"}, r"^sub\.csv is empty", 0),
    ("only-blank-lines", b"\r\n\r\n  \n", "invalid", {"empty"}, r"^sub\.csv is empty", 0),
    (
        "header-only",
        b"image,class\r\n",
        "invalid",
        {"header_only"},
        r"^sub\.csv has a header \('image', 'class'\) but no rows\.$",
        0,
    ),
    (
        "html-page",
        b"<html><body>Not found</body></html>\n",
        "invalid",
        {"no_rows"},
        r"^sub\.csv has a single line .* and no rows of predictions; expected a CSV such as 'image,class'",
        0,
    ),
    ("binary", bytes(range(256)) * 4, "invalid", {"not_text"}, r"^sub\.csv is not a CSV text file", 0),
    (
        "xlsx",
        b"PK\x03\x04" + bytes(100),
        "invalid",
        {"not_text"},
        r"Excel workbook \(\.xlsx\); save the sheet as CSV",
        0,
    ),
    (
        "no-id-column",
        b"foo,bar\nabc,1\ndef,2\n",
        "invalid",
        {"no_id_column"},
        r"^sub\.csv: no column of image ids was found \(the header is 'foo', 'bar'",
        0,
    ),
    (
        "no-label-column",
        rows("{id}", header="image").encode(),
        "invalid",
        {"no_label_column"},
        r"^sub\.csv: no column of predicted classes was found",
        0,
    ),
    (
        "conflicting-duplicate",
        (GOOD + "0000003.png,4\n").encode(),
        "invalid",
        {"conflicting_rows"},
        r"^sub\.csv: 1 image has two rows with different classes \(line 23: '0000003\.png' has '4' but line 5 has '3'\); keep one row per image",
        0,
    ),
    ("ranked-columns", rows("{id},9,{label},1", header="image,class,class_2,class_3").encode(), "ok", set(), None, 2),
    (
        "score-columns",
        (
            "image,"
            + ",".join(f"p{c}" for c in range(10))
            + "\n"
            + "".join(
                f"{i}," + ",".join("0.9" if c == lab else "0.01" for c in range(10)) + "\n"
                for i, lab in zip(IDS, LABELS)
            )
        ).encode(),
        "ok",
        set(),
        None,
        21,
    ),
]


@pytest.mark.parametrize(
    ("data", "status", "codes", "message", "n_correct"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_messy_submission_verdict(data, status, codes, message, n_correct):
    report = grade_bytes(data, KEY, name="sub.csv")
    issues = report.errors + report.warnings
    assert report.status == status, [i.message for i in issues]
    assert {i.code for i in issues} == codes, [i.message for i in issues]
    assert report.n_correct == n_correct
    if message is not None:
        assert any(re.search(message, i.message) for i in issues), [i.message for i in issues]


def test_all_problems_of_a_file_in_one_pass():
    text = GOOD.replace("0000001.png,1", "0000001.png,eight") + "9999999.png,3\n0000003.png,4\n0000003.png,3\n"
    report = grade_bytes(text.encode(), KEY, name="sub.csv")
    assert report.status == "invalid"
    assert {i.code for i in report.errors} >= {"conflicting_rows"}
    assert {"invalid_label", "unknown_ids", "duplicate_rows"} <= {i.code for i in report.errors + report.warnings}


def test_many_bad_rows_are_one_warning_with_a_count_and_a_few_lines():
    text = "image,class\n" + "".join(f"{i},x{n}\n" for n, i in enumerate(IDS))
    report = grade_bytes(text.encode(), KEY, name="sub.csv")
    (bad,) = [w for w in report.warnings if w.code == "invalid_label"]
    assert bad.message.startswith(
        "sub.csv: 21 rows have a class that is not a number from 0 to 9 (line 2: 'x0', line 3: 'x1', line 4: 'x2', and 18 more)"
    )
    assert bad.line == 2
    assert report.top1 == 0.0


def test_ranked_columns_give_top3_and_class_column_gives_top1():
    text = rows("{id},9,{label},1", header="image,class,class_2,class_3")
    report = grade_bytes(text.encode(), KEY, name="sub.csv")
    assert report.top1 == pytest.approx(2 / 21)  # the two rows whose class is 9
    assert report.top3 == 1.0
    assert report.topk_source == "ranked"


def test_two_ranked_columns_are_not_enough_for_top3():
    text = rows("{id},{label},1", header="image,class,class_2")
    report = grade_bytes(text.encode(), KEY, name="sub.csv")
    assert report.top3 is None
    (w,) = report.warnings
    assert "only 2 ranked columns" in w.message and "class_3" in w.message


def test_scores_without_class_column_predict_the_best_score():
    text = "image," + ",".join(f"prob_{c}" for c in range(10)) + "\n"
    text += "".join(
        f"{i}," + ",".join("0.5" if c in (lab, (lab + 1) % 10) else "0" for c in range(10)) + "\n"
        for i, lab in zip(IDS, LABELS)
    )
    report = grade_bytes(text.encode(), KEY, name="sub.csv")
    # a tie between lab and lab+1 goes to the later class (sklearn), so top-1 hits only where lab == 9
    assert report.n_correct == sum(1 for lab in LABELS if lab == 9)
    assert report.top3 == 1.0
