#!/usr/bin/env python
"""What a reader sees of each diagram at first sight: every diagram of a built HTML folder, opened in Chromium.

    python benchmarks/first_view.py /tmp/html                      # 1300x1000 and 390x844, light
    python benchmarks/first_view.py /tmp/html --viewports 1300x1000 --scheme dark --json out.json

For every page of the folder with a diagram, at each viewport, the page is loaded as a reader
opens it (``file://``, no interaction) and each ``div.netviz`` is measured after the first
paint (two animation frames), with the script the pages were built with — so an old build and a
new one can be compared:

* ``whole``: every box (``g.node``) lies inside the diagram's canvas;
* ``overview``: some box is outside, and the overview (``.netviz-overview`` with its map) shows;
* ``cut``: some box is outside and there is no overview: nothing tells the reader it goes on.

``label px`` is the median font size, in CSS pixels, of the labels drawn in the visible canvas
(the SVG's ``font-size`` times its scale on the screen; a glyph box is ~1.1 times that);
``width px`` is the same for all labels when the drawing is fitted to the canvas's width (at
most its natural size); ``side`` says some box is out at the left or right.

Chromium is Debian's (``/usr/bin/chromium``, or ``NETVIZ_CHROMIUM``) driven by Playwright, as in
the browser tests (``tests/browser/test_first_view.py`` uses :func:`measure` too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("NETVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORTS = ((1300, 1000), (390, 844))
#: Graphviz's pad around a drawing, and the viewer's margin when it fits one (netviz.js)
PAD_UNITS = 4
FIT_MARGIN_PX = 12
#: CSS pixels per Graphviz point at a drawing's natural size
PT = 4 / 3

#: one record per diagram of the page (div.netviz that is not an error box), measured at once
_MEASURE = """(args) => {
    const [pad, margin, pt] = args;
    const median = (xs) => { const s = xs.filter(x => isFinite(x)).sort((a, b) => a - b);
                             return s.length ? s[Math.floor((s.length - 1) / 2)] : 0; };
    const visible = (el) => !!el && el.getClientRects().length > 0
        && (el.checkVisibility ? el.checkVisibility({visibilityProperty: true}) : true);
    const rect = (r) => ({x: r.left, y: r.top, w: r.width, h: r.height});
    const out = [];
    document.querySelectorAll('div.netviz:not(.netviz-error)').forEach((div, index) => {
        const canvas = div.querySelector('.netviz-canvas');
        const svg = canvas && (canvas.querySelector(':scope > svg') || canvas.querySelector('svg'));
        if (!svg) return;
        const cr = canvas.getBoundingClientRect();
        const c = {x: cr.left + canvas.clientLeft, y: cr.top + canvas.clientTop,
                   w: canvas.clientWidth || cr.width, h: canvas.clientHeight || cr.height};
        let boxes = 0, outside = 0, side = 0;
        const inputs = [];
        svg.querySelectorAll('g.node').forEach(g => {
            const r = g.getBoundingClientRect();
            if (r.width <= 0 && r.height <= 0) return;
            boxes++;
            const left = r.left < c.x - 1, right = r.right > c.x + c.w + 1;
            if (left || right || r.top < c.y - 1 || r.bottom > c.y + c.h + 1) outside++;
            if (left || right) side++;
            if (/_in\\d+$/.test(g.id || '')) inputs.push(rect(r));
        });
        // everything drawn (boxes, clusters, edges, the graph's label: a legend): its union, to tell a part out of view
        let u = null;
        svg.querySelectorAll('g.node, g.cluster, g.edge, g.graph > g[id$="_graph"]').forEach(g => {
            const r = g.getBoundingClientRect();
            if (r.width <= 0 && r.height <= 0) return;
            u = u ? {l: Math.min(u.l, r.left), t: Math.min(u.t, r.top), r: Math.max(u.r, r.right),
                     b: Math.max(u.b, r.bottom)} : {l: r.left, t: r.top, r: r.right, b: r.bottom};
        });
        const drawnInside = !u || (u.l >= c.x - 1 && u.t >= c.y - 1 && u.r <= c.x + c.w + 1
                                   && u.b <= c.y + c.h + 1);
        const inView = [], all = [];
        svg.querySelectorAll('text').forEach(t => {
            const size = parseFloat(t.getAttribute('font-size'));
            if (!(size > 0)) return;
            all.push(size);
            const r = t.getBoundingClientRect();
            if (r.width <= 0 || r.height <= 0 || r.right < c.x || r.left > c.x + c.w
                || r.bottom < c.y || r.top > c.y + c.h) return;
            const m = t.getScreenCTM();
            if (m) inView.push(size * Math.hypot(m.a, m.b));
        });
        const graph = svg.querySelector('g.graph');
        let widthPx = 0;
        if (graph) {
            const width = graph.getBBox().width + 2 * pad;
            widthPx = median(all) * Math.min(pt, (c.w - margin) / width);
        }
        const ov = div.querySelector('.netviz-overview');
        const map = ov && ov.querySelector('.netviz-overview-map');
        const overview = visible(ov) && visible(map);
        const toolbar = div.querySelector('.netviz-toolbar');
        let toolbarOverflow = 0;
        if (toolbar) {
            const tr = toolbar.getBoundingClientRect();
            toolbarOverflow = Math.max(0, toolbar.scrollWidth - toolbar.clientWidth);
            toolbar.querySelectorAll('button, select, input').forEach(el => {
                const r = el.getBoundingClientRect();
                if (r.width > 0) toolbarOverflow = Math.max(toolbarOverflow, r.right - tr.right, tr.left - r.left);
            });
        }
        const dr = div.getBoundingClientRect();
        out.push({
            index: index + 1, id: div.id, js: div.classList.contains('netviz-js'),
            canvas: [Math.round(c.w), Math.round(c.h)], boxes, outside, side, drawn_inside: drawnInside,
            overview, overview_rect: overview ? rect(ov.getBoundingClientRect()) : null,
            canvas_rect: c, inputs,
            label_px: Math.round(median(inView) * 100) / 100, labels_in_view: inView.length,
            width_px: Math.round(widthPx * 100) / 100,
            toolbar_overflow: Math.round(toolbarOverflow * 10) / 10,
            page_overflow: Math.round(Math.max(0, dr.right - document.documentElement.clientWidth) * 10) / 10,
        });
    });
    return out;
}"""


@dataclass
class FirstView:
    """One diagram at one viewport, as measured by :func:`measure`."""

    page: str
    viewport: str
    scheme: str
    index: int
    id: str
    js: bool
    canvas: list[int]
    boxes: int
    outside: int
    side: int
    drawn_inside: bool
    overview: bool
    overview_rect: dict[str, float] | None
    canvas_rect: dict[str, float]
    inputs: list[dict[str, float]]
    label_px: float
    labels_in_view: int
    width_px: float
    toolbar_overflow: float
    page_overflow: float

    @property
    def outcome(self) -> str:
        """``whole``, ``overview`` or ``cut`` (see the module's docstring)."""
        if not self.outside:
            return "whole"
        return "overview" if self.overview else "cut"

    @property
    def name(self) -> str:
        return f"{self.page} #{self.index} ({self.id}) at {self.viewport} {self.scheme}"


def next_frames(page: Any, n: int = 2) -> None:
    """Wait for ``n`` animation frames: the viewer has written its first view by then."""
    for _ in range(n):
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => done()))")


