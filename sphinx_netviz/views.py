"""What the page's viewer knows about a drawing: every drawn call's details and the summary table.

Pipeline step *views* (layouts → **views** → write).  The data is JSON-ready;
its schema is :class:`~sphinx_netviz.viewer_data.ViewerData`.
"""

from __future__ import annotations

from .fold import Run
from .ir import Trace
from .viewer_data import ViewerData


def viewer_details(trace: Trace, id_prefix: str, depth: int, layouts: dict[int, bytes],
                   shown: set[int], runs: list[Run], omitted: list[int] | None = None) -> ViewerData:
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
