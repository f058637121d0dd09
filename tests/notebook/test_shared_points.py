"""A class's check points are worked out once (grading.notebook.engine.SharedPoints); the oracle is
each student graded alone, from a fresh problem set, with nothing shared (SharedPoints switched off)."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest

import grading.notebook.grade as grade_module
from grading.notebook.classrun import grade_notebook_class
from grading.notebook.grade import grade_notebook
from tests.notebook.conftest import HW1

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "examples" / "make_notebooks.py")
assert _spec is not None and _spec.loader is not None
make_notebooks = importlib.util.module_from_spec(_spec)
sys.modules["make_notebooks"] = make_notebooks
_spec.loader.exec_module(make_notebooks)  # at import, before the no-execution guard is on


def test_a_class_shares_check_points_but_grades_each_student_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zip_path = make_notebooks.write_class(tmp_path)
    together = grade_notebook_class(zip_path, HW1, tmp_path / "out")
    monkeypatch.setattr(grade_module, "SharedPoints", lambda base: None)  # from here on, nothing shared
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(tmp_path / "alone")
    graded = [s for s in together.students if s["notebook"]["status"] == "graded"]
    assert len(graded) >= 4
    for s in graded:
        (path,) = (tmp_path / "alone").glob(f"*_{s['student']}_*/*.ipynb")
        alone = grade_notebook(path, HW1, student=s["student"])
        # a class adds its own keys to each question (the automatic and final points); the grading ones agree
        together_questions = [{k: q[k] for k in a} for q, a in zip(s["notebook"]["questions"], alone["questions"])]
        assert len(alone["questions"]) == len(s["notebook"]["questions"])
        assert alone["questions"] == together_questions, s["student"]
