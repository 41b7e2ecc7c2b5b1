"""The ``netviz`` command line (sphinx_netviz.cli), run in-process and as ``python -m``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import onnx
import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, REPO, ROOTS

from sphinx_netviz import __version__, cli

MODELS = ROOTS / "test-basic"  # netviz_models.py: TinyCNN takes 2, 3, 8, 8
# DOCS: example_models/cnn.py: CNNModel takes 16, 3, 512, 512
SVG_NS = "{http://www.w3.org/2000/svg}"
TINY = ["netviz_models:TinyCNN", "--input-shape", "2,3,8,8"]


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test root's model directory on sys.path."""
    monkeypatch.syspath_prepend(str(MODELS))
    return MODELS


def svg_nodes(path: Path) -> list[ET.Element]:
    """The Graphviz node groups (``<g class="node">``) of an SVG file; fails unless it is XML."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    return [g for g in root.iter(f"{SVG_NS}g") if "node" in (g.get("class") or "").split()]


def run_onnx(path: Path, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Check an ONNX file and run it with onnxruntime."""
    import onnx
    import onnxruntime

    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def test_svg(models: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny.svg"
    assert cli.main([*TINY, "-o", str(out)]) == 0
    assert len(svg_nodes(out)) > 3
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_dot_and_gv(models: Path, tmp_path: Path) -> None:
    for name in ("tiny.dot", "tiny.gv"):
        out = tmp_path / name
        assert cli.main([*TINY, "-o", str(out), "--direction", "LR", "--depth", "1"]) == 0
        text = out.read_text(encoding="utf-8")
        assert text.startswith("digraph")
        assert "rankdir=LR" in text


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF")])
def test_png_and_pdf(models: Path, tmp_path: Path, suffix: str, magic: bytes) -> None:
    out = tmp_path / f"tiny{suffix}"
    assert cli.main([*TINY, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_onnx_matches_torch(models: Path, tmp_path: Path) -> None:
    import torch

    from netviz_models import TinyCNN
    from sphinx_netviz.loader import SEED

    svg, onnx_file = tmp_path / "tiny.svg", tmp_path / "tiny.onnx"
    assert cli.main([*TINY, "-o", str(svg), "--onnx", str(onnx_file)]) == 0
    assert len(svg_nodes(svg)) > 3

    # the pipeline builds the model right after seeding with loader.SEED
    torch.manual_seed(SEED)
    model = TinyCNN().eval()
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1234))
    with torch.no_grad():
        expected = model(x).numpy()
    (got,) = run_onnx(onnx_file, {"input": x.numpy()})
    assert got.shape == (2, 10)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_kwargs_reach_the_model(models: Path, tmp_path: Path) -> None:
    onnx_file = tmp_path / "tiny.onnx"
    code = cli.main([*TINY, "--kwargs", '{"classes": 5}', "-o", str(tmp_path / "t.svg"),
                     "--onnx", str(onnx_file)])
    assert code == 0
    (got,) = run_onnx(onnx_file, {"input": np.zeros((2, 3, 8, 8), np.float32)})
    assert got.shape == (2, 5)


def test_inputs_function(models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cli_test_inputs.py").write_text(textwrap.dedent("""
        import torch

        def make_inputs():
            return torch.ones(3, 16)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "res.dot"
    assert cli.main(["netviz_models.make_residual", "--inputs", "cli_test_inputs:make_inputs",
                     "-o", str(out)]) == 0
    assert "3×16" in out.read_text(encoding="utf-8")


def test_input_dtype(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cli_test_embedding.py").write_text(textwrap.dedent("""
        from torch import nn

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(10, 4)
                self.head = nn.Linear(4, 3)

            def forward(self, tokens):
                return self.head(self.embed(tokens))
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    out, onnx_file = tmp_path / "tagger.dot", tmp_path / "tagger.onnx"
    assert cli.main(["cli_test_embedding:Tagger", "--input-shape", "2x5", "--input-dtype", "long",
                     "-o", str(out), "--onnx", str(onnx_file)]) == 0
    assert "int64" in out.read_text(encoding="utf-8")
    (got,) = run_onnx(onnx_file, {"input": np.array([[1, 2, 3, 4, 5]] * 2, np.int64)})
    assert got.shape == (2, 5, 3)


def test_docs_example_cnn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if not (DOCS / "example_models" / "cnn.py").is_file():
        pytest.skip("docs/example_models/cnn.py is not there")
    monkeypatch.syspath_prepend(str(DOCS))
    svg, onnx_file = tmp_path / "cnn.svg", tmp_path / "cnn.onnx"
    code = cli.main(["example_models.cnn:CNNModel", "--input-shape", "16,3,512,512",
                     "--kwargs", '{"out_channels": 10}', "-o", str(svg), "--onnx", str(onnx_file)])
    assert code == 0
    assert len(svg_nodes(svg)) > 3
    (got,) = run_onnx(onnx_file, {"input": np.zeros((16, 3, 512, 512), np.float32)})
    assert got.shape == (16, 10)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)  # the model ends in Softmax


def test_timings(models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*TINY, "-o", str(tmp_path / "t.svg"), "--timings"]) == 0
    out = capsys.readouterr().out
    for stage in ("build", "trace", "layout", "write", "total"):
        assert stage in out
    assert "onnx" not in out  # not asked for


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_bad_module_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.svg"
    assert cli.main(["no_such_module_xyz:Model", "--input-shape", "1,3", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("netviz: error [import]:")
    assert "no_such_module_xyz" in err
    assert not out.exists()


@pytest.mark.parametrize("options", [
    ["--input-shape", "2,three,8,8"],
    ["--input-shape", "2,3,8,8", "--input-dtype", "float128"],
    ["--input-shape", "2,3,8,8", "--kwargs", "[1, 2]"],
    ["--input-shape", "2,3,8,8", "--depth", "-1"],
    ["--input-shape", "2,3,8,8", "--direction", "diagonal"],
    [],  # neither --input-shape nor --inputs
])
def test_bad_options_exit_2(models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            options: list[str]) -> None:
    out = tmp_path / "x.svg"
    assert cli.main(["netviz_models:TinyCNN", *options, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("netviz: error [input]:")
    assert not out.exists()


def test_bad_shape_message_names_the_flag(models: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["netviz_models:TinyCNN", "--input-shape", "2,y,8", "-o",
                     str(tmp_path / "x.svg")]) == 2
    err = capsys.readouterr().err
    assert "[input]" in err and "--input-shape" in err


def test_html_and_png_at_a_dpi(models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """-o writes what Drawing.save writes: a page with the viewer for .html; --dpi sets a PNG's
    resolution and is refused for any other -o."""
    from sphinx_netviz import draw

    html = tmp_path / "x.html"
    assert cli.main([*TINY, "-o", str(html), "--onnx-mode", "none"]) == 0
    saved = draw("netviz_models:TinyCNN", input_shape=(2, 3, 8, 8), onnx="none").save(tmp_path / "saved.html")
    pages = [BeautifulSoup(p.read_text(), "html.parser") for p in (html, saved)]
    for page in pages:  # the page save() writes (their SVG ids' prefixes differ: draw() keys them)
        assert page.select_one("body.netviz-page div.netviz .netviz-canvas svg") is not None
        assert "sphinxNetviz" in page.select("script")[-1].string and page.select_one("script.netviz-data")
        label = page.select_one(".netviz-canvas")["aria-label"]
        assert label.startswith("Diagram of the network ") and label.endswith("TinyCNN"), label
    assert [len(p.select("svg g.node")) for p in pages][0] == len(pages[1].select("svg g.node")) > 3
    low, high = tmp_path / "low.png", tmp_path / "high.png"
    assert cli.main([*TINY, "-o", str(low)]) == 0 and cli.main([*TINY, "-o", str(high), "--dpi", "192"]) == 0
    width = [int.from_bytes(p.read_bytes()[16:20], "big") for p in (low, high)]
    assert abs(width[1] / width[0] - 2) < 0.05  # 192 dpi against Graphviz's 96
    capsys.readouterr()
    assert cli.main([*TINY, "-o", str(tmp_path / "x.svg"), "--dpi", "144"]) == 2
    assert "--dpi 144 applies to a .png only" in capsys.readouterr().err
    assert cli.main([*TINY, "-o", str(low), "--dpi", "0"]) == 2
    assert "a whole number from 1 to 1200" in capsys.readouterr().err


def test_unknown_output_format(models: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*TINY, "-o", str(tmp_path / "x.jpg")]) == 2
    assert "[input]" in capsys.readouterr().err


def test_missing_dot_exits_2(models: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.svg"
    assert cli.main([*TINY, "-o", str(out), "--dot", "no-such-dot-exe"]) == 2
    err = capsys.readouterr().err
    assert "[render]" in err and "--dot" in err
    assert not out.exists()


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["netviz_models:TinyCNN"]) == 2  # no -o
    assert "usage:" in capsys.readouterr().err


def test_a_model_no_exporter_takes_gets_a_graph_only_file(
        models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cli_no_export.py").write_text(textwrap.dedent("""
        import torch
        from torch import nn

        class NoExport(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(4, 4)
                self.b = nn.ReLU()
                self.c = nn.Linear(4, 2)

            def forward(self, x):
                if torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting():
                    raise RuntimeError("this model refuses to be exported")
                return self.c(self.b(self.a(x)))
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    svg, onnx_file = tmp_path / "ne.svg", tmp_path / "ne.onnx"
    code = cli.main(["cli_no_export:NoExport", "--input-shape", "1,4", "-o", str(svg),
                     "--onnx", str(onnx_file)])
    assert code == 0
    err = capsys.readouterr().err
    assert "netviz: the ONNX download is a graph-only file (TorchScript (full): " in err
    assert "refuses to be exported" in err and "warning" not in err
    assert f"wrote {onnx_file} (graph ONNX)" in err
    assert len(svg_nodes(svg)) > 3
    graph = onnx.load(onnx_file)
    onnx.checker.check_model(graph)
    assert [n.op_type for n in graph.graph.node] == ["Linear", "ReLU", "Linear"]
    # a kind named on the command line is a warning, worded with its flags
    code = cli.main(["cli_no_export:NoExport", "--input-shape", "1,4", "-o", str(svg),
                     "--onnx", str(onnx_file), "--onnx-mode", "structure"])
    err = capsys.readouterr().err
    assert code == 0 and "netviz: warning [export]: the structure ONNX export failed" in err
    assert "set --onnx-mode auto to accept the best file that can be made" in err


def test_python_dash_m(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "tiny.svg"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(MODELS), str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run(
        [sys.executable, "-m", "sphinx_netviz", *TINY, "-o", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert len(svg_nodes(out)) > 3


def test_importing_the_cli_loads_neither_sphinx_nor_torch() -> None:
    code = ("import sys, sphinx_netviz.cli, sphinx_netviz.pipeline; "
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('sphinx', 'docutils', 'torch')))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
