"""Training loop, seeded and reproducible, plus saving and loading weights.

A pure library: :func:`fit` takes a model and two :class:`Dataset` splits and
returns the :class:`History`; progress goes to an optional callback, never to
the terminal. Weights are saved as safetensors with the model's name and config
in the metadata, so :func:`load_model` rebuilds exactly what was trained.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reference_models.data import Dataset
from reference_models.errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEFAULTS",
    "History",
    "TrainConfig",
    "TrainRun",
    "check_train_config",
    "distort",
    "fit",
    "history_of",
    "load_model",
    "measure",
    "measure_top",
    "model_config_for",
    "save_weights",
    "seed_of",
    "shipped_weights",
    "to_tensor",
    "train_model",
]


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
    means over the epoch's steps (in training mode), as Keras prints them.
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


def to_tensor(x: np.ndarray) -> torch.Tensor:
    """Images (uint8) become float32 in [0, 1]; anything else becomes float32 as is."""
    import torch

    if x.dtype == np.uint8:
        return torch.from_numpy(x).float().div_(255.0)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def distort(x: torch.Tensor, boxes: np.ndarray, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Rotate, scale and shear each image about its box centre by a random small amount (HW2 augmentation)."""
    import torch
    import torch.nn.functional as F

    n, _, height, width = x.shape
    u = (torch.rand(n, 4, generator=generator) * 2 - 1) * strength
    angle, scale, shear_x, shear_y = u[:, 0] * (torch.pi / 3), 1 + u[:, 1], u[:, 2], u[:, 3]
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    a = torch.stack(
        [
            torch.stack([cos + shear_y * sin, -sin + shear_x * cos], 1),
            torch.stack([sin + shear_y * cos, cos - shear_x * sin], 1),
        ],
        1,
    )
    b = torch.as_tensor(boxes, dtype=torch.float32)
    centre = torch.stack([(b[:, 0] + b[:, 2] / 2) / width * 2 - 1, (b[:, 1] + b[:, 3] / 2) / height * 2 - 1], 1)
    theta = torch.cat([a, (centre - (a @ centre.unsqueeze(-1)).squeeze(-1)).unsqueeze(-1)], 2)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def _loss_fn(data: Dataset) -> Callable[..., Any]:
    import torch.nn.functional as F

    return F.cross_entropy if data.classes else F.mse_loss


def _target(y: np.ndarray) -> torch.Tensor:
    import torch

    return torch.from_numpy(y) if y.dtype == np.int64 else torch.from_numpy(y.astype(np.float32))


def _hits(out: torch.Tensor, y: torch.Tensor, k: int) -> int:
    """How many rows have their true class among the ``k`` best scores (ties to the later class, as ``predict``)."""
    from reference_models.predict import ranked

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
    loss_fn, total, top1, top5 = _loss_fn(data), 0.0, 0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            xb, yb = to_tensor(data.x[start : start + batch_size]), _target(data.y[start : start + batch_size])
            out = model(xb)
            total += float(loss_fn(out, yb, reduction="sum")) / (1 if data.classes else yb.shape[-1])
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


