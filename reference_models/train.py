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
    "distort",
    "fit",
    "history_of",
    "load_model",
    "measure",
    "save_weights",
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
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    augment: bool = False
    distort: float = 0.0


DEFAULTS: dict[str, TrainConfig] = {
    "hw2": TrainConfig(epochs=30, batch_size=64, lr=6e-3, augment=True, distort=0.2),
    "cifar": TrainConfig(epochs=10, batch_size=64, lr=1e-3),
    "fer": TrainConfig(epochs=10, batch_size=64, lr=1e-3),
    "circles": TrainConfig(epochs=200, batch_size=70, lr=1e-2, weight_decay=0.0),
    "regression": TrainConfig(epochs=2000, batch_size=20, lr=3e-2, weight_decay=0.0),
}


@dataclass
class History:
    """Per-epoch loss and accuracy; accuracy is ``None`` for regression, ``val_*`` without a validation split."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)

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
    a = torch.stack([torch.stack([cos + shear_y * sin, -sin + shear_x * cos], 1), torch.stack([sin + shear_y * cos, cos - shear_x * sin], 1)], 1)
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


def measure(model: torch.nn.Module, data: Dataset, *, batch_size: int = 256) -> tuple[float, float | None]:
    """Mean loss and accuracy (``None`` for regression) of ``model`` on a labeled split, in eval mode."""
    import torch

    assert data.y is not None
    loss_fn, total, correct = _loss_fn(data), 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            xb, yb = to_tensor(data.x[start : start + batch_size]), _target(data.y[start : start + batch_size])
            out = model(xb)
            total += float(loss_fn(out, yb, reduction="sum")) / (1 if data.classes else yb.shape[-1])
            if data.classes:
                correct += int((out.argmax(1) == yb).sum())
    n = len(data)
    return total / n, (correct / n if data.classes else None)


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
        raise ModelError("The training split has no labeled examples; training needs labels.csv (or the labels column).")
    if config.epochs < 1 or config.batch_size < 1 or config.lr <= 0:
        raise ModelError(f"epochs and batch size must be 1 or more and lr positive, got {config!r}.")
    if config.augment and train.boxes is None:
        raise ModelError("Augmentation moves each digit by its bounding box, but the training labels have no x,y,width,height columns.")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    loss_fn = _loss_fn(train)
    steps_per_epoch = -(-len(train) // config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if total >= 10:
        schedule: Any = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total, pct_start=0.2)
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
        seen, loss_sum, correct = 0, 0.0, 0
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
                correct += int((out.detach().argmax(1) == yb).sum())
            if on_step:
                on_step(step, total)
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum / seen)
        history.train_accuracy.append(correct / seen if train.classes else None)
        val_loss, val_acc = measure(model, val) if val is not None and val.y is not None else (None, None)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_acc)
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
    header = json.dumps(json.loads(raw[8 : 8 + size]), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + raw[8 + size :]


def save_weights(model: torch.nn.Module, path: Path, *, name: str, config: Any = None, extra: dict[str, Any] | None = None) -> Path:
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


def load_model(name: str, weights: Path | str | None = None, **overrides: Any) -> tuple[torch.nn.Module, dict[str, str]]:
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
        raise ModelError(f"{weights}: the tensors do not fit model {name!r}: {first[1].strip() if len(first) > 1 else first[0]}") from None
    model.eval()
    return model, metadata


def _fitting_overrides(module: Any, data: Dataset) -> dict[str, Any]:
    """Config changes so a model fits the data: the number of classes and input channels."""
    names = {f.name for f in fields(module.Config)}
    overrides: dict[str, Any] = {}
    if data.classes and "num_classes" in names and module.Config().num_classes != len(data.classes):
        overrides["num_classes"] = len(data.classes)
    if data.x.ndim == 4 and "in_channels" in names and module.Config().in_channels != data.x.shape[1]:
        overrides["in_channels"] = int(data.x.shape[1])
    return overrides


@dataclass
class TrainRun:
    """What :func:`train_model` produced."""

    model: Any
    history: History
    weights: Path
    train: Dataset
    val: Dataset

    def to_text(self) -> str:
        """The history table, HW1's MSE, coefficients and f'(x), and where the weights went."""
        from reference_models.evaluate import count_parameters, derivatives_at

        run, h = self, self.history
        lines = [f"{'epoch':>5}  {'loss':>9}  {'accuracy':>8}  {'val loss':>9}  {'val acc':>8}"]
        pct = lambda v: "" if v is None else f"{v:8.2%}"  # noqa: E731
        num = lambda v: "" if v is None else f"{v:9.4f}"  # noqa: E731
        every = max(1, len(h.epoch) // 15)
        for row in zip(h.epoch, h.train_loss, h.train_accuracy, h.val_loss, h.val_accuracy, strict=True):
            if row[0] % every and row[0] != h.epoch[-1]:
                continue
            lines.append(f"{row[0]:>5}  {num(row[1])}  {pct(row[2]):>8}  {num(row[3]):>9}  {pct(row[4]):>8}")
        if not run.train.classes:
            mse = h.val_loss[-1] if h.val_loss[-1] is not None else h.train_loss[-1]
            verdict = " (< 0.1 as the handout asks)" if mse < 0.1 else " (NOT below 0.1: train longer)"
            lines.append(f"MSE on the {len(run.train)} pairs after training: {mse:.4f}{verdict}")
            if hasattr(run.model, "coefficients"):
                coefficients = run.model.coefficients()
                degree = len(coefficients) - 1
                lines.append("coefficients: " + ", ".join(f"w{degree - i} = {w:+.4f}" for i, w in enumerate(coefficients)))
            for x, d in derivatives_at(run.model, (3.0, 0.1, -0.5)):
                lines.append(f"f'({x}) = {d:+.4f}")
        lines.append(f"wrote {run.weights} ({count_parameters(run.model):,} parameters)")
        return "\n".join(lines)


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
    switched off when the labels carry no bounding boxes.
    """
    import torch

    from reference_models._files import check_output_file
    from reference_models.data import load_for, task_of
    from reference_models.registry import get, make_config

    task = task_of(name)
    module = get(name).load()
    asked = make_config(name, **(overrides or {}))  # a bad setting fails before the data is read
    check_output_file(out, example=f"{name}.safetensors")  # and a bad --out before the training, not after it
    config = config or DEFAULTS[task]
    train = load_for(task, data, "train", seed=config.seed)
    if config.augment and train.boxes is None:  # labels without x,y,width,height: nothing to move by
        config = replace(config, augment=False)
    val = load_for(task, data, "val", seed=config.seed)
    torch.manual_seed(config.seed)
    chosen = {f.name: getattr(asked, f.name) for f in fields(asked) if f.name in (overrides or {})}
    model_config = replace(asked, **{**_fitting_overrides(module, train), **chosen})
    try:
        model = module.build(model_config)
    except (TypeError, ValueError, RuntimeError) as exc:  # e.g. a negative channel count
        raise ModelError(f"Model {name!r} cannot be built with {chosen!r}: {str(exc).splitlines()[0]}") from None
    history = fit(model, train, val, config, on_step=on_step, on_epoch=on_epoch)
    path = save_weights(model, Path(out), name=name, config=model_config, extra={"history": history.to_dict(), "train": asdict(config)})
    return TrainRun(model=model, history=history, weights=path, train=train, val=val)


def history_of(metadata: dict[str, str]) -> History | None:
    """The training history stored in a weights file's metadata, if any."""
    raw = metadata.get("history")
    return History(**json.loads(raw)) if raw else None
