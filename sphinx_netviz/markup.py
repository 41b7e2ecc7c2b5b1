"""The viewer's DOM for one drawing, the one builder every page writer calls: no Sphinx here.

Pipeline step *write* (views → **markup** → the Sphinx HTML writer, or
:mod:`sphinx_netviz.api`'s notebook outputs and standalone pages, wrapped by
:mod:`.viewer_page`).  :func:`viewer_html` writes the ``div.netviz`` the
script starts on — the canvas with the default depth's SVG, a ``<template>``
per other depth, the viewer's data, the sentences about what was left out and
the download links — around the summary table, which each caller writes
(the docs as docutils nodes with class links, notebooks with
:func:`summary_table_html`).  The callers differ only by their inputs: ids,
hrefs, download links.  Each piece takes sanitized SVG and the viewer's data
(:class:`~.viewer_data.ViewerData`) and returns text that is safe to put into
a page: text from the model only ever goes in escaped (``html.escape``) or as
JSON with ``<``, ``>`` and ``&`` escaped, so a module named ``</script>``
stays data.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .values import size_text
from .views import download_name

#: the ONNX link's text and tooltip by the kind of file (see docs/options.rst, "onnx-kinds")
ONNX_LABELS = {"full": "ONNX", "structure": "ONNX (structure only)", "graph": "ONNX (graph only)", "file": "ONNX"}
ONNX_TITLES = {
    "full": ": the model with its weights; runs in onnxruntime",
    "structure": ": every operator and weight shape, without the weights' values",
    "graph": ": the diagram's boxes and tensor shapes as custom operators; opens in Netron, does not run",
    "file": ": the ONNX file the diagram was drawn from, as it is (without external data files)",
}


def reprefixed(svg: str, prefix: str, unique: str) -> str:
    """``svg`` with its element ids (``<prefix>_…``, and Graphviz's ``a_<prefix>_…``) on ``unique``."""
    if unique == prefix:
        return svg
    return re.sub(r'(\bid="(?:a_)?)' + re.escape(prefix) + "_", lambda m: f"{m.group(1)}{unique}_", svg)


def with_title(svg: str, alt: str, details: Mapping[str, Any]) -> str:
    """The SVG with a ``<title>`` and ``<desc>`` for screen readers, first inside ``<svg>``."""
    totals = details["totals"]
    desc = f"{details['model']}: {layer_count(details):,} layers, {totals['params']:,} parameters"
    head_end = svg.index(">") + 1
    return (f"{svg[:head_end]}\n<title>{html.escape(alt)}</title><desc>{html.escape(desc)}</desc>"
            f"{svg[head_end:]}")


def script_json(details: Mapping[str, Any]) -> str:
    """The viewer's data as the body of a ``<script type="application/json">``."""
    return (json.dumps(details, ensure_ascii=False, sort_keys=True)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def omitted_sentence(omitted: list[int]) -> str:
    """What the page says about viewer depths left out ('' for none)."""
    if not omitted:
        return ""
    depths = f"Depths {', '.join(map(str, omitted))} are" if len(omitted) > 1 else f"Depth {omitted[0]} is"
    return f"{depths} not included: too many boxes, too slow to lay out, or too big for the page."


#: the summary table's column headings (the CSS right-aligns the 4th and 5th)
COLUMNS = ("Layer", "Type", "Output shape", "Parameters", "MACs")


def number(value: int | None, unit: str = "") -> str:
    """``15227`` → ``15.23 k``; ``None`` → ``–``."""
    if value is None:
        return "–"
    for size, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if value >= size:
            return f"{value / size:.2f} {suffix}{unit}".rstrip()
    return f"{value:,}{(' ' + unit) if unit else ''}"


def summary_title(details: Mapping[str, Any]) -> str:
    """``Summary: 14 layers, 15.23 k parameters, 3.71 GMAC``."""
    totals = details["totals"]
    return (f"Summary: {layer_count(details):,} layers, {number(totals['params'])} parameters, "
            f"{number(totals['macs'], 'MAC')}")


def layer_count(details: Mapping[str, Any]) -> int:
    """How many layers the model has: its summary rows, with those the page leaves out."""
    return max(len(details["rows"]), int(details.get("rows_total") or 0))


def more_rows_text(details: Mapping[str, Any]) -> str:
    """The summary table's row after its last listed layer when the page lists only the first
    (:data:`~sphinx_netviz.bounds.MAX_SUMMARY_ROWS`): ``… and 19,000 more layers, not listed``;
    '' when every layer is listed."""
    more = layer_count(details) - len(details["rows"])
    if more <= 0:
        return ""
    return (f"… and {more:,} more layer{'s' if more > 1 else ''}, not listed "
            f"(a page lists the first {len(details['rows']):,})")


def details_left_out_sentence(details: Mapping[str, Any]) -> str:
    """What the page says when the viewer has no details for some boxes ('' for none)."""
    count = int(details.get("calls_left_out") or 0)
    if count <= 0:
        return ""
    return (f"The details of {count:,} box{'es' if count > 1 else ''} are not included: "
            "too much data for the page.")


def summary_texts(details: Mapping[str, Any]) -> tuple[list[list[str]], list[str]]:
    """The summary table's cells as text (one list per layer, in :data:`COLUMNS` order) and its
    totals row."""
    texts = [[row["path"], row["class"], row["out"], f"{row['params']:,}", number(row["macs"])]
             for row in details["rows"]]
    totals = details["totals"]
    return texts, ["Total", "", "", f"{totals['params']:,}", number(totals["macs"])]


def summary_table_html(details: Mapping[str, Any]) -> str:
    """The summary as HTML (``<details class="netviz-summary">``, its title and table), as the
    docs' HTML writer writes its :class:`~.sphinxext.summary.netviz_summary` node, without
    class links: for pages written without Sphinx (notebooks, ``save("x.html")``)."""
    texts, total = summary_texts(details)

    def row(cells: list[str], *, code: int = 0, css: str = "") -> str:
        out = [f"<td><code>{html.escape(t)}</code></td>" if i < code and t else f"<td>{html.escape(t)}</td>"
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


@dataclass(frozen=True)
class Download:
    """One download link below a viewer (the docs copy the files and link them)."""

    #: the file's URL, relative to the page
    href: str
    #: ``"onnx"`` or ``"svg"``
    kind: str
    #: the name the browser saves it as (``TinyResNet.onnx``)
    saved_as: str
    #: the link's text: the file's kind and size (``SVG, 41.2 kB``)
    text: str
    #: its tooltip: what the file holds
    title: str


def download(href: str, kind: str, *, model: str, saved_name: str, onnx_mode: str | None,
             size: int) -> Download:
    """The link to a drawing's ``kind`` file (``"onnx"`` of the kind ``onnx_mode``, or ``"svg"``)
    at ``href``: saved as ``saved_name`` with the file's suffix, its text the kind and ``size``."""
    label = ONNX_LABELS.get(onnx_mode or "", "ONNX") if kind == "onnx" else kind.upper()
    title = f"{label} file of {model}" + (ONNX_TITLES.get(onnx_mode or "", "") if kind == "onnx" else "")
    return Download(href=href, kind=kind, saved_as=download_name(saved_name, f".{kind}"),
                    text=f"{label}, {size_text(size)}", title=title)


def start_tag(name: str, attributes: Mapping[str, str]) -> str:
    """``<name a="…">``, the attributes escaped and in name order (as docutils writes them)."""
    return f"<{name}" + "".join(f' {key}="{html.escape(value)}"' for key, value in sorted(attributes.items())) + ">"


#: what names one depth's SVG for :func:`viewer_html` (a cache key in the docs, bytes in Python)
SvgRef = TypeVar("SvgRef")


def viewer_html(details: dict[str, Any], svgs: Mapping[int, SvgRef], read: Callable[[SvgRef], str], *,
                drawn_prefix: str, alt: str, anchor: str, ids: Sequence[str] = (),
                classes: Sequence[str] = (), height: str = "",
                downloads: Sequence[Download] = ()) -> tuple[str, str]:
    """The viewer's DOM for one drawing: the ``div.netviz`` up to where its summary goes
    (``head``) and after it (``tail``).

    ``details``: the viewer's data, its ``"prefix"`` the element ids this page gives the
    drawing (unique on the page); ``svgs``: every drawn depth's SVG, by depth, each turned into
    sanitized text by ``read``, its ids on ``drawn_prefix``; ``anchor``: the diagram's
    ``data-netviz-anchor`` (layer links are ``#<anchor>/<link>``); ``ids``: the div's own ids
    (the first its ``id``, others empty spans, as docutils writes them); ``classes``: more
    classes before ``netviz``; ``height``: a checked CSS length, the canvas's height limit.
    """
    unique = str(details["prefix"])

    def inline(ref: SvgRef) -> str:
        return reprefixed(read(ref), drawn_prefix, unique)

    default = int(details["depth"])
    templates = "".join(start_tag("template", {"class": "netviz-layout", "data-depth": str(depth)})
                        + f"{inline(ref)}</template>\n"
                        for depth, ref in sorted(svgs.items()) if depth != default)
    attributes = {"class": " ".join(dict.fromkeys([*classes, "netviz"])), "data-netviz-anchor": anchor}
    if ids:
        attributes["id"] = ids[0]
    if height:
        attributes["data-netviz-height"] = height
    head = (start_tag("div", attributes) + "".join(f'<span id="{html.escape(i)}"></span>' for i in ids[1:])
            + "\n" + start_tag("div", {"class": "netviz-canvas", "role": "img", "aria-label": alt})
            + f"{with_title(inline(svgs[default]), alt, details)}</div>\n{templates}"
            + start_tag("script", {"class": "netviz-data", "type": "application/json"})
            + f"{script_json(details)}</script>\n")
    omitted = " ".join(filter(None, (omitted_sentence(list(details.get("omitted") or [])),
                                     details_left_out_sentence(details))))
    left_out = start_tag("p", {"class": "netviz-omitted"}) + f"{html.escape(omitted)}</p>\n" if omitted else ""
    links = " · ".join(start_tag("a", {"class": f"reference download netviz-{d.kind}", "href": d.href,
                                       "download": d.saved_as, "title": d.title}) + f"{html.escape(d.text)}</a>"
                       for d in downloads)
    links = start_tag("p", {"class": "netviz-downloads"}) + f"Download: {links}</p>\n" if links else ""
    return head, f"{left_out}{links}</div>\n"
