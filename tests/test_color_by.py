"""``:color-by:``: module boxes shaded by their share of the model's parameters or MACs, with a legend.

Built from tests/roots/test-color-by, whose models' shares are known (see colorby_models.py): the
boxes carry the step's class and light fill, in the drawn SVG and in every depth the viewer can
switch to; without the option nothing is shaded; a bad value is a located ``netviz.input`` warning.
"""

from __future__ import annotations

import re
import shutil
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DOCS, run_sphinx, soup_of

from sphinx_netviz import cli
from sphinx_netviz.palette import FILLS, SHADES
from sphinx_netviz.pipeline import spec_key
from sphinx_netviz.shading import LABELS
from sphinx_netviz.spec import DiagramSpec

ROOT_INDEX = Path(__file__).parent / "roots" / "test-color-by" / "index.rst"


@pytest.fixture(scope="module")
def built(tmp_path_factory, diagram_cache):
    """tests/roots/test-color-by built once (sphinx-build): (its diagrams' divs, the build's warnings,
    the folder holding its sources ``src`` and output ``out``)."""
    base = tmp_path_factory.mktemp("color-by")
    shutil.copytree(ROOT_INDEX.parent, base / "src")
    run = run_sphinx(base / "src", base / "out", cache=diagram_cache)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-3000:]
    page = soup_of(base / "out" / "index.html")
    return page.select("div.netviz"), run.stderr, base


def _svgs(div):
    """The drawn SVG, then every other depth's (the viewer's templates), as soups."""
    from bs4 import BeautifulSoup

    templates = [BeautifulSoup(t.decode_contents(), "html.parser").svg
                 for t in div.select("template.netviz-layout")]
    return [div.select_one(".netviz-canvas svg"), *templates]


def _boxes(svg) -> dict[str, tuple[int | None, str]]:
    """Each module box's title (its path) -> (its ``:color-by:`` step or None, its fill)."""
    out = {}
    for g in svg.select("g.node"):
        classes = g.get("class", [])
        if not any(c.startswith("nv-") for c in classes) or {"nv-io", "nv-fn", "nv-ref"} & set(classes):
            continue
        steps = [int(c[len("nv-shade-"):]) for c in classes if re.fullmatch(r"nv-shade-\d", c)]
        title = g.select_one("text").get_text().strip()
        out[title] = (steps[0] if steps else None, g.select_one("path, polygon").get("fill"))
    return out


def _legend(svg) -> tuple[list[str], list[str]]:
    """The legend's swatch fills and texts: what Graphviz drew straight into the graph, not in a node."""
    def drawn(tag: str) -> list:
        return [e for e in svg.select(f"g.graph {tag}") if not e.find_parent("g", class_=["node", "cluster", "edge"])]

    return [p.get("fill") for p in drawn("polygon") if p.get("fill") in SHADES], [t.get_text() for t in drawn("text")]


def test_params_shade_each_box_by_its_share_of_the_parameters(built):
    divs, _, _ = built
    boxes = _boxes(divs[0].select_one(".netviz-canvas svg"))
    # a 0.7 %, b 3.7 %, act 0, c 12.5 %, d 31.6 %, e 51.5 % of the parameters
    assert {t: s for t, (s, _) in boxes.items()} == {"a": 1, "b": 2, "act": 1, "c": 3, "d": 4, "e": 5}
    assert all(fill == SHADES[step - 1] for step, fill in boxes.values())
    # the class of the layer family stays, beside the shade
    assert "nv-linear" in divs[0].select_one(".netviz-canvas svg g.node.nv-shade-5")["class"]
    fills, texts = _legend(divs[0].select_one(".netviz-canvas svg"))
    assert fills == list(SHADES)
    assert texts == ["Share of the model's parameters", *LABELS]


def test_the_tooltip_says_the_share(built):
    divs, _, _ = built
    e = divs[0].select_one(".netviz-canvas svg g.node.nv-shade-5 a")
    assert "51.5 % of the model's parameters" in e["xlink:title"]


def test_the_downloaded_svg_is_shaded_too(built):
    divs, _, folder = built
    link = divs[0].select_one("a.netviz-svg")["href"]
    svg = _svg_file(folder / "out" / link)
    assert [s for s, _ in _boxes(svg).values()] == [1, 2, 1, 3, 4, 5]
    assert _legend(svg)[0] == list(SHADES)


def _svg_file(path: Path):
    from bs4 import BeautifulSoup

    text = path.read_text(encoding="utf-8")
    return BeautifulSoup(text[text.index("<svg"):], "html.parser").svg


def test_an_onnx_file_and_the_command_line_take_it_too(tmp_path):
    out = tmp_path / "resnet.svg"
    assert cli.main([str(DOCS / "onnx_files" / "small_resnet.onnx"), "--color-by", "PARAMS", "-o", str(out)]) == 0
    svg = _svg_file(out)
    steps = [s for s, _ in _boxes(svg).values()]
    assert steps and None not in steps and max(steps) >= 4
    assert _legend(svg) == (list(SHADES), ["Share of the model's parameters", *LABELS])


def _pdf_colours(path: Path) -> set[tuple[int, int, int]]:
    """The fill colours (``r g b rg``) of a PDF Graphviz wrote, as 0-255 channels."""
    data = path.read_bytes()
    text = b""
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            text += zlib.decompress(stream.group(1))
        except zlib.error:
            text += stream.group(1)
    return {tuple(round(float(v) * 255) for v in found.groups())  # type: ignore[misc]
            for found in re.finditer(rb"([\d.]+) ([\d.]+) ([\d.]+) rg", text)}


