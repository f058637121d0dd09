"""Answer keys: solve a problem set for one seed (or one student) and render it as LaTeX.

Data flows one way: :func:`solve` draws or takes each item's values and works
every question out (:class:`Sheet`); :func:`render_tex` turns a sheet into a
LaTeX document through the jinja2 templates ``templates/key_*.tex.j2``, as a
question sheet or as an answer sheet. Only pre-rendered strings and numbers
reach the templates, and every string a user wrote (title, question, student
name) goes through :func:`latex_escape`.

Per-student variants draw their numbers from a seed derived from
``(seed, student id, item id)`` with SHA-256 (:func:`derived_seed`), so a
variant is the same on every machine and in every Python.

>>> derived_seed(7, "b0123", "1") == derived_seed(7, "b0123", "1")
True
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from derive.errors import DeriveError
from derive.pdf import aligned, label_latex, latex_escape
from derive.problemset import DEFAULT_SEED, Item, ProblemSet, Student
from derive.steps import Derivation, Step, latex_number

__all__ = [
    "KeyFiles",
    "Part",
    "Sheet",
    "Solved",
    "derived_seed",
    "render_tex",
    "solve",
    "write_keys",
]


@dataclass(frozen=True)
class Part:
    """The worked answer to one variable asked by an item.

    Attributes:
        name: The answer's key in ``answers.json`` (``"w11"``, ``"out"``, ``"params"``).
        derivation: Its steps and boxed result.
        value: The number (a float, or an int for shapes and counts).
        table_latex: A LaTeX table shown before the steps (the parameter table), or ``""``.
    """

    name: str
    derivation: Derivation
    value: float | int
    table_latex: str = ""


@dataclass(frozen=True)
class Solved:
    """One item worked out: the values used (``None`` for shape and count questions) and its parts."""

    item: Item
    values: dict[str, Any] | None
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Sheet:
    """A problem set solved for one seed, and for one student when variants are made."""

    problem_set: ProblemSet
    seed: int
    student: Student | None
    solved: tuple[Solved, ...]

    def answers(self) -> dict[str, float | int]:
        """Each variable asked mapped to its number; ``"<item id>.<name>"`` where two items ask the same name."""
        names = [p.name for s in self.solved for p in s.parts]
        out: dict[str, float | int] = {}
        for s in self.solved:
            for p in s.parts:
                out[p.name if names.count(p.name) == 1 else f"{s.item.id}.{p.name}"] = p.value
        return out

    def values(self) -> dict[str, Any]:
        """The values in the ``--values`` layout; keyed by item id when several items have values."""
        with_values = [s for s in self.solved if s.values is not None]
        if len(with_values) == 1:
            return with_values[0].values  # type: ignore[return-value]
        return {s.item.id: s.values for s in with_values}

    def to_dict(self) -> dict[str, Any]:
        """One entry of ``answers.json``: ``{"student", "name", "seed", "values", "answers"}``."""
        return {
            "student": self.student.id if self.student else None,
            "name": self.student.name if self.student else None,
            "seed": self.seed,
            "values": self.values(),
            "answers": self.answers(),
        }


def derived_seed(seed: int, *parts: str) -> int:
    """A 32-bit seed from ``seed`` and text ``parts`` via SHA-256 (stable, unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big")


# ------------------------------------------------------------------ solving


def solve(problem_set: ProblemSet, *, seed: int | None = None, student: Student | None = None) -> Sheet:
    """Work out every item of ``problem_set``.

    Args:
        problem_set: A validated problem set.
        seed: The seed for random values; defaults to the set's ``seed``, then :data:`DEFAULT_SEED`.
        student: Draw this student's own numbers (from ``seed`` and the id).

    Returns:
        The :class:`Sheet`; items with given values use them for every student.
    """
    if seed is None:
        seed = problem_set.seed if problem_set.seed is not None else DEFAULT_SEED
    who = student.id if student else ""
    solved = tuple(_solve_item(item, derived_seed(seed, who, item.id)) for item in problem_set.items)
    return Sheet(problem_set=problem_set, seed=seed, student=student, solved=solved)


def _solve_item(item: Item, seed: int) -> Solved:
    if item.kind == "conv-shape":
        return Solved(item, None, _conv_shape_parts(item.problem))
    if item.kind == "params":
        return Solved(item, None, (_params_part(item.problem.model, item.problem.input_shape),))
    if item.kind == "softmax-ce":
        from derive.softmax_ce import check_values, derive_softmax_ce as derive_one, random_values
    elif item.kind == "batchnorm":
        from derive.batchnorm import check_values, derive_batchnorm as derive_one, random_values
    else:
        from derive.engine import gradient
        from derive.values import check_values as check_conv, random_values

        def check_values(problem: Any, values: Mapping[str, Any]) -> Any:
            return check_conv(values, problem)

        def derive_one(problem: Any, wrt: str, *, values: Mapping[str, Any]) -> Derivation:
            return gradient(problem, wrt, values=values, check=False).to_derivation()

    raw = dict(item.values) if item.values is not None else random_values(item.problem, seed)
    values = check_values(item.problem, raw)
    parts = []
    for name in item.wrt:
        d = derive_one(item.problem, name, values=values)
        assert d.result.value is not None
        parts.append(Part(name=name, derivation=d, value=d.result.value))
    return Solved(item, raw, tuple(parts))


def _conv_shape_parts(shape: Any) -> tuple[Part, ...]:
    from derive.shapes import conv_output_size

    dims = [conv_output_size(shape.input[d], shape.kernel[d], shape.stride[d], shape.padding[d]) for d in range(2)]
    c_in, c_out = (str(c) for c in shape.channels) if shape.channels else ("C_{in}", "C_{out}")
    final = Step("output shape", f"(B, {c_in}, {shape.input[0]}, {shape.input[1]}) \\to (B, {c_out}, {dims[0].result}, {dims[1].result})",
                 f"(B, {c_in}, {shape.input[0]}, {shape.input[1]}) → (B, {c_out}, {dims[0].result}, {dims[1].result})",
                 None, "Output size")
    formula = Step("formula", "\\left\\lfloor \\frac{W + 2P - K}{S} \\right\\rfloor + 1", "⌊(W + 2P − K)/S⌋ + 1", None, "Output size")
    notes = ["No +1 inside the floor: a kernel of size K fits ⌊(W + 2P − K)/S⌋ + 1 times."]
    square = len(shape.variables) == 1
    parts = []
    for name, label, step in zip(shape.variables, ("H = W",) if square else ("H", "W"), dims):
        side = {"H": "H_{out}", "W": "W_{out}", "H = W": "H_{out} = W_{out}"}[label]
        work = Step(name, f"{side} = {step.latex()}", f"{label}_out = {step.text()}", float(step.result), "Output size")
        steps = (formula, work, final) if name != "out_h" else (formula, work)
        d = Derivation(title=f"{label} output size", steps=steps, result=work,
                       notes=tuple(notes + ([step.note] if step.note else [])))
        parts.append(Part(name=name, derivation=d, value=step.result))
    return tuple(parts)


@lru_cache(maxsize=16)
def _params_part(model: str, input_shape: tuple[int, ...] | None) -> Part:
    from reference_models.errors import ModelError
    from reference_models.summary import param_table

    try:
        table = param_table(model, input_shape)
    except ModelError as exc:
        raise DeriveError(f"parameter table of {model!r}: {exc}") from None
    counted = [row.params for row in table.layers if row.params]
    total_latex = f"\\text{{total}} = {_int_latex(table.total)}"
    if 1 < len(counted) <= 12:
        total_latex = "\\text{total} = " + " + ".join(_int_latex(n) for n in counted) + f" = {_int_latex(table.total)}"
    result = Step("params", total_latex, f"total = {table.total:,}", float(table.total), "Parameters")
    d = Derivation(title=f"Parameters of {model}", steps=(result,), result=result, notes=(table.check_line(),))
    return Part(name="params", derivation=d, value=table.total, table_latex=table.to_latex())


# ---------------------------------------------------------------- rendering

_SYMBOLS = {"gamma": r"\gamma", "beta": r"\beta", "eps": r"\epsilon", "dy": r"\frac{\partial L}{\partial y_i}"}


def _latex_value(value: Any) -> str:
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        rows = [" & ".join(latex_number(float(v)) for v in row) for row in value]
        return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(latex_number(float(v)) for v in value) + ")"
    return latex_number(float(value))


def _given(values: Mapping[str, Any]) -> list[str]:
    return [f"{_SYMBOLS.get(k, k)} = {_latex_value(v)}" for k, v in values.items()]


def _int_latex(n: int) -> str:
    """``3177418`` → ``3{,}177{,}418``."""
    return f"{n:,}".replace(",", "{,}")


def _boxed(part: Part) -> str:
    """The result as ``lhs = number``: the left side of the result step and the part's value."""
    lhs = part.derivation.result.latex.split(" = ", 1)[0]
    number = _int_latex(part.value) if isinstance(part.value, int) else latex_number(part.value)
    return f"{lhs} = {number}"


_BN_LATEX = {"gamma": r"\gamma", "beta": r"\beta", "var": r"\sigma_B^2", "mu": r"\mu_B"}


def _wrt_latex(item: Item, name: str) -> str:
    if item.kind == "batchnorm":
        return _BN_LATEX.get(name, f"x_{{{name[1:]}}}")
    if item.kind == "softmax-ce":
        return "z" if name == "z" else f"z_{{{name[1:]}}}"
    from derive.printer import latex_name

    return latex_name(name)


def _question(item: Item) -> str:
    """The question in the handouts' words (``templates/key_question.tex.j2``) when the TA wrote none."""
    p = item.problem
    context: dict[str, Any] = {"kind": item.kind, "asked": [_wrt_latex(item, n) for n in item.wrt]}
    if item.kind == "conv-gradient":
        context.update(p.to_dict(), n_dense=p.n_dense, rows=p.input[0], cols=p.input[1], krows=p.kernel[0],
                       kcols=p.kernel[1])
    elif item.kind == "softmax-ce":
        context.update(activation=p.activation, classes=p.classes)
    elif item.kind == "batchnorm":
        context.update(batch=p.batch)
    elif item.kind == "conv-shape":
        same = p.kernel[0] == p.kernel[1]
        context.update(
            height=p.input[0], width=p.input[1], kernel=p.kernel[0] if same else f"{p.kernel[0]}\\times{p.kernel[1]}",
            stride=_pair(p.stride), padding=_pair(p.padding),
            c_in=p.channels[0] if p.channels else "C_{in}", c_out=p.channels[1] if p.channels else "C_{out}",
        )
    else:
        from reference_models.registry import get

        spec = get(p.model)
        context.update(model=latex_escape(p.model), description=latex_escape(spec.description),
                       shape="\\times".join(str(d) for d in (p.input_shape or spec.input_shape)))
    return _environment().get_template("key_question.tex.j2").render(**context).strip()


def _pair(pair: tuple[Any, Any]) -> str:
    return latex_escape(str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})")


