"""Model text stays text: the DOT quoting (sphinx_netviz.dot) and the SVG allowlist (sphinx_netviz.svgsafe).

The DOT tests run real Graphviz on models and diagrams whose names try to end
DOT strings, add attributes, become HTML-like labels with links or expand as
DOT escapes; the sanitizer tests feed it hostile SVG.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import graphviz
import pytest
import torch
from browser.hostile_models import (
    DOT_ATTRIBUTE, DOT_CLASS, DOT_FUNCTION, DOT_HPARAMS, DOT_NAMES, DOT_OUTPUT, DotHostileNet,
)

from sphinx_netviz.dot import dot_text, to_dot
from sphinx_netviz.errors import RenderProblem
from sphinx_netviz.graph import Diagram, DiagramCluster, DiagramEdge, DiagramNode, build_diagram
from sphinx_netviz.render import run_dot, svg_for_inline
from sphinx_netviz.svgsafe import ELEMENTS, sanitize_svg, sanitized_svg_file
from sphinx_netviz.trace import trace_model

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SVG = "{" + SVG_NS + "}"
XLINK = "{" + XLINK_NS + "}"

#: text that DOT, Graphviz's escapes or its HTML-like labels would read as something else
NASTY = [
    "\\N", "\\G", "\\E", "\\T", "\\H", "\\L", "\\l", "\\n", "\\r", "a\\b", "end\\", "\\\\", "\\\\\\",
    '"', '\\"', 'a"b', "'s'", "&amp;", "&lt;", "&#92;", "&foo;", "&", "<x>", "<<B>x</B>>",
    '<<TABLE HREF="javascript:alert(1)"><TR><TD>x</TD></TR></TABLE>>', "}", "{", "}{", "];", "->", "--",
    '"]; n2 [URL="javascript:alert(1)"', "node", "digraph", "subgraph cluster_x {", "é × … 中",
]


def svg_of(source: str) -> ET.Element:
    return ET.fromstring(run_dot(source, "svg"))


def drawn(root: ET.Element) -> dict[str, tuple[list[str], list[str]]]:
    """id of each ``<g>`` -> (its texts, its tooltips)."""
    return {g.get("id"): (["".join(t.itertext()) for t in g.iter(SVG + "text")],
                          [a.get(XLINK + "title") for a in g.iter(SVG + "a") if a.get(XLINK + "title")])
            for g in root.iter(SVG + "g") if g.get("id")}


def links(root: ET.Element) -> list[tuple[str, str]]:
    """Every attribute that is a link (``href`` in any namespace)."""
    return [(name, value) for el in root.iter() for name, value in el.attrib.items()
            if name.rpartition("}")[2].lower() == "href"]


def assert_no_links_out(root: ET.Element) -> None:
    for name, value in links(root):
        assert value.startswith("#"), f"{name}={value!r}"
    for el in root.iter():
        for name, value in el.attrib.items():
            if name != XLINK + "title":  # a tooltip is text: it may say "javascript:"
                assert "javascript:" not in value.lower(), f"{name}={value!r}"
            assert not name.rpartition("}")[2].lower().startswith("on"), name


def plain(text: str) -> str:
    """Whitespace as single spaces (HTML-like labels draw line breaks as spaces, and
    Graphviz puts a no-break space between a box's name and its class)."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


# -- DOT: names from the model ------------------------------------------------

def hostile_trace():
    trace, _ = trace_model(DotHostileNet().eval(), (torch.randn(1, 4),), {}, ["x"], "DotHostileNet")
    return trace


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_hostile_model_names_are_text(depth):
    """The names from the issue (a cluster label that became a javascript: link, an
    extra_repr that is an HTML-like table, quotes, escapes, braces) through to_dot and
    real Graphviz: no link, every box and cluster drawn, every name drawn as its text."""
    trace = hostile_trace()
    diagram = build_diagram(trace, depth)
    root = svg_of(to_dot(diagram, id_prefix="nvt"))
    assert_no_links_out(root)
    groups = [g for g in root.iter(SVG + "g")]
    assert sum("node" in g.get("class", "").split() for g in groups) == len(diagram.nodes)
    assert sum("cluster" in g.get("class", "").split() for g in groups) == len(diagram.clusters)

    # what each depth draws: the root's box alone at 0; its children, the functional call and
    # extra_repr texts from 1; the cluster (its label was a javascript: link) from 2
    assert {node.kind for node in diagram.nodes} == {"input", "module", "output"} | ({"function"} if depth else set())
    assert any(node.hparams for node in diagram.nodes) == (depth >= 1)
    assert len(diagram.clusters) == (1 if depth >= 2 else 0)

    shown = drawn(root)
    for node in diagram.nodes:
        texts, tips = shown[f"nvt_{node.id}"]
        if node.kind == "module":
            assert plain(texts[0]) == plain(node.title)
            assert plain(texts[1]) == plain(node.class_name)
            assert tips[0].startswith(f"{node.title}: {node.class_name}")
        elif node.kind == "function":
            assert texts == [node.title]
            assert tips[0].split("\n")[0] == node.title
        if node.hparams:
            assert node.hparams in texts and node.hparams in tips[0].split("\n")
    for cluster in diagram.clusters:
        texts, tips = shown[f"nvt_{cluster.id}"]
        assert texts[0] == f"{cluster.path}: {cluster.class_name}"
        assert tips[0] == texts[0]

    everything = {plain(t) for texts, _ in shown.values() for t in texts}
    assert f"output.{DOT_OUTPUT}" in everything
    assert (DOT_FUNCTION in everything) == (depth >= 1)
    assert ({plain(name) for name in DOT_NAMES} <= everything) == (depth >= 1)
    assert (f"{DOT_ATTRIBUTE}: {DOT_CLASS}" in everything) == (depth >= 2)  # the label that was a javascript: link
    assert (DOT_HPARAMS in everything) == (depth >= 2)


def test_the_issue_cluster_label_is_one_quoted_string():
    diagram = build_diagram(hostile_trace(), 2)
    source = to_dot(diagram)
    label = f'label="{DOT_ATTRIBUTE}: {DOT_CLASS}"'.replace('URL="javascript:alert(document.domain)"',
                                                           'URL=\\"javascript:alert(document.domain)\\"')
    assert label in source


@pytest.mark.parametrize("text", NASTY)
def test_dot_text_is_shown_as_itself(text):
    """As a label, a tooltip, a cluster label, an edge label, a function name and the graph
    name, each string is drawn as exactly itself: no escape expanded, no entity decoded."""
    diagram = Diagram(
        text,
        [DiagramNode("m", "module", f"t{text}", class_name=f"K{text}", hparams=f"h{text}", cluster="c"),
         DiagramNode("f", "function", f"f{text}", cluster="c", in_shapes=[f"s{text}"])],
        [DiagramCluster("c", f"p{text}", f"C{text}", None)],
        [DiagramEdge("m", "f", f"e{text}")],
    )
    root = svg_of(to_dot(diagram, id_prefix="nvt"))
    assert_no_links_out(root)
    shown = drawn(root)
    assert shown["nvt_c"] == ([f"p{text}: C{text}"], [f"p{text}: C{text}"])
    texts, tips = shown["nvt_m"]
    assert [texts[0], plain(texts[1]), texts[2]] == [f"t{text}", plain(f"K{text}"), f"h{text}"]
    assert tips == [f"t{text}: K{text}\nh{text}"]
    assert shown["nvt_f"] == ([f"f{text}"], [f"f{text}\nin: s{text}"])
    edge = next(v for k, v in shown.items() if k.startswith("nvt_e"))
    assert edge == ([f" e{text}"], [f"e{text}"])
    assert root.find(f"{SVG}g/{SVG}title").text == text  # the graph's name
    assert shown["a_nvt_graph"][1] == [text]  # and its tooltip


def test_ordinary_names_are_quoted_as_before():
    """The docs' diagrams do not change: ordinary text quotes exactly as it did unquoted."""
    quote = graphviz.quoting.quote
    for text in ["CNNModel", "conv.0", "layer1.0 … layer1.1", "16×3×512×512", " 1×10",
                 "in_features=4, out_features=4", "x\nin: 1×4\nout: 1×4\nparams: 20",
                 "output['logits']", "getitem", "add"]:
        assert quote(dot_text(text)) == quote(text) == quote(dot_text(text, tooltip=True))


def test_line_breaks_tabs_and_unprintable_characters():
    text = "a\nb\tc\x00d\x1fe\ud800f\ufffe"
    diagram = Diagram("name\x01", [DiagramNode("m", "module", text, class_name=text, hparams=text),
                                   DiagramNode("f", "function", text)],
                      [], [DiagramEdge("m", "f", text)])
    root = svg_of(to_dot(diagram, id_prefix="nvt"))
    shown = drawn(root)
    texts, tips = shown["nvt_m"]
    assert plain(texts[0]) == "a b c\ufffdd\ufffde\ufffdf\ufffd"  # an HTML-like label: spaces
    assert tips[0].startswith("a\nb c\ufffdd")  # a tooltip keeps the line break (a tab is a space in XML)


def test_long_text_stays_under_graphvizs_limit():
    """A class name of 100,000 characters, a path of 20,000, 5,000 inputs and an
    extra_repr of 50,000 characters: Graphviz draws them (its strings stop at 16,384
    bytes), shortened with "…"."""
    huge = "W" * 100_000
    diagram = Diagram(
        huge,
        [DiagramNode("m", "module", "p" * 20_000, class_name=huge, hparams="h&\\" * 50_000, cluster="c",
                     in_shapes=["1×2"] * 5_000, paths=tuple(f"blocks.{i}" for i in range(5_000)),
                     repeat=5_000),
         DiagramNode("o", "output", "o" * 30_000, in_shapes=[f"{i}×4 float32" for i in range(5_000)])],
        [DiagramCluster("c", "q" * 20_000, "\\" * 100_000, None, repeat=5_000,
                        paths=tuple("r" * 300 for _ in range(5_000)))],
        [DiagramEdge("m", "o", "9×" * 10_000)],
    )
    source = to_dot(diagram, id_prefix="nvt")
    assert len(source.encode()) < 60_000
    root = svg_of(source)
    shown = drawn(root)
    texts, tips = shown["nvt_m"]
    assert texts[0].endswith("…") and len(texts[0]) == 200
    assert "5,000 identical blocks, drawn once: blocks.0, blocks.1, blocks.2 … blocks.4999" in tips[0]
    assert "in: 1×2, 1×2, 1×2 … 1×2 (5,000 tensors)" in tips[0]
    cluster_texts, _ = shown["nvt_c"]
    assert cluster_texts[0].endswith(": " + "\\" * 199 + "…")


def test_many_identical_blocks_fold_into_one_box():
    """1,400 identical Linear(4, 4) + ReLU blocks: the folded box's tooltip names the
    first three and the last (listing all 1,400 passed Graphviz's 16,384 bytes)."""
    from sphinx_netviz.pipeline import make_artifacts
    from sphinx_netviz.spec import DiagramSpec

    made = make_artifacts(DiagramSpec("browser.hostile_models:ManyBlocks", ((2, 4),), depth=1, onnx="none"))
    assert made.depth == 1  # drawn at the depth asked for: Graphviz took it
    tips = [t for _, ts in drawn(ET.fromstring(made.svg)).values() for t in ts]
    assert any("1,400 identical blocks, drawn once: 0, 1, 2 … 1399" in t for t in tips), tips
    assert any("×1,400" in t for texts, _ in drawn(ET.fromstring(made.svg)).values() for t in texts)


def test_many_blocks_unfolded():
    """The same 1,400 blocks with :fold: false at depth 1: 1,400 boxes, laid out."""
    from sphinx_netviz.pipeline import make_artifacts
    from sphinx_netviz.spec import DiagramSpec

    made = make_artifacts(DiagramSpec("browser.hostile_models:ManyBlocks", ((2, 4),), depth=1, fold=False,
                                      onnx="none"))
    assert made.depth == 1  # drawn at the depth asked for: Graphviz took it
    boxes = [g for g in ET.fromstring(made.svg).iter(SVG + "g") if "node" in g.get("class", "").split()]
    assert len(boxes) == 1_402  # the input, 1,400 blocks, the output


# -- the SVG allowlist ----------------------------------------------------------

def wrap(inner: str, root: str = "") -> str:
    return f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" width="10pt"{root}>{inner}</svg>'


@pytest.fixture(scope="module")
def graphviz_svg() -> bytes:
    """Graphviz's SVG of the hostile model at depth 2 (clusters, HTML labels, tooltips)."""
    return run_dot(to_dot(build_diagram(hostile_trace(), 2), id_prefix="nvt"), "svg")


def test_graphviz_svg_keeps_everything_drawn(graphviz_svg):
    """Every element and attribute Graphviz wrote is kept (ids, classes, titles, tooltips the
    viewer reads); the prolog, doctype and comments go; the result parses as the same tree."""
    clean = sanitize_svg(graphviz_svg)
    assert clean.startswith(f'<svg width="') and clean.endswith("</svg>")
    assert f'xmlns="{SVG_NS}"' in clean and f'xmlns:xlink="{XLINK_NS}"' in clean
    for gone in ("<?xml", "<!DOCTYPE", "<!--", "ns0:", "html:"):
        assert gone not in clean
    before, after = list(ET.fromstring(graphviz_svg).iter()), list(ET.fromstring(clean).iter())
    assert [(e.tag, e.attrib, e.text, e.tail) for e in before[1:]] == \
        [(e.tag, e.attrib, e.text, e.tail) for e in after[1:]]
    assert before[0].attrib == after[0].attrib
    assert {e.tag.removeprefix(SVG) for e in before} <= ELEMENTS
    assert re.search(r'<g id="nvt_c\d+" class="cluster">', clean)
    assert 'xlink:title="' in clean and 'class="node nv-linear"' in clean
    # the same every time, and sanitising again changes nothing
    assert sanitize_svg(graphviz_svg) == clean == sanitize_svg(clean) == sanitize_svg(graphviz_svg.decode())
    assert svg_for_inline(graphviz_svg) == clean
    # the downloadable file: a standalone SVG that sanitises to the same drawing
    file = sanitized_svg_file(graphviz_svg)
    assert file.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<svg ')
    assert sanitize_svg(file) == clean


def test_inline_svg_has_the_title_first(graphviz_svg):
    """The HTML writer finds the end of the <svg> start tag with the first ">"."""
    clean = sanitize_svg(graphviz_svg)
    head = clean[: clean.index(">") + 1]
    assert head.startswith("<svg width=") and head.endswith(f'xmlns:xlink="{XLINK_NS}">')


@pytest.mark.parametrize("inner", [
    "<script>alert(1)</script>",
    '<script type="text/javascript"><![CDATA[alert(1)]]></script>',
    '<g><script xlink:href="data:text/javascript,alert(1)"/></g>',
    '<foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml">'
    '<iframe src="javascript:alert(1)"/><img src="x" onerror="alert(1)"/></body></foreignObject>',
    '<image xlink:href="javascript:alert(1)" width="10" height="10"/>',
    '<image href="data:image/svg+xml,&lt;svg onload=alert(1)&gt;"/>',
    '<use xlink:href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+#x"/>',
    '<use href="http://example.invalid/evil.svg#x"/>',
    '<a xlink:href="#x"><set attributeName="xlink:href" to="javascript:alert(1)"/></a>',
    '<a href="#x"><animate attributeName="href" values="javascript:alert(1)"/></a>',
    "<style>text { background: url(javascript:alert(1)) }</style>",
    '<iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:alert(1)"/>',
    '<svg:script xmlns:svg="http://www.w3.org/2000/svg">alert(1)</svg:script>',
    '<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>',
    '<handler xmlns="http://www.w3.org/2001/xml-events" event="load">alert(1)</handler>',
    '<feImage xlink:href="javascript:alert(1)"/>',
    '<unknown onload="alert(1)"><text>hidden</text></unknown>',
])
def test_active_elements_are_dropped(inner):
    clean = sanitize_svg(wrap(f'<g id="keep">{inner}<text x="1">kept</text></g>'))
    assert "alert" not in clean and "javascript" not in clean and "data:" not in clean
    assert "example.invalid" not in clean and "hidden" not in clean
    assert '<g id="keep">' in clean and '<text x="1">kept</text>' in clean
    assert_no_links_out(ET.fromstring(clean))


@pytest.mark.parametrize("attribute", [
    'onload="alert(1)"', 'ONLOAD="alert(1)"', 'onclick="alert(1)"', 'onmouseover="alert(1)"',
    'onfocusin="alert(1)"', 'style="background:url(javascript:alert(1))"', 'style="fill:red"',
    'fill="url(http://example.invalid/x.svg#p)"', 'fill="url(javascript:alert(1))"',
    'xml:base="javascript:alert(1)//"', 'xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="alert(1)"',
    'requiredExtensions="http://example.invalid/"', 'filter="url(http://example.invalid/f.svg#f)"',
    'mask="url(http://example.invalid/m.svg#m)"', 'transform="url(http://example.invalid/x)"',
    'id="a&quot; onload=&quot;alert(1)"', 'class="x&quot; onload=&quot;alert(1)"',
])
def test_handlers_and_unsafe_attributes_are_dropped(attribute):
    clean = sanitize_svg(wrap(f'<g {attribute}><path d="M0,0L1,1" {attribute}/></g>', " " + attribute))
    assert "alert" not in clean and "example.invalid" not in clean
    assert "style=" not in clean and "onload" not in clean.lower()
    assert '<path d="M0,0L1,1"/>' in clean


@pytest.mark.parametrize("href", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "\tjavascript:alert(1)",
    "&#x20;javascript:alert(1)", "&#106;avascript:alert(1)", "&#x6A;&#x61;vascript:alert(1)",
    "java&#x09;script:alert(1)", "java&#x0A;script:alert(1)", "java&#13;script:alert(1)",
    "javascript&#58;alert(1)", "vbscript:msgbox(1)", "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
    "data:image/svg+xml;base64,PHN2Zz4=", "http://example.invalid/", "https://example.invalid/",
    "//example.invalid/", "file:///etc/passwd", "x", "./page.html", " #x", "#x y", "#x\ty",
])
@pytest.mark.parametrize("name", ["xlink:href", "href"])
def test_links_out_of_the_drawing_are_dropped(href, name):
    clean = sanitize_svg(wrap(f'<a id="a" {name}="{href}" xlink:title="tip"><text>t</text></a>'))
    assert "href" not in clean
    assert '<a id="a" xlink:title="tip"><text>t</text></a>' in clean


