"""predict writes the submission CSV that grade reads."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from reference_models.data.hw2 import render, write_hw2
from reference_models.predict import predict, ranked, write_submission


class _ByMean(torch.nn.Module):
    """A toy model whose ranking is known: class scores from the image's mean brightness."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean(dim=(1, 2, 3))[:, None]
        return -((torch.arange(10.0)[None, :] / 100 - m) ** 2)


def test_ranked_breaks_ties_as_grade_and_scikit_learn_do() -> None:
    # equal scores: the later class ranks higher (grading.TIE_RULE, sklearn's top_k_accuracy_score)
    assert ranked(np.array([[0.2, 0.4, 0.4, 0.0]]), 3).tolist() == [[2, 1, 0]]
    assert ranked(np.zeros((1, 4)), 4).tolist() == [[3, 2, 1, 0]]


def test_evaluate_and_grade_agree_on_tied_scores(tmp_path: Path) -> None:
    """A model with tied logits: evaluate's top-k equals grade's top-k of the CSV predict writes."""
    import grading
    from reference_models.evaluate import evaluate

    data = render(12, split="test", seed=1)
    key = write_hw2(data, tmp_path / "test")

    class Tied(torch.nn.Module):
        """Ties the true class with its neighbours: only the tie rule decides top-1 and top-3."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = torch.zeros(x.shape[0], 10)
            y = torch.as_tensor(data.y)
            for shift in (-1, 0, 1):
                out[torch.arange(x.shape[0]), (y + shift) % 10] = 1.0
            return out

    path = write_submission(predict(Tied(), data), tmp_path / "HW2_prob1.csv")
    report = grading.grade_file(path, grading.load_key(key))
    result = evaluate(Tied(), data, name="tied")
    later = float(np.mean(data.y == 9))  # only class 9's tie ((y+1) % 10 == 0) goes to the true class
    assert (result.top1, result.top3) == (report.top1, report.top3) == (later, 1.0)


def test_submission_has_the_grade_columns_best_first(tmp_path: Path) -> None:
    data = render(6, split="test", seed=0)
    preds = predict(_ByMean(), data)
    path = write_submission(preds, tmp_path / "HW2_prob1.csv")
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["image", "class", "class_2", "class_3"]
    assert [r[0] for r in rows[1:]] == list(data.ids) and rows[1][0] == "0000000.png"
    for row, scores in zip(rows[1:], preds.scores, strict=True):
        top = [int(c) for c in row[1:]]
        assert len(set(top)) == 3 and list(np.argsort(-scores)[:3]) == top


def test_grade_accepts_the_submission(tmp_path: Path) -> None:
    import grading

    data = render(20, split="test", seed=4)
    key = write_hw2(data, tmp_path / "test")

    class Oracle(torch.nn.Module):
        """Knows the answers (the 20 images fit in one batch)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = torch.zeros(x.shape[0], 10)
            out[torch.arange(x.shape[0]), torch.as_tensor(data.y)] = 1.0
            return out

    path = write_submission(predict(Oracle(), data), tmp_path / "HW2_prob1.csv")
    report = grading.grade_file(path, grading.load_key(key))
    assert report.status == "ok" and report.top1 == 1.0 and report.top3 == 1.0
