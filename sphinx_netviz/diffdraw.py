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
from .archdiff import ArchDiff, compare
from .artifacts import Artifacts
from .fold import find_runs
from .ir import Trace
from .limits import Budget
from .merge import Merged, merged_trace
from .pipeline import lay_out_trace
from .snapshot import Snapshot
from .spec import DiagramSpec

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
    laid_out, details = lay_out_trace(trace, find_runs(trace) if spec.fold else [], spec, dot, layout_timeout,
                                      id_prefix=id_prefix, budget=budget, marks=merged)
    if merged is not None:
        calls = details["calls"]
        for cid, kind in merged.kinds.items():
            if str(cid) in calls:
                calls[str(cid)] = {**calls[str(cid)], "diff": {"kind": kind, "what": list(merged.what.get(cid, ()))}}
    artifacts = Artifacts(
        svg=laid_out.svg, dot=laid_out.source, onnx=None, onnx_mode=None, sources=[],
        model_name=trace.model_name, node_count=len(laid_out.diagram.nodes), depth=laid_out.depth,
        device="meta", layouts=laid_out.by_depth, details=details,
        problems=laid_out.problems, notes=laid_out.notes,
    )
    return DiffDrawing(artifacts, diff, merged)
