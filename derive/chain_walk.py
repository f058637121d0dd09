"""The walk: from L down to one variable along every path, recording the chain rule as steps.

The edges every path shares (``L → ŷ``, and for a dense weight all of them) are factored out; the rest
are one term per output position the variable reaches. Every number comes from the one float64
implementation (:mod:`derive.conv_numbers`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import sympy

from derive.conv_numbers import ConvNumbers
from derive.gradient_record import Gradient
from derive.graph import Graph, Node, chain_paths, edge_value, overflow
from derive.indexform import general_term
from derive.printer import latex as print_latex
from derive.printer import latex_name, text_name
from derive.printer import text as print_text
from derive.steps import Step, factor_number, format_number, latex_number

_LOSS_OPS = ("mse", "bce", "sigmoid")


# ------------------------------------------------------------------ the walk
def _fmt(expr: sympy.Expr) -> tuple[str, str]:
    """(LaTeX, text) of one factor, parenthesized when it is a sum."""
    if expr.is_Symbol:
        return latex_name(expr.name), text_name(expr.name)
    tex, txt = print_latex(expr), print_text(expr)
    if expr.is_Add:
        return rf"\left({tex}\right)", f"({txt})"
    return tex, txt


@functools.lru_cache(maxsize=65536)
def _num(x: float) -> tuple[str, str]:
    return factor_number(x)


def _partial(top: str, low: str) -> tuple[str, str]:
    return rf"\frac{{\partial {latex_name(top)}}}{{\partial {latex_name(low)}}}", f"∂{text_name(top)}/∂{text_name(low)}"


def _with_value(tex: str, txt: str, value: float | None) -> tuple[str, str]:
    if value is None:
        return tex, txt
    return f"{tex} = {latex_number(value)}", f"{txt} = {format_number(value)}"


def walk_chain(
    graph: Graph,
    name: str,
    nums: ConvNumbers | None,
    auto: Mapping[str, float] | None,
    fwd: tuple[Step, ...],
    memo: dict[tuple[str, str], float],
    kinks: frozenset[str] = frozenset(),
) -> Gradient:
    """One gradient; ``memo`` caches edge values across the gradients of one call.

    Every number (forward values, local derivatives, ∂L/∂ŷ and the gradient itself) comes from
    ``nums``, so the classic route prints what ``derive grad --net`` prints for the same floats.
    """
    p = graph.problem
    env = None if nums is None else nums.env
    nodes = graph.nodes
    paths = chain_paths(graph, name)
    if not paths:
        return _unreached(graph, name, env, auto, fwd)
    first = paths[0]
    nshared = len(first)
    for other in paths[1:]:
        nshared = min(nshared, next((k for k, (a, b) in enumerate(zip(first, other)) if a != b), len(first)))
    if len(paths) > 1:
        nshared = min(nshared, len(first) - 1)
    head = [e for e in first[:nshared] if nodes[e[0]].op in _LOSS_OPS]
    shared = first[len(head) : nshared]
    rests = [pth[nshared:] for pth in paths]
    local = {e: nodes[e[0]].local[e[1]] for pth in paths for e in pth}

    def edge(e: tuple[str, str]) -> float:
        if e not in memo:
            assert nums is not None
            act = nums.act_local.get(e[0]) if nodes[e[0]].op == "act" else None
            memo[e] = act if act is not None else edge_value(graph, e, nums.env)
        return memo[e]

    val = edge if nums is not None else None
    cache = graph.formatted

    def fmt(e: tuple[str, str]) -> tuple[str, str]:
        if e not in cache:
            cache[e] = _fmt(local[e])
        return cache[e]

    steps: list[Step] = []  # chain-rule factors
    term_steps: list[Step] = []
    grp = "Chain rule"
    lhs_tex, lhs_txt = _partial("L", name)

    # --- the chain-rule statement, in partials
    bottom = head[-1][1] if head else "L"
    top_tex, top_txt = _partial("L", bottom) if head else ("", "")
    chain_tex = [top_tex] if head else []
    chain_txt = [top_txt] if head else []
    for e in shared:
        t = _partial(*e)
        chain_tex.append(t[0])
        chain_txt.append(t[1])
    positions = tuple(nodes[r[-1][0]].index for r in rests if r) if len(paths) > 1 else _single_position(nodes, first)
    gt = (
        general_term(graph, nodes[name], [(nodes[a], nodes[b]) for a, b in rests[0]], [(i[0], i[1]) for i in positions])
        if len(paths) > 1
        else None
    )

    # --- the loss head: ∂L/∂ŷ (combined for cross-entropy)
    head_exprs: list[sympy.Expr] = []
    head_value = 1.0
    if head:
        for e in head:
            tex, txt = fmt(e)
            pt = _partial(*e)
            v = val(e) if val else None
            if v is not None:
                head_value *= v
            steps.append(
                Step(
                    pt[1],
                    *_with_value(f"{pt[0]} = {print_latex(local[e])}", f"{pt[1]} = {print_text(local[e])}", v),
                    v,
                    grp,
                )
            )
        combined = sympy.Mul(*[local[e] for e in head])
        if len(head) > 1:
            combined = sympy.factor(sympy.cancel(combined))
            if nums is not None:  # p - y in the stable form, never the product of two rounded factors
                head_value = nums.dloss
            v = head_value if val else None
            parts_tex = " ".join(_partial(*e)[0] for e in head)
            parts_txt = " · ".join(_partial(*e)[1] for e in head)
            steps.append(
                Step(
                    top_txt,
                    *_with_value(
                        f"{top_tex} = {parts_tex} = {print_latex(combined)}",
                        f"{top_txt} = {parts_txt} = {print_text(combined)}",
                        v,
                    ),
                    v,
                    grp,
                )
            )
        head_exprs = [combined]
    head_fmt = [_fmt(x) for x in head_exprs]

    # --- shared factors, concrete
    shared_value = 1.0
    for e in shared:
        pt = _partial(*e)
        tex, txt = print_latex(local[e]), print_text(local[e])
        v = val(e) if val else None
        if v is not None:
            shared_value *= v
        shown = v if not local[e].is_Number else None  # "= 1 = 1" says nothing
        steps.append(Step(pt[1], *_with_value(f"{pt[0]} = {tex}", f"{pt[1]} = {txt}", shown), v, grp))

    # --- per-path factors: general form, then each term
    term_values: list[float] = []
    term_fmt: list[tuple[str, str]] = []
    if len(paths) > 1:
        if gt is not None:
            for pl, ptx, fl, ft in zip(gt.partials_latex, gt.partials_text, gt.factors_latex, gt.factors_text):
                steps.append(Step(ptx, f"{pl} = {fl}", f"{ptx} = {ft}", None, grp))
            chain_tex.append(gt.sum_latex + " ".join(gt.partials_latex))
            chain_txt.append(gt.sum_text + " · ".join(gt.partials_text))
        for rest in rests:
            facs = _drop_ones([fmt(e) for e in rest])
            tex = r" \, ".join(f[0] for f in facs)
            txt = " · ".join(f[1] for f in facs)
            term_fmt.append((tex, txt))
            i, j = nodes[rest[-1][0]].index
            label = f"term ({i + p.base}, {j + p.base})"
            if val:
                vals = [val(e) for e in rest]
                tv = math.prod(vals)
                term_values.append(tv)
                nt = [_num(x) for x, e in zip(vals, rest) if local[e] != 1] or [_num(tv)]
                tex += " = " + r" \cdot ".join(n[0] for n in nt) + f" = {latex_number(tv)}"
                txt += " = " + " · ".join(n[1] for n in nt) + f" = {format_number(tv)}"
            term_steps.append(
                Step(
                    label,
                    tex,
                    f"({i + p.base},{j + p.base}): {txt}",
                    term_values[-1] if val else None,
                    "Terms, one per output position reached",
                )
            )
    value = None
    scale = slack = 0.0
    if val and nums is not None:
        exact = nums.gradient(name)  # the network engine's number: the same as derive grad --net
        value = head_value * shared_value * (math.fsum(term_values) if len(paths) > 1 else 1.0)
        value = value if exact is None else exact
        scale = abs(head_value * shared_value) * (math.fsum(abs(t) for t in term_values) if len(paths) > 1 else 1.0)
        if not all(math.isfinite(x) for x in (value, scale, *term_values)):
            raise overflow(graph, f"∂L/∂{text_name(name)}")
        # torch evaluates σ' = h(1 − h) and tanh' = 1 − h² from a rounded h: off by up to ε absolute
        # (0 where we keep 4e-18), so a term through an activation may differ by ε × its other factors
        slack = abs(head_value) * math.fsum(
            math.prod(abs(val(e)) for e in pth[len(head) :] if nodes[e[0]].op != "act")
            for pth in paths
            if any(nodes[e[0]].op == "act" for e in pth)
        )

    def at_kink(e: tuple[str, str]) -> str | None:  # the edge goes through ReLU' at a kink, or uses h there
        if e[1] in kinks:
            return e[1]
        x = local[e]
        if x.is_Symbol and x.name in nodes and nodes[x.name].op == "act" and nodes[x.name].inputs[0] in kinks:
            return nodes[x.name].inputs[0]
        return None

    crossed = tuple(sorted({k for pth in paths for e in pth if (k := at_kink(e))})) if kinks else ()

    # --- closed form (index form) and expanded form
    front = head_fmt + [fmt(e) for e in shared]
    front = _drop_ones(front) if len(paths) == 1 else [f for f in front if f[0] != "1"]
    front_tex = [f[0] for f in front]
    front_txt = [f[1] for f in front]
    if len(paths) == 1:
        closed_tex = r" \, ".join(front_tex) or "1"
        closed_txt = " · ".join(front_txt) or "1"
        exp_tex, exp_txt = closed_tex, closed_txt
    else:
        sum_tex = r" + ".join(t[0] for t in term_fmt)
        sum_txt = " + ".join(t[1] for t in term_fmt)
        exp_tex = " ".join([*front_tex, rf"\Big[ {sum_tex} \Big]"])
        exp_txt = " · ".join([*front_txt, f"[{sum_txt}]"])
        if gt is not None:
            general = _drop_ones(list(zip(gt.factors_latex, gt.factors_text)))
            closed_tex = " ".join([*front_tex, gt.sum_latex + r" \, ".join(f[0] for f in general)])
            closed_txt = " · ".join([*front_txt, gt.sum_text + " · ".join(f[1] for f in general)])
        else:
            closed_tex, closed_txt = exp_tex, exp_txt
    closed_form_latex = f"{lhs_tex} = {closed_tex}"
    expanded_latex = f"{lhs_tex} = {exp_tex}"
    statement = Step(
        f"chain rule for {lhs_txt}",
        f"{lhs_tex} = " + " ".join(chain_tex),
        f"{lhs_txt} = " + " · ".join(chain_txt),
        None,
        grp,
    )
    steps = [*fwd, statement, *steps, *term_steps]
    steps.append(
        Step(
            f"{lhs_txt} (index form)", closed_form_latex, f"{lhs_txt} = {closed_txt}", value, "Closed form (index form)"
        )
    )
    res_tex, res_txt = expanded_latex, f"{lhs_txt} = {exp_txt}"
    if value is not None:
        parts = [_num(head_value)[0]] if head else []
        ones = [e for e in shared if local[e] == 1]
        parts += [_num(edge(e))[0] for e in shared if e not in ones]
        parts_t = [_num(head_value)[1]] if head else []
        parts_t += [_num(edge(e))[1] for e in shared if e not in ones]
        if len(paths) > 1:
            parts.append(r"\Big[ " + " + ".join(_num(t)[0] for t in term_values) + r" \Big]")
            parts_t.append("[" + " + ".join(_num(t)[1] for t in term_values) + "]")
        res_tex += " = " + r" \cdot ".join(parts) + f" = {latex_number(value)}"
        res_txt += " = " + " · ".join(parts_t) + f" = {format_number(value)}"
    steps.append(Step(f"{lhs_txt} (term by term)", res_tex, res_txt, value, "Result"))
    chain = (tuple(head_exprs), tuple(local[e] for e in shared), tuple(tuple(local[e] for e in r) for r in rests))
    return Gradient(
        p,
        name,
        tuple(steps),
        closed_form_latex,
        expanded_latex,
        f"{lhs_txt} = {closed_txt}",
        f"{lhs_txt} = {exp_txt}",
        value,
        None if auto is None else auto[name],
        positions,
        chain,
        crossed,
        scale,
        slack,
        env is not None and not math.isfinite(env["L"]),
    )


def _drop_ones(factors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Leave out factors equal to 1 (∂z/∂b, ∂ŷ/∂c), unless nothing else is left."""
    kept = [f for f in factors if f[0] != "1"]
    return kept or factors[:1]


def _unreached(
    graph: Graph, name: str, env: dict[str, float] | None, auto: Mapping[str, float] | None, fwd: tuple[Step, ...]
) -> Gradient:
    """A variable no output uses (a stride skips it): its gradient is 0."""
    lhs_tex, lhs_txt = _partial("L", name)
    why = f"no conv output uses {text_name(name)} (the stride skips it), so L does not depend on it"
    value = 0.0 if env is not None else None
    closed = f"{lhs_tex} = 0"
    steps = (*fwd, Step(f"{lhs_txt} = 0", closed, f"{lhs_txt} = 0: {why}", value, "Result"))
    return Gradient(
        graph.problem,
        name,
        steps,
        closed,
        closed,
        f"{lhs_txt} = 0",
        f"{lhs_txt} = 0",
        value,
        None if auto is None else auto[name],
        (),
        ((sympy.Integer(0),), (), ()),
    )


def _single_position(nodes: dict[str, Node], path: list[tuple[str, str]]) -> tuple[tuple[int, ...], ...]:
    return tuple(nodes[a].index for a, _ in path if nodes[a].op == "conv")
