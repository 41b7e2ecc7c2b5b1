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


# -- names shaped like DOT (sphinx_netviz.dot quotes them) ---------------------
#
# python-graphviz passes a value that starts with "<" and ends with ">" through
# unquoted, as an HTML-like label: under an attribute named DOT_ATTRIBUTE, a
# class named DOT_CLASS once made the cluster label "<x> comment=<: > URL=… <z>",
# which Graphviz read as two HTML strings and a URL attribute, so the cluster
# became a javascript: link.

DOT_CLASS = '> URL="javascript:alert(document.domain)" comment=<z>'
DOT_ATTRIBUTE = "<x> comment=<"
#: an extra_repr that is a whole HTML-like label with a link
DOT_HPARAMS = '<<TABLE HREF="javascript:alert(1)"><TR><TD>x</TD></TR></TABLE>>'
#: attribute name -> class name: quotes that end the string, DOT escapes, braces and
#: statement ends, an edge, line breaks
DOT_NAMES = {
    'say"hi" URL="javascript:alert(5)': "Back\\slash \\N \\G \\l \\",
    "}{ ]; -> x": '"; URL="javascript:alert(6)" x="',
    "line\nbreak": "Tab\tand\nnewline",
}
#: a function's ``__name__`` (the recorder names functional ops by it) and an output key
DOT_FUNCTION = '<f> URL="javascript:alert(7)" comment=<'
DOT_OUTPUT = '<o> URL="javascript:alert(8)" comment=<'


class Table(nn.Module):
    """A layer whose hyper-parameters are an HTML-like table with a link."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2

    def extra_repr(self) -> str:
        return DOT_HPARAMS


def _dot_block_init(self) -> None:
    nn.Module.__init__(self)
    self.fc = nn.Linear(4, 4)
    self.table = Table()


#: a block (so its class name is also a cluster label) named DOT_CLASS
DotBlock = type(DOT_CLASS, (nn.Module,), {
    "__init__": _dot_block_init,
    "forward": lambda self, x: self.table(self.fc(x)),
})


def dot_function(x: torch.Tensor) -> torch.Tensor:
    """``x + 1``, recorded under the name DOT_FUNCTION."""
    if torch.overrides.has_torch_function((x,)):
        return torch.overrides.handle_torch_function(dot_function, (x,), x)
    return x + 1


dot_function.__name__ = DOT_FUNCTION


class DotHostileNet(nn.Module):
    """A linear stem, the DOT_CLASS block, three layers with DOT_NAMES, dot_function;
    its output is a dict with a DOT_OUTPUT key."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Linear(4, 4)
        setattr(self, DOT_ATTRIBUTE, DotBlock())
        for attribute, class_name in DOT_NAMES.items():
            setattr(self, attribute, type(class_name, (nn.Module,), {"forward": lambda self, x: x * 3})())

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = getattr(self, DOT_ATTRIBUTE)(self.stem(x))
        for attribute in DOT_NAMES:
            x = getattr(self, attribute)(x)
        x = dot_function(x)
        return {DOT_OUTPUT: x, "plain": x * 2}


# -- size ----------------------------------------------------------------------

class ManyBlocks(nn.Sequential):
    """1,400 identical Linear(4, 4) + ReLU blocks: the tooltip of the folded block once
    listed every path and passed Graphviz's limit of 16,384 bytes per string."""

    def __init__(self, blocks: int = 1400) -> None:
        super().__init__(*(nn.Sequential(nn.Linear(4, 4), nn.ReLU()) for _ in range(blocks)))
