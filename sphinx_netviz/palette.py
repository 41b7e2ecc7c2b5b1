"""The colours of the diagrams and of the viewer, light and dark: their one source.

:mod:`sphinx_netviz.dot` writes the light values into the DOT source (so the
static SVG, and the downloaded one, are coloured without any CSS), and the
``--netviz-*`` custom properties at the top of ``static/netviz.css`` are
generated from :data:`PALETTE` by :func:`css` — the light values on
``.netviz``, the dark ones for each way a Sphinx theme says "dark".  After
changing a colour here, write them into the CSS again with::

    python -m sphinx_netviz.palette

(``tests/test_viewer_js.py`` fails while the CSS and this module disagree.)
No Sphinx, no torch: a plain table.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NamedTuple


class Colour(NamedTuple):
    """One role's value on a light page and on a dark page (any CSS value)."""

    light: str
    dark: str


#: role -> colours; the CSS property of a role is ``--netviz-<role>``.  The layer
#: families of :mod:`sphinx_netviz.dot` are the ``fill-<family>`` roles.
PALETTE: dict[str, Colour] = {
    # the drawing
    "text": Colour("#1b1b1b", "#ececec"),
    "text-muted": Colour("#5c5c5c", "#b4b4b4"),
    "line": Colour("#8c8c8c", "#9ba1a8"),
    "line-text": Colour("#6b6b6b", "#aab0b6"),
    "border": Colour("#5f5f5f", "#a0a6ad"),
    "cluster": Colour("#8c8c8c", "#8d949b"),
    "fill-conv": Colour("#cfe3ff", "#1f3d63"),
    "fill-linear": Colour("#e3d7ff", "#3c2f66"),
    "fill-attn": Colour("#ffd8e4", "#5c2439"),
    "fill-norm": Colour("#d4f2d8", "#1f4a2c"),
    "fill-pool": Colour("#c9f0ef", "#14494b"),
    "fill-embed": Colour("#ffe5c2", "#5b3d12"),
    "fill-drop": Colour("#e6e6e6", "#3c3d40"),
    "fill-act": Colour("#ffe9b8", "#584612"),
    "fill-rnn": Colour("#f7d9c4", "#5b3320"),
    "fill-other": Colour("#eeeeee", "#35373b"),
    "fill-fn": Colour("#f4f4f4", "#2a2c30"),
    "fill-io": Colour("#fff6c8", "#4d4514"),
    # :color-by: (shading.py): a module box's share of the model's parameters or MACs, from under
    # 1 % (shade-1) to 50 % and more (shade-5).  One hue (blue), lighter to darker on a light page,
    # darker to lighter on a dark one: ordered by luminance alone, so it reads the same to every
    # kind of colour vision and in greyscale; text on every step keeps 4.5:1 (tests/test_palette.py)
    "shade-1": Colour("#eef4ff", "#232a35"),
    "shade-2": Colour("#c7d8f5", "#26384f"),
    "shade-3": Colour("#9ebdeb", "#254669"),
    "shade-4": Colour("#74a6e3", "#1f5585"),
    "shade-5": Colour("#448fd8", "#0c64a2"),
    # architecture diffs (merge.py, dot.py): the border of an added, removed or changed box or
    # cluster.  Okabe and Ito's colour-blind-safe bluish green, vermillion and blue, darkened (light)
    # or lightened (dark) to 3:1 on the page and on every fill; each kind also has a shape of its
    # own (added: a thick border, removed: dashed, changed: a double border), so no reader needs the hue
    "diff-added": Colour("#007a5e", "#3ccf9f"),
    "diff-removed": Colour("#b84a00", "#ff9a5c"),
    "diff-changed": Colour("#0072b2", "#56b4e9"),
    # the viewer's controls, panel and summary table
    "bg": Colour("#ffffff", "#131416"),
    "bg-panel": Colour("#ffffff", "#202226"),
    "bg-control": Colour("#f6f6f7", "#24262b"),
    "bg-control-hover": Colour("#e9e9ec", "#30333a"),
    "control-border": Colour("#c4c4c8", "#4a4e56"),
    "panel-border": Colour("#c4c4c8", "#4a4e56"),
    "panel-shadow": Colour("0 4px 14px rgba(0, 0, 0, 0.18)", "0 4px 16px rgba(0, 0, 0, 0.6)"),
    "accent": Colour("#0a63c9", "#6cb4ff"),
    "match": Colour("#c2410c", "#ff922b"),  # also the panel's ×N text: 4.5:1 on bg-panel
    "match-current": Colour("#c2255c", "#f783ac"),
    "linked": Colour("#0a63c9", "#74c0fc"),
    "table-rule": Colour("#dcdcdf", "#3a3d43"),
    "table-head": Colour("#f3f3f5", "#1d1f23"),
}

#: the light fill of each layer family (``conv``, ``norm``…, ``fn``, ``io``), as dot.py draws it
FILLS: dict[str, str] = {role[len("fill-"):]: c.light for role, c in PALETTE.items() if role.startswith("fill-")}

#: the light fill of each ``:color-by:`` step, ``SHADES[0]`` for step 1, as dot.py draws it
SHADES: tuple[str, ...] = tuple(c.light for role, c in PALETTE.items() if role.startswith("shade-"))

