"""Write a :class:`~sphinx_netviz.graph.Diagram` as Graphviz DOT source.

Pipeline step *graph → DOT* (graph → **dot** → render).  Styling lives here:
rounded boxes with HTML labels (path, class, hyper-parameters, parameter
count), small ellipses for functional ops, tensor shapes on edges.  Fills
are pastel with dark text, and lines and edge labels mid-grey, so the SVG
reads on light and dark pages alike.  Every SVG element id carries a
per-diagram prefix so several diagrams can be inlined in one page.

Model code is untrusted input: class names, attribute paths, ``extra_repr()``
and function names can hold any text.  Every plain-text attribute value made
from it goes through :func:`dot_text` (a quoted DOT string that Graphviz can
read neither as an HTML-like label nor as more attributes, with backslashes
and ``&`` kept literal), and the HTML-like labels built here escape it with
``_esc``; long text is shortened, so that no string reaches Graphviz's limit
of 16,384 bytes.  The SVG Graphviz makes is then sanitised
(:mod:`sphinx_netviz.svgsafe`).
"""

from __future__ import annotations

import html
import re

import graphviz

from typing import TYPE_CHECKING

from .graph import Diagram, DiagramNode
from .palette import DIFF, FILLS, PALETTE, SHADES
from .shading import LABELS, Shading

if TYPE_CHECKING:
    from .merge import Marked, Merged

#: One font name that both layout engines measure with Arial's widths, the widths a browser
#: draws the SVG with (Arial, Helvetica, Liberation Sans, Arimo): the system dot through
#: fontconfig (Liberation Sans where there is no Arial), graphviz-pure (the pure extra) from
#: its own Arial table.  graphviz-pure knows no font lists: "Helvetica,Arial,sans-serif"
#: made it measure in Times, narrower, and text ran out of 2,344 of 4,646 boxes of the docs
#: (benchmarks/layout_engines.py); "Helvetica" alone is DejaVu Sans, wider, to a dot whose
#: fontconfig has no Helvetica clone.  The page's CSS adds the fallbacks (netviz.css).
FONT = "Arial"
#: the light palette (:mod:`sphinx_netviz.palette`); netviz.css overrides these colours with
#: the theme's (``--netviz-<role>``, ``--netviz-fill-<family>`` for :data:`FILLS`)
LINE = PALETTE["line"].light
TEXT = PALETTE["text"].light
BORDER = PALETTE["border"].light

#: (class-name pattern, layer family) — first match wins
_FAMILIES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Conv|Unfold|Fold"), "conv"),
    (re.compile(r"Linear|Bilinear|Identity|Gemm|MatMul"), "linear"),  # ONNX operators too (onnx_import)
    (re.compile(r"Attention|Transformer"), "attn"),
    (re.compile(r"Norm"), "norm"),
    (re.compile(r"Pool"), "pool"),
    (re.compile(r"Embedding"), "embed"),
    (re.compile(r"Dropout"), "drop"),
    (re.compile(r"ReLU|GELU|SiLU|Sigmoid|Tanh|Softmax|ELU|Mish|Hardswish|Softplus|PReLU|GLU|Relu|Gelu|Elu"),
     "act"),
    (re.compile(r"RNN|LSTM|GRU"), "rnn"),
]
#: above this many boxes, bound Graphviz's iterations
BIG_GRAPH = 150
#: the most characters of one name (a path, a class, a function) drawn or listed
MAX_NAME = 200
#: the most characters of model text in one attribute value; escaped (``&amp;`` is
#: five bytes, a backslash four) it stays far below Graphviz's 16,384-byte strings
MAX_TEXT = 2000
#: a list in a tooltip (the blocks a folded box stands for, many shapes) longer than
#: this many characters shows its first three items, "…" and its last
MAX_LIST = 400

#: characters XML 1.0 cannot hold (Graphviz would copy them into the SVG, unparseable)
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"[\t\n\r]")


def family_of(class_name: str) -> str:
    """The layer family of a module class (``conv``, ``norm``…; ``other`` if none)."""
    for pattern, family in _FAMILIES:
        if pattern.search(class_name):
            return family
    return "other"


def format_count(n: int) -> str:
    """``1,216`` / ``2.4M`` / ``6.7B`` parameters."""
    if n >= 10**9:
        return f"{n / 10**9:.1f}B"
    if n >= 10**6:
        return f"{n / 10**6:.1f}M"
    return f"{n:,}"


