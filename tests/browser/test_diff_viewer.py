"""A ``netviz-diff`` page in Chromium: the merged drawing is the usual viewer — its depths keep the
marks, search finds a removed block, a layer link opens on it, its panel says what it is — and the
Changes table follows it (a Furo site built with -W)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import build_site
from .test_viewer import call_id, element, next_frame, rect, view_box

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # builds a site: three sides and two merges

INDEX = """\
Diff test page
==============

.. netviz-diff:: example_models.versions:ClassifierV2 example_models.versions:ClassifierV1
   :input-shape: 1, 3, 32, 32
   :depth: 2
   :fold: false
   :name: shrunk

.. netviz-diff:: example_models.versions:ClassifierV1 example_models.versions:ClassifierV1
   :input-shape: 1, 3, 32, 32
"""


@pytest.fixture(scope="module")
def diff_site(tmp_path_factory: pytest.TempPathFactory, diagram_cache: Path) -> Path:
    return build_site(tmp_path_factory.mktemp("diff-site"), INDEX, cache=diagram_cache)


def test_the_merged_viewer(new_page, diff_site: Path) -> None:
    page = new_page((diff_site / "index.html").as_uri(), viewport={"width": 1300, "height": 1000})
    div = page.locator("div.netviz").first
    data = json.loads(div.locator("script.netviz-data").text_content())
    assert page.locator("div.netviz.netviz-js").count() == 2  # both viewers started
    svg = div.locator(".netviz-canvas > svg")
    removed = [call_id(data, f"blocks.{i}") for i in (4, 5)]
    for cid in removed:
        box = element(div, data, f"n{cid}")
        assert "netviz-removed" in box.get_attribute("class")
        assert box.locator("path, polygon").first.get_attribute("stroke-dasharray")  # dashed
    assert "Changes from the old model" in svg.text_content()  # the legend
    # the panel of a removed box
    page.mouse.move(0, 0)
    element(div, data, f"n{removed[1]}").hover()
    panel = div.locator(".netviz-panel")
    panel.wait_for(state="visible")
    assert panel.locator(".netviz-panel-diff .netviz-diff-kind").text_content() == "removed (only in the old model)"
    # search finds it
    search = div.locator("input.netviz-search")
    search.fill("blocks.5")
    search.press("Enter")
    assert div.locator(".netviz-status").text_content().startswith("1 of 1")
    assert "netviz-removed" in div.locator("svg .netviz-match").first.get_attribute("class")
    search.fill("")
    search.press("Enter")
    # one depth deeper: the removed blocks are clusters, still marked, their layers too
    div.locator("select.netviz-depth").select_option("3")
    assert div.locator(".netviz-canvas > svg g.cluster.netviz-removed").count() == 2
    assert div.locator(".netviz-canvas > svg g.node.netviz-removed").count() >= 6  # bn, act, conv each
    # the Changes table after the figure, the same-architecture diagram plain with its sentence
    rows = page.locator("table.netviz-changes tr")
    assert [rows.nth(i).locator("td").nth(1).text_content() for i in range(1, rows.count())].count("removed") == 2
    second = page.locator("div.netviz").nth(1)
    assert second.locator("svg .netviz-changed, svg .netviz-added, svg .netviz-removed").count() == 0
    assert page.locator("p.netviz-no-change").text_content() == "No architectural change."
    # a layer link to the removed block opens the page on it
    link = data["calls"][removed[1]]["link"]
    fresh = new_page((diff_site / "index.html").as_uri() + f"#shrunk/{link}",
                     viewport={"width": 1300, "height": 1000})
    target = fresh.locator("div.netviz").first.locator(".netviz-target")
    target.wait_for(state="attached")
    assert "netviz-removed" in target.get_attribute("class")


#: the box of what the shown SVG draws (its g.graph, in the SVG's units), with Graphviz's pad of 4
_DRAWN = """div => {
    const svg = div.querySelector('.netviz-canvas > svg'), graph = svg.querySelector('g.graph');
    const b = graph.getBBox(), m = graph.transform.baseVal.consolidate().matrix;
    return {x: b.x + m.e - 4, y: b.y + m.f - 4, w: b.width + 8, h: b.height + 8};
}"""


def test_the_overview_of_a_merged_drawing(new_page, diff_site: Path) -> None:
    """Issue 19 promised the overview on the merged drawing: on a phone, zoomed in, it maps what is
    drawn (boxes, clusters, edges and the legend; not the margin Graphviz's box gives the legend),
    a click or a drag on it moves the view, its button hides it, and it follows the depth."""
    page = new_page((diff_site / "index.html").as_uri(), viewport={"width": 390, "height": 844})
    div = page.locator("div.netviz").first
    svg = div.locator(".netviz-canvas > svg")
    overview, mapped = div.locator(".netviz-overview"), div.locator(".netviz-overview-map")
    graphviz = [float(v) for v in re.search(r'<svg width="[^"]*" height="[^"]*" viewBox="([^"]+)"',
                                            (diff_site / "index.html").read_text("utf-8"))[1].split()]
    div.locator(".netviz-canvas").focus()
    for _ in range(3):
        page.keyboard.press("+")
    next_frame(page)
    assert overview.is_visible() and mapped.is_visible()
    # the map is the drawing as drawn: its box, every box of it (the removed ones too), no id
    drawn = div.evaluate(_DRAWN)
    box = [float(v) for v in mapped.get_attribute("viewBox").split()]
    assert all(abs(a - b) <= 0.02 for a, b in zip(box, [drawn["x"], drawn["y"], drawn["w"], drawn["h"]])), (box, drawn)
    assert box[2] < graphviz[2] or box[3] < graphviz[3], (box, graphviz)  # the legend's margin is not mapped
    assert mapped.locator(".netviz-ov-box").count() == svg.locator("g.node").count()
    assert overview.locator("[id]").count() == 0

    # a click near the map's bottom moves the view down, at the same zoom; the frame follows
    before = view_box(div)
    m = rect(mapped)
    page.mouse.click(m["cx"], m["y"] + m["h"] * 0.95)
    after = view_box(div)
    assert after[1] > before[1] + 50 and after[2:] == before[2:]
    frame = [float(div.locator(".netviz-overview-view").get_attribute(a)) for a in ("x", "y", "width", "height")]
    assert abs(frame[1] - max(box[1], after[1])) < 2
    # a drag back to the top moves it up
    page.mouse.move(m["cx"], m["y"] + m["h"] * 0.9)
    page.mouse.down()
    page.mouse.move(m["cx"], m["y"] + m["h"] * 0.5, steps=4)
    page.mouse.move(m["cx"], m["y"] + 2, steps=4)
    page.mouse.up()
    assert view_box(div)[1] < after[1] - 50

    # its button hides the map and shows it again (the diagram's view stays)
    toggle = div.locator(".netviz-overview-toggle")
    shown = view_box(div)
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false" and not mapped.is_visible()
    toggle.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and mapped.is_visible()
    assert view_box(div) == shown

    # one depth deeper: the first view of that layout, the map of it when part is out of view
    div.locator("select.netviz-depth").select_option("3")
    div.locator(".netviz-canvas").focus()
    for _ in range(3):
        page.keyboard.press("+")
    next_frame(page)
    assert mapped.is_visible()
    assert mapped.locator(".netviz-ov-box").count() == svg.locator("g.node").count()
    assert mapped.locator(".netviz-ov-cluster").count() == svg.locator("g.cluster").count()
