"""A drawing's viewer as a notebook output or as a page of its own, and the assets each carries.

Pipeline step *write*, for pages written without Sphinx (:class:`sphinx_netviz.api.Drawing`):
:func:`~.markup.viewer_html` writes the drawing's DOM; this module wraps it.  A page of its
own (``save("x.html")``) always holds the viewer's stylesheet and script (``static/netviz.css``,
``netviz.js``: about 120 kB).  A notebook output holds them only where the page may not have
them yet (``assets``):

* ``"inline"``: the output carries both, and works alone;
* ``"none"``: the output carries only a bootstrap of a few hundred bytes, which starts the
  viewer a page already has (an earlier output's, or a docs page's: the Sphinx extension
  removes the copies from the notebook outputs of a page it gives the assets to, with
  :func:`without_assets`);
* ``"auto"`` (the default): ``"inline"`` for the first output a Python process (a kernel)
  shows, ``"none"`` after it.

Every notebook output ends with the bootstrap: it starts the output's diagram with the
viewer on the page (``window.sphinxNetviz``, if it reads this markup: :data:`VIEWER_MARKUP`),
copies the stylesheet into the page's head, so that clearing the output that brought it keeps
the others styled, and takes down the notes of outputs that were waiting.  An output that
finds no viewer once the page has loaded says so in a visible note that names the fix; its
static SVG stays.  Without scripts (an untrusted notebook) every output is its static SVG.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from typing import Literal

from .errors import InputProblem

#: the DOM version :func:`~.markup.viewer_html` writes; ``netviz.js`` publishes the one it
#: reads as ``window.sphinxNetviz.markup``, and a bootstrap starts only a viewer that reads its own
VIEWER_MARKUP = 1

Assets = Literal["auto", "inline", "none"]
ASSETS: tuple[str, ...] = ("auto", "inline", "none")

_STATIC = Path(__file__).resolve().parent / "static"

#: what an output without a viewer says (as text, never markup)
NO_VIEWER = ("This diagram is not interactive: its viewer's script is not on this page. In a notebook "
             "it comes with the first diagram a Python kernel shows, and that output is not here "
             "(cleared, or in another notebook). Restart the kernel and run the notebook again, or "
             'set sphinx_netviz.Drawing.assets = "inline" and run this cell again.')

#: the bootstrap's script; ``ANCHOR`` is the diagram's data-netviz-anchor (as JSON)
_BOOTSTRAP = """(function () {
  var d = document, markup = %(markup)d, anchor = %(anchor)s, root = null;
  var roots = d.querySelectorAll("div.netviz[data-netviz-anchor]");
  for (var i = 0; i < roots.length; i++) if (roots[i].getAttribute("data-netviz-anchor") === anchor) root = roots[i];
  var out = root && root.parentNode;
  if (!out) return;
  var css = out.querySelector("style.netviz-assets");
  if (css && d.head && !d.getElementById("netviz-css-" + markup)) {
    var copy = d.createElement("style");
    copy.id = "netviz-css-" + markup;
    copy.textContent = css.textContent;
    d.head.appendChild(copy);
  }
  function started() {
    var viewer = window.sphinxNetviz;
    if (!viewer || viewer.markup !== markup) return false;
    viewer.init();
    var notes = d.querySelectorAll(".netviz-no-viewer");
    for (var i = 0; i < notes.length; i++) notes[i].parentNode.removeChild(notes[i]);
    return true;
  }
  function note() {
    if (started() || out.querySelector(".netviz-no-viewer")) return;
    var p = d.createElement("p");
    p.className = "netviz-no-viewer";
    p.setAttribute("role", "note");
    p.style.cssText = "border-left: 4px solid #c9302c; padding: 0.4em 0.8em; margin: 0.4em 0;";
    p.textContent = %(message)s;
    out.insertBefore(p, root);
  }
  if (!started()) {
    if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", note);
    else note();
  }
})();
"""


@functools.cache
def _asset(name: str) -> str:
    return (_STATIC / name).read_text(encoding="utf-8")


def _script_text(value: str) -> str:
    """A JSON string for a ``<script>``: no ``<``, ``>`` or ``&`` that could end it."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def bootstrap(anchor: str) -> str:
    """The ``<script>`` that starts the diagram ``anchor`` with the page's viewer (see above)."""
    text = _BOOTSTRAP % {"markup": VIEWER_MARKUP, "anchor": _script_text(anchor),
                         "message": _script_text(NO_VIEWER)}
    return f'<script class="netviz-start">\n{text}</script>\n'


def standalone_page(title: str, body: str) -> str:
    """A whole HTML page of ``body`` (viewers' DOM), with the stylesheet and the script."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>\n{_asset('netviz.css')}</style>\n</head>\n"
            f'<body class="netviz-page">\n{body}<script>\n{_asset("netviz.js")}</script>\n</body>\n</html>\n')


def checked_assets(assets: object) -> Assets:
    """``assets`` if it is one of :data:`ASSETS`, else an :class:`~.errors.InputProblem`."""
    if assets not in ASSETS:
        raise InputProblem(f"assets must be one of {', '.join(map(repr, ASSETS))}, not {assets!r}")
    return assets  # type: ignore[return-value]


#: whether this process showed an output with the assets (``"auto"``)
_shown_assets = False


def notebook_output(body: str, anchor: str, assets: Assets) -> str:
    """A notebook output of ``body`` (one viewer's DOM, anchored ``anchor``): a
    ``div.netviz-output`` with the assets or not (``assets``, see above), and the bootstrap."""
    global _shown_assets
    inline = checked_assets(assets) == "inline" or (assets == "auto" and not _shown_assets)
    _shown_assets = _shown_assets or inline
    if not inline:
        return f'<div class="netviz-output">\n{body}{bootstrap(anchor)}</div>\n'
    # the script is a classic one: a second copy on the page only starts the new diagrams
    return (f'<div class="netviz-output">\n<style class="netviz-assets">\n{_asset("netviz.css")}</style>\n{body}'
            f'<script class="netviz-assets">\n{_asset("netviz.js")}</script>\n{bootstrap(anchor)}</div>\n')


_ASSET_COPY = re.compile(r'<(style|script) class="netviz-assets">.*?</\1>\n?', re.DOTALL)


def has_outputs(text: str) -> bool:
    """Whether ``text`` (a page's raw HTML) holds a notebook output of a drawing."""
    return '<div class="netviz-output">' in text


def without_assets(text: str) -> str:
    """``text`` (HTML) with the copies of the stylesheet and script that notebook outputs carry
    taken out: for a page that loads them itself (a docs page; the bootstraps stay)."""
    return _ASSET_COPY.sub("", text) if has_outputs(text) else text
