"""Notebook outputs of ``draw()`` in a browser: each is a working viewer — it starts, zooms,
searches and shows details — with its own element ids, and only the first output of a kernel
carries the viewer's stylesheet and script (:mod:`sphinx_netviz.viewer_page`).

* the docs' notebook page (``docs/python.md``, run by myst-nb at build time): the outputs carry
  no copy of the assets, the page loads them once;
* a notebook of three diagrams run in a real kernel (nbclient), its outputs put on one page as
  JupyterLab does (each output's HTML inserted into the page, its scripts run) and as nbconvert's
  HTML export does (one static page): every diagram is interactive, and the notebook file is
  smaller than with the assets in every output (the sizes: docs/python.md, "In notebooks");
* a lone output: the first one works alone; a later one alone keeps its drawing and says, in a
  visible note, that it is not interactive and how to fix it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import REPO

from sphinx_netviz.viewer_page import without_assets

from .test_viewer import call_id, element, rect, view_box

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # it builds docs/, or runs a kernel


def test_draw_outputs_in_the_built_notebook_page_are_working_viewers(new_page, docs_html):
    page = new_page((docs_html / "python.html").as_uri(), viewport={"width": 1300, "height": 1000})
    outputs = page.locator("div.netviz-output > div.netviz")
    assert outputs.count() == 3  # three cells draw
    ids = [outputs.nth(i).get_attribute("id") for i in range(outputs.count())]
    assert len(set(ids)) == 3
    assert page.locator("div.netviz-output > div.netviz.netviz-js").count() == 3  # every viewer started
    # the page loads the viewer once; the outputs carry no copy of it, only their bootstraps
    assert page.locator("script[src*='netviz.js']").count() == 1
    assert page.locator("link[href*='netviz.css']").count() == 1
    assert page.locator(".netviz-assets").count() == 0
    assert page.locator("div.netviz-output > script.netviz-start").count() == 3
    assert page.locator(".netviz-no-viewer").count() == 0
    all_ids = page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(all_ids) == len(set(all_ids)), "an element id appears twice"

    div = outputs.nth(0)
    data = json.loads(div.locator("script.netviz-data").text_content())
    assert data["model"] == "Tower"
    # zoom: the + key on the canvas narrows the view box
    first = view_box(div)
    canvas = div.locator(".netviz-canvas")
    canvas.focus()
    page.keyboard.press("+")
    assert view_box(div)[2] < first[2]
    div.locator("button.netviz-fit").click()
    # search: the folded blocks match their class
    search = div.locator("input.netviz-search")
    search.fill("Block")
    search.press("Enter")
    assert div.locator("svg .netviz-match").count() >= 1
    assert div.locator(".netviz-status").text_content().startswith("1 of")
    search.fill("")
    search.press("Enter")
    # details: hovering the embedding shows its class and shapes
    embed = call_id(data, "embed")
    panel = div.locator(".netviz-panel")
    page.mouse.move(0, 0)
    element(div, data, f"n{embed}").hover()
    assert panel.is_visible()
    text = panel.text_content()
    assert "Linear" in text and data["calls"][embed]["out"][0] in text
    assert rect(panel)["w"] > 0


# -- a notebook run in a kernel ----------------------------------------------------------

#: a notebook of three diagrams (two of one model, one of another), as a user would write it
CELLS = [
    "from torch import nn\nfrom sphinx_netviz import Drawing, draw\nDrawing.assets = {assets!r}\n"
    "net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))",
    "draw(net, input_shape=(2, 16), onnx='none')",
    "draw(net, input_shape=(8, 16), onnx='none', depth=1)",
    "draw(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten()), input_shape=(1, 3, 16, 16), onnx='none')",
]


def run_notebook(path: Path, assets: str) -> list[str]:
    """Run :data:`CELLS` in a fresh kernel with ``Drawing.assets = assets``, write the notebook
    to ``path``; its HTML outputs, in order."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.format(assets=assets)) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))}
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3").execute(env=env)
    nbformat.write(nb, path)
    return [out["data"]["text/html"] for cell in nb.cells for out in cell.get("outputs", [])
            if "text/html" in out.get("data", {})]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The notebook run as users run it (assets="auto"), and its three outputs; the same notebook
    with the assets in every output (assets="inline", as every output was before) beside it."""
    folder = tmp_path_factory.mktemp("notebook")
    outputs = run_notebook(folder / "auto.ipynb", "auto")
    run_notebook(folder / "inline.ipynb", "inline")
    return folder, outputs


def test_a_notebook_carries_the_assets_once(notebook):
    folder, outputs = notebook
    assert len(outputs) == 3
    assert ['class="netviz-assets"' in out for out in outputs] == [True, False, False]
    auto, inline = ((folder / f"{name}.ipynb").stat().st_size for name in ("auto", "inline"))
    print(f"notebook of 3 diagrams: {inline:,} bytes with the assets in every output, {auto:,} with "
          f"them in the first")
    # the assets (netviz.css and .js, ~120 kB, more as JSON) are in one output instead of three
    assert inline - auto > 2 * 120_000
    assert auto < 0.5 * inline


def _viewers_work(page, count: int) -> None:
    """Every diagram on ``page`` (``count``) started, and zooms with its + key; no note is left."""
    divs = page.locator("div.netviz-output > div.netviz")
    assert divs.count() == count
    assert page.locator("div.netviz.netviz-js").count() == count
    assert page.locator(".netviz-no-viewer").count() == 0
    for i in range(count):
        div = divs.nth(i)
        before = view_box(div)
        div.locator(".netviz-canvas").focus()
        page.keyboard.press("+")
        assert view_box(div)[2] < before[2], f"diagram {i} does not zoom"
        canvas = div.locator(".netviz-canvas")  # styled by netviz.css
        assert canvas.evaluate("c => getComputedStyle(c).overflow + ' ' + getComputedStyle(c).cursor") == "hidden grab"


#: a page as JupyterLab makes one: each output's HTML is set as an element's innerHTML, and the
#: scripts of a trusted output are run by putting a new script element in the place of each
LAB = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>lab</title></head><body>
<main id="notebook"></main>
<script>
function show(html, before) {
  var out = document.createElement("div");
  out.className = "jp-OutputArea-output";
  out.innerHTML = html;
  var main = document.getElementById("notebook");
  main.insertBefore(out, before === undefined ? null : main.children[before]);
  out.querySelectorAll("script").forEach(function (old) {
    var run = document.createElement("script");
    for (var i = 0; i < old.attributes.length; i++) run.setAttribute(old.attributes[i].name, old.attributes[i].value);
    run.textContent = old.textContent;
    old.parentNode.replaceChild(run, old);
  });
  return out;
}
</script></body></html>
"""


