"""The ``:netviz-layer:`` role's links, followed in Chromium, do what a layer's URL does: the
page opens at the diagram, at a depth that draws the box (inside a folded ×N run and a cluster
closed at first view too), the box centred, highlighted and focused — from another page, and
from prose on the diagram's own page (a hashchange)."""

from __future__ import annotations

import pytest

from .conftest import build_site, serve
from .keys_site import active
from .test_viewer import call_id, diagram

pytestmark = pytest.mark.browser

INDEX = """\
Layer links in prose
====================

.. toctree::

   other

The attention of the third decoder layer starts with
:netviz-layer:`its query projection <llama:layers.2.self_attn.q_proj>`.

.. netviz:: example_models.llama:tiny_llama
   :input-shape: 1, 16
   :input-dtype: int64
   :onnx: none
   :name: llama
   :caption: A LLaMA-style decoder at toy size.
"""

OTHER = """\
Another page
============

The final norm of the decoder is :netviz-layer:`llama:norm`; its last block is
:netviz-layer:`the fourth layer <llama:layers.3>`.
"""


@pytest.fixture(scope="module")
def role_url(tmp_path_factory, diagram_cache):
    html = build_site(tmp_path_factory.mktemp("role-site"), INDEX, {"other": OTHER}, cache=diagram_cache)
    with serve(html) as url:
        yield url


def _followed(page, text: str) -> None:
    link = page.get_by_role("link", name=text)
    assert link.count() == 1, text
    link.click()
    page.wait_for_function("() => document.activeElement && document.activeElement.matches('g.node')")


def _assert_focused_box(page, path: str) -> None:
    div, data = diagram(page, "tiny_llama")
    state = active(page)
    assert state["id"] == f"{data['prefix']}_n{call_id(data, path)}", (path, state)
    assert "netviz-target" in state["classes"]
    assert state["inCanvas"] and state["inWindow"], state


def test_a_role_link_from_another_page_opens_the_layer(new_page, role_url):
    page = new_page(role_url + "other.html")
    _followed(page, "the fourth layer")
    assert page.url.endswith("index.html#llama/layers.3")
    _assert_focused_box(page, "layers.0")  # the folded run layers.0 … layers.3 ×4 stands for it
    page = new_page(role_url + "other.html")
    _followed(page, "norm")
    _assert_focused_box(page, "norm")


def test_a_role_link_on_the_diagrams_page_moves_to_the_layer(new_page, role_url):
    page = new_page(role_url + "index.html")
    _followed(page, "its query projection")
    # inside the first layer's attention, closed at first view: the viewer went deeper
    _assert_focused_box(page, "layers.0.self_attn.q_proj")
