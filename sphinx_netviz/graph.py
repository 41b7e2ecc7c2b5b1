"""Turn a recorded forward pass into the boxes, clusters and edges to draw.

Pipeline step *graph* (trace → fold → **graph** → dot).  Pure Python over
:mod:`sphinx_netviz.ir`: choose which module calls are boxes at the
requested depth, which become clusters, which functional ops are shown, fold
runs of repeated blocks (:mod:`sphinx_netviz.fold`), and connect the boxes by
following each tensor from the node that produced it to every node that used
it.  A tensor used by many boxes (an attention mask, rotary tables) gets one
real edge and a small reference box beside each other user, instead of a fan
of long edges that no layout can make readable or fast.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .fold import Run, find_runs
from .ir import Call, Trace, module_depth

NodeKind = Literal["module", "function", "input", "output", "ref"]
#: what a call becomes at one depth: a box, a cluster, the expanded model, or nothing (inside a box)
Role = Literal["node", "cluster", "root", "hidden"]

#: a tensor used by more boxes than this gets reference boxes instead of long edges
FANOUT_LIMIT = 3


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
    #: how many identical blocks this box stands for (1: just itself)
    repeat: int = 1
    #: module paths this box stands for, when it is a folded run
    paths: tuple[str, ...] = ()
    #: for a reference box: the box it feeds, drawn on the same rank beside it
    anchor: str | None = None


@dataclass
class DiagramCluster:
    id: str
    path: str
    class_name: str
    parent: str | None
    repeat: int = 1
    paths: tuple[str, ...] = ()


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


def _roles(trace: Trace, depth: int, runs: list[Run]) -> dict[int, Role]:
    """What each call becomes: ``node``, ``cluster``, ``root`` (the expanded model) or ``hidden``."""
    has_child_module = {c.parent for c in trace.calls if c.kind == "module"}
    folded_away = {c.id for run in runs for c in run.calls[1:]}
    role: dict[int, Role] = {}
    for call in sorted(trace.calls, key=lambda c: c.id):
        parent_role = role.get(call.parent) if call.parent is not None else "top"
        if parent_role in ("node", "hidden") or call.id in folded_away:
            role[call.id] = "hidden"
        elif call.kind == "function":
            role[call.id] = "node" if parent_role in ("cluster", "root") else "hidden"
        elif module_depth(call.name) < depth and call.id in has_child_module:
            role[call.id] = "root" if call.name == "" else "cluster"
        else:
            role[call.id] = "node"
    return role


class _Placement:
    """Where each call of the trace goes at one depth: its role, its cluster, the box it is drawn in."""

    def __init__(self, trace: Trace, depth: int, runs: list[Run]) -> None:
        self.trace = trace
        self.role = _roles(trace, depth, runs)
        self.by_id = {c.id: c for c in trace.calls}
        self.run_of = {run.first.id: run for run in runs}
        self.folded_into = {c.id: run.first.id for run in runs for c in run.calls[1:]}
        self._clusters: dict[int, int | None] = {}
        self._owners: dict[int, int | None] = {}

    def cluster_of(self, call: Call) -> str | None:
        """The cluster a call is drawn in: its nearest ancestor drawn as a cluster."""
        found = self._nearest(call.parent, self._clusters, lambda cid: self.role[cid] == "cluster", fold=False)
        return f"c{found}" if found is not None else None

    def owner(self, call: Call) -> str | None:
        """The box a hidden call is drawn inside (its nearest ancestor that is a box)."""
        found = self._nearest(call.id, self._owners, lambda cid: self.role[cid] == "node", fold=True)
        return f"n{found}" if found is not None else None

    def _nearest(self, start: int | None, memo: dict[int, int | None], wanted: Callable[[int], bool],
                 *, fold: bool) -> int | None:
        """The first call from ``start`` up its ancestors (a folded block read as its run's first,
        with ``fold``) that is ``wanted``.  Every call walked is remembered in ``memo``, so all the
        calls of a trace take time linear in its size, however deep its scopes."""
        walked: list[int] = []
        current, found = start, None
        while current is not None and current in self.by_id:
            if fold:
                current = self.folded_into.get(current, current)
            if current in memo:
                found = memo[current]
                break
            walked.append(current)
            if wanted(current):
                found = current
                break
            current = self.by_id[current].parent
        for cid in walked:
            memo[cid] = found
        return found


@dataclass
class _Wiring:
    """Which box produced each tensor and which boxes used it: the edges, before they are drawn."""

    #: the outputs of a run's last block are drawn as the outputs of its first
    alias: dict[int, int]
    producer: dict[int, str] = field(default_factory=dict)
    #: (producer, tensor) -> its consumers, in order
    uses: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    #: the (producer, tensor, consumer) triples in ``uses``, for a constant-time membership test
    _used: set[tuple[str, int, str]] = field(default_factory=set)

    def use(self, tid: int, consumer: str) -> None:
        src = self.producer.get(self.alias.get(tid, tid))
        if src is not None and src != consumer and (src, tid, consumer) not in self._used:
            self._used.add((src, tid, consumer))
            self.uses.setdefault((src, tid), []).append(consumer)


def build_diagram(trace: Trace, depth: int, *, fold: bool = True,
                  runs: list[Run] | None = None) -> Diagram:
    """The diagram of ``trace`` with modules expanded down to ``depth`` levels.

    ``runs`` are the trace's repeated blocks (:func:`~sphinx_netviz.fold.find_runs`),
    when the caller draws several depths of one trace; found here otherwise.
    """
    if runs is None:
        runs = find_runs(trace) if fold else []
    place = _Placement(trace, depth, runs)
    wiring = _Wiring({last: first for run in runs for first, last in zip(run.first.outputs, run.last.outputs)})
    nodes = _input_boxes(trace, wiring)
    clusters = _clusters(place)
    nodes.update(_call_boxes(place, wiring))
    nodes.update(_output_boxes(trace, wiring))
    _drop_dead_functions(nodes, wiring.uses)
    edges = _edges_with_references(nodes, wiring.uses, trace)
    return Diagram(trace.model_name, list(nodes.values()), _used_clusters(clusters, nodes), edges)


def _input_boxes(trace: Trace, wiring: _Wiring) -> dict[str, DiagramNode]:
    nodes = {}
    for i, (name, tid) in enumerate(trace.inputs):
        meta = trace.tensors[tid]
        nodes[f"in{i}"] = DiagramNode(f"in{i}", "input", name, out_shapes=[f"{meta.shape_text()} {meta.dtype}"])
        wiring.producer[tid] = f"in{i}"
    return nodes


def _clusters(place: _Placement) -> list[DiagramCluster]:
    """A cluster for every module call drawn expanded, in call order."""
    clusters = []
    for call in sorted(place.trace.calls, key=lambda c: c.id):
        if place.role[call.id] == "cluster":
            info, run = place.trace.modules[call.name], place.run_of.get(call.id)
            clusters.append(DiagramCluster(f"c{call.id}", run.label() if run else _call_label(call),
                                           info.class_name, place.cluster_of(call), len(run.calls) if run else 1,
                                           tuple(c.name for c in run.calls) if run else ()))
    return clusters


def _call_boxes(place: _Placement, wiring: _Wiring) -> dict[str, DiagramNode]:
    """A box for every call drawn as one, wired to the boxes whose tensors it used."""
    trace, nodes = place.trace, {}
    for call in trace.calls:  # finishing order: producers before consumers
        if place.role[call.id] == "hidden":
            # a tensor made inside a box and used outside it (a cache entry) comes from that box
            box = place.owner(call)
            for tid in call.outputs if box else ():
                wiring.producer.setdefault(wiring.alias.get(tid, tid), box)
        if place.role[call.id] != "node":
            continue
        node_id = f"n{call.id}"
        node = DiagramNode(node_id, "function", call.name, cluster=place.cluster_of(call),
                           in_shapes=[trace.tensors[t].shape_text() for t in call.inputs],
                           out_shapes=[trace.tensors[t].shape_text() for t in call.outputs])
        if call.kind == "module":
            info, run = trace.modules[call.name], place.run_of.get(call.id)
            node.kind, node.class_name, node.qualname = "module", info.class_name, info.qualname
            node.hparams, node.param_count = info.hparams, info.param_count
            node.title = run.label() if run else _call_label(call)
            if run:
                node.repeat, node.paths = len(run.calls), tuple(c.name for c in run.calls)
        nodes[node_id] = node
        for tid in call.inputs:
            wiring.use(tid, node_id)
        for tid in call.outputs:
            wiring.producer[tid] = node_id
    return nodes


def _output_boxes(trace: Trace, wiring: _Wiring) -> dict[str, DiagramNode]:
    nodes = {}
    for i, (title, members) in enumerate(_output_groups(trace.outputs)):
        metas = [trace.tensors[tid] for tid in members]
        shapes = sorted({f"{m.shape_text()} {m.dtype}" for m in metas})
        if len(members) > 1 and len(shapes) == 1:
            shapes = [f"{len(members)} × {shapes[0]}"]
        nodes[f"out{i}"] = DiagramNode(f"out{i}", "output", title, in_shapes=shapes)
        for tid in members:
            wiring.use(tid, f"out{i}")
    return nodes


def _used_clusters(clusters: list[DiagramCluster], nodes: dict[str, DiagramNode]) -> list[DiagramCluster]:
    """The clusters with a box inside, directly or in a nested cluster."""
    used = {n.cluster for n in nodes.values()}
    by_cid = {c.id: c for c in clusters}
    climbed: set[str] = set()  # clusters whose ancestors are all in ``used`` already
    for cid in list(used):
        while cid in by_cid and cid not in climbed:
            climbed.add(cid)
            parent = by_cid[cid].parent
            if parent is None:
                break
            used.add(parent)
            cid = parent
    return [c for c in clusters if c.id in used]


def _output_groups(outputs: list[tuple[str, int]]) -> list[tuple[str, list[int]]]:
    """Outputs that differ only by index (``cache.keys[0]`` … ``[11]``) share one box."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for name, tid in outputs:
        groups.setdefault(re.sub(r"\[\d+\]", "[…]", name), []).append((name, tid))
    return [(key if len(members) > 1 else members[0][0], [tid for _, tid in members])
            for key, members in groups.items()]


