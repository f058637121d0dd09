"""The oracle: the same network in torch, float64, differentiated by autograd.

Imported only when numbers are checked (torch takes about a second to import).
"""

from __future__ import annotations

from collections.abc import Mapping

from derive.problem import Problem
from derive.values import check_values

__all__ = ["autograd_gradients"]


def _dl_dp(yhat: object, y: object) -> float:
    """torch's ∂L/∂p for L = −[y ln p + (1 − y) ln(1 − p)], with p and 1 − p from the logit."""
    import torch

    pr = torch.sigmoid(yhat).requires_grad_(True)
    q = torch.sigmoid(-yhat)  # 1 - p without rounding p to 1 first
    t = float(y)
    loss = torch.zeros((), dtype=torch.float64)
    if t != 0.0:  # a term with weight 0 is 0, also where its log is -inf
        loss = loss - y * torch.log(pr)
    if t != 1.0:
        loss = loss - (1 - y) * torch.log(q + (1 - pr) - (1 - pr).detach())
    loss.backward()
    return float(pr.grad)


def autograd_gradients(problem: Problem, values: Mapping) -> dict[str, float]:
    """∂L/∂(every node) by torch autograd in float64, keyed by node name.

    Covers the leaves (inputs, kernel, biases, dense weights) and the intermediate
    nodes (``z``, ``h``, ``yhat``, ``p``), so any gradient the engine derives can be checked.
    """
    import torch
    import torch.nn.functional as F

    p = problem
    v = check_values(values, p)

    def leaf(x: object) -> torch.Tensor:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    a, w, vv, y = (
        leaf(v[p.input_symbol]),
        leaf(v[p.kernel_symbol]),
        leaf(v[p.dense_symbol]),
        torch.tensor(v["y"], dtype=torch.float64),
    )
    b = leaf(v["b"]) if p.conv_bias else None
    c = leaf(v["c"]) if p.dense_bias else None
    z = F.conv2d(
        a[None, None], w[None, None], bias=None if b is None else b.reshape(1), stride=p.stride, padding=p.padding
    )[0, 0]
    z.retain_grad()
    h = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[p.activation](z)
    h.retain_grad()
    yhat = (vv * h.reshape(-1)).sum() + (c if c is not None else 0.0)
    yhat.retain_grad()
    if p.loss == "mse":
        loss = (yhat - y) ** 2 * (0.5 if p.half_mse else 1.0)
    else:  # from the logit: F.binary_cross_entropy on p = σ(ŷ) loses everything near 0 and 1
        loss = F.binary_cross_entropy_with_logits(yhat, y)
    loss.backward()

    out: dict[str, float] = {"yhat": float(yhat.grad)}
    if p.loss == "bce":
        out["p"] = _dl_dp(yhat.detach(), y)
    for kind, t in (("a", a), ("w", w), ("z", z), ("h", h)):
        g = t.grad
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                out[p.name(kind, i, j)] = float(g[i, j])
    for k in range(p.n_dense):
        out[p.name("v", k)] = float(vv.grad[k])
    if b is not None:
        out["b"] = float(b.grad)
    if c is not None:
        out["c"] = float(c.grad)
    return out
