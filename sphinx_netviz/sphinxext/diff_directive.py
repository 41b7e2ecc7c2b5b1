"""The ``.. netviz-diff::`` directive: two architectures, one merged drawing and a Changes table.

``.. netviz-diff:: OLD NEW`` takes two targets as ``.. netviz::`` does (import
paths, factories, ``.onnx`` files); ``.. netviz-diff:: NEW`` with
``:against: REF`` takes the old side from the git repository at ``REF`` (a
tag, branch or commit): the repository holding the model's file, normally
the docs' own (else the one holding the source folder);
:mod:`sphinx_netviz.gitsnap` extracts it into the diagram cache, keyed by
its commit), or from an architecture snapshot file (``:against: arch.json``,
found as ``image`` finds its file); ``:against: old.onnx`` is ``old.onnx NEW``.
An ONNX file against a model is a warning (operators against modules: every
layer would differ).
Every ``.. netviz::`` option applies to both sides; ``:old-kwargs:`` and
``:new-kwargs:`` are merged over ``:kwargs:`` on one side.

Each traced side is a request of :mod:`.collect` like any diagram's (kind
``side``: its model traced in a child, its snapshot cached and checked
against its sources); the merge is one more (kind ``diff``, submitted once
the sides are done, drawn in a child from the two snapshots:
:func:`sphinx_netviz.archjob.make_diffs`).  The merged drawing is an
ordinary ``netviz_diagram`` node (the viewer, folding, links, downloads),
keyed by the drawing options and both sides, and reused only while it was
made from the sides' current snapshots.  Under it, a
:class:`netviz_changes` node becomes the Changes table
(:mod:`.changes_table`) when the page is written, from the merged drawing's
data.  Any problem is a located ``netviz.<stage>`` warning; the build goes on.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import ReferencesResolver, SphinxPostTransform

from ..deps import find_module_file
from ..archjob import Side, changes_of, check_comparable, diff_key, is_snapshot_path, side_key, with_kwargs
from ..errors import InputProblem, NetvizError
from ..gitsnap import checkout_ref
from ..onnx_import import is_onnx_path
from ..options import OPTIONS, OptionValues
from ..pipeline import spec_key
from ..spec import DiagramSpec
from . import collect
from .cachefiles import cache_root, keep_details, node_details
from .changes_table import changes_nodes
from .config import NetvizConfig
from .diagram_node import netviz_diagram
from .directive import NetvizDirective, _OptionSpec
from .state import build_run

__all__ = ["NetvizDiffDirective", "netviz_changes", "register"]

#: the options ``netviz-diff`` has besides those of ``netviz``
DIFF_OPTIONS = {"old-kwargs": directives.unchanged, "new-kwargs": directives.unchanged,
                "against": directives.unchanged}


class netviz_changes(nodes.General, nodes.Element):  # noqa: N801 (docutils naming)
    """Where a diff's Changes table goes; attribute ``key``: the merged drawing's cache key.
    Replaced when its page is written (:class:`FillChanges`), for every builder."""


@dataclass(frozen=True)
class _Plan:
    """What one ``netviz-diff`` compares: the sides (old, new), the spec of each traced side
    (None: a snapshot file), and how the merged drawing is drawn."""

    sides: tuple[Side, Side]
    specs: tuple[DiagramSpec | None, DiagramSpec | None]
    view: DiagramSpec
    key: str


class NetvizDiffDirective(NetvizDirective):
    """``.. netviz-diff:: OLD NEW``, or ``.. netviz-diff:: NEW`` with ``:against: REF`` (a git
    ref, or a snapshot ``.json`` file): the merged drawing of the two and a Changes table."""

    required_arguments = 1
    optional_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = _OptionSpec({**NetvizDirective.option_spec, **DIFF_OPTIONS})

    def _kwargs(self, name: str) -> dict[str, object] | None:
        """``:old-kwargs:`` / ``:new-kwargs:`` parsed as ``:kwargs:`` is (None when not given)."""
        if name not in self.options:
            return None
        try:
            return OPTIONS["kwargs"].from_text(self.options[name] or "")
        except NetvizError as exc:
            raise InputProblem(f":{name}: {exc.message}") from exc

    def _side_spec(self, values: OptionValues, target: str) -> DiagramSpec:
        """A traced side's spec: this directive's option values for ``target`` (no ONNX export)."""
        return self.make_spec(values, self.onnx_file(target) if is_onnx_path(target) else target).replaced(
            onnx="none")

    def _with_kwargs(self, spec: DiagramSpec, name: str) -> DiagramSpec:
        """``spec`` with ``:old-kwargs:`` or ``:new-kwargs:`` (``name``) merged over its ``:kwargs:``."""
        kwargs = self._kwargs(name)
        if kwargs and spec.is_onnx_file:
            raise InputProblem(f":{name}: does not apply to an ONNX file ({os.path.basename(spec.target)}), "
                               "which is drawn as it is (no model is built or run); leave it out")
        return with_kwargs(spec, kwargs)

    def _repository_folder(self, spec: DiagramSpec) -> str:
        """Where ``:against: REF``'s repository is looked for: the folder of the model's file (found
        without running code), else the docs' source folder."""
        if spec.is_onnx_file:
            return os.path.dirname(spec.target)
        found = find_module_file(spec.target.partition(":")[0].strip(), sys.path)
        return os.path.dirname(found) if found else str(self.env.srcdir)

    def _plan(self, values: OptionValues) -> _Plan:
        targets = [a.strip() for a in self.arguments]
        against = (self.options.get("against") or "").strip()
        if len(targets) == 2 and against:
            raise InputProblem("give two targets (OLD NEW), or one target with :against:, not both")
        if len(targets) == 1 and not against:
            raise InputProblem("netviz-diff compares two architectures: give OLD NEW, or NEW with "
                               ":against: REF (a git tag, branch or commit) or :against: FILE.json "
                               "(an architecture snapshot)")
        if len(targets) == 1 and is_onnx_path(against):  # :against: FILE.onnx: that file is OLD
            targets = [against, targets[0]]
        if len(targets) == 2:
            check_comparable(*targets)
        settings = values.settings
        base = self._side_spec(values, targets[-1])
        new = self._with_kwargs(base, "new-kwargs")
        new_side = Side(key=side_key(spec_key(new, settings)), label=f"the new side ({targets[-1]})")
        old: DiagramSpec | None
        if len(targets) == 2:
            old = self._with_kwargs(self._side_spec(values, targets[0]), "old-kwargs")
            old_side = Side(key=side_key(spec_key(old, settings)), label=f"the old side ({targets[0]})")
        elif is_snapshot_path(against):
            _, path = self.env.relfn2path(against, self.env.docname)
            self.env.note_dependency(path)
            old, old_side = None, Side(path=path, label=f"the snapshot file {against}")
        else:
            tree = checkout_ref(self._repository_folder(base), against, cache_root(self.config, self.env.doctreedir))
            old = self._with_kwargs(base, "old-kwargs")
            if old.is_onnx_file:  # the file as the commit had it
                old = old.replaced(target=tree.map_path(old.target))
            old_side = Side(key=side_key(spec_key(old, settings), tree.commit),
                            sys_path=tree.map_sys_path(sys.path),
                            label=f"the old side ({targets[-1]} at {against}, commit {tree.commit[:12]})")
        ids = [side.key or f"file {side.path}" for side in (old_side, new_side)]
        return _Plan((old_side, new_side), (old, new), new, diff_key(spec_key(new, settings), *ids))

    def run(self) -> list[nodes.Node]:
        config = NetvizConfig.from_sphinx(self.config)
        target = self.arguments[-1].strip()
        node, location, values = self.start_node(config, target)
        old_words = self.arguments[0].strip() if len(self.arguments) == 2 else self.options.get("against", "?")
        node["alt"] = self.options.get("alt") or f"Architecture diff of {old_words} and {target}"
        if OPTIONS["summary"].directive not in self.options:  # the Changes table takes its place
            node["summary"] = False
        try:
            plan = self._plan(values)
            timeout = values.limits.timeout
        except NetvizError as exc:
            return self.fail_node(node, target, exc)
        node["key"] = plan.key
        collect.note_key(self.env, plan.key)
        files: list[str] = []
        for side, spec in zip(plan.sides, plan.specs):
            if spec is None:
                files.append(side.path)
                continue
            found = build_run(self.env).cache.lookup_snapshot(side.key)
            if found is None or found.time_limited:
                collect.request(self.env, collect.Request(side.key, side.key, spec, timeout, self.env.docname,
                                                          self.lineno, kind="side", sys_path=side.sys_path or None))
                continue
            files.append(str(found.path))
            for source in found.sources:
                self.env.note_dependency(source)
        drawn = collect.found(self.env, plan.key) if len(files) == 2 else None
        if drawn is None or drawn.time_limited or sorted(drawn.sources) != sorted(files):
            collect.request(self.env, collect.Request(plan.key, plan.key, plan.view, timeout, self.env.docname,
                                                      self.lineno, kind="diff", sides=plan.sides))
        else:
            self.reuse(plan.key, drawn, target, location)
        return [self._figure(node), netviz_changes(key=plan.key)]


