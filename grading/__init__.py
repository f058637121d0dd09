"""grading: score students' prediction CSVs, one file or a whole class.

>>> import grading
>>> key = grading.AnswerKey.from_lists(["0000000.png", "0000001.png"], [0, 8], classes=range(10))
>>> grading.grade_bytes(b"image,class\\n0000000.png,0\\n0000001.png,8\\n", key).top1
1.0
"""

from grading.assignment import Assignment, load_assignment
from grading.batch import ClassResult, grade_class
from grading.errors import GradingError, InvalidSubmission, UsageError
from grading.key import AnswerKey, load_key
from grading.lms import LmsGrade, LmsImport, fill_lms_template, write_lms_import
from grading.metrics import (
    TIE_RULE,
    accuracy_score,
    confusion_matrix,
    precision_recall_scores,
    top_k_accuracy_score,
)
from grading.modelparams import count_parameters
from grading.report import GradeReport, Issue
from grading.score import DEFAULT_K, grade_bytes, grade_file

__all__ = [
    "DEFAULT_K",
    "TIE_RULE",
    "AnswerKey",
    "AnswersResult",
    "Assignment",
    "ClassResult",
    "GradeReport",
    "GradingError",
    "InvalidSubmission",
    "Issue",
    "LmsGrade",
    "LmsImport",
    "UsageError",
    "accuracy_score",
    "confusion_matrix",
    "count_parameters",
    "fill_lms_template",
    "grade_answers",
    "grade_bytes",
    "grade_class",
    "grade_file",
    "load_assignment",
    "load_key",
    "precision_recall_scores",
    "top_k_accuracy_score",
    "write_lms_import",
]


def __getattr__(name: str) -> object:
    """``grade_answers`` and ``AnswersResult`` load sympy and the engine: imported on first use only."""
    if name in ("AnswersResult", "grade_answers"):
        import grading.answers

        return getattr(grading.answers, name)
    raise AttributeError(f"module 'grading' has no attribute {name!r}")
