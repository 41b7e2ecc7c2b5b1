"""The diagram viewer (netviz.js, netviz.css) in headless Chromium.

One small Furo site is built per session with three diagrams — the seed CNN
(depth 2), a small ResNet (depth 1) and a model with an HTML-like class name
(depth 1) — and a page with one diagram twice, and opened from a local HTTP
server and from ``file://``.  Every
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
                // by its anchor: a named diagram's id is on its figure, not on the div
                if (script && JSON.parse(script.textContent).model === model) return div.dataset.netvizAnchor;
            }
            return null;
        }""",
        model,
    )
    assert found, f"no diagram of {model} in the page"
    div = page.locator(f"div.netviz[data-netviz-anchor='{found}']")
    return div, json.loads(div.locator("script.netviz-data").text_content())


def call_id(data: dict, path: str) -> str:
    ids = [k for k, c in data["calls"].items() if c["path"] == path]
    assert ids, f"no call with path {path!r} in {sorted(c['path'] for c in data['calls'].values())}"
    return ids[0]


def element(div, data: dict, local: str):
    return div.locator(f"[id='{data['prefix']}_{local}']")


def next_frame(page) -> None:
    """Wait for an animation frame: the viewer writes a drag's or the wheel's view box then."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => done()))")


def view_box(div) -> list[float]:
    next_frame(div.page)
    return [float(v) for v in div.locator(".netviz-canvas > svg").get_attribute("viewBox").split()]


#: the heights of the SVG's labels drawn inside the visible canvas, in CSS pixels
LABEL_HEIGHTS = """div => {
    const canvas = div.querySelector('.netviz-canvas').getBoundingClientRect();
    const heights = [];
    for (const text of div.querySelectorAll('.netviz-canvas svg text')) {
        const r = text.getBoundingClientRect();
        if (r.width <= 0 || r.height <= 0 || r.right < canvas.left || r.left > canvas.right
            || r.bottom < canvas.top || r.top > canvas.bottom) continue;
        heights.push(r.height);
    }
    return heights.sort((a, b) => a - b);
}"""


def label_heights(div) -> list[float]:
    next_frame(div.page)
    return div.evaluate(LABEL_HEIGHTS)


def median(values: list[float]) -> float:
    assert values, "no label in view"
    return values[(len(values) - 1) // 2]


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

def test_diagrams_open_readable(new_page, index_url):
    """Each SVG is visible, no wider than the content column and no taller than the
    window, with its labels at least 10 px tall; the small drawings are whole; the
    toolbar is there."""
    page = new_page(index_url)
    viewport = page.viewport_size
    divs = page.locator("div.netviz")
    assert divs.count() == 3
    for i in range(3):
        div = divs.nth(i)
        svg = div.locator(".netviz-canvas > svg")
        assert svg.is_visible()
        box, column = rects(svg, div.locator("xpath=.."))
        assert 0 < box["w"] <= column["w"] + 1
        assert 0 < box["h"] <= viewport["height"]
        assert median(label_heights(div)) >= 9.5
        assert div.locator(".netviz-toolbar button").count() >= 6
        assert div.locator(".netviz-toolbar input[type=search]").count() == 1
    for model in ("SmallResNet", "HostileNet"):
        div, _ = diagram(page, model)
        assert inside(*rects(div.locator("svg g.graph"), div.locator(".netviz-canvas > svg")))


def test_a_tall_diagram_opens_at_its_start_and_fits_in_one_click(new_page, server):
    """The CNN is 1,200 points tall: it opens in a canvas at most 90 % of the window
    tall, at the top of the drawing (its input in view), readable; the fit button shows
    all of it (and its labels are then too small to read)."""
    page = new_page(server + "index.html")
    viewport = page.viewport_size
    div, data = diagram(page, "CNNModel")
    svg = div.locator(".netviz-canvas > svg")
    svg_box, graph, first_box = rects(svg, svg.locator("g.graph"), element(div, data, "in0"))
    assert svg_box["h"] <= 0.9 * viewport["height"] + 1
    assert not inside(graph, svg_box)
    assert inside(first_box, svg_box)
    assert first_box["y"] - svg_box["y"] < 30  # the input is the first thing drawn
    assert median(label_heights(div)) >= 9.5

    div.locator("button.netviz-fit").click()
    assert inside(*rects(svg.locator("g.graph"), svg))
    assert median(label_heights(div)) < 9


def test_canvas_height_from_data_attribute(new_page, server):
    """``data-netviz-height`` on the div.netviz bounds its canvas (a CSS length, or pixels)."""
    page = new_page(server + "index.html")
    div, _ = diagram(page, "CNNModel")
    svg = div.locator(".netviz-canvas > svg")
    assert rect(svg)["h"] > 500
    for value, expected in (("300", 300), ("250px", 250), ("40vh", 0.4 * page.viewport_size["height"])):
        div.evaluate("(d, v) => { sphinxNetviz.dispose(); d.setAttribute('data-netviz-height', v); "
                     "sphinxNetviz.init(); }", value)
        assert abs(rect(svg)["h"] - expected) <= 1, value
        assert median(label_heights(div)) >= 9.5


def test_static_diagram_without_javascript(new_page, server):
    page = new_page(server + "index.html", java_script_enabled=False)
    svg = page.locator("div.netviz .netviz-canvas > svg").first
    assert svg.is_visible()
    assert page.locator(".netviz-toolbar").count() == 0
    assert svg.locator("g.node").count() > 3


def test_zoom_and_pan(new_page, server):
    """The wheel, + and - zoom (the view box changes), 0 and the fit button show all of
    it, a drag pans and a two-pointer pinch zooms."""
    page = new_page(server + "index.html")
    div, _ = diagram(page, "CNNModel")
    canvas = div.locator(".netviz-canvas")
    first = view_box(div)
    canvas.focus()
    box = rect(canvas)
    page.mouse.move(box["cx"], box["cy"])
    page.mouse.wheel(0, -300)
    zoomed = view_box(div)
    assert zoomed[2] < first[2] and zoomed[3] < first[3]
    page.keyboard.press("0")
    fitted = view_box(div)
    assert fitted[2] > first[2] and fitted[3] > first[3]
    assert inside(*rects(div.locator("svg g.graph"), div.locator(".netviz-canvas > svg")))
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
    assert box.get_attribute("tabindex") in ("0", "-1")  # focusable; one box per diagram is a tab stop
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
        assert median(label_heights(div)) >= 9.5  # each depth opens readable
        div.locator("button.netviz-fit").click()
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
    from playwright.sync_api import expect  # the browser fixtures skip (or fail in CI) without Playwright

    page = new_page(server + "index.html")
    div, data = diagram(page, "CNNModel")
    search = div.locator("input.netviz-search")
    search.fill("Conv2d")
    search.press("Enter")
    matches = div.locator("svg .netviz-match")
    assert matches.count() >= 1
    status = div.locator(".netviz-status")
    # the status is written as the search runs: waited for (a loaded machine is slow to paint it)
    expect(status).to_have_text(re.compile(r"^1 of \d+"))
    assert matches.count() >= 2  # the seed CNN has several convolutions
    search.press("Enter")
    expect(status).to_have_text(re.compile(r"^2 of"))

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
    assert call["macs"] and "MAC" in text
    # the class links to its documentation (the site's intersphinx inventory for torch)
    assert call["href"].endswith("torch.nn.Conv2d.html#torch.nn.Conv2d"), call
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


def test_full_screen_changes_only_its_own_diagram(new_page, server):
    """One diagram going full screen (and back) leaves the view of the others alone."""
    page = new_page(server + "index.html")
    cnn, _ = diagram(page, "CNNModel")
    resnet, _ = diagram(page, "SmallResNet")
    cnn.locator(".netviz-canvas").focus()
    page.keyboard.press("+")
    page.keyboard.press("ArrowDown")
    zoomed = view_box(cnn)
    resnet.locator("button.netviz-fullscreen").click()
    page.wait_for_function("d => document.fullscreenElement === d", arg=resnet.element_handle())
    page.wait_for_timeout(200)
    assert view_box(cnn) == zoomed
    assert cnn.locator("button.netviz-fullscreen").get_attribute("aria-pressed") != "true"
    resnet.locator("button.netviz-fullscreen").click()
    page.wait_for_function("() => !document.fullscreenElement")
    page.wait_for_timeout(200)
    assert view_box(cnn) == zoomed
    assert resnet.locator("button.netviz-fullscreen").get_attribute("aria-pressed") == "false"


def test_a_drag_writes_the_view_box_once_per_frame(new_page, server):
    """Twenty pointer moves in one frame write the view box once (and the pan is all of
    them); releasing the pointer writes the last of it at once."""
    page = new_page(server + "index.html")
    div, _ = diagram(page, "CNNModel")
    before = view_box(div)
    writes, during, after = div.evaluate(
        """async div => {
            const canvas = div.querySelector('.netviz-canvas'), svg = canvas.querySelector('svg');
            const writes = [];
            const observer = new MutationObserver(records => { for (const r of records) writes.push(r); });
            observer.observe(svg, {attributes: true, attributeFilter: ['viewBox']});
            const box = canvas.getBoundingClientRect(), x = box.x + box.width / 2, y = box.y + box.height / 2;
            const fire = (type, dx, dy) => canvas.dispatchEvent(new PointerEvent(type, {
                pointerId: 7, pointerType: 'mouse', isPrimary: true, button: 0, buttons: 1,
                clientX: x + dx, clientY: y + dy, bubbles: true, cancelable: true}));
            fire('pointerdown', 0, 0);
            for (let i = 1; i <= 20; i++) fire('pointermove', -3 * i, -2 * i);
            await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
            observer.takeRecords().forEach(r => writes.push(r));
            const during = svg.getAttribute('viewBox');
            fire('pointermove', -63, -42);
            fire('pointerup', -63, -42);
            observer.takeRecords().forEach(r => writes.push(r));
            observer.disconnect();
            return [writes.length, during, svg.getAttribute('viewBox')];
        }""")
    assert writes == 2, f"{writes} view box writes for 21 moves"
    during, after = ([float(v) for v in vb.split()] for vb in (during, after))
    scale = rect(div.locator(".netviz-canvas > svg"))["w"] / before[2]
    # the drag moved the drawing 60 px left and 40 up, then 3 and 2 more
    assert during[0] - before[0] == pytest.approx(60 / scale, abs=0.05)
    assert during[1] - before[1] == pytest.approx(40 / scale, abs=0.05)
    assert after[0] - before[0] == pytest.approx(63 / scale, abs=0.05)
    assert after[2:] == before[2:]


def test_a_drag_ends_when_the_canvas_loses_the_pointer(new_page, server):
    """A drag whose pointer capture is taken away (lostpointercapture) ends: moving on does
    not pan, and the next press is a new drag, not a pinch."""
    page = new_page(server + "index.html")
    div, _ = diagram(page, "CNNModel")
    canvas = div.locator(".netviz-canvas")
    box = rect(canvas)
    canvas.evaluate("c => c.addEventListener('pointerdown', e => { window.lastPointer = e.pointerId; })")
    page.mouse.move(box["cx"], box["cy"])
    page.mouse.down()
    page.mouse.move(box["cx"] + 40, box["cy"] + 30, steps=4)
    assert "netviz-dragging" in canvas.get_attribute("class")
    dragged = view_box(div)
    canvas.evaluate("c => c.releasePointerCapture(window.lastPointer)")
    page.mouse.move(box["cx"] + 80, box["cy"] + 60, steps=4)
    assert view_box(div) == dragged
    assert "netviz-dragging" not in canvas.get_attribute("class")
    page.mouse.up()
    page.mouse.down()
    page.mouse.move(box["cx"] + 20, box["cy"] + 60, steps=4)
    page.mouse.up()
    moved = view_box(div)
    assert moved[2:] == dragged[2:]  # panned, not zoomed as by a pinch
    assert moved[0] > dragged[0]


def test_the_same_diagram_twice_on_a_page(new_page, server):
    """Two drawings of one diagram have distinct element ids, and each viewer acts on its own."""
    page = new_page(server + "twice.html")
    duplicates = page.evaluate("""() => {
        const seen = new Map();
        for (const e of document.querySelectorAll('[id]')) seen.set(e.id, (seen.get(e.id) || 0) + 1);
        return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    }""")
    assert duplicates == []
    divs = page.locator("div.netviz")
    assert divs.count() == 2
    first, second = divs.nth(0), divs.nth(1)
    data = [json.loads(d.locator("script.netviz-data").text_content()) for d in (first, second)]
    assert data[1]["prefix"] == data[0]["prefix"] + "-2"
    assert data[0]["calls"] == data[1]["calls"]
    layer1 = call_id(data[1], "layer1")
    element(second, data[1], f"n{layer1}").click()
    assert element(second, data[1], f"c{layer1}").count() == 1
    assert element(first, data[0], f"n{layer1}").count() == 1  # the first stays folded
    assert second.locator("select.netviz-depth").input_value() != first.locator("select.netviz-depth").input_value()
    search = first.locator("input.netviz-search")
    search.fill("layer2")
    search.press("Enter")
    assert first.locator("svg .netviz-match").count() >= 1
    assert second.locator("svg .netviz-match").count() == 0
    element(second, data[1], f"c{layer1}").locator("text").first.click()
    assert element(second, data[1], f"n{layer1}").count() == 1


def test_dispose_and_start_again(new_page, server):
    """``sphinxNetviz.dispose()`` takes the viewers down (no controls, no reaction to keys,
    the static drawing whole and at its default depth); ``init()`` starts them again."""
    page = new_page(server + "index.html")
    div, data = diagram(page, "SmallResNet")
    layer1 = call_id(data, "layer1")
    element(div, data, f"n{layer1}").click()  # another depth is showing
    page.evaluate("sphinxNetviz.dispose()")
    assert page.locator(".netviz-toolbar, .netviz-panel, .netviz-hint").count() == 0
    assert page.locator("div.netviz.netviz-js").count() == 0
    assert page.evaluate("[...document.querySelectorAll('div.netviz')].every(d => !d.netvizViewer)")
    assert element(div, data, f"n{layer1}").count() == 1  # the default depth again
    svg = div.locator(".netviz-canvas > svg")
    assert inside(*rects(svg.locator("g.graph"), svg))
    static = view_box(div)
    svg.evaluate("s => s.dispatchEvent(new KeyboardEvent('keydown', {key: '+', bubbles: true}))")
    svg.dispatch_event("wheel", {"deltaY": -300, "ctrlKey": True})
    assert view_box(div) == static

    page.evaluate("sphinxNetviz.init()")
    assert div.locator(".netviz-toolbar").count() == 1
    assert page.locator(".netviz-toolbar").count() == 3
    # the input box's details (from its native tooltip) survive the restart
    element(div, data, "in0").hover()
    assert div.locator(".netviz-panel").is_visible()
    assert "input" in div.locator(".netviz-panel").text_content()
    element(div, data, f"n{layer1}").click()
    assert element(div, data, f"c{layer1}").count() == 1
