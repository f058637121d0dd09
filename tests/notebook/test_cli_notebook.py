"""`grade FILE.ipynb --problems P.toml [--json]`: exit 0 graded, 1 invalid, a usage error for the TA's mistakes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from grading.cli import app
from grading.errors import UsageError
from grading.notebook.model import QUESTION_KEYS, RESULT_KEYS
from tests.notebook.conftest import HW1, md, notebook, write

runner = CliRunner()


def test_json_exit_codes_and_keys(tmp_path: Path) -> None:
    good = write(tmp_path / "good.ipynb", notebook(md("$dL/dw00 = (p-y) v_0 h_{00}(1-h_{00}) a_{00}$")))
    r = runner.invoke(app, [str(good), "--problems", str(HW1), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert tuple(doc) == RESULT_KEYS and tuple(doc["questions"][0]) == QUESTION_KEYS
    assert doc["questions"][0]["verdict"] == "wrong"
    bad = write(tmp_path / "bad.ipynb", b"PK\x03\x04zip")
    r = runner.invoke(app, [str(bad), "--problems", str(HW1), "--json"])
    assert r.exit_code == 1 and json.loads(r.output)["status"] == "invalid"
    r = runner.invoke(app, [str(good), "--problems", str(HW1)])
    assert r.exit_code == 0 and "w00" in r.output and "wrong" in r.output


def test_usage_errors(tmp_path: Path) -> None:
    good = write(tmp_path / "good.ipynb", notebook(md("x")))
    for args in (
        [str(good)],
        [str(good), "--problems", str(tmp_path / "missing.toml")],
        [str(good), "--problems", str(HW1), "--max-notebook-mb", "0"],
    ):
        r = runner.invoke(app, args)
        assert isinstance(r.exception, UsageError), (args, r.output)
        assert "\n" not in str(r.exception)
