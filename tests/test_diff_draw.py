"""The merged drawing of an architecture diff (sphinx_netviz.merge, diffdraw, dot's marks), drawn with
Graphviz in this process from small torch models: SVG classes, dashed removed boxes where they were,
the legend, the viewer's data, hostile names."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest
import torch
from conftest import ROOTS
from torch import nn

from sphinx_netviz.diffdraw import draw_diff
from sphinx_netviz.palette import DIFF
from sphinx_netviz.snapshot import make_snapshot
from sphinx_netviz.spec import DiagramSpec
from sphinx_netviz.trace import trace_model

sys.path.insert(0, str(ROOTS / "test-diff"))
from diff_models import Net  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
BIGGER = {"kernel": 5, "blocks": 6, "classes": 10, "dropout": False}


def side(model: nn.Module) -> tuple[dict, object]:
    trace, _ = trace_model(model, (torch.zeros(2, 3, 8, 8),), {}, ["x"], type(model).__name__)
    return make_snapshot(trace), trace


def spec(**options: object) -> DiagramSpec:
    return DiagramSpec("diff_models:Net", input_shapes=((2, 3, 8, 8),), **options)  # type: ignore[arg-type]


def marked(svg: bytes) -> dict[str, list[str]]:
    """``{title: [classes]}`` of every box and cluster with a netviz- class."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        classes = (g.get("class") or "").split()
        kinds = [c for c in classes if c.startswith("netviz-")]
        if kinds:
            label = " ".join(" ".join((t.text or "").split()) for t in g.iter(f"{SVG}text"))
            out[label] = [classes[0], *kinds]
    return out


def test_a_grown_model(tmp_path) -> None:
    drawn = draw_diff(side(Net()), side(Net(**BIGGER)), spec(depth=3))
    svg = drawn.artifacts.svg
    marks = marked(svg)
    # the folded run: one cluster, changed (×4 → ×6); the conv and head boxes changed
    assert ["cluster", "netviz-changed"] in marks.values()
    assert any(t.startswith("conv Conv2d") and v == ["node", "netviz-changed"] for t, v in marks.items())
    assert any(t.startswith("head Linear") and v == ["node", "netviz-changed"] for t, v in marks.items())
    assert not any("netviz-removed" in v for v in marks.values())
    text = svg.decode()
    assert "Changes from the old model" in text  # the legend
    assert f'stroke="{DIFF["changed"]}"' in text
    assert "changed: kernel_size=(3, 3) → (5, 5); padding=(1, 1) → (2, 2); parameters 448 → 1,216" in text
    calls = drawn.artifacts.details["calls"]
    conv = next(c for c in calls.values() if c["path"] == "conv")
    assert conv["diff"] == {"kind": "changed", "what": ["kernel_size=(3, 3) → (5, 5)", "padding=(1, 1) → (2, 2)",
                                                        "parameters 448 → 1,216"]}
    # at depth 3 without folding, the two extra blocks are clusters marked added, their insides too
    unfolded = marked(draw_diff(side(Net()), side(Net(**BIGGER)), spec(depth=3, fold=False)).artifacts.svg)
    added = {t.split()[0] for t, v in unfolded.items() if "netviz-added" in v}
    assert {"blocks.4:", "blocks.5:", "blocks.4.fc", "blocks.5.act"} <= added


def test_a_shrunk_model_draws_removed_blocks_dashed_where_they_were() -> None:
    drawn = draw_diff(side(Net(**BIGGER)), side(Net()), spec(depth=3, fold=False))
    root = ET.fromstring(drawn.artifacts.svg)
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g")}
    removed = [g for g in groups.values() if "netviz-removed" in (g.get("class") or "").split()]
    titles = {" ".join(t.text or "" for t in g.iter(f"{SVG}text")).split()[0] for g in removed}
    assert {"blocks.4:", "blocks.5:", "blocks.4.fc", "blocks.5.act"} <= titles
    for g in removed:  # dashed, in the removed colour
        shape = next(e for e in g.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"))
        assert shape.get("stroke-dasharray") and shape.get("stroke") == DIFF["removed"]
    # where it was: an edge from blocks.3's last op into blocks.4.fc
    details = drawn.artifacts.details["calls"]
    fc4 = next(cid for cid, c in details.items() if c["path"] == "blocks.4.fc")
    prefix = drawn.artifacts.details["prefix"]
    edges = [g for g in groups.values() if (g.get("class") or "") == "edge"]
    into = [e.find(f"{SVG}title").text for e in edges if e.find(f"{SVG}title").text.endswith(f"->n{fc4}")]
    assert len(into) == 1
    source = into[0].split("->")[0]
    assert details[source[1:]]["link"].startswith("blocks.3.") or details[source[1:]]["path"] == "blocks.3"
    assert details[fc4]["diff"] == {"kind": "removed", "what": []}
    # the new model's boxes are not rewired to the removed ones: drop is fed by blocks.3's add
    assert prefix


def test_identical_is_the_plain_drawing() -> None:
    drawn = draw_diff(side(Net()), side(Net()), spec(depth=3))
    assert not drawn.diff.changed and drawn.merged is None
    assert marked(drawn.artifacts.svg) == {}
    assert b"Changes from the old model" not in drawn.artifacts.svg
    assert all("diff" not in c for c in drawn.artifacts.details["calls"].values())


class Hostile(nn.Module):
    def __init__(self, name: str, out: int):
        super().__init__()
        self.add_module(name, nn.Linear(4, out))
        self.name = name

    def forward(self, x):
        return getattr(self, self.name)(x)


@pytest.mark.parametrize("name", ['<img src=x onerror="alert(1)">', "a&b\\\"'</text>"])
def test_hostile_names_on_both_sides(name: str) -> None:
    def hostile_side(module_name: str, out: int) -> tuple[dict, object]:
        model = Hostile(module_name, out)
        trace, _ = trace_model(model, (torch.zeros(2, 4),), {}, ["x"], "Hostile<script>")
        return make_snapshot(trace), trace

    drawn = draw_diff(hostile_side(name, 3), hostile_side(name + "2", 5), spec(depth=2))
    root = ET.fromstring(drawn.artifacts.svg)  # well-formed
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] in ("img", "script", "foreignObject")]
    kinds = {c.path: c.kind for c in drawn.diff.changes}
    assert kinds[name] == "removed" and kinds[name + "2"] == "added"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert name in " ".join(filter(None, texts)) or name[:20] in " ".join(filter(None, texts))


def test_merged_artifacts_from_stored_snapshot_bytes_carry_the_changes() -> None:
    """What the directive's merge job does: two snapshots as stored (bytes), the merged drawing
    with the changes in its viewer data, read back for the Changes table; nothing traced."""
    from sphinx_netviz.archjob import changes_of, merged_artifacts, parse_snapshot
    from sphinx_netviz.snapshot import snapshot_json

    old, new = (parse_snapshot(snapshot_json(side(m)[0]).encode(), "a side")
                for m in (Net(), Net(**BIGGER)))
    artifacts, diff = merged_artifacts(old, new, spec(depth=2))
    assert b"netviz-changed" in artifacts.svg and artifacts.onnx is None
    found = changes_of(artifacts.details)
    assert found is not None and found[0].changes == diff.changes and found[1] == 7
    assert found[0].params_old == 1_621 and found[0].params_new == 3_018
    same, _ = merged_artifacts(old, old, spec(depth=2))
    assert changes_of(same.details)[0].changes == [] and b"netviz-changed" not in same.svg
    with pytest.raises(Exception, match="not JSON"):
        parse_snapshot(b"\xff", "the old side")
