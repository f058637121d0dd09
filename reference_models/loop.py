"""The training loop (:func:`fit`), seeded and reproducible, and the eval-mode measures of a split.

A pure library: :func:`fit` takes a model and two :class:`Dataset` splits and
returns the :class:`History`; progress goes to an optional callback, never to
the terminal. It runs on any device, with autocast (``amp``), and under
``torchrun`` as one of several DistributedDataParallel processes: each global
batch of ``batch_size`` examples is the one a single process would take, and
process ``r`` of ``W`` trains on its rows ``r, r + W, …`` (the stride of
``DistributedSampler``), with the augmentation drawn for the whole batch, so
``W`` processes follow one process's run up to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from reference_models.batches import distort, loss_fn, target, to_tensor
from reference_models.config import History, TrainConfig, check_train_config
from reference_models.data import Dataset
from reference_models.errors import ModelError, SettingError, TrainingDiverged, TrainingInterrupted
from reference_models.predict import ranked

if TYPE_CHECKING:
    from pathlib import Path

    import torch

    from reference_models.device import Distributed

__all__ = ["fit", "measure", "measure_top"]


def _hits(out: torch.Tensor, y: torch.Tensor, k: int) -> int:
    """How many rows have their true class among the ``k`` best scores (ties to the later class, as ``predict``)."""
    best = ranked(out.detach().double().cpu().numpy(), k)
    return int((best == y.cpu().numpy()[:, None]).any(axis=1).sum())


def _sums(
    model: torch.nn.Module, data: Dataset, *, batch_size: int, rows: slice = slice(None)
) -> tuple[float, int, int, int]:
    """Loss sum, top-1 and top-5 hits and the count over ``rows`` of ``data``, in eval mode on the model's device."""
    import torch

    assert data.y is not None
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    x, y = data.x[rows], data.y[rows]
    criterion, total, top1, top5 = loss_fn(data), 0.0, 0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb, yb = (
                to_tensor(x[start : start + batch_size]).to(device),
                target(y[start : start + batch_size]).to(device),
            )
            out = model(xb).float()
            total += float(criterion(out, yb, reduction="sum")) / (1 if data.classes else yb.shape[-1])
            if data.classes:
                top1 += _hits(out, yb, 1)
                top5 += _hits(out, yb, 5) if len(data.classes) > 5 else 0
    return total, top1, top5, len(x)


def _means(data: Dataset, total: float, top1: float, top5: float, n: float) -> tuple[float, float | None, float | None]:
    if not data.classes:
        return total / n, None, None
    return total / n, top1 / n, (top5 / n if len(data.classes) > 5 else None)


