"""Draw a network from Python: a notebook cell, a script, a test.

A third front end beside the directive and the command line (**api** →
options → spec → pipeline → markup).  :func:`draw` takes the model itself (an
``nn.Module`` instance, a class, a factory) or its import path, and the
directive's options as keywords, under the option model's names
(``input_shape``, ``depth``, ``onnx``…, and the settings ``dot``,
``layout_timeout``…: see :data:`~sphinx_netviz.options.OPTIONS`), with the
same defaults.  An object in memory is traced where it lives, in this
process.  The :class:`Drawing` it returns shows itself in Jupyter as the docs'
interactive viewer — its CSS and script inline, so the output stands alone;
where scripts are stripped (an untrusted notebook, a static preview) the
static SVG remains — and saves to ``.svg``, ``.html`` (a standalone page),
``.pdf``, ``.png``, ``.dot`` and ``.onnx``.  This module imports neither
Sphinx nor, until it draws, torch.
"""

from __future__ import annotations

import html
import itertools
import re
import secrets
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .archdiff import Change
from .artifacts import Artifacts
from .cache import write_atomic
from .errors import InputProblem
from .limits import Budget
from .loader import IMPORT, Builder, build_model
from .markup import (
    COLUMNS,
    ONNX_LABELS,
    details_left_out_sentence,
    more_rows_text,
    omitted_sentence,
    reprefixed,
    script_json,
    summary_texts,
    summary_title,
    with_title,
)
from .options import OPTIONS_LIST, Frontend, Option, worded_for
from .render import MAX_DPI, run_dot, svg_for_inline
from .spec import DiagramSpec
from .values import did_you_mean, nearest
from .views import anchor_slug

if TYPE_CHECKING:
    from .pipeline import PipelineSettings

__all__ = ["Drawing", "diff", "draw"]

#: the options ``draw()`` takes, by keyword (every option but a docs build's process limits and folders)
KEYWORDS: dict[str, Option] = {o.keyword: o for o in OPTIONS_LIST
                               if o.name not in ("memory_mb", "jobs") and o.scope != "build"}
_STATIC = Path(__file__).resolve().parent / "static"
#: a random part of the element ids (and anchor) of every output this process shows in a notebook:
#: outputs of two processes (a notebook before and after a kernel restart) never share an id
_PROCESS_TAG = secrets.token_hex(4)
#: how many outputs this process has shown (the outputs of one process never share an id either)
_SHOWN = itertools.count(1)


def draw(model: Any, /, **options: Any) -> Drawing:
    """Trace ``model`` and draw it; see the module docstring and ``docs/python.md``.

    ``model``: an ``nn.Module`` instance (traced where it lives), a class or a
    function that returns a model, or an import path (``"pkg.mod:Name"``).
    ``inputs`` may also be the example inputs themselves (a tensor, a tuple,
    a dict) or a function that returns them.  Option values may be given as
    the directive's text (``input_shape="1, 3, 224, 224"``) or as Python
    values (``input_shape=(1, 3, 224, 224)``).  A bad value raises
    :class:`~sphinx_netviz.errors.InputProblem` naming the keyword; a model
    that cannot be traced raises the pipeline's
    :class:`~sphinx_netviz.errors.NetvizError`.
    """
    from .pipeline import make_artifacts

    with worded_for(Frontend.API):
        spec, settings, build, by_scope = _prepared(model, options, "draw")
        prefix = f"nv{spec.key()[:8]}"
        timeout = by_scope["limits"].get("timeout")
        made = make_artifacts(spec, settings, id_prefix=prefix, build=build,
                              budget=Budget(timeout) if timeout else None)
    page = {o.name: by_scope["page"].get(o.name, o.default) for o in OPTIONS_LIST if o.scope == "page"}
    return Drawing(made, settings.dot, settings.layout_timeout, summary=page["summary"], height=page["height"],
                   alt=f"Diagram of the network {made.model_name}")


