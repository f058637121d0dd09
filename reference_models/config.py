"""How to train (:class:`TrainConfig`, the task defaults, their check) and what training records (:class:`History`).

No torch, no data: the CLI reads its defaults from here, and every other
training module imports it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from reference_models.errors import ModelError

__all__ = ["DEFAULTS", "History", "TrainConfig", "check_train_config", "train_figures_label"]


@dataclass(frozen=True)
class TrainConfig:
    """How to train. Defaults per task are in :data:`DEFAULTS`.

    Attributes:
        epochs: Passes over the training split.
        batch_size: Examples per step.
        lr: Peak learning rate of AdamW under a one-cycle schedule.
        weight_decay: AdamW weight decay.
        seed: Seeds the weights, the data order and the augmentation.
        augment: HW2 only: move each digit to a new random place every epoch (uses the boxes).
        distort: With ``augment``, the strength of a random affine distortion of each digit
            about its box centre (rotation up to ``distort`` × 60°, scale and shear up to ± ``distort``).
        threads: CPU threads torch may use while training (restored afterwards). Sums
            split over threads round differently, so the same seed gives the same
            bytes only with the same ``threads``; the default 1 makes every run agree
            whatever ``OMP_NUM_THREADS`` says, at the cost of speed.
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    augment: bool = False
    distort: float = 0.0
    threads: int = 1


DEFAULTS: dict[str, TrainConfig] = {
    "hw2": TrainConfig(epochs=30, batch_size=64, lr=6e-3, augment=True, distort=0.2),
    "cifar": TrainConfig(epochs=10, batch_size=64, lr=1e-3),
    "fer": TrainConfig(epochs=10, batch_size=64, lr=1e-3),
    "circles": TrainConfig(epochs=200, batch_size=70, lr=1e-2, weight_decay=0.0),
    "regression": TrainConfig(epochs=2000, batch_size=20, lr=3e-2, weight_decay=0.0),
}


@dataclass
class History:
    """Per-epoch loss, top-1 (``*_accuracy``) and top-5 accuracy of the training and validation splits.

    Accuracy is ``None`` for regression, top-5 with 5 classes or fewer (it would be 1),
    and ``val_*`` without a validation split. The training figures are the running
    means over the epoch's steps, in training mode and on augmented images where the
    task augments, as Keras prints them (:func:`train_figures_label` says so in words);
    the validation figures are the epoch's final weights in eval mode.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    train_top5: list[float | None] = field(default_factory=list)
    val_top5: list[float | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[Any]]:
        """The history as plain lists (JSON-ready)."""
        return asdict(self)


def check_train_config(config: TrainConfig) -> TrainConfig:
    """Refuse a training setting that cannot work, in the words of the command line; return ``config``.

    >>> check_train_config(TrainConfig(lr=-1.0))
    Traceback (most recent call last):
    ...
    reference_models.errors.ModelError: The learning rate (--lr) must be a number above 0, such as 0.001; got -1.0.
    """
    import math

    checks = [
        (config.epochs >= 1, "The number of epochs (--epochs) must be 1 or more", config.epochs),
        (config.batch_size >= 1, "The batch size (--batch-size) must be 1 or more", config.batch_size),
        (
            math.isfinite(config.lr) and config.lr > 0,
            "The learning rate (--lr) must be a number above 0, such as 0.001",
            config.lr,
        ),
        (
            math.isfinite(config.weight_decay) and config.weight_decay >= 0,
            "The weight decay must be 0 or more",
            config.weight_decay,
        ),
        (config.threads >= 1, "The number of threads (--threads) must be 1 or more", config.threads),
        (0 <= config.distort <= 1, "The distortion strength must lie from 0 to 1", config.distort),
    ]
    for ok, what, value in checks:
        if not ok:
            raise ModelError(f"{what}; got {value!r}.")
    return config


def train_figures_label(augmented: bool) -> str:
    """What the per-epoch *training* loss, top-1 and top-5 are, in words for a table, JSON and a figure.

    They are the means over the epoch's steps while the weights change, in training mode
    (dropout on, BatchNorm on batch statistics) and on augmented images where the task augments,
    so they can differ from what the saved weights score on the same images in eval mode.

    >>> train_figures_label(True)
    'running mean over the epoch, train mode, augmented'
    """
    return "running mean over the epoch, train mode" + (", augmented" if augmented else "")
