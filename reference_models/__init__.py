"""reference_models: the course's architectures, data, training and reference solutions."""

from reference_models.errors import ModelError

__all__ = ["ModelError"]
