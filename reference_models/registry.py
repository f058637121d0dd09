"""The models of the course, by name, without importing torch until one is built.

Each model lives in ``reference_models/models/<module>.py`` and exposes

* ``Config``: a frozen dataclass of its hyper-parameters (with defaults that
  reproduce the handout; hw1-cifar's ReLU after its dense layers is the one documented addition), and
* ``build(config: Config | None = None) -> torch.nn.Module``.

This table maps the public name (``hw1-cifar``) to that module, the input shape
(C, H, W) or (features,) the model takes by default, and one line for
``derive params --list``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from reference_models.errors import ModelError

__all__ = ["MODELS", "ModelSpec", "build", "check_buildable", "get", "make_config"]


@dataclass(frozen=True)
class ModelSpec:
    """One entry of the registry."""

    name: str
    module: str
    input_shape: tuple[int, ...]
    description: str

    def load(self) -> Any:
        """Import and return the model's module (this imports torch)."""
        return importlib.import_module(f"reference_models.models.{self.module}")


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "hw1-regression",
            "hw1_regression",
            (1,),
            "HW1 2023: MLP 1-32-32-1 for the 20 (x, y) pairs (kind=polynomial: y = sum w_i x^i)",
        ),
        ModelSpec(
            "hw1-cifar",
            "hw1_cifar",
            (3, 32, 32),
            "HW1 2023: the CIFAR-10 CNN of the handout's table, plus a ReLU after fc1 and fc2 (dense_relu=false: the literal table)",
        ),
        ModelSpec(
            "hw1-cifar-improved",
            "hw1_cifar_improved",
            (3, 32, 32),
            "HW1 2023: adjusted CIFAR-10 CNN (3 VGG stages with batch-norm, 1.15 M parameters)",
        ),
        ModelSpec(
            "hw1-circles", "hw1_circles", (2,), "HW1 2025: fully connected 2-16-16-2 classifier for make_circles"
        ),
        ModelSpec(
            "fer-cnn4",
            "fer_cnn4",
            (1, 48, 48),
            "FER report: 4 conv + maxpool blocks (32, 64, 128, 128), 48x48 grey -> 7",
        ),
        ModelSpec(
            "fer-cnn3", "fer_cnn3", (1, 48, 48), "FER reports: the 3-layer CNN [64, 128, 512] used for saliency maps"
        ),
        ModelSpec(
            "fer-wide-resnet50-2",
            "fer_wide_resnet50_2",
            (3, 48, 48),
            "FER report: wide_resnet50_2, 7 classes, 48x48 grey faces repeated to 3 channels (66,848,583 parameters)",
        ),
        ModelSpec(
            "wide-resnet50-2",
            "wide_resnet50_2",
            (3, 224, 224),
            "torchvision's wide_resnet50_2 in plain PyTorch, 1000 classes (68,883,240 parameters)",
        ),
        ModelSpec(
            "hw2-digits",
            "hw2_digits",
            (1, 128, 128),
            "HW2 2024: small CNN for one digit anywhere in a 128x128 image (top-1 / params)",
        ),
        ModelSpec(
            "hw2-digits-small",
            "hw2_digits_small",
            (1, 128, 128),
            "HW2 2024: the HW2 CNN at half the parameters (1,438), depthwise-separable stages; the leaderboard baseline",
        ),
    ]
}