def measure(page: Any, label: str, viewport: str = "", scheme: str = "") -> list[FirstView]:
    """The first view of every diagram in the loaded ``page`` (a Playwright page)."""
    next_frames(page)
    found = page.evaluate(_MEASURE, [PAD_UNITS, FIT_MARGIN_PX, PT])
    return [FirstView(page=label, viewport=viewport, scheme=scheme, **d) for d in found]


def diagram_pages(html: Path) -> list[Path]:
    """The pages of the built folder ``html`` that hold a diagram, in path order."""
    return sorted(p for p in html.rglob("*.html")
                  if "_sources" not in p.parts and 'class="netviz-canvas"' in p.read_text(encoding="utf-8"))


def open_pages(browser: Any, html: Path, viewport: tuple[int, int], scheme: str,
               watch: Callable[[Any], None] | None = None) -> Iterator[tuple[str, Any]]:
    """Each page of :func:`diagram_pages` loaded in one tab of a new context: (its path, the page);
    ``watch(page)`` is called once, before the first page loads."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=scheme)
    try:
        page = context.new_page()
        if watch:
            watch(page)
        for path in diagram_pages(html):
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            yield path.relative_to(html).as_posix(), page
    finally:
        context.close()


def run(html: Path, viewports: Iterable[tuple[int, int]] = VIEWPORTS, scheme: str = "light") -> list[FirstView]:
    """Every diagram of ``html`` at every viewport."""
    from playwright.sync_api import sync_playwright

    results: list[FirstView] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for w, h in viewports:
                for label, page in open_pages(browser, html, (w, h), scheme):
                    results += measure(page, label, f"{w}x{h}", scheme)
        finally:
            browser.close()
    return results


def table(results: list[FirstView]) -> str:
    """A Markdown table: one row per diagram, one pair of columns per viewport."""
    viewports = list(dict.fromkeys(r.viewport for r in results))
    rows: dict[tuple[str, int], dict[str, FirstView]] = {}
    for r in results:
        rows.setdefault((r.page, r.index), {})[r.viewport] = r
    head = ["page", "#", "boxes"]
    for v in viewports:
        head += [f"{v}", "label px", "width px"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (page, index), by in rows.items():
        any_r = next(iter(by.values()))
        cells = [page, str(index), str(any_r.boxes)]
        for v in viewports:
            r = by.get(v)
            if r is None:
                cells += ["", "", ""]
                continue
            what = r.outcome + (f" ({r.boxes - r.outside}/{r.boxes} in view{', side' if r.side else ''})"
                                if r.outside else "")
            cells += [what, f"{r.label_px:.1f}", f"{r.width_px:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    counts = []
    for v in viewports:
        of = [r for r in results if r.viewport == v]
        tally = {k: sum(r.outcome == k for r in of) for k in ("whole", "overview", "cut")}
        counts.append(f"{v}: " + ", ".join(f"{n} {k}" for k, n in tally.items()) + f" of {len(of)}")
    return "\n".join(lines) + "\n\n" + "; ".join(counts)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="a built HTML folder (sphinx-build -b html)")
    parser.add_argument("--viewports", default=",".join(f"{w}x{h}" for w, h in VIEWPORTS),
                        help="WxH,WxH... (default: %(default)s)")
    parser.add_argument("--scheme", choices=("light", "dark"), default="light",
                        help="the system colour scheme the pages see (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args(argv)
    viewports = [tuple(int(n) for n in v.lower().split("x")) for v in args.viewports.split(",") if v]
    if not diagram_pages(args.html):
        print(f"no page with a diagram under {args.html}", file=sys.stderr)
        return 2
    results = run(args.html, viewports, args.scheme)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"outcome": r.outcome} for r in results], indent=1),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
