"""The review page in a real Firefox: Debian's firefox-esr, headless, from file://, no server.

The same checks as test_review_browser.py makes in Chromium, driven over WebDriver BiDi by
tests/notebook/firefox_bidi.py (Playwright cannot drive a stock Firefox ESR, see there): a TA types
into a points field and a comment field, gives a manual item points and clicks the button; the file
Firefox saves into its download folder is parsed with the csv module (the oracle) and read back by
read_overrides/apply_overrides. No console error and no CSP violation may occur, the <script> a
student put in the notebook must not have run while ours did, and the maths must be MathML. The
figure (a data: URI) must load and the code must carry Pygments' colours (the hashed <style>), which
is what Firefox and Chromium could treat differently under the page's Content-Security-Policy.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import PIL.Image
import pytest
from pygments.styles import get_style_by_name
from pygments.token import Keyword

from grading.notebook.model import Cell, Notebook, Output
from grading.notebook.overrides import apply_overrides, read_overrides
from grading.notebook.review import ReviewEntry, review_filename, write_review
from tests.notebook.review_cases import COMMENT, MANUAL, STUDENT, check_downloaded_overrides, question

FIREFOX = Path("/usr/bin/firefox-esr")
if not FIREFOX.exists() and os.environ.get("CI") != "true":
    pytest.skip("firefox-esr is not installed (required when CI=true)", allow_module_level=True)

from tests.notebook.firefox_bidi import Firefox, firefox  # noqa: E402  (needs websockets, a test dependency)

WATCH = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
}"""
EVENTS = ["log.entryAdded", "browsingContext.downloadEnd"]


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review")
    cells = (
        Cell(0, "markdown", "$\\partial L/\\partial w_{00} = 0.25$ <script>window.__pwned = 1</script>"),
        Cell(1, "markdown", '<img src=x onerror="window.__pwned = 2"> [x](javascript:window.__pwned=3)'),
        Cell(
            2,
            "code",
            "for i in range(1):\n    print(0.25)",
            (Output("html", text="<script>window.__pwned=4</script>", mime="text/html"),),
        ),
    )
    (out / "figures").mkdir()
    PIL.Image.new("RGB", (40, 30), (200, 30, 30)).save(out / "figures" / "f.png")
    result = {
        "status": "graded",
        "student": STUDENT,
        "notebook": "n.ipynb",
        "questions": [question("w00", 0, "correct", 2.0), question("w01", 2, "needs-review", 0.0)],
        "claims": [],
        "figures": [{"cell": 2, "file": "figures/f.png"}],
        "warnings": [],
        "errors": [],
    }
    entry = ReviewEntry(STUDENT, "<b>鄭呈毅</b>", result, Notebook("n.ipynb", cells))
    write_review(out, [entry], title="HW1", manual=MANUAL)
    return out / "review" / review_filename(STUDENT)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Firefox]:
    """One Firefox for the module (started before the no-execution guard, which forbids processes)."""
    root = tmp_path_factory.mktemp("firefox")
    with firefox(root / "profile", root / "downloads", str(FIREFOX)) as ff:
        ff.send("session.subscribe", events=EVENTS)
        ff.send("script.addPreloadScript", functionDeclaration=WATCH)
        yield ff


def _download(ff: Firefox, context: str) -> bytes:
    """Click the page's button and return the bytes of the file Firefox saved (then removed)."""
    seen = len(ff.events)
    ff.click(context, "#download")
    done = ff.wait_event("browsingContext.downloadEnd", seen)
    assert done["status"] == "complete", done
    saved = Path(done["filepath"])
    assert saved.name == "overrides.csv"
    raw = saved.read_bytes()
    saved.unlink()  # the next download is overrides.csv again, not overrides(1).csv
    return raw


def _problems(ff: Firefox, seen: int) -> list[str]:
    """Console errors and warnings (Firefox reports a blocked script or style there too) since ``seen``."""
    logs = [e["params"] for e in ff.events[seen:] if e["method"] == "log.entryAdded"]
    return [str(e.get("text")) for e in logs if e.get("level") in ("error", "warn")]


def test_fields_end_up_in_the_downloaded_overrides_csv(browser: Firefox, page_path: Path, tmp_path: Path) -> None:
    seen = len(browser.events)
    page = browser.open(page_path.as_uri())

    assert browser.evaluate(page, "typeof window.__pwned") == "undefined"
    assert "decision" in browser.evaluate(page, "document.getElementById('status').textContent")  # our script ran
    assert browser.evaluate(page, "document.querySelector('math mi') instanceof MathMLElement")  # maths as MathML
    assert browser.evaluate(page, "document.querySelector('math').getBoundingClientRect().height") > 0
    browser.type_into(page, '.item[data-question="w01"] input.pts', "1.5")
    browser.type_into(page, '.item[data-question="w01"] input.cmt', COMMENT)
    browser.type_into(page, '.item[data-question="decision boundary"] input.pts', "8")
    raw = _download(browser, page)
    violations = browser.evaluate(page, "JSON.stringify(window.__violations)")

    assert violations == "[]" and _problems(browser, seen) == []
    check_downloaded_overrides(raw, tmp_path)


def test_figures_and_highlighting_show_under_the_pages_csp(browser: Firefox, page_path: Path) -> None:
    """The figure is a data: URI (img-src data:) and the colours come from the hashed <style>: both must load."""
    seen = len(browser.events)
    page = browser.open(page_path.as_uri())
    img = "document.querySelector('.figs img')"
    figure = browser.evaluate(page, f"JSON.stringify([{img}.complete, {img}.naturalWidth, {img}.naturalHeight])")
    colour = browser.evaluate(page, "getComputedStyle(document.querySelector('.hl .k')).color")
    weight = browser.evaluate(page, "getComputedStyle(document.querySelector('.hl .k')).fontWeight")
    keyword = get_style_by_name("friendly").style_for_token(Keyword)  # the oracle: Pygments' own style
    assert figure == "[true,40,30]"
    assert colour == "rgb({}, {}, {})".format(*bytes.fromhex(keyword["color"]))
    assert keyword["bold"] and int(weight) >= 700
    assert _problems(browser, seen) == []


def test_a_page_rewritten_with_overrides_keeps_them_in_the_next_download(browser: Firefox, tmp_path: Path) -> None:
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
    page = browser.open((tmp_path / "review" / review_filename("s1")).as_uri())
    text = _download(browser, page).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1:] == [["s1", "w00", "1", "partly right"], ["s1", "decision boundary", "7", ""]]
