"""The two sides of an architecture diff: which model each side is, and its snapshot.

Shared by the command line (``netviz NEW --against OLD``, ``--snapshot``),
:func:`sphinx_netviz.diff` and the ``netviz-diff`` directive's child job.
A side is a :class:`~sphinx_netviz.spec.DiagramSpec` (an import target or an
``.onnx`` file, built and traced as a drawing is) or a snapshot file
(``.json``, read, nothing run).  :func:`side_specs` makes the two specs from
one set of options, with each side's own keyword arguments merged over the
shared ones; :func:`trace_side` traces one (torch is imported only here).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .ir import Trace
from .loader import Builder, build_model
from .snapshot import Snapshot, make_snapshot, read_snapshot, snapshot_trace
from .spec import DiagramSpec

__all__ = ["is_snapshot_path", "old_spec", "side_snapshot", "trace_side", "with_kwargs"]

def is_snapshot_path(target: str) -> bool:
    """Whether a side names a snapshot file (``*.json``) rather than a model or an ONNX file."""
    return target.lower().endswith(".json")


def with_kwargs(spec: DiagramSpec, kwargs: dict[str, object] | None) -> DiagramSpec:
    """``spec`` with ``kwargs`` merged over its own keyword arguments (a side's :old-kwargs:)."""
    return spec if not kwargs else replace(spec, kwargs={**spec.kwargs, **kwargs})


def old_spec(new: DiagramSpec, target: str, kwargs: dict[str, object] | None = None) -> DiagramSpec:
    """The spec of the old side: ``target`` drawn with the new side's options (and ``kwargs`` merged
    over its keyword arguments); an ONNX file takes the drawing options only."""
    old = replace(new, target=target) if not target.lower().endswith(".onnx") else DiagramSpec(
        target, **{name: getattr(new, name) for name in ("depth", "direction", "fold", "color_by")},
        onnx="none")
    return with_kwargs(old, kwargs) if not old.is_onnx_file else old


def trace_side(spec: DiagramSpec, settings: object = None, *, build: Builder = build_model,
               notes: list[str] | None = None) -> Trace:
    """Build and trace the model of ``spec`` (or read its ONNX file) as a drawing would."""
    from .onnx_import import read_onnx_file
    from .pipeline import PipelineSettings, _load_and_trace, _Timer

    notes = notes if notes is not None else []
    if spec.is_onnx_file:
        read = read_onnx_file(spec.target)
        notes.extend(read.notes)
        return read.trace
    settings = settings if isinstance(settings, PipelineSettings) else PipelineSettings()
    _, trace = _load_and_trace(spec, settings, notes, _Timer(), build=build)
    return trace


def side_snapshot(target: str | Path, spec: DiagramSpec | None, settings: object = None, *,
                  build: Builder = build_model, notes: list[str] | None = None) -> tuple[Snapshot, Trace]:
    """A side's snapshot and trace: read from a snapshot file, or traced from ``spec``."""
    if spec is None or is_snapshot_path(str(target)):
        snapshot = read_snapshot(target)
        return snapshot, snapshot_trace(snapshot)
    trace = trace_side(spec, settings, build=build, notes=notes)
    return make_snapshot(trace), trace

