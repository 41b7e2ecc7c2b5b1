"""The merged drawing of an architecture diff in Chromium: the details panel of a marked box says
what it is in the diff and what changed, old → new (``calls[id].diff``), as text only.

The drawings are ``sphinx_netviz.diff(...).save("x.html")`` pages (the notebook viewer), opened
from ``file://``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import ROOTS

import sphinx_netviz

from .hostile_models import HOSTILE_CLASS, HOSTILE_HPARAMS, HostileLayer, HostileNet
from .test_viewer import call_id, element

pytestmark = pytest.mark.browser

sys.path.insert(0, str(ROOTS / "test-diff"))
from diff_models import Net  # noqa: E402

#: hyper-parameters of the new side's hostile layer: markup again, another one
HOSTILE_NEW_HPARAMS = "<b id=nv-owned onmouseover=alert(4)>bold</b>"


def _open(new_page, drawing: sphinx_netviz.Drawing, path: Path):
    drawing.save(path)
    page = new_page(path.as_uri(), viewport={"width": 1300, "height": 1000})
    div = page.locator("div.netviz")
    data = json.loads(div.locator("script.netviz-data").text_content())
    return page, div, data


def _panel_of(page, div, data: dict, local: str):
    page.mouse.move(0, 0)
    element(div, data, local).hover()
    panel = div.locator(".netviz-panel")
    panel.wait_for(state="visible")
    return panel


def test_the_panel_shows_old_to_new_for_each_marked_box(new_page, tmp_path: Path) -> None:
    drawing = sphinx_netviz.diff(Net(), Net(kernel=5, blocks=6, classes=10, dropout=False),
                                 input_shape=(2, 3, 8, 8), depth=3)
    page, div, data = _open(new_page, drawing, tmp_path / "diff.html")
    expected = {
        "conv": ("changed", ["kernel_size=(3, 3) → (5, 5)", "padding=(1, 1) → (2, 2)", "parameters 448 → 1,216"]),
        "head": ("changed", ["out_features=5 → 10", "parameters 85 → 170", "output 2×5 → 2×10"]),
        "drop": ("changed", ["class Dropout → Identity", "-p=0.1"]),
    }
    for path, (kind, lines) in expected.items():
        cid = call_id(data, path)
        assert data["calls"][cid]["diff"] == {"kind": kind, "what": lines}
        assert "netviz-changed" in element(div, data, f"n{cid}").get_attribute("class")
        panel = _panel_of(page, div, data, f"n{cid}")
        mark = panel.locator(f"div.netviz-panel-diff.netviz-{kind}")
        assert mark.count() == 1, path
        assert mark.locator("strong.netviz-diff-kind").text_content() == kind
        assert [li.text_content() for li in mark.locator("li").all()] == lines
        # the rest of the panel is the usual one: the path first
        assert panel.locator("strong.netviz-path").text_content() == path
    # a box that is not marked has no diff in its data nor in its panel
    pool = call_id(data, "pool")
    assert "diff" not in data["calls"][pool]
    panel = _panel_of(page, div, data, f"n{pool}")
    assert panel.is_visible() and panel.locator(".netviz-panel-diff").count() == 0


def test_added_removed_and_a_folded_run_that_grew(new_page, tmp_path: Path) -> None:
    # unfolded, depth 1: blocks.4 and blocks.5 are boxes of their own, added on one side...
    grown = sphinx_netviz.diff(Net(), Net(blocks=6), input_shape=(2, 3, 8, 8), depth=1, fold=False)
    page, div, data = _open(new_page, grown, tmp_path / "grown.html")
    added = call_id(data, "blocks.5")
    assert data["calls"][added]["diff"] == {"kind": "added", "what": []}
    panel = _panel_of(page, div, data, f"n{added}")
    assert panel.locator(".netviz-panel-diff.netviz-added .netviz-diff-kind").text_content() == \
        "added (only in the new model)"
    assert panel.locator(".netviz-panel-diff li").count() == 0
    # ... and removed (drawn dashed) on the other
    shrunk = sphinx_netviz.diff(Net(blocks=6), Net(), input_shape=(2, 3, 8, 8), depth=1, fold=False)
    page, div, data = _open(new_page, shrunk, tmp_path / "shrunk.html")
    removed = call_id(data, "blocks.4")
    assert "netviz-removed" in element(div, data, f"n{removed}").get_attribute("class")
    panel = _panel_of(page, div, data, f"n{removed}")
    assert panel.locator(".netviz-panel-diff.netviz-removed .netviz-diff-kind").text_content() == \
        "removed (only in the old model)"
    assert "272" in panel.text_content()  # the removed block's own details: its parameters
    # folded: the run is one box, changed ×4 → ×6
    folded = sphinx_netviz.diff(Net(), Net(blocks=6), input_shape=(2, 3, 8, 8), depth=1)
    page, div, data = _open(new_page, folded, tmp_path / "folded.html")
    run = call_id(data, "blocks.0")
    panel = _panel_of(page, div, data, f"n{run}")
    assert [li.text_content() for li in panel.locator(".netviz-panel-diff.netviz-changed li").all()] == ["×4 → ×6"]
    assert panel.locator(".netviz-repeat").text_content() == "×6"


def test_hostile_names_and_hyper_parameters_on_both_sides_stay_text(new_page, tmp_path: Path) -> None:
    old = HostileNet()
    new = HostileNet()
    new.block.evil = type(HOSTILE_CLASS, (HostileLayer,), {"extra_repr": lambda self: HOSTILE_NEW_HPARAMS})()
    drawing = sphinx_netviz.diff(old, new, input_shape=(1, 3, 6, 6), depth=3)
    assert [(c.path, c.kind) for c in drawing.changes] == [("block.evil", "changed")]  # its class's module too
    page, div, data = _open(new_page, drawing, tmp_path / "hostile.html")
    evil = call_id(data, "block.evil")
    panel = _panel_of(page, div, data, f"n{evil}")
    lines = [li.text_content() for li in panel.locator(".netviz-panel-diff li").all()]
    assert lines[-1] == f"arg 1: {HOSTILE_HPARAMS} → {HOSTILE_NEW_HPARAMS}"
    assert HOSTILE_CLASS in lines[0]
    assert HOSTILE_CLASS in panel.text_content()
    assert page.locator("#nv-owned").count() == 0
    assert panel.locator("script, img, b, svg").count() == 0
    # closed at depth 1, the hostile container is a box over a change: "changes inside"
    page, div, data = _open(new_page, sphinx_netviz.diff(old, new, input_shape=(1, 3, 6, 6), depth=1),
                            tmp_path / "hostile-closed.html")
    block = call_id(data, "block")
    assert "diff" not in data["calls"][block]
    assert "netviz-changed" in element(div, data, f"n{block}").get_attribute("class")
    panel = _panel_of(page, div, data, f"n{block}")
    assert panel.locator(".netviz-panel-diff.netviz-changed li").text_content() == "changes inside"
