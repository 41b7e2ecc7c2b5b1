"""The whole pipeline for one diagram: spec → load → trace → graph → render/export.

Shared by the Sphinx directive and the command line.  :func:`make_artifacts`
does the work (and is the only place that imports torch);
:func:`cached_diagram` wraps it with the on-disk cache so that an unchanged
diagram costs a few file reads.

Where the model lives: with ``device="auto"`` a model whose weights are at
most ``meta_above_mb`` (128 MB) is built for real on the CPU — building and
running ResNet-50 for real took 0.5 s here, while the first operation on the
``meta`` device in a process costs 1.1–1.3 s (it imports ``torch._dynamo``) —
and a bigger model is built and traced on ``meta``, allocating nothing.  A forward pass
that needs real data (``.item()``, data-dependent shapes) falls back to the
CPU if the weights fit in ``cpu_max_mb``.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from .artifacts import Artifacts, Problem
from .cache import CachedDiagram, DiagramCache
from .dot import to_dot
from .errors import ExportProblem, LayoutTimeout, RenderProblem, TraceProblem
from .fold import Run, find_runs
from .graph import Diagram, build_diagram
from .ir import Trace
from .loader import LoadedModel, build_model
from .render import dot_version, find_dot, run_dot
from .spec import DiagramSpec
from .views import other_depths, viewer_details

__all__ = ["PipelineSettings", "cached_diagram", "make_artifacts", "spec_key"]

#: the ``*_mb`` settings count decimal megabytes, like the sizes in messages
MB = 1_000_000


@dataclass(frozen=True)
class PipelineSettings:
    """Project-wide settings (``netviz_*`` in conf.py, flags on the command line)."""

    #: the Graphviz executable
    dot: str = "dot"
    #: seconds one Graphviz layout may take before a coarser depth is tried
    layout_timeout: float = 30.0
    #: ``:onnx: auto`` exports weights in full up to this size, else the structure only
    onnx_max_mb: float = 25.0
    #: ``:device: auto`` traces models with more weights than this on the meta device
    meta_above_mb: float = 128.0
    #: the largest model built on the CPU when the meta device cannot trace it
    cpu_max_mb: float = 4096.0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


@functools.cache
def own_source_digest() -> str:
    """A digest of sphinx-netviz's own code: a changed checkout draws anew, whatever the version."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def spec_key(spec: DiagramSpec, settings: PipelineSettings = PipelineSettings()) -> str:
    """The cache key of a spec: its options, the settings and the versions that shape the output."""
    return spec.key(own_source_digest(), _version("torch"), _version("onnx"), _version("onnxscript"),
                    dot_version(settings.dot), repr(sorted(asdict(settings).items())))


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._clock
        self._clock = now


def make_artifacts(spec: DiagramSpec, settings: PipelineSettings = PipelineSettings(),
                   *, id_prefix: str = "nv", torch_threads: int | None = None,
                   known_onnx: tuple[bytes, str] | None = None) -> Artifacts:
    """Build, trace, draw and (if asked) export the model named by ``spec``.

    ``known_onnx`` (bytes and mode) is an export already made for the same
    model and inputs; it is used instead of exporting again.
    """
    timer = _Timer()
    find_dot(settings.dot)  # fail before the slow part if Graphviz is missing
    import torch

    from .deps import project_sources

    if torch_threads:
        torch.set_num_threads(torch_threads)
    timer.lap("import")
    notes: list[str] = []
    loaded, trace = _load_and_trace(spec, settings, notes, timer)
    runs = find_runs(trace) if spec.fold else []  # shared by every depth drawn
    svg, source, depth, diagram, problems = _draw(trace, spec, settings, id_prefix, runs)
    timer.lap("layout")
    layouts, shown = other_depths(trace, spec, settings, id_prefix, depth, svg, diagram, runs)
    details = viewer_details(trace, id_prefix, depth, layouts, shown, runs)
    timer.lap("views")
    onnx_bytes, onnx_mode = known_onnx or (None, None)
    if spec.onnx != "none" and known_onnx is None:
        onnx_mode = _onnx_mode(spec, settings, loaded)
        try:
            onnx_bytes = _export(spec, loaded, trace, onnx_mode, settings)
        except ExportProblem as exc:
            problems.append(Problem(exc.stage, exc.message))
            onnx_mode = None
        timer.lap("onnx")
    return Artifacts(
        svg=svg, dot=source, onnx=onnx_bytes, onnx_mode=onnx_mode,
        sources=project_sources(loaded.source_modules), model_name=loaded.name,
        node_count=len(diagram.nodes), depth=depth, device=loaded.device,
        layouts=layouts, details=details,
        weight_bytes=loaded.weight_bytes, problems=problems, notes=notes, timings=timer.timings,
    )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.1f} MB"


