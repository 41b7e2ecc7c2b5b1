"""benchmarks/layout_engines.py: what it reads from an SVG, how it compares two layouts, its report.

Fast: two tiny hand-written SVGs and a synthetic run record; no Graphviz, no docs build.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import layout_engines as le  # noqa: E402


def _svg(x_b: float, width_b: float, text: str = "Linear") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg width="200pt" height="100pt" viewBox="0 0 200 100" xmlns="http://www.w3.org/2000/svg">
<g id="graph0" class="graph">
<g id="clust1" class="cluster"><title>cluster_x</title><polygon points="0,0 10,0 10,10 0,10"/></g>
<g id="a" class="node nv-io"><title>a</title>
<polygon points="0,-40 40,-40 40,-20 0,-20 0,-40"/>
<text text-anchor="middle" x="20" y="-28" font-family="Arial" font-size="11.00">in</text></g>
<g id="b" class="node nv-linear"><title>b</title>
<path d="M{x_b},-10C{x_b},-10 {x_b + width_b},-10 {x_b + width_b},-10 {x_b + width_b},10 {x_b},10"/>
<text text-anchor="start" x="{x_b + 2}" y="0" font-family="Arial" font-size="11.00">{text}</text></g>
<g id="e" class="edge"><title>a&#45;&gt;b</title><path d="M20,-20C20,-15 20,-12 20,-10"/></g>
</g></svg>""".encode()


def _width(text: str, size: float, bold: bool) -> float:
    return 0.5 * size * len(text)  # every character half an em


def test_geometry_reads_nodes_edges_clusters_and_text_fit() -> None:
    g = le.geometry(_svg(0, 40), _width)
    assert (g["nodes"], g["edges"], g["clusters"]) == (2, 1, 1)
    assert (g["width_pt"], g["height_pt"]) == (200.0, 100.0)
    assert g["layout"]["a"] == [20.0, -30.0, 40.0, 20.0]
    assert g["layout"]["b"] == [20.0, 0.0, 40.0, 20.0]
    assert g["overflow_nodes"] == 0  # "Linear": 33 pt from x=2, inside 40
    tight = le.geometry(_svg(0, 30), _width)
    assert tight["overflow_nodes"] == 1 and tight["overflow_max_pt"] == pytest.approx(5.0)


def test_compare_two_layouts() -> None:
    a = le.geometry(_svg(0, 40), _width)
    b = le.geometry(_svg(3, 41), _width)
    c = le.compare(a, b, "TB")
    assert c["same_nodes"] and c["same_counts"]
    assert c["size_max_pt"] == pytest.approx(1.0) and c["size_differ"] == 1
    assert c["moved_max_pt"] == pytest.approx(3.5) and c["moved_over_1pt"] == 1
    assert c["same_rank"] == c["same_place"] == c["compared"] == 2
    ref = le.against_reference(a, b)
    assert ref["narrower_2pt"] == 0 and ref["width_ratio_min"] == pytest.approx(1.0)


def test_with_font_replaces_every_fontname() -> None:
    source = 'digraph { graph [fontname="Helvetica,Arial,sans-serif"] node [fontname=Arial] a }'
    assert le.with_font(source, "Arimo").count('fontname="Arimo"') == 2


def _record() -> dict:
    fonts = ["Arial", "Helvetica,Arial,sans-serif"]

    def run(ok: bool, cpu: float, overflow: int, stderr: list[int]) -> dict:
        out = {"ok": ok, "wall_s": [cpu * 2], "cpu_s": [cpu], "stderr": stderr}
        if ok:
            out.update(nodes=3, edges=2, clusters=1, width_pt=100.0, height_pt=50.0,
                       overflow_nodes=overflow, overflow_max_pt=1.5 * overflow)
        else:
            out["error"] = "Error: trouble in init_rank"
        return out

    def source(name: str, ok: bool = True) -> dict:
        runs = {f: {"dot": run(ok, 0.4, 0, []), "pure": run(ok, 0.2, 1 if f == fonts[0] else 3, [0] + [1] * (f != fonts[0]))}
                for f in fonts}
        cmp = {"same_nodes": True, "same_counts": True, "size_max_pt": 2.0, "size_differ": 1, "moved_max_pt": 9.0,
               "moved_median_pt": 4.0, "moved_over_1pt": 2, "same_rank": 3, "same_place": 2, "compared": 3}
        ref = {"width_ratio_min": 0.95, "width_ratio_median": 0.99, "narrower_2pt": 1, "wider_2pt": 0, "boxes": 3}
        return {"sha": name, "bytes": 100, "graph": name, "page": "gallery/x", "direction": "TB", "boxes": 3,
                "runs": runs, "compare": {f: cmp for f in fonts} if ok else {},
                "vs_reference": {f: {"dot": ref, "pure": ref} for f in fonts} if ok else {}}

    results = {"engines": {"dot": {"path": "/usr/bin/dot", "version": "dot - graphviz version 2.43.0 (0)"},
                           "pure": {"path": "gp", "version": "graphviz-pure version 0.2.2"}},
               "fonts": fonts, "recorded": 3, "fit_fonts": {"regular": "/f/LiberationSans-Regular.ttf",
                                                             "bold": "/f/LiberationSans-Bold.ttf"},
               "messages": ["Warning: no value for width of non-ASCII character 195.",
                            "Warning: no hard-coded metrics for 'Helvetica,Arial,sans-serif'."],
               "builds": {"dot": {"ok": True, "seconds": 100.0, "warnings": ["[IPKernelApp] WARNING | noise"]},
                          "pure": {"ok": True, "seconds": 90.0, "warnings": ["x.rst:3: WARNING: cannot draw y"]}},
               "sources": [source("A"), source("B"), source("C", ok=False)]}
    return {"params": {"repeat": 3}, "results": results}


def test_summary_and_report_from_a_record() -> None:
    run = _record()
    s = le.summary(run)
    arial = s["fonts"]["Arial"]
    assert arial["pure"]["ok"] == 2 and len(arial["pure"]["failed"]) == 1
    assert arial["pure"]["cpu_s"] == pytest.approx(0.4) and arial["dot"]["cpu_s"] == pytest.approx(0.8)
    assert arial["pure"]["overflow_nodes"] == 2 and arial["pure"]["nodes"] == 6
    assert list(arial["pure"]["warnings"]) == ["Warning: no value for width of non-ASCII character 195."]
    assert len(s["fonts"]["Helvetica,Arial,sans-serif"]["pure"]["warnings"]) == 2
    assert arial["compare"]["same_place"] == 4 and arial["compare"]["boxes"] == 6
    text = le.render(run)
    assert "| system `dot` | 100.0 s | yes | 0 |" in text  # a line that is not a Sphinx warning is not counted
    assert "| graphviz-pure | 90.0 s | yes | 1 |" in text
    assert "2 in 2 / 1.5 pt" in text and "6 in 2 / 4.5 pt" in text
    assert "`LiberationSans-Regular.ttf`" in text and "failed: gallery/x C (3 boxes): Error: trouble in init_rank" in text
    assert set(le.metrics(run)) >= {"Arial: pure CPU seconds, all layouts", "Arial: boxes moved > 1 pt"}
