"""``:color-by:``: each module box's share of the model's parameters or MACs, as one of five shades.

Pipeline step *graph → DOT* (graph → **shading** → dot).  Pure Python over
:mod:`sphinx_netviz.ir` and :mod:`sphinx_netviz.graph`: :func:`shading_of`
reads the cost of every module call from a trace (its parameters, or the
multiply-accumulates of its whole subtree, as the summary table counts them),
and :meth:`Shading.boxes` gives each module box of a diagram its step,
``1`` (under 1 %) to ``5`` (50 % and more).  A box stands for every module it
draws: a folded run ``blocks.0 … blocks.11 ×12`` counts all twelve blocks, and
so does a box inside a folded cluster.  :mod:`sphinx_netviz.dot` draws the
steps (:data:`sphinx_netviz.palette.SHADES`) and the legend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .graph import Diagram, DiagramCluster, DiagramNode
from .ir import Trace

ColorBy = Literal["none", "params", "macs"]
#: the values of ``:color-by:``
COLOR_BY: tuple[ColorBy, ...] = ("none", "params", "macs")
#: the lower bound of each step above the first, in per cent of the model's total
BOUNDS: tuple[int, ...] = (1, 5, 20, 50)
#: what each step means, as the legend writes it
LABELS: tuple[str, ...] = ("< 1 %", "1–5 %", "5–20 %", "20–50 %", "≥ 50 %")
#: what is counted, as the legend and the tooltips name it
COUNTED: dict[str, str] = {"params": "parameters", "macs": "MACs"}


@dataclass(frozen=True)
class Shading:
    """What the boxes of one model are shaded by: each module call's cost and the model's total."""

    by: ColorBy
    #: call id -> the cost of that one call of a module (its whole subtree)
    costs: Mapping[int, int]
    #: the whole model's cost (more than 0)
    total: int

    @property
    def what(self) -> str:
        """``parameters`` or ``MACs``."""
        return COUNTED[self.by]

    @property
    def title(self) -> str:
        """The legend's title."""
        return f"Share of the model's {self.what}"

    def boxes(self, diagram: Diagram) -> dict[str, tuple[int, float]]:
        """Each module box's step (``1`` to ``len(LABELS)``) and share of the total (0 to 1), by box id."""
        clusters = {c.id: c for c in diagram.clusters}
        out = {}
        for node in diagram.nodes:
            if node.kind != "module" or not node.id[1:].isdigit():
                continue
            copies, cluster = self._copies(node), clusters.get(node.cluster or "")
            while cluster is not None:  # a box inside a folded cluster is drawn once for all its blocks
                copies *= self._copies(cluster)
                cluster = clusters.get(cluster.parent or "")
            cost = self.costs.get(int(node.id[1:]), 0) * copies
            # whole numbers: a share on a bound falls on the same side everywhere
            step = 1 + sum(cost * 100 >= bound * self.total for bound in BOUNDS)
            out[node.id] = (step, cost / self.total)
        return out

    def _copies(self, drawn: DiagramNode | DiagramCluster) -> int:
        """How many blocks a box or cluster stands for: every call of a folded run for MACs; for
        parameters, every module of it (one module called again and again has its parameters once)."""
        if self.by == "params" and drawn.paths:
            return len(set(drawn.paths))
        return drawn.repeat


def shading_of(trace: Trace, by: str) -> Shading | None:
    """How ``trace``'s boxes are shaded by ``by`` (``params`` or ``macs``); None for ``none``, or
    when the model has nothing to share out (no parameters, no MACs counted)."""
    if by == "params":
        modules = trace.modules
        costs = {c.id: modules[c.name].param_count for c in trace.calls if c.kind == "module"}
        total = modules[""].param_count if "" in modules else 0
    elif by == "macs":
        from .details import subtree_macs

        macs = subtree_macs(trace)
        costs = {c.id: macs.get(c.id) or 0 for c in trace.calls if c.kind == "module"}
        # the model's MACs: its root call's, or, for a trace without one, the outermost calls'
        total = sum(macs.get(c.id) or 0 for c in trace.calls if c.parent is None)
    else:
        return None
    return Shading(by, costs, total) if total > 0 else None  # type: ignore[arg-type]


def nothing_to_shade(by: str) -> str:
    """The warning for a model that has none of what ``by`` counts: its boxes keep their family's colours."""
    from .options import say  # the option model imports this module

    counted = " (MACs are counted for convolutions, linear layers, attention and matrix products)" \
        if by == "macs" else ""
    other = "params" if by == "macs" else "none"
    return (f"{say('color_by', by)}: the model has no {COUNTED[by]} to share out{counted}, so its boxes "
            f"are drawn in their layer family's colours; set {say('color_by', other)}")
