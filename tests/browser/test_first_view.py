"""Every diagram of the documentation is readable at first sight.

``docs/`` is built once per session (the ``docs_html`` fixture: a temporary folder, the session's diagram cache)
and each page with a diagram is opened in Chromium at 1300×1000, as a reader
would: on first paint, the median height of the labels drawn in each diagram's
visible canvas is at least 10 px (9.5 allowing for font rounding), and the
fit button then shows the whole drawing.
"""

from __future__ import annotations

import pytest

from .test_viewer import inside, label_heights, median, rects

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # it builds docs/

VIEWPORT = {"width": 1300, "height": 1000}
#: the smallest median label height, in CSS pixels (the viewer aims at 10)
READABLE = 9.5


def test_every_docs_diagram_opens_readable(new_page, docs_html):
    pages = sorted(p for p in docs_html.rglob("*.html")
                   if "_sources" not in p.parts and 'class="netviz-canvas"' in p.read_text(encoding="utf-8"))
    assert len(pages) >= 8, pages
    measured, unreadable = [], []
    for path in pages:
        page = new_page(path.as_uri(), viewport=VIEWPORT)
        divs = page.locator("div.netviz.netviz-js")
        assert divs.count() >= 1, f"{path}: no viewer"
        assert divs.count() == page.locator("div.netviz:not(.netviz-error)").count(), f"{path}: viewer not started"
        for i in range(divs.count()):
            div = divs.nth(i)
            name = f"{path.relative_to(docs_html)} #{i + 1} ({div.get_attribute('id')})"
            heights = label_heights(div)
            assert len(heights) >= 3, f"{name}: {len(heights)} labels in view"
            measured.append((name, heights[0], median(heights)))
            if median(heights) < READABLE:
                unreadable.append(f"{name}: median label {median(heights):.1f} px")
            # "fit all" is one click away
            div.locator("button.netviz-fit").click()
            svg = div.locator(".netviz-canvas > svg")
            assert inside(*rects(svg.locator("g.graph"), svg)), f"{name}: fit does not show it all"
    assert len(measured) >= 25, measured
    assert not unreadable, "labels too small on first paint:\n" + "\n".join(unreadable)
