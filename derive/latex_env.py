r"""The LaTeX side shared by the answer keys and every kind of question: the jinja2 environment and escaping.

Both :mod:`derive.key` (the document) and the kinds (:mod:`derive.kinds`, each kind's question
wording) render templates of ``templates/`` and escape what a user wrote; they import it from
here, below both. The templates use LaTeX-safe delimiters (``((* *))``, ``((( )))``) and
``StrictUndefined``.

>>> esc("50% & more")
'50\\% \\& more'
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

__all__ = ["environment", "esc", "unicode_document"]

_UNICODE: contextvars.ContextVar[bool] = contextvars.ContextVar("unicode", default=False)


def esc(text: str) -> str:
    """:func:`derive.pdf.latex_escape` for the document being rendered (Chinese kept in a LuaLaTeX document)."""
    from derive.latex_text import latex_escape

    return latex_escape(text, unicode=_UNICODE.get())


@contextmanager
def unicode_document(unicode: bool) -> Iterator[None]:
    """While rendering one document: :func:`esc` keeps Chinese as written when ``unicode`` is true."""
    token = _UNICODE.set(unicode)
    try:
        yield
    finally:
        _UNICODE.reset(token)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment of ``templates/`` with LaTeX-safe delimiters."""
    import jinja2

    import templates

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(templates.__file__).parent),
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
