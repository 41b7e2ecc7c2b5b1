"""The viewer's static files outside a browser.

* netviz.js: its DOM-free parts (the view maths, search matching, number
  formats) under Node's own test runner (``node --test tests/js``); skipped
  only where no ``node`` is installed.
* netviz.css: its colour variables are generated from
  :mod:`sphinx_netviz.palette`, the palette dot.py draws with, and every
  variable the rules use is one of them.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import REPO, TESTS

from sphinx_netviz import dot, palette

JS_TESTS = TESTS / "js"
CSS = REPO / "sphinx_netviz" / "static" / "netviz.css"


# -- netviz.js in Node --------------------------------------------------------

def test_viewer_js_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    files = sorted(str(p) for p in JS_TESTS.glob("*.test.js"))
    assert files, f"no *.test.js in {JS_TESTS}"
    done = subprocess.run([node, "--test", *files], capture_output=True, text=True, cwd=REPO,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # the runner ran tests (a file that defines none also exits 0)
    passed = re.search(r"^# pass (\d+)", done.stdout, re.M)
    assert passed and int(passed.group(1)) >= 10, done.stdout


# -- one palette --------------------------------------------------------------

def test_css_palette_is_the_generated_one():
    text = CSS.read_text(encoding="utf-8")
    assert palette.css_with_palette(text) == text, "netviz.css is out of date: python -m sphinx_netviz.palette"
    assert palette.main(["--check"]) == 0


def test_every_colour_the_css_uses_is_in_the_palette():
    text = CSS.read_text(encoding="utf-8")
    used = set(re.findall(r"var\(--netviz-([\w-]+)\)", text))
    assert used, "netviz.css uses no palette variable"
    assert used <= set(palette.PALETTE), used - set(palette.PALETTE)
    # each dark value is listed for the theme switches and for "auto": generated, so identical
    for role, colour in palette.PALETTE.items():
        assert text.count(f"--netviz-{role}: {colour.dark};") >= 2, role
        assert f"--netviz-{role}: {colour.light};" in text, role


def test_dot_draws_with_the_light_palette():
    families = {family for _, family in dot._FAMILIES} | {"other", "fn", "io"}
    assert set(dot.FILLS) == families
    assert dot.FILLS == {f: palette.PALETTE[f"fill-{f}"].light for f in families}
    assert (dot.LINE, dot.TEXT, dot.BORDER) == tuple(palette.PALETTE[r].light for r in ("line", "text", "border"))
    # every family's boxes are coloured by the theme in the CSS
    text = CSS.read_text(encoding="utf-8")
    for family in families:
        assert re.search(rf"g\.node\.nv-{family} ellipse \{{ fill: var\(--netviz-fill-{family}\); \}}", text), family
