"""``derive grad --net``: one library call from the command line to the rendered answer.

The derivations render through :mod:`derive.render` (terminal text, a LaTeX document); the
``--all`` table is drawn here: every element of ``x`` and of each parameter, its index form
where it is short, its value and autograd's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from derive.errors import DeriveError
from derive.network.derivation import NetworkGradient, all_network_gradients, network_gradient
from derive.network.spec import load_network
from derive.network.values import load_values, random_values
from derive.render import escape_latex, split_latex
from derive.steps import GIVEN, format_number, latex_number

__all__ = ["grad_net", "render_network_table_latex", "render_network_table_text"]

SHORT = 64
"""An index form longer than this (a sum over many positions) is left out of the ``--all`` table."""


def grad_net(
    net_path: str | Path,
    *,
    wrt: str | None = None,
    values: str | Path | None = None,
    random: int | None = None,
    all_: bool = False,
    fmt: str = "text",
    check: bool = True,
) -> str:
    """Everything ``derive grad --net`` prints: read the files, derive, render as text, latex or json.

    Raises:
        DeriveError: a bad network or values file, a bad ``--wrt``, or options that do not go together.
    """
    if values is not None and random is not None:
        raise DeriveError("--values and --random both give numbers: use one of them.")
    if not all_ and wrt is None:
        raise DeriveError(
            'Missing --wrt: name one element, such as --wrt "conv1.w[0,0,1,1]" or --wrt "x[0,2,1]", or use --all.'
        )
    if all_ and wrt is not None:
        raise DeriveError("--all derives every gradient: drop --wrt, or drop --all.")
    net = load_network(net_path)
    numbers = (
        load_values(values, net) if values is not None else random_values(net, random) if random is not None else None
    )
    if all_:
        grads = all_network_gradients(net, values=numbers, check=check)
        if fmt == "json":
            return json.dumps([g.to_dict() for g in grads], indent=2, ensure_ascii=False) + "\n"
        return (
            render_network_table_latex(grads, standalone=True) if fmt == "latex" else render_network_table_text(grads)
        )
    assert wrt is not None  # the checks above: without --all, --wrt is required
    g = network_gradient(net, wrt, values=numbers, check=check)
    if fmt == "json":
        return json.dumps(g.to_dict(), indent=2, ensure_ascii=False) + "\n"
    from derive.render import render_latex, render_text

    d = g.to_derivation()
    return render_latex(d, standalone=True) if fmt == "latex" else render_text(d)


def _row(g: NetworkGradient, latex: bool) -> str:
    closed = g.closed_form_latex if latex else g.closed_form_text
    lhs = closed.split(" = ", 1)[0]
    short = len(g.closed_form_text) <= SHORT
    return closed if short else lhs


def _largest_difference(gradients: Sequence[NetworkGradient]) -> float:
    """The largest ``|value - autograd|`` over gradients that were all checked against autograd."""
    return max(d for g in gradients if (d := g.difference) is not None)


def render_network_table_text(gradients: Sequence[NetworkGradient]) -> str:
    """A terminal table: each gradient's index form (where short), value, autograd and difference."""
    if not gradients:
        return ""
    lines = [f"All gradients of L ({gradients[0].net.describe()})", ""]
    given = [s for s in gradients[0].steps if s.group == GIVEN]
    if given:
        lines += ["Given:", *("  " + row for s in given for row in s.text.split("\n")), ""]
    rows = [_row(g, False) for g in gradients]
    width = max(len(r) for r in rows)
    for g, row in zip(gradients, rows):
        if g.value is not None:
            row = f"{row.ljust(width)}  = {format_number(g.value, 10)}"
            if g.autograd is not None:
                row = f"{row.ljust(width + 18)} [autograd {format_number(g.autograd, 10)}, diff {g.difference:.1e}]"
        lines.append(row)
    lines += ["", *gradients[0].notes[:1]]
    if gradients[0].autograd is not None:
        lines.append(f"Largest difference from torch autograd (float64): {_largest_difference(gradients):.1e}.")
    return "\n".join(lines).rstrip() + "\n"


def render_network_table_latex(gradients: Sequence[NetworkGradient], *, standalone: bool = False) -> str:
    """Every gradient as ``align*`` lines (index form where short, = value), optionally a whole document."""
    if not gradients:
        return ""
    body = [rf"\section*{{All gradients of $L$ ({escape_latex(gradients[0].net.describe())})}}"]
    given = [s for s in gradients[0].steps if s.group == GIVEN]
    if given:
        body += [r"\paragraph{Given}", r"\begin{align*}", " \\\\\n".join("&" + s.latex for s in given), r"\end{align*}"]
    body.append(r"\begin{align*}")
    rows = []
    for g in gradients:
        eq = _row(g, True) + ("" if g.value is None else f" = {latex_number(g.value, 10)}")
        rows.append(" \\\\\n".join(split_latex(eq)))
    body += [" \\\\\n".join(rows), r"\end{align*}"]
    body += [r"\par " + escape_latex(n) for n in gradients[0].notes[:1]]
    if gradients[0].autograd is not None:
        worst = _largest_difference(gradients)
        body.append(r"\par " + escape_latex(f"Largest difference from torch autograd (float64): {worst:.1e}."))
    text = "\n".join(body) + "\n"
    if not standalone:
        return text
    return (
        "\\documentclass[11pt]{article}\n\\usepackage[a4paper,margin=2cm]{geometry}\n"
        "\\usepackage{amsmath,amssymb}\n\\allowdisplaybreaks\n\\begin{document}\n" + text + "\\end{document}\n"
    )
