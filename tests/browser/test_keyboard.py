"""The diagram from the keyboard (netviz.js): one tab stop per diagram, the arrow keys
along the drawing, Enter and Space, Esc, + - 0, Home and End, and a focus that is
always visible and in view.  The site: keys_site.py."""

from __future__ import annotations

import pytest

from .keys_site import active, keys_server, keys_site, keys_url  # noqa: F401 (fixtures)
from .test_viewer import call_id, diagram, element, rects, view_box

pytestmark = pytest.mark.browser


def local(data: dict, page) -> str:
    """The focused box's local id (n12, c3, in0) in the diagram of ``data``."""
    found = page.evaluate("document.activeElement.id")
    prefix = data["prefix"] + "_"
    assert found.startswith(prefix), f"focus is on {found!r}, not in the diagram"
    return found[len(prefix):]


def press(page, key: str, data: dict) -> str:
    page.keyboard.press(key)
    return local(data, page)


def test_one_tab_stop_per_diagram(new_page, keys_url):
    """Tab reaches each diagram once, at its input box; the next Tab leaves the drawing."""
    page = new_page(keys_url)
    divs = page.locator("div.netviz")
    for i in range(divs.count()):
        div = divs.nth(i)
        stops = div.locator(".netviz-canvas [tabindex='0'], .netviz-canvas[tabindex='0']")
        assert stops.count() == 1, "one box of the drawing is in the Tab order"
        assert div.locator(".netviz-canvas svg g.node[tabindex='-1']").count() > 3
    div, data = diagram(page, "CNNModel")
    div.locator("input.netviz-search").focus()
    for _ in range(6):  # past the toolbar's last controls
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.netviz-canvas') !== null"):
            break
    assert local(data, page) == "in0"
    page.keyboard.press("Tab")  # into the details panel's link
    assert page.evaluate("document.activeElement.matches('.netviz-panel a.netviz-permalink')")
    page.keyboard.press("Tab")  # and on, out of the drawing
    assert not page.evaluate("document.activeElement.closest('g.node, g.cluster, .netviz-panel')"), \
        "Tab stayed in the drawing"


def test_arrows_follow_the_flow_top_to_bottom(new_page, keys_url):
    """Down and Up go along the edges, stopping at a cluster's label on the way in (Down)
    and out (Up); Up comes back the way Down went."""
    page = new_page(keys_url)
    div, data = diagram(page, "CNNModel")
    conv, conv0, conv1 = (call_id(data, p) for p in ("conv", "conv.0", "conv.1"))
    element(div, data, "in0").focus()
    assert press(page, "ArrowDown", data) == f"c{conv}"
    assert press(page, "ArrowDown", data) == f"n{conv0}"
    assert press(page, "ArrowDown", data) == f"n{conv1}"
    assert press(page, "ArrowUp", data) == f"n{conv0}"
    assert press(page, "ArrowUp", data) == f"c{conv}"
    assert press(page, "ArrowUp", data) == "in0"
    assert press(page, "ArrowUp", data) == "in0", "nothing before the input"
    # all the way down: each box comes into view in the canvas and the window
    seen = []
    for _ in range(40):
        state = active(page)
        assert state["inCanvas"] and state["inWindow"], (seen, state)
        here = press(page, "ArrowDown", data)
        if seen and here == seen[-1]:
            break
        seen.append(here)
    assert seen[-1] == "out0", seen
    assert f"n{call_id(data, 'ful_layer.4')}" in seen


def test_left_and_right_stay_on_the_rank(new_page, keys_url):
    """LLaMA's query and key projections are side by side: Right and Left move between
    them, along their rank, and Right stops at its last box."""
    page = new_page(keys_url)
    div, data = diagram(page, "tiny_llama")
    q, k = (call_id(data, f"layers.0.self_attn.{p}_proj") for p in "qk")
    div.locator("select.netviz-depth").select_option(str(max(data["depths"])))
    element(div, data, f"n{q}").focus()
    order, ys, xs = [local(data, page)], [active(page)["cy"]], [active(page)["cx"]]
    for _ in range(6):
        order.append(press(page, "ArrowRight", data))
        ys.append(active(page)["cy"])
        xs.append(active(page)["cx"])
        if order[-1] == order[-2]:
            break
    assert order[:2] == [f"n{q}", f"n{k}"], order
    assert order[-1] == order[-2], "Right never stopped"
    assert max(ys) - min(ys) < 2, "Right left the rank"
    assert xs == sorted(xs), "Right went left"
    for _ in range(len(order) - 2):
        page.keyboard.press("ArrowLeft")
    assert local(data, page) == f"n{q}"