def _lab(new_page, folder: Path):
    (folder / "lab.html").write_text(LAB, encoding="utf-8")
    return new_page((folder / "lab.html").as_uri(), viewport={"width": 1200, "height": 900})


def test_outputs_in_one_page_as_jupyterlab_shows_them(notebook, new_page):
    folder, outputs = notebook
    page = _lab(new_page, folder)
    for html in outputs:
        page.evaluate("html => { show(html); }", html)
    _viewers_work(page, 3)
    # the output that brought the assets is cleared (its cell run again): the others keep the
    # stylesheet (copied into the head) and the viewer, and a new output starts with them
    page.evaluate("() => document.getElementById('notebook').children[0].remove()")
    page.evaluate("html => { show(html); }", without_assets(outputs[0]))  # run again: no assets now
    assert page.locator("head style#netviz-css-1").count() == 1
    _viewers_work(page, 3)


def test_an_output_shown_before_the_one_with_the_assets_waits_for_it(notebook, new_page):
    """Cells run out of order (or an output drawn first in the page): the later output has no
    viewer yet and says so; once the output with the assets is shown, both work."""
    folder, outputs = notebook
    page = _lab(new_page, folder)
    page.evaluate("html => { show(html); }", outputs[2])
    note = page.locator("div.netviz-output .netviz-no-viewer")
    assert note.is_visible() and "not interactive" in note.text_content()
    page.evaluate("html => { show(html, 0); }", outputs[0])
    _viewers_work(page, 2)


def test_outputs_in_one_static_page_as_nbconvert_exports_them(notebook, new_page):
    """nbconvert's HTML export (--to html) writes each output's HTML into one page, in order;
    its scripts run as the page loads."""
    folder, outputs = notebook
    body = "".join(f'<div class="jp-OutputArea-output">{html}</div>\n' for html in outputs)
    (folder / "export.html").write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>nb</title>'
                                        f"</head><body>{body}</body></html>", encoding="utf-8")
    page = new_page((folder / "export.html").as_uri(), viewport={"width": 1200, "height": 900})
    _viewers_work(page, 3)


def test_a_lone_output(notebook, new_page):
    """The first output alone is a whole viewer; a later one alone shows its drawing and a
    visible note that names the fix, never a blank."""
    folder, outputs = notebook
    for name, html in (("first", outputs[0]), ("later", outputs[1])):
        (folder / f"{name}.html").write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{name}'
                                             f"</title></head><body>{html}</body></html>", encoding="utf-8")
    page = new_page((folder / "first.html").as_uri())
    _viewers_work(page, 1)
    page = new_page((folder / "later.html").as_uri())
    svg = page.locator("div.netviz .netviz-canvas > svg")
    assert svg.is_visible() and rect(svg)["w"] > 50 and page.locator("svg g.node").count() >= 3
    note = page.locator(".netviz-no-viewer")
    assert note.is_visible()
    text = note.text_content()
    assert "not interactive" in text and 'Drawing.assets = "inline"' in text and "Restart the kernel" in text
    assert page.locator("div.netviz.netviz-js").count() == 0
