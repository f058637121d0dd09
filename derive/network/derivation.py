"""∂L/∂(one element) of a network, step by step: forward pass, each layer's backward rule, the terms.

The reading is the classic problem's (:mod:`derive.engine`): the forward pass with the given
numbers, then from the loss down to the variable each layer's chain-rule factor in closed
(index) form with its numbers, one term per element the variable reaches, and the sum written
out. A dense layer's factor is a sum over its units; a max-pool routes the gradient to the
input that won the window (the others get 0); an avg-pool divides it by the window size;
softmax + cross-entropy gives ``∂L/∂ŷ_k = p_k − [k = y]``.

>>> from derive.network.spec import parse_network
>>> net = parse_network('input = [2]\\n[[layer]]\\ntype = "dense"\\noutputs = 1\\n[[layer]]\\ntype = "loss"\\nfn = "mse"\\n')
>>> g = network_gradient(net, "dense1.w[0,1]", values={"x": [1, 2], "dense1.w": [[0.5, -1]], "y": 1}, check=False)
>>> g.value, g.closed_form_text
(-10.0, '∂L/∂dense1.w[0,1] = ∂L/∂ŷ[0] · x[1]')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from derive.network.forward_steps import (  # noqa: F401 - re-exported for derive.key
    convention_notes,
    eq_text,
    forward_steps,
    given,
    given_latex,
    ix,
    question_latex,
)
from derive.network.graph import Forward, Symbol, forward, param_symbol, reach, symbols
from derive.network.layout import affine, dl, idx, matrix_pair, num, partial, vector_pair
from derive.network.spec import Network
from derive.network.values import check_values, element_name, resolve_wrt
from derive.steps import Derivation, Step, format_number, latex_number

__all__ = [
    "NetworkGradient",
    "all_network_gradients",
    "element_latex",
    "element_value",
    "given_latex",
    "network_gradient",
    "question_latex",
]

Consumer = tuple[tuple[int, ...], tuple[str, str], Any]
"""An element ``m`` of the next tensor, the local derivative's (LaTeX, text), and its value (``None`` without numbers)."""
CONVENTION = "A convolution is a cross-correlation, as in PyTorch (nn.Conv2d): the kernel is not flipped."
ROUNDING = "Matrices and vectors show 4 significant digits; every sum is computed in float64."
RES = "Result"
LOSS_OVERFLOW = (
    "The loss L itself overflows float64 (|L| > 1.8e308) at these numbers; its gradient does not, and is shown."
)
_ALL_TERMS = 6  # a sum with more terms shows its zero terms as one count
_DACT_TEX = {
    "sigmoid": (r"\sigma({0}) \left(1 - \sigma({0})\right)", "σ({0})·(1 - σ({0}))"),
    "tanh": (r"\left(1 - \tanh^{{2}}({0})\right)", "(1 - tanh²({0}))"),
    "relu": (r"\mathbb{{1}}[{0} > 0]", "𝟙[{0} > 0]"),
}


@dataclass(frozen=True)
class NetworkGradient:
    """∂L/∂(one element of ``x`` or of a parameter) of a network, with every step.

    Attributes:
        net: The network.
        wrt: The element, as ``--wrt`` spells it (``"conv1.w[0,0,1,1]"``).
        steps: Given numbers, forward pass, backward factors, terms, closed form and result.
        closed_form_latex: The gradient in index form.
        expanded_latex: The same written out term by term.
        value: Its value at the given numbers (``None`` without numbers).
        autograd: torch autograd's float64 value (``None`` without numbers or check).
        notes: Conventions used (ties in a max-pool, ReLU at 0, cross-correlation, rounding).
    """

    net: Network
    wrt: str
    steps: tuple[Step, ...]
    closed_form_latex: str
    expanded_latex: str
    closed_form_text: str
    expanded_text: str
    value: float | None = None
    autograd: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def difference(self) -> float | None:
        """``|value - autograd|``, or ``None``."""
        return None if self.value is None or self.autograd is None else abs(self.value - self.autograd)

    def to_dict(self) -> dict[str, object]:
        """The JSON contract of ``derive grad`` plus ``notes``."""
        return {
            "wrt": self.wrt,
            "loss": self.net.loss,
            "config": self.net.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "closed_form_latex": self.closed_form_latex,
            "expanded_latex": self.expanded_latex,
            "value": self.value,
            "autograd": self.autograd,
            "notes": list(self.notes),
        }

    def to_derivation(self) -> Derivation:
        """As a :class:`~derive.steps.Derivation` for :mod:`derive.render`."""
        notes = list(self.notes)
        if self.value is not None and self.autograd is not None:
            notes.append(
                f"Check: torch autograd (float64) gives {format_number(self.autograd, 12)}; "
                f"difference {self.difference:.1e}."
            )
        return Derivation(f"∂L/∂{self.wrt} ({self.net.describe()})", self.steps[:-1], self.steps[-1], tuple(notes))

    def _repr_markdown_(self) -> str:
        from derive.notebook import markdown

        return markdown(self.to_derivation())

    def _repr_latex_(self) -> str:
        from derive.notebook import latex

        return latex(self.to_derivation())


