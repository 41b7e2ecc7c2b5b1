"""The whole pipeline for one diagram: spec → load → trace → graph → render/export.

Shared by the Sphinx directive and the command line.  :func:`make_artifacts`
does the work (and is the only place that imports torch);
:func:`cached_diagram` wraps it with the on-disk cache so that an unchanged
diagram costs a few file reads.

Where the model lives: with ``device="auto"`` every model is built and
traced on ``meta``, allocating nothing (the worker has warmed the meta
device up; the first operation there in a cold process costs 1.1–1.3 s).
A model whose weights are at most ``meta_above_mb`` (128 MB) and whose
activations fit is built again for real only for its ONNX file (a full file,
or the TorchScript exporter).  A forward pass that needs real data
(``.item()``, data-dependent shapes) falls back to the CPU if the weights
fit in ``cpu_max_mb``.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .artifacts import Artifacts, Problem
from .bounds import bounded_viewer_data
from .cache import CachedDiagram, DiagramCache
from .errors import NetvizError, TraceProblem
from .export_ladder import export_ladder
from .fold import Run, find_runs
from .ir import Trace
from .layouts import Layouts, LayoutSettings, lay_out_depths
from .limits import LAYOUT_SHARE_WITH_EXPORT, MB, Budget
from .loader import Builder, LoadedModel, build_model
from .onnx_import import is_onnx_path, read_onnx_file
from .options import Frontend, PipelineSettings, frontend, say  # PipelineSettings: its options, declared there
from .render import dot_version, find_dot
from .shading import nothing_to_shade, shading_of
from .spec import DiagramSpec
from .values import MODEL_DTYPES, size_text
from .views import viewer_details

if TYPE_CHECKING:
    from .merge import Merged

__all__ = ["PipelineSettings", "Traced", "cached_diagram", "lay_out_trace", "make_artifacts", "spec_key",
           "trace_target"]

#: with ``:device: auto``, a model is run for real (traced, or exported) only if weights and
#: activations fit in this share of the child's memory limit (the ONNX export runs the forward again)
CPU_TRACE_SHARE = 0.5


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
                   known_onnx: tuple[bytes, str] | None = None, budget: Budget | None = None,
                   memory_bytes: int | None = None, build: Builder = build_model) -> Artifacts:
    """Build, trace, draw and (if asked) export the model named by ``spec``.

    ``known_onnx`` (bytes and mode) is an export already made for the same
    model and inputs; it is used instead of exporting again.  ``budget`` is
    the time the whole diagram may take (layouts and fallbacks share it);
    ``memory_bytes`` the memory it may allocate (with ``:device: auto``, a
    model whose weights and activations would not fit is traced on meta).
    ``build`` makes the model on a device (by default, importing ``spec.target``;
    :func:`sphinx_netviz.draw` passes one that takes an object in memory).
    """
    made = make_group([(id_prefix, spec)], settings, torch_threads=torch_threads, known_onnx=known_onnx,
                      budget=budget, memory_bytes=memory_bytes, build=build)[0]
    if isinstance(made, NetvizError):
        raise made
    return made


@dataclass
class Traced:
    """A model built and traced (or an ONNX file read), and what it was made from."""

    trace: Trace
    #: the model as built (None for an ONNX file)
    loaded: LoadedModel | None
    #: the project files it was made from, the project modules among them by name, and the
    #: digest of the bytes of each as imported or read (see :class:`~.artifacts.Artifacts`)
    sources: list[str]
    modules: dict[str, str]
    digests: dict[str, str | None]
    name: str
    #: ``meta``, ``cpu``, or ``file`` (an ONNX file)
    device: str
    weight_bytes: int
    notes: list[str]
    #: an ONNX file's bytes, as read
    onnx_file: bytes | None = None


def trace_target(spec: DiagramSpec, settings: PipelineSettings = PipelineSettings(), *,
                 timer: _Timer | None = None, torch_threads: int | None = None, memory_bytes: int | None = None,
                 on_stage: Callable[[str], None] | None = None, build: Builder = build_model) -> Traced:
    """Build and trace the model of ``spec`` where it belongs (see the module docstring), or read
    its ``.onnx`` file (torch is not imported then), noting the project files it was made from."""
    timer = timer or _Timer()
    stage = on_stage or (lambda name: None)
    notes: list[str] = []
    if is_onnx_path(spec.target):  # an ONNX file: read (no torch), not built and traced
        stage("read")
        read = read_onnx_file(spec.target)
        notes.extend(read.notes)
        timer.lap("read")
        # the digest of the bytes read and drawn, not of the file as it is when stored
        return Traced(read.trace, None, [spec.target], {}, {spec.target: hashlib.sha256(read.data).hexdigest()},
                      read.trace.model_name, "file", 0, notes, read.data)
    stage("import")
    import torch

    from .deps import digests_as_imported, file_digest, project_modules

    if torch_threads:
        torch.set_num_threads(torch_threads)
    timer.lap("import")
    with digests_as_imported() as imported:  # of the bytes each project file was imported from
        loaded, trace = _load_and_trace(spec, settings, notes, timer, memory_bytes, stage, build)
    modules = project_modules(loaded.source_modules)  # the cache keeps them by name
    sources = sorted(set(modules.values()))
    # a module imported before (this process imported it earlier): its file as it is now
    digests = {path: imported[path] if path in imported else file_digest(path) for path in sources}
    return Traced(trace, loaded, sources, modules, digests, loaded.name, loaded.device, loaded.weight_bytes, notes)


def lay_out_trace(trace: Trace, runs: list[Run], spec: DiagramSpec, dot: str = "dot",
                  layout_timeout: float = 30.0, *, id_prefix: str = "nv", budget: Budget | None = None,
                  share: float = 1.0, marks: Merged | None = None,
                  timer: _Timer | None = None) -> tuple[Layouts, dict[str, Any]]:
    """The layouts of a trace drawn as ``spec`` says (depth, direction, shading; ``runs`` folded),
    and the viewer's data, within a page's limits.  ``marks``: an architecture diff's."""
    timer = timer or _Timer()
    shading = shading_of(trace, spec.color_by)
    laid_out = lay_out_depths(trace, runs, LayoutSettings(
        spec.depth, spec.direction, id_prefix, dot, layout_timeout, shading=shading, marks=marks), budget, share)
    if shading is None and spec.color_by != "none":
        laid_out.problems.append(Problem("render", nothing_to_shade(spec.color_by)))
    timer.lap("layout")
    details = bounded_viewer_data(viewer_details(  # rows and details within a page's limits
        trace, id_prefix, laid_out.depth, laid_out.by_depth, laid_out.shown, runs, laid_out.omitted))
    timer.lap("views")
    return laid_out, details


