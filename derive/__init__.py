"""derive: symbolic backpropagation answer keys, checked against torch autograd.

>>> from derive import Problem, gradient
>>> gradient(Problem(), "a00").wrt
'a00'
"""

from derive.engine import Gradient, all_gradients, gradient
from derive.errors import DeriveError
from derive.problem import Problem
from derive.steps import Derivation, Step
from derive.values import load_values, random_values

__all__ = [
    "Derivation",
    "DeriveError",
    "Gradient",
    "Problem",
    "Step",
    "all_gradients",
    "gradient",
    "load_values",
    "random_values",
]
