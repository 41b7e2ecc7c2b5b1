"""The palette is legible: every text colour has 4.5:1 (WCAG 2 contrast) against what it is drawn on,
in the light and the dark palette, and the ``:color-by:`` shades are ordered by luminance.

Which text goes on which box fill is read from the SVG Graphviz draws from dot.py's DOT (every
layer family, functions, inputs and outputs, every ``:color-by:`` step and the legend's swatches),
not listed by hand; each light colour found there is a palette role, whose dark value the page's
CSS puts in its place (tests/test_viewer_js.py checks that the CSS and the palette agree).
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from sphinx_netviz import dot
from sphinx_netviz.graph import Diagram, DiagramCluster, DiagramEdge, DiagramNode
from sphinx_netviz.palette import PALETTE, SHADES
from sphinx_netviz.shading import LABELS, Shading

SVG = "{http://www.w3.org/2000/svg}"
WCAG_AA = 4.5
WHICH = ("light", "dark")


def rgb(colour: str) -> tuple[float, float, float]:
    """A CSS colour of the palette (``#rgb``, ``#rrggbb``, ``rgb(r, g, b)``) as 0..1 channels."""
    colour = colour.strip().lower()
    if re.fullmatch(r"#[0-9a-f]{3}", colour):
        colour = "#" + "".join(c * 2 for c in colour[1:])
    if re.fullmatch(r"#[0-9a-f]{6}", colour):
        return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]
    found = re.fullmatch(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)", colour)
    if found:
        return tuple(int(v) / 255 for v in found.groups())  # type: ignore[return-value]
    raise ValueError(f"not a colour this test reads: {colour!r}")


