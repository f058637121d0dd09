"""What the tolerant CSV reader reads around in an answer key reaches the TA (a stray quote, Big5);
a stray quote that leaves a row's cells uncertain refuses the key. Built from the key files that
were read silently before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grading.batch import grade_class, render_class_summary
from grading.errors import UsageError
from grading.key import load_key

N = 10
TRUTH = [(3 * i) % 10 for i in range(N)]
HAND = {f"{i:07d}.png": t for i, t in enumerate(TRUTH)}  # the key as a TA means it, written out here


def key_text(*, stray_on: int | None = None) -> str:
    """``image,class`` rows; ``stray_on`` puts a stray quote before that row's class (``0000003.png,"9``)."""
    lines = ["image,class"]
    for i, (image, label) in enumerate(HAND.items()):
        quote = '"' if i == stray_on else ""
        lines.append(f"{image},{quote}{label}")
    return "\n".join(lines) + "\n"


def predictions(n_right: int) -> str:
    rows = [f"{image},{t if i < n_right else (t + 1) % 10}" for i, (image, t) in enumerate(HAND.items())]
    return "image,class\n" + "\n".join(rows) + "\n"


def test_a_stray_quote_in_the_key_is_read_around_and_said(tmp_path: Path) -> None:
    path = tmp_path / "key.csv"
    path.write_text(key_text(stray_on=3), encoding="utf-8")
    key = load_key(path)
    assert dict(zip(key.ids, key.labels)) == HAND  # every row as the TA meant it
    (issue,) = key.warnings
    assert (issue.code, issue.line) == ("unbalanced_quote", 5)  # line 5: 0000003.png,"9
    assert issue.message.startswith('key.csv, line 5: a quote (") opens a cell and is not closed')


def test_a_clean_key_has_no_warnings(tmp_path: Path) -> None:
    path = tmp_path / "key.csv"
    path.write_text(key_text(), encoding="utf-8")
    assert load_key(path).warnings == []


SPLIT = """image,class
0000000.png,"cat, tabby"
0000001.png,dog
0000002.png,"bird
0000003.png,"cat, tabby"
"""  # line 4's stray quote: read with quotes ignored, "cat, tabby" becomes the class 'cat' and a cell ' tabby'


def test_a_stray_quote_that_splits_a_quoted_cell_refuses_the_key(tmp_path: Path) -> None:
    path = tmp_path / "key.csv"
    path.write_text(SPLIT, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_key(path)
    message = str(info.value)
    assert message.startswith("key.csv, line 2: expected 2 cells as in the header, got 3: the stray quote")
    assert "on line 4 made the key be read with quotes ignored" in message and "Remove the stray quote" in message
    assert "\n" not in message
    path.write_text(SPLIT.replace('"bird', "bird"), encoding="utf-8")  # fixed as the message says
    key = load_key(path)
    assert key.labels == ["cat, tabby", "dog", "bird", "cat, tabby"] and key.warnings == []


def test_a_big5_key_says_which_encoding_was_used(tmp_path: Path) -> None:
    path = tmp_path / "key.csv"
    path.write_bytes(("影像,類別\n" + key_text().split("\n", 1)[1]).encode("cp950"))
    key = load_key(path, id_column="影像", label_column="類別")
    assert dict(zip(key.ids, key.labels)) == HAND
    assert [w.message for w in key.warnings] == [
        "key.csv is not UTF-8; it was read as Big5 (cp950, Excel on Traditional Chinese Windows)."
    ]


def grade(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grading", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_one_file_says_it_on_stderr_and_a_bad_key_exits_2(tmp_path: Path) -> None:
    (tmp_path / "key.csv").write_text(key_text(stray_on=3), encoding="utf-8")
    (tmp_path / "p.csv").write_text(predictions(7), encoding="utf-8")
    run = grade("p.csv", "--key", "key.csv", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["n_correct"] == 7 and all("key.csv" not in w["message"] for w in report["warnings"])
    assert run.stderr.startswith('grade: warning: the answer key key.csv, line 5: a quote (") opens a cell')
    (tmp_path / "key.csv").write_text(SPLIT, encoding="utf-8")
    bad = grade("p.csv", "--key", "key.csv", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("grade: error: key.csv, line 2: expected 2 cells as in the header, got 3")


def test_a_class_run_says_it_in_the_summary_and_results_json_not_to_students(tmp_path: Path) -> None:
    key = tmp_path / "key.csv"
    key.write_text(key_text(stray_on=3), encoding="utf-8")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "b1.csv").write_text(predictions(9), encoding="utf-8")
    (subs / "b2.csv").write_text(predictions(4), encoding="utf-8")
    out = tmp_path / "out"
    result = grade_class(subs, key, out)
    assert [s["report"]["n_correct"] for s in result.students] == [9, 4]
    (line,) = result.key_warnings
    assert line.startswith('the answer key key.csv, line 5: a quote (") opens a cell and is not closed')
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["key_warnings"] == [line]
    from rich.console import Console

    console = Console(width=400, record=True, file=open(tmp_path / "summary.txt", "w"))  # noqa: SIM115
    console.print(render_class_summary(result))
    assert f"! {line}" in console.export_text()
    for page in (out / "feedback").glob("*.html"):
        assert "stray" not in page.read_text(encoding="utf-8") and "key.csv" not in page.read_text(encoding="utf-8")
