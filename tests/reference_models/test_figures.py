"""Each figure is written as a non-empty PNG of the documented size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reference_models.data.circles import make_circles_split
from reference_models.data.hw2 import render
from reference_models.errors import ModelError
from reference_models.figures import (
    DPI,
    filter_patterns,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_filter_patterns,
    plot_history,
    plot_saliency,
    saliency,
)
from reference_models.registry import build
from reference_models.train import History


def _size(path: Path) -> tuple[int, int]:
    assert path.stat().st_size > 2000
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_history_and_confusion_matrix(tmp_path: Path) -> None:
    history = History(
        epoch=[1, 2, 3],
        train_loss=[2.0, 1.0, 0.5],
        train_accuracy=[0.3, 0.6, 0.8],
        val_loss=[2.1, 1.2, 0.7],
        val_accuracy=[0.3, 0.5, 0.7],
    )
    assert _size(plot_history(history, tmp_path / "h.png")) == (8 * DPI, 2 * 3.6 * DPI)  # loss above accuracy
    matrix = np.arange(100).reshape(10, 10)
    assert _size(plot_confusion_matrix(matrix, [str(i) for i in range(10)], tmp_path / "cm.png")) == (7 * DPI, 6 * DPI)


def test_decision_boundary_draws_all_points(tmp_path: Path) -> None:
    train, test = make_circles_split(0)
    torch.manual_seed(0)
    path = plot_decision_boundary(build("hw1-circles"), train, test, tmp_path / "b.png", resolution=50)
    assert _size(path) == (7 * DPI, 6 * DPI)


def test_saliency_matches_autograd_and_the_plot_is_written(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build("hw2-digits").eval()
    image = torch.from_numpy(render(1, seed=0).x[0]).float() / 255
    heat, target = saliency(model, image, target=3)
    x = image.unsqueeze(0).double().requires_grad_(True)
    model.double()(x)[0, 3].backward()
    assert target == 3 and heat.shape == (128, 128)
    assert np.allclose(heat, x.grad[0, 0].abs().numpy(), atol=1e-5)
    model.float()
    assert _size(plot_saliency(model, image, tmp_path / "s.png", label=3, classes=[str(i) for i in range(10)])) == (
        12 * DPI,
        4 * DPI,
    )


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def test_saliency_titles_fit_and_the_box_is_drawn(tmp_path: Path) -> None:
    torch.manual_seed(0)
    digits = render(1, split="test", seed=3)
    image = torch.from_numpy(digits.x[0]).float() / 255
    plain = _pixels(plot_saliency(build("hw2-digits").eval(), image, tmp_path / "a.png", label=int(digits.y[0])))
    boxed = _pixels(
        plot_saliency(
            build("hw2-digits").eval(), image, tmp_path / "b.png", label=int(digits.y[0]), box=digits.boxes[0]
        )
    )
    for pixels in (plain, boxed):  # a title cut by the top edge leaves ink in the first rows
        assert (pixels[:3] > 200).all()
    green = lambda p: (p[..., 1] > 120) & (p[..., 0] < 100) & (p[..., 2] < 100)  # noqa: E731
    left = slice(0, 4 * DPI)
    assert not green(plain[:, left]).any() and green(boxed[:, left]).sum() > 100


def test_filter_patterns_raise_their_filter_and_plot(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build("hw2-digits").eval()
    conv = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    seen = {}
    conv.register_forward_hook(lambda _m, _i, out: seen.__setitem__("out", out))
    start = filter_patterns(model, (1, 128, 128), n_filters=2, steps=0)
    after = filter_patterns(model, (1, 128, 128), n_filters=2, steps=15)
    for i in range(2):
        model(torch.from_numpy(start[i : i + 1]))
        before_act = float(seen["out"][0, i].mean().detach())
        model(torch.from_numpy(after[i : i + 1]))
        assert float(seen["out"][0, i].mean().detach()) > before_act
    assert _size(plot_filter_patterns(model, (1, 128, 128), tmp_path / "f.png", n_filters=4, steps=2)) == (
        10 * DPI,
        10 * DPI,
    )


def test_no_conv_layer_no_filters() -> None:
    with pytest.raises(ModelError, match="has no conv layer"):
        filter_patterns(build("hw1-circles"), (2,))
