"""The ``.. netviz::`` directive: options in, a ``netviz_diagram`` node out.

First step of the pipeline (**directive** → collect → child: load → trace →
graph → render/export → cache → write).  Its options enter through
:func:`~sphinx_netviz.options.sort_values` (the directive front end), over
``conf.py``'s values, each parsed and checked once; a diagram already in the (verified) cache is
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
from ..options import OPTIONS, OPTIONS_LIST, Frontend, OptionValues, PageOptions, option_names, sort_values
from ..pipeline import spec_key
from ..spec import DiagramSpec
from ..values import did_you_mean, nearest
from . import collect, events, layer_refs
from .config import NetvizConfig
from .diagram_node import netviz_diagram


def _align(argument: str) -> str:
    return directives.choice(argument, ("left", "center", "right"))


#: the netviz options, as text: the option model parses them, so a bad value is a located netviz warning
_NETVIZ_OPTIONS = {o.directive: directives.unchanged for o in OPTIONS_LIST if o.directive}
#: options of how the page shows a drawing (node attributes of the same name)
_PAGE_OPTIONS = option_names(PageOptions)
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

    def option_values(self, config: NetvizConfig) -> OptionValues:
        """This directive's netviz options (text) over ``conf.py``'s values, each parsed and checked
        once (:func:`~sphinx_netviz.options.sort_values`); a bad one is kept in ``problems``, and
        its option at ``conf.py``'s value."""
        given = {name: text or "" for name, text in self.options.items() if name in _NETVIZ_OPTIONS}
        return sort_values(given, Frontend.SPHINX, under=config.values, keep_going=True)

    def make_spec(self, values: OptionValues, target: str) -> DiagramSpec:
        """The spec of ``target`` (the argument's model, or its ONNX file's path) with ``values``;
        a bad value (but a page option's, which :meth:`start_node` warned about) is raised."""
        values.raise_problem(but=("page",))
        return DiagramSpec.of(target, values)

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
        node, location, values = self.start_node(config, target)
        try:
            spec = self.make_spec(values, self.onnx_file(target) if is_onnx_path(target) else target)
            timeout, settings = values.limits.timeout, values.settings
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

    def start_node(self, config: NetvizConfig, target: str
                   ) -> tuple[netviz_diagram, tuple[str, int], OptionValues]:
        """The diagram node for ``target``, with the page options (a misspelt option, or a bad
        page option, is a located warning), the directive's location and its option values."""
        node = netviz_diagram(target=target, classes=self.options.get("class", []))
        node["alt"] = self.options.get("alt") or f"Diagram of the network {target}"
        self.set_source_info(node)
        location = (self.env.docname, self.lineno)
        for name in [n for n, v in self.options.items() if isinstance(v, UnknownOption)]:
            del self.options[name]
            collect.warn(target, "input", unknown_option_message(name, list(dict.keys(self.option_spec))),
                         location, drawn=True)
        values = self.option_values(config)
        for problem in values.problems:  # how the page shows the drawing: conf.py's value instead
            if OPTIONS[problem.option].scope == "page":
                collect.warn(target, problem.stage, problem.message, location, drawn=True)
        for name in _PAGE_OPTIONS:  # not part of the spec
            node[name] = getattr(values.page, name)
        return node, location, values

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
