"""The review page in a real browser: Debian's Chromium driven by Playwright, from file://, no server.

A TA changes a points field and a comment, gives a manual item points and clicks the button; the
downloaded overrides.csv is parsed with the csv module (the oracle) and read back by
read_overrides/apply_overrides. No console error and no CSP violation may occur, and the
<script> a student put in the notebook must not have run while ours did.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grading.notebook.model import Cell, Notebook, Output
from grading.notebook.overrides import apply_overrides, read_overrides
from grading.notebook.review import ReviewEntry, review_filename, write_review
from tests.notebook.review_cases import COMMENT, MANUAL, STUDENT, check_downloaded_overrides, question

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""

if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
    pytest.skip("chromium is not installed (required when CI=true)", allow_module_level=True)


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review")
    cells = (
        Cell(0, "markdown", "$\\partial L/\\partial w_{00} = 0.25$ <script>window.__pwned = 1</script>"),
        Cell(1, "markdown", '<img src=x onerror="window.__pwned = 2"> [x](javascript:window.__pwned=3)'),
        Cell(2, "code", "print(0.25)", (Output("html", text="<script>window.__pwned=4</script>", mime="text/html"),)),
    )
    result = {
        "status": "graded",
        "student": STUDENT,
        "notebook": "n.ipynb",
        "questions": [question("w00", 0, "correct", 2.0), question("w01", 2, "needs-review", 0.0)],
        "claims": [],
        "figures": [],
        "warnings": [],
        "errors": [],
    }
    entry = ReviewEntry(STUDENT, "<b>鄭呈毅</b>", result, Notebook("n.ipynb", cells))
    write_review(out, [entry], title="HW1", manual=MANUAL)
    return out / "review" / review_filename(STUDENT)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def test_fields_end_up_in_the_downloaded_overrides_csv(browser: Any, page_path: Path, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.add_init_script(WATCH)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(page_path.as_uri())

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert "decision" in page.text_content("#status")  # our own script ran
    page.fill('.item[data-question="w01"] input.pts', "1.5")
    page.fill('.item[data-question="w01"] input.cmt', COMMENT)
    page.fill('.item[data-question="decision boundary"] input.pts', "8")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "overrides.csv"
    saved = tmp_path / "overrides.csv"
    download.value.save_as(saved)
    raw = saved.read_bytes()
    violations = page.evaluate("window.__violations")
    context.close()

    assert violations == [] and problems == []
    check_downloaded_overrides(raw, tmp_path)


def test_a_page_rewritten_with_overrides_keeps_them_in_the_next_download(browser: Any, tmp_path: Path) -> None:
    result = {
        "status": "graded",
        "student": "s1",
        "questions": [question("w00", 0, "wrong", 0.0)],
        "claims": [],
        "figures": [],
        "warnings": [],
        "errors": [],
    }
    first = tmp_path / "first.csv"
    first.write_text("student,question,points,comment\ns1,w00,1,partly right\ns1,decision boundary,7,\n", "utf-8")
    applied = apply_overrides(result, read_overrides(first, {"s1"}, {"w00", "decision boundary"}), MANUAL)
    write_review(tmp_path, [ReviewEntry("s1", "S", applied, Notebook("n.ipynb", ()))], title="HW1", manual=MANUAL)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto((tmp_path / "review" / review_filename("s1")).as_uri())
    with page.expect_download() as download:
        page.click("#download")
    text = Path(download.value.path()).read_text("utf-8-sig")
    context.close()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1:] == [["s1", "w00", "1", "partly right"], ["s1", "decision boundary", "7", ""]]


def test_an_unreadable_notebook_holds_no_manual_item_back(browser: Any, tmp_path: Path) -> None:
    # the class's rule (grading.notebook.finalize.notebook_points): a notebook that could not be read
    # waits for nothing, so its page must not count its empty manual item as undecided; a readable one does
    unreadable = {"status": "invalid", "student": "s1", "questions": [], "errors": ["not a notebook"]}
    unreadable["undecided"] = ["decision boundary"]  # what apply_overrides records; the status decides
    readable = {"status": "graded", "student": "s2", "questions": [question("w00", 0, "correct", 2.0)]}
    readable["undecided"] = ["decision boundary"]
    entries = [ReviewEntry("s1", "S1", unreadable, None), ReviewEntry("s2", "S2", readable, Notebook("n.ipynb", ()))]
    write_review(tmp_path, entries, title="HW1", manual=MANUAL, maximum=12.0)  # the class's, as classrun passes it
    context = browser.new_context()
    page = context.new_page()
    status = {}
    for student in ("s1", "s2"):
        page.goto((tmp_path / "review" / review_filename(student)).as_uri())
        status[student] = page.text_content("#status")
    page.fill('.item[data-question="decision boundary"] input.pts', "3")  # s2, decided in the browser
    decided = page.text_content("#status")
    context.close()
    assert status == {
        "s1": "0 decisions to download; 0 manual items undecided",
        "s2": "0 decisions to download; 1 manual item undecided",
    }
    assert decided == "1 decision to download; 0 manual items undecided"
    index = (tmp_path / "review" / "index.html").read_text("utf-8")
    assert '<div class="big">1</div>manual items undecided' in index  # s2 only, as the summary counts
    # and it is out of what everyone is out of (w00's 2 points and the manual item's 10), not the manual item alone
    assert index.count(">0 / 12</td>") == 1 and ">2 / 12</td>" in index
    page_s1 = (tmp_path / "review" / review_filename("s1")).read_text("utf-8")
    assert "0 / 12" in page_s1 and "0 / 10" not in page_s1
