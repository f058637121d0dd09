"""Rubric rules give exact points."""

from __future__ import annotations

import pytest

from grading.rubric import parse_rubric, score_class


def one(rule: dict, metrics: dict | None, *, baseline: dict | None = None) -> float:
    rules = parse_rubric([rule])
    return score_class(rules, {"s": metrics}, baseline=baseline)["s"].total


LINEAR = {"name": "acc", "rule": "linear", "floor": 0.5, "target": 0.9, "points": 40}


@pytest.mark.parametrize(
    ("top1", "points"),
    [(0.0, 0.0), (0.5, 0.0), (0.6, 10.0), (0.7, 20.0), (0.85, 35.0), (0.9, 40.0), (1.0, 40.0), (0.123, 0.0)],
)
def test_linear_between_floor_and_target(top1: float, points: float) -> None:
    assert one(LINEAR, {"top1": top1}) == points


def test_linear_rounds_to_two_decimals() -> None:
    assert one(LINEAR, {"top1": 0.6666}) == 16.66  # 40 * 0.1666 / 0.4 = 16.66


def test_linear_on_top3() -> None:
    rule = LINEAR | {"metric": "top3"}
    assert one(rule, {"top1": 0.1, "top3": 0.8}) == 30.0
    assert one(rule, {"top1": 0.9, "top3": None}) == 0.0


STEPS = {"name": "t", "rule": "thresholds", "steps": [{"at": 0.9, "points": 10}, {"at": 0.8, "points": 5}]}


@pytest.mark.parametrize(("top1", "points"), [(0.79, 0.0), (0.8, 5.0), (0.89, 5.0), (0.9, 10.0), (0.99, 10.0)])
def test_thresholds_give_the_highest_step_reached(top1: float, points: float) -> None:
    assert one(STEPS, {"top1": top1}) == points


def test_thresholds_max_points_is_the_top_step() -> None:
    assert parse_rubric([STEPS])[0].points == 10.0


BASE = {"name": "b", "rule": "baseline", "margin": 0.10, "points": 10}


@pytest.mark.parametrize(("top1", "points"), [(0.70, 0.0), (0.79, 0.0), (0.80, 10.0), (0.95, 10.0)])
def test_baseline_plus_ten_points_all_or_nothing(top1: float, points: float) -> None:
    # HW1 2023: an improved model must beat the handout's architecture by 10 points of top-1.
    assert one(BASE, {"top1": top1}, baseline={"top1": 0.70}) == points


@pytest.mark.parametrize(("top1", "points"), [(0.60, 0.0), (0.70, 0.0), (0.75, 5.0), (0.78, 8.0), (0.9, 10.0)])
def test_baseline_partial_is_linear_from_baseline_to_margin(top1: float, points: float) -> None:
    assert one(BASE | {"partial": True}, {"top1": top1}, baseline={"top1": 0.70}) == points


def test_baseline_unknown_gives_zero_with_reason() -> None:
    score = score_class(parse_rubric([BASE]), {"s": {"top1": 0.9}}, baseline=None)["s"]
    assert score.total == 0.0
    assert "baseline has no top1" in score.rules[0].explanation


def test_rank_on_ratio_with_floor_and_ties() -> None:
    rule = {"name": "r", "rule": "rank", "points": 15, "min_points": 5, "min_top1": 0.8}
    metrics = {
        "a": {"top1": 0.90, "top1_per_param": 3e-6},
        "b": {"top1": 0.85, "top1_per_param": 2e-6},
        "c": {"top1": 0.95, "top1_per_param": 2e-6},  # tie with b: both rank 2
        "d": {"top1": 0.81, "top1_per_param": 1e-6},
        "tiny": {"top1": 0.30, "top1_per_param": 1e-2},  # best ratio, useless model: not ranked
        "noparams": {"top1": 0.99, "top1_per_param": None},
        "invalid": None,
    }
    scores = score_class(parse_rubric([rule]), metrics)
    # 4 ranked: ranks 1, 2, 2, 4 -> 15, 15 - 10/3, same, 5
    assert {s: v.total for s, v in scores.items()} == {
        "a": 15.0,
        "b": 11.67,
        "c": 11.67,
        "d": 5.0,
        "tiny": 0.0,
        "noparams": 0.0,
        "invalid": 0.0,
    }
    assert scores["b"].rules[0].explanation.startswith("rank 2 of 4 on top1_per_param")
    assert "not ranked" in scores["tiny"].rules[0].explanation


def test_rank_alone_gets_full_points() -> None:
    rule = {"name": "r", "rule": "rank", "metric": "top1", "points": 15}
    assert one(rule, {"top1": 0.5}) == 15.0


def test_total_is_the_sum_and_invalid_gets_zero() -> None:
    rules = parse_rubric([LINEAR, STEPS, BASE])
    scores = score_class(rules, {"ok": {"top1": 0.85}, "bad": None}, baseline={"top1": 0.7})
    assert scores["ok"].total == 35.0 + 5.0 + 10.0
    assert scores["ok"].max_total == 60.0
    assert scores["bad"].total == 0.0
    assert all(r.explanation == "the submission could not be scored" for r in scores["bad"].rules)


def test_to_dict_round_trips_rule_detail() -> None:
    d = score_class(parse_rubric([LINEAR]), {"s": {"top1": 0.7}})["s"].to_dict()
    assert d == {
        "total": 20.0,
        "max_total": 40.0,
        "rules": [
            {
                "name": "acc",
                "points": 20.0,
                "max_points": 40.0,
                "explanation": "top1 0.700: 0 points at 0.500, all at 0.900",
            }
        ],
    }
