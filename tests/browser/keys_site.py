"""A site for the keyboard and layer-link tests (test_keyboard.py, test_layer_links.py).

Its index draws three diagrams: the seed CNN (top to bottom, two clusters open at
first view), the LLaMA architecture at toy size (four identical decoder layers
folded into one ``layers.0 … layers.3 ×4`` box; attention drawn closed at first
view) and the tiny transformer left to right.
"""

from __future__ import annotations

import pytest

from .conftest import build_site, serve

INDEX = """\
Keys and links
==============

.. netviz:: example_models.cnn:CNNModel
   :input-shape: 16, 3, 512, 512
   :onnx: none

Some text between the diagrams.

.. netviz:: example_models.llama:tiny_llama
   :input-shape: 1, 16
   :input-dtype: int64
   :onnx: none

.. netviz:: example_models.transformer:TinyTransformer
   :input-shape: 2, 16
   :input-dtype: int64
   :direction: LR
   :onnx: none
"""


@pytest.fixture(scope="session")
def keys_site(tmp_path_factory, diagram_cache):
    return build_site(tmp_path_factory.mktemp("keys-site"), INDEX, cache=diagram_cache)


@pytest.fixture(scope="session")
def keys_server(keys_site):
    with serve(keys_site) as url:
        yield url


@pytest.fixture(params=["http", "file"])
def keys_url(request, keys_site, keys_server) -> str:
    """The index page, served over HTTP and opened as a file."""
    return keys_server + "index.html" if request.param == "http" else (keys_site / "index.html").as_uri()


def anchor_of(div) -> str:
    return div.get_attribute("data-netviz-anchor")


def active(page) -> dict:
    """The focused element: its id, classes and whether it is inside its canvas and the window."""
    return page.evaluate("""() => {
        const a = document.activeElement;
        // a cluster: its label, where it sits in the flow
        const r = (a.matches('g.cluster') && a.querySelector('text') || a).getBoundingClientRect();
        const canvas = a.closest('.netviz-canvas');
        const c = canvas ? canvas.getBoundingClientRect() : null;
        const inCanvas = !!c && r.left >= c.left - 1 && r.right <= c.right + 1 && r.top >= c.top - 1
            && r.bottom <= c.bottom + 1;
        const inWindow = r.top >= -1 && r.bottom <= window.innerHeight + 1 && r.left >= -1
            && r.right <= window.innerWidth + 1;
        return {id: a.id, classes: [...a.classList], inCanvas, inWindow,
                cx: r.left + r.width / 2, cy: r.top + r.height / 2, w: r.width, h: r.height,
                canvasCx: c ? c.left + c.width / 2 : null, canvasCy: c ? c.top + c.height / 2 : null};
    }""")
