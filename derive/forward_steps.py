"""The forward pass as steps: the general equations, then each node (with its value)."""

from __future__ import annotations

import sympy

from derive.graph import Graph, Node
from derive.printer import latex as print_latex
from derive.printer import latex_name, text_name
from derive.printer import text as print_text
from derive.steps import Step, format_number, latex_number

__all__ = ["forward_steps"]

GROUP = "Forward pass"
_DENSE_INLINE = 16  # write ŷ out in full up to this many terms


def _lin(expr: sympy.Expr) -> str:
    return sympy.latex(sympy.expand(expr)).replace(" ", "")


def _sub(letter: str, parts: list[str], wide: bool) -> tuple[str, str]:
    from derive.printer import subscript

    joined = "".join(parts) if not wide and all(len(x) == 1 for x in parts) else ",".join(parts)
    return f"{letter}_{{{joined}}}", letter + subscript(joined)


def _general(graph: Graph) -> list[Step]:
    p = graph.problem
    o, wide = p.base, p._wide
    i, j, m, n = sympy.symbols("i j m n", integer=True)
    row = _lin(p.stride * (i - o) + (m - o) - p.padding + o)
    col = _lin(p.stride * (j - o) + (n - o) - p.padding + o)
    a_tex, a_txt = _sub(p.input_symbol, [row, col], wide)
    w_tex, w_txt = _sub(p.kernel_symbol, ["m", "n"], wide)
    z_tex, z_txt = _sub("z", ["i", "j"], wide)
    h_tex, h_txt = _sub("h", ["i", "j"], wide)
    kh, kw = p.kernel
    bias_tex, bias_txt = (" + b", " + b") if p.conv_bias else ("", "")
    pad = f"; zero padding: {p.input_symbol} is 0 outside the input" if p.padding else ""
    steps = [
        Step(
            f"{z_txt} (cross-correlation)",
            rf"{z_tex} = \sum_{{m={o}}}^{{{kh - 1 + o}}} \sum_{{n={o}}}^{{{kw - 1 + o}}} {w_tex} \, {a_tex}{bias_tex}",
            f"{z_txt} = Σ_m={o}..{kh - 1 + o} Σ_n={o}..{kw - 1 + o} {w_txt}·{a_txt}{bias_txt}   (cross-correlation{pad})",
            None,
            GROUP,
        )
    ]
    h_def = graph.nodes[p.name("h", 0, 0)].definition
    assert h_def is not None  # h is computed from z, never a leaf
    act = h_def.xreplace({sympy.Symbol(p.name("z", 0, 0)): sympy.Symbol("QQz")})
    steps.append(
        Step(
            h_txt,
            f"{h_tex} = " + print_latex(act).replace("QQz", z_tex),
            f"{h_txt} = " + print_text(act).replace("QQz", z_txt),
            None,
            GROUP,
        )
    )
    return steps


def forward_steps(graph: Graph, env: dict[str, float] | None) -> tuple[Step, ...]:
    """Forward equations of ``graph``: general, then per node; values appended when ``env``."""
    p = graph.problem
    steps = _general(graph)

    def val(name: str) -> tuple[str, str, float | None]:
        if env is None:
            return "", "", None
        x = env[name]
        return f" = {latex_number(x)}", f" = {format_number(x)}", x

    zs = [n for n in graph.nodes.values() if n.op == "conv"]
    for z in zs:
        parts = [(latex_name(w), latex_name(a), text_name(w), text_name(a)) for w, a in _pairs(z)]
        tex = " + ".join(f"{wl} {al}" for wl, al, _, _ in parts)
        txt = " + ".join(f"{wt}·{at}" for _, _, wt, at in parts)
        if p.conv_bias:
            tex, txt = tex + " + b", txt + " + b"
        vt, vx, v = val(z.name)
        steps.append(
            Step(
                text_name(z.name),
                f"{latex_name(z.name)} = {tex or '0'}{vt}",
                f"{text_name(z.name)} = {txt or '0'}{vx}",
                v,
                GROUP,
            )
        )
    if env is not None:
        for z in zs:
            hname = p.name("h", *z.index)
            d = graph.nodes[hname].definition
            vt, vx, v = val(hname)
            steps.append(
                Step(
                    text_name(hname),
                    f"{latex_name(hname)} = {print_latex(d)}{vt}",
                    f"{text_name(hname)} = {print_text(d)}{vx}",
                    v,
                    GROUP,
                )
            )
    yhat = graph.nodes["yhat"]
    vt, vx, v = val("yhat")
    if p.n_dense <= _DENSE_INLINE:
        tex, txt = print_latex(yhat.definition), print_text(yhat.definition)
    else:
        (oh, ow), o = p.output, p.base
        i, j = sympy.symbols("i j", integer=True)
        k = _lin(ow * (i - o) + (j - o) + o)
        vk = _sub(p.dense_symbol, [k], p._wide)
        h = _sub("h", ["i", "j"], p._wide)
        c = " + c" if p.dense_bias else ""
        tex = rf"\sum_{{i={o}}}^{{{oh - 1 + o}}} \sum_{{j={o}}}^{{{ow - 1 + o}}} {vk[0]} \, {h[0]}{c}"
        txt = f"Σ_i Σ_j {vk[1]}·{h[1]}{c}"
    steps.append(Step("ŷ", rf"\hat{{y}} = {tex}{vt}", f"ŷ = {txt}{vx}", v, GROUP))
    if "p" in graph.nodes:
        vt, vx, v = val("p")
        steps.append(Step("p", rf"p = \sigma(\hat{{y}}){vt}", f"p = σ(ŷ){vx}", v, GROUP))
        loss_tex = r"-\big[\, y \ln p + (1 - y) \ln(1 - p) \,\big]"
        loss_txt = "-[y·ln(p) + (1 - y)·ln(1 - p)]"
    else:
        half = p.half_mse
        loss_tex = (r"\tfrac{1}{2}" if half else "") + r"(\hat{y} - y)^{2}"
        loss_txt = ("½" if half else "") + "(ŷ - y)²"
    vt, vx, v = val("L")
    steps.append(Step("L", f"L = {loss_tex}{vt}", f"L = {loss_txt}{vx}", v, GROUP))
    return tuple(steps)


def _pairs(z: Node) -> tuple[tuple[str, str], ...]:
    """(kernel weight, input) name pairs of a conv node, in definition order."""
    return z.pairs
