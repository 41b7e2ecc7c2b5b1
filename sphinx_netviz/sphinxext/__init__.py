"""Sphinx glue for sphinx-netviz: registers the directive, node, config and events.

Nothing here imports torch or model code: diagrams that miss the cache are
drawn in child processes (:mod:`.collect`, :mod:`sphinx_netviz.runner`), so
the Sphinx process stays small and safe to fork for ``-j``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

from .. import __version__
from ..pipeline import own_source_digest
from . import collect, config, events
from . import diagram_node, diff_directive, layer_refs, links, summary
from .directive import NetvizDirective

STATIC = Path(__file__).resolve().parent.parent / "static"


def _add_static_path(app: Sphinx) -> None:
    if app.builder.format == "html" and str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def _add_page_assets(app: Sphinx, pagename: str, templatename: str,
                     context: dict[str, Any], doctree: nodes.document | None) -> None:
    """The viewer's CSS and JS, only on pages that have a diagram or a notebook output of one."""
    if doctree is not None and diagram_node.shows_viewer(doctree):
        app.add_css_file("netviz.css")
        app.add_js_file("netviz.js", loading_method="defer")


def setup(app: Sphinx) -> dict[str, Any]:
    config.register(app)
    diagram_node.register(app)
    app.add_directive("netviz", NetvizDirective)
    diff_directive.register(app)  # netviz-diff, and its Changes table when a page is written
    app.connect("config-inited", config.check)
    app.connect("builder-inited", _add_static_path)
    app.connect("builder-inited", collect.builder_inited)
    app.connect("env-get-outdated", collect.outdated)
    app.connect("env-before-read-docs", events.before_read)
    app.connect("env-before-read-docs", collect.before_read)
    app.connect("env-purge-doc", events.purge_doc)
    app.connect("env-purge-doc", collect.purge_doc)
    app.connect("env-merge-info", events.merge_info)
    app.connect("env-merge-info", collect.merge_info)
    app.connect("doctree-read", collect.doctree_read)
    app.connect("env-updated", collect.env_updated)
    # diagram nodes are filled in from the cache, with their summary tables and class links, by a
    # post-transform before references are resolved; other builders then get their alt text
    collect.register(app)
    links.register(app)
    summary.register(app)
    layer_refs.register(app)  # after collect: its env-updated reads what collect drew
    app.connect("doctree-resolved", diagram_node.replace_for_other_builders)
    app.connect("html-page-context", _add_page_assets)
    app.connect("build-finished", events.report)
    # a changed sphinx-netviz re-reads every page, so no page keeps a diagram an older one drew
    env_version = int(own_source_digest()[:7], 16)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": env_version}
