"""Draw an architecture diff: two traced sides → one merged drawing in the usual viewer.

Pipeline step *diff → layouts* (snapshots → archdiff → merge → **diffdraw** →
layouts → views).  Nothing is traced here: each side is a trace already made
(by a drawing job, or read back from a snapshot file), so a diff costs its
comparison, which is cheap, and one set of Graphviz layouts of the merged
trace (:mod:`sphinx_netviz.merge`) with its marks.  Two identical
architectures are drawn as the new model plainly, without marks or legend.
The viewer's data gets, for each marked call, ``diff``: its kind and what
changed (``old → new``).  No torch, no Sphinx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .archdiff import ArchDiff, compare
from .artifacts import Artifacts, Problem
from .bounds import bounded_viewer_data
from .fold import find_runs
from .ir import Trace
from .layouts import LayoutSettings, lay_out_depths
from .limits import Budget
from .merge import Merged, merged_trace
from .shading import nothing_to_shade, shading_of
from .snapshot import Snapshot
from .spec import DiagramSpec
from .views import viewer_details

__all__ = ["DiffDrawing", "draw_diff"]


@dataclass
class DiffDrawing:
    """A drawn architecture diff: its artifacts (as any drawing's), the changes and the merged trace."""

    artifacts: Artifacts
    diff: ArchDiff
    merged: Merged | None


def draw_diff(old: tuple[Snapshot, Trace], new: tuple[Snapshot, Trace], spec: DiagramSpec,
              dot: str = "dot", layout_timeout: float = 30.0, *, id_prefix: str = "nv",
              budget: Budget | None = None) -> DiffDrawing:
    """The merged drawing of two sides (each its snapshot and trace), drawn as ``spec`` says
    (depth, direction, folding, shading; its target is not used)."""
    diff = compare(old[0], new[0])
    merged = merged_trace(old[1], new[1], diff) if diff.changed else None
    trace = merged.trace if merged is not None else new[1]
    runs = find_runs(trace) if spec.fold else []
    shading = shading_of(trace, spec.color_by)
    laid_out = lay_out_depths(trace, runs, LayoutSettings(
        spec.depth, spec.direction, id_prefix, dot, layout_timeout, shading=shading, marks=merged), budget)
    if shading is None and spec.color_by != "none":
        laid_out.problems.append(Problem("render", nothing_to_shade(spec.color_by)))
    details: dict[str, Any] = dict(viewer_details(trace, id_prefix, laid_out.depth, laid_out.by_depth,
                                                  laid_out.shown, runs, laid_out.omitted))
    if merged is not None:
        calls = details["calls"]
        for cid, kind in merged.kinds.items():
            if str(cid) in calls:
                calls[str(cid)] = {**calls[str(cid)], "diff": {"kind": kind, "what": list(merged.what.get(cid, ()))}}
    artifacts = Artifacts(
        svg=laid_out.svg, dot=laid_out.source, onnx=None, onnx_mode=None, sources=[],
        model_name=trace.model_name, node_count=len(laid_out.diagram.nodes), depth=laid_out.depth,
        device="meta", layouts=laid_out.by_depth, details=bounded_viewer_data(details),  # type: ignore[arg-type]
        problems=laid_out.problems, notes=laid_out.notes,
    )
    return DiffDrawing(artifacts, diff, merged)
