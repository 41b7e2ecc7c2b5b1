"""The other depths and the box details that the page's viewer switches between.

Pipeline step *render → views* (graph → render → **views** → write).  The
directive's diagram is one depth; expanding and collapsing in the page swaps
in a real Graphviz layout of another depth, laid out here at build time
(Graphviz cannot run in the browser without a large WASM).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dot import to_dot
from .errors import LayoutTimeout, RenderProblem
from .fold import Run
from .graph import Diagram, build_diagram
from .ir import Trace, module_depth
from .limits import MAX_INLINE_BYTES, MAX_LAYOUT_BOXES, MB, Budget
from .render import run_dot
from .svgsafe import sanitized_svg_file
from .spec import DiagramSpec

if TYPE_CHECKING:
    from .pipeline import PipelineSettings

#: the deepest level laid out for the page's expand/collapse controls
MAX_VIEW_DEPTH = 8


class LayoutTooBig(RenderProblem):
    """A depth that is not laid out: too many boxes, or an SVG too big for the page."""


def lay_out(trace: Trace, depth: int, direction: str, id_prefix: str, runs: list[Run], dot: str,
            timeout: float) -> tuple[bytes, str, Diagram]:
    """One depth's SVG (sanitized), DOT source and diagram; the one layout loop of the pipeline.

    Raises :class:`LayoutTooBig` before running Graphviz on more than
    ``MAX_LAYOUT_BOXES`` boxes, or after, for an SVG over
    ``MAX_INLINE_BYTES``; :class:`~sphinx_netviz.errors.LayoutTimeout` past ``timeout``.
    """
    diagram = build_diagram(trace, depth, runs=runs)
    boxes = len(diagram.nodes)
    if boxes > MAX_LAYOUT_BOXES:
        raise LayoutTooBig(f"depth {depth} has {boxes:,} boxes, more than the {MAX_LAYOUT_BOXES:,} "
                           "Graphviz can lay out in reasonable time")
    timed_out = LayoutTimeout(f"Graphviz did not lay out depth {depth} ({boxes} boxes) within {timeout:.3g} s")
    if timeout <= 0:
        raise timed_out
    source = to_dot(diagram, direction, id_prefix)
    try:
        svg = sanitized_svg_file(run_dot(source, "svg", dot, timeout))
    except LayoutTimeout:
        raise timed_out from None
    if len(svg) > MAX_INLINE_BYTES:
        raise LayoutTooBig(f"the SVG of depth {depth} is {len(svg) / MB:.1f} MB, more than the "
                           f"{MAX_INLINE_BYTES / MB:g} MB a page may inline")
    return svg, source, diagram


def deepest_level(trace: Trace) -> int:
    """The depth of the deepest module called: drawing deeper shows nothing more."""
    return max((module_depth(c.name) for c in trace.calls if c.kind == "module"), default=0)


def _shown_calls(diagram: Diagram) -> set[int]:
    ids = [n.id for n in diagram.nodes if n.kind in ("module", "function")] + [c.id for c in diagram.clusters]
    return {int(i[1:]) for i in ids}


def other_depths(trace: Trace, spec: DiagramSpec, settings: PipelineSettings, id_prefix: str,
                 drawn_depth: int, drawn_svg: bytes, drawn: Diagram, runs: list[Run],
                 budget: Budget | None = None,
                 share: float = 1.0) -> tuple[dict[int, bytes], set[int], list[int]]:
    """Layouts of the other depths, for expanding and collapsing in the page; and those left out.

    A depth that draws the same boxes as a shallower one (an ``nn.ModuleList``
    adds a level that is never called) is skipped.  A depth that cannot be
    laid out in time, has too many boxes, or would take the page's inline
    SVG over ``MAX_INLINE_BYTES`` is left out, and so is every deeper one
    (it would be bigger); the left-out depths are returned so that the page
    can say so.  The layouts share ``share`` of the budget left.
    """
    budget = budget or Budget()
    deepest = deepest_level(trace)
    layouts, shown = {drawn_depth: drawn_svg}, _shown_calls(drawn)
    seen = {_drawing_key(drawn)}
    total = len(drawn_svg)
    omitted: list[int] = []
    for depth in range(min(deepest, MAX_VIEW_DEPTH) + 1):
        if depth == drawn_depth:
            continue
        if omitted and depth > omitted[0]:
            omitted.append(depth)
            continue
        diagram = build_diagram(trace, depth, runs=runs)
        if _drawing_key(diagram) in seen:
            continue
        try:
            svg, _, diagram = lay_out(trace, depth, spec.direction, id_prefix, runs, settings.dot,
                                      budget.seconds(settings.layout_timeout, share))
            if total + len(svg) > MAX_INLINE_BYTES:
                raise LayoutTooBig("the page's inline SVG would be too big")
        except RenderProblem as exc:
            budget.ran_out |= isinstance(exc, LayoutTimeout)
            omitted.append(depth)
            continue
        seen.add(_drawing_key(diagram))
        layouts[depth] = svg
        total += len(svg)
        shown |= _shown_calls(diagram)
    return dict(sorted(layouts.items())), shown, omitted


def _drawing_key(diagram: Diagram) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(n.id for n in diagram.nodes), frozenset(c.id for c in diagram.clusters)


def viewer_details(trace: Trace, id_prefix: str, depth: int, layouts: dict[int, bytes],
                   shown: set[int], runs: list[Run], omitted: list[int] | None = None) -> dict[str, Any]:
    """The JSON the page's viewer reads: every drawn call's details, the summary table."""
    from .details import call_details, subtree_macs, summary_rows

    root = next((c for c in trace.calls if c.kind == "module" and c.name == ""), None)
    return {
        "prefix": id_prefix, "model": trace.model_name, "depth": depth, "depths": sorted(layouts),
        "omitted": sorted(omitted or []),
        "calls": call_details(trace, shown, runs),
        "rows": summary_rows(trace),
        "totals": {"params": trace.modules[""].param_count,
                   "macs": subtree_macs(trace).get(root.id) if root else None},
    }
