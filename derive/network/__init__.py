"""derive.network: gradients of any small network a lecturer writes on the board, step by step.

A network file (:mod:`derive.network.spec`) describes conv, act, maxpool, avgpool, flatten,
dense and loss layers; :func:`network_gradient` derives ∂L/∂(one element) with the chain
rule written out and checks the number against torch autograd in float64.

>>> net = load_network("examples/hw2-2024-net.toml")  # doctest: +SKIP
>>> network_gradient(net, "conv1.w[0,0,1,1]", values=random_values(net, 0)).value  # doctest: +SKIP
"""

from __future__ import annotations

from derive.network.derivation import NetworkGradient, all_network_gradients, network_gradient
from derive.network.render import render_network_table_latex, render_network_table_text
from derive.network.spec import LAYER_TYPES, Layer, Network, load_network, network_from_dict, parse_network
from derive.network.values import check_values, load_values, random_values, resolve_wrt

__all__ = [
    "LAYER_TYPES",
    "Layer",
    "Network",
    "NetworkGradient",
    "all_network_gradients",
    "check_values",
    "load_network",
    "load_values",
    "network_from_dict",
    "network_gradient",
    "parse_network",
    "random_values",
    "render_network_table_latex",
    "render_network_table_text",
    "resolve_wrt",
]
