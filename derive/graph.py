"""The computation graph of a :class:`~derive.problem.Problem`, as named sympy nodes.

Each :class:`Node` is like micrograd's ``Value``: it knows its inputs, its op, its
definition (the forward equation) and its local derivative with respect to each
input. The engine (:mod:`derive.engine`) walks these nodes; nothing here
differentiates an expanded expression.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sympy

from derive.errors import DeriveError, did_you_mean
from derive.numeric import sech2, sigmoid, softplus  # re-exported: derive.graph.sigmoid stays
from derive.problem import Problem

if TYPE_CHECKING:
    from derive.conv_numbers import ConvNumbers

__all__ = [
    "Graph",
    "Node",
    "build_graph",
    "chain_paths",
    "edge_value",
    "evaluate",
    "forward",
    "near_kinks",
    "relu",
    "sigma",
    "sigmoid",
    "solve",
    "softplus",
]


class sigma(sympy.Function):  # noqa: N801 - prints as \sigma, reads like the handouts
    """The logistic sigmoid σ(x) = 1 / (1 + e^{-x}); σ' = σ(1 - σ)."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        s = sigma(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-x))

    def _eval_evalf(self, prec: int) -> sympy.Expr:
        return (1 / (1 + sympy.exp(-self.args[0])))._eval_evalf(prec)


class relu(sympy.Function):  # noqa: N801
    """ReLU(x) = max(0, x); its derivative is Heaviside(x, 0) = 𝟙[x > 0], as torch's gradient."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.Heaviside(self.args[0], 0)

    def _eval_evalf(self, prec: int) -> sympy.Expr:
        return sympy.Max(0, self.args[0])._eval_evalf(prec)


_ACT = {"sigmoid": sigma, "tanh": sympy.tanh, "relu": relu}


@dataclass(eq=False)
class Node:
    """A named value of the network.

    Attributes:
        name: Its name (``"z01"``, ``"yhat"``, ``"L"``); also its sympy symbol's name.
        op: ``"leaf"``, ``"conv"``, ``"act"``, ``"dense"``, ``"sigmoid"``, ``"mse"`` or ``"bce"``.
        inputs: Names of the nodes it is computed from.
        formula: Its forward equation's right-hand side, in the inputs' symbols (the
            ``definition`` property; a conv node builds it from ``pairs`` on demand).
        local: For each input name, the local derivative ∂self/∂input (in node symbols).
        role: What a leaf is (``"input"``, ``"kernel"``, ``"dense"``, ``"bias"``, ``"target"``),
            else the op.
        index: 0-based indices of the node within its role (``(2, 1)`` for ``a21``).
        pairs: For a conv node, its (kernel weight, input) name pairs, in order.
    """

    name: str
    op: str
    inputs: tuple[str, ...] = ()
    formula: sympy.Expr | None = None
    local: dict[str, sympy.Expr] = field(default_factory=dict)
    role: str = ""
    index: tuple[int, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()

    @property
    def definition(self) -> sympy.Expr | None:
        """The forward equation's right-hand side (``None`` for a leaf)."""
        if self.formula is None and self.op == "conv":
            terms = [sympy.Mul(sympy.Symbol(w), sympy.Symbol(a), evaluate=False) for w, a in self.pairs]
            if "b" in self.local:
                terms.append(sympy.Symbol("b"))
            self.formula = sympy.Add(*terms, evaluate=False) if terms else sympy.Integer(0)
        return self.formula

    @property
    def symbol(self) -> sympy.Symbol:
        """The sympy symbol standing for this node."""
        return sympy.Symbol(self.name)


