"""Parameter and output-shape tables that show the working, as an answer key needs them.

:func:`param_table` runs one forward pass (batch of 1, no gradients; on the
``meta`` device for big models, so nothing is computed) with hooks on every
layer, and returns a :class:`ParamTable`: per layer the output shape with its
formula (``⌊(32 + 2·1 − 3)/1⌋ + 1 = 32``, ``⌈16/2⌉ = 8`` for 'same') and the
parameter count with its working (``(3·3·3 + 1)·32 = 896``). Trainable and
frozen parameters are counted apart, buffers (BatchNorm's running statistics)
apart from both, and a tensor shared by two layers once, at its first use.
The total is checked against ``sum(p.numel() for p in model.parameters())``.

>>> from reference_models.summary import param_table
>>> table = param_table("hw1-cifar")
>>> table.total, table.layers[0].formula, table.checked
(3177418, '(3·3·3 + 1)·32 = 896', True)
"""

from __future__ import annotations

from typing import Any

from reference_models import registry
from reference_models._table import LayerRow, ParamTable
from reference_models.errors import ModelError

__all__ = ["LayerRow", "ParamTable", "param_table"]


def param_table(
    model_or_name: Any, input_shape: tuple[int, ...] | str | None = None, *, overrides: dict[str, Any] | None = None
) -> ParamTable:
    """Trace a model and return its :class:`ParamTable`.

    Args:
        model_or_name: a registry name (``"hw1-cifar"``) or any ``torch.nn.Module``.
        input_shape: one sample's shape without the batch, as a tuple or ``"3x32x32"``;
            defaults to the registry's shape (required for a module).
        overrides: Config fields to change when building a model by name.

    Raises:
        ModelError: unknown name, bad shape, or an input a layer cannot take (says which and why).
    """
    from reference_models import _summary_trace as _trace

    if isinstance(model_or_name, str):
        spec = registry.get(model_or_name)
        model, label, default = _trace.build_light(spec, overrides or {}), spec.name, spec.input_shape
    else:
        model, label, default = model_or_name, type(model_or_name).__name__, None
    shape = _trace.parse_shape(input_shape, default, label)
    try:
        return _trace.make_table(model, label, shape, default)
    except (RuntimeError, ValueError, IndexError) as exc:
        if not overrides or isinstance(exc, ModelError):
            raise
        settings = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
        raise ModelError(
            f"{label} with {settings} cannot take an input of {'x'.join(map(str, shape))}: "
            f"{str(exc).splitlines()[0]}. Change the settings, or give --input."
        ) from None
