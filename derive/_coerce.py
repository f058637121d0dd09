"""Plain coercion of derive's option values, in place of typer's pydantic adapters.

The typer in use turns every option value into its Python type through a pydantic
``TypeAdapter``: importing pydantic and building the adapters costs about a quarter of a
second on every start, and its messages ("Input should be a valid integer, unable to parse
string as an integer") are not the one sentence a TA should read. derive's options are
only ``str``, ``int``, ``float``, ``bool``, ``Path``, a ``str`` Enum, ``Optional`` of
those and ``list[str]``; :func:`install` coerces exactly those here (with messages that
name the option, what it takes and what came) and leaves every other annotation to typer.
If typer's internals ever change shape, :func:`install` does nothing and typer's own
coercion runs as before.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any

from derive.errors import did_you_mean

__all__ = ["install", "message"]

_HINTS = {
    ("--padding", "same"): " ('same' is TensorFlow's rule, for derive shape; for the same output size with "
    "stride 1 pad (K − 1)/2, e.g. --padding 1 for a 3x3 kernel.)",
    ("--activation", "softmax"): " (softmax is an output layer: 'derive softmax-ce' derives it.)",
    ("--format", "pdf"): " (for a PDF: --format latex > file.tex, then pdflatex file.tex; or 'derive key'.)",
}


def message(option: str, takes: str, got: object, extra: str = "") -> str:
    """``--padding takes a whole number; got 'same'.`` plus a hint for a known slip."""
    hint = _HINTS.get((option, str(got).strip().lower()), "")
    return f"{option} takes {takes}; got {got!r}.{extra}{hint}"


def _plain(annotation: Any) -> Any:
    """The annotation without ``Optional``; ``None`` if it is not one we coerce."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _plain(args[0]) if len(args) == 1 else None
    if origin is list:
        (item,) = typing.get_args(annotation) or (None,)
        return annotation if item is str else None
    if annotation in (str, int, float, bool, Path):
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum) and issubclass(annotation, str):
        return annotation
    return None


def _convert(kind: Any, value: Any, option: str) -> Any:
    from typer._click.exceptions import BadParameter

    if isinstance(value, kind) if isinstance(kind, type) else False:
        return value
    if typing.get_origin(kind) is list:
        return [str(v) for v in value]
    text = str(value)
    try:
        if kind is bool:
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on", "y", "t"):
                return True
            if low in ("0", "false", "no", "off", "n", "f"):
                return False
            raise ValueError
        if kind is int:
            return int(text.strip())
        if kind is float:
            return float(text.strip())
        if kind is Path:
            return Path(text)
        if kind is str:
            return text
    except ValueError:
        takes = {bool: "true or false", int: "a whole number", float: "a number"}[kind]
        raise BadParameter(message(option, takes, value)) from None
    choices = [m.value for m in kind]
    for member in kind:
        if member.value == text or member.name == text:
            return member
    raise BadParameter(message(option, "one of " + ", ".join(choices), value, did_you_mean(text, choices)))


def install() -> None:
    """Coerce derive's simple option types without pydantic (see the module docstring)."""
    try:
        from typer import core
        from typer._coercion import RuntimeParam
    except ImportError:  # pragma: no cover - another typer: keep its own coercion
        return
    original = getattr(core, "build_runtime_param", None)
    if original is None or getattr(original, "_derive_plain", False):  # pragma: no cover
        return

    class Plain(RuntimeParam):
        kind: Any  # set by build() below (the dataclass is frozen); not a dataclass field

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            option = max(getattr(param, "opts", None) or [str(getattr(param, "name", "value"))], key=len)
            return _convert(self.kind, value, option)

    def build(descriptor: Any) -> Any:
        kind = _plain(descriptor.annotation) if getattr(descriptor, "file_annotation", None) is None else None
        info: Any = getattr(descriptor, "parameter_info", None)
        if (
            kind is None
            or getattr(info, "min", None) is not None
            or getattr(info, "max", None) is not None
            or getattr(info, "parser", None) is not None
            or getattr(info, "click_type", None) is not None
        ):
            return original(descriptor)
        runtime = Plain(parameter_info=info, annotation=descriptor.annotation)
        object.__setattr__(runtime, "kind", kind)
        return runtime

    build._derive_plain = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