def make_group(drawings: list[tuple[str, DiagramSpec]], settings: PipelineSettings = PipelineSettings(),
               *, torch_threads: int | None = None, known_onnx: tuple[bytes, str] | None = None,
               budget: Budget | None = None, memory_bytes: int | None = None,
               on_stage: Callable[[str], None] | None = None,
               build: Builder = build_model) -> list[Artifacts | NetvizError]:
    """Several drawings of one model and inputs (``(id prefix, spec)`` pairs): one trace, one export.

    The specs must share :meth:`DiagramSpec.export_view`; they differ only in
    how they are drawn (depth, direction, folding).  A failure to load or
    trace the model is raised; a drawing that fails is returned in its place.
    ``on_stage`` hears each stage's name as it starts (for the runner's
    progress file).  A spec whose target is an ``.onnx`` file is read by
    :mod:`~sphinx_netviz.onnx_import` instead (torch is not imported), and its
    download is the file itself (ONNX mode ``file``).
    """
    budget = budget or Budget()
    stage = on_stage or (lambda name: None)
    first = drawings[0][1]
    assert all(s.export_view() == first.export_view() for _, s in drawings), "one model per group"
    timer = _Timer()
    find_dot(settings.dot)  # fail before the slow part if Graphviz is missing
    traced = trace_target(first, settings, timer=timer, torch_threads=torch_threads,
                          memory_bytes=memory_bytes, on_stage=stage, build=build)
    trace, loaded, notes = traced.trace, traced.loaded, traced.notes
    if traced.onnx_file is not None:  # an ONNX file's download is the file itself
        known_onnx = (traced.onnx_file, "file") if first.onnx != "none" else None
    exporting = first.onnx != "none" and known_onnx is None
    # an export follows the layouts: they leave it part of the time
    layout_share = LAYOUT_SHARE_WITH_EXPORT if exporting else 1.0
    stage("render")
    results: list[Artifacts | NetvizError] = []
    runs_by_fold: dict[bool, list[Run]] = {}
    for index, (id_prefix, spec) in enumerate(drawings):
        share = layout_share / (len(drawings) - index)  # the drawings left share what time is left
        try:
            if spec.fold not in runs_by_fold:  # found once, for every drawing that folds
                runs_by_fold[spec.fold] = find_runs(trace) if spec.fold else []
            laid_out, details = lay_out_trace(trace, runs_by_fold[spec.fold], spec, settings.dot,
                                              settings.layout_timeout, id_prefix=id_prefix, budget=budget,
                                              share=share, timer=timer)
        except NetvizError as exc:
            results.append(exc)
            continue
        results.append(Artifacts(
            svg=laid_out.svg, dot=laid_out.source, onnx=None, onnx_mode=None, sources=traced.sources,
            modules=traced.modules, source_digests=traced.digests,
            model_name=traced.name, node_count=len(laid_out.diagram.nodes), depth=laid_out.depth,
            device=traced.device, layouts=laid_out.by_depth, details=details,
            weight_bytes=traced.weight_bytes, problems=laid_out.problems, notes=[*notes, *laid_out.notes],
        ))
    made = [r for r in results if isinstance(r, Artifacts)]
    onnx_bytes, onnx_mode = known_onnx or (None, None)
    export_ran_out = False
    if exporting and made:
        assert loaded is not None
        stage("export")
        exported = export_ladder(loaded, trace, _onnx_mode(first, settings, loaded, trace),
                                 asked=first.onnx, budget=budget,
                                 seconds=settings.export_timeout, cpu_max_mb=settings.cpu_max_mb,
                                 build_cpu=lambda: build(first, "cpu"), runs=runs_by_fold.get(True))
        onnx_bytes, onnx_mode = exported.data, exported.kind
        export_ran_out = exported.ran_out
        budget.ran_out |= export_ran_out
        for artifacts in made:
            artifacts.problems.extend(exported.problems)
            artifacts.notes.extend(exported.notes)
        timer.lap("onnx")
    for artifacts in made:  # what every drawing shares: the export, the timings, the time budget
        artifacts.onnx, artifacts.onnx_mode = onnx_bytes, onnx_mode
        artifacts.timings, artifacts.time_limited = dict(timer.timings), budget.ran_out
        artifacts.onnx_time_limited = export_ran_out
    return results


