"""What the pipeline hands over for one diagram: the outputs and what to tell the author.

Made by :mod:`sphinx_netviz.pipeline`, stored by :mod:`sphinx_netviz.cache`,
shown by the directive and the command line.  Plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Stage


@dataclass(frozen=True)
class Problem:
    """A non-fatal problem: the diagram was made, but not all as asked (a warning)."""

    stage: Stage
    message: str


@dataclass
class Artifacts:
    """One diagram's outputs, in memory."""

    svg: bytes
    dot: str
    #: ONNX bytes, or None (not asked for, or the export failed: see ``problems``)
    onnx: bytes | None
    #: ``full`` (weights included) or ``structure`` (weights declared only); None without a file
    onnx_mode: str | None
    sources: list[str]
    model_name: str
    node_count: int
    #: the depth actually drawn (smaller than asked when the layout timed out)
    depth: int
    #: where the model was traced: ``cpu`` or ``meta``
    device: str
    weight_bytes: int
    #: the SVG of every depth the page's viewer can switch to (including ``depth``)
    layouts: dict[int, bytes] = field(default_factory=dict)
    #: what the viewer shows about each box, and the summary table (JSON-ready)
    details: dict[str, object] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: what happened, for an info-level message (device chosen, fallbacks)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: a layout ran out of time, so a coarser depth or fewer viewer depths were drawn: with
    #: more time the diagram would differ, so a page read again draws it again
    time_limited: bool = False
    #: the ONNX file is of a lesser kind because an exporter ran out of time (not shared
    #: with other drawings through the cache)
    onnx_time_limited: bool = False
