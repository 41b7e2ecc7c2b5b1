"""An architecture snapshot: what a model is, as plain deterministic JSON, without its weights.

Made from a :class:`~sphinx_netviz.ir.Trace` (the forward pass a drawing
job records), read back by :mod:`sphinx_netviz.archdiff` to compare two
architectures.  A snapshot holds, for every module of the model's tree (by
attribute path): its class, hyper-parameters (``extra_repr``, as the boxes
show them), parameters (its whole subtree's, and its own), the shapes of
its own parameters, its output shapes (of its first call), its
multiply-accumulates (MACs, summed over its calls) and how often it was
called; the model's inputs, outputs and totals; the folded runs of
identical blocks; and the recorded forward pass itself (calls and tensor
shapes, no values), so that a diff against a snapshot file draws the
removed modules where they were without the old code.

:func:`snapshot_json` writes it with sorted keys and one fixed layout: the
same model gives the same bytes.  :func:`read_snapshot` checks the format
and version and raises :class:`SnapshotProblem` (a
:class:`~sphinx_netviz.errors.InputProblem`) naming what is wrong.
Pure Python: no torch, no Sphinx.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .details import subtree_macs
from .errors import InputProblem
from .fold import find_runs
from .ir import Call, ModuleInfo, TensorMeta, Trace

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "SnapshotProblem", "make_snapshot", "read_snapshot",
           "snapshot_json", "snapshot_trace"]

#: the ``format`` field of every snapshot
FORMAT_NAME = "sphinx-netviz architecture snapshot"
#: the ``version`` field; a reader refuses other versions
FORMAT_VERSION = 1
#: the largest snapshot file read (a LLaMA-7B snapshot is about 0.5 MB)
MAX_BYTES = 256 * 10**6

Snapshot = dict[str, Any]


class SnapshotProblem(InputProblem):
    """A snapshot file that cannot be read: missing, not JSON, another format or version."""


def _tensor_text(meta: TensorMeta) -> str:
    return f"{meta.shape_text()} {meta.dtype}"


def _numel(shape: tuple[int, ...] | list[int]) -> int:
    count = 1
    for dim in shape:
        count *= int(dim)
    return count


def make_snapshot(trace: Trace) -> Snapshot:
    """The snapshot of one traced model (see the module docstring); JSON-ready data."""
    macs = subtree_macs(trace)
    first_call: dict[str, Call] = {}
    calls_of: dict[str, int] = {}
    macs_of: dict[str, int | None] = {}
    for call in sorted(trace.calls, key=lambda c: c.id):
        if call.kind != "module":
            continue
        first_call.setdefault(call.name, call)
        calls_of[call.name] = calls_of.get(call.name, 0) + 1
        mine = macs.get(call.id)
        if mine is not None:
            macs_of[call.name] = (macs_of.get(call.name) or 0) + mine
        else:
            macs_of.setdefault(call.name, None)
    modules: dict[str, Any] = {}
    for path, info in trace.modules.items():
        first = first_call.get(path)
        modules[path] = {
            "class": info.class_name,
            "qualname": info.qualname,
            "hparams": info.hparams,
            "params": info.param_count,
            "own_params": sum(_numel(shape) for _, shape, _ in info.param_shapes),
            "param_shapes": [[name, list(shape), dtype] for name, shape, dtype in info.param_shapes],
            "children": list(info.children),
            "calls": calls_of.get(path, 0),
            "in": [_tensor_text(trace.tensors[t]) for t in first.inputs] if first else None,
            "out": [_tensor_text(trace.tensors[t]) for t in first.outputs] if first else None,
            "macs": macs_of.get(path),
        }
    root_macs = [macs.get(c.id) for c in trace.calls if c.parent is None]
    known = [m for m in root_macs if m is not None]
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "model": trace.model_name,
        "inputs": [[name, _tensor_text(trace.tensors[t])] for name, t in trace.inputs],
        "outputs": [[name, _tensor_text(trace.tensors[t])] for name, t in trace.outputs],
        "totals": {
            "params": trace.modules[""].param_count if "" in trace.modules else
            sum(m.param_count for p, m in trace.modules.items() if "." not in p),
            "macs": sum(known) if known else None,
        },
        "modules": modules,
        "runs": [[c.name for c in run.calls] for run in find_runs(trace)],
        "trace": {
            "calls": [[c.id, c.kind, c.name, c.parent, list(c.inputs), list(c.outputs), c.repeat, c.macs]
                      for c in trace.calls],
            "tensors": [[tid, list(meta.shape), meta.dtype] for tid, meta in sorted(trace.tensors.items())],
            "inputs": [[name, t] for name, t in trace.inputs],
            "outputs": [[name, t] for name, t in trace.outputs],
        },
    }


def snapshot_json(snapshot: Snapshot) -> str:
    """The snapshot as text: sorted keys, one fixed layout, a final newline (deterministic)."""
    return json.dumps(snapshot, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def read_snapshot(source: str | Path | Mapping[str, Any]) -> Snapshot:
    """A snapshot from a file (or already parsed data), checked; :class:`SnapshotProblem` if it is not one."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where = "the snapshot"
    else:
        path = Path(source)
        where = f"the snapshot file {str(path)!r}"
        try:
            if not path.is_file():
                raise SnapshotProblem(f"{where} does not exist or is not a regular file; write one with "
                                      "netviz TARGET --snapshot FILE")
            if path.stat().st_size > MAX_BYTES:
                raise SnapshotProblem(f"{where} is larger than {MAX_BYTES // 10**6} MB; it is not a snapshot")
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SnapshotProblem(f"cannot read {where}: {exc.strerror or exc}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SnapshotProblem(f"{where} is not JSON ({exc}); write one with netviz TARGET "
                                  "--snapshot FILE") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise SnapshotProblem(f"{where} is not a sphinx-netviz architecture snapshot (its \"format\" is not "
                              f"{FORMAT_NAME!r}); write one with netviz TARGET --snapshot FILE")
    if data.get("version") != FORMAT_VERSION:
        raise SnapshotProblem(f"{where} is of version {data.get('version')!r}; this sphinx-netviz reads "
                              f"version {FORMAT_VERSION}: write it again with netviz TARGET --snapshot FILE")
    try:
        _check(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotProblem(f"{where} is damaged ({type(exc).__name__}: {exc}); write it again "
                              "with netviz TARGET --snapshot FILE") from exc
    return data


def _check(data: Snapshot) -> None:
    """Raise ``KeyError``/``TypeError``/``ValueError`` unless ``data`` has every field a snapshot needs."""
    if not isinstance(data["model"], str) or not isinstance(data["modules"], dict):
        raise TypeError("model or modules of the wrong type")
    for path, entry in data["modules"].items():
        if not isinstance(path, str) or not isinstance(entry, dict):
            raise TypeError(f"module {path!r} is not an object")
        for name in ("class", "qualname", "hparams"):
            if not isinstance(entry[name], str):
                raise TypeError(f"{name} of module {path!r} is not text")
        for name in ("params", "own_params", "calls"):
            if not isinstance(entry[name], int):
                raise TypeError(f"{name} of module {path!r} is not a number")
        for name in ("in", "out"):
            if entry[name] is not None and not all(isinstance(s, str) for s in entry[name]):
                raise TypeError(f"{name} of module {path!r} is not a list of shapes")
        if entry["macs"] is not None and not isinstance(entry["macs"], int):
            raise TypeError(f"macs of module {path!r} is not a number")
    totals = data["totals"]
    if not isinstance(totals["params"], int) or not (totals["macs"] is None or isinstance(totals["macs"], int)):
        raise TypeError("totals are not numbers")
    if not all(isinstance(run, list) and all(isinstance(p, str) for p in run) for run in data["runs"]):
        raise TypeError("runs are not lists of module paths")
    snapshot_trace(data)  # the recorded forward pass reads back


def snapshot_trace(snapshot: Snapshot) -> Trace:
    """The recorded forward pass a snapshot holds, as a :class:`~sphinx_netviz.ir.Trace` (to draw)."""
    recorded = snapshot["trace"]
    modules = {
        path: ModuleInfo(
            path=path, class_name=entry["class"], qualname=entry["qualname"], hparams=entry["hparams"],
            param_count=entry["params"], children=tuple(str(c) for c in entry["children"]),
            param_shapes=tuple((str(name), tuple(int(d) for d in shape), str(dtype))
                               for name, shape, dtype in entry["param_shapes"]),
        )
        for path, entry in snapshot["modules"].items()
    }
    tensors = {int(tid): TensorMeta(tuple(int(d) for d in shape), str(dtype))
               for tid, shape, dtype in recorded["tensors"]}
    calls = []
    for cid, kind, name, parent, inputs, outputs, repeat, macs in recorded["calls"]:
        if kind not in ("module", "function") or not isinstance(name, str):
            raise ValueError(f"call {cid!r} is not a module or function call")
        if kind == "module" and name not in modules:
            raise KeyError(f"call {cid!r} of module {name!r}, which is not among the modules")
        used = [int(t) for t in inputs] + [int(t) for t in outputs]
        if any(t not in tensors for t in used):
            raise KeyError(f"call {cid!r} uses a tensor the snapshot does not describe")
        calls.append(Call(id=int(cid), kind=kind, name=name, parent=None if parent is None else int(parent),
                          inputs=[int(t) for t in inputs], outputs=[int(t) for t in outputs],
                          repeat=int(repeat), macs=None if macs is None else int(macs)))
    ends = [(str(n), int(t)) for n, t in recorded["inputs"]], [(str(n), int(t)) for n, t in recorded["outputs"]]
    if any(t not in tensors for _, t in ends[0] + ends[1]):
        raise KeyError("an input or output tensor the snapshot does not describe")
    return Trace(model_name=snapshot["model"], modules=modules, calls=calls, tensors=tensors,
                 inputs=ends[0], outputs=ends[1])
