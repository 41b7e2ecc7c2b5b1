"""Downloads a reader can keep (issue 16): each file is saved under the model's name (the
link's ``download`` attribute: a class's name, a factory's, an ONNX file's stem), its
content-hashed path stays, and the link says the file's kind and size."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import DOCS, ROOTS, soup_of
from sphinx_netviz.views import download_name, size_text

INDEX = """\
Downloads
=========

.. netviz:: netviz_models:TinyCNN
   :input-shape: 2, 3, 8, 8

.. netviz:: netviz_models.make_residual
   :input-shape: 4x16
   :kwargs: {"width": 16}

.. netviz:: keras-cnn+v2.onnx
"""

UNITS = {"B": 1, "kB": 10**3, "MB": 10**6}


def test_size_text_and_file_names():
    assert [size_text(n) for n in (0, 999, 1000, 41_234, 594_400, 999_600, 1_750_000, 27 * 10**9)] == [
        "0 B", "999 B", "1 kB", "41.2 kB", "594 kB", "1 MB", "1.75 MB", "27 GB"]
    assert download_name("TinyResNet", ".onnx") == "TinyResNet.onnx"
    assert download_name("Tiny Res/Net", ".svg") == "Tiny_Res_Net.svg"
    assert download_name("../..", ".onnx") == "model.onnx"
    assert download_name("<script>x", ".svg") == "script_x.svg"
    assert len(download_name("x" * 500, ".svg")) == 104


def test_downloads_are_named_after_the_model_and_say_their_size(make_app, tmp_path, diagram_cache):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOTS / "test-basic" / "netviz_models.py", src)
    shutil.copy(DOCS / "onnx_files" / "keras_cnn.onnx", src / "keras-cnn+v2.onnx")
    (src / "conf.py").write_text('import os, sys\nsys.path.insert(0, os.path.abspath("."))\n'
                                 'extensions = ["sphinx_netviz"]\n')
    (src / "index.rst").write_text(INDEX)
    app = make_app("html", srcdir=src, confoverrides={"netviz_cache_dir": str(diagram_cache)})
    app.build()
    out = Path(app.outdir)
    divs = soup_of(out / "index.html").select("div.netviz")
    assert len(divs) == 3 and not any("netviz-error" in d["class"] for d in divs)

    saved = []
    for div in divs:
        for link in div.select("p.netviz-downloads a.download"):
            # the content-hashed path stays; the file is saved under the model's name
            assert re.fullmatch(r"_downloads/netviz/netviz-[0-9a-f]{16}\.(onnx|svg)", link["href"]), link["href"]
            suffix = Path(link["href"]).suffix
            assert link["download"].endswith(suffix)
            saved.append(link["download"])
            # the text: the kind, then the real file's size, decimal, 3 significant digits
            size = (out / link["href"]).stat().st_size
            found = re.fullmatch(r"(ONNX|SVG), ([0-9.]+) (B|kB|MB)", link.get_text())
            assert found, link.get_text()
            assert found.group(1) == suffix[1:].upper()
            stated = float(found.group(2)) * UNITS[found.group(3)]
            assert abs(stated - size) <= 0.005 * size, (link.get_text(), size)
            assert link.get_text() == f"{found.group(1)}, {size_text(size)}"
    assert saved == ["TinyCNN.onnx", "TinyCNN.svg", "make_residual.onnx", "make_residual.svg",
                     "keras-cnn_v2.onnx", "keras-cnn_v2.svg"]
    # an ONNX file's download is the file itself
    onnx_link = divs[2].select_one("a.netviz-onnx")
    assert (out / onnx_link["href"]).read_bytes() == (src / "keras-cnn+v2.onnx").read_bytes()
