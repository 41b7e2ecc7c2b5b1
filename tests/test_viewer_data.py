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

    rows = div.select("details.netviz-summary tbody tr")
    assert len(rows) == 14
    assert [td.get_text() for td in rows[0].find_all("td")][:3] == ["conv.0", "Conv2d", "16×16×170×170"]
    assert div.select_one("details.netviz-summary tfoot").get_text().count("15,227") == 1
    assert "netviz.js" in str(soup.find_all("script"))


def test_class_links_resolve_through_intersphinx_and_autodoc(build):
    app = build("links")
    assert "WARNING" not in app.warning.getvalue(), app.warning.getvalue()
    soup, div, data = viewer(app)
    by_class = {c["class"]: c["href"] for c in data["calls"].values()}
    assert by_class["Conv2d"] == "https://docs.pytorch.org/docs/stable/generated/torch.nn.Conv2d.html#torch.nn.Conv2d"
    assert by_class["CNNModel"] == "api.html#example_models.cnn.CNNModel"
    assert by_class["LeakyReLU"] is None  # not in the inventory: no link rather than a broken one
    links = {a.get_text(): a["href"] for a in div.select("details.netviz-summary a")}
    assert links["Linear"].endswith("torch.nn.Linear.html#torch.nn.Linear")
    assert "LeakyReLU" not in links


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


def test_summary_option_and_setting(build, tmp_path, rootdir, make_app):
    import shutil

    srcdir = tmp_path / "summary"
    shutil.copytree(rootdir / "test-basic", srcdir)
    (srcdir / "index.rst").write_text(
        "T\n=\n\n.. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n   :summary: false\n\n"
        ".. netviz:: netviz_models:TinyCNN\n   :input-shape: 2, 3, 8, 8\n   :depth: 1\n"
    )
    app = make_app("html", srcdir=srcdir, confoverrides={"netviz_summary": True})
    app.build()
    divs = soup_of(Path(app.outdir) / "index.html").select("div.netviz")
    assert [bool(d.select_one("details.netviz-summary")) for d in divs] == [False, True]
    assert all(d.select_one("a.netviz-onnx") for d in divs)
