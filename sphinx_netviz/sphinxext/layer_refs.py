"""Links to layers: each diagram's anchor, and the ``netviz-layer`` role, resolved by Sphinx.

Every diagram has an *anchor*, an HTML id on its page (:func:`note_diagram`,
called by the directive): a diagram with ``:name:`` has its figure's id, one
without has ``netviz-<model>`` on its ``div.netviz`` (``-2``, ``-3``… for the
same model again on one page).  A layer's URL fragment is ``#<anchor>/<link>``,
``<link>`` being its box's link in the viewer's data
(:func:`~sphinx_netviz.details.call_links`).

The role ``:netviz-layer:`text <name:module.path>``` (or
``:netviz-layer:`name:module.path```) is a ``pending_xref`` of the ``netviz``
domain (:class:`NetvizDomain`).  The domain keeps, for each diagram with a
``:name:``, its page, anchor and cache key (merged from ``-j`` readers, purged
with its page); once every diagram is drawn (``env-updated``) it reads each
one's links from its details in the cache, and when pages are written it
resolves the role to ``<page>.html#<anchor>/<link>`` (in builders other than
HTML: to the figure).  An unknown diagram name or layer is a located
``netviz.ref`` warning with the nearest matches, and the role's text stays
plain.  Pages whose roles point at a diagram whose page, anchor or links
changed are written again.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Iterator, Set
from typing import Any

from docutils import nodes
from docutils.nodes import fully_normalize_name
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.domains import Domain
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole
from sphinx.util.nodes import make_refnode, split_explicit_title

from ..bounds import MAX_SVG_BYTES, read_bounded, read_details
from ..views import (anchor_slug, canonical_link, folded_runs, known_links, layer_fragment, lists_every_link,
                     short_name)
from .state import build_run

logger = logging.getLogger(__name__)

#: the role's name in pages
ROLE = "netviz-layer"
#: how many near matches a warning lists
NEAR = 5


def note_diagram(env: BuildEnvironment, document: nodes.document, figure: nodes.figure,
                 node: nodes.Element) -> str:
    """Give a diagram (``node``, inside ``figure``) its anchor, and record it if it is named.

    Called by the directive once the figure has its ``:name:``.  The anchor is stored as
    ``node["anchor"]``; a diagram without a name gets it as its own id, unique on the page.
    """
    if figure["ids"]:
        anchor = figure["ids"][0]
    else:
        base = anchor = anchor_slug(short_name(node["target"]))
        count = 1
        while anchor in document.ids:
            count += 1
            anchor = f"{base}-{count}"
        node["ids"].append(anchor)
        document.ids[anchor] = node
    node["anchor"] = anchor
    for name in figure["names"]:
        _domain(env).data["diagrams"][name] = {
            "docname": env.docname, "anchor": anchor, "key": node.get("key", ""),
            "lineno": node.line or 0, "links": None, "runs": [],
        }
    return anchor


def _domain(env: BuildEnvironment) -> NetvizDomain:
    return env.get_domain(NetvizDomain.name)  # type: ignore[return-value]


def _splits(target: str) -> Iterator[tuple[str, str]]:
    """``(diagram name, layer link)`` for each ``:`` the target could be split at, first first;
    a target with no ``:`` names a whole diagram (link ``""``)."""
    parts = target.split(":")
    for k in range(1, len(parts)):
        yield fully_normalize_name(":".join(parts[:k])), ":".join(parts[k:]).strip()
    if len(parts) == 1:
        yield fully_normalize_name(target), ""


class LayerRole(SphinxRole):
    """``:netviz-layer:`text <name:module.path>``` and ``:netviz-layer:`name:module.path```."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        explicit, title, target = split_explicit_title(nodes.unescape(self.text))
        target = target.strip()
        if explicit:
            text: nodes.Element = nodes.inline(title, title, classes=["netviz-layer"])
        else:
            shown = target.partition(":")[2] or target
            text = nodes.literal(shown, shown, classes=["netviz-layer"])
        node = addnodes.pending_xref(self.rawtext, text, refdomain=NetvizDomain.name, reftype="layer",
                                     reftarget=target, refexplicit=explicit, refwarn=False,
                                     refdoc=self.env.docname)
        self.set_source_info(node)
        refs = _domain(self.env).data["refs"].setdefault(self.env.docname, set())
        refs.update(name for name, _ in _splits(target))
        return [node], []


