"""The diagram viewer (netviz.js, netviz.css) in headless Chromium.

One small Furo site is built per session with three diagrams — the seed CNN
(depth 2), a small ResNet (depth 1) and a model with an HTML-like class name
(depth 1) — and opened from a local HTTP server and from ``file://``.  Every
page is also checked for console errors, uncaught exceptions and dialogs
(see ``new_page`` in conftest.py).
"""

from __future__ import annotations

import json
import re

import pytest

from .hostile_models import HOSTILE_CLASS, HOSTILE_CONTAINER, HOSTILE_HPARAMS

pytestmark = pytest.mark.browser


# -- helpers ------------------------------------------------------------------

def diagram(page, model: str):
    """The ``div.netviz`` of ``model``, and its JSON data."""
    found = page.evaluate(
        """model => {
            for (const div of document.querySelectorAll('div.netviz')) {
                const script = div.querySelector('script.netviz-data');
                if (script && JSON.parse(script.textContent).model === model) return div.id;
            }
            return null;
        }""",
        model,
    )
    assert found, f"no diagram of {model} in the page"
    data = json.loads(page.locator(f"#{found} script.netviz-data").text_content())
    return page.locator(f"#{found}"), data


def call_id(data: dict, path: str) -> str:
    ids = [k for k, c in data["calls"].items() if c["path"] == path]
    assert ids, f"no call with path {path!r} in {sorted(c['path'] for c in data['calls'].values())}"
    return ids[0]


def element(div, data: dict, local: str):
    return div.locator(f"[id='{data['prefix']}_{local}']")


def view_box(div) -> list[float]:
    return [float(v) for v in div.locator(".netviz-canvas > svg").get_attribute("viewBox").split()]


_RECT = ("e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height, "
         "cx: r.x + r.width / 2, cy: r.y + r.height / 2}; }")


def rect(locator) -> dict:
    return locator.evaluate(_RECT)


def rects(*locators) -> list[dict]:
    """Bounding boxes of several elements, measured at one moment."""
    handles = [loc.element_handle() for loc in locators]
    return locators[0].page.evaluate(f"es => es.map({_RECT})", handles)


def inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["w"] <= outer["x"] + outer["w"] + slack
            and inner["y"] + inner["h"] <= outer["y"] + outer["h"] + slack)


def fill_of(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).fill")


def luminance(css_colour: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css_colour)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.fixture(params=["http", "file"])
def index_url(request, server, site) -> str:
    """The test page, served over HTTP and opened as a file."""
    return server + "index.html" if request.param == "http" else (site / "index.html").as_uri()


# -- tests --------------------------------------------------------------------

def test_diagrams_open_fitted(new_page, index_url):
    """Each SVG is visible, no wider than the content column and no taller than the
    window, and the whole drawing is inside it; the toolbar is there."""
    page = new_page(index_url)
    viewport = page.viewport_size
    divs = page.locator("div.netviz")
    assert divs.count() == 3
    for i in range(3):
        div = divs.nth(i)
        svg = div.locator(".netviz-canvas > svg")
        assert svg.is_visible()
        box, column, graph = rects(svg, div.locator("xpath=.."), svg.locator("g.graph"))
        assert 0 < box["w"] <= column["w"] + 1
        assert 0 < box["h"] <= viewport["height"]
        assert inside(graph, box)
        assert div.locator(".netviz-toolbar button").count() >= 6
        assert div.locator(".netviz-toolbar input[type=search]").count() == 1
    # the CNN is 1,200 points tall: it opens squeezed into the window, not 1,600 px tall
    cnn, _ = diagram(page, "CNNModel")
    assert rect(cnn.locator(".netviz-canvas > svg"))["h"] <= 0.8 * viewport["height"] + 1


def test_static_diagram_without_javascript(new_page, server):
    page = new_page(server + "index.html", java_script_enabled=False)
    svg = page.locator("div.netviz .netviz-canvas > svg").first
    assert svg.is_visible()
    assert page.locator(".netviz-toolbar").count() == 0
    assert svg.locator("g.node").count() > 3