@pytest.mark.parametrize("name", ["xlink:href", "href"])
def test_anchors_in_the_drawing_survive(name):
    clean = sanitize_svg(wrap(f'<a {name}="#nv_n1" xlink:title="tip" target="_top"><text>t</text></a>'))
    assert f'<a {name}="#nv_n1" xlink:title="tip" target="_top"><text>t</text></a>' in clean


def test_xlink_under_another_prefix_is_written_as_xlink():
    clean = sanitize_svg(f'<s:svg xmlns:s="{SVG_NS}" xmlns:l="{XLINK_NS}"><s:a l:href="#ok" l:title="t">'
                         f'<s:text>x</s:text></s:a><s:a l:href="javascript:alert(1)"/></s:svg>')
    assert clean == (f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"><a xlink:href="#ok" xlink:title="t">'
                     "<text>x</text></a><a/></svg>")


def test_text_and_tooltips_stay_escaped():
    hostile = '&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;'
    clean = sanitize_svg(wrap(f'<g><title>{hostile}</title><a xlink:title="{hostile}&#10;two"><text>'
                              f'{hostile}<![CDATA[<img src=x onerror=alert(1)>]]></text></a></g>'))
    assert "<script" not in clean and "<img" not in clean
    assert '<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;"</title>' in clean
    assert 'xlink:title="&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#10;two"' in clean
    assert "&lt;img src=x onerror=alert(1)&gt;</text>" in clean
    root = ET.fromstring(clean)
    assert root.find(f"{SVG}g/{SVG}a").get(XLINK + "title").endswith('&"\ntwo')