def _prepared(model: Any, options: dict[str, Any], caller: str
              ) -> tuple[DiagramSpec, PipelineSettings, Builder, dict[str, dict[str, Any]]]:
    """The spec, settings and builder that ``options`` (``draw()``'s keywords) give for ``model``,
    and the checked values by scope."""
    from .pipeline import PipelineSettings

    unknown = sorted(set(options) - set(KEYWORDS))
    if unknown:
        named = [f"{name} ({hint})" if (hint := did_you_mean(nearest(name, KEYWORDS))) else name
                 for name in unknown]
        raise TypeError(f"{caller}() got unknown option(s) {', '.join(named)}; it takes "
                        f"{', '.join(KEYWORDS)}")
    options = dict(options)
    inputs = options.get("inputs")
    in_memory_inputs = inputs is not None and not isinstance(inputs, str)
    if in_memory_inputs:
        options["inputs"] = "__main__:inputs"  # named in messages; the object is used
    values = {KEYWORDS[k].name: _value(KEYWORDS[k], v) for k, v in options.items()}
    by_scope = {scope: {o.name: values[o.name] for o in OPTIONS_LIST if o.scope == scope and o.name in values}
                for scope in ("spec", "page", "pipeline", "limits")}
    target = model if isinstance(model, str) else _target_of(model)
    spec = DiagramSpec(target, **by_scope["spec"])
    settings = PipelineSettings(**by_scope["pipeline"])
    build = partial(build_model, model=IMPORT if isinstance(model, str) else model,
                    inputs=(inputs if callable(inputs) else lambda: inputs) if in_memory_inputs else IMPORT)
    return spec, settings, build, by_scope


def diff(old: Any, new: Any, /, *, old_kwargs: dict[str, Any] | None = None,
         new_kwargs: dict[str, Any] | None = None, **options: Any) -> Drawing:
    """Compare two architectures and draw them merged; see ``docs/diff.rst``.

    ``old`` and ``new`` are what :func:`draw` takes (an instance, a class, a
    factory, an import path); ``old`` may also be a snapshot file (``.json``,
    ``netviz TARGET --snapshot``).  Both are traced with the same ``options``
    (:func:`draw`'s keywords); ``old_kwargs`` and ``new_kwargs`` are merged over
    ``kwargs`` for one side.  The :class:`Drawing`'s ``changes`` are the
    :class:`~sphinx_netviz.archdiff.Change` records (empty: the same architecture).
    """
    import hashlib

    from .archjob import is_snapshot_path, side_snapshot, with_kwargs
    from .diffdraw import draw_diff

    with worded_for(Frontend.API):
        for name, value in (("old_kwargs", old_kwargs), ("new_kwargs", new_kwargs)):
            if value is not None:
                KEYWORDS["kwargs"].validated(value)
        spec, settings, build, by_scope = _prepared(new, options, "diff")
        new_spec = with_kwargs(spec, new_kwargs) if not spec.is_onnx_file else spec
        new_side = side_snapshot(new_spec.target, new_spec, settings, build=build)
        if isinstance(old, (str, Path)) and is_snapshot_path(str(old)):
            old_side = side_snapshot(str(old), None)
            old_key = str(old)
        else:
            old_options = {k: v for k, v in options.items() if not (isinstance(old, str) and
                                                                     old.lower().endswith(".onnx") and
                                                                     KEYWORDS[k].name in _MODEL_OPTIONS)}
            spec_old, _, build_old, _ = _prepared(old, old_options, "diff")
            spec_old = with_kwargs(spec_old, old_kwargs) if not spec_old.is_onnx_file else spec_old
            old_side = side_snapshot(spec_old.target, spec_old, settings, build=build_old)
            old_key = spec_old.key()
        prefix = "nv" + hashlib.sha256(f"{old_key}\n{new_spec.key()}".encode()).hexdigest()[:8]
        drawn = draw_diff(old_side, new_side, new_spec, settings.dot, settings.layout_timeout, id_prefix=prefix)
    page = {o.name: by_scope["page"].get(o.name, o.default) for o in OPTIONS_LIST if o.scope == "page"}
    made = drawn.artifacts
    return Drawing(made, settings.dot, settings.layout_timeout, summary=page["summary"], height=page["height"],
                   alt=f"Architecture diff of the network {made.model_name}", changes=list(drawn.diff.changes))


#: the options that build or feed a model: an ONNX file on the old side takes none of them
_MODEL_OPTIONS = ("input_shapes", "input_dtypes", "inputs", "kwargs", "device", "dtype")


