"""A build's diagram cache, and the cache files that diagram nodes name.

Diagram nodes never hold paths: :func:`~.collect.fill` gives them
cache-relative keys (``files/netviz-<hash>.svg``), and the writers resolve
each key against the build's cache folder with :func:`cache_file` when they
read it, refusing any key that leads out of that folder.  A diagram's viewer
data is parsed once per page written: when its node is filled in, kept on the
node (:func:`keep_details`) for its writer (:func:`node_details`).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from docutils import nodes

from sphinx.util import logging

from ..bounds import read_details
from ..cache import DiagramCache

logger = logging.getLogger(__name__)


def cache_root(config: Any, doctreedir: str | Path) -> Path:
    """The folder of a build's diagram cache: ``netviz_cache_dir``, else ``<doctreedir>/netviz``
    (beside the pickled environment)."""
    return Path(config.netviz_cache_dir or Path(doctreedir) / "netviz")


def cache_for(env: Any) -> DiagramCache:
    """The diagram cache of a build: its :class:`~.state.BuildRun`'s, which hashes each source
    once per build, if the environment has one, else a new one; damage is an info line."""
    run = getattr(getattr(env, "netviz", None), "run", None)
    if run is not None:
        return run.cache

    def damaged(why: str) -> None:
        logger.info("netviz: %s", why)

    return DiagramCache(cache_root(env.config, env.doctreedir), on_damage=damaged)


class OutsideCache(ValueError):
    """A node attribute names a file outside the diagram cache: never read."""


def cache_key(cache: DiagramCache, path: Path) -> str:
    """A cache file as the cache-relative key a node attribute holds (``files/netviz-….svg``)."""
    return path.relative_to(cache.root).as_posix()


def cache_file(env: Any, key: str) -> Path:
    """The cache file a node attribute names (see :func:`cache_key`), resolved against the
    build's diagram cache.  A key that is absolute, climbs out (``..``), or leads out through a
    link is refused with :class:`OutsideCache`."""
    root = cache_for(env).real_root
    relative = PurePosixPath(key)
    if (not key or "\\" in key or relative.is_absolute() or PureWindowsPath(key).anchor
            or ".." in relative.parts):
        raise OutsideCache(repr(key))
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise OutsideCache(f"{key!r}, through a link")
    return path


def keep_details(node: nodes.Element, details: dict[str, Any]) -> None:
    """Keep a diagram node's viewer data, parsed while its page is written, for its writer."""
    node.netviz_details = (node["details"], details)  # type: ignore[attr-defined]


def node_details(env: Any, node: nodes.Element) -> dict[str, Any]:
    """A diagram node's viewer data: as :func:`keep_details` kept it, if the node still names
    that file (taken: the writer changes it), else read from the file it names (resolved by
    :func:`cache_file`, size-checked: :func:`~sphinx_netviz.bounds.read_details`)."""
    key, details = node.__dict__.pop("netviz_details", (None, None))
    if details is not None and key == node["details"]:
        return details
    return read_details(cache_file(env, node["details"]))
