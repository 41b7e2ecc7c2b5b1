"""Links to layers (issue 16): each call's link in the viewer's data, each diagram's anchor,
``:name:`` as on figures (``:ref:``, ``:numref:``), and the ``netviz-layer`` role, resolved by
Sphinx across pages, in serial and ``-j`` builds, with located ``netviz.ref`` warnings."""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import ROOTS, run_sphinx, soup_of
from sphinx_netviz.details import call_links
from sphinx_netviz.ir import Call, ModuleInfo, Trace
from sphinx_netviz.views import (anchor_slug, canonical_link, known_links, layer_fragment, lists_every_link,
                                 short_name)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


# -- links, anchors and fragments, without Sphinx -------------------------------------------

def _trace() -> Trace:
    modules = {path: ModuleInfo(path, "M", "m.M", "", 0) for path in ("", "layers", "layers.0", "layers.1")}
    calls = [
        Call(0, "module", "", None), Call(1, "function", "view", 0), Call(2, "module", "layers", 0),
        Call(3, "module", "layers.0", 2), Call(4, "function", "add", 3), Call(5, "function", "add", 3),
        Call(6, "module", "layers.1", 2), Call(7, "function", "add", 6), Call(8, "function", "view", 0),
        Call(9, "module", "layers.0", 2, repeat=1), Call(10, "function", "add", 9),
    ]
    return Trace("Net", modules, calls[::-1], {}, [], [])  # finishing order does not matter


def test_call_links_follow_the_contract():
    """A module: its path ('' for the root); a function: <scope>.<op>, -k for the k-th call of
    that op directly in that scope, in run order, over every call of the module (not per call)."""
    assert call_links(_trace()) == {
        0: "", 1: "view", 2: "layers", 3: "layers.0", 4: "layers.0.add", 5: "layers.0.add-2",
        6: "layers.1", 7: "layers.1.add", 8: "view-2", 9: "layers.0", 10: "layers.0.add-3",
    }


def test_anchors_fragments_and_folded_runs():
    assert anchor_slug("TinyResNet") == "netviz-tinyresnet"
    assert anchor_slug("make_residual") == "netviz-make-residual"
    assert anchor_slug("Ünïcode Net 2") == "netviz-n-code-net-2"
    assert [short_name(t) for t in ("pkg.mod:Outer.Inner", "pkg.models.make_net", "files/keras cnn.onnx")] == [
        "Inner", "make_net", "keras cnn"]
    # percent-encoded, '/' kept (ONNX node paths hold one; a fragment splits at its first '/')
    assert layer_fragment("fig-a", "layers.0.add-2") == "fig-a/layers.0.add-2"
    assert layer_fragment("fig-a", "/enc/Add x") == "fig-a//enc/Add%20x"
    assert urllib.parse.unquote(layer_fragment("fig-a", "/enc/Add x")).partition("/")[2] == "/enc/Add x"
    assert layer_fragment("fig-a", None) == "fig-a"
    runs = [["layers.0", "layers.1", "layers.2"], ["layers.0.sub.0", "layers.0.sub.1"]]
    assert canonical_link("layers.2.mlp.fc", runs) == "layers.0.mlp.fc"
    assert canonical_link("layers.2.sub.1.add-2", runs) == "layers.0.sub.0.add-2"  # nested runs
    assert canonical_link("layers.20", runs) == "layers.20"  # a prefix of a name is not a member
    data = {"calls": {"3": {"link": "layers.0", "repeat": 3, "paths": runs[0]}, "4": {"link": "view"}},
            "rows": [{"path": "layers.0.mlp.fc"}, {"path": "head (call 2)"}]}
    svg = '<g id="nv1_in0"></g><g id="nv1_in1"></g><g id="nv1_out0"></g><g id="nv1_n4"></g>'
    assert known_links(data, svg) == {"", "layers.0", "view", "layers", "layers.0.mlp", "layers.0.mlp.fc", "head",
                                      "input-1", "input-2", "output-1"}


