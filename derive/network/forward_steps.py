"""The first half of a network's worked answer: the numbers given and the forward pass.

Each layer's forward equation in index form (the conv as a cross-correlation, the max-pool with
the input that won each window), then its numbers: one matrix per channel, or a vector.
:func:`question_latex` writes the same equations as a question sheet's description.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from derive.network.graph import Forward, Symbol, param_symbol, symbols
from derive.network.layout import affine, idx, matrix_pair, vector_pair
from derive.network.spec import Network
from derive.network.values import check_values
from derive.steps import Step, format_number, given_steps, latex_number

__all__ = [
    "ACT_TEX",
    "FWD",
    "convention_notes",
    "eq_text",
    "forward_formula",
    "forward_steps",
    "given",
    "given_latex",
    "ix",
    "question_latex",
]

FWD = "Forward pass"
_WIDE = 8  # columns of a given matrix per block
ACT_TEX = {
    "sigmoid": (r"\sigma({0})", "σ({0})"),
    "tanh": (r"\tanh({0})", "tanh({0})"),
    "relu": (r"\operatorname{{ReLU}}({0})", "ReLU({0})"),
}


def given_latex(net: Network, values: Mapping) -> list[str]:
    """The numbers of a values table as LaTeX equations (one matrix per channel), for an answer key."""
    return [s.latex for s in given(net, check_values(net, values))]


def question_latex(net: Network) -> str:
    """The network in words, one layer per item, for a question sheet (LaTeX, nothing from the user but numbers)."""
    syms = symbols(net)
    shape = r" \times ".join(map(str, net.input))
    rows = [rf"\item input ${syms[0].latex}$ of shape ${shape}$"]
    for k, layer in enumerate(net.layers):
        tex, _ = forward_formula(net, k, syms[k], syms[k + 1])
        name = layer.name.replace("_", r"\_")
        rows.append(rf"\item \texttt{{{name}}} ({layer.type}): ${tex}$")
    loss = {
        "mse": r"$L = \sum_k (\hat{y}_k - y_k)^2$",
        "half-mse": r"$L = \frac{1}{2}\sum_k (\hat{y}_k - y_k)^2$",
        "bce": r"$p = \sigma(\hat{y}_0)$, $L = -[y \ln p + (1 - y) \ln (1 - p)]$",
        "softmax-ce": r"$p = \operatorname{softmax}(\hat{y})$, $L = -\ln p_y$ with the class index $y$",
    }[net.loss]
    rows.append(rf"\item loss: {loss}")
    return "\\begin{itemize}\n" + "\n".join(rows) + "\n\\end{itemize}"


def given(net: Network, v: Mapping[str, Any]) -> tuple[Step, ...]:
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    for name in net.tensor_shapes():
        sym = Symbol("x", "x") if name == "x" else param_symbol(name)
        arr = np.asarray(v[name])
        if arr.ndim == 2 and arr.shape[1] > _WIDE:  # a wide dense weight: blocks of columns that fit the page
            for a in range(0, arr.shape[1], _WIDE):
                b = min(a + _WIDE, arr.shape[1])
                key = f"{name}[:,{a}:{b}]"
                out[key] = arr[:, a:b].tolist()
                names[key] = rf"{sym.latex}_{{\cdot,{a}..{b - 1}}}"
        elif arr.ndim <= 2:
            out[name] = arr.tolist()
            names[name] = sym.latex
        else:
            for lead in np.ndindex(*arr.shape[:-2]):
                key = f"{name}[{idx(lead)},:,:]"
                out[key] = arr[lead].tolist()
                names[key] = f"{sym.latex}_{{{idx(lead)},\\cdot,\\cdot}}"
    out["y"] = v["y"].tolist() if isinstance(v["y"], np.ndarray) else v["y"]
    return given_steps(out, latex_names=names)


def convention_notes(net: Network, syms: list[Symbol], fw: Forward) -> list[str]:
    notes = []
    for k, ties in fw.ties.items():
        for (c, i, j), where in ties:
            names = ", ".join(syms[k].at((c, r, s))[1] for r, s in where)
            won = syms[k].at((c, *where[0]))[1]
            notes.append(
                f"Tie in {net.layers[k].name}: window {syms[k + 1].at((c, i, j))[1]} has several maxima ({names}); "
                f"the gradient goes to {won}, the first in row-major order, as torch's max_pool2d does."
            )
    for k, zeros in fw.zeros.items():
        if zeros:
            names = ", ".join(syms[k].at(z)[1] for z in zeros[:6]) + (" ..." if len(zeros) > 6 else "")
            notes.append(f"ReLU at exactly 0 ({names}): its derivative there is taken as 0, torch's convention.")
    return notes


def eq_text(lhs: str, body: str) -> str:
    """``lhs = body`` in text, a multi-line body (a matrix) indented under its first line."""
    return f"{lhs} = " + body.replace("\n", "\n" + " " * (len(lhs) + 3))


def ix(shape: tuple[int, ...]) -> str:
    return "c,i,j" if len(shape) == 3 else "k"


def _blocks(
    sym: Symbol,
    arr: np.ndarray,
    name: str,
    group: str,
    cells: Sequence[Sequence[Sequence[tuple[str, str]]]] | None = None,
) -> list[Step]:
    """A tensor's numbers: one matrix per channel, or one vector."""
    if arr.ndim == 1:
        tex, txt = vector_pair(arr)
        return [Step(name, f"{sym.latex} = {tex}", eq_text(sym.text, txt), None, group)]
    out = []
    for c in range(arr.shape[0]):
        tex, txt = matrix_pair(arr[c], None if cells is None else cells[c])
        lt, tt = sym.at(f"{c},\\cdot,\\cdot")[0], f"{sym.text}[{c},:,:]"
        out.append(Step(f"{name}[{c}]", f"{lt} = {tex}", eq_text(tt, txt), None, group))
    return out


