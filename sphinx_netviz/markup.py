"""The HTML pieces of a drawing that every page writer shares: no Sphinx here.

Pipeline step *write* (views → **markup** → the Sphinx HTML writer, or
:mod:`sphinx_netviz.api`'s notebook and standalone pages).  Each piece takes
sanitized SVG and the viewer's data (:class:`~.viewer_data.ViewerData`) and
returns text that is safe to put into a page: text from the model only ever
goes in escaped (``html.escape``) or as JSON with ``<``, ``>`` and ``&``
escaped, so a module named ``</script>`` stays data.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

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