def _drop_dead_functions(nodes: dict[str, DiagramNode], uses: dict[tuple[str, int], list[str]]) -> None:
    """Functional ops whose results no box used are dead ends: leave them out (and then the ops
    only they used, and so on), in time linear in the number of uses."""
    keys_of_user: dict[str, list[tuple[str, int]]] = defaultdict(list)
    live_keys: dict[str, int] = defaultdict(int)  # per producer: its tensors that some box uses
    for key, users in uses.items():
        live_keys[key[0]] += bool(users)
        for user in users:
            keys_of_user[user].append(key)
    users_left = {key: len(users) for key, users in uses.items()}
    dead = [nid for nid, n in nodes.items() if n.kind == "function" and not live_keys[nid]]
    removed: set[str] = set()
    while dead:
        nid = dead.pop()
        if nid in removed:
            continue
        removed.add(nid)
        for key in keys_of_user[nid]:
            users_left[key] -= 1
            src = key[0]
            if not users_left[key] and src not in removed:
                live_keys[src] -= 1
                if not live_keys[src] and src in nodes and nodes[src].kind == "function":
                    dead.append(src)
    if not removed:
        return
    for nid in removed:
        del nodes[nid]
    for key, users in list(uses.items()):
        if key[0] in removed:
            del uses[key]
        else:
            users[:] = [u for u in users if u not in removed]


