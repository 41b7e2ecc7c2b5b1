"""``:color-by:`` in a real browser (Furo): the shaded boxes and the legend switch to the dark
shades with the theme, at every depth the viewer opens, and keep 4.5:1 text on every shade;
the legend is no box (the viewer's boxes, search and focus never meet it)."""

from __future__ import annotations

import re

import pytest

from sphinx_netviz.palette import PALETTE, SHADES

from .conftest import build_site, serve
from .test_viewer import call_id, diagram, element, fill_of

pytestmark = pytest.mark.browser

PAGE = """\
Color by
========

.. netviz:: example_models.transformer:TinyTransformer
   :input-shape: 2, 16
   :input-dtype: int64
   :color-by: params
   :onnx: none
"""


def rgb(hex_colour: str) -> str:
    """``#74a6e3`` as the browser's computed style writes it: ``rgb(116, 166, 227)``."""
    return "rgb({}, {}, {})".format(*(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)))


def contrast(a: str, b: str) -> float:
    def lum(css: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
        r, g, b_ = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


#: the legend: what is drawn in the graph outside every box, cluster and edge
LEGEND = """div => [...div.querySelectorAll('.netviz-canvas svg g.graph polygon, .netviz-canvas svg g.graph text')]
    .filter(e => !e.closest('g.node, g.cluster, g.edge') && e.getAttribute('fill') !== 'transparent')
    .map(e => [e.tagName, getComputedStyle(e).fill, e.textContent])"""


@pytest.fixture(scope="module")
def url(tmp_path_factory, diagram_cache):
    html = build_site(tmp_path_factory.mktemp("color-by-site"), PAGE, cache=diagram_cache)
    with serve(html) as base:
        yield base + "index.html"


def _shade(div, data, path: str):
    return element(div, data, f"n{call_id(data, path)}")


@pytest.mark.slow
def test_shades_and_legend_follow_the_dark_theme(new_page, url):
    page = new_page(url)
    div, data = diagram(page, "TinyTransformer")
    # by parameters: embed 37 % (step 4), pos 4.7 % (2), the two blocks 58 % (5), head 0.2 % (1)
    steps = {"embed": 4, "pos": 2, "blocks.0": 5, "head": 1}
    boxes = {path: _shade(div, data, path) for path in steps}
    for path, step in steps.items():
        assert f"nv-shade-{step}" in boxes[path].get_attribute("class"), path
        assert fill_of(boxes[path].locator("path").first) == rgb(SHADES[step - 1]), path
    legend = div.evaluate(LEGEND)
    assert [fill for tag, fill, _ in legend if tag == "polygon"] == [rgb(s) for s in SHADES]
    texts = [text for tag, _, text in legend if tag == "text"]
    assert texts[0] == "Share of the model's parameters" and len(texts) == 6

    page.emulate_media(color_scheme="dark")
    page.evaluate("document.body.dataset.theme = 'dark'")
    for path, step in steps.items():
        shape = boxes[path].locator("path").first
        assert fill_of(shape) == rgb(PALETTE[f"shade-{step}"].dark), path
        text = boxes[path].locator("text").first.evaluate("e => getComputedStyle(e).fill")
        assert contrast(text, fill_of(shape)) >= 4.5, (path, text, fill_of(shape))
    legend = div.evaluate(LEGEND)
    assert [fill for tag, fill, _ in legend if tag == "polygon"] == [
        rgb(PALETTE[f"shade-{k}"].dark) for k in range(1, len(SHADES) + 1)]
    assert {fill for tag, fill, _ in legend if tag == "text"} == {rgb(PALETTE["text"].dark)}

    # opened in the page (another depth's SVG): the blocks' layers are shaded, in the dark shades
    boxes["blocks.0"].click()
    mlp = _shade(div, data, "blocks.0.mlp")  # 38 % of the parameters for both blocks
    assert "nv-shade-4" in mlp.get_attribute("class")
    assert fill_of(mlp.locator("path").first) == rgb(PALETTE["shade-4"].dark)
    assert len([1 for tag, _, _ in div.evaluate(LEGEND) if tag == "polygon"]) == len(SHADES)


def test_the_legend_is_no_box(new_page, url):
    page = new_page(url)
    div, data = diagram(page, "TinyTransformer")
    # every box the viewer knows is a call; the legend's text is in none of them, takes no focus
    ids = div.locator(".netviz-canvas svg g.node[id]").evaluate_all("gs => gs.map(g => g.id)")
    assert all(re.fullmatch(rf"{data['prefix']}_(n\d+|in\d+|out\d+|r_n\d+)", i) for i in ids), ids
    legend = div.locator(".netviz-canvas svg g.graph text", has_text="Share of the model's parameters")
    assert legend.count() == 1
    assert legend.evaluate("e => e.closest('[tabindex]') === null || e.closest('[tabindex]').tagName !== 'g'")
    search = div.locator("input.netviz-search")
    search.fill("Share")
    search.press("Enter")
    assert div.locator("svg .netviz-match").count() == 0
