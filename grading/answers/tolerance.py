"""The default tolerances of ``grade --variants`` (a light module: the CLI reads them without sympy)."""

from __future__ import annotations

__all__ = ["DEFAULT_ATOL", "DEFAULT_RTOL", "N_POINTS"]

DEFAULT_RTOL = 0.01
"""A number is right within 1 % of the gradient..."""
DEFAULT_ATOL = 5e-5
"""... or within half a unit of the fourth decimal, for answers near zero."""
N_POINTS = 4
"""Random points (besides the student's values) at which a formula is checked."""