def _item_context(solved: Solved, *, answers: bool) -> dict[str, Any]:
    item = solved.item
    parts = []
    seen: set[str] = set()  # forward-pass lines already shown for this item
    seen_notes: set[str] = set()
    for part in solved.parts:
        d = part.derivation
        shown = [s for s in d.steps if s.group != "Given"] + ([] if d.result in d.steps else [d.result])
        repeated = [s for s in shown if s.group == "Forward pass" and s.latex in seen]
        seen.update(s.latex for s in shown if s.group == "Forward pass")
        steps, group = [], None
        for s in shown:
            if s in repeated:
                continue
            steps.append({"heading": label_latex(s.group) if s.group != group else "", "name": label_latex(s.name) if " " in s.name else "",
                          "math": aligned(s.latex)})
            group = s.group
        notes = [label_latex(n) for n in d.notes if n not in seen_notes]
        seen_notes.update(d.notes)
        if repeated:
            notes.insert(0, "The forward pass is the one worked out above.")
        parts.append({
            "title": label_latex(d.title),
            "table": part.table_latex,
            "steps": steps,
            "boxed": _boxed(part),
            "notes": notes,
        })
    points = item.points
    return {
        "number": item.number,
        "title": latex_escape(item.title) if item.title else "",
        "points": "" if points is None else f"({points:g} point{'' if points == 1 else 's'})",
        "question": latex_escape(item.question) if item.question else _question(item),
        "given": _given(solved.values) if solved.values is not None else [],
        "parts": parts if answers else [],
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import templates

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(templates.__file__).parent),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
        undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_tex(sheet: Sheet, *, answers: bool = True) -> str:
    """Render ``sheet`` as a complete LaTeX document: the answer key, or with ``answers=False`` the questions."""
    ps = sheet.problem_set
    student = ""
    if sheet.student is not None:
        who = sheet.student.name or sheet.student.id
        student = latex_escape(who if not sheet.student.name else f"{sheet.student.name} ({sheet.student.id})")
    total = ps.total_points
    return _environment().get_template("key_document.tex.j2").render(
        title=latex_escape(ps.title),
        subtitle=latex_escape(ps.subtitle) if ps.subtitle else "",
        kind="Answer key" if answers else "Questions",
        student=student,
        seed=sheet.seed,
        total_points=(str(int(total)) if total == int(total) else f"{total:g}") if total else "",
        items=[_item_context(s, answers=answers) for s in sheet.solved],
    )


