"""The one in-memory container every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Dataset"]


@dataclass(frozen=True)
class Dataset:
    """Examples, labels and ids of one split, as numpy arrays.

    Attributes:
        x: Inputs, first axis the example. Images are ``uint8`` (N, C, H, W)
            and are scaled to [0, 1] when they become tensors; tabular inputs
            are ``float32`` (N, features).
        y: Class indices (``int64``, shape (N,)) or regression targets
            (``float32``, shape (N, 1)); ``None`` for an unlabeled test set.
        ids: One name per example, as a submission CSV names it
            (``0000000.png`` for HW2, the row number elsewhere).
        classes: Class names, index ``i`` names class ``i``; empty for regression.
        boxes: HW2 bounding boxes (N, 4) as ``x, y, width, height``, or ``None``.
        notes: What the loader had to decide or found missing, one sentence each
            (a split it made, batches it did not find); the commands print them.
    """

    x: np.ndarray
    y: np.ndarray | None
    ids: tuple[str, ...]
    classes: tuple[str, ...] = ()
    boxes: np.ndarray | None = field(default=None)
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def labeled(self) -> bool:
        """Whether the split carries labels (an evaluation needs them)."""
        return self.y is not None

    def subset(self, index: np.ndarray) -> Dataset:
        """Return the examples at ``index`` (an integer array), in that order."""
        index = np.asarray(index)
        return Dataset(
            x=self.x[index],
            y=None if self.y is None else self.y[index],
            ids=tuple(self.ids[i] for i in index),
            classes=self.classes,
            boxes=None if self.boxes is None else self.boxes[index],
            notes=self.notes,
        )

    def noted(self, *notes: str) -> Dataset:
        """The same examples with ``notes`` added."""
        from dataclasses import replace

        return replace(self, notes=self.notes + tuple(n for n in notes if n not in self.notes))

    def split(self, fraction: float, *, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Split off ``fraction`` of the examples (shuffled with ``seed``) as a validation set.

        Returns:
            ``(rest, held_out)``; ``held_out`` has ``round(fraction * N)`` examples, at least 1.
        """
        n = len(self)
        order = np.random.default_rng(seed).permutation(n)
        n_out = max(1, int(round(fraction * n)))
        return self.subset(np.sort(order[n_out:])), self.subset(np.sort(order[:n_out]))
