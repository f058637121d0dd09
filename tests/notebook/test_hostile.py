"""Hostile notebooks: each ends graded or invalid with one sentence, and nothing is run (see conftest)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grading.notebook.grade import grade_notebook
from grading.notebook.read import InvalidNotebook, parse_notebook, read_notebook
from tests.notebook.conftest import HW1, code, display, md, notebook, png_b64, stream, write


def one_sentence(msg: str) -> bool:
    return "\n" not in msg and msg.endswith((".", "?")) and len(msg) < 300


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.ipynb", "{}")
    return buf.getvalue()


INVALID = {
    "malformed JSON": b'{"cells": [',
    "a zip renamed": _zip(),
    "a PDF renamed": b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "not a notebook": b'{"hello": 1}',
    "nbformat 2": b'{"nbformat": 2, "cells": []}',
    "empty": b"",
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_with_one_sentence(tmp_path: Path, name: str) -> None:
    r = grade_notebook(write(tmp_path / "x.ipynb", INVALID[name]), HW1, student="s1")
    assert r["status"] == "invalid" and r["student"] == "s1"
    assert len(r["errors"]) == 1 and one_sentence(r["errors"][0]), r["errors"]


def test_too_large_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.ipynb"
    with path.open("wb") as fh:
        fh.truncate(101 * 1024 * 1024)  # a sparse 101 MB file: never read into memory
    r = grade_notebook(path, HW1)
    assert r["status"] == "invalid" and "MB" in r["errors"][0] and one_sentence(r["errors"][0])
    with pytest.raises(InvalidNotebook):
        read_notebook(path, max_bytes=1000)


GRADED = {
    "nbformat 3": {
        "nbformat": 3,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "markdown", "source": ["$dL/dw00 = ", "1$"]},
                    {"cell_type": "code", "input": "x", "outputs": [{"output_type": "stream", "text": "hi"}]},
                ]
            }
        ],
    },
    "nbformat 5": notebook(md("$dL/dw00 = 1$"), nbformat=5),
    "source as list and string": notebook(md(["$dL/", "dw00 = 1$"]), code("print(1)")),
    "missing metadata": {"nbformat": 4, "cells": [{"cell_type": "markdown", "source": "x"}]},
    "10,000 cells": notebook(*[md(f"cell {k}") for k in range(10_000)]),
    "raw html and script": notebook(
        md("<script>alert(1)</script><iframe src=x></iframe><img src=x onerror=alert(1)>"),
        code("x", display({"text/html": "<script>alert(1)</script>", "application/javascript": "alert(1)"})),
        code("y", display({"image/svg+xml": "<svg onload=alert(1)/>"})),
    ),
    "latex built to hurt": notebook(
        md(r"$\def\x{\x}\x$ $\input{/etc/passwd}$ $\href{javascript:alert(1)}{x}$"),
        md("$$" + "{" * 10_000 + "}" * 10_000 + "$$"),
        md("$dL/dw00 = " + "x+" * 50_000 + "1$"),
    ),
    "odd cells": {"nbformat": 4, "cells": [1, None, {"cell_type": "what"}, {"cell_type": "code", "outputs": [5]}]},
    "bad images": notebook(code("x", display({"image/png": "not base64!!"}), display({"image/png": "aGVsbG8="}))),
}


@pytest.mark.parametrize("name", list(GRADED))
def test_graded_despite(tmp_path: Path, name: str) -> None:
    r = grade_notebook(write(tmp_path / "x.ipynb", GRADED[name]), HW1)
    assert r["status"] == "graded", r["errors"]
    assert all(one_sentence(w) for w in r["warnings"]), r["warnings"]
    json.dumps(r, allow_nan=False)


def test_v3_upgraded_with_a_note(tmp_path: Path) -> None:
    r = grade_notebook(write(tmp_path / "x.ipynb", GRADED["nbformat 3"]), HW1)
    assert any("nbformat 3" in w for w in r["warnings"])
    assert r["questions"][0]["found"] and r["questions"][0]["verdict"] == "needs-review"


def test_non_utf8_and_nul_read_with_warnings() -> None:
    raw = json.dumps(notebook(md("$dL/dw00 = 1$\x00"))).encode().replace(b"1$", b"1$ \xff\xfe")
    nb = parse_notebook(raw.replace(b"\\u0000", b"\x00"))
    assert any("UTF-8" in w for w in nb.warnings) and any("NUL" in w for w in nb.warnings)
    assert "\x00" not in nb.cells[0].source


def test_outputs_default_deny(tmp_path: Path) -> None:
    doc = notebook(
        code(
            "x",
            stream("\x1b[31mred\x1b[0m text\n"),
            display({"image/png": png_b64(), "text/plain": "<Figure>"}),
            display({"application/javascript": "alert(1)", "image/svg+xml": "<svg/>", "text/plain": "ok"}),
            display({"text/html": "<b>hi</b>"}),
        )
    )
    nb = parse_notebook(json.dumps(doc).encode())
    kinds = [(o.kind, o.mime) for o in nb.cells[0].outputs]
    assert kinds == [
        ("text", ""),
        ("png", "image/png"),
        ("text", ""),
        ("other", "application/javascript"),
        ("other", "image/svg+xml"),
        ("html", "text/html"),
    ]
    assert nb.cells[0].outputs[0].text == "red text\n"
    from PIL import Image

    assert Image.open(io.BytesIO(nb.cells[0].outputs[1].data)).size == (4, 3)
    r = grade_notebook(write(tmp_path / "x.ipynb", doc), HW1, student="<script>", out=tmp_path / "out")
    assert r["figures"] and (tmp_path / "out" / r["figures"][0]["file"]).is_file()
    assert "<" not in r["figures"][0]["file"]
    assert any("application/javascript" in w for w in r["warnings"])


def test_huge_image_refused_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    import grading.notebook.read as rd

    monkeypatch.setattr(rd, "MAX_IMAGE_B64", 1000)
    big = base64.b64encode(b"\x89PNG" + b"\0" * 2000).decode()
    nb = parse_notebook(json.dumps(notebook(code("x", display({"image/png": big})))).encode())
    assert nb.cells[0].outputs == () and any("was not read" in w for w in nb.warnings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=400), st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_fuzz_bytes_only_documented_errors(raw: bytes) -> None:
    try:
        nb = parse_notebook(raw)
    except InvalidNotebook as exc:
        assert one_sentence(str(exc))
    else:
        assert all(isinstance(c.source, str) for c in nb.cells)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "cells",
                    "cell_type",
                    "source",
                    "outputs",
                    "data",
                    "output_type",
                    "nbformat",
                    "text",
                    "image/png",
                    "markdown",
                    "code",
                ]
            ),
            kids,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(JSONISH)
def test_fuzz_json_structures(doc: object) -> None:
    try:
        parse_notebook(json.dumps(doc).encode())
    except InvalidNotebook as exc:
        assert one_sentence(str(exc))


def test_image_split_into_lines_is_read_whole() -> None:
    """An image stored as a list of base64 lines longer than a text output's cap (was cut, then dropped)."""
    import random

    from PIL import Image

    rng = random.Random(0)
    im = Image.frombytes("RGB", (300, 300), bytes(rng.getrandbits(8) for _ in range(300 * 300 * 3)))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    b64 = base64.b64encode(buf.getvalue()).decode()
    assert len(b64) > 200_000
    lines = [b64[k : k + 76] + "\n" for k in range(0, len(b64), 76)]
    nb = parse_notebook(json.dumps(notebook(code("x", display({"image/png": lines})))).encode())
    assert [o.kind for o in nb.cells[0].outputs] == ["jpeg"]  # noise is photo-like: re-encoded as JPEG
    assert Image.open(io.BytesIO(nb.cells[0].outputs[0].data)).size == (300, 300)


def test_figure_folders_of_lookalike_ids_differ(tmp_path: Path) -> None:
    doc = notebook(code("x", display({"image/png": png_b64()})))
    path = write(tmp_path / "x.ipynb", doc)
    files = {
        grade_notebook(path, HW1, student=s, out=tmp_path / "o")["figures"][0]["file"] for s in ("<a>", ">a<", "a")
    }
    assert len(files) == 3 and all(".." not in f and "<" not in f for f in files)


def test_ten_thousand_steps_and_unclosed_math(tmp_path: Path) -> None:
    steps = "\n".join(r"$\frac{\partial h_{00}}{\partial z_{00}} = h_{00}(1-h_{00})$" for _ in range(10_000))
    doc = notebook(md(steps), md("\\begin{align}x" * 10_000), md(r"$dL/dw00 = (p-y) v_0 h_{00}(1-h_{00}) a_{00}$"))
    r = grade_notebook(write(tmp_path / "x.ipynb", doc), HW1)
    q = r["questions"][0]
    assert q["verdict"] == "wrong" and len(q["steps"]) == 20 and all(s["ok"] for s in q["steps"])
