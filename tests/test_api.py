"""``sphinx_netviz.draw()``: the directive's diagram from Python, in this process."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import onnx
import pytest
import torch
from bs4 import BeautifulSoup
from torch import nn

from sphinx_netviz import Drawing, draw
from sphinx_netviz.errors import InputProblem
from sphinx_netviz.options import OptionProblem

SVG_NS = "{http://www.w3.org/2000/svg}"


class Block(nn.Module):
    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))


class Tower(nn.Module):
    def __init__(self, depth: int = 3) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*(Block() for _ in range(depth)))
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.blocks(x))


def boxes(svg: str | bytes) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG_NS}g") if "node" in (g.get("class") or "").split()]


@pytest.fixture(scope="module")
def tower() -> Drawing:
    return draw(Tower(), input_shape=(2, 8))


def test_an_instance_is_drawn_where_it_lives_with_its_own_weights(tower):
    made = tower.artifacts
    assert made.device == "cpu" and made.model_name == "Tower"
    assert len(boxes(tower.svg)) == 4  # input, blocks ×3 (folded), head, output
    assert "×3" in tower.svg
    onnx.checker.check_model(onnx.load_from_string(tower.onnx))
    assert tower.artifacts.onnx_mode == "full"


def test_a_drawn_instance_exports_its_own_weights():
    import onnxruntime as ort

    net = Tower()
    with torch.no_grad():
        net.head.bias.fill_(5.0)  # weights no seeded rebuild would have
    drawing = draw(net, input_shape=(2, 8), onnx="full")
    x = np.ones((2, 8), np.float32)
    session = ort.InferenceSession(drawing.onnx, providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(out, net(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_classes_factories_and_import_paths_with_the_directives_option_text():
    by_class = draw(Tower, input_shape="2, 8", kwargs={"depth": 5}, onnx="none", device="meta")
    assert by_class.artifacts.device == "meta" and "×5" in by_class.svg
    by_path = draw("example_models.cnn:CNNModel", input_shape="16, 3, 512, 512", depth=1, onnx="none",
                   direction="lr")
    assert by_path.artifacts.model_name == "CNNModel"
    assert 'class="graph"' in by_path.svg and len(boxes(by_path.svg)) == 5
    factory = draw(lambda: nn.Sequential(nn.Linear(3, 3), nn.Tanh()), input_shape=(1, 3), onnx="none")
    assert len(boxes(factory.svg)) == 4


def test_inputs_may_be_tensors_or_a_function():
    shaped = draw(Tower(), inputs=torch.randn(5, 8), onnx="none")
    assert "5×8" in shaped.svg
    keyword = draw(nn.Linear(4, 2), inputs=lambda: {"input": torch.randn(3, 4)}, onnx="none")
    assert "3×4" in keyword.svg


def test_bad_options_are_errors_worded_for_python():
    with pytest.raises(OptionProblem, match=r"^depth must be 0 or more, not -1$") as caught:
        draw(Tower(), input_shape=(2, 8), depth=-1)
    assert caught.value.option == "depth"
    with pytest.raises(OptionProblem, match="^input_shape .* has '0' where a positive whole number"):
        draw(Tower(), input_shape="2, 0")
    with pytest.raises(InputProblem, match="give exactly one of input_shape .* or inputs"):
        draw(Tower())
    with pytest.raises(TypeError, match="unknown option.*colour"):
        draw(Tower(), input_shape=(2, 8), colour="red")
    with pytest.raises(TypeError, match="unknown option.*jobs"):
        draw(Tower(), input_shape=(2, 8), jobs=2)  # a docs build's process limit, not a drawing's


def test_saves_every_format(tower, tmp_path):
    svg = tower.save(tmp_path / "t.svg").read_bytes()
    assert len(boxes(svg)) == 4
    page = BeautifulSoup(tower.save(tmp_path / "t.html").read_text(), "html.parser")
    assert page.select_one("body.netviz-page div.netviz .netviz-canvas svg") is not None
    assert page.select_one("style") and "sphinxNetviz" in page.select("script")[-1].string
    assert tower.save(tmp_path / "t.pdf").read_bytes().startswith(b"%PDF")
    assert tower.save(tmp_path / "t.png").read_bytes().startswith(b"\x89PNG")
    assert tower.save(tmp_path / "t.dot").read_text().startswith("digraph")
    onnx.checker.check_model(onnx.load(tower.save(tmp_path / "t.onnx")))
    with pytest.raises(InputProblem, match="cannot tell the format"):
        tower.save(tmp_path / "t.jpeg")
    with pytest.raises(InputProblem, match="no ONNX file"):
        draw(Tower(), input_shape=(2, 8), onnx="none").save(tmp_path / "none.onnx")


def _png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels (its IHDR chunk)."""
    assert data.startswith(b"\x89PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_a_png_is_saved_at_the_dpi_asked(tower, tmp_path):
    default = _png_size(tower.save(tmp_path / "t.png").read_bytes())
    sharp = _png_size(tower.save(tmp_path / "t150.png", dpi=150).read_bytes())
    # Graphviz's default is 96 dpi: 150 dpi is about 150/96 as many pixels each way
    assert abs(sharp[0] / default[0] - 150 / 96) < 0.05 and abs(sharp[1] / default[1] - 150 / 96) < 0.05
    with pytest.raises(InputProblem, match=r"dpi=150 applies to a .png only, not to .svg"):
        tower.save(tmp_path / "t.svg", dpi=150)
    for bad in (0, 5000, 1.5, "150"):
        with pytest.raises(InputProblem, match="dpi must be a whole number from 1 to 1200"):
            tower.save(tmp_path / "bad.png", dpi=bad)
    assert not (tmp_path / "bad.png").exists()


def test_notebook_outputs_carry_the_assets_once_and_are_unique_each_time(tower, monkeypatch):
    """assets="auto": the first output of the process carries the viewer's stylesheet and script,
    later ones only the bootstrap; "inline" and "none" force it; every output is the same DOM."""
    from sphinx_netviz import viewer_page

    monkeypatch.setattr(viewer_page, "_shown_assets", False)  # a fresh kernel
    first, second = tower._repr_html_(), tower._repr_html_()
    inline, bare = tower.html(assets="inline"), tower.html(assets="none")
    for output in (first, second, inline, bare):
        soup = BeautifulSoup(output, "html.parser")
        div = soup.select_one("div.netviz-output > div.netviz")
        assert div is not None and div.select_one(".netviz-canvas svg") is not None  # the static drawing
        assert div.select_one("script.netviz-data") is not None
        assert div.select_one("details.netviz-summary table") is not None
        start = soup.select("div.netviz-output > script")[-1]  # the bootstrap, last
        assert "netviz-start" in start["class"] and "window.sphinxNetviz" in start.string
        assert div["data-netviz-anchor"] in start.string
        carries = (soup.select_one("div.netviz-output > style.netviz-assets") is not None,
                   soup.select_one("div.netviz-output > script.netviz-assets") is not None)
        assert carries == ((True, True) if output in (first, inline) else (False, False))
    assert len(first) - len(second) > 100_000  # the assets: most of an output
    assert len(viewer_page.bootstrap("netviz-tower")) < 2_000  # docs/python.md: "under 2 kB"
    ids = [re.findall(r'\bid="([^"]+)"', out) for out in (first, second)]
    assert ids[0] and ids[1] and not set(ids[0]) & set(ids[1])  # two outputs, no id twice
    with pytest.raises(InputProblem, match="assets must be one of 'auto', 'inline', 'none', not 'all'"):
        tower.html(assets="all")
    with pytest.raises(InputProblem, match="a standalone page always carries the viewer's assets"):
        tower.html(standalone=True, assets="none")
    monkeypatch.setattr(Drawing, "assets", "inline")  # every output works alone
    assert "script class=\"netviz-assets\"" in tower._repr_html_()


def test_the_viewer_reads_the_markup_its_outputs_are_written_in():
    """A bootstrap starts a viewer already on the page only if it reads the same DOM version."""
    from sphinx_netviz import viewer_page

    script = (viewer_page._STATIC / "netviz.js").read_text(encoding="utf-8")
    assert re.findall(r"window\.sphinxNetviz = \{[^}]*\bmarkup: (\d+) \}", script) == [str(viewer_page.VIEWER_MARKUP)]
    assert f"markup = {viewer_page.VIEWER_MARKUP}," in viewer_page.bootstrap("netviz-x")


def test_hostile_names_stay_text(tmp_path):
    class Evil(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            setattr(self, "x", nn.Linear(2, 2))

        def extra_repr(self) -> str:
            return '</script><script>alert(1)</script><img src=x onerror="alert(2)">'

        def forward(self, x):
            return self.x(x)

    Evil.__name__ = Evil.__qualname__ = "Evil<script>alert(3)</script>"
    drawing = draw(Evil(), input_shape=(1, 2), onnx="none")
    for output in (drawing._repr_html_(), drawing.html(standalone=True)):
        soup = BeautifulSoup(output, "html.parser")
        scripts = soup.find_all("script")
        assert all("alert" not in (s.string or "") or s.get("type") == "application/json"
                   or "sphinxNetviz" in (s.string or "") for s in scripts)
        assert soup.find("img") is None
        assert "<script>alert" not in output.replace("\\u003cscript\\u003e", "")


TINY_NET = """
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))
"""

DRAW_AND_SAVE = """
import json, re, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from sphinx_netviz import draw
drawing = draw("tiny_net:Tiny", input_shape=(2, 8), onnx="none")
ids = [re.findall(r'\\bid="([^"]+)"', drawing._repr_html_()) for _ in range(2)]
out = Path(sys.argv[1], sys.argv[2])
out.mkdir()
for name in ("a.html", "b.html", "a.svg"):
    drawing.save(out / name)
print(json.dumps(ids))
"""


def test_outputs_of_two_processes_share_no_id_and_saved_files_are_the_same_bytes(tmp_path):
    """A notebook before and after a kernel restart (two processes) shows two outputs of the same
    model on one page: no element id twice.  Saved files stay deterministic: the same bytes from
    both processes, and from two saves in one."""
    import json
    import subprocess
    import sys

    (tmp_path / "tiny_net.py").write_text(TINY_NET)
    ids = []
    for run in ("first", "second"):
        done = subprocess.run([sys.executable, "-c", DRAW_AND_SAVE, str(tmp_path), run],
                              capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        ids += json.loads(done.stdout.strip().splitlines()[-1])
    assert len(ids) == 4 and all(ids)
    for i, first in enumerate(ids):  # 4 outputs, 2 per process: no id in two of them
        assert not any(set(first) & set(other) for other in ids[i + 1:])
    for name in ("a.html", "b.html", "a.svg"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
    assert (tmp_path / "first" / "a.html").read_bytes() == (tmp_path / "first" / "b.html").read_bytes()
