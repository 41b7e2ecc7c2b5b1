"""Every builder writes something sensible for a diagram: never ``unknown node type``."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import soup_of


def test_latex_gets_a_vector_pdf(build):
    app = build("basic", "latex")
    assert app.warning.getvalue() == ""
    tex = next(Path(app.outdir).glob("*.tex")).read_text()
    names = [line.split("{")[-1].rstrip("}") for line in tex.splitlines()
             if line.startswith("\\sphinxincludegraphics") and "netviz-" in line]
    assert len(names) == 3
    for name in names:
        pdf = Path(app.outdir) / name
        assert pdf.read_bytes().startswith(b"%PDF"), name
    assert "A tiny CNN." in tex


@pytest.mark.parametrize("builder, suffix", [("text", ".txt"), ("man", ".1"), ("texinfo", ".texi")])
def test_plain_builders_show_the_alt_text(build, builder, suffix):
    app = build("basic", builder)
    assert "unknown node" not in app.warning.getvalue()
    out = next(Path(app.outdir).glob(f"*{suffix}")).read_text()
    assert "Diagram of the network netviz_models:TinyCNN" in out


@pytest.mark.parametrize("builder", ["singlehtml", "dirhtml", "epub"])
def test_other_html_builders_inline_the_svg(build, builder):
    app = build("basic", builder)
    assert "unknown node" not in app.warning.getvalue()
    page = "index.xhtml" if builder == "epub" else "index.html"
    soup = soup_of(Path(app.outdir) / page)
    assert len(soup.select("div.netviz svg")) == 3
    for link in soup.select("a.netviz-onnx"):
        assert (Path(app.outdir) / link["href"]).is_file()


@pytest.mark.parametrize("builder", ["xml", "pseudoxml", "gettext", "linkcheck", "dummy"])
def test_builders_without_a_writer_do_not_fail(build, builder):
    app = build("basic", builder)
    assert "unknown node" not in app.warning.getvalue()
    assert "Traceback" not in app.warning.getvalue()


def test_css_only_on_pages_with_a_diagram(build):
    app = build("basic")
    index = (Path(app.outdir) / "index.html").read_text()
    search = (Path(app.outdir) / "search.html").read_text()
    assert "netviz.css" in index
    assert "netviz.css" not in search
    assert (Path(app.outdir) / "_static" / "netviz.css").is_file()
