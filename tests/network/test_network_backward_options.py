"""Forward.backward's two rule changes (for grading's mistakes), against torch autograd, and the cache kept right."""

from __future__ import annotations

import numpy as np
import pytest

from derive.network import check_values, parse_network, random_values
from derive.network.graph import forward

torch = pytest.importorskip("torch")
F = torch.nn.functional

NET = (
    'input = [1, 4, 4]\n[[layer]]\ntype = "conv"\nkernel = 2\nchannels = 2\n[[layer]]\ntype = "act"\nfn = "sigmoid"\n'
    '[[layer]]\ntype = "avgpool"\nsize = 3\n[[layer]]\ntype = "flatten"\n[[layer]]\ntype = "dense"\noutputs = 3\n'
    '[[layer]]\ntype = "loss"\nfn = "softmax-ce"\n'
)


@pytest.mark.parametrize("seed", [1, 2])
def test_unit_activation_and_replaced_dloss_match_torch(seed):
    net = parse_network(NET)
    values = check_values(net, random_values(net, seed))
    x, w, d = (torch.tensor(values[k], dtype=torch.float64, requires_grad=True) for k in ("x", "conv1.w", "dense1.w"))
    z = F.conv2d(x[None], w)[0]
    h = z + (torch.sigmoid(z) - z).detach()  # ∂h/∂z = 1
    u = F.linear(F.avg_pool2d(h[None], 3)[0].reshape(-1), d)
    seed_grad = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    u.backward(seed_grad)
    fw = forward(net, values)
    right = fw.backward()[1]["conv1.w"].copy()
    _, grads = fw.backward(act_derivative=False, dloss=seed_grad.numpy())
    assert np.allclose(grads["conv1.w"], w.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert np.allclose(grads["x"], x.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert np.array_equal(fw.backward()[1]["conv1.w"], right)  # the cached right gradient is untouched
    assert not np.allclose(grads["conv1.w"], right)
