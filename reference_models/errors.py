"""The one exception tree of :mod:`reference_models`."""

from __future__ import annotations

__all__ = ["ModelError", "SettingError", "TrainingDiverged", "TrainingInterrupted"]


class ModelError(ValueError):
    """A user-facing problem: unknown model, an input shape a layer cannot take, bad data."""


class SettingError(ModelError):
    """What the command line asked for cannot work (a ``--set`` the data does not fit, a device
    this machine lacks); the CLI exits 2, as for any other usage error."""


class TrainingDiverged(ModelError):
    """The loss became NaN or infinite; training stopped and no weights were written."""


class TrainingInterrupted(ModelError):
    """Ctrl-C during training; the message says which epoch ``last.pt`` holds and how to resume."""
