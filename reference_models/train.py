"""Train a model of the registry on its task's data and save the weights: :func:`train_model`.

The pieces live one idea per module, each importing only those below it:
:mod:`~reference_models.config` (how to train, the history),
:mod:`~reference_models.batches` (tensors, loss, HW2's distortion),
:mod:`~reference_models.loop` (:func:`fit` and the measures),
:mod:`~reference_models.weights` (safetensors in and out) and
:mod:`~reference_models._train_report` (what ``train`` prints). This module,
at the top, puts them together and re-exports their public names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from reference_models._train_report import TrainRun
from reference_models.batches import distort, to_tensor
from reference_models.config import DEFAULTS, History, TrainConfig, check_train_config
from reference_models.data import Dataset
from reference_models.errors import ModelError
from reference_models.loop import fit, measure, measure_top
from reference_models.weights import history_of, load_model, save_weights, seed_of, shipped_weights

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
