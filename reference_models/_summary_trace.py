"""The machinery behind :func:`reference_models.summary.param_table` (imports torch).

Trace one forward pass with hooks on every module, then turn each layer that
owns parameters or buffers, or has no children, into a
:class:`~reference_models._table.LayerRow` whose workings are checked against
the numbers torch reports (a working that does not add up falls back to the
plain per-tensor sum, never to a wrong formula).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from reference_models._table import META_THRESHOLD, LayerRow, ParamTable, shape_text
from reference_models.errors import ModelError
from reference_models.shapes import conv_output_size

__all__ = ["build_light", "make_table", "parse_shape"]

_CONV = nn.modules.conv._ConvNd
_POOL = (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)
_NORM = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)
_DIMS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def build_light(spec: Any, overrides: dict[str, Any]) -> nn.Module:
    """Build a registry model; a big one stays on the ``meta`` device (no memory, no init)."""
    from reference_models.registry import check_buildable, make_config

    module = spec.load()
    config = check_buildable(spec.name, **overrides) if overrides else make_config(spec.name)
    with torch.device("meta"):
        model = module.build(config)
    if sum(p.numel() for p in model.parameters()) <= META_THRESHOLD:
        model = module.build(config)
    return model


def parse_shape(value: Any, default: tuple[int, ...] | None, label: str) -> tuple[int, ...]:
    """Read ``"3x32x32"``/``(3, 32, 32)`` into a tuple of positive ints, checked against the default."""
    if value is None:
        if default is None:
            raise ModelError(f"{label}: give input_shape, one sample's shape without the batch, e.g. (3, 32, 32).")
        return tuple(default)
    parts = [p for p in re.split(r"[x×,\s]+", value.strip())] if isinstance(value, str) else list(value)
    try:
        shape = tuple(int(p) for p in parts)
        if not shape or any(d < 1 for d in shape) or any(str(p).strip() != str(int(p)) for p in parts):
            raise ValueError
    except (TypeError, ValueError):
        raise ModelError(
            f"input shape {value!r} is not a list of whole numbers ≥ 1 like '3x32x32' (C×H×W, no batch dimension)."
        ) from None
    if default is not None and len(shape) != len(default):
        raise ModelError(
            f"{label} takes an input of {len(default)} number{'s' * (len(default) > 1)} like "
            f"{'x'.join(map(str, default))!r} "
            f"(no batch dimension); got {value!r}."
        )
    return shape


def _first_shape(obj: Any) -> tuple[int, ...] | None:
    if isinstance(obj, torch.Tensor):
        return tuple(obj.shape[1:])
    if isinstance(obj, (tuple, list)):
        for item in obj:
            found = _first_shape(item)
            if found is not None:
                return found
    return None


def _meta_batch_norm(m: nn.modules.batchnorm._BatchNorm) -> Any:
    """BatchNorm's forward for a meta tensor: the same checks, the same shape, no arithmetic.

    torch computes a meta batch norm through a Python decomposition whose first
    call imports ``torch._dynamo`` (about a second); the shape is the input's.
    """

    def forward(x: torch.Tensor) -> torch.Tensor:
        m._check_input_dim(x)
        if x.shape[1] != m.num_features:
            raise RuntimeError(f"running_mean should contain {x.shape[1]} elements not {m.num_features}")
        return torch.empty_like(x)

    return forward


def _run(model: nn.Module, shape: tuple[int, ...], meta: bool) -> None:
    x = torch.zeros((1, *shape), device="meta" if meta else "cpu")
    on_meta = any(p.is_meta for p in model.parameters())
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)] if meta else []
    for m in norms:
        m.forward = _meta_batch_norm(m)  # type: ignore[method-assign]
    try:
        with torch.no_grad():
            if meta and not on_meta:
                tensors = {n: torch.empty_like(t, device="meta") for n, t in model.named_parameters()}
                tensors |= {n: torch.empty_like(t, device="meta") for n, t in model.named_buffers()}
                torch.func.functional_call(model, tensors, (x,))
            else:
                model(x)
    finally:
        for m in norms:
            del m.forward


class _Trace:
    """Hooks on every module: first input/output shape, calls, the module running when it failed."""

    def __init__(self, model: nn.Module) -> None:
        self.records: dict[int, dict[str, Any]] = {}
        self.order: list[nn.Module] = []
        self.stack: list[nn.Module] = []
        self.handles = []
        for m in model.modules():
            self.handles.append(m.register_forward_pre_hook(self.pre))
            self.handles.append(m.register_forward_hook(self.post))

    def pre(self, m: nn.Module, args: Any) -> None:
        self.stack.append(m)
        rec = self.records.setdefault(id(m), {"in": None, "out": None, "calls": 0})
        if rec["calls"] == 0:
            self.order.append(m)
        rec["calls"] += 1
        rec["last_in"] = _first_shape(args)
        rec["in"] = rec["in"] or rec["last_in"]

    def post(self, m: nn.Module, args: Any, out: Any) -> None:
        self.stack.pop()
        rec = self.records[id(m)]
        rec["out"] = rec["out"] or _first_shape(out)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def _tup(value: Any, n: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _fmt(values: tuple[Any, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "×".join(str(v) for v in values)


def _is_same(m: nn.Module) -> bool:
    return getattr(m, "padding_mode_tf", None) == "same" or getattr(m, "padding", None) == "same"


def _window(m: nn.Module, nd: int) -> tuple[tuple, tuple, tuple, tuple]:
    """Kernel, stride, padding, dilation of a conv or pool layer, one entry per spatial dim."""
    kernel = _tup(m.kernel_size, nd)
    stride = _tup(m.stride if m.stride is not None else m.kernel_size, nd)
    padding = ("same",) * nd if _is_same(m) else _tup(0 if m.padding == "valid" else m.padding, nd)
    return kernel, stride, padding, _tup(getattr(m, "dilation", 1), nd)


def _spatial_dims(m: nn.Module) -> int:
    """2 for Conv2d, MaxPool2d and their subclasses (read from the torch class name)."""
    for cls in type(m).__mro__:
        match = re.fullmatch(r"\w+?(\d)d", cls.__name__)
        if match:
            return int(match.group(1))
    return 2


def _detail(m: nn.Module) -> str:
    parts: list[str] = []
    if isinstance(m, (_CONV, _POOL)):
        kernel, stride, padding, dilation = _window(m, _spatial_dims(m))
        if isinstance(m, _CONV):
            parts.append(f"{m.in_channels}→{m.out_channels}")
        parts.append("×".join(map(str, kernel)))
        if isinstance(m, _POOL) or any(v != 1 for v in stride):
            parts.append(f"stride {_fmt(stride)}")
        if padding[0] == "same":
            parts.append("same")
        elif any(padding):
            parts.append(f"pad {_fmt(padding)}")
        if any(d != 1 for d in dilation):
            parts.append(f"dilation {_fmt(dilation)}")
        if isinstance(m, _CONV) and m.groups != 1:
            parts.append(f"groups {m.groups}")
        if getattr(m, "ceil_mode", False):
            parts.append("ceil")
    elif isinstance(m, nn.Linear):
        parts.append(f"{m.in_features}→{m.out_features}")
    elif isinstance(m, (nn.modules.batchnorm._NormBase, nn.GroupNorm)):
        parts.append(str(getattr(m, "num_features", getattr(m, "num_channels", ""))))
    elif isinstance(m, nn.modules.dropout._DropoutNd):
        parts.append(f"p={m.p:g}")
    elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool1d)):
        parts.append(f"→{shape_text(_tup(m.output_size, 2 if '2d' in type(m).__name__ else 1))}")
    if (isinstance(m, (_CONV, nn.Linear))) and m.bias is None:
        parts.append("no bias")
    return ", ".join(parts)


def _param_working(m: nn.Module, own: list[tuple[str, nn.Parameter]]) -> str:
    """``(3·3·3 + 1)·32 = 896``-style working of the parameters this row counts."""
    total = sum(p.numel() for _, p in own)
    if not own:
        return ""
    names = {n for n, _ in own}
    formula, value = None, None
    if isinstance(m, _CONV) and "weight" in names and names <= {"weight", "bias"}:
        terms = [*_tup(m.kernel_size, 1), m.in_channels // m.groups]
        core = "·".join(map(str, terms))
        prod = 1
        for t in terms:
            prod *= t
        bias = "bias" in names
        formula = f"({core} + 1)·{m.out_channels}" if bias else f"{core}·{m.out_channels}"
        value = (prod + bias) * m.out_channels
    elif isinstance(m, nn.Linear) and "weight" in names and names <= {"weight", "bias"}:
        bias = "bias" in names
        formula = f"({m.in_features} + 1)·{m.out_features}" if bias else f"{m.in_features}·{m.out_features}"
        value = (m.in_features + bias) * m.out_features
    elif isinstance(m, _NORM) and names == {"weight", "bias"} and own[0][1].dim() == 1:
        formula, value = f"2·{own[0][1].numel()}", 2 * own[0][1].numel()
    if formula is None or value != total:
        pieces = ["·".join(str(d) for d in p.shape) or "1" for _, p in own]
        formula = " + ".join(pieces)
    return formula if formula == f"{total}" else f"{formula} = {total:,}"


def _shape_working(m: nn.Module, rec: dict[str, Any] | None) -> str:
    if not rec or rec["in"] is None or rec["out"] is None:
        return ""
    shape_in, shape_out = rec["in"], rec["out"]
    if isinstance(m, (_CONV, _POOL)):
        nd = _spatial_dims(m)
        if len(shape_in) < nd + 1 or len(shape_out) < nd + 1:
            return ""
        kernel, stride, padding, dilation = _window(m, nd)
        texts = []
        for i in range(nd):
            step = conv_output_size(
                shape_in[-nd + i],
                kernel[i],
                stride[i],
                padding[i],
                dilation[i],
                pool=isinstance(m, _POOL),
                ceil_mode=getattr(m, "ceil_mode", False),
            )
            if step.result != shape_out[-nd + i]:
                return ""
            texts.append(step.text().split(" = ", 1)[1])
        if len(set(texts)) == 1:
            return texts[0]
        return "; ".join(f"{dim}: {t}" for dim, t in zip(_DIMS[nd], texts))
    if isinstance(m, nn.Flatten) and len(shape_out) == 1 and len(shape_in) > 1:
        return f"{'·'.join(map(str, shape_in))} = {shape_out[0]:,}"
    if "Adaptive" in type(m).__name__:
        return "adaptive: fixed output size"
    return ""


def _row_modules(model: nn.Module, label: str) -> dict[int, tuple[str, nn.Module]]:
    rows = {}
    for name, m in model.named_modules():
        own = list(m.parameters(recurse=False)) + list(m.buffers(recurse=False))
        if own or not list(m.children()):
            rows[id(m)] = (name or f"({label})", m)
    return rows


def _notes_for(m: nn.Module, name: str, seen: dict[int, str], own: list, calls: int) -> list[str]:
    notes = []
    for pname, p in m.named_parameters(recurse=False):
        if id(p) in seen and seen[id(p)] != f"{name}.{pname}":
            notes.append(f"{pname} is {seen[id(p)]}, counted there")
    frozen = [n for n, p in own if not p.requires_grad]
    if frozen:
        notes.append("frozen" if len(frozen) == len(own) else f"frozen: {', '.join(frozen)}")
    buffers = [(n, b) for n, b in m.named_buffers(recurse=False) if id(b) not in seen]
    if buffers:
        parts = " + ".join(str(b.numel()) for _, b in buffers)
        notes.append(
            f"buffers {parts} = {sum(b.numel() for _, b in buffers):,}"
            if len(buffers) > 1
            else f"buffer {buffers[0][0]} {parts}"
        )
    if calls > 1:
        notes.append(f"called {calls}×, first output shown")
    elif calls == 0:
        notes.append("not called by forward()")
    return notes


def make_table(model: nn.Module, label: str, shape: tuple[int, ...], default: tuple[int, ...] | None) -> ParamTable:
    """Trace ``model`` on one input of ``shape`` and build its table."""
    numel = sum(p.numel() for p in model.parameters())
    meta = numel > META_THRESHOLD or any(p.is_meta for p in model.parameters())
    rows_by_id = _row_modules(model, label)
    trace = _Trace(model)
    was_training = model.training
    model.eval()
    try:
        _run(model, shape, meta)
    except (RuntimeError, ValueError, IndexError) as exc:
        if default is not None and shape == tuple(default):
            raise
        culprit = next((m for m in reversed(trace.stack) if id(m) in rows_by_id), None)
        raise ModelError(_explain(model, label, shape, default, culprit, rows_by_id, trace, exc, meta)) from None
    finally:
        trace.remove()
        model.train(was_training)
    ordered = [m for m in trace.order if id(m) in rows_by_id]
    ordered += [m for _, m in rows_by_id.values() if id(m) not in trace.records]
    seen: dict[int, str] = {}
    rows = []
    for m in ordered:
        name = rows_by_id[id(m)][0]
        own = [(n, p) for n, p in m.named_parameters(recurse=False) if id(p) not in seen]
        rec = trace.records.get(id(m))
        notes = _notes_for(m, name, seen, own, rec["calls"] if rec else 0)
        for n, t in [*own, *m.named_buffers(recurse=False)]:
            seen.setdefault(id(t), f"{name}.{n}")
        rows.append(
            LayerRow(
                name=name,
                type=type(m).__name__,
                detail=_detail(m),
                output_shape=rec["out"] if rec else None,
                shape_formula=_shape_working(m, rec),
                params=sum(p.numel() for _, p in own),
                formula=_param_working(m, own),
                trainable=sum(p.numel() for _, p in own if p.requires_grad),
                buffers=sum(b.numel() for b in m.buffers(recurse=False)),
                notes=tuple(notes),
            )
        )
    total = sum(r.params for r in rows)
    trainable = sum(r.trainable for r in rows)
    buffers = sum(b.numel() for b in model.buffers())
    return ParamTable(
        model=label,
        input_shape=shape,
        layers=tuple(rows),
        total=total,
        trainable=trainable,
        non_trainable=total - trainable,
        buffers=buffers,
        numel_check=numel,
    )


def _accepted(model: nn.Module, shape: tuple[int, ...], meta: bool, sizes: Iterable[int]) -> list[int]:
    ok: list[int] = []
    for s in sizes:
        try:
            _run(model, (shape[0], *(s,) * (len(shape) - 1)), meta)
        except (RuntimeError, ValueError, IndexError):
            if meta and ok:
                break
            continue
        ok.append(s)
        if meta:
            break  # a big model: the smallest size is enough
    return ok


def _explain(
    model: nn.Module,
    label: str,
    shape: tuple[int, ...],
    default: tuple[int, ...] | None,
    culprit: nn.Module | None,
    rows: dict,
    trace: _Trace,
    exc: Exception,
    meta: bool,
) -> str:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if culprit is None:
        return f"{label}: input {shape_text(shape)} fails outside any layer: {first_line}"
    name = rows[id(culprit)][0]
    got = trace.records[id(culprit)].get("last_in") or ()
    why = first_line
    if isinstance(culprit, _CONV) and got and got[0] != culprit.in_channels:
        why = f"input has {got[0]} channel{'s' * (got[0] != 1)}, expected {culprit.in_channels}"
    elif (isinstance(culprit, (_CONV, _POOL))) and got:
        nd = _spatial_dims(culprit)
        kernel, _, padding, dilation = _window(culprit, nd)
        pad = [0 if p == "same" else p for p in padding]
        if any(n + 2 * p < d * (k - 1) + 1 for n, k, p, d in zip(got[-nd:], kernel, pad, dilation)):
            what = "pooling window" if isinstance(culprit, _POOL) else "kernel"
            padded = f" (with padding {_fmt(tuple(pad))})" if any(pad) else ""
            why = f"input {shape_text(got[-nd:])}{padded} is smaller than the {what} {'×'.join(map(str, kernel))}"
    elif isinstance(culprit, nn.Linear) and got and got[-1] != culprit.in_features:
        why = f"input has {got[-1]:,} features, expected {culprit.in_features:,}"
    where = f"layer {name!r} ({type(culprit).__name__} {_detail(culprit)})"
    hint = _size_hint(model, shape, default, meta)
    return f"{label}: {where}: {why}; {hint}"


def _size_hint(model: nn.Module, shape: tuple[int, ...], default: tuple[int, ...] | None, meta: bool) -> str:
    base = tuple(default) if default is not None else shape
    default_text = f"its default input is {shape_text(base)}" if default is not None else "check the input shape"
    if len(base) < 2 or (default is not None and shape[0] != base[0] and len(base) > 2):
        return default_text + "."
    top = 2 * max(max(base[1:]), max(shape[1:]))
    ok = _accepted(model, base, meta, range(1, top + 1))
    if not ok:
        return default_text + "."
    if meta or ok == list(range(ok[0], top + 1)):
        return f"the smallest input this model takes is {ok[0]}×{ok[0]} ({default_text})."
    if ok == list(range(ok[0], ok[-1] + 1)):
        return f"this model takes square inputs from {ok[0]}×{ok[0]} to {ok[-1]}×{ok[-1]} only ({default_text})."
    return f"this model takes square inputs of sizes {', '.join(map(str, ok[:8]))} ({default_text})."
