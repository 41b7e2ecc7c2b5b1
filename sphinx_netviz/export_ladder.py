"""Make a diagram's ONNX file: the exporters in turn, within the time left, then a graph-only file.

Pipeline step *export* (load → trace → graph → render → **export**).  Every
drawn diagram gets a download unless ``:onnx: none``.  The rungs, in order:

* ``full`` (asked for, or ``auto`` with small real weights): the TorchScript
  exporter with the weights stored;
* ``structure`` of a model with real weights, or traced on meta but small
  enough to build for real (:attr:`~sphinx_netviz.loader.LoadedModel.real_run_fits`,
  built on the CPU here): the TorchScript exporter with every weight a named
  graph input (ResNet-50 here: 0.76 s), then the dynamo exporter;
* ``structure`` of a model on ``meta``: the dynamo exporter (TorchScript
  cannot take meta tensors);
* before each dynamo rung, when the trace has runs of repeated blocks (the
  ones folded in the diagram): the dynamo exporter with each kind of block one
  ONNX function, called once per block (LLaMA-7B on meta: 3.8 s instead of
  10.4 s, a file 11× smaller).  Blocks that change shared state (a KV cache)
  cannot be calls; that fails in about 0.5 s and the plain dynamo rung follows.
  TorchScript stays first for models with real weights: it is about 10×
  faster than anything through dynamo;
* ``graph`` only: written from the trace by :mod:`sphinx_netviz.graph_onnx`
  in milliseconds; it opens in Netron and passes ``onnx.checker`` but does not run.

A rung that fails or runs out of time hands over to the next.  The exporters
share ``export_timeout`` seconds (at most :data:`EXPORT_SHARE` of what the
diagram has left, so the graph-only file and the cache always fit).  A file
of a lesser kind than asked is a warning only when the author named the kind
(``:onnx: full`` or ``structure``); with ``auto`` it is an info note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .options import say
from .artifacts import Problem
from .errors import ExportProblem, safe_text
from .fold import Run, find_runs
from .ir import Call, Trace
from .limits import MB, Budget, OutOfTime, deadline
from .loader import LoadedModel
from .onnx_export import Exporter, export_onnx
from .values import size_text

#: what a download holds: the weights, their names and shapes only, or the traced graph only
OnnxKind = Literal["full", "structure", "graph"]
#: the share of a diagram's remaining time the exporters may use together
EXPORT_SHARE = 0.9
#: how each exporter is named in messages
_EXPORTER_NAMES = {"torchscript": "TorchScript", "dynamo": "dynamo",
                   "dynamo-blocks": "dynamo with block functions"}


@dataclass(frozen=True)
class Rung:
    """One attempt: a kind of file from one exporter."""

    kind: Literal["full", "structure"]
    exporter: Exporter


@dataclass
class Exported:
    """The file made (or None if not even the graph-only file could be written) and what to say."""

    data: bytes | None
    kind: OnnxKind | None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: an exporter was stopped at its time limit (with more time the file could be better)
    ran_out: bool = False


def rungs(mode: str, device: str, has_blocks: bool = False) -> list[Rung]:
    """The exporters to try for ``mode`` (``full`` or ``structure``) on a model on ``device``.

    ``has_blocks``: the trace has runs of repeated blocks, which can be ONNX functions.
    """
    dynamo = [Rung("structure", "dynamo")]
    if has_blocks:
        dynamo.insert(0, Rung("structure", "dynamo-blocks"))
    structure = dynamo if device == "meta" else [Rung("structure", "torchscript"), *dynamo]
    return ([Rung("full", "torchscript")] if mode == "full" else []) + structure


def block_paths(trace: Trace, runs: Sequence[Run]) -> list[str]:
    """Module paths of the blocks of the outermost runs (``layers.0`` … ``layers.31``).

    A run inside a block of another run is inside that block's function already.
    """
    parents = {call.id: call.parent for call in trace.calls}
    in_runs = {call.id for run in runs for call in run.calls}

    def nested(call: Call) -> bool:
        current = call.parent
        while current is not None:
            if current in in_runs:
                return True
            current = parents.get(current)
        return False

    return [call.name for run in runs if not nested(run.first) for call in run.calls if call.kind == "module"]


def export_ladder(loaded: LoadedModel, trace: Trace, mode: str, *, asked: str, budget: Budget,
                  seconds: float, cpu_max_mb: float, build_cpu: Callable[[], LoadedModel],
                  runs: Sequence[Run] | None = None) -> Exported:
    """The best ONNX file of ``mode`` (``full`` or ``structure``) that can be made in time.

    ``asked`` is the author's ``:onnx:`` (``auto`` chose ``mode``); ``seconds``
    caps the exporters together (``export_timeout``); ``build_cpu`` builds the
    model with real weights, for the rungs that run it (a full file, TorchScript)
    when it was traced on meta (a full file: up to ``cpu_max_mb``).  ``runs``
    are the trace's runs of repeated blocks, if found already (``find_runs(trace)``).
    """
    failures: list[str] = []
    limit = budget.seconds(seconds, EXPORT_SHARE)
    clock = Budget(limit)
    ran_out = False
    blocks = block_paths(trace, find_runs(trace) if runs is None else runs)
    for rung in _feasible(loaded, mode, cpu_max_mb, failures, bool(blocks)):
        if clock.spent():  # an earlier exporter failed late: with more time this one could run
            failures.append(f"no time left for {_name(rung)}")
            ran_out = True
            break
        try:
            runs_for_real = rung.kind == "full" or rung.exporter == "torchscript"
            model = build_cpu() if runs_for_real and loaded.device == "meta" else loaded
            loaded = model  # once built, the next rungs take the real weights too
            with deadline(clock.remaining()):
                data = export_onnx(model.model, model.args, model.kwargs, model.input_names,
                                   [name for name, _ in trace.outputs], structure=rung.kind == "structure",
                                   exporter=rung.exporter, blocks=blocks)
        except OutOfTime:
            why = say("export_timeout") if limit >= seconds else f"what was left of the diagram's {say('timeout')}"
            failures.append(f"{_name(rung)} ran past the {limit:.3g} s the exports may take ({why})")
            ran_out = True
            break
        except ExportProblem as exc:
            said = [f for f in failures if f.endswith(f": {exc.message}")]
            failures.append(f"{_name(rung)}: {'the same' if said else exc.message}")
            continue
        except Exception as exc:  # noqa: BLE001 - building for real is model code too
            failures.append(f"building the model for real: {safe_text(exc)}")
            continue
        return _outcome(data, rung.kind, asked, failures, ran_out)
    try:
        from .graph_onnx import graph_only_onnx

        data = graph_only_onnx(trace)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not cost the drawing
        failures.append(f"the graph-only file: {safe_text(exc)}")
        return Exported(None, None, [Problem("export", (
            f"no ONNX file could be made ({'; '.join(failures)}); the diagram is still drawn. "
            f"Set {say('onnx', 'none')} to skip the download"))], ran_out=ran_out)
    return _outcome(data, "graph", asked, failures, ran_out)


def _name(rung: Rung) -> str:
    """``TorchScript (full)``, ``dynamo with block functions (structure)``: how messages name a rung."""
    return f"{_EXPORTER_NAMES[rung.exporter]} ({rung.kind})"


def _feasible(loaded: LoadedModel, mode: str, cpu_max_mb: float, failures: list[str],
              has_blocks: bool) -> list[Rung]:
    """The rungs worth trying: no full file of a meta model too big to build for real."""
    # a model traced on meta that may be built for real is exported as if it lived on the CPU
    planned = rungs(mode, "cpu" if loaded.real_run_fits else loaded.device, has_blocks)
    if mode == "full" and loaded.device == "meta" and loaded.weight_bytes > cpu_max_mb * MB:
        failures.append(f"a full file needs the real weights ({size_text(loaded.weight_bytes)}, more "
                        f"than {say('cpu_max_mb', f'{cpu_max_mb:g}')} MB)")
        planned = rungs("structure", "meta", has_blocks)
    return planned


def _outcome(data: bytes, kind: OnnxKind, asked: str, failures: list[str], ran_out: bool) -> Exported:
    """The file, with a warning if it is less than the author named, else a note on what failed."""
    made = Exported(data, kind, ran_out=ran_out)
    if not failures:
        return made
    why = "; ".join(failures)
    if asked != "auto" and kind != asked:
        made.problems.append(Problem("export", (
            f"the {asked} ONNX export failed ({why}), so the download is a {_KIND_WORDS[kind]} file; "
            f"set {say('onnx', 'auto')} to accept the best file that can be made, or {say('onnx', 'none')} "
            "to skip it")))
    else:
        made.notes.append(f"the ONNX download is a {_KIND_WORDS[kind]} file ({why})")
    return made


_KIND_WORDS = {"full": "full", "structure": "structure-only", "graph": "graph-only"}