#: bytes per element of the dtypes a trace records (others count 8)
_ITEM_BYTES = {"bool": 1, "uint8": 1, "int8": 1, "float16": 2, "bfloat16": 2, "int16": 2,
               "float32": 4, "int32": 4, "float64": 8, "int64": 8, "complex64": 8, "complex128": 16}


def activation_bytes(trace: Trace) -> int:
    """Bytes of every tensor a forward pass made: what tracing it for real keeps alive."""
    total = 0
    for meta in trace.tensors.values():
        count = 1
        for dim in meta.shape:
            count *= dim
        total += count * _ITEM_BYTES.get(meta.dtype, 8)
    return total


def _load_and_trace(spec: DiagramSpec, settings: PipelineSettings, notes: list[str], timer: _Timer,
                    memory_bytes: int | None = None,
                    stage: Callable[[str], None] = lambda name: None,
                    build: Builder = build_model) -> tuple[LoadedModel, Trace]:
    """Build the model where it belongs and trace it; a failure names a ``:dtype:`` that would work.

    Some meta kernels take one dtype only (grouped matmuls of MoE layers: bfloat16).
    When the trace failed on meta with a message about types, the model is built
    on meta in the other dtypes, and the first that traces is named in the warning.
    """
    meta_failures: list[TraceProblem] = []
    try:
        return _place_and_trace(spec, settings, notes, timer, memory_bytes, stage, meta_failures, build)
    except TraceProblem as failure:
        if not any(_DTYPE_WORDS.search(f.message) and not _needs_integer_ids(f) for f in meta_failures):
            raise
        working = _dtype_that_traces(spec, build)
        if working is None:
            raise
        raise TraceProblem(f"{failure.without_hint.rstrip('. ')}. With {say('dtype', working)} the model traces "
                           f"on the meta device (its meta kernels reject {spec.float_dtype})") from failure


#: words of a failure that a different model dtype might avoid
_DTYPE_WORDS = re.compile(r"(?i)bf16|bfloat|float|half|dtype")


