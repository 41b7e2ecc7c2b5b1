"""The ``netviz_diagram`` doctree node and how each builder writes it.

Pipeline step *write* (collect → summary → **write**).  A node names its
files in the diagram cache by cache-relative keys, which the writers resolve
with :func:`~.cachefiles.cache_file` (refusing any that leads out of the
cache).  HTML inlines the SVG (so it can be styled), writes the viewer's data
with each class's link read back from the resolved references of its
:class:`~.summary.netviz_links`, and its summary table as the child nodes
they are (:mod:`.summary`), and copies the ONNX and SVG files to
``_downloads`` under content-hashed names.  LaTeX includes a vector PDF and
texinfo a PNG that Graphviz renders from the stored DOT, put where
:mod:`sphinx.ext.graphviz` puts its images; text and man print the alt
text.  Any other builder gets a paragraph of alt text (see
:func:`replace_for_other_builders`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.writers.html5 import HTML5Translator
from sphinx.writers.latex import LaTeXTranslator
from sphinx.writers.manpage import ManualPageTranslator
from sphinx.writers.texinfo import TexinfoTranslator
from sphinx.writers.text import TextTranslator

from ..bounds import MAX_SVG_BYTES, TooBig, read_bounded
from ..cache import DamagedFile
from ..errors import NetvizError
from ..markup import Download, download, viewer_html
from ..render import can_write, dot_version, run_dot, svg_for_inline
from ..onnx_import import is_onnx_path
from ..viewer_page import has_outputs, without_assets
from ..views import short_name
from .cachefiles import OutsideCache, cache_file, cache_for, node_details
from .config import NetvizConfig
from .summary import class_hrefs

logger = logging.getLogger(__name__)


class netviz_diagram(nodes.General, nodes.Element):  # noqa: N801 (docutils naming)
    """One drawn network (or the placeholder for one that could not be drawn).

    Attributes: ``target``, ``alt``, ``summary``, ``height`` (the canvas's
    height limit, a checked CSS length, or ''), ``key`` (the cache key), and
    either ``error`` or — filled in when the page is written, from the verified
    cache (:func:`~.collect.fill`) — ``svg``, ``dot``, ``details``, ``layouts``
    (by depth) and ``onnx`` ('' for none): cache-relative keys, never paths;
    ``onnx_mode``, ``model``.  In HTML its children are its class links and
    summary table (:mod:`.summary`).
    """


def alt_text(node: netviz_diagram) -> str:
    if node.get("error"):
        return f"[netviz could not draw {node['target']}: {node['error']}]"
    return f"[{node['alt']}]"


def unreadable(node: netviz_diagram, exc: Exception) -> None:
    """A drawn diagram whose files cannot be read now: its placeholder, and a ``netviz.write``
    warning."""
    if isinstance(exc, OutsideCache):
        node["error"] = f"its node names a file outside the diagram cache ({exc}); refused"
    elif isinstance(exc, TooBig):  # not written by this version's limits (sphinx_netviz.bounds)
        node["error"] = f"{exc}; left out of the page"
    else:  # the cache changed under us
        node["error"] = f"its files could not be read ({exc.__class__.__name__}); build again"
    logger.warning("cannot write %s: %s", node["target"], node["error"],
                   type="netviz", subtype="write", location=node)


def _copy_once(source: Path, target: Path) -> None:
    """Copy a content-named file unless it is already there (keeps its mtime).

    ``-j`` writer processes may copy the same file at once: each writes its
    own temporary file and renames it into place.
    """
    if not target.exists():  # copied in pieces: a big ONNX file takes no memory
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)


# -- HTML ---------------------------------------------------------------------

def visit_html(self: HTML5Translator, node: netviz_diagram) -> None:
    if not node.get("error"):
        try:
            head, tail = _diagram_html(self, node)
        except (OSError, ValueError, KeyError, NetvizError) as exc:
            unreadable(node, exc)
        else:
            self.body.append(head)
            self.context.append(tail)
            return  # then its children: class links (never written) and summary table
    self.body.append(
        self.starttag(node, "div", "", CLASS="netviz netviz-error", role="note")
        + f"<p><strong>netviz could not draw <code>{self.encode(node['target'])}</code>:</strong> "
        f"{self.encode(node['error'])}</p></div>\n"
    )
    raise nodes.SkipNode


def depart_html(self: HTML5Translator, node: netviz_diagram) -> None:
    self.body.append(self.context.pop())


def _diagram_html(self: HTML5Translator, node: netviz_diagram) -> tuple[str, str]:
    """The diagram's HTML before its children (class links, never written; the summary table)
    and after them: :func:`~sphinx_netviz.markup.viewer_html` with this page's ids, the class
    links' hrefs and the copied downloads."""
    env = self.builder.env
    details = node_details(env, node)  # parsed once per page written (size-checked)
    hrefs = class_hrefs(node)
    for entry in [*details["calls"].values(), *details["rows"]]:
        entry["href"] = hrefs.get(entry.get("qualname") or "")
    prefix, details["prefix"] = details["prefix"], _page_prefix(self, details["prefix"])
    # a node made by other code has no anchor: an id of its own (a named diagram's is its figure's)
    anchor = node.get("anchor") or f"netviz-{details['prefix']}"
    ids = list(node["ids"]) or ([] if node.get("anchor") else [anchor])
    svgs = {int(depth): key for depth, key in node["layouts"].items()} | {int(details["depth"]): node["svg"]}
    return viewer_html(details, svgs, lambda key: svg_for_inline(read_bounded(cache_file(env, key), MAX_SVG_BYTES)),
                       drawn_prefix=prefix, alt=node["alt"], anchor=anchor, ids=ids, classes=node["classes"],
                       height=node.get("height") or "", downloads=_downloads(self, node))


