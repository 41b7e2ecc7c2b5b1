"""Every builder writes something sensible for a diagram: never ``unknown node type``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import soup_of


@pytest.mark.slow
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
    # each summary table follows its figure (a long table cannot float)
    figure_end = tex.index("\\end{figure}")
    summary = tex.index("Summary: 4 layers, 1.51 k parameters, 30.21 kMAC")
    assert figure_end < summary < tex.index("\\end{tabulary}", summary) < tex.index("\\begin{figure}", summary)
    table = tex[summary:tex.index("\\end{tabulary}", summary)]
    for cell in ["\\sphinxcode{\\sphinxupquote{features.0}}", "\\sphinxcode{\\sphinxupquote{Conv2d}}",
                 "Output shape", "1,290", "Total", "1,514"]:
        assert cell in table, cell


@pytest.mark.parametrize("builder, suffix", [("text", ".txt"), ("man", ".1"), ("texinfo", ".texi")])
def test_plain_builders_show_the_alt_text_and_the_summary(build, builder, suffix):
    app = build("basic", builder)
    assert app.warning.getvalue() == ""
    out = next(Path(app.outdir).glob(f"*{suffix}")).read_text()
    assert "Diagram of the network netviz_models:TinyCNN" in out
    assert "Summary: 4 layers, 1.51 k parameters, 30.21 kMAC" in out
    for cell in ["features.2", "MaxPool2d", "2×8×4×4", "1,290", "Total", "1,514"]:
        assert cell in out, cell


def test_text_summary_table_rows(build):
    app = build("basic", "text")
    text = (Path(app.outdir) / "index.txt").read_text()
    rows = [[cell.strip() for cell in line.strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| ")]
    # the first diagram's table: heading, a row per layer, totals
    assert rows[:6] == [
        ["Layer", "Type", "Output shape", "Parameters", "MACs"],
        ['"features.0"', '"Conv2d"', "2×8×8×8", "224", "27.65 k"],
        ['"features.1"', '"ReLU"', "2×8×8×8", "0", "–"],
        ['"features.2"', '"MaxPool2d"', "2×8×4×4", "0", "–"],
        ['"head"', '"Linear"', "2×10", "1,290", "2.56 k"],
        ["Total", "", "", "1,514", "30.21 k"],
    ]
    assert text.index("[Diagram of the network netviz_models:TinyCNN]") < text.index("Summary: 4 layers")


def test_texinfo_gets_a_png_from_graphviz(build):
    app = build("basic", "texinfo")
    texi = next(Path(app.outdir).glob("*.texi")).read_text()
    images = re.findall(r"^@image\{([^,]+),,,(.*),png\}$", texi, re.MULTILINE)
    assert len(images) == 3
    assert images[0][1] == "[Diagram of the network netviz_models:TinyCNN]"  # what Info readers show
    for name, _ in images:
        assert (Path(app.outdir) / f"{name}.png").read_bytes().startswith(b"\x89PNG"), name


def test_summary_false_leaves_the_table_out_of_other_builders(build):
    app = build("basic", "text", netviz_summary=False)
    assert "Summary:" not in (Path(app.outdir) / "index.txt").read_text()


@pytest.mark.parametrize("builder", ["singlehtml", "dirhtml", "epub"])
def test_other_html_builders_inline_the_svg(build, builder):
    app = build("basic", builder)
    assert "unknown node" not in app.warning.getvalue()
    page = "index.xhtml" if builder == "epub" else "index.html"
    soup = soup_of(Path(app.outdir) / page)
    assert len(soup.select("div.netviz svg")) == 3
    links = soup.select("a.netviz-onnx")
    assert len(links) == 3
    for link in links:
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