@dataclass
class Graph:
    """All nodes of a problem, in topological order (leaves first, ``L`` last)."""

    problem: Problem
    nodes: dict[str, Node]
    consumers: dict[str, list[str]]
    formatted: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # edge -> (LaTeX, text)

    def leaves(self, *roles: str) -> list[Node]:
        """Leaf nodes, optionally only those of the given roles, in a stable order."""
        return [n for n in self.nodes.values() if n.op == "leaf" and (not roles or n.role in roles)]

    def differentiable(self) -> list[str]:
        """Names one may ask the gradient of: inputs, kernel, dense weights and biases."""
        return [n.name for n in self.leaves("input", "kernel", "bias", "dense", "dense_bias")]

    def expand(self, name: str) -> sympy.Expr:
        """The node's value as one expression in the leaves (for tests and the naive baseline)."""
        cache: dict[str, sympy.Expr] = {}

        def walk(n: str) -> sympy.Expr:
            if n not in cache:
                node = self.nodes[n]
                if node.definition is None:
                    cache[n] = node.symbol
                else:
                    cache[n] = node.definition.xreplace({sympy.Symbol(i): walk(i) for i in node.inputs})
            return cache[n]

        return walk(name)

    def resolve(self, text: str) -> str:
        """Map what a user typed (``"w11"``, ``"w_{1,1}"``, ``"a[2,1]"``) to a node name.

        Raises:
            DeriveError: For an unknown variable, with the valid range and a suggestion.
        """
        raw = text.strip()
        aliases = {"ŷ": "yhat", "y_hat": "yhat", "\\hat{y}": "yhat"}
        if raw in aliases:
            raw = aliases[raw]
        if raw in self.nodes and raw not in ("L", "y"):
            return raw
        p = self.problem
        match = re.fullmatch(r"([A-Za-z])_?[\[{(]?(\d+)(?:[,_ ]\s*(\d+))?[\]})]?", raw)
        if match:
            letter, first, second = match.groups()
            if second is None and len(first) == 2 and letter in (p.input_symbol, p.kernel_symbol, "z", "h"):
                first, second = first[0], first[1]
            idx = tuple(int(x) - p.base for x in (first, second) if x is not None)
            roles = {
                p.input_symbol: ("a", p.input),
                p.kernel_symbol: ("w", p.kernel),
                "z": ("z", p.output),
                "h": ("h", p.output),
            }
            if letter in roles and len(idx) == 2:
                kind, (rows, cols) = roles[letter]
                if 0 <= idx[0] < rows and 0 <= idx[1] < cols:
                    return p.name(kind, *idx)
                clamped = p.name(kind, min(max(idx[0], 0), rows - 1), min(max(idx[1], 0), cols - 1))
                what = {"a": "input", "w": "kernel", "z": "conv output", "h": "activation"}[kind]
                raise DeriveError(
                    f"Unknown variable {text!r}: {what} indices {_ranges(rows, cols, p.base)}. Did you mean {clamped!r}?"
                )
            if letter == p.dense_symbol and len(idx) == 1:
                k = int(first) - p.base
                if 0 <= k < p.n_dense:
                    return p.name("v", k)
                last = p.name("v", p.n_dense - 1)
                raise DeriveError(
                    f"Unknown variable {text!r}: dense weights run from {p.name('v', 0)!r} to {last!r} "
                    f"(one per conv output, row-major). Did you mean {p.name('v', min(max(k, 0), p.n_dense - 1))!r}?"
                )
        if raw == "b" and not p.conv_bias:
            raise DeriveError(
                f"Unknown variable {text!r}: this convolution has no bias; add --conv-bias to derive ∂L/∂b."
            )
        if raw == "c" and not p.dense_bias:
            raise DeriveError(
                f"Unknown variable {text!r}: this dense sum has no bias; add --dense-bias to derive ∂L/∂c."
            )
        choices = [n for n in self.nodes if n not in ("L", "y")]
        raise DeriveError(
            f"Unknown variable {text!r}: expected an input {p.name('a', 0, 0)}..{p.name('a', p.input[0] - 1, p.input[1] - 1)}, "
            f"a kernel weight {p.name('w', 0, 0)}..{p.name('w', p.kernel[0] - 1, p.kernel[1] - 1)}, "
            f"a dense weight {p.name('v', 0)}..{p.name('v', p.n_dense - 1)}"
            + (", b" if p.conv_bias else "")
            + (", c" if p.dense_bias else "")
            + "."
            + did_you_mean(raw, choices)
        )


