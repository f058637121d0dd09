"""A whole class's sheets in a few LaTeX runs: batch, split, cache, and isolate a failing sheet.

`derive key --roster` used to run LuaLaTeX once per PDF, paying its start-up and the
CJK font loading 120 times for 60 students. Here every sheet of one kind (questions
or answers) with the same preamble goes into one document, each sheet starting on a
new page with its page counter reset; the log records where each sheet starts
(``\\ReadonlyShipoutCounter``) and :mod:`pypdf` splits the result into the
per-student files. The questions and answers documents compile side by side (one per
core). Each sheet's source is hashed into ``.derive-key-hashes.json`` in the output
folder, so a second run with the same problem set, roster and seed starts no LaTeX.

A sheet that stops LaTeX is found from the error's line, reported with its student
and its own ``.tex`` line, and left out; the rest of the class compiles again
without it. A failure outside any sheet (the shared preamble) falls back to one run
per sheet (:func:`derive.pdf.compile_pdf`). No run ever has shell escape.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from derive.pdf import LUALATEX_MAGIC, LatexError, compile_pdf, have_tex, latex_env, latex_flags, quote_error

__all__ = ["ClassPdfs", "Job", "compile_class", "compile_roster", "join_for_printing"]

HASHES = ".derive-key-hashes.json"
"""The file in the output folder that maps each PDF to the hash of the source it was made from."""

_SALT = "gradkit-pdfbatch-1"  # bump when the way PDFs are made changes: every sheet is rebuilt
_BEGIN, _END = "\\begin{document}\n", "\\end{document}"
_MARK = re.compile(r"^gradkit-sheet:(\d+):(\d+)$", re.M)


@dataclass(frozen=True)
class Job:
    """One sheet to compile: its ``.tex`` (already written) and who it belongs to (for messages)."""

    tex: Path
    who: str


@dataclass
class ClassPdfs:
    """What :func:`compile_class` made: the PDFs in the sheets' order, how many were reused, what failed."""

    pdfs: list[Path] = field(default_factory=list)
    reused: int = 0
    failed: list[tuple[Job, str]] = field(default_factory=list)


def _split(source: str) -> tuple[str, str]:
    """A document's preamble (up to and including ``\\begin{document}``) and its body."""
    head, sep, rest = source.partition(_BEGIN)
    body, end, _ = rest.rpartition(_END)
    if not sep or not end:
        raise LatexError("internal: a sheet without \\begin{document} ... \\end{document}; please report it.")
    return head + sep, body


def _digest(source: str) -> str:
    return hashlib.sha256((_SALT + "\0" + source).encode("utf-8")).hexdigest()


def compile_class(
    sheets: Sequence[Job],
    out: Path,
    *,
    jobs: int | None = None,
    on_done: Callable[[Path], None] | None = None,
) -> ClassPdfs:
    """Compile ``sheets`` into ``out/<tex stem>.pdf`` in as few LaTeX runs as the cores allow.

    Sheets whose PDF is there and whose source hash is unchanged are reused. A sheet
    that fails is left out with its message in ``failed``; every other sheet is made.
    """
    jobs = jobs or os.cpu_count() or 1
    store = out / HASHES
    try:
        known = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    except (OSError, ValueError):
        known = {}
    known = known if isinstance(known, dict) else {}
    sources = [s.tex.read_text(encoding="utf-8") for s in sheets]
    digests = [_digest(src) for src in sources]
    targets = [out / (s.tex.stem + ".pdf") for s in sheets]
    result = ClassPdfs()
    todo: dict[str, list[int]] = {}
    for k, src in enumerate(sources):
        if targets[k].exists() and known.get(targets[k].name) == digests[k]:
            result.reused += 1
            if on_done is not None:
                on_done(targets[k])
            continue
        known.pop(targets[k].name, None)
        todo.setdefault(_split(src)[0], []).append(k)  # questions and answers share their preamble
    if todo and not have_tex():
        compile_pdf(sheets[next(iter(todo.values()))[0]].tex)  # raises the "install TeX" message, the .tex kept
    batches = _balance(list(todo.items()), sources, jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        runs = [
            pool.submit(_run_batch, name, head, [(sheets[k], sources[k], targets[k]) for k in ks], on_done)
            for name, head, ks in batches
        ]
        for run in runs:
            made, failed = run.result()
            result.failed += failed
            for job, _ in failed:  # never leave last run's PDF of a sheet that no longer compiles
                (out / (job.tex.stem + ".pdf")).unlink(missing_ok=True)
            for target in made:
                known[target.name] = digests[targets.index(target)]
    tmp = store.with_name(store.name + ".part")
    tmp.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, store)
    result.pdfs = [t for t in targets if t.exists() and t.name in known]
    return result