def test_arrows_follow_the_flow_left_to_right(new_page, keys_url):
    """In a left-to-right drawing the axes swap: Right and Left along the edges, Down
    and Up to the neighbours in the same column."""
    page = new_page(keys_url)
    div, data = diagram(page, "TinyTransformer")
    element(div, data, "in0").focus()
    x0 = active(page)["cx"]
    nxt = press(page, "ArrowRight", data)
    assert nxt != "in0" and active(page)["cx"] > x0
    assert press(page, "ArrowLeft", data) == "in0"
    # down from the input: another box in the same column, or nowhere
    below = press(page, "ArrowDown", data)
    state = active(page)
    assert below == "in0" or (abs(state["cx"] - x0) < state["w"] and state["cy"] > 0)


def test_enter_and_space_expand_and_fold(new_page, keys_url):
    page = new_page(keys_url)
    div, data = diagram(page, "CNNModel")
    conv = call_id(data, "conv")
    element(div, data, f"c{conv}").focus()
    assert press(page, " ", data) == f"n{conv}"
    assert element(div, data, f"c{conv}").count() == 0
    assert press(page, "Enter", data) == f"c{conv}"
    assert press(page, " ", data) == f"n{conv}"
    assert press(page, " ", data) == f"c{conv}"


def test_escape_closes_the_panel_and_gives_focus_back(new_page, keys_url):
    page = new_page(keys_url)
    div, data = diagram(page, "CNNModel")
    panel = div.locator(".netviz-panel")
    box = f"n{call_id(data, 'conv.0')}"
    element(div, data, box).focus()
    assert panel.is_visible()
    assert press(page, "Escape", data) == box
    assert panel.is_hidden()
    # Tab from the box into its panel (its links); Esc there: back to the box
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert panel.is_visible() and local(data, page) == box
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.netviz-panel') !== null")
    assert press(page, "Escape", data) == box
    assert panel.is_hidden()


def test_zoom_keys_keep_the_box_in_view(new_page, keys_url):
    page = new_page(keys_url)
    div, data = diagram(page, "tiny_llama")
    element(div, data, "in0").focus()
    width = view_box(div)[2]
    page.keyboard.press("+")
    assert view_box(div)[2] < width
    assert active(page)["inCanvas"]
    page.keyboard.press("+")
    page.keyboard.press("-")
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert view_box(div)[2] > width
    page.keyboard.press("0")
    drawing, canvas = rects(div.locator("svg g.graph"), div.locator(".netviz-canvas > svg"))
    assert drawing["w"] <= canvas["w"] + 1 and drawing["h"] <= canvas["h"] + 1
    assert local(data, page) == "in0"


def test_home_and_end(new_page, keys_url):
    page = new_page(keys_url)
    div, data = diagram(page, "tiny_llama")
    element(div, data, f"n{call_id(data, 'norm')}").focus()
    assert press(page, "End", data) == "out0"
    assert active(page)["inCanvas"] and active(page)["inWindow"]
    assert press(page, "Home", data) == "in0"
    assert active(page)["inCanvas"] and active(page)["inWindow"]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_focus_ring_is_visible(new_page, keys_url, dark):
    """A box focused from the keyboard has a ring in the palette's accent colour."""
    page = new_page(keys_url)
    if dark:
        page.emulate_media(color_scheme="dark")
        page.evaluate("document.body.dataset.theme = 'dark'")
    div, data = diagram(page, "CNNModel")
    element(div, data, "in0").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    ring = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineColor, parseFloat(s.outlineWidth)]; }""")
    accent = "rgb(108, 180, 255)" if dark else "rgb(10, 99, 201)"
    assert ring == ["solid", accent, 2.0]
