"""Figures and markdown attachments: decoded and re-encoded by Pillow exactly once, bounded, and shown
on the review page as those bytes (never the student's own, never fetched).

Oracles: Pillow's own decoding of the bytes on the page (pixels, size, format), a count of
``Image.save`` calls, and the page's elements read by html.parser (``assert_inert``).
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from grading.notebook.classrun import grade_notebook_class
from grading.notebook.model import Notebook
from grading.notebook.read import parse_notebook
from grading.notebook.review import ReviewEntry, review_filename, write_review
from tests.notebook.conftest import HW1, code, display, md, notebook
from tests.notebook.test_review_pages import MANUAL, assert_inert, result


def _png(size: tuple[int, int] = (240, 160), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 6, size[1] // 5, size[0] * 5 // 6, size[1] * 4 // 5), fill="#3465a4")
    draw.line((0, size[1], size[0], 0), fill="black", width=3)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _page_images(page: str) -> list[tuple[str, bytes]]:
    """``(mime, bytes)`` of every ``<img src="data:…">`` on the page."""
    found = re.findall(r'<img [^>]*src="data:(image/\w+);base64,([A-Za-z0-9+/=]+)"', page)
    return [(mime, base64.b64decode(b64)) for mime, b64 in found]


def _page(tmp_path: Path, doc: dict) -> tuple[str, Notebook]:
    nb = parse_notebook(json.dumps(doc).encode())
    entry = ReviewEntry("s1", "S", {**result("s1"), "figures": []}, nb)
    write_review(tmp_path, [entry], title="HW1", manual=MANUAL)
    return (tmp_path / "review" / review_filename("s1")).read_text(encoding="utf-8"), nb


def test_a_figure_is_reencoded_once_and_the_page_shows_those_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figure = _png()
    doc = notebook(md("$dL/dw00 = 1$"), code("plt.show()", display({"image/png": _b64(figure), "text/plain": "F"})))
    folder = tmp_path / "class" / "Ada_10001_assignsubmission_file_"
    folder.mkdir(parents=True)
    (folder / "HW1.ipynb").write_text(json.dumps(doc), encoding="utf-8")
    saves: list[str] = []
    real_save = Image.Image.save

    def counting_save(self: Image.Image, fp: object, format: str | None = None, **kw: object) -> None:  # noqa: A002
        saves.append(str(format))
        real_save(self, fp, format, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "save", counting_save)
    out = tmp_path / "out"
    run = grade_notebook_class(tmp_path / "class", HW1, out)
    assert saves == ["PNG"]  # read once; the review page and the figure file reuse those bytes
    stored = (out / run.students[0]["notebook"]["figures"][0]["file"]).read_bytes()
    assert stored != figure  # never the student's own bytes
    page = (out / "review" / review_filename("10001")).read_text(encoding="utf-8")
    shown = _page_images(page)
    assert len(shown) == 2 and all(img == ("image/png", stored) for img in shown)  # the cell and the figures list
    with Image.open(io.BytesIO(stored)) as got, Image.open(io.BytesIO(figure)) as want:
        assert got.size == want.size and got.convert("RGB").tobytes() == want.convert("RGB").tobytes()


def test_a_huge_side_figure_is_shrunk_and_a_pixel_bomb_dropped(tmp_path: Path) -> None:
    wide = _png((6000, 90))
    bomb = io.BytesIO()
    Image.new("1", (7000, 7000)).save(bomb, format="PNG")  # 49 million pixels in about 6 kB
    doc = notebook(
        code("x", display({"image/png": _b64(wide)})),
        code("y", display({"image/png": _b64(bomb.getvalue())})),
    )
    page, nb = _page(tmp_path, doc)
    (out,) = nb.cells[0].outputs
    with Image.open(io.BytesIO(out.data)) as im:
        assert max(im.size) == 1400 and abs(im.size[1] - round(90 * 1400 / 6000)) <= 1
    assert nb.cells[1].outputs == ()
    assert any("cell 1" in w and "dropped" in w for w in nb.warnings)
    ((mime, shown),) = _page_images(page)
    assert mime == "image/png" and shown == out.data


def test_a_photo_like_figure_is_written_as_jpeg_a_plot_stays_png() -> None:
    import random

    rng = random.Random(0)
    noise = Image.frombytes("RGB", (200, 200), bytes(rng.getrandbits(8) for _ in range(200 * 200 * 3)))
    buf = io.BytesIO()
    noise.save(buf, format="PNG")
    doc = notebook(code("x", display({"image/png": _b64(buf.getvalue())}), display({"image/png": _b64(_png())})))
    photo, plot = parse_notebook(json.dumps(doc).encode()).cells[0].outputs
    assert (photo.kind, plot.kind) == ("jpeg", "png")
    with Image.open(io.BytesIO(photo.data)) as im:
        assert im.format == "JPEG" and im.size == (200, 200)


def test_a_markdown_attachment_is_shown_as_a_reencoded_image(tmp_path: Path) -> None:
    picture = _png((300, 200), "RGBA")
    cell = md("The network:\n\n![my net](attachment:net%20diagram.png) and ![plain](attachment:b.png)")
    cell["attachments"] = {"net diagram.png": {"image/png": _b64(picture)}, "b.png": {"image/png": _b64(_png())}}
    page, nb = _page(tmp_path, notebook(cell))
    assert_inert(page)
    names = [name for name, _ in nb.cells[0].attachments]
    assert names == ["net diagram.png", "b.png"]
    stored = nb.cells[0].attachments[0][1].data
    shown = _page_images(page)
    assert len(shown) == 2 and shown[0] == ("image/png", stored) and stored != picture
    assert '<img class="fig" alt="my net" src="data:image/png;base64,' in page
    with Image.open(io.BytesIO(stored)) as got:
        assert got.format == "PNG" and got.size == (300, 200)
        assert got.convert("RGB").tobytes() == Image.open(io.BytesIO(picture)).convert("RGB").tobytes()


HOSTILE_ATTACHMENTS = {
    "evil.svg": {"image/svg+xml": '<svg onload="window.__pwned=20"><script>window.__pwned=21</script></svg>'},
    "bad.png": {"image/png": "!!! not base64 !!!"},
    "report.png": {"image/png": _b64(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")},
    "gif.png": {"image/png": _b64(base64.b64decode("R0lGODlhAQABAAAAACw="))},
    "nothing.png": "not a bundle",
}


def test_hostile_attachments_are_dropped_with_a_note_and_urls_never_loaded(tmp_path: Path) -> None:
    links = [f"![{name}](attachment:{name})" for name in HOSTILE_ATTACHMENTS]
    links += [
        "![remote](https://example.com/x.png)",
        "![js](javascript:window.__pwned=22)",
        "![data](data:image/png;base64,iVBORw0KGgo=)",
        "![missing](attachment:missing.png)",
    ]
    cell = md("\n\n".join(links))
    cell["attachments"] = HOSTILE_ATTACHMENTS
    page, nb = _page(tmp_path, notebook(cell))
    assert_inert(page)
    assert _page_images(page) == [] and nb.cells[0].attachments == ()
    notes = " ".join(nb.warnings)
    for name in HOSTILE_ATTACHMENTS:
        assert f"attachment '{name}'" in notes
    assert "image/svg+xml" in notes and "not valid base64" in notes
    for alt in ("evil.svg", "remote", "data", "missing"):
        assert f"[image: {alt}]" in page
    assert "![js](javascript:window.__pwned=22)" in page  # markdown-it refuses the link: shown as text
    assert "<img" not in page and "example.com" not in page


def test_a_class_keeps_figures_on_disk_and_shows_them_only_while_unchanged(tmp_path: Path) -> None:
    from grading.notebook.grade import grade_read, load_problems
    from grading.notebook.images import release_images

    doc = notebook(code("a", display({"image/png": _b64(_png())})), code("b", display({"image/png": _b64(_png())})))
    nb = parse_notebook(json.dumps(doc).encode())
    graded = grade_read(nb, load_problems(HW1), student="s1", out=tmp_path)
    kept = release_images(nb, graded["figures"], tmp_path)
    assert [o.data for c in kept.cells for o in c.outputs] == [b"", b""]  # no figure bytes held for the class
    files = [tmp_path / f["file"] for f in graded["figures"]]
    assert [p.read_bytes() for p in files] == [c.outputs[0].data for c in nb.cells]
    files[1].write_bytes(_png((50, 50)))  # changed on disk after grading: not shown
    write_review(tmp_path, [ReviewEntry("s1", "S", graded, kept)], title="HW1", manual=MANUAL)
    page = (tmp_path / "review" / review_filename("s1")).read_text(encoding="utf-8")
    assert_inert(page)
    shown = _page_images(page)
    assert shown == [("image/png", files[0].read_bytes())] * 2  # cell 0 and its entry in the figures list
    assert "could not be decoded" in page
