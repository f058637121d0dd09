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
    raise UsageError(
        f"{path.name}: --model expects a .pt, .pth or .safetensors file, got {suffix or 'no extension'!r}."
    )


_DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
_MAX_HEADER = 100_000_000  # the safetensors library's own limit


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _count_safetensors(path: Path) -> int:
    """Count from the JSON header, trusted only when it agrees with the file: every tensor has a
    known dtype, a shape of non-negative integers and byte offsets inside the data that match
    its size; anything else (deep nesting, ``null`` or string shapes, negative dims, offsets past
    the end) is refused with one line."""
    bad = f"{path.name} is not a valid .safetensors file"
    size_on_disk = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise UsageError(f"{bad} (it has only {len(head)} bytes).")
        (size,) = struct.unpack("<Q", head)
        if size > min(size_on_disk - 8, _MAX_HEADER):
            raise UsageError(f"{bad} (its header claims {size} bytes, the file has {size_on_disk}).")
        raw = f.read(size)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        raise UsageError(f"{bad} (its header is not the expected JSON).") from None
    if not isinstance(header, dict):
        raise UsageError(f"{bad} (its header is not a JSON object of tensors).")
    data_bytes = size_on_disk - 8 - size
    seen: set[tuple[int, int]] = set()
    total = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        what = f"{bad}: tensor {name[:80]!r}"
        if not isinstance(entry, dict):
            raise UsageError(f"{what} is not described by an object.")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype not in _DTYPE_BYTES:
            raise UsageError(f"{what} has an unknown dtype {str(dtype)[:20]!r}.")
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise UsageError(f"{what} has the shape {str(shape)[:40]}, not a list of non-negative integers.")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_count(o) for o in offsets)
            or not offsets[0] <= offsets[1] <= data_bytes
        ):
            raise UsageError(
                f"{what} has data offsets {str(offsets)[:40]} outside the file's {data_bytes} bytes of data."
            )
        numel = math.prod(shape)
        if offsets[1] - offsets[0] != numel * _DTYPE_BYTES[dtype]:
            raise UsageError(
                f"{what}: its shape {shape} needs {numel * _DTYPE_BYTES[dtype]} bytes, "
                f"its offsets give {offsets[1] - offsets[0]}; the header does not match the data."
            )
        key = (offsets[0], offsets[1])
        if _is_buffer(name) or (numel and key in seen):
            continue
        seen.add(key)
        total += numel
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
