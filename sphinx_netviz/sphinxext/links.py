"""Links from layer classes to their documentation: the project's own autodoc, or intersphinx.

Used by the HTML writer for the viewer's details and the summary table.
No link where nothing resolves — never a broken one.
"""

from __future__ import annotations

from typing import Any


def candidate_names(qualname: str) -> list[str]:
    """``torch.nn.modules.conv.Conv2d`` → itself, ``torch.nn.modules.Conv2d``, ``torch.nn.Conv2d``, …

    Libraries document classes under their public path, not the module that
    defines them.
    """
    *modules, name = qualname.split(".")
    return [".".join([*modules[:k], name]) for k in range(len(modules), 0, -1)]


class ClassLinks:
    """Resolves class qualified names to URIs relative to one page."""

    def __init__(self, builder: Any, docname: str) -> None:
        self.builder = builder
        self.docname = docname
        env = builder.env
        self.objects = env.get_domain("py").objects
        self.inventory = getattr(env, "intersphinx_inventory", {}) or {}
        self._cache: dict[str, str | None] = {}

    def href(self, qualname: str) -> str | None:
        if not qualname:
            return None
        if qualname not in self._cache:
            self._cache[qualname] = self._resolve(qualname)
        return self._cache[qualname]

    def _resolve(self, qualname: str) -> str | None:
        for name in candidate_names(qualname):
            entry = self.objects.get(name)
            if entry is not None and entry.objtype == "class":
                uri = self.builder.get_relative_uri(self.docname, entry.docname)
                return f"{uri}#{entry.node_id}"
        classes = self.inventory.get("py:class", {})
        for name in candidate_names(qualname):
            item = classes.get(name)
            if item is not None:
                return item.uri if hasattr(item, "uri") else item[2]
        return None
