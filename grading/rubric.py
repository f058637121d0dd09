"""Rubric rules: turn a student's metrics into points.

A rubric is a list of rules from the ``[[rubric]]`` tables of ``assignment.toml``;
a student's mark is the sum of the rules' points (rounded to 2 decimals). Accuracies
are fractions from 0 to 1, so "+10 points of top-1" is written ``margin = 0.10``.

=============  =====================================================================
``rule``       points
=============  =====================================================================
``linear``     0 at or below ``floor``, ``points`` at or above ``target``, linear
               in between (``metric`` defaults to ``top1``).
``thresholds`` the points of the highest step reached:
               ``steps = [{at = 0.8, points = 5}, {at = 0.9, points = 10}]``.
``baseline``   ``points`` when the metric beats the reference baseline by
               ``margin``; with ``partial = true``, linear from the baseline's value
               (0 points) to baseline + margin (all points).
``rank``       ranks the class on ``metric`` (default ``top1_per_param``) among the
               valid submissions whose top-1 is at least ``min_top1``; the best gets
               ``points``, the last qualifying gets ``min_points`` (default 0), linear
               in the rank between; ties share the better rank; others get 0.
=============  =====================================================================

An invalid submission gets 0 points from every rule. A rule whose metric is
unavailable for a student (no parameter count, no top-3) also gives 0, and the
explanation says why.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from grading.errors import UsageError

__all__ = ["METRICS", "RULE_KINDS", "RubricScore", "Rule", "RuleScore", "parse_rubric", "score_class"]

METRICS = ("top1", "top3", "top1_per_param")
RULE_KINDS = ("baseline", "linear", "rank", "thresholds")
_FRACTION_METRICS = ("top1", "top3")

_ALLOWED_KEYS = {
    "linear": {"name", "rule", "metric", "floor", "target", "points"},
    "thresholds": {"name", "rule", "metric", "steps"},
    "baseline": {"name", "rule", "metric", "margin", "points", "partial"},
    "rank": {"name", "rule", "metric", "points", "min_points", "min_top1"},
}


@dataclass(frozen=True)
class Rule:
    """One rubric rule, already validated (see the module docstring)."""

    name: str
    kind: str
    metric: str
    points: float
    floor: float = 0.0
    target: float = 1.0
    steps: tuple[tuple[float, float], ...] = ()
    margin: float = 0.0
    partial: bool = False
    min_points: float = 0.0
    min_top1: float = 0.0


@dataclass(frozen=True)
class RuleScore:
    """The points one rule gave one student, and why."""

    name: str
    points: float
    max_points: float
    explanation: str


@dataclass(frozen=True)
class RubricScore:
    """A student's total and the per-rule detail."""

    total: float
    max_total: float
    rules: list[RuleScore] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "total": self.total,
            "max_total": self.max_total,
            "rules": [asdict(r) for r in self.rules],
        }


def _number(table: Mapping[str, Any], key: str, where: str, *, default: float | None = None) -> float:
    value = table.get(key, default)
    if value is None:
        raise UsageError(f"{where}: missing {key!r}; add e.g. `{key} = 0.5`.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{where}: {key} must be a number, got {value!r}.")
    return float(value)


def _fraction(table: Mapping[str, Any], key: str, where: str, metric: str, *, default: float | None = None) -> float:
    value = _number(table, key, where, default=default)
    if metric in _FRACTION_METRICS and not 0.0 <= value <= 1.0:
        hint = f" Write accuracies as fractions, e.g. {value / 100:g} for {value:g}%." if 1 < value <= 100 else ""
        raise UsageError(f"{where}: {key} = {value!r} is not an accuracy from 0 to 1.{hint}")
    return value


