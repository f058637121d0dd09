"""The models of the course, by name, without importing torch until one is built.

Each model lives in ``reference_models/models/<module>.py`` and exposes

* ``Config``: a frozen dataclass of its hyper-parameters (with defaults that
  reproduce the handout exactly), and
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

__all__ = ["MODELS", "ModelSpec", "build", "get"]


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
        ModelSpec("hw1-cifar", "hw1_cifar", (3, 32, 32), "HW1 2023: the CIFAR-10 CNN of the handout's table, exactly"),
        ModelSpec("wide-resnet50-2", "wide_resnet50_2", (3, 224, 224),
                  "torchvision's wide_resnet50_2 in plain PyTorch, 1000 classes (68,883,240 parameters)"),
        ModelSpec("hw2-digits", "hw2_digits", (1, 128, 128), "HW2 2024: small CNN for one digit anywhere in a 128x128 image (top-1 / params)"),
    ]
}


def get(name: str) -> ModelSpec:
    """Return the spec called ``name``, or raise :class:`ModelError` listing the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS)) or "(none yet)"
        raise ModelError(f"Unknown model {name!r}; the known models are: {known}.") from None


def build(name: str, **overrides: Any) -> Any:
    """Build model ``name`` with its default config, changed by ``overrides``."""
    module = get(name).load()
    config = module.Config(**overrides)
    return module.build(config)