def _clip(text: str, limit: int = MAX_NAME) -> str:
    """``text`` with characters XML cannot hold replaced, cut to ``limit`` characters."""
    text = _NOT_XML.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dot_text(text: str, *, tooltip: bool = False, limit: int = MAX_TEXT) -> str:
    """``text`` as a DOT attribute value that Graphviz shows as exactly that text.

    A :func:`graphviz.nohtml` string, so that python-graphviz quotes it even
    when it looks like ``<…>`` (an HTML-like label, which could carry ``HREF``)
    and escapes its ``"`` (which could end the string and start attributes).
    Graphviz expands ``\\N``, ``\\G``, ``\\l``… in labels and tooltips and
    decodes ``&…;`` entities, so a backslash from the model is doubled (labels
    un-double once; tooltips twice, hence four) and ``&`` becomes ``&amp;``.
    Ordinary names come out unchanged: the same DOT as without this.
    """
    text = _clip(text, limit).replace("&", "&amp;")
    return graphviz.nohtml(text.replace("\\", "\\\\\\\\" if tooltip else "\\\\"))


def _graph_name(name: str) -> str:
    """The graph's DOT name (the SVG's ``<title>``, where Graphviz keeps entities as they are)."""
    return graphviz.nohtml(_clip(name).replace("&", "&amp;").replace("\\", "&#92;"))


def _esc(text: str, limit: int = MAX_NAME) -> str:
    """Model text inside the HTML-like labels built here: markup escaped, backslashes doubled
    (Graphviz un-doubles them there too), line breaks and tabs as spaces (HTML labels drop them)."""
    text = _SPACES.sub(" ", _clip(text, limit))
    return html.escape(text, quote=True).replace("\\", "\\\\")


def _listing(items: list[str] | tuple[str, ...], what: str = "") -> str:
    """``a, b, c``; past :data:`MAX_LIST` characters ``a, b, c … z`` (and ``(1,400 what)``)."""
    names = [_clip(item) for item in items]
    text = ", ".join(names)
    if len(text) <= MAX_LIST or len(names) <= 4:
        return text
    count = f" ({len(names):,} {what})" if what else ""
    return f"{', '.join(names[:3])} … {names[-1]}{count}"


def _module_label(node: DiagramNode) -> str:
    repeat = f"  <B>×{node.repeat:,}</B>" if node.repeat > 1 else ""
    rows = [f"<B>{_esc(node.title)}</B>  {_esc(node.class_name)}{repeat}"]
    if node.hparams:
        rows.append(f'<FONT POINT-SIZE="9">{_esc(node.hparams)}</FONT>')
    if node.param_count:
        each = " each" if node.repeat > 1 else ""
        rows.append(f'<FONT POINT-SIZE="9">{format_count(node.param_count)} params{each}</FONT>')
    return "<" + "<BR/>".join(rows) + ">"


def _io_label(node: DiagramNode) -> str:
    shapes = node.out_shapes if node.kind == "input" else node.in_shapes
    return f"<<B>{_esc(node.title)}</B><BR/><FONT POINT-SIZE=\"9\">{_esc(_listing(shapes), MAX_TEXT)}</FONT>>"


def _tooltip(node: DiagramNode) -> str:
    """The box's tooltip, as plain text (:func:`dot_text` quotes it)."""
    if node.kind == "ref":
        return (f"{_listing(node.out_shapes, 'tensors')} from {_clip(node.title, MAX_LIST)} "
                "(drawn again here instead of a long edge)")
    title = _clip(node.title)
    lines = [f"{title}: {_clip(node.class_name)}" if node.class_name else title]
    lines[0] += _stands_for(node.paths)
    if node.hparams:
        lines.append(_clip(node.hparams))
    if node.in_shapes and node.kind != "input":
        lines.append("in: " + _listing(node.in_shapes, "tensors"))
    if node.out_shapes and node.kind != "output":
        lines.append("out: " + _listing(node.out_shapes, "tensors"))
    if node.param_count:
        lines.append(f"params: {node.param_count:,}")
    return "\n".join(lines)


