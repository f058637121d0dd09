"""The index form of a gradient: the sum over exactly the output positions reached.

Every path from a leaf up to ``ŷ`` goes ``ŷ → h_ij → z_ij → leaf``; the positions
(i, j) a leaf reaches always form a rectangle (rows I × columns J), so the gradient is
written ``Σ_{i∈I} Σ_{j∈J}`` of one general term whose indices are linear in i and j.
This module prints that general term from the problem's geometry; the concrete terms
come from the graph walk, and the tests check that both agree term by term.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from derive.graph import Graph, Node, _local_act
from derive.printer import latex as print_latex
from derive.printer import subscript
from derive.printer import text as print_text

__all__ = ["GeneralTerm", "general_term", "reach_rectangle"]

I, J = sympy.symbols("i j", integer=True)
_PLACEHOLDER = sympy.Symbol("QQplaceholderQQ")


class GeneralTerm:
    """The sum prefix and the general factors of a multi-path gradient.

    Attributes:
        sum_latex / sum_text: ``\\sum_{i=0}^{1}\\sum_{j=0}^{1}`` (empty when one position).
        partials_latex / partials_text: The chain-rule partials of the general term.
        factors_latex / factors_text: Their closed forms, one per factor, in path order.
    """

    def __init__(self) -> None:
        self.sum_latex = ""
        self.sum_text = ""
        self.partials_latex: list[str] = []
        self.partials_text: list[str] = []
        self.factors_latex: list[str] = []
        self.factors_text: list[str] = []


def reach_rectangle(positions: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]] | None:
    """Rows and columns if ``positions`` is a full rectangle I × J, else ``None``."""
    rows = sorted({i for i, _ in positions})
    cols = sorted({j for _, j in positions})
    if len(rows) * len(cols) != len(set(positions)):
        return None
    return rows, cols


def _show(expr: sympy.Expr) -> str:
    return sympy.latex(sympy.expand(expr)).replace(" ", "")


def _sub_latex(letter: str, parts: list[str], wide: bool) -> str:
    if not wide and all(len(p) == 1 for p in parts):
        return f"{letter}_{{{''.join(parts)}}}"
    return f"{letter}_{{{','.join(parts)}}}"


def _sub_text(letter: str, parts: list[str], wide: bool) -> str:
    joined = "".join(parts) if not wide and all(len(p) == 1 for p in parts) else ",".join(parts)
    return letter + subscript(joined)


def _frac(num: tuple[str, str], den: tuple[str, str]) -> tuple[str, str]:
    return rf"\frac{{\partial {num[0]}}}{{\partial {den[0]}}}", f"∂{num[1]}/∂{den[1]}"


def general_term(
    graph: Graph, wrt: Node, edges: Sequence[tuple[Node, Node]], positions: Sequence[tuple[int, int]]
) -> GeneralTerm | None:
    """The index form of the per-path factors ``edges`` (generic in i, j), or ``None``.

    Args:
        graph: The problem's graph.
        wrt: The leaf differentiated with respect to.
        edges: The edges of one path below the shared part, as (node, input) pairs,
            top first; each node is ``yhat`` (dense), an ``h`` (act) or a ``z`` (conv).
        positions: The 0-based output positions (i, j) the leaf reaches.
    """
    p = graph.problem
    rect = reach_rectangle(positions)
    if rect is None:
        return None
    rows, cols = rect
    b = p.base
    wide = p._wide
    gt = GeneralTerm()
    # shown indices i, j (with the base); 0-based ones are i - b, j - b
    si = I if len(rows) > 1 else sympy.Integer(rows[0] + b)
    sj = J if len(cols) > 1 else sympy.Integer(cols[0] + b)
    for var, vals in (("i", rows), ("j", cols)):
        if len(vals) > 1:
            gt.sum_latex += rf"\sum_{{{var}={vals[0] + b}}}^{{{vals[-1] + b}}} "
            gt.sum_text += f"Σ_{var}={vals[0] + b}..{vals[-1] + b} "
    i0, j0 = si - b, sj - b
    ij = [_show(si), _show(sj)]
    z = (_sub_latex("z", ij, wide), _sub_text("z", ij, wide))
    h = (_sub_latex("h", ij, wide), _sub_text("h", ij, wide))
    names = {"yhat": (r"\hat{y}", "ŷ"), "h": h, "z": z}
    for node, _inp in edges:
        top = names["yhat"] if node.op == "dense" else names["h" if node.op == "act" else "z"]
        if node.op == "dense":
            low = h
            k = _show(p.output[1] * i0 + j0 + b)
            fac = (_sub_latex(p.dense_symbol, [k], wide), _sub_text(p.dense_symbol, [k], wide))
        elif node.op == "act":
            low = z
            local = _local_act(p.activation, _PLACEHOLDER)
            fac = (
                print_latex(local).replace(print_latex(_PLACEHOLDER), z[0]),
                print_text(local).replace(print_text(_PLACEHOLDER), z[1]),
            )
            if local.is_Add:
                fac = (rf"\left({fac[0]}\right)", f"({fac[1]})")
        elif node.op == "conv":
            low = (print_latex(wrt.symbol), print_text(wrt.symbol))
            if wrt.role == "kernel":
                m, n = wrt.index
                parts = [_show(p.stride * i0 + m - p.padding + b), _show(p.stride * j0 + n - p.padding + b)]
                fac = (_sub_latex(p.input_symbol, parts, wide), _sub_text(p.input_symbol, parts, wide))
            elif wrt.role == "input":
                r, c = wrt.index
                parts = [_show(r + p.padding - p.stride * i0 + b), _show(c + p.padding - p.stride * j0 + b)]
                fac = (_sub_latex(p.kernel_symbol, parts, wide), _sub_text(p.kernel_symbol, parts, wide))
            else:
                fac = ("1", "1")
        else:
            return None
        pl, pt = _frac(top, low)
        gt.partials_latex.append(pl)
        gt.partials_text.append(pt)
        gt.factors_latex.append(fac[0])
        gt.factors_text.append(fac[1])
    return gt