def check_train_config(config: TrainConfig) -> TrainConfig:
    """Refuse a training setting that cannot work, in the words of the command line; return ``config``.

    >>> check_train_config(TrainConfig(lr=-1))
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
    loss_fn = _loss_fn(train)
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
            xb, yb = to_tensor(x[idx]), _target(train.y[idx])
            if config.augment and config.distort > 0:
                xb = distort(xb, boxes[idx], config.distort, generator)  # type: ignore[index]
            out = model(xb)
            loss = loss_fn(out, yb)
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


def _config_of(module: Any, raw: dict[str, Any]) -> Any:
    """Rebuild a frozen config dataclass from JSON (lists back to tuples)."""
    names = {f.name for f in fields(module.Config)}
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in names}
    return replace(module.Config(), **clean)


def _canonical(raw: bytes) -> bytes:
    """A safetensors file with its JSON header's keys sorted.

    safetensors writes the metadata from a hash map, in a different order on
    each run; sorted, the same weights are the same bytes (and checksum). Data
    offsets count from the end of the header, so only the header changes; it is
    padded with spaces to a multiple of 8 bytes, as the format allows.
    """
    import struct

    (size,) = struct.unpack("<Q", raw[:8])
    header = json.dumps(
        json.loads(raw[8 : 8 + size]), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + raw[8 + size :]


def save_weights(
    model: torch.nn.Module, path: Path, *, name: str, config: Any = None, extra: dict[str, Any] | None = None
) -> Path:
    """Save ``model``'s state dict (parameters and buffers) as safetensors, with name and config in the metadata.

    The same weights always give the same bytes, and the file is replaced only
    once it is completely written (an interrupted save leaves the old one).

    Raises:
        ModelError: the file cannot be written.
    """
    import os

    from safetensors import SafetensorError
    from safetensors.torch import save

    metadata = {"model": name, "config": json.dumps(asdict(config) if config is not None else {})}
    metadata.update({k: json.dumps(v) for k, v in (extra or {}).items()})
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        raw = _canonical(save({k: v.detach().contiguous() for k, v in model.state_dict().items()}, metadata=metadata))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(raw)
        os.replace(partial, path)
    except (SafetensorError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(f"{path}: the weights cannot be written ({exc}); choose another --out.") from None
    return path


def shipped_weights(name: str) -> Path | None:
    """The weights that ship with model ``name`` (``models/<module>.safetensors``), or ``None``."""
    from reference_models.registry import get

    path = Path(__file__).parent / "models" / f"{get(name).module}.safetensors"
    return path if path.exists() else None


def load_model(
    name: str, weights: Path | str | None = None, **overrides: Any
) -> tuple[torch.nn.Module, dict[str, str]]:
    """Build model ``name`` and load ``weights`` (the shipped ones when ``None``); return it in eval mode with the metadata.

    Raises:
        ModelError: no weights given and none ship, the file is unreadable, or it belongs to another model.
    """
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    from reference_models.registry import get

    spec = get(name)
    if weights is None:
        weights = shipped_weights(name)
        if weights is None:
            raise ModelError(
                f"Model {name!r} ships no trained weights; pass --weights FILE "
                f"(train one with: python -m reference_models train {name} --data DIR --out FILE)."
            )
    weights = Path(weights)
    if not weights.is_file():
        raise ModelError(f"{weights}: no such weights file.")
    try:
        with safe_open(str(weights), framework="pt") as fh:
            metadata = fh.metadata() or {}
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{weights}: not a readable safetensors file ({exc}).") from None
    if metadata.get("model", name) != name:
        raise ModelError(f"{weights}: these weights belong to model {metadata['model']!r}, not {name!r}.")
    module = spec.load()
    config = _config_of(module, {**json.loads(metadata.get("config", "{}")), **overrides})
    model = module.build(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ModelError(
            f"{weights}: the tensors do not fit model {name!r}: {first[1].strip() if len(first) > 1 else first[0]}"
        ) from None
    model.eval()
    return model, metadata


def _fitting_overrides(module: Any, data: Dataset) -> dict[str, Any]:
    """Config changes so a model fits the data: the number of classes and input channels.

    A model whose module sets ``REPEATS_GREY`` keeps its 3 input channels and
    repeats a grey image to them itself (the FER wide_resnet50_2 of the report).
    """
    names = {f.name for f in fields(module.Config)}
    overrides: dict[str, Any] = {}
    if data.classes and "num_classes" in names and module.Config().num_classes != len(data.classes):
        overrides["num_classes"] = len(data.classes)
    grey_ok = getattr(module, "REPEATS_GREY", False) and data.x.ndim == 4 and data.x.shape[1] == 1
    if data.x.ndim == 4 and "in_channels" in names and module.Config().in_channels != data.x.shape[1] and not grey_ok:
        overrides["in_channels"] = int(data.x.shape[1])
    return overrides


def model_config_for(name: str, data: Dataset, overrides: dict[str, Any] | None = None) -> Any:
    """The config :func:`train_model` builds model ``name`` with for ``data``: the settings asked, else fitted to the data."""
    from reference_models.registry import check_buildable, get

    asked = check_buildable(name, **(overrides or {}))
    chosen = {f.name: getattr(asked, f.name) for f in fields(asked) if f.name in (overrides or {})}
    return replace(asked, **{**_fitting_overrides(get(name).load(), data), **chosen})


@dataclass
class TrainRun:
    """What :func:`train_model` produced."""

    model: Any
    history: History
    weights: Path
    train: Dataset
    val: Dataset
    name: str = ""
    data: Path | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        """What the data loaders said about the training and validation splits, once each."""
        return tuple(dict.fromkeys(self.train.notes + self.val.notes))

    def to_text(self) -> str:
        """The history table (loss, top-1, top-5), HW1's MSE, coefficients and f'(x), and where the weights went."""
        from reference_models._train_report import run_text

        return run_text(self)

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``train --json``: model, params, sizes, notes, history (and HW1's regression answers)."""
        from reference_models._train_report import run_json

        return run_json(self)


