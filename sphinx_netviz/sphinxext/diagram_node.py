"""The ``netviz_diagram`` doctree node and how each builder writes it.

Pipeline step *write* (render/export → **write**).  HTML inlines the SVG
(so it can be styled) and copies the ONNX and SVG files to ``_downloads``
under content-hashed names; LaTeX renders a vector PDF from the stored DOT;
text, man and texinfo print the alt text; any other builder gets a paragraph
of alt text (see :func:`replace_for_other_builders`).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

from ..cache import content_name, write_atomic
from ..errors import NetvizError
from ..render import run_dot, svg_for_inline
from ..svgsafe import sanitized_svg_file
from .config import NetvizConfig
from .links import ClassLinks

logger = logging.getLogger(__name__)


#: translator names with a visitor here; any other builder gets alt text
WRITERS = ("html", "latex", "text", "man", "texinfo")


class netviz_diagram(nodes.General, nodes.Element):  # noqa: N801 (docutils naming)
    """One drawn network (or the placeholder for one that could not be drawn).

    Attributes: ``target``, ``alt``, ``summary``, ``key`` (the cache key), and
    either ``error`` or — filled in at ``doctree-resolved`` from the verified
    cache — ``svg``, ``dot``, ``details`` and ``layouts`` (absolute cache
    paths), ``onnx`` (path or ''), ``onnx_mode``, ``model``.
    """


def alt_text(node: netviz_diagram) -> str:
    if node.get("error"):
        return f"[netviz could not draw {node['target']}: {node['error']}]"
    return f"[{node['alt']}]"


def _copy_once(source: Path, target: Path) -> None:
    """Copy a content-named file unless it is already there (keeps its mtime).

    ``-j`` writer processes may copy the same file at once: each writes its
    own temporary file and renames it into place.
    """
    if not target.exists():
        write_atomic(target, source.read_bytes())


# -- HTML ---------------------------------------------------------------------

def visit_html(self: Any, node: netviz_diagram) -> None:
    classes = " ".join(["netviz", *node.get("classes", [])])
    if not node.get("error"):
        try:
            self.body.append(_diagram_html(self, node, classes))
        except (OSError, ValueError, KeyError, NetvizError) as exc:  # the cache changed under us
            node["error"] = f"its files could not be read ({exc.__class__.__name__}); build again"
            logger.warning("cannot write %s: %s", node["target"], node["error"],
                           type="netviz", subtype="write", location=node)
    if node.get("error"):
        self.body.append(
            f'<div class="{classes} netviz-error" role="note"><p><strong>netviz could not draw '
            f'<code>{html.escape(node["target"])}</code>:</strong> {html.escape(node["error"])}</p></div>\n'
        )
    raise nodes.SkipNode


def _diagram_html(self: Any, node: netviz_diagram, classes: str) -> str:
    """The diagram's HTML: inline SVG (sanitized), other depths, viewer data, table, downloads."""
    details = json.loads(Path(node["details"]).read_text(encoding="utf-8"))
    links = ClassLinks(self.builder, self.builder.current_docname)
    for entry in [*details["calls"].values(), *details["rows"]]:
        entry["href"] = links.href(entry.get("qualname", ""))
    default_depth = str(details["depth"])
    prefix, details["prefix"] = details["prefix"], _page_prefix(self, details["prefix"])
    svg = _with_title(_reprefixed(svg_for_inline(Path(node["svg"]).read_bytes()), prefix, details["prefix"]),
                      node["alt"], details)
    templates = "".join(
        f'<template class="netviz-layout" data-depth="{depth}">'
        f'{_reprefixed(svg_for_inline(Path(path).read_bytes()), prefix, details["prefix"])}</template>\n'
        for depth, path in sorted(node["layouts"].items(), key=lambda item: int(item[0]))
        if depth != default_depth
    )
    # no "<", ">" or "&" inside <script>: a module named "</script>" stays data
    data = (json.dumps(details, ensure_ascii=False, sort_keys=True)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    omitted = details.get("omitted") or []
    depths = f"Depths {', '.join(map(str, omitted))} are" if len(omitted) > 1 else f"Depth {omitted[0]} is" \
        if omitted else ""
    left_out = (f'<p class="netviz-omitted">{depths} not included: too many boxes, too slow to lay out, '
                "or too big for the page.</p>\n") if omitted else ""
    downloads = _downloads(self, node)
    return (
        f'<div class="{classes}" id="netviz-{details["prefix"]}">\n'
        f'<div class="netviz-canvas" role="img" aria-label="{html.escape(node["alt"])}">{svg}</div>\n'
        f'{templates}<script type="application/json" class="netviz-data">{data}</script>\n'
        f'{summary_table(details) if node.get("summary", True) else ""}{left_out}'
        + (f'<p class="netviz-downloads">Download: {" · ".join(downloads)}</p>\n' if downloads else "")
        + '</div>\n'
    )


def _page_prefix(self: Any, prefix: str) -> str:
    """The id prefix of this drawing of a diagram on this page: ``prefix`` the first time,
    ``prefix-2``, ``prefix-3``… when the page shows the same diagram again (unique element ids)."""
    seen = getattr(self, "_netviz_prefixes", None)
    if seen is None:
        seen = self._netviz_prefixes = {}
    seen[prefix] = count = seen.get(prefix, 0) + 1
    return prefix if count == 1 else f"{prefix}-{count}"


def _reprefixed(svg: str, prefix: str, unique: str) -> str:
    """``svg`` with its element ids (``<prefix>_…``, and Graphviz's ``a_<prefix>_…``) on ``unique``."""
    if unique == prefix:
        return svg
    return re.sub(r'(\bid="(?:a_)?)' + re.escape(prefix) + "_", lambda m: f"{m.group(1)}{unique}_", svg)


def _with_title(svg: str, alt: str, details: dict[str, Any]) -> str:
    """The SVG with a ``<title>`` and ``<desc>`` for screen readers, first inside ``<svg>``."""
    totals = details["totals"]
    desc = f"{details['model']}: {len(details['rows'])} layers, {totals['params']:,} parameters"
    head_end = svg.index(">") + 1
    return (f"{svg[:head_end]}\n<title>{html.escape(alt)}</title><desc>{html.escape(desc)}</desc>"
            f"{svg[head_end:]}")


def _downloads(self: Any, node: netviz_diagram) -> list[str]:
    """Copy the ONNX and (sanitized) SVG files to ``_downloads/netviz``; their links.

    An unwritable download folder is a ``netviz.write`` warning and no links.
    """
    folder = Path(self.builder.outdir) / "_downloads" / "netviz"
    links = []
    try:
        if node.get("onnx"):
            onnx_path = Path(node["onnx"])
            _copy_once(onnx_path, folder / onnx_path.name)
            label = _ONNX_LABELS.get(node.get("onnx_mode"), "ONNX")
            links.append(_download_link(self, onnx_path.name, label, node, "netviz-onnx"))
        # an SVG opened from the site's origin runs its scripts: publish the sanitized one
        svg = sanitized_svg_file(Path(node["svg"]).read_bytes())
        name = content_name(svg, ".svg")
        if not (folder / name).exists():
            write_atomic(folder / name, svg)
        links.append(_download_link(self, name, "SVG", node, "netviz-svg"))
    except OSError as exc:
        logger.warning("%s: cannot write its downloads into %s (%s); make the output folder writable",
                       node["target"], folder, exc.strerror or exc, type="netviz", subtype="write",
                       location=node)
        return []
    return links


def _number(value: int | None, unit: str = "") -> str:
    if value is None:
        return "–"
    for size, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if value >= size:
            return f"{value / size:.2f} {suffix}{unit}".rstrip()
    return f"{value:,}{(' ' + unit) if unit else ''}"


def summary_table(details: dict[str, Any]) -> str:
    """A torchinfo-style table of the layers, closed by default (``<details>``)."""
    rows = []
    for row in details["rows"]:
        cls = html.escape(row["class"])
        if row.get("href"):
            cls = f'<a class="reference external" href="{html.escape(row["href"])}"><code>{cls}</code></a>'
        else:
            cls = f"<code>{cls}</code>"
        rows.append(f'<tr><td><code>{html.escape(row["path"])}</code></td><td>{cls}</td>'
                    f'<td>{html.escape(row["out"])}</td><td>{row["params"]:,}</td>'
                    f'<td>{_number(row["macs"])}</td></tr>')
    totals = details["totals"]
    title = (f"Summary: {len(details['rows'])} layers, {_number(totals['params'])} parameters, "
             f"{_number(totals['macs'], 'MAC')}")
    return (f'<details class="netviz-summary"><summary>{html.escape(title)}</summary>\n'
            '<table class="netviz-table docutils"><thead><tr><th>Layer</th><th>Type</th>'
            '<th>Output shape</th><th>Parameters</th><th>MACs</th></tr></thead>\n<tbody>'
            + "\n".join(rows)
            + f'</tbody><tfoot><tr><th colspan="3">Total</th><th>{totals["params"]:,}</th>'
            f'<th>{_number(totals["macs"])}</th></tr></tfoot></table></details>\n')


#: the ONNX link's text and tooltip by the kind of file (see docs/onnx.rst)
_ONNX_LABELS = {"full": "ONNX", "structure": "ONNX (structure only)", "graph": "ONNX (graph only)"}
_ONNX_TITLES = {
    "full": ": the model with its weights; runs in onnxruntime",
    "structure": ": every operator and weight shape, without the weights' values",
    "graph": ": the diagram's boxes and tensor shapes as custom operators; opens in Netron, does not run",
}


def _download_link(self: Any, name: str, label: str, node: netviz_diagram, css: str) -> str:
    href = f"{self.builder.dlpath}/netviz/{name}"
    title = f"{label} file of {node['model']}"
    if css == "netviz-onnx":
        title += _ONNX_TITLES.get(node.get("onnx_mode"), "")
    return (f'<a class="reference download {css}" href="{html.escape(href)}" download '
            f'title="{html.escape(title)}">{label}</a>')


# -- LaTeX --------------------------------------------------------------------

def visit_latex(self: Any, node: netviz_diagram) -> None:
    from sphinx.util.texescape import escape

    if node.get("error"):
        self.body.append("\n" + escape(alt_text(node)) + "\n")
        raise nodes.SkipNode
    settings = NetvizConfig.from_sphinx(self.builder.config).pipeline_settings
    dot_path = Path(node["dot"])
    pdf_cache = dot_path.with_suffix(".pdf")
    try:
        if not pdf_cache.exists():
            write_atomic(pdf_cache, run_dot(dot_path.read_text(), "pdf", settings.dot, settings.layout_timeout))
        name = content_name(pdf_cache.read_bytes(), ".pdf")
        _copy_once(pdf_cache, Path(self.builder.outdir) / name)
    except (NetvizError, OSError) as exc:
        stage, message = ((exc.stage, exc.message) if isinstance(exc, NetvizError)
                          else ("write", f"cannot write its PDF ({exc.strerror or exc})"))
        logger.warning("cannot draw %s for LaTeX: %s", node["target"], message,
                       type="netviz", subtype=stage, location=node)
        self.body.append("\n" + escape(alt_text(node)) + "\n")
        raise nodes.SkipNode from None
    self.body.append(
        "\n\\sphinxincludegraphics[width=\\linewidth,height=0.8\\textheight,keepaspectratio]"
        f"{{{name}}}\n"
    )
    raise nodes.SkipNode


# -- plain-text builders ------------------------------------------------------

def visit_text(self: Any, node: netviz_diagram) -> None:
    self.add_text(alt_text(node))
    raise nodes.SkipNode


def visit_man(self: Any, node: netviz_diagram) -> None:
    self.body.append(self.deunicode(alt_text(node)) if hasattr(self, "deunicode") else alt_text(node))
    raise nodes.SkipNode


def visit_texinfo(self: Any, node: netviz_diagram) -> None:
    self.body.append(self.escape(alt_text(node)))
    raise nodes.SkipNode


def register(app: Sphinx) -> None:
    app.add_node(
        netviz_diagram,
        html=(visit_html, None),
        latex=(visit_latex, None),
        text=(visit_text, None),
        man=(visit_man, None),
        texinfo=(visit_texinfo, None),
    )


def replace_for_other_builders(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved``: builders with no visitor here get the alt text as a paragraph."""
    handlers = app.registry.translation_handlers
    builder = app.builder
    if any("netviz_diagram" in handlers.get(name, {}) for name in (builder.name, builder.format)):
        return
    for node in list(doctree.findall(netviz_diagram)):
        node.replace_self(nodes.paragraph(text=alt_text(node)))
