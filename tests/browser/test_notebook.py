"""The notebook page of the docs (``docs/python.md``, run by myst-nb at build time): each
output of ``draw()`` is a working viewer in the built site — it starts, zooms, searches and
shows details — with its own element ids, beside the site's own copy of the script."""

from __future__ import annotations

import json

import pytest

from .test_viewer import call_id, element, rect, view_box

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # it builds docs/ (the docs_html fixture)


def test_draw_outputs_in_the_built_notebook_page_are_working_viewers(new_page, docs_html):
    page = new_page((docs_html / "python.html").as_uri(), viewport={"width": 1300, "height": 1000})
    outputs = page.locator("div.netviz-output > div.netviz")
    assert outputs.count() == 3  # three cells draw
    ids = [outputs.nth(i).get_attribute("id") for i in range(outputs.count())]
    assert len(set(ids)) == 3
    assert page.locator("div.netviz-output > div.netviz.netviz-js").count() == 3  # every viewer started
    all_ids = page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(all_ids) == len(set(all_ids)), "an element id appears twice"

    div = outputs.nth(0)
    data = json.loads(div.locator("script.netviz-data").text_content())
    assert data["model"] == "Tower"
    # zoom: the + key on the canvas narrows the view box
    first = view_box(div)
    canvas = div.locator(".netviz-canvas")
    canvas.focus()
    page.keyboard.press("+")
    assert view_box(div)[2] < first[2]
    div.locator("button.netviz-fit").click()
    # search: the folded blocks match their class
    search = div.locator("input.netviz-search")
    search.fill("Block")
    search.press("Enter")
    assert div.locator("svg .netviz-match").count() >= 1
    assert div.locator(".netviz-status").text_content().startswith("1 of")
    search.fill("")
    search.press("Enter")
    # details: hovering the embedding shows its class and shapes
    embed = call_id(data, "embed")
    panel = div.locator(".netviz-panel")
    page.mouse.move(0, 0)
    element(div, data, f"n{embed}").hover()
    assert panel.is_visible()
    text = panel.text_content()
    assert "Linear" in text and data["calls"][embed]["out"][0] in text
    assert rect(panel)["w"] > 0