# ------------------------------------------------------------------ writing


@dataclass(frozen=True)
class KeyFiles:
    """What :func:`write_keys` wrote: the sheets, the ``.tex`` and PDF files, ``answers.json``."""

    sheets: tuple[Sheet, ...]
    tex: tuple[Path, ...]
    pdfs: tuple[Path, ...]
    answers_json: Path | None


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return slug or "student"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_keys(
    problem_set: ProblemSet,
    out: str | Path,
    *,
    seed: int | None = None,
    roster: tuple[Student, ...] | None = None,
    tex_only: bool = False,
    jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> KeyFiles:
    """Write one answer key, or a question and an answer sheet per student of ``roster``.

    Without a roster, ``out`` is the key's path (``key.pdf``; its ``.tex`` goes beside it).
    With a roster, ``out`` is a folder that receives ``<student>-questions.pdf``,
    ``<student>-answers.pdf``, their sources under ``tex/``, and ``answers.json``.

    Args:
        problem_set: The validated problem set.
        out: Where to write (a file without roster, a folder with one).
        seed: The seed (default: the set's own, then :data:`DEFAULT_SEED`).
        roster: Students, each getting their own numbers.
        tex_only: Stop at the ``.tex`` files.
        jobs: Parallel pdflatex runs (default: the number of cores).
        on_progress: Called as ``on_progress(done, total)`` after each PDF.

    Raises:
        DeriveError: TeX missing (the ``.tex`` files are kept), or a LaTeX error.
    """
    from derive.pdf import compile_many

    out = Path(out)
    if roster is None:
        if out.suffix.lower() not in (".pdf", ".tex"):
            raise DeriveError(f"--out {str(out)!r}: without --roster, give the key's file name, such as key.pdf.")
        if out.exists() and out.is_dir():
            raise DeriveError(f"--out {str(out)!r} is a folder; give a file name such as {out / 'key.pdf'}, or add --roster.")
        sheet = solve(problem_set, seed=seed)
        tex = _write(out.with_suffix(".tex"), render_tex(sheet))
        pdfs = () if tex_only else tuple(compile_many([tex], jobs=1, on_done=_counter(1, on_progress)))
        return KeyFiles((sheet,), (tex,), pdfs, None)
    if out.suffix.lower() in (".pdf", ".tex") or (out.exists() and not out.is_dir()):
        raise DeriveError(f"--out {str(out)!r}: with --roster, give a folder (such as keys/) for one PDF pair per student.")
    sheets = tuple(solve(problem_set, seed=seed, student=s) for s in roster)
    texs: list[Path] = []
    used: set[str] = set()
    for sheet in sheets:
        assert sheet.student is not None
        slug, k = _slug(sheet.student.id), 2
        while slug in used:
            slug, k = f"{_slug(sheet.student.id)}-{k}", k + 1
        used.add(slug)
        for kind, answers in (("questions", False), ("answers", True)):
            texs.append(_write(out / "tex" / f"{slug}-{kind}.tex", render_tex(sheet, answers=answers)))
    answers_json = _write(out / "answers.json", json.dumps([s.to_dict() for s in sheets], indent=2, ensure_ascii=False) + "\n")
    pdfs: list[Path] = []
    if not tex_only:
        for pdf in compile_many(texs, jobs=jobs, on_done=_counter(len(texs), on_progress)):
            pdfs.append(Path(os.replace(pdf, out / pdf.name) or out / pdf.name))
            pdf.with_suffix(".log").unlink(missing_ok=True)
    return KeyFiles(sheets, tuple(texs), tuple(pdfs), answers_json)


def _counter(total: int, on_progress: Callable[[int, int], None] | None) -> Callable[[Path], None] | None:
    if on_progress is None:
        return None
    done = [0]

    def tick(_: Path) -> None:
        done[0] += 1
        on_progress(done[0], total)

    return tick