def test_zoom_and_pan(new_page, server):
    """The wheel, + and - zoom (the view box changes), 0 and the fit button restore it,
    a drag pans and a two-pointer pinch zooms."""
    page = new_page(server + "index.html")
    div, _ = diagram(page, "CNNModel")
    canvas = div.locator(".netviz-canvas")
    fitted = view_box(div)
    canvas.focus()
    box = rect(canvas)
    page.mouse.move(box["cx"], box["cy"])
    page.mouse.wheel(0, -300)
    zoomed = view_box(div)
    assert zoomed[2] < fitted[2] and zoomed[3] < fitted[3]
    page.keyboard.press("0")
    assert view_box(div) == fitted
    page.keyboard.press("+")
    assert view_box(div)[2] < fitted[2]
    div.locator("button.netviz-fit").click()
    assert view_box(div) == fitted
    canvas.focus()
    page.keyboard.press("-")
    assert view_box(div)[2] > fitted[2]
    page.keyboard.press("0")

    # drag: the view moves, its size does not
    page.keyboard.press("+")
    before = view_box(div)
    page.mouse.move(box["cx"], box["cy"])
    page.mouse.down()
    page.mouse.move(box["cx"] + 60, box["cy"] + 40, steps=5)
    page.mouse.up()
    after = view_box(div)
    assert after[2:] == before[2:]
    assert after[0] < before[0] and after[1] < before[1]

    # pinch: two touch pointers moving apart zoom in
    before = view_box(div)
    page.evaluate(
        """([x, y]) => {
            const canvas = document.activeElement.closest('.netviz-canvas')
                || document.querySelector('.netviz-canvas');
            const fire = (type, id, px) => canvas.dispatchEvent(new PointerEvent(type, {
                pointerId: id, pointerType: 'touch', isPrimary: id === 11, clientX: px, clientY: y,
                bubbles: true, cancelable: true}));
            fire('pointerdown', 11, x - 20); fire('pointerdown', 12, x + 20);
            for (let i = 1; i <= 5; i++) { fire('pointermove', 11, x - 20 - 12 * i); fire('pointermove', 12, x + 20 + 12 * i); }
            fire('pointerup', 11, x - 80); fire('pointerup', 12, x + 80);
        }""",
        [box["cx"], box["cy"]],
    )
    assert view_box(div)[2] < before[2] * 0.5


def test_wheel_scrolls_the_page_until_the_diagram_is_used(new_page, server):
    """A wheel over a diagram the reader has not clicked scrolls the page (with a hint);
    Ctrl + wheel zooms at once."""
    page = new_page(server + "index.html")
    div, _ = diagram(page, "SmallResNet")
    div.scroll_into_view_if_needed()
    fitted = view_box(div)
    box = rect(div.locator(".netviz-canvas"))
    page.mouse.move(box["cx"], box["cy"])
    page.mouse.wheel(0, -200)
    page.wait_for_timeout(100)
    assert view_box(div) == fitted
    assert div.locator(".netviz-hint").is_visible()
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Control")
    assert view_box(div)[2] < fitted[2]


def test_expand_and_collapse_by_click(new_page, index_url):
    """Clicking ResNet's collapsed ``layer1`` box swaps in the next depth's layout with
    ``layer1`` drawn open around its blocks; clicking the cluster's label folds it back."""
    page = new_page(index_url)
    div, data = diagram(page, "SmallResNet")
    assert data["depth"] == 1
    layer1 = call_id(data, "layer1")
    block = call_id(data, "layer1.0")
    assert data["calls"][layer1]["expandable"]
    box, cluster = element(div, data, f"n{layer1}"), element(div, data, f"c{layer1}")
    assert box.count() == 1 and cluster.count() == 0
    assert element(div, data, f"n{block}").count() == 0
    before = set(div.locator("svg g.node").evaluate_all("gs => gs.map(g => g.id)"))

    box.click()
    assert cluster.count() == 1 and box.count() == 0
    assert element(div, data, f"n{block}").count() + element(div, data, f"c{block}").count() == 1
    after = set(div.locator("svg g.node").evaluate_all("gs => gs.map(g => g.id)"))
    assert after - before, "no new boxes after expanding"
    label = cluster.locator("text").first
    label_box, svg_box = rects(label, div.locator(".netviz-canvas > svg"))
    assert inside(label_box, svg_box), "the opened cluster is not in view"
    assert div.locator("select.netviz-depth").input_value() == str(data["calls"][layer1]["depth"] + 1)

    label.click()
    assert box.count() == 1 and cluster.count() == 0
    box_box, svg_box = rects(box, div.locator(".netviz-canvas > svg"))
    assert inside(box_box, svg_box), "the folded box is not in view"
    assert div.locator("select.netviz-depth").input_value() == "1"


