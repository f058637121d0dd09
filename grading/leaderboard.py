"""Order a class into a leaderboard; write it as CSV and as a static HTML page.

Ranked by ``top1``, or by ``top1_per_param`` among the submissions whose top-1
reaches ``[ranking] min_top1`` and whose parameter count is known: a bare ratio
would reward a tiny useless model. The others follow, unranked, with the reason.
Ties share the better rank (1, 2, 2, 4). The reference baseline is a row of its
own, placed where its score puts it, without taking a rank. Invalid submissions
are not on the leaderboard (they are in the gradebook). A leaderboard posted to
the class can name students by id only or by pseudonym (:func:`anonymise`).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from grading.assignment import Ranking
from grading.gradebook import _cell
from grading.safety import strip_control

__all__ = ["Entry", "anonymise", "build_leaderboard", "pseudonyms", "render_leaderboard_csv", "render_leaderboard_html"]


@dataclass(frozen=True)
class Entry:
    """One leaderboard row."""

    rank: int | None
    student: str
    name: str
    top1: float | None
    top3: float | None
    params: int | None
    top1_per_param: float | None
    public_top1: float | None = None
    private_top1: float | None = None
    baseline: bool = False
    note: str = ""


def _entry(d: Mapping[str, Any], *, baseline: bool) -> Entry:
    r = d.get("report") or {}
    return Entry(
        None,
        d.get("student", ""),
        d.get("name", ""),
        r.get("top1"),
        r.get("top3"),
        r.get("params"),
        r.get("top1_per_param"),
        d.get("public_top1"),
        d.get("private_top1"),
        baseline,
        "reference baseline" if baseline else "",
    )


def build_leaderboard(
    students: Sequence[Mapping[str, Any]],
    ranking: Ranking,
    *,
    baseline: Mapping[str, Any] | None = None,
) -> list[Entry]:
    """Rank the valid submissions.

    Args:
        students: per-student dicts as in ``results.json`` (``status``, ``report``...).
        ranking: the ``[ranking]`` of the assignment.
        baseline: the baseline's dict in the same form, or ``None``.

    Returns:
        Ranked entries first (best first, baseline among them unranked), then the
        unranked ones by top-1.
    """
    entries = [_entry(s, baseline=False) for s in students if s.get("status") == "ok"]
    if baseline is not None and (baseline.get("report") or {}).get("top1") is not None:
        entries.append(_entry(baseline, baseline=True))
    key = ranking.by

    def eligible(e: Entry) -> str:
        if key == "top1":
            return "" if e.top1 is not None else "no top-1"
        if e.top1_per_param is None:
            return "no parameter count"
        if (e.top1 or 0.0) < ranking.min_top1:
            return f"top-1 below {ranking.min_top1:.2f}"
        return ""

    ranked = [e for e in entries if not eligible(e)]
    others = [e for e in entries if eligible(e)]
    ranked.sort(key=lambda e: (-getattr(e, key), -(e.top1 or 0.0), e.baseline, e.student))
    others.sort(key=lambda e: (-(e.top1 or 0.0), e.baseline, e.student))
    out: list[Entry] = []
    better = 0
    previous: float | None = None
    rank = 0
    for e in ranked:
        value = getattr(e, key)
        if e.baseline:
            out.append(e)
            continue
        if value != previous:
            rank = better + 1
            previous = value
        better += 1
        out.append(Entry(**(asdict(e) | {"rank": rank})))
    for e in others:
        note = "; ".join(n for n in (e.note, eligible(e)) if n)
        out.append(Entry(**(asdict(e) | {"note": note})))
    return out


def pseudonyms(students: Sequence[str], *, secret: bytes) -> dict[str, str]:
    """A stable, unique pseudonym per student (``anon-3f9a2c``), keyed by a secret.

    The pseudonym is an HMAC of the student id, so a student who knows the
    others' ids cannot work out whose row is whose without the secret (use
    something students do not have, such as the answer key's bytes). The same
    secret gives the same pseudonyms on every run.

    >>> p = pseudonyms(["b1", "b2"], secret=b"key")
    >>> sorted(p) == ["b1", "b2"] and len(set(p.values())) == 2 and p["b1"].startswith("anon-")
    True
    """
    digests = {s: hmac.new(secret, s.encode("utf-8"), hashlib.sha256).hexdigest() for s in students}
    width = 6
    while len({d[:width] for d in digests.values()}) < len(digests) and width < 64:
        width += 2
    return {s: f"anon-{d[:width]}" for s, d in digests.items()}


def anonymise(entries: Sequence[Entry], show: str, aliases: Mapping[str, str]) -> list[Entry]:
    """The entries as published: ``"names"`` as they are, ``"ids"`` without names, ``"pseudonyms"``
    with each student replaced by ``aliases[student]`` and no name. The baseline keeps its name."""
    if show == "names":
        return list(entries)
    out = []
    for e in entries:
        if e.baseline:
            out.append(e)
        else:
            who = aliases[e.student] if show == "pseudonyms" else e.student
            out.append(Entry(**(asdict(e) | {"student": who, "name": ""})))
    return out


_COLUMNS = ["rank", "student", "name", "top1", "top3", "params", "top1_per_param"]


def _columns(split: bool) -> list[str]:
    return _COLUMNS + (["public_top1", "private_top1"] if split else []) + ["note"]


def render_leaderboard_csv(entries: Sequence[Entry], *, split: bool) -> str:
    """The leaderboard as CSV text (all cells quoted, formulas defused)."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    cols = _columns(split)
    writer.writerow(cols)
    for e in entries:
        d = asdict(e)
        d["rank"] = e.rank if e.rank is not None else ("baseline" if e.baseline else "")
        writer.writerow([_cell(d[c]) for c in cols])
    return buf.getvalue()


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "ratio":
        return f"{value:.3e}"
    if kind == "int":
        return f"{value:,}"
    return f"{100 * value:.2f}%"


def render_leaderboard_html(entries: Sequence[Entry], *, title: str, ranking: Ranking, split: bool, k: int = 3) -> str:
    """A static, self-contained HTML page (jinja2, autoescaped)."""
    from grading.feedback import template_env

    rows = [
        {
            "rank": e.rank,
            "student": strip_control(e.student),
            "name": strip_control(e.name),
            "baseline": e.baseline,
            "note": e.note,
            "top1": _fmt(e.top1, "pct"),
            "top3": _fmt(e.top3, "pct"),
            "params": _fmt(e.params, "int"),
            "ratio": _fmt(e.top1_per_param, "ratio"),
            "public": _fmt(e.public_top1, "pct"),
            "private": _fmt(e.private_top1, "pct"),
        }
        for e in entries
    ]
    rule = (
        "top-1 accuracy"
        if ranking.by == "top1"
        else f"top-1 accuracy ÷ number of parameters, among submissions with top-1 ≥ {100 * ranking.min_top1:.0f}%"
    )
    names = ranking.show == "names"
    return (
        template_env()
        .get_template("leaderboard.html.j2")
        .render(
            title=title,
            rows=rows,
            split=split,
            rule=rule,
            k=k,
            n_ranked=sum(e.rank is not None for e in entries),
            names=names,
        )
    )
