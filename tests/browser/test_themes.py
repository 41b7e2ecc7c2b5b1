"""The viewer in the themes it must work with: Alabaster, Read the Docs, PyData and Furo.

One small site per theme (the seed CNN), opened from ``file://``: the diagram
fits the theme's content column, expands and collapses, and follows the
theme's own dark-mode switch where the theme has one (PyData, Furo); Alabaster
and Read the Docs have no dark mode and keep the light colours.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import build_themed_site
from .test_viewer import call_id, diagram, element, fill_of, luminance, rect

pytestmark = pytest.mark.browser

PAGE = """\
Theme test
==========

.. netviz:: example_models.cnn:CNNModel
   :input-shape: 16, 3, 512, 512
   :onnx: none
"""

#: theme -> JavaScript that switches it to dark mode (None: the theme has none)
THEMES = {
    "alabaster": None,
    "sphinx_rtd_theme": None,
    "pydata_sphinx_theme": "document.documentElement.dataset.theme = 'dark'",
    "furo": "document.body.dataset.theme = 'dark'",
}


@pytest.fixture(scope="module", params=list(THEMES))
def themed_site(request, tmp_path_factory, diagram_cache) -> tuple[str, Path]:
    theme = request.param
    html = build_themed_site(tmp_path_factory.mktemp(f"theme-{theme}"), theme, PAGE, diagram_cache)
    return theme, html / "index.html"


def test_viewer_in_theme(new_page, problems, themed_site, output_dir):
    theme, index = themed_site
    page = new_page(index.as_uri())
    div, data = diagram(page, "CNNModel")
    svg = div.locator(".netviz-canvas > svg")
    assert svg.is_visible()
    assert div.locator(".netviz-toolbar").is_visible()
    # fitted to the theme's content column, and not taller than the window
    column = rect(div.locator("xpath=.."))
    drawn = rect(svg)
    assert drawn["w"] <= column["w"] + 1 and drawn["h"] <= page.viewport_size["height"]

    conv = call_id(data, "conv")
    element(div, data, f"c{conv}").locator("text").first.click()  # fold the conv stage
    assert element(div, data, f"n{conv}").count() == 1
    element(div, data, f"n{conv}").click()  # and open it again
    assert element(div, data, f"c{conv}").count() == 1

    shape = element(div, data, f"n{call_id(data, 'conv.0')}").locator("path, polygon").first
    light = fill_of(shape)
    assert light == "rgb(207, 227, 255)"
    page.screenshot(path=str(output_dir / f"theme-{theme}-light.png"))
    # the reader's system asks for dark, and the theme's own switch is turned where it has one
    page.emulate_media(color_scheme="dark")
    switch = THEMES[theme]
    if switch is not None:
        page.evaluate(switch)
    # a theme without a dark mode keeps the light colours; one with it turns the boxes dark
    assert (fill_of(shape) == light) is (switch is None)
    assert (luminance(fill_of(shape)) < 0.35) is (switch is not None)
    page.screenshot(path=str(output_dir / f"theme-{theme}-dark.png"))
    # PyData's own script complains about its empty stored mode on a fresh file:// profile
    problems.errors[:] = [e for e in problems.errors
                          if not ("pydata-sphinx-theme.js" in e and "invalid theme mode" in e)]
