"""The review pages: hostile notebooks and names never reach a page as active content; layout facts.

The oracle for "no active content" is an HTML parser (html.parser from the standard library) that
lists every element and attribute on the page: the only <script> is ours, no attribute is an
event handler, no URL is javascript:, no <style> but ours, no <iframe>/<object>/<svg>.
"""

from __future__ import annotations

import io
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from grading.notebook import review, review_render
from grading.notebook.model import Cell, Notebook, Output
from grading.notebook.review import ReviewEntry, review_filename, write_review
from grading.notebook.review_render import render_markdown, render_math

MANUAL = [{"name": "decision boundary", "points": 10}]
HOSTILE_NAMES = ["<script>alert('name')</script>", "=cmd|' /C calc'!A0", "鄭呈毅", "鄭" * 100]

PAYLOADS = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    '<iframe src="javascript:window.__pwned = 3"></iframe>',
    "[click](javascript:window.__pwned=4)",
    '<a href="javascript:window.__pwned=5">x</a>',
    "<style>body { display: none }</style>",
    '<svg onload="window.__pwned=6"><script>window.__pwned=7</script></svg>',
    "<math><mtext><script>window.__pwned=8</script></mtext></math>",
    "![pic](attachment:evil.svg)",
    '<object data="data:text/html,<script>window.__pwned=9</script>"></object>',
]
LATEX_ATTACKS = [
    r"$\def\x{\x\x}\x$",
    r"$\input{/etc/passwd}$",
    r"$\href{javascript:window.__pwned=10}{click}$",
    r"$\text{<script>window.__pwned=11</script>}$",
    "$" + "x+" * 50_000 + "$",
    "$" + "{" * 10_000 + "x" + "}" * 10_000 + "$",
    "$" + "{" * 1_500 + "x" + "}" * 1_500 + "$",
    r"$$\newcommand{\a}{\a\a}\a$$",
    r"$\color{red}{x} \style{color:red}{y}$",
]


def _png(colour: str = "#3465a4") -> bytes:
    image = Image.new("RGB", (240, 160), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 30, 200, 130), fill=colour)
    draw.line((0, 160, 240, 0), fill="black", width=3)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def notebook(extra: tuple[Cell, ...] = ()) -> Notebook:
    cells = (
        Cell(
            0,
            "markdown",
            "# HW1 (二) 推導\n\n令 $z_{ij} = \\sum_{m,n} w_{mn} a_{i+m,j+n}$, $h_{ij} = \\sigma(z_{ij})$.",
        ),
        Cell(
            1,
            "markdown",
            "By the chain rule:\n\n$$\\frac{\\partial L}{\\partial w_{00}} = \\sum_{i,j} 2(\\hat{y}-y) v_{ij}"
            " h_{ij}(1-h_{ij}) a_{ij}$$\n\nand $\\partial L/\\partial w_{01} = 0.25$.",
        ),
        Cell(2, "code", "dL_dw11 = grad[1, 1]\nprint('w11', dL_dw11)", (Output("text", text="w11 0.0731\n"),)),
        Cell(
            3,
            "code",
            "plt.contourf(xx, yy, zz)\nplt.show()",
            (Output("png", data=_png()), Output("html", text="<script>window.__pwned=12</script>", mime="text/html")),
        ),
        Cell(4, "code", "print(summary(model))", (Output("text", text="Total params: 2,938\n"),)),
        *extra,
    )
    return Notebook("alice.ipynb", cells)


def result(student: str, verdicts: tuple[str, str, str] = ("correct", "wrong", "needs-review")) -> dict:
    rows = [
        ("w00", 1, "\\frac{\\partial L}{\\partial w_{00}} = \\sum_{i,j} 2(\\hat{y}-y)", "2(\\hat{y}-y) v h(1-h) a"),
        ("w01", 1, "\\partial L/\\partial w_{01} = 0.25", "0.25"),
        ("w11", 2, "print('w11', dL_dw11)", "0.0731"),
    ]
    questions = []
    for (name, cell, snippet, answer), verdict in zip(rows, verdicts, strict=True):
        questions.append(
            {
                "question": name,
                "found": verdict != "not-found",
                "cell": cell if verdict != "not-found" else None,
                "snippet": snippet,
                "answer": answer,
                "verdict": verdict,
                "misconception": "missing sigmoid derivative" if verdict == "wrong" else None,
                "expected": 0.3125 if name == "w01" else "\\sum_{i,j} 2(\\hat{y}-y) v_{ij} h_{ij}(1-h_{ij}) a_{ij}",
                "points": {"correct": 2.0, "wrong": 0.0, "needs-review": 0.0, "not-found": 0.0}[verdict],
                "max_points": 2.0,
                "why": "the name 'u' is not defined in the notebook" if verdict == "needs-review" else None,
                "steps": [
                    {"step": "\\partial L/\\partial \\hat{y}", "ok": True},
                    {"step": "\\partial h/\\partial z", "ok": False},
                ],
            }
        )
    return {
        "status": "graded",
        "student": student,
        "notebook": "alice.ipynb",
        "questions": questions,
        "claims": [{"what": "params", "value": 2938, "cell": 4}],
        "figures": [{"cell": 3, "file": "figures/x.png"}],
        "warnings": [],
        "errors": [],
    }