def _parse_rule(table: Any, index: int, where_file: str) -> Rule:
    where = f"{where_file}: [[rubric]] #{index + 1}"
    if not isinstance(table, Mapping):
        raise UsageError(f"{where}: expected a table, got {table!r}.")
    kind = table.get("rule")
    if kind not in RULE_KINDS:
        close = difflib.get_close_matches(str(kind), RULE_KINDS, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"{where}: rule must be one of {', '.join(map(repr, RULE_KINDS))}, got {kind!r}.{hint}")
    name = str(table.get("name", f"{kind} #{index + 1}"))
    where = f"{where_file}: [[rubric]] {name!r}"
    for key in table:
        if key not in _ALLOWED_KEYS[kind]:
            close = difflib.get_close_matches(key, sorted(_ALLOWED_KEYS[kind]), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            allowed = ", ".join(sorted(_ALLOWED_KEYS[kind]))
            raise UsageError(f"{where}: unknown key {key!r} for a {kind!r} rule (allowed: {allowed}).{hint}")
    metric = table.get("metric", "top1_per_param" if kind == "rank" else "top1")
    if metric not in METRICS:
        raise UsageError(f"{where}: metric must be one of {', '.join(map(repr, METRICS))}, got {metric!r}.")
    if kind == "thresholds":
        steps_raw = table.get("steps")
        if not isinstance(steps_raw, list) or not steps_raw:
            raise UsageError(
                f"{where}: steps must be a list like `steps = [{{at = 0.8, points = 5}}]`, got {steps_raw!r}."
            )
        steps = []
        for j, step in enumerate(steps_raw):
            if not isinstance(step, Mapping) or set(step) != {"at", "points"}:
                raise UsageError(f"{where}: step #{j + 1} must be `{{at = <value>, points = <points>}}`, got {step!r}.")
            steps.append((_fraction(step, "at", where, metric), _number(step, "points", where)))
        steps.sort()
        return Rule(name, kind, metric, max(p for _, p in steps), steps=tuple(steps))
    points = _number(table, "points", where)
    if points < 0:
        raise UsageError(f"{where}: points must not be negative, got {points!r}.")
    if kind == "linear":
        floor = _fraction(table, "floor", where, metric)
        target = _fraction(table, "target", where, metric)
        if target <= floor:
            raise UsageError(f"{where}: target ({target!r}) must be above floor ({floor!r}).")
        return Rule(name, kind, metric, points, floor=floor, target=target)
    if kind == "baseline":
        margin = _number(table, "margin", where, default=0.0)
        partial = table.get("partial", False)
        if not isinstance(partial, bool):
            raise UsageError(f"{where}: partial must be true or false, got {partial!r}.")
        if partial and margin <= 0:
            raise UsageError(f"{where}: partial = true needs a positive margin, got {margin!r}.")
        return Rule(name, kind, metric, points, margin=margin, partial=partial)
    min_points = _number(table, "min_points", where, default=0.0)
    if not 0 <= min_points <= points:
        raise UsageError(f"{where}: min_points ({min_points!r}) must be between 0 and points ({points!r}).")
    min_top1 = _fraction(table, "min_top1", where, "top1", default=0.0)
    return Rule(name, kind, metric, points, min_points=min_points, min_top1=min_top1)


def parse_rubric(tables: Any, where_file: str = "assignment.toml") -> list[Rule]:
    """Validate the ``[[rubric]]`` tables of an assignment file.

    Args:
        tables: the parsed TOML value (a list of tables), or ``None`` for no rubric.
        where_file: the file name used in error messages.

    Returns:
        The rules, in file order.

    Raises:
        UsageError: a rule is malformed; the message names the rule and the key.

    >>> [r.kind for r in parse_rubric([{"rule": "linear", "floor": 0.5, "target": 0.9, "points": 40}])]
    ['linear']
    """
    if tables is None:
        return []
    if not isinstance(tables, list):
        raise UsageError(f"{where_file}: rubric must be written as [[rubric]] tables, got {tables!r}.")
    rules = [_parse_rule(t, i, where_file) for i, t in enumerate(tables)]
    names = [r.name for r in rules]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(f"{where_file}: two [[rubric]] rules are named {name!r}; give each a distinct name.")
    return rules


def _fmt(metric: str, value: float) -> str:
    return f"{value:.3g}" if metric == "top1_per_param" else f"{value:.3f}"


def _clamp01(x: float) -> float:
    return min(1.0, max(0.0, x))


def _competition_ranks(values: Mapping[str, float]) -> dict[str, int]:
    """Rank 1 for the highest value; ties share the better rank (1, 2, 2, 4)."""
    ordered = sorted(values.values(), reverse=True)
    return {sid: 1 + sum(1 for o in ordered if o > v) for sid, v in values.items()}


def _score_rule(
    rule: Rule,
    metrics: Mapping[str, Any] | None,
    baseline: Mapping[str, Any] | None,
    ranks: Mapping[str, int],
    n_ranked: int,
    sid: str,
) -> RuleScore:
    def score(points: float, why: str) -> RuleScore:
        return RuleScore(rule.name, round(points, 2), rule.points, why)

    if metrics is None:
        return score(0.0, "the submission could not be scored")
    value = metrics.get(rule.metric)
    if value is None:
        return score(0.0, f"{rule.metric} is not available for this submission")
    shown = _fmt(rule.metric, value)
    if rule.kind == "linear":
        frac = _clamp01((value - rule.floor) / (rule.target - rule.floor))
        return score(
            rule.points * frac,
            f"{rule.metric} {shown}: 0 points at {_fmt(rule.metric, rule.floor)}, "
            f"all at {_fmt(rule.metric, rule.target)}",
        )
    if rule.kind == "thresholds":
        reached = [(at, p) for at, p in rule.steps if value >= at]
        if not reached:
            return score(0.0, f"{rule.metric} {shown} is below the first step {_fmt(rule.metric, rule.steps[0][0])}")
        at, p = reached[-1]
        return score(p, f"{rule.metric} {shown} reaches the step at {_fmt(rule.metric, at)}")
    if rule.kind == "baseline":
        base = None if baseline is None else baseline.get(rule.metric)
        if base is None:
            return score(0.0, f"the reference baseline has no {rule.metric}")
        goal = base + rule.margin
        text = f"{rule.metric} {shown} against the baseline's {_fmt(rule.metric, base)} + {rule.margin:g}"
        if rule.partial:
            return score(rule.points * _clamp01((value - base) / rule.margin), text)
        return score(rule.points if value >= goal - 1e-12 else 0.0, text)
    # rank
    if sid not in ranks:
        return score(0.0, f"not ranked: top-1 below {rule.min_top1:.3f} or {rule.metric} unavailable")
    rank = ranks[sid]
    frac = 1.0 if n_ranked <= 1 else (n_ranked - rank) / (n_ranked - 1)
    return score(
        rule.min_points + (rule.points - rule.min_points) * frac,
        f"rank {rank} of {n_ranked} on {rule.metric} ({shown})",
    )


def score_class(
    rules: Sequence[Rule],
    metrics: Mapping[str, Mapping[str, Any] | None],
    *,
    baseline: Mapping[str, Any] | None = None,
) -> dict[str, RubricScore]:
    """Score every student of a class with the rubric.

    Args:
        rules: from :func:`parse_rubric`.
        metrics: student id -> ``{"top1": .., "top3": .., "top1_per_param": ..}``
            (values may be ``None``), or ``None`` for an invalid submission.
        baseline: the reference baseline's metrics, for ``baseline`` rules.

    Returns:
        Student id -> :class:`RubricScore`, in the order of ``metrics``.
    """
    ranking: dict[str, tuple[dict[str, int], int]] = {}
    for rule in rules:
        if rule.kind == "rank":
            eligible = {
                sid: m[rule.metric]
                for sid, m in metrics.items()
                if m is not None and m.get(rule.metric) is not None and (m.get("top1") or 0.0) >= rule.min_top1
            }
            ranking[rule.name] = (_competition_ranks(eligible), len(eligible))
    max_total = round(sum(r.points for r in rules), 2)
    out: dict[str, RubricScore] = {}
    for sid, m in metrics.items():
        parts = [_score_rule(rule, m, baseline, *ranking.get(rule.name, ({}, 0)), sid) for rule in rules]
        out[sid] = RubricScore(round(sum(p.points for p in parts), 2), max_total, parts)
    return out
