"""derive: symbolic backpropagation answer keys, checked against torch autograd."""

from derive.errors import DeriveError

__all__ = ["DeriveError"]