@dataclass
class _Ctx:
    net: Network
    syms: list[Symbol]
    fw: Forward | None
    auto: dict[str, Any] | None
    first: tuple[Step, ...]
    notes: tuple[str, ...]
    cache: dict[Any, Any] = field(default_factory=dict)


def _context(net: Network, values: Mapping | None, check: bool) -> _Ctx:
    syms = symbols(net)
    fw = auto = None
    first: tuple[Step, ...] = ()
    notes: list[str] = []
    if any(layer.type == "conv" for layer in net.layers):
        notes.append(CONVENTION)
    if values is not None:
        v = check_values(net, values)
        fw = forward(net, v)
        fw.backward()
        if check:
            from derive.network.autograd import autograd_gradients  # torch: only when numbers are checked

            auto = autograd_gradients(net, v)[1]
        first = given(net, v)
        if not math.isfinite(fw.loss):
            notes.append(LOSS_OVERFLOW)
        notes += convention_notes(net, syms, fw)
        notes.append(ROUNDING)
    return _Ctx(net, syms, fw, auto, (*first, *forward_steps(net, syms, fw)), tuple(notes))


def network_gradient(net: Network, wrt: str, *, values: Mapping | None = None, check: bool = True) -> NetworkGradient:
    """Derive ∂L/∂``wrt`` for ``net``; with ``values``, evaluate every step and check it against autograd.

    Args:
        net: A validated network (:func:`derive.network.load_network`).
        wrt: One element, such as ``"conv1.w[0,0,1,1]"``, ``"x[0,2,1]"`` or ``"dense1.b[0]"``.
        values: Numbers in the values-file layout (:func:`derive.network.values.check_values`).
        check: Compare the number with torch autograd in float64 (imports torch).

    Raises:
        DeriveError: an element that does not exist, or bad values.
    """
    name, index = resolve_wrt(net, wrt)
    return _derive(_context(net, values, check), name, index)


def all_network_gradients(net: Network, *, values: Mapping | None = None, check: bool = True) -> list[NetworkGradient]:
    """Every gradient: each element of ``x``, then of each parameter in layer order (one autograd pass)."""
    ctx = _context(net, values, check)
    return [
        _derive(ctx, name, tuple(int(i) for i in index))
        for name, shape in net.tensor_shapes().items()
        for index in np.ndindex(*shape)
    ]


def element_latex(net: Network, wrt: str) -> str:
    """LaTeX of one element: ``conv1.w[0,0,1,1]`` → ``w^{\\mathrm{conv1}}_{0,0,1,1}``."""
    name, index = resolve_wrt(net, wrt)
    return (Symbol("x", "x") if name == "x" else param_symbol(name)).at(index)[0]


def element_value(net: Network, fw: Forward, name: str, index: tuple[int, ...]) -> float:
    """∂L/∂(one element) at ``fw``: the exactly rounded sum (``math.fsum``) of its terms ∂L/∂b_m · ∂b_m/∂element.

    The one number every route gives for this element (the classic ``derive grad`` uses it too,
    through :mod:`derive.conv_numbers`); :func:`_terms_step` writes the same terms out.
    """
    syms = symbols(net)
    if name == "x":
        cons, start = _consumers(net, syms, 0, index, fw), 1
    else:
        cons, start = _param_consumers(net, syms, name, index, fw), net.layer_of(name) + 1
    delta = fw.backward()[0][start]
    return math.fsum(_term(delta, m, lv) for m, _, lv in cons) if cons else 0.0


def _term(delta: np.ndarray, m: tuple[int, ...], local: float | None) -> float:
    return float(delta[m]) * float(local if local is not None else math.nan)


