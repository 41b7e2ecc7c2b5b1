"""Diagrams asked for while reading, drawn in child processes, resolved when pages are written.

Between the directive and the writers (directive → **collect** → runner →
cache → node visitors).  The Sphinx process never imports torch or model
code:

* the directive looks its diagram up in the (verified) cache; on a miss it
  leaves a :class:`Request` in the environment;
* in a serial build the main process hands a page's requests to the
  :class:`~sphinx_netviz.runner.DiagramRunner` as soon as the page is read
  (``doctree-read``), so diagrams are drawn while Sphinx reads on; requests
  read by ``-j`` workers reach the main process with the environment;
* at ``env-updated`` every request left is submitted, all are awaited, and
  each outcome becomes located warnings (at every directive that asked for
  the diagram) and dependencies of the pages;
* when a page is written, :class:`FillDiagrams` (a post-transform, before
  cross-references are resolved) gives each node its files from the cache
  as cache-relative keys (:func:`cache_file` resolves them for the writers,
  refusing any that leads out of the cache), or its failure, and expands a
  drawn diagram's summary table and class links (:mod:`.summary`); a page
  whose diagram vanished from the cache is read again (``env-get-outdated``).

Every event looks a diagram up through :func:`found`: once per diagram per
build and process (:class:`~.state.BuildRun`), however many events ask.  The
state lives in one object, ``env.netviz`` (:mod:`.state`).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import ReferencesResolver, SphinxPostTransform
from sphinx.util import logging

from ..cache import CachedDiagram, DiagramCache
from ..jobs import Drawing, Failure, Job
from ..preload import Preloads
from ..runner import DiagramRunner, JobOutcome
from ..spec import DiagramSpec
from . import events
from .cachefiles import cache_for, cache_key, cache_root, keep_details, node_details
from .config import NetvizConfig
from .diagram_node import has_writer, netviz_diagram, unreadable
from .state import build_run, state
from .summary import links_node, summary_node

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """A diagram a directive asked for and the cache did not have."""

    key: str
    export_key: str
    spec: DiagramSpec
    timeout: float
    docname: str
    lineno: int
    #: what the child makes (:attr:`~sphinx_netviz.jobs.Job.kind`): ``draw``; for a ``netviz-diff``
    #: (:mod:`.diff_directive`), ``side`` (a side's snapshot) or ``diff`` (the merged drawing,
    #: submitted once the sides are drawn)
    kind: str = "draw"
    #: where the model is imported from, if not the build's ``sys.path`` (``:against: REF``)
    sys_path: tuple[str, ...] | None = None
    #: a ``diff``'s two sides (:class:`~sphinx_netviz.archjob.Side`)
    sides: tuple[Any, ...] = ()

    @property
    def location(self) -> tuple[str, int]:
        return (self.docname, self.lineno)


def _requests(env: Any) -> dict[str, list[Request]]:
    """Requests not drawn yet, by page."""
    return state(env).requests


def failures(env: Any) -> dict[str, Failure]:
    """Diagrams that could not be drawn, by key (kept until one is drawn)."""
    return state(env).failures


def diagram_keys(env: Any) -> dict[str, set[str]]:
    """The diagram keys on each page (to read a page again when its diagram left the cache)."""
    return state(env).keys


def found(env: Any, key: str, *, just_stored: bool = False) -> CachedDiagram | None:
    """The cached diagram of ``key``, looked up once per build (:meth:`~.state.BuildRun.found`)."""
    return build_run(env).found(key, just_stored=just_stored)


def note_key(env: Any, key: str) -> None:
    diagram_keys(env).setdefault(env.docname, set()).add(key)


def request(env: Any, req: Request) -> None:
    """Ask for a diagram the cache does not have (drawn by the end of reading)."""
    _requests(env).setdefault(req.docname, []).append(req)


# -- the runner, in the main process only ------------------------------------------

def _is_main_process(app: Sphinx) -> bool:
    return build_run(app.env).is_main


def _runner(app: Sphinx) -> DiagramRunner:
    run = build_run(app.env)
    if run.runner is None:
        config = NetvizConfig.from_sphinx(app.config)
        # the children's scratch folders beside the cache: their files are renamed into it
        root = cache_root(app.config, app.doctreedir)  # (the learned preload list is kept there too)
        run.runner = DiagramRunner(root / "jobs", jobs=config.job_count, preload=Preloads(config["preload"], root))
        run.submitted, run.unsubmitted = set(), {}
    return run.runner


def _submit(app: Sphinx, requests: list[Request], *, merges: bool = False) -> None:
    """Group requests by model and inputs (one child each) and hand them to the runner; the
    merges of architecture diffs (kind ``diff``) only with ``merges``, once their sides are drawn."""
    runner = _runner(app)
    run = build_run(app.env)
    submitted = run.submitted
    groups: dict[tuple[str, str, float, tuple[str, ...] | None], dict[str, Request]] = {}
    for req in requests:
        if req.key not in submitted and (req.kind == "diff") == merges:
            groups.setdefault((req.kind, req.export_key, req.timeout, req.sys_path), {})[req.key] = req
    config = NetvizConfig.from_sphinx(app.config)
    if groups and not submitted:  # the build's first diagram to draw: its first netviz line
        events.announce_engine(config.pipeline_settings.dot)
    for (kind, export_key, timeout, sys_path), by_key in groups.items():  # the runner decides which starts first
        job = Job(
            drawings=tuple(Drawing(key, req.spec) for key, req in by_key.items()),
            export_key=export_key, settings=config.pipeline_settings, limits=config.limits(timeout),
            cache_root=str(cache_root(app.config, app.doctreedir)), sys_path=sys_path or tuple(sys.path),
            cwd=os.getcwd(), folders=(str(app.confdir), str(app.srcdir)), kind=kind,
            sides=next(iter(by_key.values())).sides,
        )
        try:
            runner.submit(job)
        except OSError as exc:  # reported with the outcomes, once per directive
            failure = Failure("write", f"cannot prepare the diagram's job folder ({exc.strerror or exc}); "
                                       f"make {cache_root(app.config, app.doctreedir)} writable")
            run.unsubmitted.update(dict.fromkeys(by_key, failure))
        submitted.update(by_key)


def builder_inited(app: Sphinx) -> None:
    """The main process's part of the build (``-j`` readers and writers are forks of it)."""
    build_run(app.env)


def doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Serial builds: start drawing a page's diagrams as soon as it is read."""
    if _is_main_process(app):
        pending = _requests(app.env).get(app.env.docname, [])
        if pending:
            _submit(app, pending)


def env_updated(app: Sphinx, env: Any) -> list[str]:
    """Draw every diagram still asked for; warn at each directive that asked for one that failed."""
    state(env).limits = _limits_now(app)
    pending = [req for reqs in _requests(env).values() for req in reqs]
    if not pending:
        _close(app)
        return []
    try:
        _submit(app, pending)
        outcomes = _runner(app).wait()
        diffs = [req for req in pending if req.kind == "diff"]
        if diffs:  # architecture diffs: merged once their sides are drawn (a side that failed said why)
            failed = {key for outcome in outcomes for key in outcome.result.failures}
            _submit(app, [req for req in diffs if not failed & {side.key for side in req.sides}], merges=True)
            outcomes += _runner(app).wait()
    finally:
        _close(app)
    outcome_of = {d.key: o for o in outcomes for d in o.job.drawings}
    sides = {req.key for req in pending if req.kind == "side"}
    made = [key for key, o in outcome_of.items() if key not in o.result.failures]
    # drawn by this build's jobs, along this process's sys.path (the jobs' own), as they were
    # drawn: a source edited while it was drawn is named, and misses every later build's lookup
    drawn: dict[str, Any] = build_run(env).drawn([key for key in made if key not in sides])
    drawn.update({key: build_run(env).cache.lookup_snapshot(key, just_stored=True, drawn=True)
                  for key in made if key in sides})
    unsubmitted = build_run(env).unsubmitted
    for req in sorted(pending, key=lambda r: r.location):  # warnings in page and line order
        outcome = outcome_of.get(req.key)
        if req.key in unsubmitted:
            _fail(app, req, unsubmitted[req.key])
        elif outcome is None and req.kind == "diff":  # a side failed, and its warning says why
            failures(env)[req.key] = Failure("trace", "a side of the diff could not be drawn")
        elif outcome is None:  # the runner was closed before it ran (cannot happen in one build)
            _fail(app, req, Failure("trace", "it was not drawn; build again"))
        else:
            _report(app, req, outcome, drawn.get(req.key))
    _requests(env).clear()
    return []


