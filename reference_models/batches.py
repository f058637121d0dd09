"""Turning a split's arrays into tensors, the loss of a task, and HW2's distortion: the bricks of every loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from reference_models.data import Dataset

if TYPE_CHECKING:
    import torch

__all__ = ["distort", "loss_fn", "target", "to_tensor"]


def to_tensor(x: np.ndarray) -> torch.Tensor:
    """Images (uint8) become float32 in [0, 1]; anything else becomes float32 as is."""
    import torch

    if x.dtype == np.uint8:
        return torch.from_numpy(x).float().div_(255.0)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def distort(
    x: torch.Tensor,
    boxes: np.ndarray,
    strength: float,
    generator: torch.Generator,
    *,
    of: int | None = None,
    rows: slice = slice(None),
) -> torch.Tensor:
    """Rotate, scale and shear each image about its box centre by a random small amount (HW2 augmentation).

    Under ``torchrun`` each process holds ``rows`` of a global batch of ``of`` images: the
    draws are made for the whole batch, as one process would, and the process keeps its rows.
    """
    import torch
    import torch.nn.functional as F

    _, _, height, width = x.shape
    u = ((torch.rand(of or x.shape[0], 4, generator=generator) * 2 - 1) * strength)[rows]
    angle, scale, shear_x, shear_y = u[:, 0] * (torch.pi / 3), 1 + u[:, 1], u[:, 2], u[:, 3]
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    a = torch.stack(
        [
            torch.stack([cos + shear_y * sin, -sin + shear_x * cos], 1),
            torch.stack([sin + shear_y * cos, cos - shear_x * sin], 1),
        ],
        1,
    )
    b = torch.as_tensor(boxes, dtype=torch.float32)
    centre = torch.stack([(b[:, 0] + b[:, 2] / 2) / width * 2 - 1, (b[:, 1] + b[:, 3] / 2) / height * 2 - 1], 1)
    theta = torch.cat([a, (centre - (a @ centre.unsqueeze(-1)).squeeze(-1)).unsqueeze(-1)], 2)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def loss_fn(data: Dataset) -> Callable[..., Any]:
    import torch.nn.functional as F

    return F.cross_entropy if data.classes else F.mse_loss


def target(y: np.ndarray) -> torch.Tensor:
    import torch

    return torch.from_numpy(y) if y.dtype == np.int64 else torch.from_numpy(y.astype(np.float32))