# ------------------------------------------------------------------ backward
def _loss_head(net: Network, yh: Symbol, fw: Forward | None) -> list[Step]:
    g = "Backward: the loss"
    d = dl(yh, "k")
    rule = {
        "mse": (rf"2\left({yh.at('k')[0]} - y_{{k}}\right)", f"2·({yh.at('k')[1]} - y[k])"),
        "half-mse": (rf"{yh.at('k')[0]} - y_{{k}}", f"{yh.at('k')[1]} - y[k]"),
        "bce": ("p - y", "p - y"),
        "softmax-ce": (r"p_{k} - [k = y]", "p[k] - [k = y]"),
    }[net.loss]
    if net.loss == "bce":
        d = dl(yh, "0")
        tex = rf"{d[0]} = \frac{{\partial L}}{{\partial p}} \frac{{\partial p}}{{\partial {yh.at('0')[0]}}} = \frac{{p - y}}{{p (1 - p)}} \, p (1 - p) = p - y"
        txt = f"{d[1]} = ∂L/∂p · ∂p/∂{yh.at('0')[1]} = (p - y)/(p(1 - p)) · p(1 - p) = p - y"
    else:
        tex, txt = f"{d[0]} = {rule[0]}", f"{d[1]} = {rule[1]}"
    steps = [Step(d[1], tex, txt, None, g)]
    if fw is not None:
        vt, vx = vector_pair(fw.backward()[0][-1])
        steps.append(
            Step(
                f"∂L/∂{yh.text}",
                rf"\frac{{\partial L}}{{\partial {yh.latex}}} = {vt}",
                eq_text(f"∂L/∂{yh.text}", vx),
                None,
                g,
            )
        )
    return steps


def _consumers(net: Network, syms: list[Symbol], k: int, at: tuple[int, ...], fw: Forward | None) -> list[Consumer]:
    """The elements of ``T[k+1]`` that element ``at`` of ``T[k]`` feeds, with ∂T[k+1][m]/∂T[k][at] (LaTeX, text, value)."""
    layer, s = net.layers[k], syms[k]
    v = None if fw is None else fw.values
    out: list[Consumer] = []
    if layer.type == "dense":
        w = param_symbol(f"{layer.name}.w")
        for o in range(layer.outputs):
            out.append(((o,), w.at((o, at[0])), None if v is None else v[f"{layer.name}.w"][o, at[0]]))
    elif layer.type == "act":
        ft, fx = _DACT_TEX[layer.fn]
        out.append((at, (ft.format(s.at(at)[0]), fx.format(s.at(at)[1])), None if fw is None else fw.local[k][at]))
    elif layer.type == "flatten":
        out.append(((int(np.ravel_multi_index(at, net.shapes[k])),), ("1", "1"), 1.0))
    elif layer.type == "conv":
        w = param_symbol(f"{layer.name}.w")
        c, r, q = at
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.padding
        oc, oh, ow = net.shapes[k + 1]
        for o in range(oc):
            for i in range(oh):
                for j in range(ow):
                    m, n = r + ph - sh * i, q + pw - sw * j
                    if 0 <= m < kh and 0 <= n < kw:
                        out.append(
                            ((o, i, j), w.at((o, c, m, n)), None if v is None else v[f"{layer.name}.w"][o, c, m, n])
                        )
    else:  # pools
        c, r, q = at
        (kh, kw), (sh, sw) = layer.kernel, layer.stride
        _, oh, ow = net.shapes[k + 1]
        for i in range(oh):
            for j in range(ow):
                if sh * i <= r < sh * i + kh and sw * j <= q < sw * j + kw:
                    if layer.type == "avgpool":
                        out.append(((c, i, j), (rf"\frac{{1}}{{{kh * kw}}}", f"1/{kh * kw}"), 1.0 / (kh * kw)))
                    else:
                        won = None if fw is None else float(tuple(fw.winners[k][c, i, j]) == (r, q))
                        out.append(
                            ((c, i, j), (rf"\mathbb{{1}}[{s.at(at)[0]} \text{{ wins}}]", f"𝟙[{s.at(at)[1]} wins]"), won)
                        )
    return out


