"""What the page tells a reader about each box: details for the viewer, and the summary table.

Pipeline step *graph → details* (trace → graph → **details** → write).  Pure
Python over :mod:`sphinx_netviz.ir`: for every call drawn in some layout, its
path, class, hyper-parameters, shapes, parameters and multiply-accumulates
(MACs, summed over a module's calls where its own are not defined) and its
*link*, the stable name of its box in a page's URL fragments
(:func:`call_links`); and the rows of a torchinfo-style table of the model's
layers.
"""

from __future__ import annotations

from collections import defaultdict
from .fold import Run
from .ir import Call, Trace, module_depth
from .viewer_data import CallDetails, SummaryRow


def _tensor_text(trace: Trace, tid: int) -> str:
    meta = trace.tensors[tid]
    return f"{meta.shape_text()} {meta.dtype}"


def subtree_macs(trace: Trace) -> dict[int, int | None]:
    """MACs per call: its own where defined, else the sum over the calls inside it."""
    children: dict[int | None, list[Call]] = defaultdict(list)
    for call in trace.calls:
        children[call.parent].append(call)
    total: dict[int, int | None] = {}
    for call in sorted(trace.calls, key=lambda c: -c.id):  # children first
        if call.macs is not None:
            total[call.id] = call.macs
            continue
        inner = [total[c.id] for c in children[call.id] if total.get(c.id) is not None]
        total[call.id] = sum(inner) if inner else None  # type: ignore[arg-type]
    return total


def call_links(trace: Trace) -> dict[int, str]:
    """Each call's link, the part of a layer's URL fragment after the diagram's anchor.

    A module: its attribute path (``layers.3.self_attn``; ``""`` for the root).  A functional
    operation: ``<scope>.<op>``, where the scope is the path of the module it runs in (no
    prefix at the root), with ``-<k>`` for the k-th call (k >= 2) of that op directly in
    that scope, in run order (``view``, ``layers.0.add``, ``layers.0.add-2``).  Counted over
    every call of the trace, so a link does not depend on the depths drawn.
    """
    by_id = {call.id: call for call in trace.calls}
    seen: dict[tuple[str, str], int] = defaultdict(int)
    links: dict[int, str] = {}
    for call in sorted(trace.calls, key=lambda c: c.id):  # ids are in run (start) order
        if call.kind == "module":
            links[call.id] = call.name
            continue
        parent = by_id.get(call.parent) if call.parent is not None else None
        scope = parent.name if parent is not None and parent.kind == "module" else ""
        seen[scope, call.name] += 1
        count = seen[scope, call.name]
        links[call.id] = (f"{scope}." if scope else "") + call.name + (f"-{count}" if count > 1 else "")
    return links


def call_details(trace: Trace, call_ids: set[int], runs: list[Run]) -> dict[str, CallDetails]:
    """Details of the given calls, keyed by call id (as in the SVG ids ``n<id>``/``c<id>``)."""
    macs = subtree_macs(trace)
    links = call_links(trace)
    has_child_module = {c.parent for c in trace.calls if c.kind == "module"}
    run_of = {run.first.id: run for run in runs}
    out: dict[str, CallDetails] = {}
    for call in trace.calls:
        if call.id not in call_ids:
            continue
        run = run_of.get(call.id)
        entry: CallDetails = {
            "kind": call.kind,
            "path": call.name if call.kind == "module" else "",
            "class": call.name if call.kind == "function" else trace.modules[call.name].class_name,
            "qualname": trace.modules[call.name].qualname if call.kind == "module" else "",
            "hparams": trace.modules[call.name].hparams if call.kind == "module" else "",
            "in": [_tensor_text(trace, t) for t in call.inputs],
            "out": [_tensor_text(trace, t) for t in call.outputs],
            "params": trace.modules[call.name].param_count if call.kind == "module" else 0,
            "macs": macs.get(call.id),
            "depth": module_depth(call.name) if call.kind == "module" else None,
            "repeat": len(run.calls) if run else 1,
            "paths": [c.name for c in run.calls] if run else [],
            "expandable": call.kind == "module" and call.id in has_child_module,
            "link": links[call.id],
        }
        out[str(call.id)] = entry
    return out


def summary_rows(trace: Trace) -> list[SummaryRow]:
    """One row per layer call (a module that calls no other module), in the order they ran."""
    has_child_module = {c.parent for c in trace.calls if c.kind == "module"}
    macs = subtree_macs(trace)
    rows: list[SummaryRow] = []
    for call in sorted(trace.calls, key=lambda c: c.id):
        if call.kind != "module" or call.id in has_child_module or call.name == "":
            continue
        info = trace.modules[call.name]
        rows.append({
            "path": call.name + (f" (call {call.repeat + 1})" if call.repeat else ""),
            "class": info.class_name,
            "qualname": info.qualname,
            "out": ", ".join(trace.tensors[t].shape_text() for t in call.outputs),
            # parameters count once, at a module's first call
            "params": info.param_count if not call.repeat else 0,
            "macs": macs.get(call.id),
        })
    return rows
