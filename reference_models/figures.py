"""The figures the handouts and reports ask for, as PNG files (matplotlib, Agg backend).

Each function takes what it draws and a path, writes one PNG and returns the
path: training history, confusion matrix, the circles decision boundary, a
saliency map, and the input patterns that most excite the filters of the last
conv layer (activation maximisation by gradient ascent).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reference_models.data import Dataset
from reference_models.errors import ModelError

if TYPE_CHECKING:
    import torch

    from reference_models.config import History

__all__ = [
    "DPI",
    "history_figure",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_filter_patterns",
    "plot_history",
    "plot_saliency",
    "write_figures",
]

DPI = 100


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    _pyplot().close(fig)
    return path


def plot_history(history: History, path: Path | str, *, title: str = "", train_label: str = "") -> Path:
    """Loss (left) and accuracy (right) per epoch, training and validation; 10×4 in at 100 dpi.

    ``train_label`` says what the training curve is (:func:`~reference_models.config.train_figures_label`).
    """
    return _save(history_figure(history, title=title, train_label=train_label), path)


def history_figure(history: History, *, title: str = "", train_label: str = "") -> Any:
    """The figure of :func:`plot_history`, unsaved; epochs are whole-number ticks (each epoch up to 10 of them)."""
    plt = _pyplot()
    has_acc = any(a is not None for a in history.train_accuracy)
    rows = 2 if has_acc else 1  # one above the other: the legends say how each curve was measured, at full width
    fig, axes = plt.subplots(rows, 1, figsize=(8, 3.6 * rows), squeeze=False, layout="constrained")
    panels: list[tuple[str, list[Any], list[Any]]] = [("loss", history.train_loss, history.val_loss)]
    if has_acc:
        panels.append(("accuracy", history.train_accuracy, history.val_accuracy))
    marker = "o" if len(history.epoch) <= 40 else None
    for ax, (what, train, val) in zip(axes[:, 0], panels, strict=False):
        ax.plot(
            history.epoch,
            train,
            marker=marker,
            markersize=3,
            label=f"training {what}" + (f" ({train_label})" if train_label else ""),
        )
        if any(v is not None for v in val):
            ax.plot(
                history.epoch,
                [np.nan if v is None else v for v in val],
                marker=marker,
                markersize=3,
                label=f"validation {what}" + (" (end of epoch, eval mode)" if train_label else ""),
            )
        ax.set_xlabel("epoch")
        if len(history.epoch) <= 10:
            ax.set_xticks(history.epoch)  # one tick per epoch (a 1-epoch history has no 0.96, 0.98, ...)
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(what)
        ax.grid(alpha=0.3)
        ax.legend(loc="center right" if what == "loss" else "lower right", fontsize=8)
    fig.suptitle(title or "Training history")
    return fig


def plot_confusion_matrix(
    matrix: np.ndarray | Sequence[Sequence[int]], classes: Sequence[str], path: Path | str, *, title: str = ""
) -> Path:
    """Counts as a heatmap, rows = true class, columns = predicted; 7×6 in at 100 dpi."""
    plt = _pyplot()
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = np.arange(len(classes))
    ax.set_xticks(
        ticks,
        labels=list(classes),
        rotation=45 if max(map(len, classes), default=0) > 2 else 0,
        ha="right" if max(map(len, classes), default=0) > 2 else "center",
    )
    ax.set_yticks(ticks, labels=list(classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color="white" if count > threshold else "black")
    total = matrix.sum()
    ax.set_title(title or f"Confusion matrix (n = {total}, top-1 = {np.trace(matrix) / max(total, 1):.1%})")
    fig.tight_layout()
    return _save(fig, path)


def plot_decision_boundary(
    model: torch.nn.Module, train: Dataset, test: Dataset, path: Path | str, *, resolution: int = 300
) -> Path:
    """All points (training ● and test ▲, coloured by true class) over the colour of the predicted class; 7×6 in."""
    import torch

    plt = _pyplot()
    points = np.concatenate([train.x, test.x])
    low, high = points.min(0) - 0.3, points.max(0) + 0.3
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = torch.from_numpy(np.c_[gx.ravel(), gy.ravel()].astype(np.float32))
    model.eval()
    with torch.no_grad():
        predicted = model(grid).argmax(1).numpy().reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(7, 6))
    colours = ["#1f77b4", "#d62728"]
    from matplotlib.colors import ListedColormap

    ax.contourf(gx, gy, predicted, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(["#c6dbef", "#fcbba1"]))
    for data, marker, part in ((train, "o", "training"), (test, "^", "test")):
        for label, colour in enumerate(colours):
            mask = data.y == label
            ax.scatter(
                data.x[mask, 0],
                data.x[mask, 1],
                c=colour,
                marker=marker,
                edgecolors="black",
                linewidths=0.5,
                s=36,
                label=f"{part}: {train.classes[label]} ({int(np.sum(mask))})",
            )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"Decision boundary: all {len(points)} points over the predicted class")
    fig.tight_layout()
    return _save(fig, path)


def saliency(model: torch.nn.Module, image: torch.Tensor, target: int | None = None) -> tuple[np.ndarray, int]:
    """|∂ score of ``target`` / ∂ input|, max over channels, (H, W); ``target`` defaults to the predicted class."""

    model.eval()
    x = image.detach().clone().unsqueeze(0).requires_grad_(True)
    out = model(x)
    target = int(out.argmax(1)) if target is None else target
    out[0, target].backward()
    assert x.grad is not None
    return x.grad[0].abs().amax(0).numpy(), target


def plot_saliency(
    model: torch.nn.Module,
    image: torch.Tensor,
    path: Path | str,
    *,
    label: int | None = None,
    classes: Sequence[str] = (),
    box: Sequence[int] | None = None,
) -> Path:
    """The input image (with its bounding box, if given), its saliency map, and the two overlaid; 12×4 in at 100 dpi.

    The map is taken for the predicted class, whose softmax probability the title gives.

    Args:
        model: The classifier.
        image: One input (C, H, W), values in [0, 1].
        path: The PNG to write.
        label: The true class index, if known.
        classes: Class names (index ``i`` names class ``i``).
        box: ``x, y, width, height`` of the object (HW2's labels.csv), drawn in green on the input.
    """
    import torch

    plt = _pyplot()
    from matplotlib.patches import Rectangle

    heat, target = saliency(model, image)
    with torch.no_grad():
        probability = float(model(image.unsqueeze(0)).softmax(1)[0, target])
    picture = image.detach().numpy()
    picture = picture[0] if picture.shape[0] == 1 else np.transpose(picture, (1, 2, 0))
    name = lambda i: classes[i] if classes else str(i)  # noqa: E731
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), layout="constrained")
    axes[0].imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1)
    axes[0].set_title(
        "input"
        + (f", true class {name(label)}" if label is not None else "")
        + (" (green: bounding box)" if box is not None else "")
    )
    if box is not None:
        x, y, w, h = (int(v) for v in box)
        axes[0].add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor="#2ca02c", linewidth=1.5))
    axes[1].imshow(heat, cmap="hot")
    axes[1].set_title(f"saliency |∂ score[{name(target)}] / ∂ input|")
    axes[2].imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1)
    axes[2].imshow(heat, cmap="hot", alpha=0.6)
    axes[2].set_title("overlay")
    for ax in axes:
        ax.axis("off")
    fig.suptitle(f"Saliency of the predicted class {name(target)} (p = {probability:.2f})")
    return _save(fig, path)


def last_conv(model: torch.nn.Module) -> tuple[str, torch.nn.Conv2d]:
    """The name and module of the model's last ``nn.Conv2d``."""
    import torch

    convs = [(name, m) for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    if not convs:
        raise ModelError("The model has no conv layer, so there are no filters to visualise.")
    return convs[-1]


def filter_patterns(
    model: torch.nn.Module,
    input_shape: Sequence[int],
    *,
    n_filters: int = 16,
    steps: int = 60,
    lr: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """Inputs that maximise the mean activation of each of the first ``n_filters`` filters of the last conv layer.

    Gradient ascent (Adam) from grey plus small noise, with a faint L2 pull to grey
    and a 3×3 blur every fourth step (images only), values kept in [0, 1].

    Returns:
        float (n_filters, C, H, W) in [0, 1].
    """
    import torch

    _, layer = last_conv(model)
    n_filters = min(n_filters, layer.out_channels)
    captured: dict[str, torch.Tensor] = {}
    hook = layer.register_forward_hook(lambda _m, _i, out: captured.__setitem__("out", out))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        generator = torch.Generator().manual_seed(seed)
        x = (0.5 + 0.05 * torch.randn(n_filters, *input_shape, generator=generator)).requires_grad_(True)
        optimizer = torch.optim.Adam([x], lr=lr)
        index = torch.arange(n_filters)
        for step in range(steps):
            optimizer.zero_grad()
            model(x)
            activation = captured["out"][index, index].mean(dim=(-2, -1))
            (-activation.sum() + 1e-6 * (x - 0.5).pow(2).sum()).backward()
            optimizer.step()
            with torch.no_grad():
                if step % 4 == 3:  # a light blur keeps the pattern from turning into pixel noise
                    x.copy_(torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))
                x.clamp_(0, 1)
    finally:
        hook.remove()
        for p in model.parameters():
            p.requires_grad_(True)
    return x.detach().numpy()


def plot_filter_patterns(
    model: torch.nn.Module, input_shape: Sequence[int], path: Path | str, *, n_filters: int = 16, steps: int = 60
) -> Path:
    """A grid of the patterns of :func:`filter_patterns`; 10×10 in at 100 dpi."""
    plt = _pyplot()
    name, layer = last_conv(model)
    what = f"{type(layer).__name__} {name!r}, {layer.in_channels}→{layer.out_channels}, {'×'.join(map(str, layer.kernel_size))}"
    patterns = filter_patterns(model, input_shape, n_filters=n_filters, steps=steps)
    shown = (
        f"all {len(patterns)}"
        if len(patterns) == layer.out_channels
        else f"the first {len(patterns)} of {layer.out_channels}"
    )
    cols = int(np.ceil(np.sqrt(len(patterns))))
    rows = int(np.ceil(len(patterns) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(10, 10), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < len(patterns):
            p = patterns[i]
            ax.imshow(
                p[0] if p.shape[0] == 1 else np.transpose(p, (1, 2, 0)),
                cmap="gray" if p.shape[0] == 1 else None,
                vmin=0,
                vmax=1,
            )
            ax.set_title(f"filter {i}", fontsize=9)
    fig.suptitle(f"Inputs that most activate {shown} filters of the last conv layer ({what})")
    fig.tight_layout()
    return _save(fig, path)


def write_figures(
    name: str,
    model: torch.nn.Module,
    data: Path | str | None,
    out: Path | str,
    *,
    history: History | None = None,
    evaluation: Any = None,
    seed: int = 0,
    augmented: bool = False,
) -> list[Path]:
    """Every figure that applies to model ``name``, written into the folder ``out``; return their paths.

    history.png (given a history), confusion_matrix.png (given an evaluation with classes),
    decision_boundary.png (circles), saliency.png and filter_patterns.png (image models,
    on the first test image). ``seed`` is the one the model was trained with: it makes
    the circles and chooses the random splits, so the figures show the model's own data;
    ``augmented`` whether it trained on augmented images (the history's legend says so).
    """
    from reference_models.batches import to_tensor
    from reference_models.data import load_for, task_of
    from reference_models.registry import get

    out = Path(out)
    task = task_of(name)
    written = []
    if history is not None:
        from reference_models.config import train_figures_label

        written.append(
            plot_history(
                history,
                out / "history.png",
                title=f"{name}: training history",
                train_label=train_figures_label(augmented),
            )
        )
    if evaluation is not None and evaluation.confusion_matrix:
        written.append(
            plot_confusion_matrix(evaluation.confusion_matrix, evaluation.classes, out / "confusion_matrix.png")
        )
    if task == "circles":
        train, test = load_for(task, data, "train", seed=seed), load_for(task, data, "test", seed=seed)
        written.append(plot_decision_boundary(model, train, test, out / "decision_boundary.png"))
    if task in ("hw2", "cifar", "fer"):
        test = load_for(task, data, "test", seed=seed)
        label = None if test.y is None else int(test.y[0])
        box = None if test.boxes is None else test.boxes[0]
        written.append(
            plot_saliency(
                model, to_tensor(test.x[:1])[0], out / "saliency.png", label=label, classes=test.classes, box=box
            )
        )
        written.append(
            plot_filter_patterns(model, test.x.shape[1:] or get(name).input_shape, out / "filter_patterns.png")
        )
    return written