def class_entries(out_dir: Path) -> list[ReviewEntry]:
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    (out_dir / "figures" / "x.png").write_bytes(_png("#cc0000"))
    invalid = {**result("b0002"), "status": "invalid", "questions": [], "errors": ["b0002.ipynb is not JSON (line 1)."]}
    return [
        ReviewEntry("a0001", "Ada 陳", result("a0001", ("correct", "correct", "correct")), notebook()),
        ReviewEntry("b0002", "Bob", invalid, None),
        ReviewEntry("c0003", "Chen Wei 陳偉", result("c0003"), notebook()),
        ReviewEntry("d0004", "Dana", result("d0004", ("wrong", "not-found", "correct")), notebook()),
    ]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def assert_inert(page: str) -> None:
    """Only our script and style; no handler, no javascript: URL, no frame, no foreign document."""
    parser = _Elements()
    parser.feed(page)
    names = [t for t, _ in parser.tags]
    assert names.count("script") <= 1 and names.count("style") == 1
    assert not {"iframe", "object", "embed", "svg", "frame", "base", "form", "link"} & set(names)
    for tag, attrs in parser.tags:
        for key, value in attrs:
            assert not key.startswith("on"), (tag, key)
            assert key not in ("style", "srcdoc", "formaction", "xlink:href")
            if key in ("href", "src"):
                assert value is not None
                assert re.match(r"(#|[\w.-]+\.html$|data:image/png;base64,|https?:|mailto:)", value), (tag, key, value)
    assert all("__pwned" not in s for s in parser.scripts)
    assert "root:x:0" not in page


@pytest.fixture
def pages(tmp_path: Path) -> dict[str, str]:
    extra = tuple(Cell(5 + i, "markdown", p) for i, p in enumerate(PAYLOADS + LATEX_ATTACKS))
    extra += (
        Cell(30, "code", "</script><script>window.__pwned=13</script>", (Output("text", text="<b onclick=x>"),)),
        Cell(31, "raw", "<script>window.__pwned=14</script>"),
        Cell(32, "code", "x", (Output("other", mime="application/javascript"), Output("other", mime="image/svg+xml"))),
        Cell(33, "code", "x", (Output("png", data=b"<svg onload=alert(1)>"),)),
    )
    entries = [ReviewEntry(n, n, result(n), notebook(extra)) for n in HOSTILE_NAMES]
    paths = write_review(tmp_path, entries, title="<b>HW1</b>", manual=MANUAL)
    return {p.name: p.read_text(encoding="utf-8") for p in paths}


def test_hostile_notebooks_and_names_leave_no_active_content(pages: dict[str, str]) -> None:
    assert len(pages) == 1 + len(HOSTILE_NAMES)
    for page in pages.values():
        assert_inert(page)
        assert "&lt;b&gt;HW1&lt;/b&gt;" in page
    student = pages[review_filename(HOSTILE_NAMES[0])]
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in student  # shown as text, not run
    assert "text/html output is not shown" in student and "application/javascript output is not shown" in student
    assert "defines macros" in student and "longer than 4000 characters" in student and "nested groups" in student
    assert "[image: pic]" in student


def test_student_names_are_escaped_on_both_pages(pages: dict[str, str]) -> None:
    index = pages["index.html"]
    assert "<script>alert" not in index and "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in index
    assert "鄭呈毅" in index
    for name in HOSTILE_NAMES:
        assert f'href="{review_filename(name)}"' in index


@pytest.mark.parametrize("student", [*HOSTILE_NAMES, "../../etc/passwd", "CON", "", "a/b", "A/b", "x" * 300])
def test_review_filename_is_safe_short_and_stable(student: str) -> None:
    name = review_filename(student)
    assert name == review_filename(student)
    assert len(name.encode()) <= 200 and name.endswith(".html")
    assert re.fullmatch(r"[\w.-]+", name) and not name.startswith(".") and "/" not in name