#: the light border colour of each kind of change (``added``, ``removed``, ``changed``), as dot.py draws it
DIFF: dict[str, str] = {role[len("diff-"):]: c.light for role, c in PALETTE.items() if role.startswith("diff-")}

#: selectors of a dark page: Furo's switch, PyData's and sphinx-book-theme's; JupyterLab's and
#: VS Code's dark notebook themes (a drawing shown by ``draw()``)
DARK_SELECTORS = ('body[data-theme="dark"] .netviz', 'html[data-theme="dark"] .netviz',
                  'body[data-jp-theme-light="false"] .netviz', 'body.vscode-dark .netviz')
#: selectors of a page that follows the system setting (Furo's "auto", the standalone page
#: ``draw().save("x.html")`` writes), dark under ``prefers-color-scheme: dark``
AUTO_SELECTORS = ('body[data-theme="auto"] .netviz', 'body.netviz-page .netviz')

BEGIN = "/* -- palette: generated from sphinx_netviz/palette.py (python -m sphinx_netviz.palette) -- */"
END = "/* -- end of the generated palette -- */"
CSS_FILE = Path(__file__).resolve().parent / "static" / "netviz.css"


def _block(selectors: tuple[str, ...], which: str, indent: str = "") -> list[str]:
    lines = [f"{indent}{sel}{',' if i < len(selectors) - 1 else ' {'}" for i, sel in enumerate(selectors)]
    lines += [f"{indent}  --netviz-{role}: {getattr(colour, which)};" for role, colour in PALETTE.items()]
    return [*lines, f"{indent}}}"]


def css() -> str:
    """The palette as CSS custom properties: light on ``.netviz``, dark where the theme says so.

    The dark values are listed for the theme switches and again, inside the
    media query, for "follow the system": CSS cannot put a selector and a
    media query in one rule, so that repetition is generated here, never typed.
    """
    lines = [BEGIN, *_block((".netviz",), "light"),
             "/* dark: Furo's switch, PyData / book theme */", *_block(DARK_SELECTORS, "dark"),
             "/* dark: Furo's \"auto\" with a dark system setting */",
             "@media (prefers-color-scheme: dark) {", *_block(AUTO_SELECTORS, "dark", "  "), "}",
             *_shade_rules(), *_diff_rules(), END]
    return "\n".join(lines) + "\n"


def _shade_rules() -> list[str]:
    """The ``:color-by:`` fills in the theme's colours: the boxes by their class (``nv-shade-<k>``,
    two classes, so they win over a layer family's rule), the legend's swatches (the graph's own
    label, where no class can go) by the light fill dot.py gave them.  The legend's text is the
    graph's only text outside a node, cluster or edge: straight in the graph, or in the link
    Graphviz wraps the graph's label in when the graph has a tooltip (``a_<id>_graph``).  The
    viewer's overview map copies the boxes' ``nv-`` classes, so its boxes are shaded as well."""
    lines = ["/* :color-by: shaded boxes, the overview's boxes, the legend's swatches and text (dot.py) */"]
    for step, light in enumerate(SHADES, start=1):
        box = f".netviz svg g.node.nv-shade.nv-shade-{step}"
        lines.append(f'{box} path, {box} polygon, .netviz svg g.graph polygon[fill="{light}"], '
                     f".netviz-overview-map .nv-shade.nv-shade-{step} > * {{ fill: var(--netviz-shade-{step}); }}")
    return [*lines, '.netviz svg g.graph > text, .netviz svg g.graph > g[id$="_graph"] text '
                    "{ fill: var(--netviz-text); }"]


def _diff_rules() -> list[str]:
    """The borders of an architecture diff's marked boxes and clusters (``netviz-added``…) and of
    its legend's swatches (by the light colour dot.py gave them) in the theme's colours."""
    lines = ["/* architecture diffs: marked boxes and clusters, the legend's swatches (dot.py) */"]
    for kind, light in DIFF.items():
        marked = [f".netviz svg g.{what}.netviz-{kind} {shape}" for what in ("node", "cluster")
                  for shape in ("path", "polygon")]
        lines.append(f'{", ".join(marked)}, .netviz svg g.graph polygon[stroke="{light}"] '
                     f"{{ stroke: var(--netviz-diff-{kind}); }}")
    return lines


_GENERATED = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n", re.S)


def css_with_palette(text: str) -> str:
    """``text`` (netviz.css) with its generated palette block replaced by :func:`css`."""
    if not _GENERATED.search(text):
        raise ValueError("netviz.css has no generated palette block (its BEGIN and END comments)")
    return _GENERATED.sub(lambda _: css(), text, count=1)


def main(argv: list[str] | None = None) -> int:
    """Write the palette into ``static/netviz.css``; ``--check``: exit 1 if it is out of date."""
    argv = sys.argv[1:] if argv is None else argv
    text = CSS_FILE.read_text(encoding="utf-8")
    new = css_with_palette(text)
    if "--check" in argv:
        if new != text:
            print(f"{CSS_FILE} is out of date: run python -m sphinx_netviz.palette", file=sys.stderr)
            return 1
        return 0
    if new != text:
        CSS_FILE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