def _value(option: Option, value: Any) -> Any:
    """A keyword's value: text is parsed as the directive parses it, other values are checked."""
    return option.from_text(value) if isinstance(value, str) else option.validated(value)


def _target_of(model: Any) -> str:
    """A name for an object in memory, in import-path form (``__main__:Net``), for messages."""
    named = model if isinstance(model, type) or callable(model) and hasattr(model, "__qualname__") else type(model)
    module = re.sub(r"[^\w.]", "_", getattr(named, "__module__", None) or "__main__").strip(".") or "__main__"
    qualname = re.sub(r"\W", "_", getattr(named, "__qualname__", "model").replace("<locals>.", ""))
    module = ".".join(part if part and not part[0].isdigit() else f"_{part}" for part in module.split("."))
    return f"{module}:{qualname if qualname and not qualname[0].isdigit() else 'model'}"


#: the files a drawing saves to, by suffix (:meth:`Drawing.encoded`)
SAVE_SUFFIXES = (".svg", ".html", ".pdf", ".png", ".dot", ".gv", ".onnx")


@dataclass(frozen=True)
class Drawing:
    """One drawn network: shows itself in Jupyter, saves to files."""

    artifacts: Artifacts
    #: the Graphviz executable and time limit, for .pdf and .png
    dot: str
    layout_timeout: float
    summary: bool = True
    #: the viewer canvas's height limit (a CSS length), or '' for the default
    height: str = ""
    alt: str = "Diagram of a network"
    #: an architecture diff's changes (:func:`diff`), plain records; empty for a drawing
    changes: list[Change] = field(default_factory=list)

    @property
    def svg(self) -> str:
        """The drawing as an ``<svg>`` element (sanitized)."""
        return svg_for_inline(self.artifacts.svg)

    @property
    def onnx(self) -> bytes | None:
        """The ONNX file's bytes (None with ``onnx="none"``, or if no file could be made)."""
        return self.artifacts.onnx

    def html(self, *, standalone: bool = False) -> str:
        """The interactive viewer, self-contained; ``standalone``: a whole HTML page.

        A standalone page holds this drawing alone: its element ids are the drawing's own, so the
        page is the same bytes in every process (``save("x.html")``).  Otherwise the output is
        for a page it shares (a notebook): its ids get a part random per process and a count,
        unique among every output of every process.
        """
        details = dict(self.artifacts.details)
        prefix = str(details["prefix"])
        suffix = "" if standalone else f"-{_PROCESS_TAG}-{next(_SHOWN)}"
        unique = details["prefix"] = prefix + suffix
        css = (_STATIC / "netviz.css").read_text(encoding="utf-8")
        script = (_STATIC / "netviz.js").read_text(encoding="utf-8")
        body = self._diagram(details, prefix, unique, suffix)
        if standalone:
            title = html.escape(self.artifacts.model_name)
            return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                    f"<title>{title}</title>\n<style>\n{css}</style>\n</head>\n"
                    f'<body class="netviz-page">\n{body}<script>\n{script}</script>\n</body>\n</html>\n')
        # in a notebook the script runs once per output: the first defines the viewer, the others
        # (and the page's own copy, in a docs site) only start the diagrams that have none
        return f'<div class="netviz-output">\n<style>\n{css}</style>\n{body}<script>\n{script}</script>\n</div>\n'

    def _repr_html_(self) -> str:
        return self.html()

    def _diagram(self, details: dict[str, Any], prefix: str, unique: str, suffix: str) -> str:
        """The ``div.netviz`` the viewer starts on, as the docs' HTML writer makes it; its ids
        ``prefix`` turned into ``unique``, its anchor the model's with ``suffix``."""
        def inline(svg: bytes) -> str:
            return reprefixed(svg_for_inline(svg), prefix, unique)

        default_depth = details["depth"]
        templates = "".join(f'<template class="netviz-layout" data-depth="{depth}">{inline(svg)}</template>\n'
                            for depth, svg in sorted(self.artifacts.layouts.items()) if depth != default_depth)
        height = f' data-netviz-height="{html.escape(self.height)}"' if self.height else ""
        omitted = " ".join(filter(None, (omitted_sentence(list(details.get("omitted") or [])),
                                         details_left_out_sentence(details))))
        # a layer's link: #<anchor>/<link>, as in the docs
        anchor = html.escape(anchor_slug(self.artifacts.model_name) + suffix)
        return (f'<div class="netviz" id="{anchor}" data-netviz-anchor="{anchor}"{height}>\n'
                f'<div class="netviz-canvas" role="img" aria-label="{html.escape(self.alt)}">'
                f"{with_title(inline(self.artifacts.svg), self.alt, details)}</div>\n{templates}"
                f'<script type="application/json" class="netviz-data">{script_json(details)}</script>\n'
                + (self._summary(details) if self.summary else "")
                + (f'<p class="netviz-omitted">{html.escape(omitted)}</p>\n' if omitted else "")
                + "</div>\n")

    @staticmethod
    def _summary(details: dict[str, Any]) -> str:
        """The summary table, as the docs' HTML writer writes it (without class links)."""
        texts, total = summary_texts(details)
        cell = "<td>{}</td>".format

        def row(cells: list[str], *, code: int = 0, css: str = "") -> str:
            out = [cell(f"<code>{html.escape(t)}</code>" if i < code and t else html.escape(t))
                   for i, t in enumerate(cells)]
            return f"<tr{css}>{''.join(out)}</tr>"

        head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
        more = more_rows_text(details)  # the page lists the first rows only (sphinx_netviz.bounds)
        rows = ("".join(row(t, code=2) for t in texts)
                + (f'<tr class="netviz-more"><td><em>{html.escape(more)}</em></td>'
                   + "<td></td>" * (len(COLUMNS) - 1) + "</tr>" if more else "")
                + row(total, css=' class="netviz-total"'))
        return (f'<details class="netviz-summary"><summary>{html.escape(summary_title(details))}</summary>\n'
                f'<table class="docutils netviz-table"><thead><tr>{head}</tr></thead>'
                f"<tbody>{rows}</tbody></table></details>\n")

    def encoded(self, suffix: str, *, dpi: int | None = None) -> bytes:
        """The drawing as the bytes of a file ending in ``suffix`` (``.svg``, ``.html``, ``.dot``/``.gv``,
        ``.pdf``, ``.png``, ``.onnx``): what :meth:`save` and the command line's ``-o`` write.
        ``dpi``: the resolution of a PNG (Graphviz's default, 96, when None)."""
        suffix = suffix.lower()
        if dpi is not None:
            if suffix != ".png":
                raise InputProblem(f"dpi={dpi!r} applies to a .png only, not to {suffix or 'a file without suffix'}")
            if type(dpi) is not int or not 1 <= dpi <= MAX_DPI:
                raise InputProblem(f"dpi must be a whole number from 1 to {MAX_DPI}, not {dpi!r}; e.g. dpi=150")
        if suffix not in SAVE_SUFFIXES:
            raise InputProblem(f"cannot tell the format of a file ending in {suffix!r}; end it with "
                               f"{', '.join(SAVE_SUFFIXES)}")
        if suffix == ".svg":
            return self.artifacts.svg
        if suffix == ".html":
            return self.html(standalone=True).encode()
        if suffix in (".dot", ".gv"):
            return self.artifacts.dot.encode()
        if suffix in (".pdf", ".png"):
            return run_dot(self.artifacts.dot, suffix[1:], self.dot, self.layout_timeout, dpi)
        if self.artifacts.onnx is None:
            raise InputProblem("this drawing has no ONNX file: draw it with onnx='auto' (the default), "
                               "'full' or 'structure'")
        return self.artifacts.onnx

    def save(self, path: str | Path, *, dpi: int | None = None) -> Path:
        """Write the drawing to ``path``; its suffix picks the format (see :meth:`encoded`);
        ``dpi`` sets a PNG's resolution."""
        path = Path(path)
        write_atomic(path, self.encoded(path.suffix, dpi=dpi))
        return path

    def __repr__(self) -> str:
        made = self.artifacts
        onnx = f", {ONNX_LABELS.get(made.onnx_mode or '', 'no ONNX')}" if made.onnx_mode else ""
        return f"<Drawing of {made.model_name}: depth {made.depth}, {made.node_count} boxes{onnx}>"