def _node_attrs(node: DiagramNode, prefix: str, shade: tuple[int, float] | None = None,
                shading: Shading | None = None, mark: Marked | None = None) -> dict[str, str]:
    """A box's attributes; ``shade``: its ``:color-by:`` step (1 to 5, its fill instead of its
    family's) and share of the model (in the tooltip, for those who do not see the colour);
    ``mark``: what it is in an architecture diff (:func:`_mark`)."""
    tooltip = _tooltip(node)
    if shade is not None and shading is not None:
        tooltip += f"\n{_percent(shade[1])} of the model's {shading.what}"
    attrs = {"id": f"{prefix}_{node.id}", "tooltip": dot_text(tooltip, tooltip=True)}
    if node.kind != "ref":
        # one group: edges between boxes stay straight, reference boxes go beside them
        attrs["group"] = "main"
    if node.kind == "module":
        family = family_of(node.class_name)
        attrs.update(label=_module_label(node), fillcolor=FILLS[family], **{"class": f"nv-{family}"})
        if shade is not None:  # the family's class stays (a box is still a conv); its fill is the shade
            step = shade[0]
            attrs.update(fillcolor=SHADES[step - 1], **{"class": f"nv-{family} nv-shade nv-shade-{step}"})
    elif node.kind == "function":
        attrs.update(label=dot_text(node.title, limit=MAX_NAME), shape="ellipse", fillcolor=FILLS["fn"],
                     fontsize="9", height="0.3", margin="0.04,0.02", **{"class": "nv-fn"})
    elif node.kind == "ref":
        attrs.update(label=dot_text(f"↪ {node.title}", limit=MAX_NAME), style="rounded,dashed", color=LINE,
                     fontcolor=LINE, fontsize="9", height="0.25", margin="0.06,0.02", **{"class": "nv-ref"})
    else:
        attrs.update(label=_io_label(node), fillcolor=FILLS["io"], style="filled", **{"class": "nv-io"})
    if mark is not None:
        _mark(attrs, mark, tooltip)
    return attrs


#: what a kind of change says in a tooltip and in the legend (which also names its line's shape)
DIFF_WORDS = {"added": "added (only in the new model)", "removed": "removed (only in the old model)",
              "changed": "changed"}
_DIFF_SHAPES = {"added": "thick border", "removed": "dashed", "changed": "double border"}


def _mark(attrs: dict[str, str], mark: Marked, tooltip: str, *, cluster: bool = False) -> None:
    """Mark a box or cluster of an architecture diff: its class ``netviz-<kind>``, its border in the
    kind's colour (thick; removed dashed, changed doubled on a box) and the change in its tooltip."""
    kind, what = mark
    attrs["class"] = f"{attrs.get('class', '')} netviz-{kind}".strip()
    attrs.update(color=DIFF[kind], penwidth="2.2")
    if kind == "removed":
        attrs["style"] = "rounded,dashed" if cluster else "rounded,filled,dashed"
    elif cluster:
        attrs["style"] = "rounded"
    elif kind == "changed":
        attrs["peripheries"] = "2"
    text = DIFF_WORDS[kind] + (": " + "; ".join(what) if what else "")
    attrs["tooltip"] = dot_text(f"{tooltip}\n{text}", tooltip=True)


def _diff_legend() -> str:
    """The architecture diff's legend (without the ``<`` ``>`` of an HTML-like label): its title,
    and one swatch per kind bordered as its boxes are, with its name and the shape of its line."""
    def cell(text: str, more: str = "") -> str:
        return f'<TD{more}><FONT POINT-SIZE="10" COLOR="{TEXT}">{html.escape(text, quote=False)}</FONT></TD>'

    swatches = "".join(cell(f"{kind} ({_DIFF_SHAPES[kind]})", f' BORDER="2" COLOR="{DIFF[kind]}"')
                       for kind in DIFF)
    return (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4" CELLPADDING="3">'
            f'<TR>{cell("Changes from the old model", f" COLSPAN={chr(34)}{len(DIFF)}{chr(34)}")}</TR>'
            f"<TR>{swatches}</TR></TABLE>")


def _percent(share: float) -> str:
    """``12.3 %``; ``0 %`` for nothing, ``< 0.1 %`` for a little."""
    if share == 0:
        return "0 %"
    return "< 0.1 %" if share < 0.001 else f"{share * 100:.1f} %"


def _stands_for(paths: tuple[str, ...]) -> str:
    """The tooltip line of a folded run: ``1,400 identical blocks, drawn once: b.0, b.1, b.2 … b.1399``."""
    return f"\n{len(paths):,} identical blocks, drawn once: {_listing(paths)}" if len(paths) > 1 else ""


def _legend(shading: Shading) -> str:
    """The ``:color-by:`` legend, the graph's own label (below the drawing): its title, and under
    it one swatch per step with its share (two rows: no wider than a narrow drawing needs).
    Graphviz draws a graph's label straight into the graph, not as a node, so the viewer, its
    search and its box counts never see it; netviz.css gives the swatches their dark colours by
    their light fill (:func:`sphinx_netviz.palette.css`)."""

    def cell(text: str, more: str = "") -> str:
        return f'<TD{more}><FONT POINT-SIZE="10" COLOR="{TEXT}">{html.escape(text, quote=False)}</FONT></TD>'

    title = cell(shading.title, f' COLSPAN="{len(SHADES)}"')
    swatches = "".join(cell(label, f' BGCOLOR="{fill}"') for fill, label in zip(SHADES, LABELS))
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="3">'
            f"<TR>{title}</TR><TR>{swatches}</TR></TABLE>>")


