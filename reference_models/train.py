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
from reference_models.errors import ModelError, SettingError
from reference_models.loop import fit, measure, measure_top
from reference_models.weights import history_of, load_model, save_weights, seed_of, shipped_weights

__all__ = [
    "DEFAULTS",
    "History",
    "TrainConfig",
    "TrainRun",
    "check_fits",
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


def check_fits(name: str, model_config: Any, data: Dataset, overrides: dict[str, Any] | None = None) -> None:
    """Refuse, before training, a model that cannot take ``data``: its classes, then one forward pass
    traced on the ``meta`` device (no memory, no arithmetic) with the data's input shape.

    The trace is :func:`derive params`'s, so the message names the layer and its shape arithmetic.

    Raises:
        SettingError: a ``--set`` value the data does not fit (the CLI exits 2).
        ModelError: the data does not fit the model's default settings.
    """
    import torch

    from reference_models._summary_trace import make_table
    from reference_models._table import shape_text
    from reference_models.registry import get

    asked = " ".join(f"{k}={v!r}" for k, v in (overrides or {}).items())
    error = SettingError if overrides else ModelError
    classes = getattr(model_config, "num_classes", None)
    if data.classes and classes is not None and classes != len(data.classes):
        raise error(
            f"Model {name!r} with --set num_classes={classes} cannot learn this data's {len(data.classes)} classes "
            f"({data.classes[0]} to {data.classes[-1]}); leave num_classes out (it follows the data) "
            f"or set it to {len(data.classes)}."
        )
    spec = get(name)
    with torch.device("meta"):
        model = spec.load().build(model_config)
    shape = tuple(int(d) for d in data.x.shape[1:])
    label = f"Model {name!r}{f' with --set {asked}' if asked else ''} cannot take the data's {shape_text(shape)} input"
    try:
        make_table(model, label, shape, None if shape == spec.input_shape else spec.input_shape)
    except ModelError as exc:
        fix = "change or leave out the --set values" if overrides else "check that --data holds this task's data"
        raise error(f"{str(exc).removesuffix('; check the input shape.').rstrip('.')}; {fix}.") from None


def train_model(
    name: str,
    data: Path | str | None,
    out: Path | str,
    config: TrainConfig | None = None,
    *,
    on_step: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[History], None] | None = None,
    overrides: dict[str, Any] | None = None,
    device: str = "auto",
    amp: bool = False,
    resume: Path | str | None = None,
) -> TrainRun:
    """Load the data of model ``name``'s task, train a fresh model, save its weights (history in the metadata).

    ``config`` defaults to the task's entry in :data:`DEFAULTS`; HW2 augmentation is
    switched off when the labels carry no bounding boxes. Settings, the training
    config and ``out`` are checked before any data is read.

    ``device`` is ``auto`` (CUDA, else MPS, else the CPU), ``cpu``, ``cuda``, ``cuda:N`` or
    ``mps``; ``amp`` trains under autocast. Started by ``torchrun``, the run is one process of
    a DistributedDataParallel job and only rank 0 writes. After every epoch ``last.pt`` beside
    ``out`` holds everything to continue; ``resume`` names such a file to continue from.
    Weights are saved from the CPU, so they load anywhere.
    """
    import torch

    from reference_models._files import check_output_file
    from reference_models.checkpoint import load_checkpoint
    from reference_models.data import load_for, task_of
    from reference_models.device import amp_mode, describe, distributed_from_env, resolve_device
    from reference_models.registry import check_buildable, get

    task = task_of(name)
    module = get(name).load()
    check_buildable(name, **(overrides or {}))  # a bad setting fails before the data is read
    config = check_train_config(config or DEFAULTS[task])
    check_output_file(out, example=f"{name}.safetensors")  # and a bad --out before the training, not after it
    where = resolve_device(device)
    if amp:
        amp_mode(where)
    state = load_checkpoint(resume) if resume is not None else None
    if state is not None and state.get("name", name) != name:
        raise SettingError(f"--resume: the checkpoint belongs to model {state['name']!r}, not {name!r}.")
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
    check_fits(name, model_config, train, overrides)
    dist = distributed_from_env(where)
    if dist is not None:
        where = dist.device
    history = fit(
        model,
        train,
        val,
        config,
        on_step=on_step,
        on_epoch=on_epoch,
        device=where,
        amp=amp,
        dist=dist,
        checkpoint=Path(out).parent / "last.pt",
        resume=state,
        checkpoint_extra={"name": name, "model_config": asdict(model_config)},
    )
    model.cpu()
    path = Path(out)
    if dist is None or dist.main:
        save_weights(
            model, path, name=name, config=model_config, extra={"history": history.to_dict(), "train": asdict(config)}
        )
    if dist is not None:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return TrainRun(
        model=model,
        history=history,
        weights=path,
        train=train,
        val=val,
        name=name,
        data=None if data is None else Path(data),
        augmented=config.augment,
        main=dist is None or dist.main,
        device=describe(where) if dist is None else f"{where.type}, {dist.world_size} torchrun processes",
    )
