"""Find runs of repeated blocks to draw once, marked ×N.

Pipeline step *graph* (trace → **fold** → graph).  Two sibling module calls
are the same block when their whole call subtrees match: classes,
hyper-parameters (as labels show them), parameter shapes, the tensor shapes in and out of every
call, and the wiring between the calls inside.  A run is two or more such
calls, one after another under the same parent, where each call takes the
previous one's output and otherwise the very same tensors (an attention
mask, rotary tables, a bias each block hands on unchanged), and nothing else
uses the outputs in between — so drawing the first block for all of them
hides nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from .ir import Call, Trace


@dataclass(frozen=True)
class Run:
    """Consecutive identical blocks: ``calls[0]`` is drawn, standing for all of them."""

    calls: tuple[Call, ...]

    @property
    def first(self) -> Call:
        return self.calls[0]

    @property
    def last(self) -> Call:
        return self.calls[-1]

    def label(self) -> str:
        """``layers.0 … layers.31`` (or ``fc`` for one module called again and again)."""
        names = [c.name for c in self.calls]
        return names[0] if len(set(names)) == 1 else f"{names[0]} … {names[-1]}"


def _relative(child: Call, parent: Call) -> str:
    if child.kind == "function" or not parent.name:
        return child.name
    return child.name.removeprefix(parent.name + ".")


def signatures(trace: Trace, children: dict[int | None, list[Call]]) -> dict[int, str]:
    """A digest per call of everything that makes two blocks the same."""
    sig: dict[int, str] = {}
    for call in sorted(trace.calls, key=lambda c: -c.id):  # children start after their parent
        local = {t: f"in{k}" for k, t in enumerate(call.inputs)}
        parts: list[object] = [call.kind]
        if call.kind == "module":
            info = trace.modules[call.name]
            # the whole parameter count too: a submodule only the parent calls is in no subtree
            parts += [info.qualname, info.hparams, info.param_shapes, info.param_count]
        else:
            parts.append(call.name)
        parts.append([trace.tensors[t] for t in call.inputs])
        parts.append([trace.tensors[t] for t in call.outputs])
        for i, child in enumerate(children.get(call.id, [])):
            parts.append((_relative(child, call), sig[child.id], [local.get(t, "ext") for t in child.inputs]))
            for j, t in enumerate(child.outputs):
                local[t] = f"c{i}.{j}"
        parts.append([local.get(t, "ext") for t in call.outputs])
        sig[call.id] = hashlib.sha1(repr(parts).encode()).hexdigest()
    return sig


def find_runs(trace: Trace) -> list[Run]:
    """Every maximal run of repeated blocks, outermost first."""
    children: dict[int | None, list[Call]] = defaultdict(list)
    for call in sorted(trace.calls, key=lambda c: c.id):
        children[call.parent].append(call)
    sig = signatures(trace, children)
    parent_of = {c.id: c.parent for c in trace.calls}
    consumers: dict[int, list[int]] = defaultdict(list)
    for call in trace.calls:
        for t in call.inputs:
            consumers[t].append(call.id)
    model_outputs = {t for _, t in trace.outputs}

    def inside(call_id: int, ancestor: int) -> bool:
        current: int | None = call_id
        while current is not None:
            if current == ancestor:
                return True
            current = parent_of.get(current)
        return False

    def continues(prev: Call, nxt: Call) -> bool:
        if nxt.kind != "module" or sig[nxt.id] != sig[prev.id]:
            return False
        if nxt.name.rpartition(".")[0] != prev.name.rpartition(".")[0]:
            return False
        # what a block returns as it was given (T5's position bias) is shared, not its output
        outputs = set(prev.outputs) - set(prev.inputs)
        if not outputs & set(nxt.inputs) or outputs & model_outputs:
            return False
        if any(t not in outputs and t != p for t, p in zip(nxt.inputs, prev.inputs)):
            return False
        # an in-place last op (ReLU(inplace=True)) uses the block's own output inside the block
        return all(inside(c, nxt.id) or inside(c, prev.id) for t in outputs for c in consumers[t])

    runs = []
    for siblings in children.values():
        i = 0
        while i < len(siblings):
            run = [siblings[i]]
            while siblings[i].kind == "module" and i + len(run) < len(siblings) \
                    and continues(run[-1], siblings[i + len(run)]):
                run.append(siblings[i + len(run)])
            if len(run) > 1:
                runs.append(Run(tuple(run)))
            i += len(run)
    return sorted(runs, key=lambda r: r.first.id)
