"""The one exception tree of :mod:`reference_models`."""

from __future__ import annotations

__all__ = ["ModelError"]


class ModelError(ValueError):
    """A user-facing problem: unknown model, an input shape a layer cannot take, bad data."""
