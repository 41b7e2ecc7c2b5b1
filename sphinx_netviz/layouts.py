"""Lay out the depths one diagram shows, within its share of the time: the asked depth, then the viewer's others.

Pipeline step *render* (trace → graph → dot → **layouts** → views).  The one
place that runs Graphviz for a drawing: :func:`lay_out_depths` draws the
asked depth (or, when Graphviz cannot in time or the drawing is too big, a
shallower one, with a warning), then every other depth the page's viewer
can switch to (Graphviz cannot run in the browser without a large WASM),
several Graphviz runs at once (:func:`layout_workers`), taken in depth order.
A viewer depth that cannot be laid out is left out, and the page says so; one
that Graphviz itself fails on (Graphviz 2.43's "trouble in init_rank" on some
cluster nestings) is also named in an info note — not a warning, since the
author asked for another depth and cannot fix Graphviz.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING
from dataclasses import dataclass, field

from .artifacts import Problem
from .dot import to_dot
from .errors import LayoutTimeout, RenderProblem
from .fold import Run
from .graph import Diagram, build_diagram
from .ir import Trace, deepest_level
from .limits import DIAGRAMS_AT_ONCE, MAX_INLINE_BYTES, MAX_LAYOUT_BOXES, Budget
from .options import say
from .render import RunningDot, start_dot
from .shading import Shading
from .svgsafe import sanitized_svg_file
from .values import Direction, size_text

if TYPE_CHECKING:
    from .merge import Merged

#: the deepest level laid out for the page's expand/collapse controls
MAX_VIEW_DEPTH = 8
#: seconds between looks at the viewer depths' Graphviz runs, while one may free a slot
_POLL = 0.005


def layout_workers() -> int:
    """How many Graphviz runs of the viewer's depths one diagram may have going at once.

    The CPUs this process may use, shared by the diagrams drawn at once (the runner says how
    many in :data:`DIAGRAMS_AT_ONCE`: a ``-j`` build does not run more ``dot`` than CPUs).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    try:
        at_once = int(os.environ.get(DIAGRAMS_AT_ONCE) or 1)
    except ValueError:
        at_once = 1
    return max(1, cpus // max(1, at_once))


class LayoutTooBig(RenderProblem):
    """A depth that is not laid out: too many boxes, or an SVG too big for the page."""


@dataclass(frozen=True)
class LayoutSettings:
    """How one drawing is laid out: which depth, which way, with which Graphviz, how fast."""

    depth: int
    direction: Direction
    id_prefix: str
    dot: str = "dot"
    #: seconds one Graphviz run may take (within the budget's share)
    timeout: float = 30.0
    #: Graphviz runs of the viewer's depths at once (0: :func:`layout_workers`)
    workers: int = 0
    #: ``:color-by:``: what the module boxes are shaded by (None: their layer family)
    shading: Shading | None = None
    #: an architecture diff: what each call of the (merged) trace is (None: not a diff)
    marks: Merged | None = None


@dataclass
class Layouts:
    """The drawn depth and every depth the viewer can switch to."""

    #: the depth drawn (shallower than asked if the asked one could not be laid out)
    depth: int
    svg: bytes
    source: str
    diagram: Diagram
    #: every depth's SVG, the drawn one included, by depth
    by_depth: dict[int, bytes]
    #: the calls drawn (as boxes or clusters) at some depth
    shown: set[int]
    #: viewer depths left out (too big or too slow; deeper ones follow)
    omitted: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: what the author may want to know (a viewer depth Graphviz failed on)
    notes: list[str] = field(default_factory=list)


class _Depth:
    """One depth on its way to an SVG: its diagram and DOT, then its Graphviz run (or why it has none)."""

    def __init__(self, depth: int, diagram: Diagram, settings: LayoutSettings) -> None:
        self.depth = depth
        self.settings = settings
        self.diagram = diagram
        fits = len(self.diagram.nodes) <= MAX_LAYOUT_BOXES
        self.source = to_dot(self.diagram, settings.direction, settings.id_prefix, settings.shading,
                             settings.marks) if fits else ""
        self.running: RunningDot | None = None
        #: why it was not given to Graphviz: too many boxes, no time left, no Graphviz
        self.failed: RenderProblem | None = None
        self._timed_out: LayoutTimeout | None = None

    def start(self, timeout: float) -> None:
        """Start Graphviz, within ``timeout`` seconds from now; not on more than ``MAX_LAYOUT_BOXES`` boxes."""
        boxes = len(self.diagram.nodes)
        try:
            if boxes > MAX_LAYOUT_BOXES:
                raise LayoutTooBig(f"depth {self.depth} has {boxes:,} boxes, more than the {MAX_LAYOUT_BOXES:,} "
                                   "Graphviz can lay out in reasonable time")
            self._timed_out = LayoutTimeout(f"Graphviz did not lay out depth {self.depth} ({boxes} boxes) "
                                            f"within {timeout:.3g} s")
            if timeout <= 0:
                raise self._timed_out
            self.running = start_dot(self.source, "svg", self.settings.dot, timeout)
        except RenderProblem as exc:
            self.failed = exc

    def done(self) -> bool:
        """Would :meth:`svg` answer without waiting?"""
        return self.running is None or self.running.done()

    def svg(self) -> bytes:
        """The SVG (sanitized), once Graphviz is done; :class:`LayoutTooBig` for one over
        ``MAX_INLINE_BYTES``, :class:`~sphinx_netviz.errors.LayoutTimeout` past the time."""
        if self.running is None:  # not given to Graphviz
            assert self.failed is not None, "svg() before start()"
            raise self.failed
        try:
            svg = sanitized_svg_file(self.running.result())
        except LayoutTimeout:
            assert self._timed_out is not None
            raise self._timed_out from None
        if len(svg) > MAX_INLINE_BYTES:
            raise LayoutTooBig(f"the SVG of depth {self.depth} is {size_text(len(svg))}, more than the "
                               f"{size_text(MAX_INLINE_BYTES)} a page may inline")
        return svg

    def kill(self) -> None:
        if self.running is not None:
            self.running.kill()


def lay_out(trace: Trace, depth: int, runs: list[Run], settings: LayoutSettings,
            timeout: float) -> tuple[bytes, str, Diagram]:
    """One depth's SVG (sanitized), DOT source and diagram.

    Raises :class:`LayoutTooBig` before running Graphviz on more than
    ``MAX_LAYOUT_BOXES`` boxes, or after, for an SVG over
    ``MAX_INLINE_BYTES``; :class:`~sphinx_netviz.errors.LayoutTimeout` past ``timeout``.
    """
    layout = _Depth(depth, build_diagram(trace, depth, runs=runs), settings)
    layout.start(timeout)
    return layout.svg(), layout.source, layout.diagram


def lay_out_depths(trace: Trace, runs: list[Run], settings: LayoutSettings, budget: Budget | None = None,
                   share: float = 1.0) -> Layouts:
    """The asked depth (or the deepest that can be laid out), then the viewer's other depths.

    Each Graphviz run may take the smaller of ``settings.timeout`` and
    ``share`` of what ``budget`` has left.  A run that times out marks the
    budget as run out (the result then depends on the limits).  While the
    asked depth is laid out, the first viewer depths are already given to
    Graphviz (on the other workers); if the asked depth cannot be drawn they
    are stopped, and the viewer's depths are laid out again around the
    depth drawn instead, so the outcome is always that of one run after another.
    """
    budget = budget or Budget()
    asked = min(settings.depth, deepest_level(trace))  # deeper levels draw the same boxes
    head = _Depth(asked, build_diagram(trace, asked, runs=runs), settings)
    head.start(budget.seconds(settings.timeout, share))
    others = _ViewerDepths(head.depth, head.diagram, trace, runs, settings, budget, share)
    try:
        others.start(spare=1)  # the asked depth holds one worker
        drawn = _drawn_depth(trace, runs, settings, budget, share, head)
        if drawn.depth != asked:  # the viewer's depths were started around another drawing
            others.close()
            others = _ViewerDepths(drawn.depth, drawn.diagram, trace, runs, settings, budget, share)
        others.add_to(drawn)
    finally:
        head.kill()
        others.close()
    return drawn


def _drawn_depth(trace: Trace, runs: list[Run], settings: LayoutSettings, budget: Budget,
                 share: float, head: _Depth) -> Layouts:
    """Lay the diagram out at the asked depth (``head``, started), or a coarser one if Graphviz cannot in time.

    A depth is given up (for the next coarser one) when it has more than
    ``MAX_LAYOUT_BOXES`` boxes, when Graphviz runs past its time, or when
    its SVG is over ``MAX_INLINE_BYTES``.
    """
    depth = head.depth
    first_reason: str | None = None
    fix: str | None = None  # what the warning suggests, for the first reason
    while True:
        try:
            if depth == head.depth:
                svg, source, diagram = head.svg(), head.source, head.diagram
            else:
                svg, source, diagram = lay_out(trace, depth, runs, settings,
                                               budget.seconds(settings.timeout, share))
        except (LayoutTooBig, LayoutTimeout) as exc:
            budget.ran_out |= isinstance(exc, LayoutTimeout)
            first_reason = first_reason or exc.message
            fix = (f"set a smaller {say('depth')}" if isinstance(exc, LayoutTooBig) and fix is None else
                   fix or f"set a smaller {say('depth')} or raise {say('layout_timeout')} "
                   f"(or {say('timeout')})")
            if depth == 0:
                raise RenderProblem(f"{first_reason}, and not even depth 0 could be drawn; raise "
                                    f"{say('layout_timeout')} or {say('timeout')}") from exc
            depth -= 1
            continue
        problems = [] if first_reason is None else [Problem("render", (
            f"{first_reason}, so depth {depth} is drawn instead; {fix}"))]
        return Layouts(depth, svg, source, diagram, {depth: svg}, _shown_calls(diagram), problems=problems)


class _ViewerDepths:
    """The other depths, for expanding and collapsing in the page, around the drawn one.

    A depth that draws the same boxes as a shallower one (an ``nn.ModuleList``
    adds a level that is never called) is skipped.  A depth that cannot be
    laid out in time, has too many boxes, or would take the page's inline
    SVG over ``MAX_INLINE_BYTES`` is left out, and so is every deeper one
    (it would be bigger); the page says so.

    Up to ``settings.workers`` Graphviz runs go on at once, shallowest depths
    first; their results are taken in depth order, so the outcome is the
    one of running them one after another.  Once a depth is left out, the
    deeper runs still going are killed.  Each run's time is counted from its start.
    """

    def __init__(self, drawn_depth: int, drawn_diagram: Diagram, trace: Trace, runs: list[Run],
                 settings: LayoutSettings, budget: Budget, share: float) -> None:
        self.settings, self.budget, self.share = settings, budget, share
        self.last = min(deepest_level(trace), MAX_VIEW_DEPTH)
        self.workers = max(1, settings.workers or layout_workers())
        self.waiting = _other_depths(drawn_depth, drawn_diagram, trace, runs, self.last)
        #: the next depth to start, its DOT written while Graphviz runs others
        self.ready: _Depth | None = None
        self.started: deque[_Depth] = deque()  # by depth; the first is the next to take
        self._next()

    def _next(self) -> None:
        depth = next(self.waiting, None)
        self.ready = None if depth is None else _Depth(depth[0], depth[1], self.settings)

    def start(self, spare: int = 0) -> None:
        """Give depths to Graphviz while fewer than ``workers - spare`` runs go on."""
        while self.ready is not None and sum(not d.done() for d in self.started) < self.workers - spare:
            self.ready.start(self.budget.seconds(self.settings.timeout, self.share))
            self.started.append(self.ready)
            self._next()

    def add_to(self, drawn: Layouts) -> None:
        """Lay out every depth, and add those that can be shown to ``drawn`` (the others to its ``omitted``)."""
        total = len(drawn.svg)
        while True:
            self.start()
            if not self.started:
                break
            if self.ready is not None and not self.started[0].done():
                time.sleep(_POLL)  # until a run ends (a slot for the next depth) or the first is done
                continue
            layout = self.started.popleft()
            try:
                svg = layout.svg()
                if total + len(svg) > MAX_INLINE_BYTES:
                    raise LayoutTooBig("the page's inline SVG would be too big")
            except RenderProblem as exc:
                self.budget.ran_out |= isinstance(exc, LayoutTimeout)
                drawn.omitted += [depth for depth in range(layout.depth, self.last + 1) if depth != drawn.depth]
                if not isinstance(exc, (LayoutTooBig, LayoutTimeout)):  # Graphviz failed: say so
                    first_line = exc.message.strip().splitlines()[0] if exc.message.strip() else "no message"
                    drawn.notes.append(f"depth {layout.depth} could not be laid out for the page's viewer "
                                       f"({first_line}); the viewer leaves it and the deeper ones out")
                break
            drawn.by_depth[layout.depth] = svg
            total += len(svg)
            drawn.shown |= _shown_calls(layout.diagram)
        drawn.by_depth = dict(sorted(drawn.by_depth.items()))

    def close(self) -> None:
        """Stop the runs still going (deeper than one left out, an error, or another drawn depth)."""
        for layout in self.started:
            layout.kill()
        self.started.clear()


def _other_depths(drawn_depth: int, drawn_diagram: Diagram, trace: Trace, runs: list[Run],
                  last: int) -> Iterator[tuple[int, Diagram]]:
    """The depths up to ``last`` other than the drawn one, shallowest first, each built when asked
    for; a depth that draws the same boxes as a shallower one (or the drawn one) is skipped."""
    seen = {_drawing_key(drawn_diagram)}
    for depth in range(last + 1):
        if depth == drawn_depth:
            continue
        diagram = build_diagram(trace, depth, runs=runs)
        key = _drawing_key(diagram)
        if key not in seen:
            seen.add(key)
            yield depth, diagram


def _shown_calls(diagram: Diagram) -> set[int]:
    ids = [n.id for n in diagram.nodes if n.kind in ("module", "function")] + [c.id for c in diagram.clusters]
    return {int(i[1:]) for i in ids}


def _drawing_key(diagram: Diagram) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(n.id for n in diagram.nodes), frozenset(c.id for c in diagram.clusters)
