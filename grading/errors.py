"""The one exception tree of :mod:`grading`.

:class:`GradingError` is the root (a ``ValueError``). :class:`UsageError` means
the TA's own input is wrong (no key, a key without an id column, a bad option):
exit code 2. :class:`InvalidSubmission` means a student's file cannot be scored:
exit code 1. Neither message may ever reveal a label from the answer key.
"""

from __future__ import annotations

__all__ = ["GradingError", "InvalidSubmission", "UsageError"]


class GradingError(ValueError):
    """Root of every error the grading package raises on purpose."""


class UsageError(GradingError):
    """The TA's input (key, assignment file, options) is wrong: exit code 2."""


class InvalidSubmission(GradingError):
    """A student's file cannot be scored at all: exit code 1."""
