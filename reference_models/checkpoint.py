"""``last.pt``: everything needed to continue a run exactly where an epoch ended.

Model, optimizer, scheduler (and GradScaler), the three random streams (torch's
global one, the distortion generator, numpy's data-order generator), the epoch,
the step and the history, written atomically: a crash mid-write leaves the
previous checkpoint whole.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reference_models.config import TrainConfig
from reference_models.errors import ModelError, SettingError

if TYPE_CHECKING:
    import numpy as np
    import torch

__all__ = ["check_resumable", "load_checkpoint", "restore", "save_checkpoint", "state_of"]

#: The settings a resumed run must share with the checkpoint (``threads`` only changes rounding).
_SAME = ("epochs", "batch_size", "lr", "weight_decay", "seed", "augment", "distort")


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` with ``torch.save`` to ``path`` atomically (a ``.partial`` file, then a rename)."""
    import torch

    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, partial)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(f"{path}: the checkpoint cannot be written ({exc.strerror or exc}).") from None
    return path


def state_of(
    model: torch.nn.Module,
    optimizer: Any,
    schedule: Any,
    scaler: Any,
    generator: torch.Generator,
    rng: np.random.Generator,
    *,
    epoch: int,
    step: int,
    history: dict[str, Any],
    config: TrainConfig,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The checkpoint's contents after ``epoch`` (tensors on the CPU, so it loads anywhere)."""
    import torch

    return {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": schedule.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "torch_rng": torch.get_rng_state(),
        "generator": generator.get_state(),
        "numpy_rng": rng.bit_generator.state,
        "epoch": epoch,
        "step": step,
        "history": history,
        "config": asdict(config),
        **(extra or {}),
    }


def load_checkpoint(path: Path | str) -> dict[str, Any]:
    """Read a ``last.pt`` (only tensors and plain data: ``weights_only=True``).

    Raises:
        SettingError: the file is missing or is not a checkpoint of this program.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise SettingError(f"--resume {str(path)!r}: no such checkpoint; it is the last.pt written beside --out.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError, EOFError) as exc:
        raise SettingError(f"--resume {str(path)!r}: not a readable checkpoint ({str(exc).splitlines()[0]}).") from None
    if not isinstance(state, dict) or not {"model", "optimizer", "epoch", "config"} <= set(state):
        raise SettingError(f"--resume {str(path)!r}: not a checkpoint written by reference_models train.")
    return state


def check_resumable(state: dict[str, Any], config: TrainConfig, name: str | None = None) -> None:
    """Refuse a checkpoint of another model or of other settings (the run would not be the same run)."""
    if name is not None and state.get("name", name) != name:
        raise SettingError(f"--resume: the checkpoint belongs to model {state['name']!r}, not {name!r}.")
    saved = state["config"]
    differ = [k for k in _SAME if k in saved and saved[k] != getattr(config, k)]
    if differ:
        pairs = ", ".join(f"{k} {saved[k]!r} (now {getattr(config, k)!r})" for k in differ)
        raise SettingError(f"--resume: the checkpoint was trained with {pairs}; resume with the same settings.")
    if state["epoch"] >= config.epochs:
        raise SettingError(
            f"--resume: the checkpoint already holds all {config.epochs} epochs; its weights are finished."
        )


def restore(
    state: dict[str, Any],
    model: torch.nn.Module,
    optimizer: Any,
    schedule: Any,
    scaler: Any,
    generator: torch.Generator,
    rng: np.random.Generator,
) -> None:
    """Put every piece of ``state`` back where :func:`state_of` took it from."""
    import torch

    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["scheduler"])
    if scaler is not None and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(state["torch_rng"])
    generator.set_state(state["generator"])
    rng.bit_generator.state = state["numpy_rng"]