def test_comments_and_processing_instructions_are_dropped():
    clean = sanitize_svg('<?xml version="1.0"?>\n<?xml-stylesheet href="http://example.invalid/x.css"?>\n'
                         '<!-- <script>alert(1)</script> -->'
                         + wrap("<!-- x --><?php echo 1; ?><g/>"))
    assert clean == f'<svg width="10pt" xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"><g/></svg>'


@pytest.mark.parametrize("document", [
    '<!DOCTYPE svg [<!ENTITY x "javascript:alert(1)">]>' + wrap('<a xlink:href="&x;"/>'),
    '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + wrap("<text>&xxe;</text>"),
    '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    + wrap("<text>&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;</text>"),
    '<!DOCTYPE svg PUBLIC "x" "y" [<!ENTITY x "y">]>' + wrap("<g/>"),
    wrap("<g/>").replace("<g/>", '<!DOCTYPE g [<!ENTITY x "y">]><g/>'),
    "<!ENTITY x 'y'>" + wrap("<g/>"),
])
def test_entities_are_refused(document):
    with pytest.raises(RenderProblem, match="damaged"):
        sanitize_svg(document)


def test_a_doctype_without_declarations_is_dropped_unread():
    """Graphviz's own doctype names an external DTD: dropped, never fetched."""
    document = ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n "http://example.invalid/svg11.dtd">\n'
                + wrap("<g/>"))
    assert sanitize_svg(document).endswith("<g/></svg>")
    document = "<!DOCTYPE svg SYSTEM 'http://example.invalid/x.dtd'>" + wrap("<g/>")
    assert sanitize_svg(document).endswith("<g/></svg>")


@pytest.mark.parametrize("damaged", [
    b"", b"<svg", b"not xml at all", b"\xff\xfe<\x00s\x00",
    "<svg xmlns='http://www.w3.org/2000/svg'><g></svg>",
    "<html><body/></html>", "<svg><g/></svg>",  # no SVG namespace: not an SVG drawing
    wrap("<text>&nbsp;</text>"),  # an entity no DTD declares
])
def test_damaged_svg_is_a_render_problem(damaged):
    with pytest.raises(RenderProblem, match="SVG from Graphviz is damaged"):
        sanitize_svg(damaged)


def test_deep_nesting_does_not_recurse():
    clean = sanitize_svg(wrap("<g>" * 5000 + "</g>" * 5000))
    assert clean.count("<g>") == 4999 and clean.count("<g/>") == 1
