"""The packages import without torch, and the console scripts are wired."""

import subprocess
import sys


def test_packages_import_without_torch():
    code = "import derive, grading, reference_models, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_derive_help_runs():
    out = subprocess.run([sys.executable, "-m", "derive", "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "grad" in out.stdout