def _param_consumers(
    net: Network, syms: list[Symbol], name: str, index: tuple[int, ...], fw: Forward | None
) -> list[Consumer]:
    """The elements of the owning layer's output a parameter element feeds, with the local derivative."""
    k = net.layer_of(name)
    layer, s = net.layers[k], syms[k]
    src = None if fw is None else fw.tensors[k]
    if name.endswith(".b"):
        if layer.type == "dense":
            return [((index[0],), ("1", "1"), 1.0)]
        _, oh, ow = net.shapes[k + 1]
        return [((index[0], i, j), ("1", "1"), 1.0) for i in range(oh) for j in range(ow)]
    if layer.type == "dense":
        return [((index[0],), s.at((index[1],)), None if src is None else src[index[1]])]
    o, c, m, n = index
    (sh, sw), (ph, pw) = layer.stride, layer.padding
    _, oh, ow = net.shapes[k + 1]
    out: list[Consumer] = []
    for i in range(oh):
        for j in range(ow):
            r, q = sh * i + m - ph, sw * j + n - pw
            if 0 <= r < net.shapes[k][1] and 0 <= q < net.shapes[k][2]:
                out.append(((o, i, j), s.at((c, r, q)), None if src is None else src[c, r, q]))
    return out


def _backward_layer(ctx: _Ctx, k: int, mask: np.ndarray) -> list[Step]:
    """∂L/∂T[k] from ∂L/∂T[k+1] through layer k: the rule in index form, then its numbers where needed."""
    net, syms, fw = ctx.net, ctx.syms, ctx.fw
    layer, s, o = net.layers[k], syms[k], syms[k + 1]
    group = f"Backward: {layer.name} ({layer.type})"
    tex, txt = _backward_rule(net, k, s, o)
    steps = [Step(f"∂L/∂{s.text}", tex, txt, None, group)]
    if fw is None:
        return steps
    deltas = fw.backward()[0]
    if mask.ndim == 1:  # write each needed element's sum out
        for where in np.argwhere(mask):
            steps.append(_sum_step(ctx, k, tuple(int(v) for v in where), deltas, group))
        return steps
    for c in range(mask.shape[0]):
        if not mask[c].any():
            continue
        if layer.type == "act":
            mt, mx = matrix_pair(fw.local[k][c])
            lt = partial(
                (o.at(f"{c},\\cdot,\\cdot")[0], f"{o.text}[{c},:,:]"),
                (s.at(f"{c},\\cdot,\\cdot")[0], f"{s.text}[{c},:,:]"),
            )
            steps.append(Step(f"{lt[1]}", f"{lt[0]} = {mt}", eq_text(lt[1], mx), None, group))
        mt, mx = matrix_pair(deltas[k][c])
        d = dl(s, f"{c},\\cdot,\\cdot")
        steps.append(Step(f"∂L/∂{s.text}[{c}]", f"{d[0]} = {mt}", eq_text(f"∂L/∂{s.text}[{c},:,:]", mx), None, group))
    return steps


def _sum_step(ctx: _Ctx, k: int, at: tuple[int, ...], deltas: list[np.ndarray], group: str) -> Step:
    cons = _consumers(ctx.net, ctx.syms, k, at, ctx.fw)
    return _terms_step(dl(ctx.syms[k], at), ctx.syms[k + 1], cons, deltas[k + 1], group)[0]


def _terms_step(
    lhs: tuple[str, str], up: Symbol, cons: list[Consumer], delta: np.ndarray | None, group: str
) -> tuple[Step, tuple[str, str]]:
    """``∂L/∂a = Σ ∂L/∂b_m · local_m = numbers = value`` from the consumers of one element."""
    sym_t, sym_x, num_t, num_x, vals = [], [], [], [], []
    for m, (lt, lx), lv in cons:
        d = dl(up, m)
        one = lt == "1"
        sym_t.append(d[0] if one else f"{d[0]} \\, {lt}")
        sym_x.append(d[1] if one else f"{d[1]} · {lx}")
        if lv is not None and delta is not None:
            prod = _term(delta, m, lv)
            vals.append(prod)
            if prod != 0.0 or len(cons) <= _ALL_TERMS:
                a, b = num(delta[m]), num(lv)
                num_t.append(a[0] if one else f"{a[0]} \\cdot {b[0]}")
                num_x.append(a[1] if one else f"{a[1]}·{b[1]}")
    tex = f"{lhs[0]} = " + (" + ".join(sym_t) or "0")
    txt = f"{lhs[1]} = " + (" + ".join(sym_x) or "0")
    value = None
    if vals:
        value = math.fsum(vals)
        zeros = len(vals) - len(num_t)
        if num_t:
            tex += " = " + " + ".join(num_t)
            txt += " = " + " + ".join(num_x)
        if zeros:
            tex += rf" + {zeros} \times 0" if num_t else f" = {zeros} \\times 0"
            txt += f" + {zeros}×0" if num_t else f" = {zeros}×0"
        tex += f" = {latex_number(value)}"
        txt += f" = {format_number(value)}"
    elif not cons:
        value = 0.0
    return Step(lhs[1], tex, txt, value, group), (" + ".join(sym_t) or "0", " + ".join(sym_x) or "0")