def to_dot(diagram: Diagram, direction: str = "TB", id_prefix: str = "nv", shading: Shading | None = None,
           marks: Merged | None = None) -> str:
    """DOT source for ``diagram``; deterministic for the same diagram.

    ``shading``: fill the module boxes by their share of the model's parameters or
    MACs (``:color-by:``), and draw the legend under the drawing.  ``marks``: the
    diagram is an architecture diff (:mod:`sphinx_netviz.merge`): mark its added,
    removed and changed boxes and clusters, and draw that legend under it.
    """
    shaded = shading.boxes(diagram) if shading is not None else {}
    marked = marks.boxes(diagram) if marks is not None else {}
    g = graphviz.Digraph(name=_graph_name(diagram.name or "model"))
    g.attr(
        "graph", rankdir=direction, bgcolor="transparent", fontname=FONT, fontsize="11",
        fontcolor=LINE, nodesep="0.25", ranksep="0.35", id=f"{id_prefix}_graph",
        label="", tooltip=dot_text(diagram.name, tooltip=True, limit=MAX_NAME),
    )
    if len(diagram.nodes) > BIG_GRAPH:
        # network simplex dominates dot's time on big graphs; bounding it costs little quality
        g.attr("graph", nslimit="2", nslimit1="2", mclimit="0.5")
    g.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="11",
           fontcolor=TEXT, color=BORDER, penwidth="0.8", margin="0.12,0.05")
    g.attr("edge", color=LINE, fontcolor=LINE, fontname=FONT, fontsize="9", arrowsize="0.6", penwidth="0.9")

    children: dict[str | None, list] = {}
    for cluster in diagram.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    members: dict[str | None, list[DiagramNode]] = {}
    for node in diagram.nodes:
        members.setdefault(node.cluster, []).append(node)

    def fill(graph: graphviz.Digraph, cluster_id: str | None) -> None:
        for node in members.get(cluster_id, []):
            graph.node(node.id, **_node_attrs(node, id_prefix, shaded.get(node.id), shading, marked.get(node.id)))
        for node in members.get(cluster_id, []):
            if node.anchor:  # a reference box sits beside the box it feeds, not a row above
                with graph.subgraph() as beside:
                    beside.attr(rank="same")
                    beside.node(node.id)
                    beside.node(node.anchor)
        for cluster in children.get(cluster_id, []):
            with graph.subgraph(name=f"cluster_{cluster.id}") as sub:
                repeat = f" ×{cluster.repeat:,}" if cluster.repeat > 1 else ""
                title = f"{_clip(cluster.path)}{repeat}: {_clip(cluster.class_name)}"
                attrs = dict(label=dot_text(title), style="rounded,dashed", color=LINE, fontcolor=LINE,
                             labeljust="l", id=f"{id_prefix}_{cluster.id}",
                             tooltip=dot_text(title + _stands_for(cluster.paths), tooltip=True))
                if cluster.id in marked:
                    _mark(attrs, marked[cluster.id], title + _stands_for(cluster.paths), cluster=True)
                sub.attr(**attrs)
                fill(sub, cluster.id)

    fill(g, None)
    refs = {n.id: n for n in diagram.nodes if n.kind == "ref"}
    for i, edge in enumerate(diagram.edges):
        # a reference box's edge is short and its box's tooltip has the shape: no label
        if edge.src in refs:
            shapes = _listing(refs[edge.src].out_shapes, "tensors")
            g.edge(edge.src, edge.dst, id=f"{id_prefix}_e{i}", tooltip=dot_text(shapes, tooltip=True),
                   style="dashed", tailport="e", headport="w")
        else:
            label = _clip(edge.label)
            g.edge(edge.src, edge.dst, id=f"{id_prefix}_e{i}", tooltip=dot_text(label, tooltip=True),
                   label=dot_text(f" {label}"))
    legends = ([_legend(shading)[1:-1]] if shading is not None else []) + ([_diff_legend()] if marks else [])
    if legends:  # last, so that no cluster inherits it
        g.attr(label=f"<{legends[0]}>" if len(legends) == 1 else
               '<<TABLE BORDER="0" CELLBORDER="0">' + "".join(f"<TR><TD>{t}</TD></TR>" for t in legends)
               + "</TABLE>>")
    return g.source
