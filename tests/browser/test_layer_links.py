"""Layer links in the page (netviz.js): ``page.html#<anchor>/<link>`` opened in a fresh
page shows that box — at the depth that draws it, centred, highlighted, focused, inside
its canvas and the window — also inside a cluster closed at first view and inside a
folded ×N run; the details panel's permalink round-trips; a link followed in the page
(hashchange) moves there.  The site: keys_site.py."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .keys_site import active, anchor_of, keys_server, keys_site, keys_url  # noqa: F401 (fixtures)
from .test_viewer import call_id, diagram, element

pytestmark = pytest.mark.browser


def opened(new_page, url: str, model: str, link: str):
    """A fresh page at ``url#<anchor of model>/<link>``: the page, the diagram and its data."""
    page = new_page(url)
    div, data = diagram(page, model)
    fragment = f"#{quote(anchor_of(div), safe='')}/{quote(link, safe='')}"
    page = new_page(url + fragment)
    div, data = diagram(page, model)
    return page, div, data


def assert_shown(page, data: dict, local: str) -> None:
    state = active(page)
    assert state["id"] == f"{data['prefix']}_{local}", state
    assert "netviz-target" in state["classes"]
    assert state["inCanvas"] and state["inWindow"], state
    # centred in its canvas (a drawing's edge may keep it off the middle: a few pixels)
    assert abs(state["cx"] - state["canvasCx"]) < 40 and abs(state["cy"] - state["canvasCy"]) < 40, state


def test_a_module_inside_a_folded_run_and_a_closed_cluster(new_page, keys_url):
    """layers.2.self_attn.q_proj: the third of four folded decoder layers, inside the
    attention module that is closed at first view; its box is the first layer's."""
    page, div, data = opened(new_page, keys_url, "tiny_llama", "layers.2.self_attn.q_proj")
    q = call_id(data, "layers.0.self_attn.q_proj")
    assert element(div, data, f"n{q}").count() == 1
    assert_shown(page, data, f"n{q}")
    assert data["depth"] < max(data["depths"])  # not drawn at first view: the viewer went deeper
    assert div.locator("select.netviz-depth").input_value() == str(data["calls"][q]["depth"])


def test_a_folded_run_and_a_member(new_page, keys_url):
    page, div, data = opened(new_page, keys_url, "tiny_llama", "layers.3")
    run = call_id(data, "layers.0")
    assert data["calls"][run]["repeat"] == 4
    assert_shown(page, data, f"n{run}")
    assert div.locator("select.netviz-depth").input_value() == str(data["depth"])  # drawn at first view


def test_a_box_of_a_tall_diagram_far_down_the_page(new_page, keys_url):
    page, div, data = opened(new_page, keys_url, "CNNModel", "ful_layer.3")
    assert_shown(page, data, f"n{call_id(data, 'ful_layer.3')}")
    page, div, data = opened(new_page, keys_url, "TinyTransformer", "output-1")
    assert_shown(page, data, "out0")


def test_the_permalink_round_trips(new_page, keys_url):
    """The details panel of a focused box links to it, and follows the focus from box to box;
    each link, opened in a fresh page, focuses the same box."""
    page = new_page(keys_url)
    div, data = diagram(page, "tiny_llama")
    for path, local in (("layers.0.self_attn.q_proj", None), ("norm", None), ("", "in0")):
        if local is None:
            key = call_id(data, path)
            depth = min(d for d in data["depths"] if d >= data["calls"][key]["depth"])
            div.locator("select.netviz-depth").select_option(str(depth))
            local = f"n{key}"
        element(div, data, local).focus()
        link = div.locator(".netviz-panel a.netviz-permalink")
        href = link.get_attribute("href")
        expected = "input-1" if local == "in0" else data["calls"][local[1:]]["link"]
        assert href == f"#{quote(anchor_of(div), safe='')}/{quote(expected, safe='')}"
        fresh = new_page(keys_url + href)
        div2, data2 = diagram(fresh, "tiny_llama")
        assert_shown(fresh, data2, local)


def test_a_link_followed_in_the_page(new_page, keys_url):
    """A change of fragment (a link in the prose, the panel's permalink) moves to the box."""
    page = new_page(keys_url)
    div, data = diagram(page, "CNNModel")
    anchor = anchor_of(div)
    page.evaluate("a => { location.hash = a; }", f"#{anchor}/conv.4")
    page.wait_for_function("id => document.activeElement && document.activeElement.id === id",
                           arg=f"{data['prefix']}_n{call_id(data, 'conv.4')}")
    assert_shown(page, data, f"n{call_id(data, 'conv.4')}")
    # the permalink of another box, clicked
    element(div, data, "in0").focus()
    div.locator(".netviz-panel a.netviz-permalink").click()
    page.wait_for_function("id => document.activeElement && document.activeElement.id === id",
                           arg=f"{data['prefix']}_in0")
    assert_shown(page, data, "in0")
    assert page.locator(".netviz-target").count() == 1
