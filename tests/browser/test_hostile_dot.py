"""Names shaped like DOT in headless Chromium: no link, no dialog, the names shown as text.

``DotHostileNet`` (see hostile_models.py) names a block's class
``> URL="javascript:alert(document.domain)" comment=<z>`` under the attribute
``<x> comment=<``, which once made its cluster a ``javascript:`` link; other
names end DOT strings and statements, hold DOT escapes (``\\N``, ``\\G``) and
line breaks; a layer's ``extra_repr`` is an HTML-like table with ``HREF``; a
function and an output key are HTML-like labels with a ``URL``.  The page is
built and served once; every depth is shown, every box, cluster and edge is
clicked, every link in the drawing is activated, and no dialog may open.
"""

from __future__ import annotations

import re

import pytest

from .conftest import build_site, serve
from .hostile_models import DOT_ATTRIBUTE, DOT_CLASS, DOT_FUNCTION, DOT_HPARAMS, DOT_NAMES, DOT_OUTPUT
from .test_viewer import call_id, diagram, element

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # every box of every depth clicked

PAGE = """\
DOT-shaped names
================

.. netviz:: hostile_models:DotHostileNet
   :input-shape: 1, 4
   :depth: 2
   :onnx: none
"""

#: every attribute of the diagram (its templates too) that is a link or a handler: [element, name, value]
_LINKS_AND_HANDLERS = """d => {
    const found = [];
    const scan = root => root.querySelectorAll('*').forEach(el => {
        for (const a of el.attributes) {
            if (/(^|:)href$|^on|^(src|action|formaction)$/i.test(a.name)) {
                found.push([el.closest('svg') ? 'svg' : el.tagName.toLowerCase(), a.name, a.value]);
            }
        }
    });
    scan(d);
    d.querySelectorAll('template').forEach(t => scan(t.content));
    return found;
}"""


@pytest.fixture(scope="module")
def dot_server(tmp_path_factory: pytest.TempPathFactory):
    with serve(build_site(tmp_path_factory.mktemp("dot-names"), PAGE)) as url:
        yield url


def _plain(text: str) -> str:
    """Whitespace as single spaces (HTML-like labels draw line breaks and tabs as spaces)."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def _check_links(div) -> None:
    found = div.evaluate(_LINKS_AND_HANDLERS)
    # the scan sees the diagram's own links: its SVG download
    assert any(where == "a" and name == "href" and "/netviz/" in value for where, name, value in found), found
    handlers = [f"{name}={value!r} on a {where}" for where, name, value in found if name.lower().startswith("on")]
    assert handlers == [], "event handlers"
    scripts = [f"{name}={value!r} in a {where}" for where, name, value in found
               if value.strip().lower().startswith(("javascript:", "data:", "vbscript:"))]
    assert scripts == [], "script links"
    # the drawing links nowhere but inside itself (Graphviz's <a> hold tooltips, not addresses)
    out_of_drawing = [f"{name}={value!r}" for where, name, value in found
                      if where == "svg" and not value.startswith("#")]
    assert out_of_drawing == [], "links out of the drawing"


def _show(div, depth: int) -> None:
    div.locator("select.netviz-depth").select_option(str(depth))
    div.evaluate("d => d.netvizViewer.panel.hide()")


def _drawn(div) -> list[tuple[str, str]]:
    """(kind, id) of every box, cluster and edge drawn now."""
    return [tuple(x) for x in div.evaluate(
        """d => Array.from(d.querySelectorAll('.netviz-canvas > svg g.node[id], .netviz-canvas > svg '
                                               + 'g.cluster[id], .netviz-canvas > svg g.edge[id]'))
                 .map(g => [g.getAttribute('class').split(' ')[0], g.id])""")]


def test_dot_shaped_names_stay_text(new_page, problems, dot_server):
    page = new_page(dot_server + "index.html")
    url = page.url
    div, data = diagram(page, "DotHostileNet")
    assert data["calls"][call_id(data, DOT_ATTRIBUTE)]["class"] == DOT_CLASS
    _check_links(div)

    texts: set[str] = set()
    clicked = 0
    for depth in data["depths"]:
        _show(div, depth)
        texts |= set(div.locator(".netviz-canvas > svg text").all_text_contents())
        for kind, gid in _drawn(div):
            _show(div, depth)  # the last click may have opened or folded a block
            target = div.locator(f"[id='{gid}']")
            if target.count() == 0:
                continue
            if kind == "cluster":
                target.locator("text").first.click(force=True)  # the label folds it
                _show(div, depth)
                # the cluster's own outline, where a click lands outside its boxes
                target.locator("path, polygon").first.dispatch_event("click")
            else:
                target.click(force=True)
            clicked += 1
            assert not problems.dialogs, f"clicking {kind} {gid} at depth {depth} opened a dialog"
            assert page.url == url
        # every link in the drawing (Graphviz wraps tooltips in <a>), activated
        _show(div, depth)
        for i in range(div.locator(".netviz-canvas > svg a").count()):
            div.locator(".netviz-canvas > svg a").nth(i).dispatch_event("click")
        _check_links(div)
    # expand and collapse with the controls, every depth in both directions
    for button in ("netviz-collapse", "netviz-expand"):
        for _ in data["depths"]:
            control = div.locator(f"button.{button}")
            if control.is_enabled():
                control.click()
                _check_links(div)
    assert clicked >= 10
    page.wait_for_timeout(200)
    assert not problems.dialogs
    assert page.url == url

    # the names are drawn as the text they are
    plain = {_plain(t) for t in texts}
    assert f"{DOT_ATTRIBUTE}: {DOT_CLASS}" in plain  # the cluster label that was a link
    assert DOT_HPARAMS in plain
    assert DOT_FUNCTION in plain
    assert f"output.{DOT_OUTPUT}" in plain
    for attribute in DOT_NAMES:
        assert _plain(attribute) in plain, attribute
        # the class name as the recorder keeps it (its first line)
        class_name = data["calls"][call_id(data, attribute)]["class"]
        assert class_name and _plain(class_name) in plain, class_name
    # and in the details panel
    _show(div, max(data["depths"]))
    cluster = element(div, data, f"c{call_id(data, DOT_ATTRIBUTE)}")
    assert cluster.locator("text").first.is_visible()
    cluster.focus()
    panel = div.locator(".netviz-panel")
    assert DOT_CLASS in panel.text_content() and DOT_ATTRIBUTE in panel.text_content()
    # no element was made from the names, anywhere in the page
    assert page.locator(".netviz-canvas table, .netviz-canvas svg svg, .netviz-canvas img").count() == 0
    assert page.locator("div.netviz script:not(.netviz-data)").count() == 0