def _backward_rule(net: Network, k: int, s: Symbol, o: Symbol) -> tuple[str, str]:
    layer, shape = net.layers[k], net.shapes[k]
    if layer.type == "dense":
        w = param_symbol(f"{layer.name}.w")
        d, u = dl(s, "j"), dl(o, "k")
        return (
            rf"{d[0]} = \sum_{{k=0}}^{{{layer.outputs - 1}}} {u[0]} \, {w.at('k,j')[0]}",
            f"{d[1]} = Σ_k {u[1]} · {w.at('k,j')[1]}   (a sum over the {layer.outputs} unit{'s' if layer.outputs > 1 else ''} it feeds)",
        )
    i = ix(shape) if layer.type == "act" else "c,r,s"
    d = dl(s, i)
    if layer.type == "act":
        ft, fx = _DACT_TEX[layer.fn]
        u = dl(o, i)
        return f"{d[0]} = {u[0]} \\, {ft.format(s.at(i)[0])}", f"{d[1]} = {u[1]} · {fx.format(s.at(i)[1])}"
    if layer.type == "flatten":
        _, rows, cols = shape
        u = dl(o, f"{rows * cols}c+{cols}r+s")
        return f"{d[0]} = {u[0]}", f"{d[1]} = {u[1]}"
    if layer.type == "maxpool":
        u = dl(o, "c,i,j")
        return (
            rf"{d[0]} = \sum_{{(i,j)}} \mathbb{{1}}[{s.at(i)[0]} \text{{ is the max of window }} (i,j)] \, {u[0]}",
            f"{d[1]} = Σ_(i,j) 𝟙[{s.at(i)[1]} is the max of window (i,j)] · {u[1]}   (the other inputs get 0)",
        )
    if layer.type == "avgpool":
        kh, kw = layer.kernel
        u = dl(o, "c,i,j")
        return (
            rf"{d[0]} = \frac{{1}}{{{kh * kw}}} \sum_{{(i,j) \ni (r,s)}} {u[0]}",
            f"{d[1]} = (1/{kh * kw}) Σ over the windows (i,j) holding (r,s) of {u[1]}",
        )
    w = param_symbol(f"{layer.name}.w")
    (sh, sw), (ph, pw) = layer.stride, layer.padding
    u = dl(o, "o,i,j")
    cond = f"{affine(sh, 'i', 0)}+m{f'-{ph}' if ph else ''}=r,\\ {affine(sw, 'j', 0)}+n{f'-{pw}' if pw else ''}=s"
    return (
        rf"{d[0]} = \sum_{{o}} \sum_{{i,j,m,n:\ {cond}}} {u[0]} \, {w.at('o,c,m,n')[0]}",
        f"{d[1]} = Σ_o Σ over i,j,m,n with {cond.replace(chr(92) + ' ', ' ')} of {u[1]} · {w.at('o,c,m,n')[1]}",
    )


def _closed_form(net: Network, syms: list[Symbol], name: str, index: tuple[int, ...]) -> tuple[str, str] | None:
    """The index form of the last factor, where the layer is regular (a conv weight or bias)."""
    if name == "x":
        return _closed_form_input(net, syms, index)
    if net.layers[net.layer_of(name)].type != "conv":
        return None
    k = net.layer_of(name)
    layer, s, o = net.layers[k], syms[k], syms[k + 1]
    _, oh, ow = net.shapes[k + 1]
    sums_t = rf"\sum_{{i=0}}^{{{oh - 1}}} \sum_{{j=0}}^{{{ow - 1}}} "
    if name.endswith(".b"):
        d = dl(o, f"{index[0]},i,j")
        return f"{sums_t}{d[0]}", f"Σ_i Σ_j {d[1]}"
    oo, c, m, n = index
    (sh, sw), (ph, pw) = layer.stride, layer.padding
    d = dl(o, f"{oo},i,j")
    src = s.at(f"{c},{affine(sh, 'i', m - ph)},{affine(sw, 'j', n - pw)}")
    tail = r" \quad (\text{0 outside the input})" if ph or pw else ""
    return f"{sums_t}{d[0]} \\, {src[0]}{tail}", f"Σ_i Σ_j {d[1]} · {src[1]}" + (
        "   (0 outside the input)" if ph or pw else ""
    )