def test_a_bounded_viewer_data_does_not_rule_links_out():
    """The data of a very big model leaves out rows, calls or a long run's later paths: a link
    it does not list may still be right, so the role does not call it wrong."""
    data = {"calls": {"1": {"link": "layers.0", "repeat": 3, "paths": ["layers.0", "layers.1", "layers.2"]}},
            "rows": [{"path": "layers.0.fc"}]}
    assert lists_every_link(data)
    assert not lists_every_link({**data, "rows_total": 5})
    assert not lists_every_link({**data, "calls_left_out": 2})
    long_run = {"1": {"link": "l.0", "paths": ["l.0", "l.1", "… 1,337 more"]}}
    assert not lists_every_link({"calls": long_run, "rows": []})


# -- a built site ------------------------------------------------------------------------------

def _data(div) -> dict:
    return json.loads(div.select_one("script.netviz-data").string)


def _role_links(page: BeautifulSoup) -> dict[str, str]:
    """Each resolved netviz-layer role's text -> its href."""
    return {a.get_text(): a["href"] for a in page.select("a.reference")
            if a.select_one(".netviz-layer")}


def _targets_exist(outdir: Path, page: str, href: str) -> None:
    """The href's page has an element with the anchor, inside it a diagram whose data has the
    link (or stands for it: a folded run's member)."""
    path, _, fragment = href.partition("#")
    anchor, _, link = urllib.parse.unquote(fragment).partition("/")
    soup = soup_of(outdir / (path or page))
    target = soup.find(id=anchor)
    assert target is not None, href
    div = target if "netviz" in target.get("class", []) and target.name == "div" else target.select_one("div.netviz")
    assert div["data-netviz-anchor"] == anchor
    data = _data(div)
    links = {c["link"] for c in data["calls"].values()}
    members = {p: c["link"] for c in data["calls"].values() for p in c["paths"][1:]}
    head = next((m for m in members if link == m or link.startswith(m + ".")), None)
    canonical = members[head] + link[len(head):] if head else link
    assert canonical in links or canonical.startswith("input-"), (href, sorted(links))


def _check_site(outdir: Path, warnings: str) -> None:
    index, other = soup_of(outdir / "index.html"), soup_of(outdir / "other.html")

    # anchors: a named diagram has its figure's id; others netviz-<model>, -2 on one page
    figure = index.select_one("figure#fig-cnn")
    cnn = figure.select_one("div.netviz")
    assert cnn.get("id") is None and cnn["data-netviz-anchor"] == "fig-cnn"
    assert other.select_one("figure#fig-transformer div.netviz")["data-netviz-anchor"] == "fig-transformer"
    unnamed = other.select("div.netviz[id]")
    assert [(d["id"], d["data-netviz-anchor"]) for d in unnamed] == [
        ("netviz-smallresnet", "netviz-smallresnet"), ("netviz-smallresnet-2", "netviz-smallresnet-2")]

    # every drawn call has its link in the data
    data = _data(cnn)
    assert all(isinstance(c["link"], str) for c in data["calls"].values())
    by_path = {c["link"] for c in data["calls"].values()}
    assert {"", "conv", "conv.0", "view", "ful_layer"} <= by_path
    transformer = _data(other.select_one("figure#fig-transformer div.netviz"))
    folded = next(c for c in transformer["calls"].values() if c["repeat"] > 1)
    assert folded["link"] == "blocks.0" and folded["paths"] == ["blocks.0", "blocks.1"]

    # :ref: and :numref: work as on any figure (numfig = True; the caption is the link's text)
    refs = [(a.get_text(), a["href"]) for a in index.select("a.reference.internal") if a["href"] == "#fig-cnn"]
    assert refs == [("Fig. 1", "#fig-cnn"), ("The seed CNN.", "#fig-cnn"), ("the CNN", "#fig-cnn")]
    assert figure.select_one("figcaption .caption-number").get_text().strip() == "Fig. 1"

    # the role, on the same page and across pages, a folded run's member too
    assert _role_links(index) == {"conv.0": "#fig-cnn/conv.0", "the view": "#fig-cnn/view",
                                  "blocks.0.mlp": "other.html#fig-transformer/blocks.0.mlp"}
    assert _role_links(other) == {"its MLP": "#fig-transformer/blocks.1.mlp",
                                  "the classifier": "index.html#fig-cnn/ful_layer",
                                  "input-1": "index.html#fig-cnn/input-1"}
    for page, soup in (("index.html", index), ("other.html", other)):
        for href in _role_links(soup).values():
            _targets_exist(outdir, page, href)

    # unknown name or layer: a warning at the role's line, near matches, the text stays plain
    warnings = ANSI.sub("", warnings)
    assert re.search(r"broken\.rst:4: WARNING: netviz-layer 'fig-cnm:conv\.0': no diagram is named 'fig-cnm'; "
                     r"did you mean 'fig-cnn'\? \[netviz\.ref\]", warnings), warnings
    assert re.search(r"broken\.rst:6: WARNING: netviz-layer 'fig-cnn:conv\.10': diagram 'fig-cnn' has no layer "
                     r"'conv\.10'; did you mean 'conv\.1', 'conv\.0'.*\[netviz\.ref\]", warnings), warnings
    assert warnings.count("[netviz.ref]") == 2
    broken = soup_of(outdir / "broken.html")
    texts = [n.get_text() for n in broken.select(".netviz-layer")]
    assert texts == ["conv.0", "the tenth"] and not broken.select("a .netviz-layer")

    # as on a figure: no caption, no number; :ref: takes a text of its own
    assert re.search(r"broken\.rst:14: WARNING: Failed to create a cross reference\. Any number is not assigned: "
                     r"fig-bare", warnings), warnings
    assert [a.get_text() for a in broken.select('a[href="#fig-bare"]')] == ["a text of its own"]


