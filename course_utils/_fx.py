"""The course's functions as single nodes of a torch.fx graph.

``torch.fx.symbolic_trace`` (and torchvision's feature extraction, built on it) runs ``forward``
with ``Proxy`` objects in place of tensors. The argument checks of :func:`dropout_layer` and
its kin would refuse a Proxy ("X must be a torch.Tensor, got Proxy"), and a mask cannot be drawn
from one. So each such function first asks :func:`graph_node`: while tracing, the whole call
becomes one node, and the checks run when the traced graph runs, on real tensors. This is what
``torch.fx.wrap`` does for torchvision's ``stochastic_depth``, but it works wherever the call
is made, in the course's modules or in a student's own.
"""

from __future__ import annotations

from collections.abc import Callable

from torch.fx import Proxy  # imported by `import torch` already: no cost


def graph_node(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)`` recorded as one call in the graph being traced, when an argument
    is a torch.fx Proxy; ``None`` otherwise (the caller then computes as usual).

    >>> import torch
    >>> graph_node(torch.relu, torch.ones(1)) is None
    True
    """
    for value in (*args, *kwargs.values()):
        if isinstance(value, Proxy):
            return value.tracer.create_proxy("call_function", fn, args, kwargs)
    return None
