"""The training loop (:func:`fit`), seeded and reproducible, and the eval-mode measures of a split.

A pure library: :func:`fit` takes a model and two :class:`Dataset` splits and
returns the :class:`History`; progress goes to an optional callback, never to
the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from reference_models.batches import distort, loss_fn, target, to_tensor
from reference_models.config import History, TrainConfig, check_train_config
from reference_models.data import Dataset
from reference_models.errors import ModelError
from reference_models.predict import ranked

if TYPE_CHECKING:
    import torch

__all__ = ["fit", "measure", "measure_top"]


def _hits(out: torch.Tensor, y: torch.Tensor, k: int) -> int:
    """How many rows have their true class among the ``k`` best scores (ties to the later class, as ``predict``)."""
    best = ranked(out.detach().double().numpy(), k)
    return int((best == y.numpy()[:, None]).any(axis=1).sum())


def measure_top(
    model: torch.nn.Module, data: Dataset, *, batch_size: int = 256
) -> tuple[float, float | None, float | None]:
    """Mean loss, top-1 and top-5 accuracy of ``model`` on a labeled split, in eval mode.

    Top-1 is ``None`` for regression, top-5 with 5 classes or fewer.
    """
    import torch

    assert data.y is not None
    criterion, total, top1, top5 = loss_fn(data), 0.0, 0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            xb, yb = to_tensor(data.x[start : start + batch_size]), target(data.y[start : start + batch_size])
            out = model(xb)
            total += float(criterion(out, yb, reduction="sum")) / (1 if data.classes else yb.shape[-1])
            if data.classes:
                top1 += _hits(out, yb, 1)
                top5 += _hits(out, yb, 5) if len(data.classes) > 5 else 0
    n = len(data)
    if not data.classes:
        return total / n, None, None
    return total / n, top1 / n, (top5 / n if len(data.classes) > 5 else None)


def measure(model: torch.nn.Module, data: Dataset, *, batch_size: int = 256) -> tuple[float, float | None]:
    """Mean loss and accuracy (``None`` for regression) of ``model`` on a labeled split, in eval mode."""
    loss, top1, _ = measure_top(model, data, batch_size=batch_size)
    return loss, top1


def fit(
    model: torch.nn.Module,
    train: Dataset,
    val: Dataset | None = None,
    config: TrainConfig | None = None,
    *,
    on_step: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[History], None] | None = None,
) -> History:
    """Train ``model`` in place with AdamW and a one-cycle schedule; return the history.

    Args:
        model: A freshly built model (its weights are re-initialised from ``config.seed`` by the caller).
        train: Labeled training split.
        val: Labeled validation split, measured after each epoch, or ``None``.
        config: How to train; ``TrainConfig()`` when ``None``.
        on_step: Called after each step with ``(step, total_steps)`` (for a progress bar).
        on_epoch: Called with the history after each epoch.

    Raises:
        ModelError: a split is unlabeled or empty, or augmentation is asked without boxes.
    """
    import torch

    config = config or TrainConfig()
    if train.y is None or len(train) == 0:
        raise ModelError(
            "The training split has no labeled examples; training needs labels.csv (or the labels column)."
        )
    check_train_config(config)
    if config.augment and train.boxes is None:
        raise ModelError(
            "Augmentation moves each digit by its bounding box, but the training labels have no x,y,width,height columns."
        )
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _fit(model, train, val, config, on_step=on_step, on_epoch=on_epoch)
    finally:
        torch.set_num_threads(threads)


def _fit(
    model: torch.nn.Module,
    train: Dataset,
    val: Dataset | None,
    config: TrainConfig,
    *,
    on_step: Callable[[int, int], None] | None,
    on_epoch: Callable[[History], None] | None,
) -> History:
    import torch

    assert train.y is not None
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    criterion = loss_fn(train)
    steps_per_epoch = -(-len(train) // config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if total >= 10:
        schedule: Any = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=total, pct_start=0.2
        )
    else:  # too few steps for a warm-up: a constant rate
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _step: 1.0)
    history, step = History(), 0
    for epoch in range(1, config.epochs + 1):
        x, boxes = train.x, train.boxes
        if config.augment:
            from reference_models.data.hw2 import reposition

            x, boxes = reposition(x, train.boxes, rng)  # type: ignore[arg-type]
        order = rng.permutation(len(train))
        model.train()
        seen, loss_sum, correct, correct5 = 0, 0.0, 0, 0
        top5 = len(train.classes) > 5
        for start in range(0, len(train), config.batch_size):
            idx = np.sort(order[start : start + config.batch_size])
            xb, yb = to_tensor(x[idx]), target(train.y[idx])
            if config.augment and config.distort > 0:
                xb = distort(xb, boxes[idx], config.distort, generator)  # type: ignore[index]
            out = model(xb)
            loss = criterion(out, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            seen += len(idx)
            loss_sum += float(loss.detach()) * len(idx)
            if train.classes:
                correct += _hits(out, yb, 1)
                correct5 += _hits(out, yb, 5) if top5 else 0
            if on_step:
                on_step(step, total)
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum / seen)
        history.train_accuracy.append(correct / seen if train.classes else None)
        history.train_top5.append(correct5 / seen if top5 else None)
        val_loss, val_acc, val_top5 = (
            measure_top(model, val) if val is not None and val.y is not None else (None, None, None)
        )
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_acc)
        history.val_top5.append(val_top5)
        if on_epoch:
            on_epoch(history)
    model.eval()
    return history