def _load_and_trace(spec: DiagramSpec, settings: PipelineSettings, notes: list[str],
                    timer: _Timer) -> tuple[LoadedModel, Trace]:
    """Build the model where it belongs (see the module docstring) and trace it."""
    if spec.device == "cpu":
        loaded = build_model(spec, "cpu")
    else:
        loaded = build_model(spec, "meta")
        if loaded.device != "meta" and spec.device == "meta":
            raise TraceProblem(
                f"{spec.target} is a model instance, already built on {loaded.device}; to trace "
                "on the meta device name its class or a factory function instead, or set :device: cpu"
            )
        if loaded.device == "meta" and spec.device == "auto" \
                and loaded.weight_bytes <= settings.meta_above_mb * MB:
            loaded = build_model(spec, "cpu")
    timer.lap("build")
    size = _size(loaded.weight_bytes)
    where = (f"with real weights on the CPU ({size})" if loaded.device == "cpu"
             else f"on the meta device, allocating none of its {size} of weights")
    try:
        trace = _trace(spec, loaded)
    except TraceProblem as meta_failure:
        if loaded.device != "meta" or spec.device == "meta":
            raise
        if loaded.weight_bytes > settings.cpu_max_mb * MB:
            raise TraceProblem(
                f"on the meta device {meta_failure.without_hint}; the forward pass needs "
                f"real data, and building the model for real would allocate {size} (more than "
                f"netviz_cpu_max_mb = {settings.cpu_max_mb:g} MB). Make the forward work on meta "
                "tensors (no .item() or data-dependent shapes) or raise netviz_cpu_max_mb"
            ) from meta_failure
        timer.lap("trace")
        loaded = build_model(spec, "cpu")
        timer.lap("build")
        trace = _trace(spec, loaded)
        where = (f"with real weights on the CPU ({size}), because on the meta device "
                 f"{meta_failure.without_hint}")
    timer.lap("trace")
    notes.append(f"traced {spec.target} {where}")
    return loaded, trace


def _trace(spec: DiagramSpec, loaded: LoadedModel) -> Trace:
    from .trace import trace_model

    try:
        trace, _ = trace_model(loaded.model, loaded.args, loaded.kwargs, loaded.input_names, loaded.name)
    except TraceProblem as exc:
        given = "; ".join(", ".join(map(str, s)) for s in spec.input_shapes)
        hint = f"check :input-shape: (given: {given})" if given else f"check :inputs: {spec.inputs}"
        hinted = TraceProblem(f"{exc.message}; {hint}")
        hinted.without_hint = exc.message  # for failures the inputs did not cause
        raise hinted from exc
    return trace


def _draw(trace: Trace, spec: DiagramSpec, settings: PipelineSettings, id_prefix: str,
          runs: list[Run]) -> tuple[bytes, str, int, Diagram, list[Problem]]:
    """Lay the diagram out at the asked depth, or a coarser one if Graphviz runs out of time."""
    problems: list[Problem] = []
    depth = spec.depth
    while True:
        diagram = build_diagram(trace, depth, runs=runs)
        source = to_dot(diagram, spec.direction, id_prefix)
        try:
            svg = run_dot(source, "svg", settings.dot, settings.layout_timeout)
        except LayoutTimeout as exc:
            if depth == 0:
                raise RenderProblem(exc.message) from exc
            problems.append(Problem("render", (
                f"Graphviz did not lay out depth {depth} ({len(diagram.nodes)} boxes) within "
                f"{settings.layout_timeout:g} s, so depth {depth - 1} is drawn instead; set a "
                "smaller :depth: or raise netviz_layout_timeout")))
            depth -= 1
            continue
        return svg, source, depth, diagram, problems


def _onnx_mode(spec: DiagramSpec, settings: PipelineSettings, loaded: LoadedModel) -> str:
    if spec.onnx != "auto":
        return spec.onnx
    return "full" if loaded.weight_bytes <= settings.onnx_max_mb * MB else "structure"


def _export(spec: DiagramSpec, loaded: LoadedModel, trace: Trace, mode: str,
            settings: PipelineSettings) -> bytes:
    """ONNX bytes in ``mode``; a full export of a meta-traced model builds it for real first."""
    from .onnx_export import export_onnx

    if mode == "full" and loaded.device == "meta":
        if loaded.weight_bytes > settings.cpu_max_mb * MB:
            raise ExportProblem(
                f"a full ONNX export needs the real weights ({_size(loaded.weight_bytes)}, more than "
                f"netviz_cpu_max_mb = {settings.cpu_max_mb:g} MB); use :onnx: structure (or auto) "
                "for the graph with every weight declared but not stored"
            )
        loaded = build_model(spec, "cpu")
    outputs = [name for name, _ in trace.outputs]
    return export_onnx(loaded.model, loaded.args, loaded.kwargs, loaded.input_names, outputs,
                       structure=mode == "structure")


def cached_diagram(spec: DiagramSpec, cache: DiagramCache,
                   settings: PipelineSettings = PipelineSettings(),
                   *, torch_threads: int | None = None) -> tuple[CachedDiagram, bool]:
    """The diagram for ``spec`` from ``cache``, made if missing; also whether it was traced."""
    key = spec_key(spec, settings)
    hit = cache.lookup(key)
    if hit is not None:
        return hit, False
    export_key = spec_key(spec.export_view(), settings)
    known = cache.lookup_export(export_key) if spec.onnx != "none" else None
    made = make_artifacts(spec, settings, id_prefix=f"nv{key[:8]}", torch_threads=torch_threads,
                          known_onnx=known)
    cache.store_export(export_key, made)
    return cache.store(key, made), True
