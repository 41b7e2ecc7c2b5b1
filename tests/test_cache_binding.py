"""Every file of the cache is bound to what it stands for: a manifest or a record names its key,
and every other file is named by its content (LaTeX and texinfo renders too).

A manifest moved under another diagram's key (two manifests swapped) is a miss, drawn again,
never the other model; a render of a DOT file is checked against its content like every file.
Real ``sphinx-build`` runs (fresh processes), and :class:`~sphinx_netviz.cache.DiagramCache`
itself for the ONNX export records.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_sphinx, soup_of

from sphinx_netviz.artifacts import Artifacts
from sphinx_netviz.cache import DiagramCache, is_content_named

CONF = """\
import os
import sys

sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz"]
"""

MODELS = """\
from torch import nn


class Alpha(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha_layer = nn.Linear(4, 8)

    def forward(self, x):
        return self.alpha_layer(x)


class Beta(nn.Module):
    def __init__(self):
        super().__init__()
        self.beta_layer = nn.Linear(4, 3)

    def forward(self, x):
        return self.beta_layer(x)
"""


def swap(first: Path, second: Path) -> None:
    """Swap two files' contents."""
    first_bytes = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(first_bytes)


def page(name: str) -> str:
    return f"{name}\n=====\n\n.. netviz:: two_models:{name}\n   :input-shape: 1, 4\n   :onnx: none\n"


def drawn(out: Path, name: str) -> str:
    svg = soup_of(out / f"{name}.html").select_one("div.netviz svg")
    assert svg is not None, f"no diagram on {name}.html"
    return svg.get_text(" ")


def manifests(cache: Path) -> list[Path]:
    """The manifests (named by their result key; every other file of ``files/`` is ``netviz-*``)."""
    return sorted(p for p in (cache / "files").glob("*.json") if not p.name.startswith("netviz-"))


@pytest.mark.slow
def test_swapped_manifests_are_drawn_again_never_the_other_model(tmp_path):
    src, out, cache = tmp_path / "src", tmp_path / "out", tmp_path / "out" / ".doctrees" / "netviz"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    (src / "two_models.py").write_text(MODELS)
    (src / "index.rst").write_text("Two\n===\n\n.. toctree::\n\n   Alpha\n   Beta\n")
    for name in ("Alpha", "Beta"):
        (src / f"{name}.rst").write_text(page(name))
    run_sphinx(src, out, "-W", ok=True)
    assert "alpha_layer" in drawn(out, "Alpha") and "beta_layer" in drawn(out, "Beta")

    swap(*manifests(cache))
    again = run_sphinx(src, out, "-W", "-E", ok=True)
    assert "alpha_layer" in drawn(out, "Alpha") and "beta_layer" not in drawn(out, "Alpha")
    assert "beta_layer" in drawn(out, "Beta") and "alpha_layer" not in drawn(out, "Beta")
    assert "netviz: traced 2, reused 0" in again.stdout, again.stdout
    assert again.stdout.count("belongs to another diagram; drawing again") == 2, again.stdout


def artifacts(source: Path, onnx: bytes) -> Artifacts:
    return Artifacts(model_name="Net", onnx_mode="full", sources=[str(source)], svg=b"<svg/>", dot="digraph {}",
                     onnx=onnx)


def test_a_swapped_manifest_or_export_record_is_a_miss(tmp_path):
    source = tmp_path / "model.py"
    source.write_text("# the model\n")
    heard: list[str] = []
    cache = DiagramCache(tmp_path / "cache", on_damage=heard.append)
    for key, onnx in (("a" * 64, b"model A"), ("b" * 64, b"model B")):
        cache.store_export(key, artifacts(source, onnx))
        cache.store(key, artifacts(source, onnx))
    assert cache.lookup_export("a" * 64) == (b"model A", "full")
    assert cache.lookup("a" * 64).onnx_path.read_bytes() == b"model A"

    swap(*sorted((tmp_path / "cache" / "exports").iterdir()))
    assert cache.lookup_export("a" * 64) is None and cache.lookup_export("b" * 64) is None
    swap(*manifests(tmp_path / "cache"))
    assert cache.lookup("a" * 64) is None and cache.lookup("b" * 64) is None
    assert sum("belongs to another diagram" in why for why in heard) == 4, heard


@pytest.mark.slow
def test_latex_and_texinfo_renders_are_named_by_their_content(cache_project, tmp_path):
    src, cache = cache_project / "src", cache_project / "out" / ".doctrees" / "netviz"
    setting = ("-D", f"netviz_cache_dir={cache}")
    run_sphinx(src, tmp_path / "latex", "-W", *setting, builder="latex", ok=True)
    run_sphinx(src, tmp_path / "texinfo", "-W", *setting, builder="texinfo", ok=True)
    files = sorted((cache / "files").iterdir())
    renders = [p for p in files if p.suffix in (".pdf", ".png")]
    assert len(renders) == 2, files
    for render in renders:
        assert is_content_named(render, render.read_bytes()), render.name
    for path in files:
        if path in manifests(cache):
            assert json.loads(path.read_text())["key"] == path.stem  # a manifest names its key
        else:
            assert is_content_named(path, path.read_bytes()), path.name

    # a damaged render is made again, never copied into a document
    for render in renders:
        render.write_bytes(b"damaged")
    shutil.rmtree(tmp_path / "latex")
    again = run_sphinx(src, tmp_path / "latex", "-W", *setting, builder="latex", ok=True)
    assert "netviz: the cached PDF of a diagram is damaged" in again.stdout, again.stdout
    [pdf] = [p for p in (tmp_path / "latex").glob("netviz-*.pdf")]
    assert pdf.read_bytes().startswith(b"%PDF") and is_content_named(pdf, pdf.read_bytes())
