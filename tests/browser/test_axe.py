"""axe-core over the diagrams' own markup: no serious or critical violation inside
``.netviz`` (the diagram, its toolbar, panel, summary and downloads; the theme's own
findings are not ours), light and dark, in Furo, PyData, Read the Docs and Alabaster,
at first view and with a box's details panel open; and on every page of ``docs/``
with a diagram (Furo, the docs' theme), light fitted and dark with a panel open.

axe-core is an npm package (tests/browser/package.json, pinned by its lock),
installed by scripts/setup.sh into tests/browser/node_modules.  Without it the test
is skipped, except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import HERE, _unavailable, build_themed_site, serve
from .test_themes import THEMES

pytestmark = pytest.mark.browser

AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"

PAGE = """\
Accessibility
=============

.. netviz:: example_models.cnn:CNNModel
   :input-shape: 16, 3, 512, 512
   :onnx: none

.. netviz:: example_models.llama:tiny_llama
   :input-shape: 1, 16
   :input-dtype: int64
   :onnx: none

.. netviz:: example_models.transformer:TinyTransformer
   :input-shape: 2, 16
   :input-dtype: int64
   :direction: LR
"""

#: axe over the diagrams only; violations as [id, impact, [[target, why]...]]
RUN_AXE = """async () => {
    const result = await axe.run({include: [['.netviz']]}, {resultTypes: ['violations']});
    return result.violations.map(v => [v.id, v.impact,
        v.nodes.slice(0, 5).map(n => [n.target.join(' '), n.failureSummary])]);
}"""


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.exists():
        _unavailable(f"{AXE} not found: run scripts/setup.sh (npm ci in tests/browser)")
    return AXE


def serious(page, axe_script: Path) -> list:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script))
    return [v for v in page.evaluate(RUN_AXE) if v[1] in ("serious", "critical")]


#: the four states the themed test checks: light and dark, each fitted whole and with a panel open
EVERY_STATE = (("light", "fitted"), ("light", "panel open"), ("dark", "fitted"), ("dark", "panel open"))


def check_page(page, axe_script: Path, dark_switch: str | None, where: str,
               states: tuple[tuple[str, str], ...] = EVERY_STATE) -> None:
    """axe over every diagram fitted whole (its fit button), then with the first diagram's
    input box focused (its panel open), light and then dark: the ``states`` of those four
    (scheme, view) pairs that are listed.

    Fitted: a box the view cuts at the side shows only part of its text (a middle line
    clipped, the lines around it not), and axe's label-content-name-mismatch then compares
    the name with text the reader cannot see; what the markup says is tested whole."""
    found = {}
    for mode in ("light", "dark"):
        if not any(scheme == mode for scheme, _ in states):
            continue
        if mode == "dark":
            page.emulate_media(color_scheme="dark")
            if dark_switch:
                page.evaluate(dark_switch)
        for fit in page.locator("div.netviz button.netviz-fit").all():
            fit.click()
        if (mode, "fitted") in states:
            found[f"{mode}, fitted"] = serious(page, axe_script)
        if (mode, "panel open") in states:
            box = page.locator("div.netviz .netviz-canvas g.node[tabindex='0']").first
            box.focus()
            assert page.locator("div.netviz .netviz-panel:not([hidden])").count() == 1
            found[f"{mode}, panel open"] = serious(page, axe_script)
            box.evaluate("g => g.blur()")
    problems = {k: v for k, v in found.items() if v}
    assert not problems, f"{where}: {problems}"


@pytest.fixture(scope="module", params=list(THEMES))
def themed_page(request, tmp_path_factory, diagram_cache) -> tuple[str, Path]:
    theme = request.param
    html = build_themed_site(tmp_path_factory.mktemp(f"axe-{theme}"), theme, PAGE, diagram_cache)
    # over HTTP: axe reads the style sheets, which a file:// page may not fetch
    with serve(html) as url:
        yield theme, url + "index.html"


@pytest.fixture(scope="session")
def docs_server(docs_html):
    with serve(docs_html) as url:
        yield url


@pytest.mark.slow
def test_axe_in_every_theme(new_page, problems, themed_page, axe_script):
    theme, index = themed_page
    page = new_page(index, viewport={"width": 1300, "height": 1000})
    check_page(page, axe_script, THEMES[theme], theme)
    problems.errors[:] = [e for e in problems.errors
                          if not ("pydata-sphinx-theme.js" in e and "invalid theme mode" in e)]


@pytest.mark.slow
def test_axe_on_every_docs_page_with_a_diagram(new_page, docs_html, docs_server, axe_script):
    """Every diagram of every page of ``docs/``, twice: light and fitted whole, then dark
    with the first diagram's panel open.

    Two of the four states, not all four: four took ~195 s of a quiet full run (an axe run
    over the biggest pages, the gallery's LLaMA and the options page, takes 9-15 s), two
    take 71 s in a parallel run.  What differs from page to page is the diagrams (their
    models, colours, diff marks), and each is checked in both colour schemes; the panel is
    one markup, checked open in both schemes and all four themes by
    :func:`test_axe_in_every_theme`, here in dark, where its colours are the theme's."""
    pages = sorted(p for p in docs_html.rglob("*.html")
                   if 'class="netviz"' in p.read_text(encoding="utf-8", errors="replace"))
    assert len(pages) >= 4, pages
    for path in pages:
        page = new_page(docs_server + path.relative_to(docs_html).as_posix(),
                        viewport={"width": 1300, "height": 1000})
        check_page(page, axe_script, THEMES["furo"], str(path.relative_to(docs_html)),
                   states=(("light", "fitted"), ("dark", "panel open")))
        page.context.close()
