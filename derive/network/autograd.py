"""The oracle: the network built again from its spec in torch (float64), differentiated by autograd.

Nothing here is shared with :mod:`derive.network.graph`: the layers are torch's own
(``F.conv2d``, ``F.max_pool2d``, ``F.avg_pool2d``, ``torch.flatten``, ``F.linear``) and so are
the losses (the cross-entropies written as :func:`derive.autograd.bce_from_logit` and
:func:`~derive.autograd.softmax_ce_from_logits`, whose gradients do not cancel where torch's
fused losses round ``p − y`` to 0). Imported only when numbers are checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from derive.autograd import _grad, bce_from_logit, softmax_ce_from_logits
from derive.network.spec import Network

__all__ = ["autograd_gradients"]


def autograd_gradients(net: Network, values: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
    """``(L, {name: ∂L/∂name as nested lists})`` for ``x`` and every parameter, by torch autograd.

    ``values`` are validated values (:func:`derive.network.values.check_values`).
    """
    import torch
    import torch.nn.functional as F

    leaves = {name: torch.tensor(values[name], dtype=torch.float64, requires_grad=True) for name in net.tensor_shapes()}
    t = leaves["x"][None]
    for layer in net.layers:
        if layer.type == "conv":
            b = leaves.get(f"{layer.name}.b")
            t = F.conv2d(t, leaves[f"{layer.name}.w"], b, stride=layer.stride, padding=layer.padding)
        elif layer.type == "act":
            t = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[layer.fn](t)
        elif layer.type == "maxpool":
            t = F.max_pool2d(t, layer.kernel, layer.stride)
        elif layer.type == "avgpool":
            t = F.avg_pool2d(t, layer.kernel, layer.stride)
        elif layer.type == "flatten":
            t = torch.flatten(t, 1)
        else:
            t = F.linear(t, leaves[f"{layer.name}.w"], leaves.get(f"{layer.name}.b"))
    yhat, y = t[0], values["y"]
    if net.loss in ("mse", "half-mse"):
        loss = ((yhat - torch.tensor(y, dtype=torch.float64)) ** 2).sum() * (0.5 if net.loss == "half-mse" else 1.0)
    elif net.loss == "bce":  # forms whose gradients do not cancel at a confident right answer
        loss = bce_from_logit(yhat[0], torch.tensor(y, dtype=torch.float64))
    else:
        loss = softmax_ce_from_logits(yhat, int(y))
    loss.backward()
    return float(loss.detach()), {name: _grad(leaf).tolist() for name, leaf in leaves.items()}