def _close(app: Sphinx) -> None:
    run = build_run(app.env)
    if run.runner is not None:
        run.runner.close()
        run.runner = None


def _report(app: Sphinx, req: Request, outcome: JobOutcome, found: CachedDiagram | None) -> None:
    """What one directive's diagram came to: warnings, notes and the page's dependencies."""
    failure = outcome.result.failures.get(req.key)
    if failure is None and found is None:
        failure = Failure("write", "the diagram was drawn, but its files in the cache are missing or "
                                   "damaged; check that nothing else writes into the diagram cache")
    if failure is not None:
        _fail(app, req, failure)
        return
    assert found is not None
    failures(app.env).pop(req.key, None)
    for source in found.sources:
        app.env.note_dependency(source, docname=req.docname)
    for problem in [*found.problems, *outcome.result.problems]:
        warn(req.spec.target, problem.stage, problem.message, req.location, drawn=True)
    for note in found.notes:
        logger.info("netviz: %s", note, location=req.location)
    if found.changed:
        logger.info("netviz: %s changed while %s was drawn; this build shows the diagram of the files as "
                    "they were imported, the next build draws it again", ", ".join(found.changed),
                    req.spec.target, location=req.location)
    if req.kind != "side":  # a diff counts once, as its merged drawing
        events.record(app.env, "traced", req.docname)


def _fail(app: Sphinx, req: Request, failure: Failure) -> None:
    warn(req.spec.target, failure.stage, failure.message, req.location)
    failures(app.env)[req.key] = failure
    events.record(app.env, "failed", req.docname)
    note_model_file(app.env, req.spec.target, req.docname)


def warn(target: str, stage: str, message: str, location: tuple[str, int] | nodes.Node, *,
         drawn: bool = False) -> None:
    """One ``netviz.<stage>`` warning at a directive's line."""
    logger.warning("%s: %s" if drawn else "cannot draw %s: %s", target, message,
                   type="netviz", subtype=stage, location=location)


def note_model_file(env: Any, target: str, docname: str) -> None:
    """Read the page again when the (broken) model file, or ONNX file, is fixed.

    The file is found as ``import`` would find it, without running any code
    (:func:`~..deps.find_module_file`: no package ``__init__`` is imported here).
    """
    from ..deps import find_module_file, is_project_file
    from ..onnx_import import is_onnx_path

    if is_onnx_path(target):  # the directive noted the file itself
        return

    module_name = target.partition(":")[0].strip()
    while module_name:
        found = find_module_file(module_name, sys.path)
        if found is not None and is_project_file(found):
            env.note_dependency(found, docname=docname)
            return
        module_name = module_name.rpartition(".")[0]


# -- environment bookkeeping ------------------------------------------------------------

def purge_doc(app: Sphinx, env: Any, docname: str) -> None:
    _requests(env).pop(docname, None)
    diagram_keys(env).pop(docname, None)


def merge_info(app: Sphinx, env: Any, docnames: Set[str], other: Any) -> None:
    mine, theirs = _requests(env), _requests(other)
    keys, their_keys = diagram_keys(env), diagram_keys(other)
    for docname in docnames:
        if docname in theirs:
            mine[docname] = theirs[docname]
        if docname in their_keys:
            keys[docname] = their_keys[docname]
    failures(env).update(failures(other))
    if _is_main_process(app):  # -j: draw a chunk's diagrams while the other chunks are read
        pending = [req for docname in docnames for req in mine.get(docname, [])]
        if pending:
            _submit(app, pending)


def before_read(app: Sphinx, env: Any, docnames: list[str]) -> None:
    """Start the fork server (2–5 s: torch, the meta and exporter warm-ups) while Sphinx reads,
    if a page to read will draw: a known page with a diagram the cache cannot give, or a new
    page while the cache is empty (a first build).  A new page beside a cache that holds
    diagrams (a fresh environment, a hosted build that keeps ``netviz_cache_dir``) may find its
    diagrams there: the server starts when a page asks for one it lacks (:func:`doctree_read`,
    or :func:`merge_info` under ``-j``).  A build that draws nothing starts nothing."""
    keys = diagram_keys(env)
    first_build = functools.cache(lambda: not build_run(env).cache.holds_diagrams())

    def may_draw(docname: str) -> bool:
        if docname not in env.all_docs:
            return first_build()
        return any((hit := found(env, key)) is None or hit.time_limited for key in keys.get(docname, ()))

    if _is_main_process(app) and any(may_draw(docname) for docname in docnames):
        _runner(app).prestart(warm_export=NetvizConfig.from_sphinx(app.config)["onnx"] != "none")


