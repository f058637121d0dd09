"""Where a model runs (``--device auto|cpu|cuda|cuda:N|mps``), mixed precision (``--amp``) and ``torchrun``.

Plain PyTorch, nothing of our own: :func:`resolve_device` picks the device,
:func:`amp_mode` the autocast dtype the device has (bf16 on the CPU and on GPUs
that have it, fp16 with a ``GradScaler`` otherwise), and :class:`Distributed`
reads the ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` that ``torchrun`` sets and
starts ``torch.distributed`` (NCCL on CUDA, gloo on the CPU).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reference_models.errors import SettingError

if TYPE_CHECKING:
    import torch

__all__ = ["Distributed", "amp_mode", "describe", "distributed_from_env", "resolve_device"]

DEVICES = "auto, cpu, cuda, cuda:N or mps"


def resolve_device(spec: str = "auto") -> torch.device:
    """The device ``--device`` names; ``auto`` is CUDA, else MPS, else the CPU.

    Raises:
        SettingError: an unknown name, or a device this machine does not have.

    >>> resolve_device("cpu").type
    'cpu'
    """
    import torch

    text = (spec or "auto").strip().lower()
    cuda, mps = torch.cuda.is_available(), _mps_available()
    if text == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "mps":
        if not mps:
            raise SettingError("--device mps: this machine has no Apple GPU (MPS); use --device cpu or auto.")
        return torch.device("mps")
    match = re.fullmatch(r"cuda(?::(\d+))?", text)
    if match is None:
        raise SettingError(f"--device takes {DEVICES}; got {spec!r}.")
    if not cuda:
        raise SettingError(
            f"--device {spec}: this machine has no CUDA GPU (or this torch was built without CUDA); "
            "use --device cpu or auto."
        )
    index = int(match.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise SettingError(
            f"--device {spec}: this machine has {torch.cuda.device_count()} CUDA GPU(s), numbered from 0; "
            f"choose cuda:0 to cuda:{torch.cuda.device_count() - 1}."
        )
    return torch.device("cuda", index)


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def describe(device: torch.device) -> str:
    """``cuda:0 (NVIDIA A100)``, ``mps``, ``cpu``: the words of a run's first line."""
    import torch

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return device.type


def amp_mode(device: torch.device) -> tuple[torch.dtype, bool]:
    """The autocast dtype for ``--amp`` on ``device`` and whether it needs a ``GradScaler`` (fp16).

    Raises:
        SettingError: the device has no autocast with bf16 or fp16.
    """
    import torch

    if not torch.amp.is_autocast_available(device.type):
        raise SettingError(f"--amp: torch has no mixed precision (autocast) on {device.type}; train without --amp.")
    if device.type == "cpu":
        return torch.bfloat16, False
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16, False
    if device.type in ("cuda", "mps"):
        return torch.float16, True
    raise SettingError(f"--amp: {device.type} has neither bf16 nor fp16 autocast here; train without --amp.")


@dataclass(frozen=True)
class Distributed:
    """One process of a ``torchrun`` job: its rank among ``world_size``, and the device it trains on."""

    rank: int
    world_size: int
    local_rank: int
    device: Any

    @property
    def main(self) -> bool:
        """Rank 0, the only process that prints and writes files."""
        return self.rank == 0

    def all_sum(self, values: list[float]) -> list[float]:
        """The sums of ``values`` over all ranks (float64 on the training device)."""
        import torch
        import torch.distributed as dist

        if self.world_size == 1:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.tolist()


def distributed_from_env(device: torch.device) -> Distributed | None:
    """The :class:`Distributed` of this process when ``torchrun`` started it (``WORLD_SIZE`` > 1), else ``None``.

    Starts the process group once: NCCL for CUDA (each rank on ``cuda:LOCAL_RANK``), gloo otherwise.

    Raises:
        SettingError: the environment is not a whole ``torchrun`` one, or asks for MPS (no backend).
    """
    import torch
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
        return None
    try:
        rank, world, local = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    except (KeyError, ValueError):
        raise SettingError(
            "WORLD_SIZE is set but RANK or LOCAL_RANK is not; start distributed training with torchrun."
        ) from None
    if device.type == "mps":
        raise SettingError("torchrun on MPS: torch.distributed has no MPS backend; use --device cpu or a CUDA machine.")
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Distributed(rank=rank, world_size=world, local_rank=local, device=device)