def _balance(
    groups: list[tuple[str, list[int]]], sources: Sequence[str], jobs: int
) -> list[tuple[str, str, list[int]]]:
    """Cut the groups (one per preamble) into about ``jobs`` runs of similar length: the longest run is halved."""
    runs = [(head, ks) for head, ks in groups]

    def size(ks: list[int]) -> int:
        return sum(len(sources[k]) for k in ks)

    while 0 < len(runs) < jobs:
        runs.sort(key=lambda run: size(run[1]))
        head, ks = runs[-1]
        if len(ks) < 2:
            break
        total, half = size(ks), 1
        while half < len(ks) - 1 and 2 * size(ks[:half]) < total:
            half += 1
        runs[-1:] = [(head, ks[:half]), (head, ks[half:])]
    runs.sort(key=lambda run: run[1][0])
    return [(f"class-{n + 1}", head, ks) for n, (head, ks) in enumerate(runs)]


def _run_batch(
    name: str, head: str, members: list[tuple[Job, str, Path]], on_done: Callable[[Path], None] | None
) -> tuple[list[Path], list[tuple[Job, str]]]:
    """Compile ``members`` as one document; drop a failing sheet and try again. Returns (made, failed)."""
    failed: list[tuple[Job, str]] = []
    members = list(members)
    while members:
        folder = members[0][0].tex.parent
        lines, spans = _document(head, [src for _, src, _ in members])
        tex = folder / f"{name}.tex"
        tex.write_text(lines, encoding="utf-8")
        error = _latex(tex)
        made = _split_pdf(tex, [target for _, _, target in members], on_done) if error is None else []
        for ext in (".aux", ".log", ".pdf", ".tex"):  # the class document is rebuilt from the sheets' own .tex
            tex.with_suffix(ext).unlink(missing_ok=True)
        if error is None:
            return made, failed
        line, message = error
        culprit = next((k for k, (lo, hi, _) in enumerate(spans) if line is not None and lo <= line < hi), None)
        if culprit is None:  # an error outside every sheet (the shared preamble): one run per sheet
            made = []
            for sheet, _, target in members:
                try:
                    pdf = compile_pdf(sheet.tex)
                except LatexError as exc:
                    failed.append((sheet, f"{sheet.who}: {exc}"))
                    continue
                os.replace(pdf, target)
                made.append(target)
                if on_done is not None:
                    on_done(target)
            return made, failed
        sheet = members.pop(culprit)[0]
        assert line is not None
        own = line - spans[culprit][0] + spans[culprit][2]  # the line in the sheet's own .tex
        failed.append((sheet, f"{sheet.who}: {quote_error(sheet.tex, own, message)}"))
    return [], failed


def _document(head: str, sources: list[str]) -> tuple[str, list[tuple[int, int, int]]]:
    """The class document and, per sheet, (first line, end line) in it and the body's first line in its own file."""
    out = [head.rstrip("\n")]
    spans = []
    line = head.count("\n") + 1
    for k, src in enumerate(sources):
        own_head, body = _split(src)
        out.append(
            f"\\clearpage\\setcounter{{page}}{{1}}\\setcounter{{footnote}}{{0}}"
            f"\\typeout{{^^Jgradkit-sheet:{k}:\\the\\ReadonlyShipoutCounter}}"
        )
        line += 1
        text = body.rstrip("\n")
        spans.append((line, line + text.count("\n") + 1, own_head.count("\n") + 1))
        out.append(text)
        line += text.count("\n") + 1
    out.append(_END + "\n")
    return "\n".join(out), spans