def test_expand_and_collapse_by_keyboard_and_controls(new_page, server):
    page = new_page(server + "index.html")
    div, data = diagram(page, "SmallResNet")
    layer2 = call_id(data, "layer2")
    box, cluster = element(div, data, f"n{layer2}"), element(div, data, f"c{layer2}")
    assert box.get_attribute("tabindex") == "0"
    assert "layer2" in box.get_attribute("aria-label")
    box.focus()
    page.keyboard.press("Enter")
    assert cluster.count() == 1
    assert page.evaluate("document.activeElement.id") == f"{data['prefix']}_c{layer2}"
    page.keyboard.press("Enter")
    assert box.count() == 1
    assert page.evaluate("document.activeElement.id") == f"{data['prefix']}_n{layer2}"

    select = div.locator("select.netviz-depth")
    counts = {}
    for depth in data["depths"]:
        select.select_option(str(depth))
        counts[depth] = div.locator("svg g.node").count()
        assert inside(*rects(div.locator("svg g.graph"), div.locator(".netviz-canvas > svg")))
    depths = sorted(counts)
    assert counts[depths[0]] < counts[depths[-1]]
    assert select.locator("option").last.text_content().lower().startswith("expand all")
    assert div.locator("button.netviz-expand").is_disabled()
    div.locator("button.netviz-collapse").click()
    assert select.input_value() == str(depths[-2])
    div.locator("button.netviz-expand").click()
    assert select.input_value() == str(depths[-1])


def test_search(new_page, server):
    """"Conv2d" highlights the convolutions; Enter moves to the next match;
    "layer2.0" opens the depth where that block is drawn and centres it."""
    page = new_page(server + "index.html")
    div, data = diagram(page, "CNNModel")
    search = div.locator("input.netviz-search")
    search.fill("Conv2d")
    search.press("Enter")
    matches = div.locator("svg .netviz-match")
    assert matches.count() >= 1
    status = div.locator(".netviz-status")
    assert re.match(r"1 of \d+", status.text_content())
    if matches.count() > 1:
        search.press("Enter")
        assert status.text_content().startswith("2 of")

    div, data = diagram(page, "SmallResNet")
    target = call_id(data, "layer2.0")
    assert element(div, data, f"n{target}").count() == 0  # not drawn at depth 1
    search = div.locator("input.netviz-search")
    search.fill("LAYER2.0")
    search.press("Enter")
    found = div.locator(f"[id='{data['prefix']}_n{target}'], [id='{data['prefix']}_c{target}']")
    assert found.count() == 1
    assert "netviz-match" in found.get_attribute("class")
    assert "netviz-current" in found.get_attribute("class")
    centre, svg_box = rects(found, div.locator(".netviz-canvas > svg"))
    assert abs(centre["cx"] - svg_box["cx"]) < 3 and abs(centre["cy"] - svg_box["cy"]) < 3
    search.fill("")
    search.press("Enter")
    assert div.locator("svg .netviz-match").count() == 0


def test_details_panel_on_hover_and_focus(new_page, index_url):
    page = new_page(index_url)
    div, data = diagram(page, "CNNModel")
    conv = call_id(data, "conv.0")
    call = data["calls"][conv]
    panel = div.locator(".netviz-panel")
    assert panel.is_hidden()
    element(div, data, f"n{conv}").hover()
    assert panel.is_visible()
    text = panel.text_content()
    for expected in (call["path"], call["class"], call["out"][0], call["in"][0]):
        assert expected in text
    if call.get("macs"):
        assert "MAC" in text
    if call.get("href"):
        assert panel.locator("a.netviz-class").get_attribute("href") == call["href"]
    assert inside(*rects(panel, div), slack=2)

    page.mouse.move(0, 0)
    panel.wait_for(state="hidden")
    linear = call_id(data, "ful_layer.0")
    element(div, data, f"n{linear}").focus()
    assert panel.is_visible()
    assert data["calls"][linear]["out"][0] in panel.text_content()


