"""Grade one notebook against a problem set: read → locate → the answer engine → a NotebookResult.

:func:`grade_notebook` is the library call behind ``grade FILE.ipynb --problems P.toml``. Verdicts:
``correct``; ``wrong`` with the mistake named as ``grade --variants`` names it; ``needs-review``
(found but not decidable: an unknown name, an unreadable formula, a bare number without the
student's values); ``not-found``. Nothing in the notebook is run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.errors import UsageError
from grading.notebook.claims import find_claims, write_figures
from grading.notebook.engine import SharedPoints, StudentNames, check_steps, grade_text, questions_for
from grading.notebook.locate import definitions, find_answers
from grading.notebook.model import Notebook, NotebookResult
from grading.notebook.read import MAX_BYTES, InvalidNotebook, read_notebook

__all__ = ["Problems", "grade_notebook", "grade_read", "invalid_result", "load_problems"]


@dataclass(frozen=True)
class Problems:
    """A derive problem set and its ``[names]`` table (canonical name → the spellings allowed)."""

    problem_set: Any
    aliases: Mapping[str, tuple[str, ...]]
    seed: int
    source: str
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The questions without a variant, built once per class (the key's formulas take the engine a while)."""


def load_problems(path: str | Path) -> Problems:
    """Read a problem set and its optional ``[names]`` table (``v = ["u", "w2"]``), both checked by derive.

    Raises:
        UsageError: the file is missing or is not a valid problem set.
    """
    from derive.errors import DeriveError
    from derive.problemset import parse_problem_set

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"--problems {str(path)!r}: cannot read it ({getattr(exc, 'strerror', None) or exc}); "
            "give a problem-set .toml such as examples/hw1-2025.toml."
        ) from None
    try:
        ps = parse_problem_set(text, source=str(path))
    except DeriveError as exc:
        raise UsageError(str(exc)) from None
    return Problems(ps, dict(ps.names), ps.seed or 0, str(path))


def invalid_result(student: str | None, notebook: str, error: str, warnings: Sequence[str] = ()) -> NotebookResult:
    """The result of a notebook that could not be read: status ``invalid`` and one sentence."""
    return {
        "status": "invalid",
        "student": student,
        "notebook": notebook,
        "questions": [],
        "claims": [],
        "figures": [],
        "warnings": list(warnings),
        "errors": [error],
    }


def grade_notebook(
    path: str | Path,
    problems: str | Path | Problems,
    *,
    variants: Any = None,
    student: str | None = None,
    out: str | Path | None = None,
    max_bytes: int = MAX_BYTES,
) -> NotebookResult:
    """Grade the notebook at ``path`` against ``problems`` (a problem-set path or :func:`load_problems`).

    Args:
        variants: The student's own :class:`~grading.answers.variants.Variant` (or a sequence of them,
            or an answers.json path, picked by ``student``); numbers are then checked against theirs.
        student: The student's id, written into the result.
        out: Write the figures under ``out/figures/<student>/`` (paths in ``figures`` relative to ``out``).
        max_bytes: The largest notebook read.

    Returns:
        The NotebookResult (see :mod:`grading.notebook.model`); ``status`` ``invalid`` with one error
        when the file is not a readable notebook.

    Raises:
        UsageError: the problem set or the variants are wrong (the TA's input).
    """
    path = Path(path)
    probs = problems if isinstance(problems, Problems) else load_problems(problems)
    variant = _variant(variants, student)
    try:
        nb = read_notebook(path, max_bytes=max_bytes)
    except InvalidNotebook as exc:
        return invalid_result(student, path.name, str(exc))
    result = grade_read(nb, probs, variant=variant, student=student, out=out)
    if variants is not None and variant is None:
        result["warnings"].append(
            f"student {student!r} is not in the variants; the formulas were checked at random values."
        )
    return result


