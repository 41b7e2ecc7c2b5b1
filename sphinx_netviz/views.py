"""The other depths and the box details that the page's viewer switches between.

Pipeline step *render → views* (graph → render → **views** → write).  The
directive's diagram is one depth; expanding and collapsing in the page swaps
in a real Graphviz layout of another depth, laid out here at build time
(Graphviz cannot run in the browser without a large WASM).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dot import to_dot
from .errors import RenderProblem
from .fold import Run
from .graph import Diagram, build_diagram
from .ir import Trace, module_depth
from .render import run_dot
from .spec import DiagramSpec

if TYPE_CHECKING:
    from .pipeline import PipelineSettings

#: the deepest level laid out for the page's expand/collapse controls
MAX_VIEW_DEPTH = 8


def _shown_calls(diagram: Diagram) -> set[int]:
    ids = [n.id for n in diagram.nodes if n.kind in ("module", "function")] + [c.id for c in diagram.clusters]
    return {int(i[1:]) for i in ids}


def other_depths(trace: Trace, spec: DiagramSpec, settings: PipelineSettings, id_prefix: str,
                 drawn_depth: int, drawn_svg: bytes, drawn: Diagram,
                 runs: list[Run]) -> tuple[dict[int, bytes], set[int]]:
    """Layouts of the other depths, for expanding and collapsing in the page.

    A depth that draws the same boxes as a shallower one (an ``nn.ModuleList``
    adds a level that is never called) is left out; a depth Graphviz cannot
    lay out in time ends the list (a deeper one would take longer).
    """
    deepest = max((module_depth(c.name) for c in trace.calls if c.kind == "module"), default=0)
    layouts, shown = {drawn_depth: drawn_svg}, _shown_calls(drawn)
    seen = {_drawing_key(drawn)}
    for depth in range(min(deepest, MAX_VIEW_DEPTH) + 1):
        if depth == drawn_depth:
            continue
        diagram = build_diagram(trace, depth, runs=runs)
        if _drawing_key(diagram) in seen:
            continue
        seen.add(_drawing_key(diagram))
        try:
            layouts[depth] = run_dot(to_dot(diagram, spec.direction, id_prefix), "svg",
                                     settings.dot, settings.layout_timeout)
        except RenderProblem:
            break
        shown |= _shown_calls(diagram)
    return dict(sorted(layouts.items())), shown


def _drawing_key(diagram: Diagram) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(n.id for n in diagram.nodes), frozenset(c.id for c in diagram.clusters)


def viewer_details(trace: Trace, id_prefix: str, depth: int, layouts: dict[int, bytes],
                   shown: set[int], runs: list[Run]) -> dict[str, Any]:
    """The JSON the page's viewer reads: every drawn call's details, the summary table."""
    from .details import call_details, subtree_macs, summary_rows

    root = next((c for c in trace.calls if c.kind == "module" and c.name == ""), None)
    return {
        "prefix": id_prefix, "model": trace.model_name, "depth": depth, "depths": sorted(layouts),
        "calls": call_details(trace, shown, runs),
        "rows": summary_rows(trace),
        "totals": {"params": trace.modules[""].param_count,
                   "macs": subtree_macs(trace).get(root.id) if root else None},
    }
