"""The two sides of an architecture diff: which model each side is, and its snapshot.

Shared by the command line (``netviz NEW --against OLD``, ``--snapshot``),
:func:`sphinx_netviz.diff` and the ``netviz-diff`` directive's child jobs.
A side is a :class:`~sphinx_netviz.spec.DiagramSpec` (an import target or an
``.onnx`` file, built and traced as a drawing is) or a snapshot file
(``.json``, read, nothing run).  :func:`old_spec` makes the old side's spec
from the new one's options, with its own keyword arguments merged over the
shared ones; :func:`trace_side` traces one (torch is imported only here).

For the directive, a diff is two kinds of child job: one per side
(:func:`side_key`: the side's snapshot, stored in the cache and checked
against the files it was made from, as a diagram is) and one that merges
them (:func:`merged_artifacts`: two snapshots in, the merged drawing out,
with the changes in its viewer data under ``diff``; no model code runs).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .archdiff import ArchDiff
from .artifacts import Artifacts
from .errors import InputProblem, NetvizError
from .ir import Trace
from .limits import Budget
from .loader import Builder, build_model
from .onnx_import import is_onnx_path
from .snapshot import Snapshot, SnapshotProblem, make_snapshot, read_snapshot, snapshot_trace
from .options import values_checked
from .spec import FILE_OPTIONS, DiagramSpec

if TYPE_CHECKING:
    from .cache import DiagramCache
    from .jobs import Job
    from .pipeline import PipelineSettings

__all__ = ["Side", "check_comparable", "make_diffs", "make_sides", "MAX_CHANGES", "changes_of", "diff_key", "is_snapshot_path", "merged_artifacts", "old_spec",
           "side_key", "side_snapshot", "trace_side", "with_kwargs"]

#: change records a merged drawing's viewer data keeps (its Changes table says how many more)
MAX_CHANGES = 2_000

def is_snapshot_path(target: str) -> bool:
    """Whether a side names a snapshot file (``*.json``) rather than a model or an ONNX file."""
    return target.lower().endswith(".json")


def check_comparable(old: str, new: str) -> None:
    """Refuse an ONNX file against a model (either way round): an ONNX file's layers are operators
    (Gemm, Conv), a model's are modules (Linear, Conv2d), so every layer would show changed."""
    if is_onnx_path(old) == is_onnx_path(new) or is_snapshot_path(old):
        return
    onnx, model = (old, new) if is_onnx_path(old) else (new, old)
    raise InputProblem(f"{onnx} is an ONNX file and {model} a model: an ONNX file's layers are "
                       "operators (Gemm, Conv), a model's are modules (Linear, Conv2d), so every "
                       "layer would differ; compare two ONNX files (export the model with "
                       "torch.onnx.export, or take its netviz diagram's ONNX download) or two models")


def with_kwargs(spec: DiagramSpec, kwargs: dict[str, object] | None) -> DiagramSpec:
    """``spec`` with ``kwargs`` merged over its own keyword arguments (a side's :old-kwargs:)."""
    return spec if not kwargs else spec.replaced(kwargs={**spec.kwargs, **kwargs})  # kwargs: checked where given


def old_spec(new: DiagramSpec, target: str, kwargs: dict[str, object] | None = None) -> DiagramSpec:
    """The spec of the old side: ``target`` drawn with the new side's options (and ``kwargs`` merged
    over its keyword arguments); an ONNX file takes the drawing options only."""
    if not is_onnx_path(target):
        old = new.replaced(target=target)
    else:  # the drawing options only, as checked for the new side (not checked again)
        with values_checked():
            old = DiagramSpec(target, **{name: getattr(new, name) for name in FILE_OPTIONS if name != "onnx"},
                              onnx="none")
    return with_kwargs(old, kwargs) if not old.is_onnx_file else old