def test_full_screen(new_page, server):
    page = new_page(server + "index.html")
    div, _ = diagram(page, "SmallResNet")
    div.locator("button.netviz-fullscreen").click()
    page.wait_for_function(
        "d => document.fullscreenElement === d || d.classList.contains('netviz-fullscreen')",
        arg=div.element_handle())
    page.wait_for_timeout(200)
    height = rect(div.locator(".netviz-canvas > svg"))["h"]
    assert height > 0.6 * page.viewport_size["height"]
    assert div.locator("button.netviz-fullscreen").get_attribute("aria-pressed") == "true"
    div.locator("button.netviz-fullscreen").click()
    page.wait_for_function(
        "d => document.fullscreenElement !== d && !d.classList.contains('netviz-fullscreen')",
        arg=div.element_handle())


def test_theme_colours(new_page, server, output_dir):
    """Furo's dark switch (and its auto mode with a dark system setting, and PyData's
    html[data-theme]) turn the pastel fills dark and the text light."""
    page = new_page(server + "index.html")
    div, data = diagram(page, "CNNModel")
    conv_shape = element(div, data, f"n{call_id(data, 'conv.0')}").locator("path, polygon").first
    label = element(div, data, f"n{call_id(data, 'conv.0')}").locator("text").first
    light_fill, light_text = fill_of(conv_shape), fill_of(label)
    assert light_fill == "rgb(207, 227, 255)"  # #cfe3ff, as in dot.py
    div.scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "viewer-light.png"), full_page=False)

    page.evaluate("document.body.dataset.theme = 'dark'")
    dark_fill, dark_text = fill_of(conv_shape), fill_of(label)
    assert dark_fill != light_fill
    assert luminance(dark_fill) < 0.35 < luminance(dark_text)
    assert luminance(light_fill) > 0.65 > luminance(light_text)
    element(div, data, f"n{call_id(data, 'conv.0')}").hover()
    page.screenshot(path=str(output_dir / "viewer-dark.png"), full_page=False)

    page.evaluate("document.body.dataset.theme = 'auto'")
    page.emulate_media(color_scheme="dark")
    assert fill_of(conv_shape) == dark_fill
    page.emulate_media(color_scheme="light")
    assert fill_of(conv_shape) == light_fill
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    assert fill_of(conv_shape) == dark_fill


def test_hostile_names_are_text(new_page, server):
    """Class names ``<img src=x onerror=alert(1)>`` and ``"><svg onload=alert(3)>`` and
    hyper-parameters that open a ``<script>`` show as text in the boxes, the cluster label,
    the details panel, the search and the summary: no element is made, nothing runs."""
    page = new_page(server + "index.html")
    div, data = diagram(page, "HostileNet")
    block, evil = call_id(data, "block"), call_id(data, "block.evil")
    assert data["calls"][block]["class"] == HOSTILE_CONTAINER
    assert data["calls"][evil]["class"] == HOSTILE_CLASS
    panel = div.locator(".netviz-panel")
    element(div, data, f"n{block}").hover()
    assert HOSTILE_CONTAINER in panel.text_content()
    assert HOSTILE_CONTAINER in element(div, data, f"n{block}").text_content()
    assert HOSTILE_CONTAINER in element(div, data, f"n{block}").get_attribute("aria-label")

    element(div, data, f"n{block}").click()  # open: the class name is now a cluster label
    assert HOSTILE_CONTAINER in element(div, data, f"c{block}").locator("text").first.text_content()
    element(div, data, f"n{evil}").hover()
    assert HOSTILE_CLASS in panel.text_content()
    assert HOSTILE_HPARAMS in panel.text_content()
    search = div.locator("input.netviz-search")
    search.fill("<img")
    search.press("Enter")
    assert div.locator("svg .netviz-match").count() == 1

    summary = div.locator(".netviz-summary")
    summary.locator("summary").click()
    assert HOSTILE_CLASS in summary.text_content()
    page.wait_for_timeout(200)
    assert page.locator("div.netviz img").count() == 0
    assert page.locator("div.netviz svg svg").count() == 0
    assert page.locator("div.netviz script:not(.netviz-data)").count() == 0
    assert page.evaluate("document.querySelectorAll('[onerror], [onload]').length") == 0