def _dtype_that_traces(spec: DiagramSpec, build: Builder) -> str | None:
    """The first other ``:dtype:`` in which the model builds and traces on meta, if any."""
    for dtype in MODEL_DTYPES:
        if dtype in ("auto", spec.float_dtype):
            continue
        try:
            _trace(spec, build(spec.replaced(dtype=dtype), "meta"))
        except NetvizError:
            continue
        return dtype
    return None


def _place_and_trace(spec: DiagramSpec, settings: PipelineSettings, notes: list[str], timer: _Timer,
                     memory_bytes: int | None, stage: Callable[[str], None],
                     meta_failures: list[TraceProblem], build: Builder) -> tuple[LoadedModel, Trace]:
    """Build the model where it belongs (see the module docstring) and trace it.

    With ``:device: auto`` a model is traced on meta.  A model small enough
    to build for real (``meta_above_mb``) whose weights and activations fit
    in ``CPU_TRACE_SHARE`` of ``memory_bytes`` is marked
    :attr:`~LoadedModel.real_run_fits`: the exporters that run the forward
    pass (a full file, TorchScript) build it on the CPU.  A forward pass that
    fails on meta is traced on the CPU instead, if the model fits there.
    """
    stage("build")
    if spec.device == "cpu":
        loaded = build(spec, "cpu")
    else:
        loaded = build(spec, "meta")
        if loaded.device != "meta" and spec.device == "meta":
            raise TraceProblem(
                f"{spec.target} is a model instance, already built on {loaded.device}; to trace "
                f"on the meta device name its class or a factory function instead, or set {say('device', 'cpu')}"
                if loaded.ready_made else
                f"{spec.target} built its model on {loaded.device} even on the meta device (it places "
                "its weights on a device itself); make it follow torch's default device, or set "
                f"{say('device', 'cpu')} or auto"
            )
    timer.lap("build")
    stage("trace")
    size = size_text(loaded.weight_bytes)
    cpu_room = None if memory_bytes is None else int(memory_bytes * CPU_TRACE_SHARE)
    on_meta = f"on the meta device, allocating none of its {size} of weights"
    if loaded.device == "meta" and spec.device == "auto" and loaded.weight_bytes <= settings.meta_above_mb * MB:
        try:
            meta_trace: Trace | None = _trace(spec, loaded)
        except TraceProblem as failure:
            if _needs_integer_ids(failure):  # float ids fail on the CPU just the same
                raise
            meta_failures.append(failure)
            meta_trace = None  # the forward needs real data: try the CPU below
        timer.lap("trace")
        need = loaded.weight_bytes + (activation_bytes(meta_trace) if meta_trace else _input_bytes(loaded))
        fits = cpu_room is None or need <= cpu_room
        if meta_trace is not None:
            if fits:
                notes.append(f"traced {spec.target} {on_meta}")
                return replace(loaded, real_run_fits=True), meta_trace
            notes.append(f"traced {spec.target} {on_meta}, and not run for real (for a full ONNX file), "
                         f"because that would take {size_text(need)} with its activations (more than half "
                         f"of {say('memory_mb')})")
            return loaded, meta_trace
        if not fits:
            raise TraceProblem(_too_big_for_cpu(spec, loaded, need, cpu_room, "the forward pass needs "
                                                "real data (it fails on the meta device), and"))
        stage("build")
        loaded = build(spec, "cpu")
        timer.lap("build")
        stage("trace")
    where = f"with real weights on the CPU ({size})" if loaded.device == "cpu" else on_meta
    if meta_failures:
        where += f", because on the meta device {meta_failures[0].without_hint}"
    try:
        trace = _trace(spec, loaded)
    except TraceProblem as meta_failure:
        if loaded.device == "meta":
            meta_failures.append(meta_failure)
        if loaded.device != "meta" or spec.device == "meta" or _needs_integer_ids(meta_failure):
            raise
        if loaded.weight_bytes > settings.cpu_max_mb * MB:
            raise TraceProblem(
                f"on the meta device {meta_failure.without_hint}; the forward pass needs "
                f"real data, and building the model for real would allocate {size} (more than "
                f"{say('cpu_max_mb', f'{settings.cpu_max_mb:g}')} MB). Make the forward work on meta "
                f"tensors (no .item() or data-dependent shapes) or raise {say('cpu_max_mb')}"
            ) from meta_failure
        need = loaded.weight_bytes + _input_bytes(loaded)
        if cpu_room is not None and need > cpu_room:
            raise TraceProblem(_too_big_for_cpu(
                spec, loaded, need, cpu_room, f"on the meta device {meta_failure.without_hint}, and"))
        timer.lap("trace")
        stage("build")
        loaded = build(spec, "cpu")
        timer.lap("build")
        stage("trace")
        trace = _trace(spec, loaded)
        where = (f"with real weights on the CPU ({size}), because on the meta device "
                 f"{meta_failure.without_hint}")
    timer.lap("trace")
    notes.append(f"traced {spec.target} {where}")
    return loaded, trace