def luminance(colour: str) -> float:
    """WCAG 2's relative luminance."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_is_wcag_s():
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-fails grey
    assert contrast("rgb(255, 255, 255)", "#ffffff") == pytest.approx(1.0)


# -- text on the boxes, as Graphviz draws them ------------------------------------------------

def _every_fill_diagram() -> tuple[Diagram, Shading]:
    """A box of every layer family, a function, input and output, a reference box; and, shaded,
    a box of every ``:color-by:`` step (call ids 100…104, costs 0 … 60 of 100)."""
    classes = ["Conv2d", "Linear", "MultiheadAttention", "LayerNorm", "MaxPool2d", "Embedding", "Dropout",
               "ReLU", "LSTM", "Flatten"]
    nodes = [DiagramNode("in0", "input", "x", out_shapes=["1×8 float32"])]
    nodes += [DiagramNode(f"n{i}", "module", f"m{i}", c, param_count=10) for i, c in enumerate(classes)]
    nodes += [DiagramNode("n50", "function", "add"), DiagramNode("out0", "output", "output", in_shapes=["1×8"])]
    nodes += [DiagramNode(f"n{100 + i}", "module", f"s{i}", "Linear", cluster="c200") for i in range(5)]
    nodes.append(DiagramNode("r_n50", "ref", "m0", anchor="n50", out_shapes=["1×8"]))
    ids = [n.id for n in nodes if n.kind != "ref"]
    edges = [DiagramEdge(a, b, "1×8") for a, b in zip(ids, ids[1:])] + [DiagramEdge("r_n50", "n50", "")]
    diagram = Diagram("every fill", nodes, [DiagramCluster("c200", "block", "Block", None)], edges)
    shading = Shading("params", {100: 0, 101: 2, 102: 10, 103: 30, 104: 60}, 100)
    return diagram, shading


def _role_of(light: str) -> str:
    roles = [role for role, colour in PALETTE.items() if colour.light.lower() == light.lower()]
    assert roles, f"Graphviz drew {light}, which is no colour of the palette"
    return roles[0]


def _inside(points: str, x: float, y: float) -> bool:
    xs = [float(p.split(",")[0]) for p in points.split()]
    ys = [float(p.split(",")[1]) for p in points.split()]
    return min(xs) <= x <= max(xs) and min(ys) <= y <= max(ys)


@pytest.fixture(scope="module")
def drawn_pairs() -> set[tuple[str, str]]:
    """(text role, fill role) of every text Graphviz drew on a filled shape, boxes and legend: the
    diagram drawn by layer family, and shaded (``:color-by:``)."""
    diagram, shading = _every_fill_diagram()
    return _pairs(_drawn(dot.to_dot(diagram))) | _pairs(_drawn(dot.to_dot(diagram, shading=shading)))


def _drawn(source: str) -> ET.Element:
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=True, timeout=60)
    return ET.fromstring(done.stdout)


def _pairs(svg: ET.Element) -> set[tuple[str, str]]:
    pairs = set()
    for g in svg.iter(f"{SVG}g"):
        if "node" not in g.get("class", "").split():
            continue
        shape = next(e for e in g.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"))
        if shape.get("fill") in (None, "none", "transparent"):  # a reference box: text on the page
            continue
        pairs |= {(_role_of(t.get("fill")), _role_of(shape.get("fill"))) for t in g.iter(f"{SVG}text")}
    graph = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "graph")
    swatches = [p for p in graph.findall(f"{SVG}polygon") if p.get("fill") in SHADES]
    for text in graph.findall(f"{SVG}text"):
        x, y = float(text.get("x")), float(text.get("y")) - 3
        under = [p for p in swatches if _inside(p.get("points"), x + 1, y)]
        if under:
            pairs.add((_role_of(text.get("fill")), _role_of(under[0].get("fill"))))
    return pairs


def test_every_box_fill_and_shade_is_drawn_with_text(drawn_pairs):
    fills = {fill for _, fill in drawn_pairs}
    expected = {role for role in PALETTE if role.startswith(("fill-", "shade-"))}
    assert fills == expected
    # the legend's swatches carry their step's label
    assert len([1 for text, fill in drawn_pairs if fill.startswith("shade-")]) == len(LABELS)


@pytest.mark.parametrize("which", WHICH)
def test_text_on_every_box_fill_has_4_5_to_1(drawn_pairs, which):
    low = {(text, fill): round(contrast(getattr(PALETTE[text], which), getattr(PALETTE[fill], which)), 2)
           for text, fill in drawn_pairs}
    assert min(low.values()) >= WCAG_AA, {pair: ratio for pair, ratio in low.items() if ratio < WCAG_AA}


# -- text of the page's viewer, on what netviz.css puts behind it -----------------------------------

#: (text role, background role, where): the rules of netviz.css that set both, or whose element sits on
#: that background (the toolbar's status, the panel's labels); edge labels, cluster titles and reference
#: boxes are drawn on the page, whose colour the viewer's own background (bg) stands for
VIEWER_TEXT = [
    ("text", "bg-control", "toolbar"), ("text", "bg-panel", "buttons, depth, search, panel"),
    ("text", "bg-control-hover", "a pressed or hovered button"), ("text-muted", "bg-control", "status"),
    ("text-muted", "bg-panel", "the panel's labels and hint, the search's placeholder"),
    ("match", "bg-panel", "the panel's ×N"), ("accent", "bg-panel", "the panel's class links"),
    ("bg-panel", "text", "the hint (its colours swapped)"), ("text", "bg", "full screen"),
    ("text-muted", "bg", "the summary's title"), ("text", "table-head", "the summary's head"),
    ("line-text", "bg", "edge labels, cluster titles, reference boxes"),
]


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("text, background, where", VIEWER_TEXT)
def test_viewer_text_has_4_5_to_1(text, background, where, which):
    ratio = contrast(getattr(PALETTE[text], which), getattr(PALETTE[background], which))
    assert ratio >= WCAG_AA, f"{which}: {text} on {background} ({where}): {ratio:.2f}"


# -- the shades --------------------------------------------------------------------------------------

def test_the_shades_step_by_luminance_alone():
    """Lighter to darker on a light page, darker to lighter on a dark one, each step clearly apart
    (luminance ratio 1.15 or more): an order every kind of colour vision, and greyscale, keeps."""
    roles = [role for role in PALETTE if role.startswith("shade-")]
    assert roles == [f"shade-{k}" for k in range(1, len(LABELS) + 1)]
    assert SHADES == tuple(PALETTE[r].light for r in roles)
    light = [luminance(PALETTE[r].light) + 0.05 for r in roles]
    dark = [luminance(PALETTE[r].dark) + 0.05 for r in roles]
    assert all(a / b >= 1.15 for a, b in zip(light, light[1:])), light
    assert all(b / a >= 1.15 for a, b in zip(dark, dark[1:])), dark
