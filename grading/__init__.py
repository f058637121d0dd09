"""grading: score students' prediction CSVs, one file or a whole class."""

from grading.errors import GradingError, InvalidSubmission, UsageError

__all__ = ["GradingError", "InvalidSubmission", "UsageError"]
