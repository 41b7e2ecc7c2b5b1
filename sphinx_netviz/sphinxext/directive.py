"""The ``.. netviz::`` directive: options in, a ``netviz_diagram`` node out.

First step of the pipeline (**directive** → load → trace → graph →
render/export → write).  Options are parsed by :mod:`sphinx_netviz.spec`;
the diagram comes from :func:`sphinx_netviz.pipeline.cached_diagram`.  The
directive builds docutils nodes directly (no generated reST), so it runs
unchanged under MyST.  Any problem becomes one ``netviz.<stage>`` warning
at the directive's line and a visible placeholder; the build goes on.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..cache import DiagramCache
from ..deps import is_project_file
from ..errors import NetvizError
from ..pipeline import cached_diagram
from ..spec import (
    DiagramSpec,
    parse_bool,
    parse_depth,
    parse_direction,
    parse_dtypes,
    parse_device,
    parse_kwargs,
    parse_onnx_mode,
    parse_shapes,
)
from . import events
from .config import NetvizConfig
from .diagram_node import netviz_diagram

logger = logging.getLogger(__name__)


def _align(argument: str) -> str:
    return directives.choice(argument, ("left", "center", "right"))


def cache_for(env: Any) -> DiagramCache:
    """The diagram cache of a build (beside its pickled environment)."""
    return DiagramCache(Path(env.doctreedir) / "netviz")


class NetvizDirective(SphinxDirective):
    """Draw the network named by the argument (``package.module:Name``)."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = False
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        # parsed by sphinx_netviz.spec, so a bad value is a netviz warning
        "input-shape": directives.unchanged_required,
        "input-dtype": directives.unchanged_required,
        "inputs": directives.unchanged_required,
        "kwargs": directives.unchanged_required,
        "depth": directives.unchanged_required,
        "direction": directives.unchanged_required,
        "onnx": directives.unchanged,
        "device": directives.unchanged_required,
        "fold": directives.unchanged,
        "summary": directives.unchanged,
        # as on ``figure``
        "caption": directives.unchanged,
        "name": directives.unchanged,
        "alt": directives.unchanged,
        "align": _align,
        "class": directives.class_option,
    }

    def make_spec(self, config: NetvizConfig) -> DiagramSpec:
        opts = self.options
        shapes = parse_shapes(opts["input-shape"]) if "input-shape" in opts else ()
        return DiagramSpec(
            target=self.arguments[0].strip(),
            input_shapes=shapes,
            input_dtypes=parse_dtypes(opts["input-dtype"]) if "input-dtype" in opts else (),
            inputs=opts.get("inputs", "").strip() or None,
            kwargs=parse_kwargs(opts["kwargs"]) if "kwargs" in opts else {},
            depth=parse_depth(opts["depth"]) if "depth" in opts else config.depth,
            direction=parse_direction(opts["direction"]) if "direction" in opts else config.direction,
            onnx=parse_onnx_mode(opts["onnx"]) if "onnx" in opts else config.onnx_mode,
            device=parse_device(opts["device"]) if "device" in opts else config.device,
            fold=parse_bool(opts["fold"], ":fold:") if "fold" in opts else config.fold,
        )

    def run(self) -> list[nodes.Node]:
        config = NetvizConfig.from_sphinx(self.config)
        target = self.arguments[0].strip()
        node = netviz_diagram(target=target, classes=self.options.get("class", []))
        try:  # the page's table only, not the drawing: not part of the spec
            node["summary"] = (parse_bool(self.options["summary"], ":summary:")
                               if "summary" in self.options else config.summary)
        except NetvizError as exc:
            self._warn(exc.stage, exc.message, drawn=True)
            node["summary"] = config.summary
        node["alt"] = self.options.get("alt") or f"Diagram of the network {target}"
        self.set_source_info(node)
        try:
            spec = self.make_spec(config)
            found, traced = cached_diagram(spec, cache_for(self.env), config.pipeline_settings,
                                           torch_threads=1)
        except NetvizError as exc:
            self._fail(node, exc.stage, exc.message)
        except Exception as exc:  # user code can raise anything; never a bare traceback
            self._fail(node, "trace", f"unexpected {exc.__class__.__name__}: {exc}")
        else:
            for source in found.sources:
                self.env.note_dependency(source)
            node.update_all_atts({"svg": str(found.svg_path), "dot": str(found.dot_path),
                                  "onnx": str(found.onnx_path or ""), "onnx_mode": found.onnx_mode or "",
                                  "model": found.model_name, "details": str(found.details_path),
                                  "layouts": {str(d): str(p) for d, p in found.layouts.items()}})
            for problem in found.problems:
                self._warn(problem.stage, problem.message, drawn=True)
            if traced:
                for note in found.notes:
                    logger.info("netviz: %s", note, location=(self.env.docname, self.lineno))
            events.record(self.env, "traced" if traced else "reused")
        return [self._figure(node)]

    def _warn(self, stage: str, message: str, *, drawn: bool = False) -> None:
        """One ``netviz.<stage>`` warning at the directive's line."""
        logger.warning("%s: %s" if drawn else "cannot draw %s: %s",
                       self.arguments[0].strip(), message,
                       type="netviz", subtype=stage, location=(self.env.docname, self.lineno))

    def _fail(self, node: netviz_diagram, stage: str, message: str) -> None:
        self._warn(stage, message)
        node["error"] = message
        events.record(self.env, "failed")
        self._note_target_file()

    def _note_target_file(self) -> None:
        """Re-read this page when the (broken) model file is fixed."""
        module_name = self.arguments[0].partition(":")[0].strip()
        while module_name:
            try:
                found = importlib.util.find_spec(module_name)
            except (ImportError, ValueError, AttributeError):
                found = None
            if found is not None and is_project_file(found.origin):
                self.env.note_dependency(found.origin)
                return
            module_name = module_name.rpartition(".")[0]

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
        return figure