def _latex(tex: Path) -> tuple[int | None, str] | None:
    """Run LaTeX once on ``tex`` (never shell escape); ``None`` when it worked, else (line, message)."""
    with tex.open(encoding="utf-8") as fh:
        engine = "lualatex" if fh.readline().strip() == LUALATEX_MAGIC else "pdflatex"
    try:
        run = subprocess.run(
            [engine, *latex_flags(), tex.name],
            cwd=tex.parent,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=600,
            env=latex_env(),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return None, f"{engine} did not finish within 600 s"
    if run.returncode == 0 and tex.with_suffix(".pdf").exists():
        return None
    log_path = tex.with_suffix(".log")
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else run.stdout
    match = re.search(r"^(?:\./)?[^:\n]+\.tex:(\d+): (.*)$", log, re.M)
    if match is None:
        bang = re.search(r"^! (.*)$", log, re.M)
        return None, bang.group(1) if bang else "see the .log file"
    return int(match.group(1)), match.group(2).strip()


def _split_pdf(tex: Path, targets: list[Path], on_done: Callable[[Path], None] | None) -> list[Path]:
    """Cut the class PDF at the sheet starts the log recorded into one file per sheet."""
    from pypdf import PdfReader, PdfWriter

    log = tex.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    starts = {int(k): int(page) for k, page in _MARK.findall(log)}
    reader = PdfReader(tex.with_suffix(".pdf"))
    bounds = [starts[k] for k in range(len(targets))] + [len(reader.pages)]
    for k, target in enumerate(targets):
        writer = PdfWriter()
        for page in reader.pages[bounds[k] : bounds[k + 1]]:
            writer.add_page(page)
        _save(writer, target)
        if on_done is not None:
            on_done(target)
    return targets


def _save(writer: object, target: Path) -> None:
    tmp = target.with_name(target.name + ".part")
    with tmp.open("wb") as fh:
        writer.write(fh)  # type: ignore[attr-defined]
    os.replace(tmp, target)


def join_for_printing(pdfs: Sequence[Path], target: Path) -> Path:
    """Every PDF of ``pdfs`` in order in one file, each starting on an odd page (a blank page between when needed)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for k, path in enumerate(pdfs):
        reader = PdfReader(path)
        for page in reader.pages:
            writer.add_page(page)
        if len(reader.pages) % 2 and k < len(pdfs) - 1:
            box = reader.pages[-1].mediabox
            writer.add_blank_page(width=box.width, height=box.height)
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)  # one copy of each font
    _save(writer, target)
    return target


def compile_roster(
    sheets: Sequence[Any],
    texs: Sequence[Path],
    out: Path,
    *,
    jobs: int | None = None,
    on_done: Callable[[Path], None] | None = None,
) -> ClassPdfs:
    """The PDFs of ``derive key --roster``: each student's questions and answers, and the two printing files.

    ``texs`` holds each sheet's questions and answers ``.tex`` in turn (as
    :func:`derive.key.write_keys` writes them). ``out/class-questions.pdf`` and
    ``out/class-answers.pdf`` hold every sheet in roster order, each from an odd page.

    Raises:
        LatexError: some sheets failed; every other PDF is written, the message names
            the students, the missing files and the first offending line.
    """
    jobs_ = []
    for k, tex in enumerate(texs):
        student = sheets[k // 2].student
        name = "".join(c for c in (student.name or "") if c.isprintable())
        who = f"student {student.id}" + (f" ({name})" if name else "")
        jobs_.append(Job(tex, who))
    made = compile_class(jobs_, out, jobs=jobs, on_done=on_done)
    for group in ("questions", "answers"):
        printing = out / f"class-{group}.pdf"
        mine = [p for p in made.pdfs if p.stem.endswith(f"-{group}")]
        if mine and (made.reused < len(texs) or not printing.exists()):
            join_for_printing(mine, printing)
    if made.failed:
        missing = ", ".join(job.tex.stem + ".pdf" for job, _ in made.failed)
        raise LatexError(
            f"{len(made.pdfs)} of {len(texs)} PDFs written in {out}/; missing: {missing}. "
            f"{len(made.failed)} sheet(s) failed, the first: {made.failed[0][1]}"
        )
    return made
