"""Links from layer classes to their documentation, resolved by Sphinx.

Each class in a diagram's summary table and viewer details becomes a
``pending_xref`` (``py:class``), which Sphinx resolves like any other
cross-reference: the project's own autodoc objects, intersphinx inventories,
any extension that answers ``missing-reference``.  Libraries document classes
under their public path (``torch.nn.Conv2d``), not the module that defines
them (``torch.nn.modules.conv.Conv2d``): :func:`try_public_paths` asks again
with the shorter names.  A class that resolves nowhere gets no link, never a
broken one, and no warning, even with ``-n`` (:func:`quiet_when_missing`).
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains import Domain
from sphinx.environment import BuildEnvironment

#: the attribute that marks netviz's class references (its value: the class's qualified name)
CLASS_ATTR = "netviz_class"
_RETRYING = "netviz_retrying"


def candidate_names(qualname: str) -> list[str]:
    """``torch.nn.modules.conv.Conv2d`` → itself, ``torch.nn.modules.Conv2d``, ``torch.nn.Conv2d``, …

    Libraries document classes under their public path, not the module that
    defines them.
    """
    *modules, name = qualname.split(".")
    return [".".join([*modules[:k], name]) for k in range(len(modules), 0, -1)]


def class_xref(qualname: str, contnode: nodes.Node) -> addnodes.pending_xref:
    """A reference to the class ``qualname`` showing ``contnode``, for Sphinx to resolve."""
    return addnodes.pending_xref(
        "", contnode, refdomain="py", reftype="class", reftarget=qualname,
        refexplicit=True, refwarn=False, **{CLASS_ATTR: qualname},
    )


def href_of(resolved: nodes.Node) -> str | None:
    """The link a resolved class reference points to (``None`` if it stayed text)."""
    for ref in resolved.findall(nodes.reference):
        if ref.get("refuri"):
            return str(ref["refuri"])
        if ref.get("refid"):
            return f"#{ref['refid']}"
    return None


def try_public_paths(app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref,
                     contnode: nodes.TextElement) -> nodes.reference | None:
    """``missing-reference``: a class netviz names that resolved nowhere under its full name,
    tried again under each shorter name, through its domain and then every other resolver."""
    qualname = node.get(CLASS_ATTR)
    if not qualname or node.get(_RETRYING):
        return None
    domain = env.get_domain(node["refdomain"])
    node[_RETRYING] = True
    try:
        for name in candidate_names(qualname)[1:]:
            node["reftarget"] = name
            found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], name,
                                        node, contnode)
            if found is None:
                found = env.events.emit_firstresult("missing-reference", env, node, contnode)
            if found is not None:
                return found
    finally:
        node["reftarget"] = qualname
        del node[_RETRYING]
    return None


def quiet_when_missing(app: Sphinx, domain: Domain | None, node: addnodes.pending_xref) -> bool | None:
    """``warn-missing-reference``: no warning for a class netviz names, even with ``-n``."""
    return True if node.get(CLASS_ATTR) else None


def register(app: Sphinx) -> None:
    # after intersphinx and other resolvers have tried the full name
    app.connect("missing-reference", try_public_paths, priority=900)
    app.connect("warn-missing-reference", quiet_when_missing)

