"""The no-execution guard of conftest really stops what it claims to (else the hostile tests prove nothing)."""

from __future__ import annotations

import subprocess

import pytest

from tests.notebook.conftest import Ran


def test_guard_stops_eval_exec_sympify_and_processes() -> None:
    import sympy
    import sympy.parsing.sympy_parser as sp
    from sympy.parsing.sympy_parser import parse_expr  # noqa: F401 - the module's attribute is patched

    with pytest.raises(Ran):
        eval("1 + 1")
    with pytest.raises(Ran):
        exec("x = 1")
    with pytest.raises(Ran):
        sympy.sympify("x + 1")
    with pytest.raises(Ran):
        sp.parse_expr("x")
    with pytest.raises(Ran):
        subprocess.run(["true"])
    import nbclient

    with pytest.raises(Ran):
        nbclient.NotebookClient.execute(None)