def _limits_now(app: Sphinx) -> tuple[float, float]:
    config = NetvizConfig.from_sphinx(app.config)
    limits = config.limits()
    return (limits.timeout, limits.memory_mb)


def outdated(app: Sphinx, env: Any, added: Set[str], changed: Set[str], removed: Set[str]) -> list[str]:
    """Pages to read again: their diagram left the cache (deleted, damaged), or it failed and the
    limits changed since (a raised ``netviz_memory_mb`` does not re-read pages by itself).

    The first event of each build: the lookups of the build before are forgotten here."""
    build_run(env).new_build()
    known_failed = failures(env)
    retry = state(env).limits != _limits_now(app)
    return sorted(docname for docname, keys in diagram_keys(env).items()
                  if docname not in removed
                  and any((retry and key in known_failed)
                          or (key not in known_failed and found(env, key) is None) for key in keys))


def fill(env: Any, node: netviz_diagram, cache: DiagramCache) -> bool:
    """Give a diagram node its files from the cache (cache-relative keys), or its failure.

    Whether the node was drawn.
    """
    key = node.get("key")
    if not key or node.get("error"):
        return False
    failure = failures(env).get(key)
    if failure is not None:
        node["error"] = failure.message
        return False
    # this build's lookup (a diagram drawn by this build: as it was drawn); else just_stored: a
    # diagram whose modules cannot be found without running code misses every other lookup
    # (``outdated`` reads its page again), so it was drawn by this build
    hit = found(env, key, just_stored=True)
    if hit is None:
        node["error"] = "its files are missing from the cache; build again to draw it"
        warn(node["target"], "write", node["error"], node)
        return False
    node.update_all_atts({
        "svg": cache_key(cache, hit.svg_path), "dot": cache_key(cache, hit.dot_path),
        "onnx": cache_key(cache, hit.onnx_path) if hit.onnx_path else "",
        "onnx_mode": hit.onnx_mode or "", "model": hit.model_name,
        "details": cache_key(cache, hit.details_path),
        "layouts": {str(depth): cache_key(cache, path) for depth, path in hit.layouts.items()},
    })
    return True


class FillDiagrams(SphinxPostTransform):
    """When a page is written, before cross-references are resolved: each diagram takes its
    files from the cache, or its failure.  For builders that write diagrams, a drawn one gets
    its summary table (:mod:`.summary`; inside the diagram in HTML, after its figure elsewhere)
    and, in HTML, the class links of its viewer; their ``pending_xref`` nodes are then resolved
    by Sphinx with every other reference of the page."""

    default_priority = ReferencesResolver.default_priority - 2
    #: the application whose pages this writes (see :func:`register`)
    sphinx: Sphinx

    def run(self, **kwargs: Any) -> None:
        writes = has_writer(self.sphinx)
        html = self.sphinx.builder.format == "html"
        cache = None
        for node in list(self.document.findall(netviz_diagram)):
            cache = cache or cache_for(self.env)
            if not fill(self.env, node, cache) or not writes:
                continue
            try:  # parsed once per page written: kept on the node for its HTML writer
                details = node_details(self.env, node)  # size-checked first
                table = summary_node(details) if node.get("summary", True) else None
                links = links_node(details) if html else None
            except (OSError, ValueError, KeyError, TypeError) as exc:
                unreadable(node, exc)
                continue
            if html:
                keep_details(node, details)
            if links is not None:
                node += links
            if table is not None and html:
                node += table
            elif table is not None:  # LaTeX: no table inside a floating figure
                anchor = node.parent if isinstance(node.parent, nodes.figure) else node
                anchor.parent.insert(anchor.parent.index(anchor) + 1, table)


def register(app: Sphinx) -> None:
    """Fill diagram nodes in when pages are written (a post-transform bound to ``app``)."""
    app.add_post_transform(type("FillDiagrams", (FillDiagrams,), {"sphinx": app}))
