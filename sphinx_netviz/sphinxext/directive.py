"""The ``.. netviz::`` directive: options in, a ``netviz_diagram`` node out.

First step of the pipeline (**directive** → collect → child: load → trace →
graph → render/export → cache → write).  Options are parsed by
:mod:`sphinx_netviz.spec`; a diagram already in the (verified) cache is
reused at once, any other is requested from :mod:`.collect`, which draws it
in a child process and fills the node in when the page is written.  The
directive never imports torch or model code.  It builds docutils nodes
directly (no generated reST), so it runs unchanged under MyST.  Any
problem becomes one ``netviz.<stage>`` warning at the directive's line and
a visible placeholder; the build goes on.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from ..cache import CachedDiagram
from ..errors import ImportProblem, NetvizError
from ..onnx_import import check_regular_file, is_onnx_path
from ..options import OPTIONS, OPTIONS_LIST
from ..pipeline import spec_key
from ..spec import DiagramSpec, file_defaults
from ..values import did_you_mean, nearest
from . import collect, events, layer_refs
from .config import NetvizConfig
from .diagram_node import netviz_diagram


def _align(argument: str) -> str:
    return directives.choice(argument, ("left", "center", "right"))


#: the netviz options, as text: the option model parses them, so a bad value is a located netviz warning
_NETVIZ_OPTIONS = {o.directive: directives.unchanged for o in OPTIONS_LIST if o.directive}
#: options of how the page shows a drawing (node attributes of the same name)
_PAGE_OPTIONS = tuple(o.name for o in OPTIONS_LIST if o.scope == "page")
#: the options of ``figure``, for the figure around the diagram
_FIGURE_OPTIONS = {"caption": directives.unchanged, "name": directives.unchanged,
                   "alt": directives.unchanged, "align": _align, "class": directives.class_option}


class UnknownOption(str):
    """The text of an option the directive does not have (kept to name it in a warning)."""


class _OptionSpec(dict):
    """The directive's ``option_spec``: a misspelt option (``:depht:``) is accepted as an
    :class:`UnknownOption` instead of docutils' or MyST's bare "unknown option" error, so that
    :meth:`NetvizDirective.run` can warn with the option it probably meant and still draw."""

    def __missing__(self, name: str) -> Any:
        return lambda value: UnknownOption(value or "")


def unknown_option_message(name: str, known: list[str]) -> str:
    """``:depht:`` → what it says, the nearest known option(s), and where the list is."""
    hint = (did_you_mean(f":{n}:" for n in nearest(name, known))
            or "see the options in the documentation's options page")
    return (f":{name}: is not an option of netviz (ignored); {hint} "
            f"(netviz takes {', '.join(f':{n}:' for n in sorted(known))})")


class NetvizDirective(SphinxDirective):
    """Draw the network named by the argument: ``package.module:Name``, or an ONNX file
    (``path/model.onnx``, relative to the page like ``image``'s, or to the source folder with a
    leading ``/``)."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = False
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = _OptionSpec({**_NETVIZ_OPTIONS, **_FIGURE_OPTIONS})

    def option_value(self, name: str, config: NetvizConfig) -> Any:
        """Option ``name``'s value: the directive's text parsed, else ``conf.py``'s."""
        option = OPTIONS[name]
        if option.directive in self.options:
            return option.from_text(self.options[option.directive] or "")
        return config[name]

    def make_spec(self, config: NetvizConfig, target: str | None = None) -> DiagramSpec:
        """The spec of this directive (for ``target``, the argument's model or file, if given)."""
        target = target or self.arguments[0].strip()
        given = {o.name: o.from_text(self.options[o.directive] or "")
                 for o in OPTIONS_LIST if o.scope == "spec" and o.directive in self.options}
        defaults = file_defaults(config.spec_defaults) if is_onnx_path(target) else config.spec_defaults
        return DiagramSpec(target=target, **{**defaults, **given})

    def onnx_file(self, target: str) -> str:
        """An ONNX file's absolute path, found as ``image`` finds its file; the page depends on it."""
        _, path = self.env.relfn2path(target, self.env.docname)
        self.env.note_dependency(path)  # an edited (or fixed, or added) file reads the page again
        if os.path.exists(path):  # a FIFO, a device, a folder: named as such
            check_regular_file(path)
        if not os.path.isfile(path):
            raise ImportProblem(f"there is no ONNX file {path} (a relative path is read from the page's "
                                "folder, one starting with / from the source folder)")
        return os.path.abspath(path)

    def run(self) -> list[nodes.Node]:
        config = NetvizConfig.from_sphinx(self.config)
        target = self.arguments[0].strip()
        node, location = self.start_node(config, target)
        try:
            spec = self.make_spec(config, self.onnx_file(target) if is_onnx_path(target) else target)
            timeout = self.option_value("timeout", config)
            settings = config.pipeline_settings
            key = spec_key(spec, settings)
        except NetvizError as exc:
            return self.fail_node(node, target, exc)
        node["key"] = key
        collect.note_key(self.env, key)
        found = collect.found(self.env, key)  # once per build: also env-get-outdated's
        if found is None or found.time_limited:  # drawn short of time: try again with the time now
            collect.request(self.env, collect.Request(
                key, spec_key(spec.export_view(), settings), spec, timeout,
                self.env.docname, self.lineno))
        else:
            self.reuse(key, found, target, location)
        return [self._figure(node)]

    def start_node(self, config: NetvizConfig, target: str) -> tuple[netviz_diagram, tuple[str, int]]:
        """The diagram node for ``target``, with the page options (a misspelt option, or a bad
        value, is a located warning), and the directive's location."""
        node = netviz_diagram(target=target, classes=self.options.get("class", []))
        node["alt"] = self.options.get("alt") or f"Diagram of the network {target}"
        self.set_source_info(node)
        location = (self.env.docname, self.lineno)
        for name in [n for n, v in self.options.items() if isinstance(v, UnknownOption)]:
            del self.options[name]
            collect.warn(target, "input", unknown_option_message(name, list(dict.keys(self.option_spec))),
                         location, drawn=True)
        for name in _PAGE_OPTIONS:  # how the page shows the drawing: not part of the spec
            try:
                node[name] = self.option_value(name, config)
            except NetvizError as exc:
                collect.warn(target, exc.stage, exc.message, location, drawn=True)
                node[name] = config[name]
        return node, location

    def fail_node(self, node: netviz_diagram, target: str, exc: NetvizError) -> list[nodes.Node]:
        """A diagram that cannot be asked for: a located warning and the placeholder."""
        collect.warn(target, exc.stage, exc.message, (self.env.docname, self.lineno))
        node["error"] = exc.message
        events.record(self.env, "failed")
        collect.note_model_file(self.env, target, self.env.docname)
        return [self._figure(node)]

    def reuse(self, key: str, found: CachedDiagram, target: str, location: tuple[str, int]) -> None:
        """The diagram of ``key`` the cache has: the page depends on its sources, and hears its
        problems again."""
        collect.failures(self.env).pop(key, None)
        for source in found.sources:
            self.env.note_dependency(source)
        for problem in found.problems:
            collect.warn(target, problem.stage, problem.message, location, drawn=True)
        events.record(self.env, "reused")

    def _figure(self, node: netviz_diagram) -> nodes.figure:
        figure = nodes.figure("", node)
        self.set_source_info(figure)
        if "align" in self.options:
            figure["align"] = self.options["align"]
        caption = self.options.get("caption")
        if caption:
            inline, messages = self.parse_inline(caption, lineno=self.lineno)
            caption_node = nodes.caption(caption, "", *inline)
            caption_node.extend(messages)
            self.set_source_info(caption_node)
            figure += caption_node
        self.add_name(figure)
        layer_refs.note_diagram(self.env, self.state.document, figure, node)
        return figure
