"""Count a model's parameters from its saved weights, without running student code.

``.pt``/``.pth`` files are read with ``torch.load(..., weights_only=True)``,
which refuses pickled code; ``.safetensors`` files are read from their JSON
header alone (no torch needed). A tensor stored under two names (tied
weights) counts once, as in ``sum(p.numel() for p in model.parameters())``;
BatchNorm's running statistics are buffers, not parameters, and are skipped.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grading.errors import UsageError

__all__ = ["BUFFER_NAMES", "count_parameters"]

BUFFER_NAMES = ("running_mean", "running_var", "num_batches_tracked")
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights", "params")
_HOW = "save the weights with torch.save(model.state_dict(), 'model.pt') or safetensors.torch.save_model"


def _is_buffer(name: str) -> bool:
    return name.rsplit(".", 1)[-1] in BUFFER_NAMES


def count_parameters(path: str | Path) -> int:
    """The number of parameters stored in a state_dict file.

    Args:
        path: a ``.pt``/``.pth`` state_dict (or a checkpoint dict holding one
            under ``state_dict``/``model_state_dict``/``model``) or a ``.safetensors`` file.

    Returns:
        the parameter count, each shared tensor counted once, buffers excluded.

    Raises:
        UsageError: the file is missing, of another kind, corrupt, or holds pickled code.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"the model file {str(path)!r} does not exist; check the path given to --model.")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return _count_safetensors(path)
    if suffix in (".pt", ".pth", ".bin", ".ckpt"):
        return _count_torch(path)
    raise UsageError(f"{path.name}: --model expects a .pt, .pth or .safetensors file, got {suffix or 'no extension'!r}.")


def _count_safetensors(path: Path) -> int:
    data = path.read_bytes()
    bad = f"{path.name} is not a valid .safetensors file"
    if len(data) < 8:
        raise UsageError(f"{bad} (it has only {len(data)} bytes).")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise UsageError(f"{bad} (its header claims {size} bytes, the file has {len(data)}).")
    try:
        header = json.loads(data[8 : 8 + size])
        entries = {n: (tuple(v["data_offsets"]), v["shape"]) for n, v in header.items() if n != "__metadata__"}
    except (ValueError, TypeError, KeyError, AttributeError):
        raise UsageError(f"{bad} (its header is not the expected JSON).") from None
    seen: set[tuple[Any, ...]] = set()
    total = 0
    for name, (offsets, shape) in entries.items():
        if _is_buffer(name) or offsets in seen:
            continue
        seen.add(offsets)
        total += math.prod(shape)
    return total


def _state_dict(obj: Any, name: str, torch: Any) -> Mapping[str, Any]:
    if isinstance(obj, Mapping):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
        for key in _CHECKPOINT_KEYS:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return inner
        keys = ", ".join(repr(k) for k in list(obj)[:6])
        raise UsageError(f"{name} holds a dict without a state_dict (keys: {keys}); {_HOW}.")
    raise UsageError(f"{name} holds a {type(obj).__name__}, not a state_dict; {_HOW}.")


def _count_torch(path: Path) -> int:
    import pickle

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"{path.name} cannot be loaded safely with weights_only=True ({first[:160]}); "
            f"it probably holds a whole pickled model; {_HOW}."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{path.name} is not a readable torch file ({first[:160]}).") from None
    state = _state_dict(obj, path.name, torch)
    seen: set[tuple[Any, ...]] = set()
    total = 0
    for name, tensor in state.items():
        if _is_buffer(name):
            continue
        ident = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape), tensor.stride())
        if tensor.numel() and ident in seen:
            continue
        seen.add(ident)
        total += tensor.numel()
    return total