def forward_steps(net: Network, syms: list[Symbol], fw: Forward | None) -> list[Step]:
    steps: list[Step] = []
    for k, layer in enumerate(net.layers):
        s, o = syms[k], syms[k + 1]
        tex, txt = forward_formula(net, k, s, o)
        steps.append(Step(f"{o.text} ({layer.name})", tex, txt, None, FWD))
        if fw is None:
            continue
        cells = None
        if layer.type == "maxpool":
            win, out = fw.winners[k], fw.tensors[k + 1]
            cells = [
                [
                    [
                        (
                            rf"{s.at((c, *win[c, i, j]))[0]} {{=}} {latex_number(out[c, i, j], 4)}",
                            f"{s.at((c, *win[c, i, j]))[1]}={format_number(out[c, i, j], 4)}",
                        )
                        for j in range(out.shape[2])
                    ]
                    for i in range(out.shape[1])
                ]
                for c in range(out.shape[0])
            ]
        steps += _blocks(o, fw.tensors[k + 1], o.text, FWD, cells)
    steps += _loss_forward(net, syms[-1], fw)
    return steps


def forward_formula(net: Network, k: int, s: Symbol, o: Symbol) -> tuple[str, str]:
    layer, shape = net.layers[k], net.shapes[k]
    if layer.type == "conv":
        w, b = param_symbol(f"{layer.name}.w"), param_symbol(f"{layer.name}.b")
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.padding
        r = affine(sh, "i", 0) + "+m" + (f"-{ph}" if ph else "")
        q = affine(sw, "j", 0) + "+n" + (f"-{pw}" if pw else "")
        one = shape[0] == 1
        c = "0" if one else "c"
        sum_c = "" if one else rf"\sum_{{c=0}}^{{{shape[0] - 1}}} "
        tex = (
            rf"{o.at('o,i,j')[0]} = {sum_c}\sum_{{m=0}}^{{{kh - 1}}} \sum_{{n=0}}^{{{kw - 1}}} "
            rf"{w.at(f'o,{c},m,n')[0]} \, {s.at(f'{c},{r},{q}')[0]}"
        )
        txt = f"{o.at('o,i,j')[1]} = {'' if one else 'Σ_c '}Σ_m Σ_n {w.at(f'o,{c},m,n')[1]}·{s.at(f'{c},{r},{q}')[1]}"
        if layer.bias:
            tex, txt = tex + f" + {b.at('o')[0]}", txt + f" + {b.at('o')[1]}"
        if ph or pw:
            tex, txt = tex + r" \quad (\text{0 outside the input})", txt + "   (0 outside the input)"
        return tex, txt
    if layer.type == "act":
        i = ix(shape)
        ft, fx = ACT_TEX[layer.fn]
        return f"{o.at(i)[0]} = {ft.format(s.at(i)[0])}", f"{o.at(i)[1]} = {fx.format(s.at(i)[1])}"
    if layer.type in ("maxpool", "avgpool"):
        (kh, kw), (sh, sw) = layer.kernel, layer.stride
        src = s.at(f"c,{affine(sh, 'i', 0)}+m,{affine(sw, 'j', 0)}+n")
        if layer.type == "maxpool":
            return (
                rf"{o.at('c,i,j')[0]} = \max_{{0 \le m < {kh},\ 0 \le n < {kw}}} {src[0]}",
                f"{o.at('c,i,j')[1]} = max over m < {kh}, n < {kw} of {src[1]}",
            )
        return (
            rf"{o.at('c,i,j')[0]} = \frac{{1}}{{{kh * kw}}} \sum_{{m=0}}^{{{kh - 1}}} \sum_{{n=0}}^{{{kw - 1}}} {src[0]}",
            f"{o.at('c,i,j')[1]} = (1/{kh * kw}) Σ_m Σ_n {src[1]}",
        )
    if layer.type == "flatten":
        _, h, width = shape
        u = f"{h * width}c + {width}i + j"
        return (
            rf"{o.at('u')[0]} = {s.at('c,i,j')[0]}, \quad u = {u}",
            f"{o.at('u')[1]} = {s.at('c,i,j')[1]},  u = {u}",
        )
    w, b = param_symbol(f"{layer.name}.w"), param_symbol(f"{layer.name}.b")
    tex = rf"{o.at('k')[0]} = \sum_{{j=0}}^{{{shape[0] - 1}}} {w.at('k,j')[0]} \, {s.at('j')[0]}"
    txt = f"{o.at('k')[1]} = Σ_j {w.at('k,j')[1]}·{s.at('j')[1]}"
    if layer.bias:
        tex, txt = tex + f" + {b.at('k')[0]}", txt + f" + {b.at('k')[1]}"
    return tex, txt