def trace_side(spec: DiagramSpec, settings: object = None, *, build: Builder = build_model,
               notes: list[str] | None = None) -> Trace:
    """Build and trace the model of ``spec`` (or read its ONNX file) as a drawing would."""
    from .pipeline import PipelineSettings, trace_target

    traced = trace_target(spec, settings if isinstance(settings, PipelineSettings) else PipelineSettings(),
                          build=build)
    if notes is not None:
        notes.extend(traced.notes)
    return traced.trace


def side_snapshot(target: str | Path, spec: DiagramSpec | None, settings: object = None, *,
                  build: Builder = build_model, notes: list[str] | None = None) -> tuple[Snapshot, Trace]:
    """A side's snapshot and trace: read from a snapshot file, or traced from ``spec``."""
    if spec is None or is_snapshot_path(str(target)):
        snapshot = read_snapshot(target)
        return snapshot, snapshot_trace(snapshot)
    trace = trace_side(spec, settings, build=build, notes=notes)
    return make_snapshot(trace), trace



def side_key(spec_key: str, commit: str = "") -> str:
    """The cache key of a side's snapshot: the side's diagram key (``spec_key``), salted so that it
    is no diagram's, and with the commit its files were extracted from (``:against: REF``)."""
    return hashlib.sha256(json.dumps(["architecture snapshot", spec_key, commit]).encode()).hexdigest()


def diff_key(view_key: str, old: str, new: str) -> str:
    """The cache key of a merged drawing: how it is drawn (``view_key``, the key of the drawing
    options) and the two sides (their :func:`side_key`, or a snapshot file's content digest)."""
    return hashlib.sha256(json.dumps(["architecture diff", view_key, old, new]).encode()).hexdigest()