def _ranges(rows: int, cols: int, base: int) -> str:
    if rows == cols:
        return f"run from {base} to {rows - 1 + base}"
    return f"run from {base} to {rows - 1 + base} (rows) and from {base} to {cols - 1 + base} (columns)"


def build_graph(problem: Problem) -> Graph:
    """Build the named-node graph of ``problem``.

    >>> g = build_graph(Problem())
    >>> g.nodes["z00"].local["w11"]
    a11
    >>> g.nodes["h00"].local["z00"]
    (1 - sigma(z00))*sigma(z00)
    """
    p = problem
    nodes: dict[str, Node] = {}

    def add(node: Node) -> Node:
        nodes[node.name] = node
        return node

    (h, w), (kh, kw), (oh, ow) = p.input, p.kernel, p.output
    for r in range(h):
        for c in range(w):
            add(Node(p.name("a", r, c), "leaf", role="input", index=(r, c)))
    for m in range(kh):
        for n in range(kw):
            add(Node(p.name("w", m, n), "leaf", role="kernel", index=(m, n)))
    if p.conv_bias:
        add(Node("b", "leaf", role="bias"))
    for k in range(p.n_dense):
        add(Node(p.name("v", k), "leaf", role="dense", index=(k,)))
    if p.dense_bias:
        add(Node("c", "leaf", role="dense_bias"))
    add(Node("y", "leaf", role="target"))

    act = _ACT[p.activation]
    dense_terms: list[sympy.Expr] = []
    dense_local: dict[str, sympy.Expr] = {}
    for i in range(oh):
        for j in range(ow):
            pairs: list[tuple[str, str]] = []
            local: dict[str, sympy.Expr] = {}
            for m in range(kh):
                for n in range(kw):
                    r, c = p.stride * i + m - p.padding, p.stride * j + n - p.padding
                    if not (0 <= r < h and 0 <= c < w):
                        continue  # a padding zero: no term, no path
                    wn, an = p.name("w", m, n), p.name("a", r, c)
                    pairs.append((wn, an))
                    local[wn], local[an] = sympy.Symbol(an), sympy.Symbol(wn)
            if p.conv_bias:
                local["b"] = sympy.Integer(1)
            zname = p.name("z", i, j)
            add(Node(zname, "conv", tuple(local), None, local, "conv", (i, j), tuple(pairs)))
            z = sympy.Symbol(zname)
            hname = p.name("h", i, j)
            add(Node(hname, "act", (zname,), act(z), {zname: _local_act(p.activation, z)}, "act", (i, j)))
            v = sympy.Symbol(p.name("v", p.dense_index(i, j)))
            dense_terms.append(sympy.Mul(v, sympy.Symbol(hname), evaluate=False))
            dense_local[hname] = v
            dense_local[str(v)] = sympy.Symbol(hname)
    if p.dense_bias:
        dense_terms.append(sympy.Symbol("c"))
        dense_local["c"] = sympy.Integer(1)
    add(Node("yhat", "dense", tuple(dense_local), sympy.Add(*dense_terms, evaluate=False), dense_local, "dense"))

    yhat, y = sympy.Symbol("yhat"), sympy.Symbol("y")
    if p.loss == "mse":
        coef = sympy.Rational(1, 2) if p.half_mse else sympy.Integer(1)
        diff = sympy.Add(yhat, -y, evaluate=False)
        local = {"yhat": diff if p.half_mse else sympy.Mul(2, diff, evaluate=False)}
        add(Node("L", "mse", ("yhat", "y"), coef * (yhat - y) ** 2, local, "mse"))
    else:
        ps = sympy.Symbol("p")
        add(Node("p", "sigmoid", ("yhat",), sigma(yhat), {"yhat": ps * (1 - ps)}, "sigmoid"))
        loss = sympy.Mul(-1, sympy.Add(y * sympy.log(ps), (1 - y) * sympy.log(1 - ps), evaluate=False), evaluate=False)
        dldp = sympy.Add(-y / ps, (1 - y) / (1 - ps), evaluate=False)
        add(Node("L", "bce", ("p", "y"), loss, {"p": dldp}, "bce"))

    consumers: dict[str, list[str]] = {name: [] for name in nodes}
    for node in nodes.values():
        for inp in node.inputs:
            consumers[inp].append(node.name)
    return Graph(p, nodes, consumers)


