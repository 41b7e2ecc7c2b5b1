"""Turn a recorded forward pass into the boxes, clusters and edges to draw.

Pipeline step *graph* (trace → **graph** → render/export).  Pure Python over
:mod:`sphinx_netviz.ir`: choose which module calls are boxes at the requested
depth, which become clusters, which functional ops are shown, and connect
them by following each tensor from the node that produced it to every node
that used it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .ir import Call, Trace, module_depth

NodeKind = Literal["module", "function", "input", "output"]


@dataclass
class DiagramNode:
    id: str
    kind: NodeKind
    title: str
    class_name: str = ""
    qualname: str = ""
    hparams: str = ""
    param_count: int = 0
    cluster: str | None = None
    in_shapes: list[str] = field(default_factory=list)
    out_shapes: list[str] = field(default_factory=list)


@dataclass
class DiagramCluster:
    id: str
    path: str
    class_name: str
    parent: str | None


@dataclass(frozen=True)
class DiagramEdge:
    src: str
    dst: str
    label: str


@dataclass
class Diagram:
    name: str
    nodes: list[DiagramNode]
    clusters: list[DiagramCluster]
    edges: list[DiagramEdge]

    def node(self, node_id: str) -> DiagramNode:
        return next(n for n in self.nodes if n.id == node_id)


def _call_label(call: Call) -> str:
    suffix = f"#{call.repeat + 1}" if call.repeat else ""
    return (call.name or "<root>") + suffix


def build_diagram(trace: Trace, depth: int, *, fold: bool = True) -> Diagram:
    """The diagram of ``trace`` with modules expanded down to ``depth`` levels."""
    by_id = {c.id: c for c in trace.calls}
    has_child_module = {c.parent for c in trace.calls if c.kind == "module"}

    # What each call becomes: "node", "cluster", "root" (expanded root), or hidden.
    role: dict[int, str] = {}
    for call in sorted(trace.calls, key=lambda c: c.id):
        parent_role = role.get(call.parent) if call.parent is not None else "top"
        if parent_role in ("node", "hidden"):
            role[call.id] = "hidden"
        elif call.kind == "function":
            role[call.id] = "node" if parent_role in ("cluster", "root") else "hidden"
        elif module_depth(call.name) < depth and call.id in has_child_module:
            role[call.id] = "root" if call.name == "" else "cluster"
        else:
            role[call.id] = "node"

    def cluster_of(call: Call) -> str | None:
        parent = by_id.get(call.parent) if call.parent is not None else None
        while parent is not None and role[parent.id] != "cluster":
            parent = by_id.get(parent.parent) if parent.parent is not None else None
        return f"c{parent.id}" if parent is not None else None

    nodes: dict[str, DiagramNode] = {}
    clusters: list[DiagramCluster] = []
    edges: dict[DiagramEdge, None] = {}
    producer: dict[int, str] = {}
    consumers: dict[str, set[str]] = {}

    for i, (name, tid) in enumerate(trace.inputs):
        node_id = f"in{i}"
        meta = trace.tensors[tid]
        nodes[node_id] = DiagramNode(node_id, "input", name, out_shapes=[f"{meta.shape_text()} {meta.dtype}"])
        producer[tid] = node_id

    for call in sorted(trace.calls, key=lambda c: c.id):
        if role[call.id] == "cluster":
            info = trace.modules[call.name]
            clusters.append(DiagramCluster(f"c{call.id}", _call_label(call), info.class_name, cluster_of(call)))

    for call in trace.calls:  # finishing order: producers before consumers
        if role[call.id] != "node":
            continue
        node_id = f"n{call.id}"
        shapes_in = [trace.tensors[t].shape_text() for t in call.inputs]
        shapes_out = [trace.tensors[t].shape_text() for t in call.outputs]
        if call.kind == "module":
            info = trace.modules[call.name]
            node = DiagramNode(node_id, "module", _call_label(call), info.class_name, info.qualname,
                               info.hparams, info.param_count, cluster_of(call), shapes_in, shapes_out)
        else:
            node = DiagramNode(node_id, "function", call.name, cluster=cluster_of(call),
                               in_shapes=shapes_in, out_shapes=shapes_out)
        nodes[node_id] = node
        for tid in call.inputs:
            src = producer.get(tid)
            if src is not None and src != node_id:
                edges[DiagramEdge(src, node_id, trace.tensors[tid].shape_text())] = None
                consumers.setdefault(src, set()).add(node_id)
        for tid in call.outputs:
            producer[tid] = node_id

    for i, (name, tid) in enumerate(trace.outputs):
        node_id = f"out{i}"
        meta = trace.tensors[tid]
        nodes[node_id] = DiagramNode(node_id, "output", name, in_shapes=[f"{meta.shape_text()} {meta.dtype}"])
        src = producer.get(tid)
        if src is not None:
            edges[DiagramEdge(src, node_id, meta.shape_text())] = None
            consumers.setdefault(src, set()).add(node_id)

    # Drop functional ops whose results nothing visible used (dead ends).
    dead = {nid for nid, n in nodes.items() if n.kind == "function" and not consumers.get(nid)}
    while dead:
        for nid in dead:
            del nodes[nid]
        kept = {e: None for e in edges if e.dst not in dead}
        edges = kept
        for users in consumers.values():
            users -= dead
        dead = {nid for nid, n in nodes.items() if n.kind == "function" and not consumers.get(nid)}

    used_clusters = {n.cluster for n in nodes.values()}
    by_cid = {c.id: c for c in clusters}
    for cid in list(used_clusters):
        parent = by_cid[cid].parent if cid in by_cid else None
        while parent is not None:
            used_clusters.add(parent)
            parent = by_cid[parent].parent
    clusters = [c for c in clusters if c.id in used_clusters]

    return Diagram(trace.model_name, list(nodes.values()), clusters, list(edges))
