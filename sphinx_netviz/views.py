"""What the page's viewer knows about a drawing, and how the page names it.

Pipeline step *views* (layouts → **views** → write).  The data is JSON-ready;
its schema is :class:`~sphinx_netviz.viewer_data.ViewerData`.  The names a
page gives a drawing live here too, for every page writer (the Sphinx
extension, :mod:`sphinx_netviz.api`): its anchor (:func:`anchor_slug`), a
layer's URL fragment (:func:`layer_fragment`), the links a drawing's boxes
answer to (:func:`known_links`, :func:`canonical_link`), and its downloads'
file names and sizes (:func:`download_name`, :func:`size_text`).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from .fold import Run
from .ir import Trace
from .values import size_text  # noqa: F401 - the links' sizes (diagram_node)
from .viewer_data import ViewerData


def viewer_details(trace: Trace, id_prefix: str, depth: int, layouts: dict[int, bytes],
                   shown: set[int], runs: list[Run], omitted: list[int] | None = None) -> ViewerData:
    """The JSON the page's viewer reads: every drawn call's details, the summary table."""
    from .details import call_details, subtree_macs, summary_rows

    root = next((c for c in trace.calls if c.kind == "module" and c.name == ""), None)
    return {
        "prefix": id_prefix, "model": trace.model_name, "depth": depth, "depths": sorted(layouts),
        "omitted": sorted(omitted or []),
        "calls": call_details(trace, shown, runs),
        "rows": summary_rows(trace),
        "totals": {"params": trace.modules[""].param_count,
                   "macs": subtree_macs(trace).get(root.id) if root else None},
    }


# -- anchors and layer links ----------------------------------------------------------

def anchor_slug(name: str) -> str:
    """The anchor of a drawing without ``:name:``: ``netviz-`` and the model's short name
    lower-cased, every run of characters other than ``[a-z0-9]`` turned into ``-``
    (``TinyResNet`` → ``netviz-tinyresnet``, ``make_residual`` → ``netviz-make-residual``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"netviz-{slug or 'model'}"


def short_name(target: str) -> str:
    """A directive target's short name: an ONNX file's stem, else the last name of its import
    path (``pkg.mod:Outer.Inner`` → ``Inner``, ``pkg.models.make_net`` → ``make_net``)."""
    target = target.strip()
    if target.lower().endswith(".onnx"):
        return re.split(r"[\\/]", target)[-1][:-len(".onnx")]
    return re.split(r"[:.]", target)[-1]


def layer_fragment(anchor: str, link: str | None) -> str:
    """The URL fragment (without ``#``) of a layer: ``<anchor>/<link>``, percent-encoded
    (``/`` kept: an ONNX node's path may hold one; a fragment is split at its first ``/``);
    ``link=None``: the whole drawing, ``<anchor>``."""
    text = anchor if link is None else f"{anchor}/{link}"
    return urllib.parse.quote(text, safe=".-_~/")


_CALL_SUFFIX = re.compile(r" \(call \d+\)$")
#: an input or output box's id in a drawing's SVG (``<prefix>_in0``, ``<prefix>_out0``)
_IO_BOX = re.compile(r'\bid="[^"]*_(in|out)(\d+)"')


def known_links(data: Mapping[str, Any], svg: str = "") -> set[str]:
    """Every link a drawing answers to, from its viewer data (and its SVG, for its input and
    output boxes): each drawn call's, each module of the summary table and its ancestors, and
    ``input-<k>`` / ``output-<k>``.  The members of a folded run other than its first are
    not listed: :func:`canonical_link` maps them to the first."""
    links = {str(call.get("link", "")) for call in data.get("calls", {}).values()}
    for row in data.get("rows", []):
        path = _CALL_SUFFIX.sub("", str(row.get("path", "")))
        parts = path.split(".")
        links.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    for kind, number in _IO_BOX.findall(svg):
        links.add(f"{'input' if kind == 'in' else 'output'}-{int(number) + 1}")
    links.add("")
    return links


def lists_every_link(data: Mapping[str, Any]) -> bool:
    """Whether :func:`known_links` is every link of the drawing: the viewer data of a very big
    model leaves out summary rows (``rows_total``), calls (``calls_left_out``) or a long
    run's later paths (``… 1,337 more``), and a link to what it left out is not wrong."""
    rows = data.get("rows", [])
    runs = [call.get("paths") or [] for call in data.get("calls", {}).values()]
    return (int(data.get("rows_total", len(rows))) <= len(rows) and not data.get("calls_left_out")
            and not any(paths and str(paths[-1]).startswith("…") for paths in runs))


def folded_runs(data: Mapping[str, Any]) -> list[list[str]]:
    """The paths of each folded run of a drawing (the first one drawn for them all)."""
    return [list(call["paths"]) for call in data.get("calls", {}).values()
            if call.get("repeat", 1) > 1 and call.get("paths")]


def canonical_link(link: str, runs: Iterable[list[str]]) -> str:
    """``link`` with every folded run's member replaced by the run's first (``layers.5.mlp``
    → ``layers.0.mlp`` when ``layers.0 … layers.7`` is one box), the link of what stands
    for it in the drawing."""
    runs = list(runs)
    changed = True
    while changed:
        changed = False
        for paths in runs:
            for member in paths[1:]:
                if member != paths[0] and (link == member or link.startswith(member + ".")):
                    link, changed = paths[0] + link[len(member):], True
    return link


# -- downloads -------------------------------------------------------------------------

def download_name(name: str, suffix: str) -> str:
    """A file name to save a download as: ``name`` (the model's) made safe for any file
    system (characters other than letters, digits, ``.``, ``-``, ``_`` become ``_``; at most
    100 of them), then ``suffix`` (``.onnx``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:100].strip("._")
    return f"{safe or 'model'}{suffix}"
