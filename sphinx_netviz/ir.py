"""The recorded forward pass: plain data, no torch objects.

Written by :mod:`sphinx_netviz.trace`, read by :mod:`sphinx_netviz.graph`.
Keeping it free of torch lets the graph and render stages be tested and
cached without the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class TensorMeta:
    """Shape and dtype of one tensor that flowed through the forward pass."""

    shape: tuple[int, ...]
    dtype: str

    def shape_text(self) -> str:
        """``16×3×512×512`` (``scalar`` for a 0-d tensor)."""
        return "×".join(str(d) for d in self.shape) if self.shape else "scalar"


@dataclass(frozen=True)
class ModuleInfo:
    """One module of the model's tree, described once however often it is called."""

    path: str
    class_name: str
    qualname: str
    hparams: str
    param_count: int
    children: tuple[str, ...] = ()
    #: the module's own parameters (not its children's): name, shape, dtype
    param_shapes: tuple[tuple[str, tuple[int, ...], str], ...] = ()

    @property
    def depth(self) -> int:
        return module_depth(self.path)


@dataclass
class Call:
    """One module call or functional operation, in the order it started."""

    id: int
    kind: Literal["module", "function"]
    name: str
    parent: int | None
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    #: 0 for the first call of a module, 1 for its second, ...
    repeat: int = 0
    #: multiply-accumulates of this call alone, where well defined (conv, linear, attention)
    macs: int | None = None


@dataclass
class Trace:
    """What one forward pass of one model did with its example inputs."""

    model_name: str
    modules: dict[str, ModuleInfo]
    #: calls in the order they *finished* (children before their parent)
    calls: list[Call]
    tensors: dict[int, TensorMeta]
    inputs: list[tuple[str, int]]
    outputs: list[tuple[str, int]]


def module_depth(path: str) -> int:
    """0 for the root module, 1 for ``conv``, 2 for ``conv.0``."""
    return 0 if path == "" else path.count(".") + 1


def deepest_level(trace: Trace) -> int:
    """The depth of the deepest module called: drawing deeper shows nothing more."""
    return max((module_depth(c.name) for c in trace.calls if c.kind == "module"), default=0)
