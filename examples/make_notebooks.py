"""Write a made-up class of HW1 (2025) notebooks, as Moodle's "Download all submissions" zips them.

    python examples/make_notebooks.py OUT_FOLDER      # writes OUT_FOLDER/submissions.zip

Students answer problem (二) of examples/hw1-2025.toml (∂L/∂w00 and ∂L/∂a21) in several
notations, in Chinese and English prose: right, wrong (a named mistake), with a name they never
define, a number printed by code; one prints a figure and a parameter count; one notebook is
hostile (script, iframe, LaTeX built to hurt, a fake image) and one is a PDF renamed .ipynb.
Nothing here is random: the class is the same every time.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

RIGHT_W = (
    r"(p - y)\left(v_0 h_{00}(1-h_{00}) a_{00} + v_1 h_{01}(1-h_{01}) a_{01}"
    r" + v_2 h_{10}(1-h_{10}) a_{10} + v_3 h_{11}(1-h_{11}) a_{11}\right)"
)
RIGHT_A = (
    r"(p - y)\left(v_0 h_{00}(1-h_{00}) w_{21} + v_1 h_{01}(1-h_{01}) w_{20}"
    r" + v_2 h_{10}(1-h_{10}) w_{11} + v_3 h_{11}(1-h_{11}) w_{10}\right)"
)
ONE_TERM_A = r"(p - y) v_2 h_{10}(1-h_{10}) w_{11}"


def md(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source.splitlines(keepends=True)}


def code(source: str, *outputs: dict[str, Any]) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": source, "outputs": list(outputs)}


def stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def figure() -> dict[str, Any]:
    """A small decision-boundary-like picture: two coloured regions and a ring of points."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (240, 240), (250, 220, 200))
    d = ImageDraw.Draw(im)
    d.ellipse((70, 70, 170, 170), fill=(200, 220, 250))
    for k in range(36):
        import math

        x, y = 120 + 95 * math.cos(k / 5.73), 120 + 95 * math.sin(k / 5.73)
        d.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(200, 40, 40))
        d.ellipse((120 + x / 8 - 18, 120 + y / 8 - 18, 120 + x / 8 - 12, 120 + y / 8 - 12), fill=(40, 40, 200))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    data = {"image/png": base64.b64encode(buf.getvalue()).decode(), "text/plain": "<Figure size 240x240>"}
    return {"output_type": "display_data", "metadata": {}, "data": data}


def notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    meta = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": meta, "cells": list(cells)}


def students() -> dict[str, Any]:
    train = code(
        "model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1))\n"
        "print(sum(p.numel() for p in model.parameters()))",
        stream("129\n"),
    )
    return {
        "陳怡君_10001": notebook(
            md("# HW1 第一題\n用 PyTorch 訓練全連接網路分類 circles 資料。"),
            train,
            code("plot_decision_boundary(model)", figure()),
            md("# 第二題\n令 $o_{ij} = \\sigma(z_{ij})$，$yy$ 為標籤。"),
            md(
                f"$$\\frac{{\\partial L}}{{\\partial w_{{00}}}} = {RIGHT_W.replace('h_', 'o_').replace('(p - y)', '(p - yy)')}$$"
            ),
            md(f"$$\\frac{{\\partial L}}{{\\partial a_{{21}}}} = {RIGHT_A}$$"),
        ),
        "Ada Lovelace_10002": notebook(
            md("## Problem 2\nFirst the chain rule, step by step:"),
            md(
                "$$\\frac{\\partial L}{\\partial \\hat{y}} = p - y$$\n$$\\frac{\\partial h_{00}}{\\partial z_{00}} = h_{00}(1-h_{00})$$"
            ),
            md(
                f"\\begin{{align}}\n\\nabla_{{w_{{0,0}}}} \\mathcal{{L}} &= \\sum_{{i,j}} \\frac{{\\partial L}}{{\\partial z_{{ij}}}} a_{{ij}} \\\\\n&= {RIGHT_W}\n\\end{{align}}"
            ),
            md(f"∂L/∂a₂₁ = {ONE_TERM_A}"),
        ),
        "林志明_10003": notebook(
            md("第二題推導（用自己的符號）"),
            md(f"dL/dw00 = (p - y) g_{{00}} a_{{00}} + {RIGHT_W[8:]}"),
            code("print('dL_da21 =', a.grad[2, 1].item())", stream("dL_da21 = -0.0123\n")),
        ),
        "Grace Hopper_10004": notebook(
            md("Problem 2 answers"),
            md(f"$\\dfrac{{dE}}{{dw_{{00}}}} = {RIGHT_W}$"),
            md(f"$$\\tfrac{{\\partial J}}{{\\partial a_{{21}}}} = {RIGHT_A}$$"),
            code("summary(model)", stream("Total params: 2,938\nTrainable params: 2,938\n")),
            code("print(f'top-1 acc {acc:.1%}')", stream("top-1 acc 93.3%\n")),
        ),
        "Mallory_10005": notebook(  # hostile
            md("<script>alert('pwned')</script><iframe src='javascript:alert(1)'></iframe>"),
            md("$\\def\\x{\\x x}\\x$ $\\input{/etc/passwd}$ $$" + "{" * 3000 + "}" * 3000 + "$$"),
            code(
                "x",
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/html": "<img src=x onerror=alert(1)>", "image/png": "bm90IGFuIGltYWdl"},
                },
            ),
            md(f"$\\frac{{\\partial L}}{{\\partial w_{{00}}}} = {RIGHT_W}$"),
        ),
    }


def write_class(out: Path) -> Path:
    """Write ``out/submissions.zip`` (Moodle layout) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / "submissions.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for folder, nb in students().items():
            z.writestr(f"{folder}_assignsubmission_file_/HW1.ipynb", json.dumps(nb, ensure_ascii=False, indent=1))
        z.writestr("Eve Renamed_10006_assignsubmission_file_/HW1.ipynb", b"%PDF-1.4\n% a PDF renamed .ipynb\n")
    return zip_path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python examples/make_notebooks.py OUT_FOLDER")
    print(write_class(Path(sys.argv[1])))
