"""A model whose names and hyper-parameters are HTML: the viewer must show them as text.

``HostileNet`` holds a layer whose class ``__name__`` is an ``<img onerror>``
tag and whose ``extra_repr`` closes an attribute and opens a ``<script>``,
inside a container module whose class name closes an attribute and opens an
``<svg onload>``.  The browser tests check that none of them ever becomes an
element or runs.
"""

import torch
from torch import nn

HOSTILE_CLASS = "<img src=x onerror=alert(1)>"
HOSTILE_HPARAMS = '"><script>alert(2)</script>'
HOSTILE_CONTAINER = '"><svg onload=alert(3)>'


def _layer_init(self) -> None:
    nn.Module.__init__(self)
    self.scale = nn.Parameter(torch.ones(4, 1, 1))


def _container_init(self) -> None:
    nn.Module.__init__(self)
    self.conv = nn.Conv2d(3, 4, 3, padding=1)
    self.evil = HostileLayer()


#: a layer class named like an HTML tag (``type`` takes any string as a name)
HostileLayer = type(HOSTILE_CLASS, (nn.Module,), {
    "__init__": _layer_init,
    "forward": lambda self, x: x * self.scale,
    "extra_repr": lambda self: HOSTILE_HPARAMS,
})

#: a module with children, so that its class name is also a cluster label
HostileBlock = type(HOSTILE_CONTAINER, (nn.Module,), {
    "__init__": _container_init,
    "forward": lambda self, x: self.evil(self.conv(x)),
})


class HostileNet(nn.Module):
    """A convolution, the hostile block, a pooling layer and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 3, 1)
        self.block = HostileBlock()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(self.stem(x))
        return self.head(torch.flatten(self.pool(x), 1))
