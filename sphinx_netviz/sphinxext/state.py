"""sphinx-netviz's state in a build: one object in the build environment, ``env.netviz``.

:class:`NetvizState` holds what the environment keeps between builds and what
``-j`` readers send back with theirs (it is pickled with the environment): the
diagrams asked for and not drawn yet, the failures, each page's diagram keys
and outcomes, the limits the failures were met under.  Its :attr:`~NetvizState.run`
is this process's part of the current build, never pickled (:class:`BuildRun`):
the runner and what it was handed, and the build's cache with one verified
lookup per diagram (:meth:`BuildRun.found`), shared by every event that needs
it (``env-get-outdated``, ``env-before-read-docs``, the directive, the pages
written); ``-j`` readers and writers are forks of the main process and start
with what it has found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sphinx.util import logging

from ..cache import CachedDiagram, DiagramCache
from ..jobs import Failure
from .cachefiles import cache_root

if TYPE_CHECKING:
    from ..runner import DiagramRunner
    from .collect import Request

logger = logging.getLogger(__name__)


@dataclass
class BuildRun:
    """This process's part of one build (see the module docstring); made when the builder is."""

    #: the process that runs the build (``-j`` readers and writers are forks of it)
    main_pid: int
    #: the build's diagram cache: each source hashed, each module name found, once per build
    cache: DiagramCache
    runner: DiagramRunner | None = None
    #: keys handed to the runner, and those it could not take (why)
    submitted: set[str] = field(default_factory=set)
    unsubmitted: dict[str, Failure] = field(default_factory=dict)
    #: the lookups of this build, by key
    lookups: dict[str, CachedDiagram | None] = field(default_factory=dict)

    @property
    def is_main(self) -> bool:
        return self.main_pid == os.getpid()

    def new_build(self) -> None:
        """Forget the lookups of the build before (``env-get-outdated`` starts each build)."""
        self.lookups.clear()
        self.cache.forget_sources()

    def found(self, key: str, *, just_stored: bool = False) -> CachedDiagram | None:
        """The cached diagram of ``key`` (:meth:`DiagramCache.lookup`), looked up once per build.

        ``just_stored`` (a page being written): a diagram of this build whose module was found
        only by running code; see :meth:`~sphinx_netviz.cache.DiagramCache.lookup`.
        """
        if key not in self.lookups:
            self.lookups[key] = self.cache.lookup(key, just_stored=just_stored)
        return self.lookups[key]

    def drawn(self, keys: list[str]) -> dict[str, CachedDiagram | None]:
        """The diagrams this build's jobs drew, as they were drawn (sources may have changed
        meanwhile: they are hashed again); later lookups of this build get these."""
        self.cache.forget_sources()
        for key in keys:
            self.lookups[key] = self.cache.lookup(key, just_stored=True, drawn=True)
        return {key: self.lookups[key] for key in keys}


@dataclass
class NetvizState:
    """sphinx-netviz's part of a build environment (see the module docstring)."""

    #: diagrams asked for and not drawn yet, by page
    requests: dict[str, list[Request]] = field(default_factory=dict)
    #: diagrams that could not be drawn, by key (kept until one is drawn)
    failures: dict[str, Failure] = field(default_factory=dict)
    #: the diagram keys on each page (to read a page again when its diagram left the cache)
    keys: dict[str, set[str]] = field(default_factory=dict)
    #: (``netviz_timeout``, ``netviz_memory_mb``) when the failures were met
    limits: tuple[float, float] | None = None
    #: what happened to each directive's diagram, by page (:mod:`.events`)
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    #: pages read in this build
    read_now: set[str] = field(default_factory=set)
    #: this process's part of the current build; never pickled
    run: BuildRun | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "run": None}


def state(env: Any) -> NetvizState:
    """The environment's :class:`NetvizState` (made on first use)."""
    found = getattr(env, "netviz", None)
    if not isinstance(found, NetvizState):
        found = env.netviz = NetvizState()
    return found


def build_run(env: Any) -> BuildRun:
    """This process's :class:`BuildRun` of the environment's build (made on first use: by
    ``builder-inited`` in the main process)."""
    current = state(env)
    if current.run is None:
        def damaged(why: str) -> None:
            logger.info("netviz: %s", why)

        cache = DiagramCache(cache_root(env.config, env.doctreedir), on_damage=damaged, remember=True)
        current.run = BuildRun(main_pid=os.getpid(), cache=cache)
    return current.run
