"""What a diagram is: the facts the page and the author are told, and its files.

Made by :mod:`sphinx_netviz.pipeline` (:class:`Artifacts`, files in memory),
stored by :mod:`sphinx_netviz.cache` (:class:`DiagramInfo` as the manifest,
the files by content hash) and read back as a
:class:`~sphinx_netviz.cache.CachedDiagram` (the same facts, files on disk)
by the writers and the command line.  :class:`DiagramInfo` is the one list of
what is stored: :meth:`DiagramInfo.to_manifest` and
:meth:`DiagramInfo.from_manifest` are the only places that spell it.  Plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .errors import Stage


@dataclass(frozen=True)
class Problem:
    """A non-fatal problem: the diagram was made, but not all as asked (a warning)."""

    stage: Stage
    message: str


@dataclass(kw_only=True)
class DiagramInfo:
    """What a finished diagram tells its page and its author, besides its files (what the cache keeps)."""

    #: the model's class (or factory) name, for the page's text
    model_name: str
    #: ``full``, ``structure`` or ``graph``; None without a file
    onnx_mode: str | None
    #: the project files the diagram depends on (a change draws it again)
    sources: list[str]
    #: warnings: the diagram was drawn, but not all as asked
    problems: list[Problem] = field(default_factory=list)
    #: what happened, for an info-level message (device chosen, fallbacks)
    notes: list[str] = field(default_factory=list)
    #: a layout ran out of time, so a coarser depth or fewer viewer depths were drawn: with
    #: more time the diagram would differ, so a page read again draws it again
    time_limited: bool = False

    def to_manifest(self) -> dict[str, Any]:
        """The facts as JSON-ready data."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(DiagramInfo)}
        data["problems"] = [[p.stage, p.message] for p in self.problems]
        return data

    @classmethod
    def from_manifest(cls: type[_Info], data: Mapping[str, Any], **more: Any) -> _Info:
        """The facts of a stored manifest, checked (a damaged one raises ``TypeError``,
        ``ValueError`` or ``KeyError``), with ``more`` fields of a subclass."""
        def text(value: object) -> str:
            if not isinstance(value, str):
                raise TypeError(f"{value!r} is not text")
            return value

        mode = data["onnx_mode"]
        if not isinstance(data["time_limited"], bool):
            raise TypeError("time_limited is not a bool")
        return cls(
            model_name=text(data["model_name"]),
            onnx_mode=None if mode is None else text(mode),
            sources=[text(s) for s in data["sources"]],
            problems=[Problem(text(stage), text(message)) for stage, message in data["problems"]],  # type: ignore[arg-type]
            notes=[text(n) for n in data["notes"]],
            time_limited=data["time_limited"],
            **more,
        )


_Info = TypeVar("_Info", bound=DiagramInfo)


@dataclass(kw_only=True)
class Artifacts(DiagramInfo):
    """One diagram as the pipeline makes it: the facts, the files in memory, and how it went."""

    svg: bytes
    dot: str
    #: the project modules among ``sources``, by name: the file each was imported from (the
    #: cache keeps them by name, and checks them against the files the names stand for where
    #: the diagram is asked for again); ``sources`` not named here (an ONNX file) are kept by path
    modules: dict[str, str] = field(default_factory=dict)
    #: the SHA-256 of the bytes each of ``sources`` was drawn from, taken as it was imported or
    #: read (None: it changed while it was imported); the cache keys the diagram with these
    source_digests: dict[str, str | None] = field(default_factory=dict)
    #: ONNX bytes, or None (not asked for, or the export failed: see ``problems``)
    onnx: bytes | None
    #: the SVG of every depth the page's viewer can switch to (including ``depth``)
    layouts: dict[int, bytes] = field(default_factory=dict)
    #: what the viewer shows about each box, and the summary table (JSON-ready; see viewer_data)
    details: dict[str, object] = field(default_factory=dict)
    node_count: int = 0
    #: the depth actually drawn (smaller than asked when the layout timed out)
    depth: int = 0
    #: where the model was traced: ``cpu`` or ``meta``
    device: str = "meta"
    weight_bytes: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    #: the ONNX file is of a lesser kind because an exporter ran out of time (not shared
    #: with other drawings through the cache)
    onnx_time_limited: bool = False

    def info(self) -> DiagramInfo:
        """The facts alone, as the cache keeps them."""
        return DiagramInfo(**{f.name: getattr(self, f.name) for f in fields(DiagramInfo)})