class NetvizDomain(Domain):
    """The diagrams with a ``:name:`` and the roles that link to their layers."""

    name = "netviz"
    label = "sphinx-netviz"
    #: diagrams: name -> {docname, anchor, key, lineno, links (sorted, None until known), runs,
    #: complete (whether links is all of them)};
    #: refs: docname -> the diagram names its roles may point at;
    #: published: name -> digest of what the roles were last resolved against
    initial_data: dict[str, Any] = {"diagrams": {}, "refs": {}, "published": {}}
    data_version = 1

    def clear_doc(self, docname: str) -> None:
        diagrams = self.data["diagrams"]
        for name in [n for n, record in diagrams.items() if record["docname"] == docname]:
            del diagrams[name]
        self.data["refs"].pop(docname, None)

    def merge_domaindata(self, docnames: Set[str], otherdata: dict[str, Any]) -> None:
        for name, record in otherdata["diagrams"].items():
            if record["docname"] in docnames:
                self.data["diagrams"][name] = record
        for docname in docnames:
            if docname in otherdata["refs"]:
                self.data["refs"][docname] = otherdata["refs"][docname]

    def resolve_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder, typ: str,
                     target: str, node: addnodes.pending_xref, contnode: nodes.Element
                     ) -> nodes.reference | None:
        diagrams = self.data["diagrams"]
        found = next(((name, link) for name, link in _splits(target) if name in diagrams), None)
        if found is None:
            name = next(_splits(target))[0]
            near = difflib.get_close_matches(name, list(diagrams), n=NEAR)
            _warn(node, f"{ROLE} {target!r}: no diagram is named {name!r}"
                  + (f"; did you mean {_listed(near)}?" if near else
                     f"; the diagrams with a :name: are {_listed(sorted(diagrams)[:12])}" if diagrams else
                     "; no diagram has a :name: (give the netviz directive one)"))
            return None
        name, link = found
        record = diagrams[name]
        links = record.get("links")
        if link and links is not None and record.get("complete", True) \
                and canonical_link(link, record["runs"]) not in set(links):
            near = difflib.get_close_matches(link, links, n=NEAR)
            _warn(node, f"{ROLE} {target!r}: diagram {name!r} has no layer {link!r}"
                  + (f"; did you mean {_listed(near)}?" if near else "")
                  + " (a layer is named by its module path, <module>.<operation> for a function, "
                    "input-<k> or output-<k>)")
            return None
        html = builder.format == "html"
        targetid = layer_fragment(record["anchor"], link or None) if html else record["anchor"]
        title = f"{link} in {name}" if link else name
        ref = make_refnode(builder, fromdocname, record["docname"], targetid, contnode, title)
        uri = ref.get("refuri", "")
        if uri.count("#") > 1:  # singlehtml: every page is one page, '#document-other#<fragment>'
            ref["refuri"] = uri[uri.index("#", uri.index("#") + 1):]
        return ref

    def resolve_any_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder, target: str,
                         node: addnodes.pending_xref, contnode: nodes.Element
                         ) -> list[tuple[str, nodes.reference]]:
        return []


def _listed(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _warn(node: nodes.Element, message: str) -> None:
    logger.warning(message, type="netviz", subtype="ref", location=_role_location(node))


def _role_location(node: nodes.Element) -> nodes.Element | str:
    """The role's own line: docutils gives a role its paragraph's first line, so count the
    lines of the paragraph's source before the role's text."""
    raw = node.rawsource
    parent = node.parent
    while raw and parent is not None and node.source and node.line:
        text = parent.rawsource
        if isinstance(text, str) and raw in text:
            return f"{node.source}:{node.line + text[:text.index(raw)].count(chr(10))}"
        parent = parent.parent
    return node


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([record["docname"], record["anchor"], record["links"]]).encode()).hexdigest()


def env_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Once every diagram is drawn: each named diagram's links, read from its details in the
    cache (``None`` for one that could not be drawn: a role links to the whole diagram);
    the pages whose roles point at a diagram that changed, to write again."""
    data = _domain(env).data
    for record in data["diagrams"].values():
        if record["links"] is not None or not record["key"]:
            continue
        found = build_run(env).found(record["key"], just_stored=True)  # the build's lookup
        if found is None:
            continue
        try:
            details = read_details(found.details_path)  # size-checked before they are read
            svg = read_bounded(found.svg_path, MAX_SVG_BYTES).decode("utf-8")
        except (OSError, ValueError):  # the page's writer says so, at the directive
            continue
        record["links"] = sorted(known_links(details, svg))
        record["runs"] = folded_runs(details)
        record["complete"] = lists_every_link(details)  # else a link it does not list is not wrong
    now = {name: _digest(record) for name, record in data["diagrams"].items()}
    before = data["published"]
    changed = {name for name in now.keys() | before.keys() if now.get(name) != before.get(name)}
    data["published"] = now
    return sorted(docname for docname, names in data["refs"].items() if names & changed)


def quiet_when_missing(app: Sphinx, domain: Domain | None, node: addnodes.pending_xref) -> bool | None:
    """``warn-missing-reference``: the domain has said what was wrong (``netviz.ref``)."""
    return True if node.get("refdomain") == NetvizDomain.name else None


def register(app: Sphinx) -> None:
    app.add_domain(NetvizDomain)
    app.add_role(ROLE, LayerRole())
    app.connect("env-updated", env_updated)
    app.connect("warn-missing-reference", quiet_when_missing)
