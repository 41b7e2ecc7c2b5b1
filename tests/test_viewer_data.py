"""What the page carries for the viewer: every depth's layout, box details, summary table, links."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import soup_of


def viewer(app, page="index.html"):
    soup = soup_of(Path(app.outdir) / page)
    div = soup.select_one("div.netviz")
    return soup, div, json.loads(div.select_one("script.netviz-data").string)


def test_layouts_details_and_summary(build):
    app = build("seed")
    soup, div, data = viewer(app)
    assert data["depth"] == 2 and data["depths"] == [0, 1, 2]
    templates = {t["data-depth"]: t for t in div.select("template.netviz-layout")}
    assert sorted(templates) == ["0", "1"]
    prefix = data["prefix"]
    # a box at depth 1 becomes a cluster with the same call id at depth 2
    conv = next(k for k, c in data["calls"].items() if c["path"] == "conv")
    assert data["calls"][conv]["expandable"] and data["calls"][conv]["depth"] == 1
    assert templates["1"].find(id=f"{prefix}_n{conv}") is not None
    assert div.select_one(".netviz-canvas").find(id=f"{prefix}_c{conv}") is not None
    conv0 = next(c for c in data["calls"].values() if c["path"] == "conv.0")
    assert conv0["class"] == "Conv2d" and conv0["params"] == 1216
    assert conv0["out"] == ["16×16×170×170 float32"]
    assert conv0["macs"] == 16 * 16 * 170 * 170 * 3 * 5 * 5
    svg = div.select_one(".netviz-canvas svg")
    assert svg.find("title").get_text() == "Diagram of the network example_models.cnn:CNNModel"
    assert "15,227 parameters" in svg.find("desc").get_text()
    assert "nv-conv" in svg.find(id=f"{prefix}_n{next(k for k, c in data['calls'].items() if c['path'] == 'conv.0')}")["class"]

    summary = div.select_one("details.netviz-summary")
    assert summary.select_one("summary").get_text() == "Summary: 14 layers, 15.23 k parameters, 704.36 MMAC"
    assert [th.get_text() for th in summary.select("table.netviz-table thead th")] == [
        "Layer", "Type", "Output shape", "Parameters", "MACs"]
    rows = summary.select("tbody tr:not(.netviz-total)")
    assert len(rows) == 14
    assert [td.get_text() for td in rows[0].find_all("td")] == ["conv.0", "Conv2d", "16×16×170×170", "1,216",
                                                                 "554.88 M"]
    total = summary.select("tbody tr.netviz-total")
    assert len(total) == 1 and total[0] is summary.select("tbody tr")[-1]
    assert [td.get_text() for td in total[0].find_all("td")] == ["Total", "", "", "15,227", "704.36 M"]
    assert "netviz.js" in str(soup.find_all("script"))


def test_class_links_resolve_through_intersphinx_and_autodoc(make_app, rootdir, tmp_path):
    """Class names are cross-references Sphinx resolves: the project's own autodoc objects and
    intersphinx (under the public path, ``torch.nn.Conv2d`` for ``torch.nn.modules.conv.Conv2d``),
    in the viewer's details and the summary table alike; with ``-n -W`` a class that resolves
    nowhere is plain text, without a warning."""
    import shutil

    srcdir = tmp_path / "links"
    shutil.copytree(rootdir / "test-links", srcdir)
    app = make_app("html", srcdir=srcdir, confoverrides={"nitpicky": True}, warningiserror=True)
    app.build()  # -W: any warning fails the build
    assert app.warning.getvalue() == "", app.warning.getvalue()
    soup = soup_of(Path(app.outdir) / "index.html")
    cnn, scaled = soup.select("div.netviz")
    data = json.loads(cnn.select_one("script.netviz-data").string)
    by_class = {c["class"]: c["href"] for c in data["calls"].values()}
    assert by_class["Conv2d"] == "https://docs.pytorch.org/docs/stable/generated/torch.nn.Conv2d.html#torch.nn.Conv2d"
    assert by_class["CNNModel"] == "api.html#example_models.cnn.CNNModel"
    assert by_class["LeakyReLU"] is None  # not in the inventory: no link rather than a broken one
    assert {r["class"]: r["href"] for r in data["rows"]}["Conv2d"] == by_class["Conv2d"]
    links = {a.get_text(): a["href"] for a in cnn.select("details.netviz-summary a")}
    assert links["Conv2d"] == by_class["Conv2d"]
    assert links["Linear"].endswith("torch.nn.Linear.html#torch.nn.Linear")
    assert "LeakyReLU" not in links
    leaky = [tr.find_all("td")[1] for tr in cnn.select("details.netviz-summary tbody tr")
             if tr.find_all("td")[1].get_text() == "LeakyReLU"]
    assert leaky and all(td.find("a") is None and td.find("code") for td in leaky)

    # a layer class of the project's own, documented with autodoc on another page
    data = json.loads(scaled.select_one("script.netviz-data").string)
    scale = next(c for c in data["calls"].values() if c["path"] == "scale")
    assert scale["qualname"] == "link_models.Scale"
    assert scale["href"] == "api.html#link_models.Scale"
    links = {a.get_text(): a["href"] for a in scaled.select("details.netviz-summary a")}
    assert links == {"Linear": by_class["Linear"], "Scale": "api.html#link_models.Scale"}
    api = soup_of(Path(app.outdir) / "api.html")
    assert api.find(id="link_models.Scale") is not None  # the link's target exists


def test_names_from_the_model_are_text_never_markup(build):
    app = build("hostile")
    html = (Path(app.outdir) / "index.html").read_text()
    assert "<img" not in html and "<script>alert" not in html
    soup, div, data = viewer(app)
    assert any(c["class"].startswith('"><img') for c in data["calls"].values())  # intact as data
    script = div.select_one("script.netviz-data").string
    assert "<" not in script and ">" not in script
    assert div.select_one(".netviz-canvas")["aria-label"] == 'A "quoted" <alt> text'
    row = div.select_one("details.netviz-summary tbody tr")
    assert row.find_all("td")[1].get_text().startswith('"><img src=x')


def test_summary_option_and_setting(tmp_path, rootdir, make_app, diagram_cache):
    import shutil

    srcdir = tmp_path / "summary"
    shutil.copytree(rootdir / "test-basic", srcdir)
    (srcdir / "index.rst").write_text(
        "T\n=\n\n.. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n   :summary: false\n\n"
        ".. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n   :depth: 1\n"
    )
    app = make_app("html", srcdir=srcdir,
                   confoverrides={"netviz_summary": True, "netviz_cache_dir": str(diagram_cache)})
    app.build()
    divs = soup_of(Path(app.outdir) / "index.html").select("div.netviz")
    assert [bool(d.select_one("details.netviz-summary")) for d in divs] == [False, True]
    assert all(d.select_one("a.netviz-onnx") for d in divs)