def _closed_form_input(net: Network, syms: list[Symbol], index: tuple[int, ...]) -> tuple[str, str] | None:
    """``Σ_o Σ_i Σ_j ∂L/∂z_{o,i,j} w_{o,c,r-i,s-j}`` for an input under a stride-1 convolution."""
    layer = net.layers[0]
    if layer.type != "conv" or layer.stride != (1, 1):
        return None
    c, r, q = index
    (kh, kw), (ph, pw) = layer.kernel, layer.padding
    oc, oh, ow = net.shapes[1]
    i0, i1, j0, j1 = max(0, r + ph - kh + 1), min(oh - 1, r + ph), max(0, q + pw - kw + 1), min(ow - 1, q + pw)
    if i0 > i1 or j0 > j1:
        return None
    w = param_symbol(f"{layer.name}.w")
    o = "o" if oc > 1 else "0"
    sums_t, sums_x = [rf"\sum_{{o=0}}^{{{oc - 1}}} "] if oc > 1 else [], ["Σ_o "] if oc > 1 else []
    out_ix, w_ix = [], []
    for var, lo, hi, top in (("i", i0, i1, r + ph), ("j", j0, j1, q + pw)):
        if lo == hi:  # one position: no sum
            out_ix.append(str(lo))
            w_ix.append(str(top - lo))
        else:
            sums_t.append(rf"\sum_{{{var}={lo}}}^{{{hi}}} ")
            sums_x.append(f"Σ_{var}={lo}..{hi} ")
            out_ix.append(var)
            w_ix.append(affine(-1, var, top))
    d = dl(syms[1], f"{o},{out_ix[0]},{out_ix[1]}")
    wt = w.at(f"{o},{c},{w_ix[0]},{w_ix[1]}")
    return f"{''.join(sums_t)}{d[0]} \\, {wt[0]}", f"{''.join(sums_x)}{d[1]} · {wt[1]}"


def _derive(ctx: _Ctx, name: str, index: tuple[int, ...]) -> NetworkGradient:
    net, syms, fw = ctx.net, ctx.syms, ctx.fw
    wrt = element_name(name, index)
    sym = Symbol("x", "x") if name == "x" else param_symbol(name)
    lhs = dl(sym, index)
    start, masks = reach(net, name, index)
    key = "backward", start if name != "x" else 1, tuple(m.tobytes() if m is not None else b"" for m in masks)
    if key not in ctx.cache:
        steps = _loss_head(net, syms[-1], fw)
        for k in range(len(net.layers) - 1, max(start, 1) - 1, -1):
            steps += _backward_layer(ctx, k, masks[k])
        ctx.cache[key] = steps
    steps = list(ctx.cache[key])
    if name == "x":
        cons, up = _consumers(net, syms, 0, index, fw), syms[1]
    else:
        cons, up = _param_consumers(net, syms, name, index, fw), syms[start]
    group = f"Chain rule: one term per element {sym.text}{'[' + idx(index) + ']'} reaches"
    delta = None if fw is None else fw.backward()[0][1 if name == "x" else start]
    term, (exp_t, exp_x) = _terms_step(lhs, up, cons, delta, group)
    closed = _closed_form(net, syms, name, index) or (exp_t, exp_x)
    value = term.value if fw is not None else None
    closed_step = Step(
        f"{lhs[1]} (index form)",
        f"{lhs[0]} = {closed[0]}",
        f"{lhs[1]} = {closed[1]}",
        value,
        "Closed form (index form)",
    )
    result = Step(f"{lhs[1]} (term by term)", term.latex, term.text, value, RES)
    auto = None
    if ctx.auto is not None:
        auto = float(np.asarray(ctx.auto[name])[index])
    notes = ctx.notes
    if not cons:
        notes = (*notes, f"No element uses {wrt} (a stride or padding skips it), so L does not depend on it.")
    return NetworkGradient(
        net=net,
        wrt=wrt,
        steps=(*ctx.first, *steps, closed_step, result),
        closed_form_latex=f"{lhs[0]} = {closed[0]}",
        expanded_latex=f"{lhs[0]} = {exp_t}",
        closed_form_text=f"{lhs[1]} = {closed[1]}",
        expanded_text=f"{lhs[1]} = {exp_x}",
        value=value,
        autograd=auto,
        notes=notes,
    )