# ----------------------------------------------------------------- numbers
_FUNCS = {
    "sigma": sigmoid,
    "tanh": math.tanh,
    "relu": lambda x: max(0.0, x),
    "log": math.log,
    "exp": math.exp,
}


def _one_minus(expr: sympy.Expr) -> sympy.Expr | None:
    """``f`` when ``expr`` is ``1 - f`` (as the graph writes σ' and tanh'), else ``None``."""
    if expr.is_Add and len(expr.args) == 2 and sympy.Integer(1) in expr.args:
        other = expr.args[1] if expr.args[0] == 1 else expr.args[0]
        if other.is_Mul and len(other.args) == 2 and other.args[0] == -1:
            return other.args[1]
    return None


def evaluate(expr: sympy.Expr, env: Mapping[str, float]) -> float:
    """Evaluate a small sympy expression in float64 from node values (fast, no lambdify).

    ``1 − σ(x)`` is evaluated as ``σ(−x)`` and ``1 − tanh²(x)`` as ``sech²(x)``, so a
    derivative that float64 can hold is not lost to cancellation (σ'(40) = 4.2e-18, not 0).

    >>> evaluate(sympy.Symbol("x") * 2 + 1, {"x": 0.5})
    2.0
    >>> evaluate(1 - sigma(sympy.Symbol("z")), {"z": 40.0})
    4.248354255291589e-18
    """
    if expr.is_Symbol:
        return env[expr.name]
    if expr.is_Number:
        return float(expr)
    rest = _one_minus(expr)
    if rest is not None:
        if isinstance(rest, sigma):
            return sigmoid(-evaluate(rest.args[0], env))
        if rest.is_Pow and isinstance(rest.args[0], sympy.tanh) and rest.args[1] == 2:
            return sech2(evaluate(rest.args[0].args[0], env))
    args = [evaluate(a, env) for a in expr.args]
    if expr.is_Add:
        return math.fsum(args)
    if expr.is_Mul:
        return math.prod(args)
    if expr.is_Pow:
        return args[0] ** args[1]
    if isinstance(expr, sympy.Heaviside):
        x = args[0]
        return 1.0 if x > 0 else (args[1] if len(args) > 1 and x == 0 else 0.0)
    fname = type(expr).__name__
    if fname in _FUNCS:
        return _FUNCS[fname](*args)
    raise TypeError(f"cannot evaluate {expr!r}")  # our bug, not the user's


def solve(graph: Graph, leaves: Mapping[str, float]) -> ConvNumbers:
    """Every number of the problem at the leaf values, from the one float64 implementation.

    The numbers come from :mod:`derive.conv_numbers` (the network engine): the binary
    cross-entropy as ``softplus(ŷ) − y·ŷ``, ∂L/∂ŷ as ``p − y`` in the stable form, and a ReLU
    input at its kink only when it is exactly 0 (``0.1 + 0.2 − 0.3`` is not), where the
    derivative is 0 as in torch. A loss beyond float64 is left as ``inf`` (its gradient may be
    finite: ``(ŷ − y)²`` at y = 1e200); any other node beyond float64 is an error.

    Raises:
        DeriveError: a value beyond float64 (one line, naming the node and what to do).
    """
    from derive.conv_numbers import solve as solve_numbers

    nums = solve_numbers(graph.problem, leaves)
    for node in graph.nodes.values():
        if node.name not in nums.env:
            raise DeriveError(f"No value for {node.name!r}.")
        if node.name != "L" and not math.isfinite(nums.env[node.name]):
            raise overflow(graph, node.name)
    if math.isnan(nums.env["L"]):
        raise overflow(graph, "L")
    return nums


