"""Build-wide bookkeeping: per-page outcomes, the engine line and the end-of-build summary.

Each directive records ``traced``, ``reused`` or ``failed`` for its page.
The records live in the build environment (:class:`~.state.NetvizState`), so
they survive incremental builds and are merged back from ``-j`` worker
processes.  A build that draws a diagram says first which layout engine
draws it (:func:`announce_engine`: ``netviz: laying out with Graphviz dot
2.43.0 (/usr/bin/dot)``); one that only reuses diagrams does not.
"""

from __future__ import annotations

import re
from collections.abc import Set
from pathlib import Path
from typing import Any, Literal

from sphinx.application import Sphinx
from sphinx.util import logging

from ..errors import RenderProblem
from ..render import PURE, dot_version, find_dot, is_pure
from .state import state

logger = logging.getLogger(__name__)


#: what happened to one directive's diagram in this build
Outcome = Literal["traced", "reused", "failed"]


def _outcomes(env: Any) -> dict[str, list[str]]:
    return state(env).outcomes


def _read_now(env: Any) -> set[str]:
    return state(env).read_now


def record(env: Any, outcome: Outcome, docname: str | None = None) -> None:
    """Note one directive's outcome on its page (the page being read, by default)."""
    docname = docname or env.docname
    _outcomes(env).setdefault(docname, []).append(outcome)
    _read_now(env).add(docname)


def before_read(app: Sphinx, env: Any, docnames: list[str]) -> None:
    state(env).read_now = set()


def purge_doc(app: Sphinx, env: Any, docname: str) -> None:
    _outcomes(env).pop(docname, None)
    _read_now(env).discard(docname)


def merge_info(app: Sphinx, env: Any, docnames: Set[str], other: Any) -> None:
    mine, theirs = _outcomes(env), _outcomes(other)
    for docname in docnames:
        if docname in theirs:
            mine[docname] = theirs[docname]
    _read_now(env).update(_read_now(other) & set(docnames))


def summary(env: Any) -> tuple[int, int, int]:
    """(traced this build, reused, failed) over every diagram of the project."""
    read_now = _read_now(env)
    traced = reused = failed = 0
    for docname, outcomes in _outcomes(env).items():
        for outcome in outcomes:
            if outcome == "failed":
                failed += 1
            elif outcome == "traced" and docname in read_now:
                traced += 1
            else:
                reused += 1
    return traced, reused, failed


def layout_engine(dot: str) -> str:
    """The layout engine ``netviz_dot`` names, with its version and path: ``Graphviz dot 2.43.0
    (/usr/bin/dot)``, ``graphviz-pure 0.2.2 (…/bin/graphviz-pure)``; or that there is none."""
    try:
        path = find_dot(dot)
    except RenderProblem:
        return f"no layout engine: the Graphviz executable {dot!r} was not found"
    said = re.search(r"version\s+(\S+)", dot_version(dot))
    version = f" {said.group(1)}" if said else ""
    name = PURE if is_pure(path) else f"Graphviz {Path(path).name}"
    return f"{name}{version} ({path})"


def announce_engine(dot: str) -> None:
    """The build's first netviz line, once per build that draws a diagram: which engine lays out."""
    logger.info("netviz: laying out with %s", layout_engine(dot))


def report(app: Sphinx, exception: BaseException | None) -> None:
    """``build-finished``: one line, ``netviz: traced N, reused M``."""
    if exception is not None or app.env is None:
        return
    traced, reused, failed = summary(app.env)
    if traced or reused or failed:
        extra = f", failed {failed}" if failed else ""
        logger.info("netviz: traced %d, reused %d%s", traced, reused, extra)
