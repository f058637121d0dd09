"""Shared test options: ``--update-goldens``, the ``latex`` marker, and hypothesis profiles.

With ``CI=true`` the ``ci`` hypothesis profile is loaded: ``derandomize=True``, so a CI run
draws the same examples every time and a red build can be reproduced; locally the
``default`` profile keeps exploring new examples on every run (``HYPOTHESIS_PROFILE=ci``
reproduces CI's draw). Neither lowers a test's own ``max_examples``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "default"))

GOLDEN_DIR = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    have_tex = shutil.which("pdflatex") is not None and shutil.which("latexmk") is not None
    if have_tex:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("CI=true but pdflatex/latexmk are missing: .ci/run should install TeX Live")
    skip = pytest.mark.skip(
        reason="TeX Live not installed (apt-get install texlive-latex-base texlive-latex-recommended latexmk)"
    )
    for item in items:
        if "latex" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with ``tests/golden/<relative path>``; rewrite it under ``--update-goldens``."""
    update = request.config.getoption("--update-goldens")

    def check(relative: str, text: str) -> None:
        path = GOLDEN_DIR / relative
        if update or not path.exists():
            if not update and os.environ.get("CI") == "true":
                pytest.fail(f"golden file {path} is missing; run pytest --update-goldens and review it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert text == expected, (
            f"output differs from {path}; if the change is intended, run pytest --update-goldens and review the diff"
        )

    return check