def train_model(
    name: str,
    data: Path | str | None,
    out: Path | str,
    config: TrainConfig | None = None,
    *,
    on_step: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[History], None] | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainRun:
    """Load the data of model ``name``'s task, train a fresh model, save its weights (history in the metadata).

    ``config`` defaults to the task's entry in :data:`DEFAULTS`; HW2 augmentation is
    switched off when the labels carry no bounding boxes. Settings, the training
    config and ``out`` are checked before any data is read.
    """
    import torch

    from reference_models._files import check_output_file
    from reference_models.data import load_for, task_of
    from reference_models.registry import check_buildable, get

    task = task_of(name)
    module = get(name).load()
    check_buildable(name, **(overrides or {}))  # a bad setting fails before the data is read
    config = check_train_config(config or DEFAULTS[task])
    check_output_file(out, example=f"{name}.safetensors")  # and a bad --out before the training, not after it
    train = load_for(task, data, "train", seed=config.seed)
    if config.augment and train.boxes is None:  # labels without x,y,width,height: nothing to move by
        config = replace(config, augment=False)
    val = load_for(task, data, "val", seed=config.seed)
    torch.manual_seed(config.seed)
    model_config = model_config_for(name, train, overrides)
    try:
        model = module.build(model_config)
    except (TypeError, ValueError, RuntimeError) as exc:  # a size only the data reveals
        raise ModelError(f"Model {name!r} cannot be built for this data: {str(exc).splitlines()[0]}") from None
    history = fit(model, train, val, config, on_step=on_step, on_epoch=on_epoch)
    path = save_weights(
        model, Path(out), name=name, config=model_config, extra={"history": history.to_dict(), "train": asdict(config)}
    )
    return TrainRun(
        model=model,
        history=history,
        weights=path,
        train=train,
        val=val,
        name=name,
        data=None if data is None else Path(data),
    )


def history_of(metadata: dict[str, str]) -> History | None:
    """The training history stored in a weights file's metadata, if any (older files lack top-5: empty lists)."""
    raw = metadata.get("history")
    if not raw:
        return None
    known = {f.name for f in fields(History)}
    return History(**{k: v for k, v in json.loads(raw).items() if k in known})


def seed_of(metadata: dict[str, str]) -> int:
    """The ``--seed`` a weights file was trained with (0 when its metadata does not say).

    ``evaluate`` and ``figures`` pass it to the data loaders, so the points and the
    splits they score are the ones the model was trained beside.
    """
    try:
        seed = json.loads(metadata.get("train", "{}")).get("seed", 0)
    except (json.JSONDecodeError, AttributeError):
        return 0
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else 0
