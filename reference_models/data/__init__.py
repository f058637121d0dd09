"""Datasets of the course, read from local files or generated; nothing is downloaded."""

from reference_models.data._dataset import Dataset

__all__ = ["Dataset"]