def test_the_latex_pdf_is_shaded(built, diagram_cache):
    """LaTeX's drawings are rendered from the same DOT: the six shaded diagrams have all five
    shades in their PDF, the two drawn by layer family none."""
    folder = built[2]
    run = run_sphinx(folder / "src", folder / "latex", builder="latex", cache=diagram_cache)
    assert run.returncode == 0, run.stderr[-3000:]
    shades = {tuple(int(s[i:i + 2], 16) for i in (1, 3, 5)) for s in SHADES}
    pdfs = sorted((folder / "latex").glob("netviz-*.pdf"))
    assert sorted(len(_pdf_colours(p) & shades) for p in pdfs) == [0, 0, 5, 5, 5, 5, 5, 5]


def test_without_color_by_nothing_is_shaded(built):
    divs, _, _ = built
    svg = divs[1].select_one(".netviz-canvas svg")
    assert not svg.select(".nv-shade")
    assert {fill for _, fill in _boxes(svg).values()} == {FILLS["linear"], FILLS["act"]}
    assert _legend(svg) == ([], [])
    assert not any(p.get("fill") in SHADES for p in svg.select("polygon, path"))


def test_macs_and_params_shade_differently(built):
    divs, _, _ = built
    macs, params = (_boxes(d.select_one(".netviz-canvas svg")) for d in divs[2:4])
    # MACs: conv 73 %, fc 27 %, the ReLU and Flatten count none; parameters: conv 0.3 %, fc 99.7 %
    assert {t: s for t, (s, _) in macs.items()} == {"conv": 5, "act": 1, "flat": 1, "fc": 4}
    assert {t: s for t, (s, _) in params.items()} == {"conv": 1, "act": 1, "flat": 1, "fc": 5}
    assert _legend(divs[2].select_one(".netviz-canvas svg"))[1][0] == "Share of the model's MACs"


def test_a_folded_run_counts_all_its_blocks_at_every_depth(built):
    divs, _, _ = built
    svgs = _svgs(divs[4])
    by_depth = {}
    for svg in svgs:
        boxes = _boxes(svg)
        by_depth[tuple(sorted(boxes))] = {t: s for t, (s, _) in boxes.items()}
        assert _legend(svg)[0] == list(SHADES)  # every depth the viewer shows has the legend
    # each block is 9.8 % of the parameters, the four 39 %; the head 61 %
    assert sorted(by_depth.values(), key=len) == [
        {"<root>": 5},  # depth 0: the whole model
        {"body": 4, "head": 5},  # depth 1
        {"body.0 … body.3": 4, "head": 5},  # depth 2: the run, one box
        {"body.0.fc": 4, "body.0.act": 1, "head": 5},  # depth 3: a box inside the ×4 cluster counts 4
    ]


def _line(directive: str, after: int = 0) -> int:
    """The line of ``directive`` in the root's index.rst (the first after line ``after``)."""
    return ROOT_INDEX.read_text().splitlines().index(directive, after) + 1


def test_a_bad_value_is_a_located_input_warning(built):
    divs, warnings, _ = built
    line = _line(".. netviz:: colorby_models:FiveLinears", 20)
    found = re.search(rf"index\.rst:{line}: WARNING: (.*?) \[netviz\.input\]", warnings)
    assert found, warnings
    assert ":color-by:" in found.group(1) and "none, params, macs" in found.group(1) and "flops" in found.group(1)
    assert "netviz-error" in divs[6]["class"]


def test_a_model_without_macs_is_drawn_unshaded_with_a_located_warning(built):
    divs, warnings, _ = built
    line = _line(".. netviz:: colorby_models:NoMacs")
    found = re.search(rf"index\.rst:{line}: WARNING: (.*?) \[netviz\.render\]", warnings)
    assert found, warnings
    assert "has no MACs to share out" in found.group(1) and ":color-by: params" in found.group(1)
    svg = divs[5].select_one(".netviz-canvas svg")
    assert svg.select("g.node") and not svg.select(".nv-shade") and _legend(svg) == ([], [])


def test_color_by_is_in_the_cache_key_and_not_in_the_export_key():
    spec = DiagramSpec("colorby_models:FiveLinears", input_shapes=((1, 8),))
    shaded = replace(spec, color_by="params")
    assert len({spec_key(spec), spec_key(shaded), spec_key(replace(spec, color_by="macs"))}) == 3
    assert spec_key(spec.export_view()) == spec_key(shaded.export_view())


def _tooltips(svg) -> dict[str, str]:
    return {g.select_one("text").get_text().strip(): g.select_one("a")["xlink:title"] for g in svg.select("g.node.nv-shade")}


def test_the_docs_example_says_what_the_drawing_shows(built):
    """docs/options.rst: "the token embedding holds 37 % of the parameters and does no
    multiply-accumulates, while the feed-forward layers of the two blocks do 64 % of the MACs"."""
    divs, _, _ = built
    params, macs = (_tooltips(d.select_one(".netviz-canvas svg")) for d in divs[7:9])
    assert "37.1 % of the model's parameters" in params["embed"]
    assert "0 % of the model's MACs" in macs["embed"]
    assert "64.0 % of the model's MACs" in macs["blocks.0.mlp"]
    assert "36.0 % of the model's MACs" in macs["blocks.0.attn"]