def get(name: str) -> ModelSpec:
    """Return the spec called ``name``, or raise :class:`ModelError` listing the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        import difflib

        known = ", ".join(sorted(MODELS)) or "(none yet)"
        close = difflib.get_close_matches(name, list(MODELS), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ModelError(f"Unknown model {name!r}; the known models are: {known}.{hint}") from None


def _did_you_mean(word: str, choices: list[str]) -> str:
    """`` Did you mean 'x'?`` for the closest choice (case ignored), or ``""``.

    >>> _did_you_mean("num_clases", ["num_classes", "in_channels"])
    " Did you mean 'num_classes'?"
    """
    import difflib

    spelled = {choice.lower(): choice for choice in reversed(choices)}
    close = difflib.get_close_matches(word.lower(), list(spelled), n=1, cutoff=0.5)
    return f" Did you mean {spelled[close[0]]!r}?" if close else ""


_KINDS = {"int": "whole number", "float": "number", "str": "text", "tuple": "list", "bool": "true/false"}


def _checked(name: str, key: str, value: Any, default: Any) -> Any:
    """``value`` in the type of ``default`` (a list becomes a tuple, an int a float where a float is due)."""
    value = tuple(value) if isinstance(value, list) else value
    if isinstance(default, bool) and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"  # --set dense_relu=false, as typed in a shell
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = type(value) is type(default)
    if ok and isinstance(default, tuple) and default:
        ok = all(type(v) is type(default[0]) for v in value)
    if not ok:
        kind = _KINDS.get(type(default).__name__, "value")
        if isinstance(default, tuple) and default:
            kind = f"list of {_KINDS.get(type(default[0]).__name__, 'value')}s"
        like = list(default) if isinstance(default, tuple) else default
        raise ModelError(f"Model {name!r}: setting {key!r} takes a {kind} like {like!r}; got {value!r}.")
    return value


def _in_range(name: str, key: str, value: Any, default: Any, annotation: str) -> None:
    """Refuse sizes no layer can have: a count below 1 (a degree below 0), a dropout outside [0, 1],
    and a list of another length where the model has a fixed number of stages."""
    like = list(default) if isinstance(default, tuple) else default
    if isinstance(default, tuple):
        fixed = "..." not in annotation
        if fixed and len(value) != len(default):
            raise ModelError(
                f"Model {name!r}: setting {key!r} takes a list of {len(default)} values like {like!r}, one per stage; "
                f"got {list(value)!r} ({len(value)} value{'s' * (len(value) != 1)})."
            )
        bad = [v for v in value if isinstance(v, int) and not isinstance(v, bool) and v < 1]
        if bad:
            raise ModelError(
                f"Model {name!r}: setting {key!r} takes sizes of 1 or more like {like!r}; got {list(value)!r}."
            )
    elif isinstance(default, int) and not isinstance(default, bool):
        low = 0 if key == "degree" or default == 0 else 1
        if value < low:
            raise ModelError(
                f"Model {name!r}: setting {key!r} must be {low} or more (default {default!r}); got {value!r}."
            )
    elif isinstance(default, float) and "dropout" in key and not 0.0 <= value <= 1.0:
        raise ModelError(
            f"Model {name!r}: setting {key!r} is a probability from 0 to 1 (default {default!r}); got {value!r}."
        )


def make_config(name: str, **overrides: Any) -> Any:
    """Model ``name``'s ``Config`` with ``overrides``, each checked against its default's type.

    JSON values are welcome: a list becomes a tuple, an int becomes a float where
    the default is one.

    Raises:
        ModelError: an unknown model, an unknown setting (with its settings listed), or a value of the wrong type.

    >>> make_config("hw2-digits", channels=[4, 8, 8, 8]).channels
    (4, 8, 8, 8)
    """
    from dataclasses import fields

    module = get(name).load()
    defaults = module.Config()
    annotations = {f.name: str(f.type) for f in fields(defaults)}
    known = list(annotations)
    checked = {}
    for key, value in overrides.items():
        if key not in known:
            raise ModelError(
                f"Model {name!r} has no setting {key!r}; its settings are: {', '.join(sorted(known))}.{_did_you_mean(key, known)}"
            )
        checked[key] = _checked(name, key, value, getattr(defaults, key))
        _in_range(name, key, checked[key], getattr(defaults, key), annotations[key])
    return module.Config(**{f: getattr(defaults, f) for f in known} | checked)


def check_buildable(name: str, **overrides: Any) -> Any:
    """:func:`make_config`, then build the model on the ``meta`` device (no memory, no arithmetic) to be sure it can be.

    Commands call this before they read any data, so a setting no model can be
    built with (``kind=spline``) is a usage error, not a failure after loading.

    Returns:
        The checked config.

    Raises:
        ModelError: a bad setting, or the model's own complaint when it is built.

    >>> check_buildable("hw1-regression", kind="polynomial").kind
    'polynomial'
    """
    import torch

    config = make_config(name, **overrides)
    try:
        with torch.device("meta"):
            get(name).load().build(config)
    except ModelError:
        raise
    except (TypeError, ValueError, RuntimeError, IndexError) as exc:
        settings = ", ".join(f"{k}={v!r}" for k, v in overrides.items()) or "its default settings"
        raise ModelError(f"Model {name!r} cannot be built with {settings}: {str(exc).splitlines()[0]}") from None
    return config


def build(name: str, **overrides: Any) -> Any:
    """Build model ``name`` with its default config, changed by ``overrides`` (checked by :func:`make_config`)."""
    return get(name).load().build(make_config(name, **overrides))
