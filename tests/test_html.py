"""The seed CNN built from RST and from MyST: the page, the SVG, the ONNX download."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from conftest import soup_of

SEED_LAYERS = [f"conv.{i}" for i in range(9)] + [f"ful_layer.{i}" for i in range(5)]


def node_titles(svg) -> list[str]:
    return [g.find("title").get_text() for g in svg.select("g.node")]


def diagram_parts(svg) -> dict[str, list[str]]:
    """Texts of the module nodes, keyed by their first line (the attribute path)."""
    parts = {}
    for g in svg.select("g.node"):
        texts = [t.get_text(strip=True) for t in g.find_all("text")]
        parts[texts[0]] = texts
    return parts


@pytest.mark.parametrize("testroot", ["seed", "seed-myst"])
def test_seed_cnn_page(build, testroot):
    app = build(testroot)
    assert "WARNING" not in app.warning.getvalue(), app.warning.getvalue()

    page = soup_of(Path(app.outdir) / "index.html")
    figure = page.select_one("figure#fig-cnn")
    assert figure is not None
    assert "The seed CNN." in figure.select_one("figcaption").get_text()
    # :numref: resolved to the figure
    ref = page.select_one('a.reference.internal[href="#fig-cnn"]')
    assert ref is not None and "Fig. 1" in ref.get_text()

    svg = figure.select_one("div.netviz svg")
    assert svg is not None, "the SVG is inlined in the page"
    parts = diagram_parts(svg)
    # every one of the 14 layers, plus input, output and the functional view
    for layer in SEED_LAYERS:
        assert layer in parts, layer
    assert len(svg.select("g.node")) == 14 + 3
    assert "view" in parts
    assert parts["conv.0"][1] == "Conv2d"
    assert "kernel_size=(5, 5)" in parts["conv.0"][2]
    assert parts["conv.0"][3] == "1,216 params"
    assert parts["ful_layer.0"][1] == "Linear"
    assert parts["input"][1] == "16×3×512×512 float32"
    assert parts["output"][1] == "16×10 float32"

    clusters = {g.find("title").get_text(): g.find("text").get_text() for g in svg.select("g.cluster")}
    assert sorted(clusters.values()) == ["conv: Sequential", "ful_layer: Sequential"]

    edges = svg.select("g.edge")
    assert len(edges) == 16  # a chain of 17 nodes
    labels = [e.find("text").get_text(strip=True) for e in edges]
    assert all(labels), "every edge carries a shape"
    assert "16×16×170×170" in labels and "16×36" in labels

    ids = [el["id"] for el in svg.find_all(id=True)]
    prefix = svg.select_one("g.graph")["id"].removesuffix("_graph")
    assert len(ids) == len(set(ids))
    assert all(i.removeprefix("a_").startswith(prefix + "_") for i in ids), ids

    # the ONNX download: a real file that Netron (and onnxruntime) can open
    link = figure.select_one("a.netviz-onnx")
    assert link is not None and link.has_attr("download")
    onnx_file = (Path(app.outdir) / link["href"]).resolve()
    assert onnx_file.is_file()
    model = onnx.load(str(onnx_file))
    onnx.checker.check_model(model, full_check=True)

    from example_models.cnn import CNNModel

    torch.manual_seed(0)
    net = CNNModel(out_channels=10).eval()
    net.load_state_dict(_weights_from_onnx(model, net))
    x = torch.randn(16, 3, 512, 512)
    with torch.no_grad():
        expected = net(x).numpy()
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x.numpy()})
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-4)

    svg_link = figure.select_one("a.netviz-svg")
    assert (Path(app.outdir) / svg_link["href"]).read_text().lstrip().startswith("<?xml")


def _weights_from_onnx(model: onnx.ModelProto, net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The ONNX file's weights as a state dict (names are the model's own, under ``inner.``)."""
    from onnx import numpy_helper

    stored = {init.name.removeprefix("inner."): numpy_helper.to_array(init) for init in model.graph.initializer}
    state = net.state_dict()
    found = {name: torch.from_numpy(stored[name].copy()) for name in state if name in stored}
    # constant folding may fold eval-mode batch norms; those keep the net's own values
    return {**state, **found}


@pytest.mark.slow
def test_rst_and_myst_give_the_same_svg(build):
    svgs = []
    for testroot in ("seed", "seed-myst"):
        app = build(testroot)
        svgs.append(str(soup_of(Path(app.outdir) / "index.html").select_one("div.netviz svg")))
    assert svgs[0] == svgs[1]


def test_notebook_outputs_on_a_docs_page_carry_no_copy_of_the_viewer(tmp_path):
    """A notebook page (myst-nb, stored outputs) showing three outputs of ``draw()``, two of
    them with the viewer's stylesheet and script: the page loads netviz.css and netviz.js once
    and the outputs lose their copies, keeping their drawings and bootstraps; a page without
    outputs or diagrams loads neither."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("myst_nb")
    from conftest import run_sphinx

    from sphinx_netviz import draw

    drawing = draw(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()), input_shape=(1, 4), onnx="none")
    outputs = [drawing.html(assets=assets) for assets in ("inline", "none", "inline")]
    cells = [nbformat.v4.new_code_cell("draw(...)", outputs=[nbformat.v4.new_output(
        "display_data", {"text/html": html, "text/plain": repr(drawing)})]) for html in outputs]
    src = tmp_path / "src"
    src.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Notebook"), *cells])
    notebook.metadata.update(kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
                             language_info={"name": "python"})
    nbformat.write(notebook, src / "index.ipynb")
    (src / "plain.md").write_text("---\norphan: true\n---\n# Plain\n\nNo diagram.\n")
    (src / "conf.py").write_text('extensions = ["sphinx_netviz", "myst_nb"]\nnb_execution_mode = "off"\n')
    run_sphinx(src, tmp_path / "html", "-q", "-W", ok=True)
    page = soup_of(tmp_path / "html" / "index.html")
    assert len(page.select("div.netviz-output")) == 3
    assert len(page.select("div.netviz-output > div.netviz .netviz-canvas svg")) == 3
    assert len(page.select("div.netviz-output > script.netviz-start")) == 3
    assert page.select(".netviz-assets") == []  # no copy of the stylesheet or script
    assert len(page.select('script[src*="netviz.js"]')) == 1 and len(page.select('link[href*="netviz.css"]')) == 1
    assert (tmp_path / "html" / "index.html").stat().st_size < len(outputs[1]) * 3 + 50_000
    plain = soup_of(tmp_path / "html" / "plain.html")
    assert not plain.select('script[src*="netviz.js"]') and not plain.select('link[href*="netviz.css"]')
