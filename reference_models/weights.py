"""Saving and loading weights: safetensors with the model's name, config and history in the metadata.

:func:`load_model` rebuilds exactly what was trained; the same weights always
give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reference_models.config import History
from reference_models.errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["augmented_of", "history_of", "load_model", "save_weights", "seed_of", "shipped_weights"]


def _config_of(module: Any, raw: dict[str, Any]) -> Any:
    """Rebuild a frozen config dataclass from JSON (lists back to tuples)."""
    names = {f.name for f in fields(module.Config)}
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in names}
    return replace(module.Config(), **clean)


def _canonical(raw: bytes) -> bytes:
    """A safetensors file with its JSON header's keys sorted.

    safetensors writes the metadata from a hash map, in a different order on
    each run; sorted, the same weights are the same bytes (and checksum). Data
    offsets count from the end of the header, so only the header changes; it is
    padded with spaces to a multiple of 8 bytes, as the format allows.
    """
    import struct

    (size,) = struct.unpack("<Q", raw[:8])
    header = json.dumps(
        json.loads(raw[8 : 8 + size]), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + raw[8 + size :]


def save_weights(
    model: torch.nn.Module, path: Path, *, name: str, config: Any = None, extra: dict[str, Any] | None = None
) -> Path:
    """Save ``model``'s state dict (parameters and buffers) as safetensors, with name and config in the metadata.

    The same weights always give the same bytes, and the file is replaced only
    once it is completely written (an interrupted save leaves the old one).

    Raises:
        ModelError: the file cannot be written.
    """
    import os

    from safetensors import SafetensorError
    from safetensors.torch import save

    metadata = {"model": name, "config": json.dumps(asdict(config) if config is not None else {})}
    metadata.update({k: json.dumps(v) for k, v in (extra or {}).items()})
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        raw = _canonical(
            save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, metadata=metadata)
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(raw)
        os.replace(partial, path)
    except (SafetensorError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(f"{path}: the weights cannot be written ({exc}); choose another --out.") from None
    return path


def shipped_weights(name: str) -> Path | None:
    """The weights that ship with model ``name`` (``models/<module>.safetensors``), or ``None``."""
    from reference_models.registry import get

    path = Path(__file__).parent / "models" / f"{get(name).module}.safetensors"
    return path if path.exists() else None


def load_model(
    name: str, weights: Path | str | None = None, **overrides: Any
) -> tuple[torch.nn.Module, dict[str, str]]:
    """Build model ``name`` and load ``weights`` (the shipped ones when ``None``); return it in eval mode with the metadata.

    Raises:
        ModelError: no weights given and none ship, the file is unreadable, or it belongs to another model.
    """
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    from reference_models.registry import get

    spec = get(name)
    if weights is None:
        weights = shipped_weights(name)
        if weights is None:
            raise ModelError(
                f"Model {name!r} ships no trained weights; pass --weights FILE "
                f"(train one with: python -m reference_models train {name} --data DIR --out FILE)."
            )
    weights = Path(weights)
    if not weights.is_file():
        raise ModelError(f"{weights}: no such weights file.")
    try:
        with safe_open(str(weights), framework="pt") as fh:
            metadata = fh.metadata() or {}
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{weights}: not a readable safetensors file ({exc}).") from None
    if metadata.get("model", name) != name:
        raise ModelError(f"{weights}: these weights belong to model {metadata['model']!r}, not {name!r}.")
    module = spec.load()
    config = _config_of(module, {**json.loads(metadata.get("config", "{}")), **overrides})
    model = module.build(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ModelError(
            f"{weights}: the tensors do not fit model {name!r}: {first[1].strip() if len(first) > 1 else first[0]}"
        ) from None
    model.eval()
    return model, metadata


def history_of(metadata: dict[str, str]) -> History | None:
    """The training history stored in a weights file's metadata, if any (older files lack top-5: empty lists)."""
    raw = metadata.get("history")
    if not raw:
        return None
    known = {f.name for f in fields(History)}
    return History(**{k: v for k, v in json.loads(raw).items() if k in known})


def seed_of(metadata: dict[str, str]) -> int:
    """The ``--seed`` a weights file was trained with (0 when its metadata does not say).

    ``evaluate`` and ``figures`` pass it to the data loaders, so the points and the
    splits they score are the ones the model was trained beside.
    """
    try:
        seed = json.loads(metadata.get("train", "{}")).get("seed", 0)
    except (json.JSONDecodeError, AttributeError):
        return 0
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else 0


def augmented_of(metadata: dict[str, str]) -> bool:
    """Whether a weights file was trained on augmented images (``False`` when its metadata does not say)."""
    try:
        return json.loads(metadata.get("train", "{}")).get("augment") is True
    except (json.JSONDecodeError, AttributeError):
        return False