class FillChanges(SphinxPostTransform):
    """When a page is written, after its diagrams are filled in: each :class:`netviz_changes`
    becomes the Changes table of its merged drawing (or goes, if the drawing failed)."""

    default_priority = ReferencesResolver.default_priority - 1  # after collect.FillDiagrams

    def run(self, **kwargs: Any) -> None:
        diagrams = {node.get("key"): node for node in self.document.findall(netviz_diagram)}
        for node in list(self.document.findall(netviz_changes)):
            diagram = diagrams.get(node["key"])
            if diagram is None or diagram.get("error") or not diagram.get("details"):
                node.parent.remove(node)
                continue
            try:
                details = node_details(self.env, diagram)
                keep_details(diagram, details)  # for its writer, which takes it
                found = changes_of(details)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                collect.warn(diagram["target"], "write", f"its Changes table could not be read "
                             f"({exc.__class__.__name__}); build again", diagram, drawn=True)
                found = None
            if found is None:
                node.parent.remove(node)
                continue
            tables = changes_nodes(*found)
            for index, table in enumerate(tables):  # ids: a titled table is numbered where numfig is on
                table["ids"].append(f"netviz-changes-{node['key'][:12]}-{index}")
                table.source, table.line = diagram.source, diagram.line
            node.replace_self(tables)


def register(app: Sphinx) -> None:
    """The directive and the post-transform that writes its Changes table."""
    app.add_directive("netviz-diff", NetvizDiffDirective)
    app.add_node(netviz_changes)
    app.add_post_transform(FillChanges)
