"""Diagram nodes name their files by cache-relative keys; a key that leads out of the cache is refused.

The writers resolve each key against the build's diagram cache when they
read it (``sphinxext/cachefiles.py``): an absolute path, a ``..`` or a link
that leads out is never read, whatever put it into the node.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import soup_of

from sphinx_netviz.sphinxext.cachefiles import OutsideCache, cache_file

SECRET = "<svg xmlns='http://www.w3.org/2000/svg'><text>TOP SECRET</text></svg>\n"


def test_cache_file_resolves_keys_inside_the_cache_only(tmp_path):
    env = SimpleNamespace(doctreedir=str(tmp_path / "doctrees"), config=SimpleNamespace(netviz_cache_dir=""))
    files = tmp_path / "doctrees" / "netviz" / "files"
    files.mkdir(parents=True)
    (tmp_path / "secret.svg").write_text(SECRET)
    (files / "netviz-0123456789abcdef.svg").write_text("<svg/>")
    (files / "netviz-link.svg").symlink_to(tmp_path / "secret.svg")

    inside = cache_file(env, "files/netviz-0123456789abcdef.svg")
    assert inside == (files / "netviz-0123456789abcdef.svg").resolve()
    assert inside.read_text() == "<svg/>"
    for key in ["", str(tmp_path / "secret.svg"), "/etc/passwd", "../../secret.svg",
                "files/../../../secret.svg", "files/netviz-link.svg", "C:\\secret.svg",
                "files\\..\\..\\secret.svg", "//server/share/secret.svg"]:
        with pytest.raises(OutsideCache):
            cache_file(env, key)


CONF_TAIL = """

import os

from sphinx_netviz.sphinxext.diagram_node import netviz_diagram

SECRET = {secret!r}

# the SVG, viewer data and DOT keys are what these builds point outside; exporting three
# ONNX files would only add the exporter's 2 s start to each build
netviz_onnx = "none"


def point_outside(app, doctree, docname):
    # whatever wrote into the node: a key that leads out of the cache ({how})
    cache = os.path.join(app.doctreedir, "netviz")
    link = os.path.join(cache, "files", "netviz-link.svg")
    if not os.path.lexists(link):
        os.symlink(SECRET, link)
    key = {{"absolute": SECRET, "climbs out": os.path.relpath(SECRET, cache),
           "link out": "files/netviz-link.svg"}}[{how!r}]
    for node in doctree.findall(netviz_diagram):
        if node.get("svg"):
            node[{attribute!r}] = key


def setup(app):
    app.connect("doctree-resolved", point_outside)
"""


def build_pointing_outside(make_app, srcdir: Path, secret: Path, builder: str, attribute: str, how: str) -> Path:
    """Build ``tests/roots/test-basic`` with every diagram node's ``attribute`` pointing at
    ``secret`` (``how``); check the warnings and that the secret was written nowhere; the output."""
    secret.write_text(SECRET)
    with (srcdir / "conf.py").open("a") as conf:
        conf.write(CONF_TAIL.format(secret=str(secret), how=how, attribute=attribute))
    app = make_app(builder, srcdir=srcdir)
    app.build()

    warnings = [line for line in app.warning.getvalue().splitlines() if "WARNING" in line]
    assert len(warnings) == 3, warnings  # one per diagram, at its directive
    for warning in warnings:
        assert "index.rst:" in warning and "[netviz.write]" in warning
        assert "its node names a file outside the diagram cache" in warning and "refused" in warning
    out = Path(app.outdir)
    written = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".svg", ".tex", ".pdf")]
    assert written and not any("TOP SECRET" in p.read_text(errors="replace") for p in written)
    return out


@pytest.fixture
def project(rootdir, tmp_path) -> Path:
    srcdir = tmp_path / "src"
    shutil.copytree(rootdir / "test-basic", srcdir)
    return srcdir


@pytest.mark.parametrize("attribute, how", [("svg", "absolute"), ("svg", "climbs out"), ("details", "link out")])
def test_an_html_node_naming_a_file_outside_the_cache_is_refused(make_app, project, tmp_path, attribute, how):
    secret = tmp_path / "secret.svg"
    out = build_pointing_outside(make_app, project, secret, "html", attribute, how)
    page = soup_of(out / "index.html")
    errors = page.select("div.netviz.netviz-error")
    assert len(errors) == 3 and page.select("div.netviz svg") == []
    assert "outside the diagram cache" in errors[0].get_text()
    assert os.path.exists(secret)  # read by nobody, touched by nobody


def test_a_latex_node_naming_a_file_outside_the_cache_is_refused(make_app, project, tmp_path):
    secret = tmp_path / "secret.svg"
    out = build_pointing_outside(make_app, project, secret, "latex", "dot", "climbs out")
    tex = next(out.glob("*.tex")).read_text()
    assert "\\sphinxincludegraphics" not in tex
    assert "netviz could not draw netviz\\_models:TinyCNN" in tex
    assert not list(out.glob("*.pdf"))
    assert os.path.exists(secret)  # read by nobody, touched by nobody
