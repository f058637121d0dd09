"""Helpers for the notebook tests: build .ipynb files, and make any attempt to run student code fail.

``no_execution`` (autouse) replaces ``exec`` and ``eval`` of text, ``sympy.sympify`` of text, ``parse_expr``,
starting a kernel (jupyter_client, nbclient) and starting any process with functions that fail
the test, so a test passes only if grading a notebook never runs anything.
"""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import PIL.Image  # noqa: F401
import PIL.JpegImagePlugin  # noqa: F401
import PIL.PngImagePlugin  # noqa: F401
import pytest

# the modules the grader imports lazily, imported now (a dataclass is made with exec at import time)
import derive.engine  # noqa: F401
import derive.graph  # noqa: F401
import derive.sheet  # noqa: F401
import derive.values  # noqa: F401
import grading.answers.mistakes  # noqa: F401
import grading.notebook.grade  # noqa: F401

try:
    import jupyter_client.manager as jm
    import nbclient
except ImportError:  # pragma: no cover - both are dev dependencies
    jm = nbclient = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
HW1 = ROOT / "examples" / "hw1-2025.toml"


_LIBRARIES = ("sympy.", "dataclasses", "collections", "typing", "functools", "hypothesis", "_pytest", "inspect")


class Ran(AssertionError):
    """Something tried to run code."""


def _fail(what: str) -> Any:
    def stop(*args: Any, **kwargs: Any) -> Any:
        raise Ran(f"{what} was called while grading a notebook")

    return stop


def _no_text(what: str, real: Any) -> Any:
    """``exec``/``eval`` of text fails, unless sympy's own code generation (not its parser) calls it.

    A code object passes: that is how ``import`` runs a module.
    """

    def guard(source: Any, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        library = caller.startswith(_LIBRARIES) and not caller.startswith("sympy.parsing")
        if isinstance(source, (str, bytes)) and not library:
            raise Ran(f"{what} of text was called while grading a notebook")
        return real(source, *args, **kwargs)

    return guard


@pytest.fixture(autouse=True)
def no_execution(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import sympy
    import sympy.parsing.sympy_parser as sp

    real = sympy.sympify

    def sympify(a: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(a, str):
            raise Ran("sympify of text was called while grading a notebook")
        return real(a, *args, **kwargs)

    monkeypatch.setattr(builtins, "exec", _no_text("exec", builtins.exec))
    monkeypatch.setattr(builtins, "eval", _no_text("eval", builtins.eval))
    monkeypatch.setattr(sympy, "sympify", sympify)
    monkeypatch.setattr(sp, "parse_expr", _fail("parse_expr"))
    monkeypatch.setattr(subprocess, "Popen", _fail("subprocess.Popen"))
    if jm is not None and nbclient is not None:
        monkeypatch.setattr(jm.KernelManager, "start_kernel", _fail("KernelManager.start_kernel"))
        monkeypatch.setattr(jm, "start_new_kernel", _fail("start_new_kernel"))
        monkeypatch.setattr(nbclient.NotebookClient, "execute", _fail("NotebookClient.execute"))
    yield


def md(source: str | Sequence[str]) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def code(source: str, *outputs: dict[str, Any]) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": list(outputs), "execution_count": 1}


def stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def display(data: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {}, "data": data}


def notebook(*cells: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}
    doc.update(top)
    return doc


def write(path: Path, doc: dict[str, Any] | bytes | str) -> Path:
    if isinstance(doc, bytes):
        path.write_bytes(doc)
    elif isinstance(doc, str):
        path.write_text(doc, encoding="utf-8")
    else:
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def png_b64(width: int = 4, height: int = 3) -> str:
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()