def _page_prefix(self: Any, prefix: str) -> str:
    """The id prefix of this drawing of a diagram on this page: ``prefix`` the first time,
    ``prefix-2``, ``prefix-3``… when the page shows the same diagram again (unique element ids)."""
    seen = getattr(self, "_netviz_prefixes", None)
    if seen is None:
        seen = self._netviz_prefixes = {}
    seen[prefix] = count = seen.get(prefix, 0) + 1
    return prefix if count == 1 else f"{prefix}-{count}"


def _downloads(self: HTML5Translator, node: netviz_diagram) -> list[Download]:
    """Copy the ONNX and SVG files to ``_downloads/netviz``; their links, saved as the model's
    name (``TinyResNet.onnx``; an ONNX file's stem for a diagram of one).

    An unwritable download folder is a ``netviz.write`` warning and no links.
    """
    env = self.builder.env
    folder = Path(self.builder.outdir) / "_downloads" / "netviz"
    files = [("onnx", cache_file(env, node["onnx"]))] if node.get("onnx") else []
    # an SVG opened from the site's origin runs its scripts: the cached one is the sanitized
    # file (sanitized when it was drawn, checked against its content name when looked up)
    files.append(("svg", cache_file(env, node["svg"])))
    saved_name = short_name(node["target"]) if is_onnx_path(node["target"]) else node["model"]
    links = []
    try:
        for kind, path in files:
            _copy_once(path, folder / path.name)
            links.append(download(f"{self.builder.dlpath}/netviz/{path.name}", kind, model=node["model"],
                                  saved_name=saved_name, onnx_mode=node.get("onnx_mode"),
                                  size=path.stat().st_size))
    except OSError as exc:
        logger.warning("%s: cannot write its downloads into %s (%s); make the output folder writable",
                       node["target"], folder, exc.strerror or exc, type="netviz", subtype="write",
                       location=node)
        return []
    return links


# -- LaTeX and texinfo: Graphviz renders the stored DOT ------------------------

def _dot_image(self: LaTeXTranslator | TexinfoTranslator, node: netviz_diagram, fmt: str,
               label: str, dpi: int | None = None) -> str | None:
    """The diagram as a ``fmt`` (``pdf``, ``png``; a PNG at ``dpi``) image file for the document:
    its path, or ``None`` after a located warning.

    As :mod:`sphinx.ext.graphviz` does, in the builder's image folder, rendered once; unlike
    its ``render_dot``, with netviz's Graphviz (``netviz_dot``) and time limit
    (``netviz_layout_timeout``), its warnings, and a copy kept in the diagram cache, named by
    its content (:meth:`~sphinx_netviz.cache.DiagramCache.derived`), so that a new output
    folder does not render it again.
    """
    settings = NetvizConfig.from_sphinx(self.builder.config).pipeline_settings
    try:
        dot_path = cache_file(self.builder.env, node["dot"])
        kind = f"{fmt} {dpi or 'default'} dpi, {dot_version(settings.dot)}"
        rendered = cache_for(self.builder.env).derived(dot_path, kind, lambda dot: run_dot(
            dot.decode("utf-8"), fmt, settings.dot, settings.layout_timeout, dpi), f".{fmt}")
        name = rendered.name  # content-named
        _copy_once(rendered, Path(self.builder.outdir, self.builder.imagedir, name))
    except OutsideCache as exc:
        unreadable(node, exc)
        return None
    except (NetvizError, OSError, DamagedFile, UnicodeDecodeError) as exc:
        if isinstance(exc, NetvizError):
            stage, message = exc.stage, exc.message
        elif isinstance(exc, OSError):
            stage, message = "write", f"cannot write its {fmt.upper()} ({exc.strerror or exc})"
        else:  # the DOT file changed in the cache since the page was read
            stage, message = "write", f"its DOT source in the cache is damaged ({exc}); build again"
        logger.warning("cannot draw %s for %s: %s", node["target"], label, message,
                       type="netviz", subtype=stage, location=node)
        return None
    return Path(self.builder.imgpath, name).as_posix()