def test_review_filenames_differ_even_ignoring_case() -> None:
    ids = ["a/b", "a_b", "A_B", "鄭" * 100, "鄭" * 101, "x" * 300, "x" * 301]
    assert len({review_filename(s).lower() for s in ids}) == len(ids)


def test_latex_attacks_render_as_source_and_normal_maths_as_mathml() -> None:
    assert "<math" in render_math(r"\frac{\partial L}{\partial w_{00}}", display=False)
    for tex in (r"\def\x{\x\x}\x", r"\newcommand{\a}{\a}", "x" * 5000, "{" * 100 + "}" * 100):
        out = render_math(tex, display=False)
        assert "<math" not in out and "math-source" in out
    href = render_math(r"\href{javascript:alert(1)}{x}", display=False)
    assert "javascript" not in href


def test_maths_is_taken_from_raw_markdown_and_code_is_left_alone() -> None:
    out = render_markdown(r"a $x_1 * y_2 * z$ b `$not$` and \$5, \$6" + "\n\n```\n$also not$\n```")
    assert out.count("<math") == 1 and "<em>" not in out  # the * inside $…$ are not emphasis
    assert "<code>$not$</code>" in out and "$also not$" in out and "$5" in out


def test_found_answer_is_highlighted_in_its_cell(pages: dict[str, str]) -> None:
    page = pages[review_filename("鄭呈毅")]
    assert 'id="found-w00"' in page  # the display equation of cell 1
    cell2 = page[page.index('id="cell-2"') : page.index('id="cell-3"')]
    assert 'class="hll"' in cell2 and "answer for w11" in cell2


def test_class_page_lists_needs_review_first_and_counts_undecided(tmp_path: Path) -> None:
    paths = write_review(tmp_path, class_entries(tmp_path), title="HW1", manual=MANUAL)
    index = paths[0].read_text(encoding="utf-8")
    order = [m for m in re.findall(r'<td class="who"><a href="[^"]+">([^<]+)</a>', index)]
    assert order == ["b0002", "c0003", "a0001", "d0004"]  # invalid and needs-review first, then by id
    assert (
        '<div class="big">3</div>manual items undecided' in index
    )  # b0002's notebook was unreadable: it waits for nothing
    assert 'title="wrong: missing sigmoid derivative"' in index and ">6 / 16</td>" in index  # 3 × 2 + 10 manual
    student = (tmp_path / "review" / review_filename("a0001")).read_text(encoding="utf-8")
    assert "data:image/png;base64," in student and "Total params: 2,938" in student


def test_an_answer_in_prose_is_marked_and_a_mark_inside_a_link_is_dropped() -> None:
    src = "所以 dL/dw00 = 0.31 and [see](http://a.b/dL/dw00)"
    at = src.index("dL/dw00 = 0.31")
    out = render_markdown(src, marks=((at, at + 14, "w00"),))
    assert '<mark class="found" id="found-w00">dL/dw00 = 0.31</mark>' in out
    at = src.index("dL/dw00)")
    out = render_markdown(src, marks=((at, at + 7, "w01"),))
    assert "<mark" not in out and 'href="http://a.b/dL/dw00"' in out and "gkm" not in out


def test_a_formula_over_its_time_is_shown_as_source() -> None:
    with pytest.raises(review_render._Timeout), review_render._deadline(0.05):
        for _ in range(1000):  # 10 s if the alarm never rang
            time.sleep(0.01)
    budget = review_render.MathBudget(seconds=0.0)
    out = render_math(r"\frac{a}{b}", display=True, budget=budget)
    assert "<math" not in out and "time for formulas is used up" in out and budget.skipped == 1


def test_a_huge_notebook_stops_at_the_page_limit_and_warnings_are_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "MAX_PAGE_CHARS", 50_000)
    cells = tuple(Cell(i, "code", f"x{i} = 1", (Output("text", text="y" * 10_000),)) for i in range(1000))
    nb = Notebook("big.ipynb", cells, warnings=("nbformat 3, upgraded to 4.",))
    entry = ReviewEntry("s1", "S", {**result("s1"), "warnings": ["nbformat 3, upgraded to 4."]}, nb)
    page = write_review(tmp_path, [entry], title="HW1", manual=MANUAL)[1].read_text(encoding="utf-8")
    shown = re.findall(r'id="cell-(\d+)"', page)
    assert 4 <= len(shown) <= 7 and f"Cells {shown[-1]} to 999 are not shown" in page  # about 10,000 characters a cell
    assert page.count("nbformat 3, upgraded to 4.") == 1