def _input_bytes(loaded: LoadedModel) -> int:
    """Bytes of the example inputs (real or meta)."""
    from .trace import iter_tensors

    return sum(int(t.numel()) * t.element_size() for _, t in iter_tensors((loaded.args, loaded.kwargs)))


def _too_big_for_cpu(spec: DiagramSpec, loaded: LoadedModel, need: int, room: int, why: str) -> str:
    return (f"{why} building it for real with its inputs would take {size_text(need)}, more than half of "
            f"the memory limit ({say('memory_mb', f'{room * 2 / MB:g}')} MB). Make the forward work on meta "
            f"tensors, give a smaller {say('input_shapes')}, or raise {say('memory_mb')}")


#: what a forward pass raises when the inputs do not fit it (others get no :input-shape: hint)
_SHAPE_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, AssertionError)


def _trace(spec: DiagramSpec, loaded: LoadedModel) -> Trace:
    from .trace import trace_model

    try:
        trace, _ = trace_model(loaded.model, loaded.args, loaded.kwargs, loaded.input_names, loaded.name)
    except TraceProblem as exc:
        if not isinstance(exc.__cause__, _SHAPE_ERRORS):  # the inputs did not cause it: no hint
            raise
        hint = _integer_ids_hint(spec) if _INTEGER_ONLY.search(exc.message) else None
        if hint is None:
            given = "; ".join(", ".join(map(str, s)) for s in spec.input_shapes)
            hint = (f"check {say('input_shapes')} (given: {given})" if given else
                    f"check {say('inputs', spec.inputs)}")
        hinted = TraceProblem(f"{exc.message}; {hint}")
        hinted.without_hint = exc.message  # for failures the inputs did not cause
        raise hinted from exc
    return trace


#: what an operation that takes integer indices only says of float ones (embedding, gather, one_hot,
#: index_select, scatter, take, tensor indexing, a loss's target), on the CPU and on meta
_INTEGER_ONLY = re.compile(r"(?i)\b(indices|index)\b[^;]{0,80}?\b(long|int(?:32|64)?\b)"
                           r"|\b(long|int32|int64)\b[^;]{0,80}?\b(indices|index)\b|target dtype to be long")


def _needs_integer_ids(problem: TraceProblem) -> bool:
    """Did an operation that takes integer indices only get floats (token ids as float32)?"""
    return bool(_INTEGER_ONLY.search(problem.without_hint))


def _integer_ids_hint(spec: DiagramSpec) -> str | None:
    """What to write so that the example inputs are integer ids (``:input-dtype: int64``), or
    ``None`` when every shaped input already is integer (the model itself made the floats)."""
    if spec.inputs:
        return f"make {say('inputs', spec.inputs)} return integer ids (torch.long tensors)"
    if not spec.input_shapes or not any(d.startswith(("float", "bfloat")) for d in spec.dtypes_per_input):
        return None
    count = len(spec.input_shapes)
    dtypes = ", ".join(["int64"] + [spec.float_dtype] * (count - 1))
    give = say("input_dtypes", f'"{dtypes}"' if frontend() is Frontend.API else dtypes)  # draw(input_dtype="int64")
    if count == 1:
        return f"the example input is {spec.float_dtype}, and this operation takes integer indices: give {give}"
    return (f"the example inputs are {spec.float_dtype}, and this operation takes integer indices: give {give} "
            "(one dtype per input: int64 for those that hold ids)")


def _onnx_mode(spec: DiagramSpec, settings: PipelineSettings, loaded: LoadedModel, trace: Trace) -> str:
    """``auto``: ``full`` for small weights traced on the CPU, ``structure`` otherwise.

    A small model that may not run for real (its activations are too big)
    keeps the structure file: a full export would run the forward for real.
    """
    if spec.onnx != "auto":
        return spec.onnx
    small = loaded.weight_bytes <= settings.onnx_max_mb * MB
    runs = loaded.device == "cpu" or loaded.real_run_fits or spec.device == "meta"
    return "full" if small and runs else "structure"


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
