"""A misspelt directive option is a located netviz.input warning that names the option it
probably meant, in reStructuredText and in MyST, and the diagram is still drawn."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import soup_of


def test_a_misspelt_option_names_the_one_meant_and_the_diagram_is_drawn(build):
    app = build("hints")
    text = app.warning.getvalue()
    found = re.findall(r"(index\.rst|page\.md):(\d+): WARNING: hint_models:TwoLayers: (.*?) \[netviz\.input\]", text)
    by_place = {(page, int(line)): message for page, line, message in found}
    assert set(by_place) == {("index.rst", 8), ("index.rst", 13), ("page.md", 3)}, text
    assert ":depht: is not an option of netviz (ignored); did you mean :depth:?" in by_place[("index.rst", 8)]
    assert by_place[("page.md", 3)] == by_place[("index.rst", 8)]
    assert "did you mean :color-by:?" in by_place[("index.rst", 13)]
    # no bare docutils/MyST error besides ours
    assert "unknown option" not in text.lower() and "Unknown option key" not in text
    for page, count in (("index.html", 2), ("page.html", 1)):
        html = soup_of(Path(app.outdir) / page)
        drawn = html.select("div.netviz:not(.netviz-error)")
        assert len(drawn) == count and all(d.select_one("svg g.node") for d in drawn), page
