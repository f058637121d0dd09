r"""derive.network: gradients of any small network a lecturer writes on the board, step by step.

A network file (:mod:`derive.network.spec`) describes conv, act, maxpool, avgpool, flatten,
dense and loss layers; :func:`network_gradient` derives ∂L/∂(one element) with the chain
rule written out and checks the number against torch autograd in float64.

>>> net = parse_network('input = [1, 3, 3]\n[[layer]]\ntype = "maxpool"\nsize = 3\n[[layer]]\ntype = "flatten"\n'
...                     '[[layer]]\ntype = "loss"\nfn = "half-mse"\n')
>>> values = {"x": [[[0, 1, 0], [0, 0, 5], [0, 0, 0]]], "y": [1]}
>>> network_gradient(net, "x[0,1,2]", values=values, check=False).value  # the window's maximum gets ŷ − y
4.0
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