def grade_read(
    nb: Notebook, probs: Problems, *, variant: Any = None, student: str | None = None, out: str | Path | None = None
) -> NotebookResult:
    """Grade a notebook already read (:func:`grading.notebook.read.read_notebook`); see :func:`grade_notebook`."""
    warnings = list(nb.warnings)
    seed = probs.seed
    if variant is None:
        if "questions" not in probs.cache:
            probs.cache["questions"] = questions_for(probs.problem_set, None, seed=seed)
        eqs = probs.cache["questions"]
    else:
        eqs = questions_for(probs.problem_set, variant, seed=seed)
    all_defs = definitions(_chains_for_defs(nb))
    points = probs.cache.setdefault("points", {})  # the class's check points, worked out once (no variants)
    names_by_q = {
        eq.question.name: StudentNames(
            eq.question.model,
            probs.aliases,
            all_defs,
            points.setdefault(eq.question.name, SharedPoints(eq.question.model)) if variant is None else None,
        )
        for eq in eqs
    }
    canonical = {}
    for eq in eqs:
        c = eq.question.model.resolve(eq.question.wrt) or eq.question.wrt
        canonical[c] = eq.question.name
    first = names_by_q[eqs[0].question.name] if eqs else None
    found, steps, _ = find_answers(nb, list(canonical), first.resolve if first else (lambda _: None))
    questions = []
    for eq in eqs:
        q = eq.question
        c = next(k for k, v in canonical.items() if v == q.name)
        hit = found.get(c)
        names = names_by_q[q.name]
        row: dict[str, Any] = {
            "question": q.name,
            "found": hit is not None,
            "cell": hit.cell if hit else None,
            "snippet": hit.snippet if hit else None,
            "answer": hit.answer if hit else None,
            "verdict": "not-found",
            "misconception": None,
            "expected": _json_number(eq.expected),
            "points": 0.0,
            "max_points": q.points,
            "why": "no equation for this derivative and no printed value naming it was found.",
            "steps": [],
        }
        if hit is not None:
            result, why = grade_text(eq, hit.answer, names, seed=seed)
            verdict = {"correct": "correct", "wrong": "wrong", "missing": "not-found"}.get(
                result.verdict, "needs-review"
            )
            row.update(
                verdict=verdict,
                misconception=result.misconception,
                points=result.points if verdict == "correct" else 0.0,
                why=why if verdict == "needs-review" else result.why,
            )
            if eq.numbers_known and verdict != "needs-review":
                row["expected"] = _json_number(result.expected)
            row["steps"] = check_steps(eq, steps.get(c, []), names, seed=seed)
        questions.append(row)
    figures: list[dict[str, Any]] = []
    if out is not None:
        folder = Path(out) / "figures" / _safe(student or Path(nb.path).stem)
        figures = write_figures(nb, folder, Path(out))
    dropped = sorted({o.mime for c in nb.cells for o in c.outputs if o.kind == "other"})
    if dropped:
        warnings.append(f"outputs of type {', '.join(dropped[:6])} were not read (only text and images are).")
    return {
        "status": "graded",
        "student": student,
        "notebook": nb.path,
        "questions": questions,
        "claims": find_claims(nb),
        "figures": figures,
        "warnings": warnings,
        "errors": [],
    }


def _chains_for_defs(nb: Any) -> Any:
    from grading.notebook.locate import chains

    return chains(nb)


def _json_number(x: Any) -> Any:
    if isinstance(x, float):
        return None if x != x or x in (float("inf"), float("-inf")) else round(x, 12)
    return x


def _safe(name: str) -> str:
    """A folder name from a student id: letters, digits, CJK kept, at most 60 characters; when anything
    was changed, a short hash of the id is added so that two ids never share a folder."""
    import hashlib

    s = re.sub(r"[^\w.-]", "_", name, flags=re.UNICODE).strip("._")[:60]
    if s == name and s:
        return s
    return f"{s or 'student'}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def _variant(variants: Any, student: str | None) -> Any:
    from grading.answers.variants import Variant, load_variants

    if variants is None:
        return None
    if isinstance(variants, Variant):
        return variants
    vs = load_variants(variants) if isinstance(variants, (str, Path)) else variants
    if student is None:
        raise UsageError("--variants holds every student's numbers: give --student ID to say whose notebook it is.")
    return next((v for v in vs if v.student == student), None)
