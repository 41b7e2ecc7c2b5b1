"""One verified lookup per diagram per build, shared by every event that needs it.

A build looks each diagram up once (``env-get-outdated``, the fork server's
start, the directive and the page's writer share it), hashes each source file
once, parses a diagram's viewer data once per page written, and publishes the
cached SVG (sanitized when it was drawn, checked by its content name) as it is.
Sphinx builds in this process, counted by wrapping the functions that do the work.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

import sphinx_netviz.cache
import sphinx_netviz.svgsafe
import sphinx_netviz.sphinxext.diagram_node
from sphinx_netviz.cache import DiagramCache


class Counts:
    """What a build did, counted: lookups by key, digests by file, viewer data parsed, SVGs sanitized."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lookups: Counter[str] = Counter()
        self.digests: Counter[str] = Counter()
        self.details_parsed = 0
        self.sanitized_files = 0
        lookup, digest, loads = DiagramCache.lookup, sphinx_netviz.cache.file_digest, json.loads
        sanitized = sphinx_netviz.svgsafe.sanitized_svg_file

        def counted_lookup(cache, key, **kwargs):
            self.lookups[key] += 1
            return lookup(cache, key, **kwargs)

        def counted_digest(path):
            self.digests[path] += 1
            return digest(path)

        def counted_loads(text, *args, **kwargs):
            value = loads(text, *args, **kwargs)
            if isinstance(value, dict) and "calls" in value and "rows" in value:  # a viewer's data
                self.details_parsed += 1
            return value

        def counted_sanitized(svg):
            self.sanitized_files += 1
            return sanitized(svg)

        monkeypatch.setattr(DiagramCache, "lookup", counted_lookup)
        monkeypatch.setattr(sphinx_netviz.cache, "file_digest", counted_digest)
        monkeypatch.setattr(json, "loads", counted_loads)
        monkeypatch.setattr(sphinx_netviz.svgsafe, "sanitized_svg_file", counted_sanitized)
        monkeypatch.setattr(sphinx_netviz.sphinxext.diagram_node, "sanitized_svg_file", counted_sanitized,
                            raising=False)


@pytest.fixture
def drawn(make_app, rootdir, tmp_path):
    """``tests/roots/test-basic`` (three diagrams) built once with a cache of its own: a function
    that builds it again (``fresh``: a new environment), counting what the build did."""
    srcdir = tmp_path / "src"
    shutil.copytree(rootdir / "test-basic", srcdir)
    overrides = {"netviz_cache_dir": str(tmp_path / "cache")}
    make_app("html", srcdir=srcdir, confoverrides=overrides).build()

    def build_again(monkeypatch: pytest.MonkeyPatch, fresh: bool) -> tuple[Counts, object]:
        app = make_app("html", srcdir=srcdir, freshenv=fresh, confoverrides=overrides)
        counts = Counts(monkeypatch)
        app.build()
        monkeypatch.undo()
        return counts, app

    return build_again


def test_a_fresh_environment_looks_each_diagram_up_once(drawn, monkeypatch):
    counts, app = drawn(monkeypatch, fresh=True)
    assert "netviz: traced 0, reused 3" in app.status.getvalue()
    assert len(counts.lookups) == 3 and set(counts.lookups.values()) == {1}, counts.lookups
    # the model file, hashed once for the three diagrams that depend on it
    assert list(counts.digests.values()) == [1], counts.digests
    # the viewer data of each diagram parsed once as its page is written, and the named one's once
    # more when reading is done, for its layer links (layer_refs); the downloads copied
    assert counts.details_parsed == 3 + 1
    assert counts.sanitized_files == 0
    out, cache = Path(app.outdir), Path(app.config.netviz_cache_dir) / "files"
    downloads = sorted((out / "_downloads" / "netviz").glob("*.svg"))
    assert len(downloads) == 3
    for download in downloads:  # the cached (sanitized) SVG as it is, under its content name
        assert download.read_bytes() == (cache / download.name).read_bytes()


def test_a_rebuild_with_nothing_changed_looks_each_diagram_up_once(drawn, monkeypatch):
    counts, app = drawn(monkeypatch, fresh=False)
    assert "netviz: traced 0, reused 3" in app.status.getvalue()
    assert len(counts.lookups) == 3 and set(counts.lookups.values()) == {1}, counts.lookups
    assert list(counts.digests.values()) == [1], counts.digests
    assert counts.details_parsed == 0  # no page written