def measure_top(
    model: torch.nn.Module, data: Dataset, *, batch_size: int = 256
) -> tuple[float, float | None, float | None]:
    """Mean loss, top-1 and top-5 accuracy of ``model`` on a labeled split, in eval mode.

    Top-1 is ``None`` for regression, top-5 with 5 classes or fewer.
    """
    return _means(data, *_sums(model, data, batch_size=batch_size))


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
    device: torch.device | None = None,
    amp: bool = False,
    dist: Distributed | None = None,
    checkpoint: Path | None = None,
    resume: dict[str, Any] | None = None,
    checkpoint_extra: dict[str, Any] | None = None,
) -> History:
    """Train ``model`` in place with AdamW and a one-cycle schedule; return the history.

    Args:
        model: A freshly built model (its weights are re-initialised from ``config.seed`` by the caller).
        train: Labeled training split.
        val: Labeled validation split, measured after each epoch, or ``None``.
        config: How to train; ``TrainConfig()`` when ``None``.
        on_step: Called after each step with ``(step, total_steps)`` (for a progress bar).
        on_epoch: Called with the history after each epoch (after the checkpoint is written).
        device: Where to train (the CPU when ``None``); the model is moved there.
        amp: Autocast in the device's mixed precision (:func:`~reference_models.device.amp_mode`).
        dist: This process of a ``torchrun`` job, or ``None`` for one process.
        checkpoint: Write ``last.pt`` here after every epoch (rank 0 only), or ``None``.
        resume: A checkpoint read by :func:`~reference_models.checkpoint.load_checkpoint`: continue after its epoch.
        checkpoint_extra: More entries for the checkpoint (the model's name and config).

    Raises:
        ModelError: a split is unlabeled or empty, or augmentation is asked without boxes.
        SettingError: ``--amp`` where the device has none, a batch the processes cannot share, a checkpoint of other settings.
        TrainingDiverged: the loss became NaN or infinite.
        TrainingInterrupted: Ctrl-C; says which epoch the checkpoint holds.
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
    world = dist.world_size if dist else 1
    if config.batch_size % world:
        raise SettingError(
            f"The batch size {config.batch_size} cannot be shared by {world} processes; "
            f"use a multiple of {world} (--batch-size is the global batch)."
        )
    if resume is not None:
        from reference_models.checkpoint import check_resumable

        check_resumable(resume, config)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _fit(
            model,
            train,
            val,
            config,
            on_step=on_step,
            on_epoch=on_epoch,
            device=device or torch.device("cpu"),
            amp=amp,
            dist=dist,
            checkpoint=checkpoint,
            resume=resume,
            extra=checkpoint_extra,
        )
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
    device: torch.device,
    amp: bool,
    dist: Distributed | None,
    checkpoint: Path | None,
    resume: dict[str, Any] | None,
    extra: dict[str, Any] | None,
) -> History:
    import torch

    from reference_models.checkpoint import restore, save_checkpoint, state_of
    from reference_models.device import amp_mode

    assert train.y is not None
    autocast_dtype, needs_scaler = amp_mode(device) if amp else (torch.float32, False)
    rank, world = (dist.rank, dist.world_size) if dist else (0, 1)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    criterion = loss_fn(train)
    steps_per_epoch = -(-len(train) // config.batch_size)
    total = steps_per_epoch * config.epochs
    model.to(device)
    net: torch.nn.Module = model
    if dist is not None:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if total >= 10:
        schedule: Any = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=total, pct_start=0.2
        )
    else:  # too few steps for a warm-up: a constant rate
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _step: 1.0)
    scaler = torch.amp.GradScaler(device.type) if needs_scaler else None
    history, step, first = History(), 0, 1
    if resume is not None:
        restore(resume, model, optimizer, schedule, scaler, generator, rng)
        history = History(**resume["history"])
        step, first = int(resume["step"]), int(resume["epoch"]) + 1
    mine = slice(rank, None, world)
    top5 = len(train.classes) > 5
    epoch = first
    try:
        for epoch in range(first, config.epochs + 1):
            x, boxes = train.x, train.boxes
            if config.augment:
                from reference_models.data.hw2 import reposition

                x, boxes = reposition(x, train.boxes, rng)  # type: ignore[arg-type]
            order = rng.permutation(len(train))
            net.train()
            sums = [0.0, 0.0, 0.0, 0.0]  # seen, loss, top-1 hits, top-5 hits (this process)
            for start in range(0, len(train), config.batch_size):
                batch = np.sort(order[start : start + config.batch_size])
                idx = batch[mine]
                xb, yb = to_tensor(x[idx]), target(train.y[idx])
                if config.augment and config.distort > 0:
                    xb = distort(xb, boxes[idx], config.distort, generator, of=len(batch), rows=mine)  # type: ignore[index]
                xb, yb = xb.to(device), yb.to(device)
                with torch.autocast(device.type, dtype=autocast_dtype, enabled=amp):
                    out = net(xb)
                loss = criterion(out.float(), yb)
                if world > 1:  # DDP averages the processes' gradients: weigh each by its share of the batch
                    loss = loss * (len(idx) * world / len(batch))
                _check_finite(loss, dist, epoch=epoch, step=step + 1, total=total, config=config)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
                schedule.step()
                step += 1
                mean = float(loss.detach()) * (len(batch) / (len(idx) * world) if world > 1 else 1.0)
                sums[0] += len(idx)
                sums[1] += mean * len(idx)
                if train.classes:
                    sums[2] += _hits(out, yb, 1)
                    sums[3] += _hits(out, yb, 5) if top5 else 0
                if on_step:
                    on_step(step, total)
            seen, loss_sum, correct, correct5 = dist.all_sum(sums) if dist else sums
            history.epoch.append(epoch)
            history.train_loss.append(loss_sum / seen)
            history.train_accuracy.append(correct / seen if train.classes else None)
            history.train_top5.append(correct5 / seen if top5 else None)
            val_loss, val_acc, val_top5 = None, None, None
            if val is not None and val.y is not None and len(val):
                part = _sums(model, val, batch_size=256, rows=mine)
                val_loss, val_acc, val_top5 = _means(val, *(dist.all_sum(list(part)) if dist else part))
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_acc)
            history.val_top5.append(val_top5)
            if checkpoint is not None and rank == 0:
                state = state_of(
                    model,
                    optimizer,
                    schedule,
                    scaler,
                    generator,
                    rng,
                    epoch=epoch,
                    step=step,
                    history=history.to_dict(),
                    config=config,
                    extra=extra,
                )
                save_checkpoint(checkpoint, state)
            if on_epoch:
                on_epoch(history)
    except KeyboardInterrupt:
        done = epoch - 1 if not history.epoch or history.epoch[-1] < epoch else epoch
        if checkpoint is not None and done >= 1:
            raise TrainingInterrupted(
                f"Interrupted in epoch {min(epoch, config.epochs)} of {config.epochs}; {checkpoint} holds the "
                f"weights after epoch {done}. Continue with the same command and --resume {checkpoint}."
            ) from None
        raise TrainingInterrupted(
            f"Interrupted in epoch {epoch} of {config.epochs}, before any epoch was saved; nothing to resume."
        ) from None
    model.eval()
    return history


def _check_finite(
    loss: torch.Tensor, dist: Distributed | None, *, epoch: int, step: int, total: int, config: TrainConfig
) -> None:
    """Raise :class:`TrainingDiverged` when the loss is NaN or infinite (on any process)."""
    import torch

    value = float(loss.detach())
    bad = not torch.isfinite(loss.detach())
    if dist is not None and dist.world_size > 1:
        bad = dist.all_sum([float(bad)])[0] > 0
    if bad:
        raise TrainingDiverged(
            f"The training loss became {value if not torch.isfinite(loss.detach()) else 'nan or inf on another process'} "
            f"at epoch {epoch} of {config.epochs} (step {step} of {total}); training stopped and no weights were "
            f"written. Try a smaller learning rate, e.g. --lr {config.lr / 10:g}."
        )