def test_layer_links_in_a_serial_build(build):
    app = build("layer-refs")
    _check_site(Path(app.outdir), app._warning.getvalue())


def _site_with_more_pages(tmp_path: Path) -> Path:
    """test-layer-refs and eight pages more (``-j`` reads in chunks)."""
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-layer-refs", src)
    extra = [f"page{k}" for k in range(8)]
    for name in extra:
        (src / f"{name}.rst").write_text(f"{name}\n{'=' * len(name)}\n\nSee :netviz-layer:`fig-cnn:conv.3`.\n")
    index = src / "index.rst"
    index.write_text(index.read_text() + "".join(f"   {name}\n" for name in extra))
    return src


@pytest.mark.slow
def test_layer_links_in_parallel_builds_and_after_a_rename(tmp_path, diagram_cache):
    """-j 3 (parallel read and write, what ``-j auto`` does on three cores), -W: the same
    pages, and the build fails on the broken roles; renaming a diagram writes again the
    pages whose roles point at it, which then warn."""
    src, out = _site_with_more_pages(tmp_path), tmp_path / "out"
    args = ("-j", "3", "-d", str(tmp_path / "doctrees"))
    failed = run_sphinx(src, out, *args, "-W", "--keep-going", cache=diagram_cache)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    _check_site(out, failed.stderr)
    for k in range(8):
        assert _role_links(soup_of(out / f"page{k}.html")) == {"conv.3": "index.html#fig-cnn/conv.3"}

    untouched = (out / "page3.html").stat().st_mtime_ns
    other = src / "other.rst"
    other.write_text(other.read_text().replace(":name: fig-transformer", ":name: fig-encoder"))
    again = run_sphinx(src, out, *args, cache=diagram_cache)
    assert again.returncode == 0, again.stderr[-3000:]
    warnings = ANSI.sub("", again.stderr)
    # index.rst was not edited: written again because its role points at the renamed diagram
    assert re.search(r"index\.rst:12: WARNING: netviz-layer 'fig-transformer:blocks\.0\.mlp': no diagram is "
                     r"named 'fig-transformer'; did you mean 'fig-encoder'.*\? \[netviz\.ref\]", warnings), warnings
    assert "blocks.0.mlp" not in _role_links(soup_of(out / "index.html"))
    assert (out / "page3.html").stat().st_mtime_ns == untouched, again.stdout  # the others are not written again


def test_layer_links_in_one_page(build):
    """singlehtml: every page is one page, so every role links to a fragment of it."""
    app = build("layer-refs", "singlehtml")
    out = Path(app.outdir)
    links = _role_links(soup_of(out / "index.html"))
    assert sorted(links.values()) == ["#fig-cnn/conv.0", "#fig-cnn/ful_layer", "#fig-cnn/input-1", "#fig-cnn/view",
                                      "#fig-transformer/blocks.0.mlp", "#fig-transformer/blocks.1.mlp"]
    for href in links.values():
        _targets_exist(out, "index.html", href)