def forward(graph: Graph, leaves: Mapping[str, float]) -> dict[str, float]:
    """Values of every node, given the leaf values by name (see :func:`solve`)."""
    return solve(graph, leaves).env


def near_kinks(graph: Graph, env: Mapping[str, float]) -> tuple[str, ...]:
    """The conv nodes at a ReLU kink: exactly 0 (where the derivative is taken as 0, as torch does)."""
    if graph.problem.activation != "relu":
        return ()
    return tuple(n.name for n in graph.nodes.values() if n.op == "conv" and env.get(n.name) == 0.0)


def overflow(graph: Graph, name: str) -> DeriveError:
    """The one-line error for a number float64 cannot hold."""
    from derive.printer import text_name

    what = "the loss L" if name == "L" else text_name(name) if name in graph.nodes else name
    return DeriveError(
        f"values: {what} is beyond float64 (|x| > 1.8e308) at these numbers, so no step can be "
        "shown right; scale the values down (the course's numbers are between -10 and 10)."
    )


def edge_value(graph: Graph, edge: tuple[str, str], env: Mapping[str, float]) -> float:
    """The local derivative on ``edge`` (node, input) at ``env``, in a stable form.

    The sigmoid output's ``p(1 − p)`` is ``σ(ŷ)σ(−ŷ)``, and the cross-entropy's
    ``−y/p + (1 − y)/(1 − p)`` uses ``1 − p = σ(−ŷ)`` (a term with a zero weight is 0),
    so they are right until the number itself leaves float64.

    Raises:
        DeriveError: the derivative is beyond float64 (e.g. ∂L/∂p at ŷ = 800).
    """
    node = graph.nodes[edge[0]]
    x = node.local[edge[1]]
    try:
        if node.op == "sigmoid":
            yhat = env["yhat"]
            value = sigmoid(yhat) * sigmoid(-yhat)
        elif node.op == "bce":
            yhat, y = env["yhat"], env["y"]
            p, q = sigmoid(yhat), sigmoid(-yhat)
            value = (-y / p if y else 0.0) + ((1.0 - y) / q if y != 1.0 else 0.0)
        else:
            value = env[x.name] if x.is_Symbol else evaluate(x, env)
    except (OverflowError, ZeroDivisionError):
        value = math.inf
    if not math.isfinite(value):
        from derive.printer import text_name

        where = ", ".join(f"{text_name(k)} = {env[k]:.6g}" for k in ("yhat",) if k in env)
        raise DeriveError(
            f"values: ∂{text_name(edge[0])}/∂{text_name(edge[1])} is beyond float64 at {where} "
            f"(p = σ(ŷ) rounds to {'1' if env.get('yhat', 0) > 0 else '0'}); the gradient itself would be fine, "
            "but this step cannot be shown: scale the values so that |ŷ| < 700."
        )
    return value


def _local_act(activation: str, z: sympy.Symbol) -> sympy.Expr:
    """dh/dz, built in the order an answer key writes it (sympy would reorder σ(1 - σ))."""
    if activation == "sigmoid":
        return sympy.Mul(sigma(z), 1 - sigma(z), evaluate=False)
    if activation == "tanh":
        return 1 - sympy.tanh(z) ** 2
    return sympy.Heaviside(z, 0)


def chain_paths(graph: Graph, name: str) -> list[list[tuple[str, str]]]:
    """Every path from L down to ``name``, as (node, input) edges, top first: the chain rule's terms."""
    out: list[list[tuple[str, str]]] = []

    def up(n: str, below: list[tuple[str, str]]) -> None:
        if n == "L":
            out.append(below[::-1])
            return
        for parent in graph.consumers[n]:
            up(parent, [*below, (parent, n)])

    up(name, [])
    return out
