"""The oracle: the same network in torch, float64, differentiated by autograd.

Imported only when numbers are checked (torch takes about a second to import).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from derive.problem import Problem
from derive.values import check_values

__all__ = ["autograd_gradients", "bce_from_logit", "softmax_ce_from_logits"]


def bce_from_logit(z: Any, y: Any) -> Any:
    """−[y ln σ(z) + (1 − y) ln(1 − σ(z))] as ``y·softplus(−z) + (1 − y)·softplus(z)``, a torch scalar.

    torch's own ``binary_cross_entropy_with_logits`` differentiates to ``σ(z) − y``, which is 0 at
    z = 40, y = 1 (σ(40) rounds to 1); autograd of this form gives ``−y·σ(−z) + (1 − y)·σ(z)``,
    right to float64 there (−4.2e-18). A term with weight 0 is left out (its softplus may be inf).
    """
    import torch.nn.functional as F

    t = float(y)
    loss = z * 0.0
    if t != 0.0:
        loss = loss + y * F.softplus(-z)
    if t != 1.0:
        loss = loss + (1 - y) * F.softplus(z)
    return loss


def softmax_ce_from_logits(z: Any, target: int) -> Any:
    """Cross-entropy of softmax(z) at class ``target`` as ``logsumexp(0, z_k − z_target for k ≠ target)``.

    The same number as ``F.cross_entropy``, but its gradient at the target is ``−Σ_{k≠target} p_k``
    (no ``p − 1`` that cancels: logits (40, 0, −40), target 0 give −4.25e-18, not 0).
    """
    import torch

    others = torch.cat([z[:target], z[target + 1 :]]) - z[target]
    return torch.logsumexp(torch.cat([torch.zeros(1, dtype=z.dtype), others]), dim=0)


def _dl_dp(yhat: Any, y: Any) -> float:
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
    return float(_grad(pr))


def _grad(t: Any) -> Any:
    """``t.grad`` after ``backward()`` (never ``None`` for a leaf the loss uses)."""
    assert t.grad is not None
    return t.grad


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
    else:  # from the logit, and in a form whose gradient does not cancel (see bce_from_logit)
        loss = bce_from_logit(yhat, y)
    loss.backward()

    out: dict[str, float] = {"yhat": float(_grad(yhat))}
    if p.loss == "bce":
        out["p"] = _dl_dp(yhat.detach(), y)
    for kind, t in (("a", a), ("w", w), ("z", z), ("h", h)):
        g = _grad(t)
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                out[p.name(kind, i, j)] = float(g[i, j])
    for k in range(p.n_dense):
        out[p.name("v", k)] = float(_grad(vv)[k])
    if b is not None:
        out["b"] = float(_grad(b))
    if c is not None:
        out["c"] = float(_grad(c))
    return out
