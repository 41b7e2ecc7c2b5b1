"""A ``netviz-diff`` page in Chromium: the merged drawing is the usual viewer — its depths keep the
marks, search finds a removed block, a layer link opens on it, its panel says what it is — and the
Changes table follows it (a Furo site built with -W)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import build_site
from .test_viewer import call_id, element

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