#: the resolution of LaTeX's PNG when the Graphviz writes no PDF (graphviz-pure, the pure extra)
LATEX_PNG_DPI = 300


def visit_latex(self: LaTeXTranslator, node: netviz_diagram) -> None:
    dot = NetvizConfig.from_sphinx(self.builder.config).pipeline_settings.dot
    fmt, dpi = ("pdf", None) if can_write("pdf", dot) else ("png", LATEX_PNG_DPI)
    name = None if node.get("error") else _dot_image(self, node, fmt, "LaTeX", dpi)
    if name is None:
        self.body.append("\n" + self.encode(alt_text(node)) + "\n")
    else:
        self.body.append("\n\\sphinxincludegraphics[width=\\linewidth,height=0.8\\textheight,keepaspectratio]"
                         f"{{{name}}}\n")
    raise nodes.SkipNode


def visit_texinfo(self: TexinfoTranslator, node: netviz_diagram) -> None:
    name = None if node.get("error") else _dot_image(self, node, "png", "texinfo")
    if name is None:
        self.body.append(self.escape(alt_text(node)))
    else:  # as sphinx.ext.graphviz writes its images; Info readers show the alt text
        self.body.append(f"\n@image{{{name.removesuffix('.png')},,,{self.escape_arg(alt_text(node))},png}}\n")
    raise nodes.SkipNode


# -- plain-text builders ------------------------------------------------------

def visit_text(self: TextTranslator, node: netviz_diagram) -> None:
    self.add_text(alt_text(node))
    raise nodes.SkipNode


def visit_man(self: ManualPageTranslator, node: netviz_diagram) -> None:
    self.body.append(self.deunicode(alt_text(node)))
    raise nodes.SkipNode


def register(app: Sphinx) -> None:
    app.add_node(
        netviz_diagram,
        html=(visit_html, depart_html),
        latex=(visit_latex, None),
        text=(visit_text, None),
        man=(visit_man, None),
        texinfo=(visit_texinfo, None),
    )
    app.connect("doctree-resolved", drop_output_assets)


def has_writer(app: Sphinx) -> bool:
    """Whether the builder writes diagrams with a visitor here (else they become alt text)."""
    handlers = app.registry.translation_handlers
    builder = app.builder
    return any("netviz_diagram" in handlers.get(name, {}) for name in (builder.name, builder.format))


def shows_viewer(doctree: nodes.document) -> bool:
    """Whether a page needs the viewer's stylesheet and script: it has a diagram, or a notebook
    output of :func:`sphinx_netviz.draw` (myst-nb's raw HTML)."""
    return (any(True for _ in doctree.findall(netviz_diagram))
            or any(has_outputs(raw.astext()) for raw in doctree.findall(_html_raw)))


def _html_raw(node: nodes.Node) -> bool:
    return isinstance(node, nodes.raw) and "html" in node.get("format", "").split()


def drop_output_assets(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved``: notebook outputs of :func:`sphinx_netviz.draw` on an HTML page (run or
    stored by myst-nb) lose their copies of the viewer's stylesheet and script, which the page
    loads once (:func:`shows_viewer`); their bootstraps start them with it."""
    if app.builder.format != "html":
        return
    for raw in list(doctree.findall(_html_raw)):
        text = raw.astext()
        if has_outputs(text):
            raw.replace_self(nodes.raw(raw.rawsource, without_assets(text), format=raw["format"],
                                       classes=raw["classes"]))


def replace_for_other_builders(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved``: builders with no visitor here get the alt text as a paragraph."""
    if has_writer(app):
        return
    for node in list(doctree.findall(netviz_diagram)):
        node.replace_self(nodes.paragraph(text=alt_text(node)))
