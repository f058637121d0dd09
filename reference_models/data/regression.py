"""HW1 2023 regression: a CSV of (x, y) pairs, such as the handout's ``HW1-1.csv``.

Any two numeric columns are read (a header line is optional; commas,
semicolons, tabs or spaces separate them). ``hw1_regression_sample.csv``
ships for the demo: the 20 pairs :func:`make_sample` makes from
:data:`SAMPLE_FUNCTION` with Gaussian noise.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from reference_models._files import read_text
from reference_models.data._dataset import Dataset
from reference_models.errors import ModelError

__all__ = ["SAMPLE_CSV", "SAMPLE_FUNCTION", "load_xy_csv", "make_sample", "sample_derivative", "sample_function"]

SAMPLE_CSV = Path(__file__).with_name("hw1_regression_sample.csv")
SAMPLE_FUNCTION = "f(x) = 0.5 x^3 - 2 x^2 + x + 1"


def sample_function(x: np.ndarray) -> np.ndarray:
    """The known function behind the shipped sample."""
    return 0.5 * x**3 - 2 * x**2 + x + 1


def sample_derivative(x: np.ndarray) -> np.ndarray:
    """Its derivative, ``1.5 x^2 - 4 x + 1`` (f'(3.0) = 2.5, f'(0.1) = 0.615, f'(-0.5) = 3.375)."""
    return 1.5 * x**2 - 4 * x + 1


def make_sample(n: int = 20, *, noise: float = 0.1, seed: int = 2023) -> tuple[np.ndarray, np.ndarray]:
    """``n`` evenly spaced x in [-1, 3.75] and y = f(x) + N(0, noise²); the shipped CSV is ``make_sample()``."""
    x = np.linspace(-1.0, 3.75, n)
    y = sample_function(x) + np.random.default_rng(seed).normal(0.0, noise, n)
    return np.round(x, 4), np.round(y, 4)


def load_xy_csv(path: Path | str | None = None, *, dtype: type = np.float32) -> Dataset:
    """Read (x, y) pairs; ``None`` reads the shipped sample (``dtype=np.float64`` keeps every digit, for an answer key).

    Returns:
        ``x`` float32 (N, 1), ``y`` float32 (N, 1), ids the data row numbers.

    Raises:
        ModelError: the file is missing, a row is not two numbers, or there are fewer than 2 rows.
    """
    file = SAMPLE_CSV if path is None else Path(path)
    if file.is_dir():
        raise ModelError(f"{file}: is a folder; pass the CSV file of x,y pairs itself (such as HW1-1.csv).")
    if not file.is_file():
        raise ModelError(f"{file}: no such file; pass a CSV of x,y pairs.")
    text = read_text(file)
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t ")
    except csv.Error:
        dialect = csv.excel
    pairs: list[list[float]] = []
    for line, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        cells = [c.strip() for c in row if c.strip()]
        if not cells:
            continue
        try:
            values = [float(c) for c in cells[:2]]
        except ValueError:
            if not pairs and line == 1:
                continue  # a header line
            raise ModelError(f"{file}, line {line}: expected two numbers x,y, got {row!r}.") from None
        if len(values) != 2 or not np.isfinite(values).all():
            raise ModelError(f"{file}, line {line}: expected two finite numbers x,y, got {row!r}.")
        pairs.append(values)
    if len(pairs) < 2:
        raise ModelError(f"{file}: found {len(pairs)} (x, y) pair(s); a fit needs at least 2.")
    data: np.ndarray = np.array(pairs, dtype=dtype)
    return Dataset(x=data[:, :1], y=data[:, 1:], ids=tuple(str(i) for i in range(len(data))))