def _loss_forward(net: Network, yh: Symbol, fw: Forward | None) -> list[Step]:
    loss, n = net.loss, net.outputs
    val = None if fw is None else fw.loss

    def eq(t: str, x: str, v: float | None) -> tuple[str, str]:
        return (t, x) if v is None else (f"{t} = {latex_number(v)}", f"{x} = {format_number(v)}")

    steps = []
    if loss in ("mse", "half-mse"):
        half = (r"\frac{1}{2} ", "½ ") if loss == "half-mse" else ("", "")
        if n == 1:
            tex, txt = (
                rf"L = {half[0]}\left({yh.at('0')[0]} - y_{{0}}\right)^{{2}}",
                f"L = {half[1]}({yh.at('0')[1]} - y[0])²",
            )
        else:
            tex, txt = (
                rf"L = {half[0]}\sum_{{k=0}}^{{{n - 1}}} \left({yh.at('k')[0]} - y_{{k}}\right)^{{2}}",
                f"L = {half[1]}Σ_k ({yh.at('k')[1]} - y[k])²",
            )
        steps.append(Step("L", *eq(tex, txt, val), val, FWD))
    elif loss == "bce":
        p: float | None = None
        if fw is not None:
            assert fw.probs is not None  # forward() sets them for bce
            p = float(fw.probs[0])
        steps.append(Step("p", *eq(rf"p = \sigma({yh.at('0')[0]})", f"p = σ({yh.at('0')[1]})", p), p, FWD))
        steps.append(
            Step(
                "L",
                *eq(r"L = -\left[y \ln p + (1 - y) \ln (1 - p)\right]", "L = -[y ln p + (1 - y) ln(1 - p)]", val),
                val,
                FWD,
            )
        )
    else:
        steps.append(
            Step(
                "p",
                rf"p_{{k}} = \frac{{e^{{{yh.at('k')[0]}}}}}{{\sum_{{j}} e^{{{yh.at('j')[0]}}}}}",
                f"p[k] = e^{yh.at('k')[1]} / Σ_j e^{yh.at('j')[1]}",
                None,
                FWD,
            )
        )
        if fw is not None:
            assert fw.probs is not None  # forward() sets them for softmax-ce
            tex, txt = vector_pair(fw.probs)
            steps.append(Step("p", f"p = {tex}", eq_text("p", txt), None, FWD))
        y = "y" if fw is None else str(fw.values["y"])
        tex, txt = (
            r"L = -\ln p_{y}" + ("" if fw is None else rf" = -\ln p_{{{y}}}"),
            "L = -ln p[y]" + ("" if fw is None else f" = -ln p[{y}]"),
        )
        steps.append(Step("L", *eq(tex, txt, val), val, FWD))
    return steps
