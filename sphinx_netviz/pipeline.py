"""The whole pipeline for one diagram: spec → load → trace → graph → render/export.

Shared by the Sphinx directive and the command line.  :func:`make_artifacts`
does the work (and is the only place that imports torch);
:func:`cached_diagram` wraps it with the on-disk cache so that an unchanged
diagram costs a few file reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import metadata

from .cache import CachedDiagram, DiagramCache
from .dot import to_dot
from .errors import ExportProblem, TraceProblem
from .graph import build_diagram
from .loader import LoadedModel, build_model
from .render import dot_version, find_dot, run_dot
from .spec import DiagramSpec

__all__ = ["Artifacts", "RenderSettings", "cached_diagram", "make_artifacts", "spec_key"]


@dataclass(frozen=True)
class RenderSettings:
    """How to run Graphviz: the executable and the layout time limit in seconds."""

    dot: str = "dot"
    layout_timeout: float = 60.0


@dataclass
class Artifacts:
    """One diagram's outputs, in memory."""

    svg: bytes
    dot: str
    onnx: bytes | None
    export_problem: str | None
    sources: list[str]
    model_name: str
    node_count: int
    timings: dict[str, float] = field(default_factory=dict)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def spec_key(spec: DiagramSpec, settings: RenderSettings = RenderSettings()) -> str:
    """The cache key of a spec: its options plus the versions that shape the output."""
    from . import __version__

    return spec.key(__version__, _version("torch"), _version("onnx"), dot_version(settings.dot))


def make_artifacts(spec: DiagramSpec, settings: RenderSettings = RenderSettings(),
                   *, id_prefix: str = "nv", torch_threads: int | None = None) -> Artifacts:
    """Build, trace, draw and (if asked) export the model named by ``spec``."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    find_dot(settings.dot)  # fail before the slow part if Graphviz is missing
    import torch

    from .deps import project_sources
    from .trace import trace_model

    if torch_threads:
        torch.set_num_threads(torch_threads)
    lap("import")
    loaded = build_model(spec)
    lap("build")
    try:
        trace, _ = trace_model(loaded.model, loaded.args, loaded.kwargs, loaded.input_names, loaded.name)
    except TraceProblem as exc:
        given = "; ".join(", ".join(map(str, s)) for s in spec.input_shapes)
        hint = f"check :input-shape: (given: {given})" if given else f"check :inputs: {spec.inputs}"
        raise TraceProblem(f"{exc.message}; {hint}") from exc
    lap("trace")
    diagram = build_diagram(trace, spec.depth)
    source = to_dot(diagram, spec.direction, id_prefix)
    lap("graph")
    svg = run_dot(source, "svg", settings.dot, settings.layout_timeout)
    lap("layout")
    onnx_bytes, problem = None, None
    if spec.onnx:
        try:
            onnx_bytes = export_onnx_for(loaded, [name for name, _ in trace.outputs])
        except ExportProblem as exc:
            problem = exc.message
        lap("onnx")
    return Artifacts(
        svg=svg, dot=source, onnx=onnx_bytes, export_problem=problem,
        sources=project_sources(loaded.source_modules), model_name=loaded.name,
        node_count=len(diagram.nodes), timings=timings,
    )


def export_onnx_for(loaded: LoadedModel, output_names: list[str]) -> bytes:
    """ONNX bytes for a built model and its example inputs."""
    from .onnx_export import export_onnx

    return export_onnx(loaded.model, loaded.args, loaded.kwargs, loaded.input_names, output_names)


def cached_diagram(spec: DiagramSpec, cache: DiagramCache,
                   settings: RenderSettings = RenderSettings(),
                   *, torch_threads: int | None = None) -> tuple[CachedDiagram, bool]:
    """The diagram for ``spec`` from ``cache``, made if missing; also whether it was traced."""
    key = spec_key(spec, settings)
    hit = cache.lookup(key)
    if hit is not None:
        return hit, False
    made = make_artifacts(spec, settings, id_prefix=f"nv{key[:8]}", torch_threads=torch_threads)
    stored = cache.store(
        key, svg=made.svg, dot=made.dot, onnx=made.onnx, export_problem=made.export_problem,
        sources=made.sources, model_name=made.model_name, node_count=made.node_count,
    )
    return stored, True
