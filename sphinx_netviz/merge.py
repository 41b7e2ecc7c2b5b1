"""One trace for two: the new model's forward pass with the old one's removed modules put back.

Pipeline step *diff → trace* (archdiff → **merge** → graph).  Pure Python
over :mod:`sphinx_netviz.ir`.  :func:`merged_trace` starts from the new
trace and adds, for every module the old model had and the new one has not
(:attr:`~sphinx_netviz.archdiff.ArchDiff.marks`), its calls and everything
inside them, where they ran in the old model: under the same parent, after
the call that came before them, fed by the same tensors where those exist
in the new model (matched by the call that made them: a module by path and
call number, a function by its link).  Their outputs are their own, so no
box of the new model is rewired to a removed one: a removed block hangs off
the tensor it used to read, drawn where it was.  The result is an ordinary
:class:`~sphinx_netviz.ir.Trace`, so folding, depths, links, search and the
summary work on it unchanged; :class:`Merged` also says which call is
added, removed or changed, and what changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from .archdiff import ArchDiff, ChangeKind
from .details import call_links
from .graph import Diagram
from .ir import Call, Trace

__all__ = ["Marked", "Merged", "merged_trace"]

#: what a box or cluster is in a diff, and what changed (the phrases of its change record)
Marked = tuple[ChangeKind, tuple[str, ...]]
#: what a box that is unchanged itself but hides changed modules says
CHANGES_INSIDE = "changes inside"


@dataclass
class Merged:
    """A merged trace and what each of its calls is in the diff."""

    trace: Trace
    #: call id -> added, removed or changed (calls inside an added or removed module too)
    kinds: dict[int, ChangeKind] = field(default_factory=dict)
    #: call id -> what changed (the change record's phrases), for changed modules
    what: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def boxes(self, diagram: Diagram) -> dict[str, Marked]:
        """What each box and cluster of a diagram of :attr:`trace` is, by its id (``n<id>``,
        ``c<id>``).  A box drawn closed over marked calls is ``changed`` (changes inside)."""
        by_id = {c.id: c for c in self.trace.calls}
        holds: set[int] = set()  # calls with a marked call inside
        for cid in self.kinds:
            parent = by_id[cid].parent
            while parent is not None and parent not in holds:
                holds.add(parent)
                parent = by_id[parent].parent if parent in by_id else None
        out: dict[str, Marked] = {}
        for item in [*diagram.nodes, *diagram.clusters]:
            if not item.id[1:].isdigit() or item.id[0] not in "nc":
                continue
            cid = int(item.id[1:])
            if cid in self.kinds:
                out[item.id] = (self.kinds[cid], self.what.get(cid, ()))
            elif item.id[0] == "n" and cid in holds:
                out[item.id] = ("changed", (CHANGES_INSIDE,))
        return out


def _match(old: Trace, new: Trace) -> dict[int, int]:
    """Old call id -> new call id, for calls both traces have: a module by path and call number,
    a function by its link (``<scope>.<op>[-k]``)."""
    old_links, new_links = call_links(old), call_links(new)

    def key(call: Call, links: dict[int, str]) -> tuple[str, str, int]:
        return (call.kind, call.name, call.repeat) if call.kind == "module" else (call.kind, links[call.id], 0)

    by_key = {key(c, new_links): c.id for c in new.calls}
    matched = {}
    for call in old.calls:
        found = by_key.get(key(call, old_links))
        if found is not None:
            matched[call.id] = found
    return matched


def merged_trace(old: Trace, new: Trace, diff: ArchDiff) -> Merged:
    """The new trace with the old one's removed modules put back (see the module docstring)."""
    removed_paths = {p for p, kind in diff.marks.items() if kind == "removed"}
    old_by_id = {c.id: c for c in old.calls}

    def removed(call: Call) -> bool:  # a removed module's call, or any call inside one
        current: Call | None = call
        while current is not None:
            if current.kind == "module" and current.name in removed_paths:
                return True
            current = old_by_id.get(current.parent) if current.parent is not None else None
        return False

    gone = [c for c in old.calls if removed(c)]  # in finishing order
    matched = _match(old, new)
    # tensors: an old tensor made by a matched call is the new call's (same position); the model's inputs too
    tensor_map: dict[int, int] = {o: n for (_, o), (_, n) in zip(old.inputs, new.inputs)}
    new_by_id = {c.id: c for c in new.calls}
    for old_id, new_id in matched.items():
        a, b = old_by_id[old_id], new_by_id[new_id]
        if len(a.outputs) == len(b.outputs):
            tensor_map.update(zip(a.outputs, b.outputs))
    offset = max(new.tensors, default=-1) + 1
    made_by_gone = {t for c in gone for t in c.outputs}
    tensors = dict(new.tensors)

    def old_tensor(tid: int) -> int:
        tensors.setdefault(offset + tid, old.tensors[tid])
        return offset + tid

    def input_of(tid: int) -> int:
        if tid in made_by_gone or tid not in tensor_map:
            return old_tensor(tid)
        return tensor_map[tid]

    # where each removed call starts (ids are start order) and finishes (list order) in the merged trace
    start_key: dict[int, tuple[int, int, int]] = {c.id: (c.id, 0, 0) for c in new.calls}
    last_matched = -1
    gone_ids = {c.id for c in gone}
    for call in sorted(old.calls, key=lambda c: c.id):
        if call.id in matched:
            last_matched = matched[call.id]
        elif call.id in gone_ids:
            start_key[-1 - call.id] = (last_matched, 1, call.id)
    finish_after: dict[int | None, list[Call]] = defaultdict(list)
    previous: int | None = None
    for call in old.calls:
        if call.id in matched:
            previous = matched[call.id]
        elif call.id in gone_ids:
            finish_after[previous].append(call)
    # new ids in start order: the new calls and the removed ones (keyed by -1 - old id) together
    renumber = {key: index for index, key in enumerate(sorted(start_key, key=lambda k: start_key[k]))}

    def new_parent(call: Call) -> int | None:
        if call.parent is None:
            return None
        if call.parent in gone_ids:
            return renumber[-1 - call.parent]
        return renumber[matched[call.parent]] if call.parent in matched else None

    def put_back(call: Call) -> Call:
        return replace(call, id=renumber[-1 - call.id], parent=new_parent(call),
                       inputs=[input_of(t) for t in call.inputs], outputs=[old_tensor(t) for t in call.outputs])

    calls: list[Call] = [put_back(c) for c in finish_after.get(None, [])]
    for call in new.calls:
        calls.append(replace(call, id=renumber[call.id],
                             parent=None if call.parent is None else renumber[call.parent]))
        calls.extend(put_back(c) for c in finish_after.get(call.id, []))
    modules = dict(new.modules)
    for path, info in old.modules.items():
        if path in removed_paths or any(path.startswith(p + ".") for p in removed_paths if p):
            modules.setdefault(path, info)
    trace = Trace(model_name=new.model_name, modules=modules, calls=calls, tensors=tensors,
                  inputs=list(new.inputs), outputs=list(new.outputs))
    return Merged(trace, *_kinds(trace, diff, gone_ids={renumber[-1 - i] for i in gone_ids}))


def _kinds(trace: Trace, diff: ArchDiff, gone_ids: set[int]) -> tuple[dict[int, ChangeKind], dict[int, tuple[str, ...]]]:
    """What each call of the merged trace is: removed (put back), added (an added module or inside
    one), changed (a changed module's calls)."""
    what_of = {c.path: c.what for c in diff.changes if c.kind == "changed"}
    by_id = {c.id: c for c in trace.calls}
    kinds: dict[int, ChangeKind] = {}
    what: dict[int, tuple[str, ...]] = {}
    for call in sorted(trace.calls, key=lambda c: c.id):  # parents first
        if call.id in gone_ids:
            kinds[call.id] = "removed"
            continue
        parent_kind = kinds.get(call.parent) if call.parent is not None and call.parent in by_id else None
        mark = diff.marks.get(call.name) if call.kind == "module" else None
        if mark == "added" or parent_kind == "added":
            kinds[call.id] = "added"
        elif mark == "changed":
            kinds[call.id] = "changed"
            what[call.id] = what_of.get(call.name, ())
    return kinds, what