def parse_snapshot(data: bytes, where: str) -> Snapshot:
    """A stored snapshot's bytes, checked (:class:`SnapshotProblem` naming ``where`` if they are not one)."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SnapshotProblem(f"{where} is not JSON ({exc})") from exc
    return read_snapshot(parsed if isinstance(parsed, dict) else {})


def merged_artifacts(old: Snapshot, new: Snapshot, spec: DiagramSpec, dot: str = "dot",
                     layout_timeout: float = 30.0, *, id_prefix: str = "nv",
                     budget: Budget | None = None) -> tuple[Artifacts, ArchDiff]:
    """The merged drawing of two snapshots (:func:`~.diffdraw.draw_diff`, drawn as ``spec`` says),
    with the changes in its viewer data (``diff``: :meth:`ArchDiff.to_dict`, at most
    :data:`MAX_CHANGES` records, ``changes_total`` counting them all)."""
    from .diffdraw import draw_diff

    drawn = draw_diff((old, snapshot_trace(old)), (new, snapshot_trace(new)), spec, dot, layout_timeout,
                      id_prefix=id_prefix, budget=budget)
    record: dict[str, Any] = drawn.diff.to_dict()
    record["changes_total"] = len(record["changes"])
    record["changes"] = record["changes"][:MAX_CHANGES]
    record["marks"] = {}  # the drawing has them; the table does not need them
    drawn.artifacts.details = {**drawn.artifacts.details, "diff": record}
    return drawn.artifacts, drawn.diff


def changes_of(details: dict[str, Any]) -> tuple[ArchDiff, int] | None:
    """The changes a merged drawing's viewer data holds, and how many there were in all; None for
    a drawing that is no diff (``KeyError``/``TypeError``/``ValueError`` for damaged data)."""
    record = details.get("diff")
    if record is None:
        return None
    diff = ArchDiff.from_dict(record)
    return diff, int(record.get("changes_total", len(diff.changes)))


@dataclass(frozen=True)
class Side:
    """One side of a ``netviz-diff`` as its jobs know it: a stored snapshot (``key``: its
    :func:`side_key`, found along ``sys_path``) or a snapshot file (``path``)."""

    key: str = ""
    path: str = ""
    #: where the side's modules are found (a git ref's extracted tree for ``:against: REF``)
    sys_path: tuple[str, ...] = ()
    #: the side's own words, for messages (``the old side (v1.0)``)
    label: str = "a side"


def make_sides(job: Job, stage: Callable[[str], None], budget: Budget) -> list[Artifacts | NetvizError]:
    """A ``side`` job's drawings (in the child): each side's model traced as a drawing's would be,
    its snapshot as the ``details`` of an otherwise empty :class:`Artifacts` (its sources, notes,
    timings) for :meth:`~sphinx_netviz.cache.DiagramCache.store_snapshot`.  Modules imported from
    inside the cache folder (a git ref's extracted tree, ``:against: REF``) are kept by path, not
    by name: their names stand for the working tree's files where the build looks them up."""
    from .pipeline import trace_target

    made: list[Artifacts | NetvizError] = []
    for drawing in job.drawings:
        try:
            traced = trace_target(drawing.spec, job.settings, torch_threads=1,
                                  memory_bytes=job.limits.memory_bytes, on_stage=stage)
        except NetvizError as exc:
            made.append(exc)
            continue
        stage("render")
        made.append(Artifacts(
            svg=b"", dot="", onnx=None, onnx_mode=None, sources=traced.sources,
            modules={name: path for name, path in traced.modules.items() if not _inside(path, job.cache_root)},
            source_digests=traced.digests,
            model_name=traced.name, device=traced.device, weight_bytes=traced.weight_bytes,
            details=make_snapshot(traced.trace), notes=list(traced.notes)))
    return made


def _inside(path: str, folder: str) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def _side_bytes(side: Side, cache: DiagramCache) -> tuple[str, bytes]:
    """Where a side's snapshot is, and its bytes: a snapshot file, or the side's stored snapshot."""
    from .cache import DiagramCache, verified_bytes

    if side.path:
        read_snapshot(side.path)  # checked first, with the file's own messages (and its size)
        try:
            return side.path, Path(side.path).read_bytes()
        except OSError as exc:
            raise SnapshotProblem(f"cannot read the snapshot file {side.path!r}: {exc.strerror or exc}") from exc
    # found as the directive found it: along the side's own sys.path (a git ref's tree), else the job's
    finder = DiagramCache(cache.root, search_path=side.sys_path) if side.sys_path else cache
    found = finder.lookup_snapshot(side.key, just_stored=True, drawn=True)
    if found is None:
        raise SnapshotProblem(f"{side.label} was not traced (see the warning about it), so there is "
                              "nothing to compare")
    return str(found.path), verified_bytes(found.path)


def make_diffs(job: Job, stage: Callable[[str], None], budget: Budget,
               cache: DiagramCache) -> list[Artifacts | NetvizError]:
    """A ``diff`` job's drawing (in the child): its two stored sides (``job.sides``, old and new)
    merged and drawn as its spec says; the drawing depends on the two snapshots it was made from
    (its sources, by path).  No model code runs: the sides are snapshots."""
    stage("read")
    try:
        read = [_side_bytes(side, cache) for side in job.sides]
        (old_path, old_data), (new_path, new_data) = read
        old, new = (parse_snapshot(data, side.label) for data, side in ((old_data, job.sides[0]),
                                                                         (new_data, job.sides[1])))
    except NetvizError as exc:
        return [exc for _ in job.drawings]
    stage("render")
    made: list[Artifacts | NetvizError] = []
    for drawing in job.drawings:
        try:
            artifacts, _ = merged_artifacts(old, new, drawing.spec, job.settings.dot, job.settings.layout_timeout,
                                            id_prefix=f"nv{drawing.key[:8]}", budget=budget)
        except NetvizError as exc:
            made.append(exc)
            continue
        artifacts.sources = sorted({old_path, new_path})
        artifacts.source_digests = {old_path: hashlib.sha256(old_data).hexdigest(),
                                    new_path: hashlib.sha256(new_data).hexdigest()}
        artifacts.time_limited = budget.ran_out
        made.append(artifacts)
    return made