def _edges_with_references(nodes: dict[str, DiagramNode], uses: dict[tuple[str, int], list[str]],
                           trace: Trace) -> list[DiagramEdge]:
    """Edges; a tensor with many users keeps one edge, the other users get a reference box."""
    edges: dict[DiagramEdge, None] = {}
    ref_sources: dict[str, dict[str, None]] = {}  # each reference box's far producers, in order
    for (src, tid), users in uses.items():
        label = trace.tensors[tid].shape_text()
        far_users = users[1:] if len(users) > FANOUT_LIMIT else []
        for dst in users[: len(users) - len(far_users)]:
            edges[DiagramEdge(src, dst, label)] = None
        for dst in far_users:  # one reference box per user, naming every far producer
            ref_id = f"r_{dst}"
            if ref_id not in nodes:
                nodes[ref_id] = DiagramNode(ref_id, "ref", "", cluster=nodes[dst].cluster, anchor=dst)
                ref_sources[ref_id] = {}
            ref_sources[ref_id][src] = None
            nodes[ref_id].out_shapes.append(label)
            edges[DiagramEdge(ref_id, dst, "")] = None  # one short edge; the box lists the shapes
    for ref_id, sources in ref_sources.items():
        nodes[ref_id].paths = tuple(sources)
        nodes[ref_id].title = " · ".join(nodes[p].title for p in sources)
    return list(edges)
