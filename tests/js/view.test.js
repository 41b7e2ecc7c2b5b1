// The viewer's DOM-free parts (sphinx_netviz/static/netviz.js) under Node's own test
// runner: node --test tests/js  (tests/test_viewer_js.py runs this in the suite).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const nv = require("../../sphinx_netviz/static/netviz.js");

const { PT, MAX_SCALE, FIT_MARGIN, MIN_LABEL_PX, MIN_WIDTH_LABEL_PX, MIN_HEIGHT, PAD } = nv;
const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} is not ${b}`);

/** the drawing's box shown by ``view`` in ``vp`` */
function shown(view, vp) {
  const w = vp.w / view.s, h = vp.h / view.s;
  return { x: view.cx - w / 2, y: view.cy - h / 2, w, h };
}

function contains(outer, inner, eps = 1e-6) {
  return inner.x >= outer.x - eps && inner.y >= outer.y - eps &&
    inner.x + inner.w <= outer.x + outer.w + eps && inner.y + inner.h <= outer.y + outer.h + eps;
}

// Graphviz-like drawings, in points: labels mostly 9 pt
const TALL = { x: 0, y: 0, w: 216, h: 1242 };        // the seed CNN, top to bottom
const WIDE = { x: 0, y: 0, w: 2400, h: 90 };         // the CNN left to right
const SMALL = { x: 0, y: 0, w: 300, h: 400 };
const HUGE = { x: 0, y: 0, w: 5000, h: 9000 };       // ResNet-50 at depth 3
const BERT = { x: 0, y: 0, w: 791, h: 966 };         // a 4-layer BERT from a config, at depth 2
const COLUMN = { w: 734, h: 720 };

test("the module loads in Node without a page, exporting the view maths only", () => {
  assert.equal(typeof nv.ViewState, "function");
  assert.equal(typeof nv.firstView, "function");
  assert.equal(typeof globalThis.sphinxNetviz, "undefined");
});

test("parseViewBox reads viewBox, else width and height", () => {
  assert.deepEqual(nv.parseViewBox("0.00 0.00 216.00 1242.00"), { x: 0, y: 0, w: 216, h: 1242 });
  assert.deepEqual(nv.parseViewBox(" -4, 5,10 ,20 "), { x: -4, y: 5, w: 10, h: 20 });
  assert.deepEqual(nv.parseViewBox("0 0 0 10", "216pt", "80pt"), { x: 0, y: 0, w: 216, h: 80 });
  assert.deepEqual(nv.parseViewBox("a b c d", null, null), { x: 0, y: 0, w: 100, h: 100 });
  assert.deepEqual(nv.parseViewBox(null, "12", "bad"), { x: 0, y: 0, w: 12, h: 100 });
});

test("drawingBox: what is drawn with Graphviz's pad, else the viewBox", () => {
  // the merged drawing of docs/diff.rst at 390 px: Graphviz's box 341 pt wide, its legend (the
  // widest part) drawn over 307 pt: the margin Graphviz gives a graph label is not drawn
  const graphviz = { x: 0, y: 0, w: 341, h: 652 };
  const legend = nv.drawingBox({ x: 17.5, y: 4.2, w: 307, h: 643.8 }, graphviz);
  assert.deepEqual(legend, { x: 13.5, y: 0.2, w: 315, h: 651.8 });
  // at 356 px, fitted to its width: 10 % larger than fitted to Graphviz's box
  const column = { w: 356, h: 800 }, label = 9;
  const was = nv.firstScale(graphviz, column, label), now = nv.firstScale(legend, column, label);
  close(now.s / was.s, 341 / 315, 1e-9);
  assert.ok(now.s * label >= 9.8 && was.s * label < 9.1);
  // nothing measured (not shown yet, nothing drawn): Graphviz's box
  for (const drawn of [null, { x: 0, y: 0, w: 0, h: 10 }, { x: NaN, y: 0, w: 5, h: 5 }]) {
    assert.equal(nv.drawingBox(drawn, graphviz), graphviz);
  }
  // drawn past Graphviz's box (text wider in the browser's font): all of it
  assert.deepEqual(nv.drawingBox({ x: -2, y: 4, w: 340, h: 100 }, graphviz), { x: -6, y: 0, w: 348, h: 108 });
});

test("quantile takes the lower value and ignores what is not a size", () => {
  assert.equal(nv.quantile([11, 9, 9, 11, 9, 11, 11, 11], 0.25), 9);
  assert.equal(nv.quantile([11, 11, 11, 9], 0.25), 9);
  assert.equal(nv.quantile([14], 0.25), 14);
  assert.equal(nv.quantile([NaN, 0, -3, 10, 12], 0.5), 10);
  assert.equal(nv.quantile([], 0.25), 0);
});

test("fitView shows the whole drawing, centred, with the margin, at most at natural size", () => {
  for (const box of [TALL, WIDE, SMALL, HUGE, { x: -50, y: -700, w: 120, h: 30 }]) {
    const view = nv.fitView(box, COLUMN);
    assert.ok(view.s <= PT);
    close(view.cx, box.x + box.w / 2);
    close(view.cy, box.y + box.h / 2);
    const area = shown(view, COLUMN);
    assert.ok(contains(area, box));
    // the margin on the tighter side is FIT_MARGIN / 2 pixels (unless natural size leaves more)
    if (view.s < PT) {
      const spare = Math.min(area.w - box.w, area.h - box.h) * view.s;
      close(spare, FIT_MARGIN, 1e-6);
    }
  }
});

test("readableScale: labels of the given size become MIN_LABEL_PX pixels", () => {
  close(nv.readableScale(9) * 9, MIN_LABEL_PX);
  close(nv.readableScale(11) * 11, MIN_LABEL_PX);
  assert.equal(nv.readableScale(0), 0);
  assert.equal(nv.readableScale(0.01), MAX_SCALE);
});

test("firstScale: whole when readable, else the column's width, never below readable", () => {
  const small = nv.firstScale(SMALL, COLUMN, 9);
  assert.equal(small.whole, true);
  close(small.s, nv.fitView(SMALL, COLUMN).s);

  const tall = nv.firstScale(TALL, COLUMN, 9);  // fitting all of it: 5.7 px labels
  assert.equal(tall.whole, false);
  close(tall.s, PT);  // the column is wider than the drawing: natural size

  const wide = nv.firstScale(WIDE, { w: 734, h: 120 }, 9);
  assert.equal(wide.whole, false);
  close(wide.s, MIN_LABEL_PX / 9);  // the width would give 2.7 px labels

  const noLabels = nv.firstScale(HUGE, COLUMN, 0);
  assert.equal(noLabels.whole, true);
});

test("firstScale: wider than the column, fitted to its width while labels stay 8 px or more", () => {
  // the BERT in Furo's column: the width gives 8.2 px labels (not 10): fitted, and whole
  const bert = nv.firstScale(BERT, { w: 734, h: 900 }, 9);
  close(bert.s, (734 - FIT_MARGIN) / BERT.w);
  assert.ok(bert.s * 9 >= MIN_WIDTH_LABEL_PX && bert.s * 9 < MIN_LABEL_PX);
  assert.equal(bert.whole, true);
  // in a lower canvas: the same scale, the bottom out of view
  const low = nv.firstScale(BERT, { w: 734, h: 600 }, 9);
  close(low.s, bert.s);
  assert.equal(low.whole, false);
  // on a phone the width would give 3.9 px labels: readable, cut at the side
  const phone = nv.firstScale(BERT, { w: 356, h: 760 }, 9);
  close(phone.s, MIN_LABEL_PX / 9);
  assert.equal(phone.whole, false);
  // just below 8 px at the width: readable; just above: the width
  const at = (px) => nv.firstScale({ x: 0, y: 0, w: 1000, h: 50 }, { w: 1000 * px / 9 + FIT_MARGIN, h: 900 }, 9);
  close(at(7.9).s, MIN_LABEL_PX / 9);
  close(at(8.1).s * 9, 8.1);
  assert.equal(at(8.1).whole, true);
});

test("firstView of a tall drawing opens at its top, centred on its input", () => {
  const input = { x: 60, y: 4, w: 96, h: 30 };
  const view = nv.firstView(TALL, COLUMN, 9, input);
  const area = shown(view, COLUMN);
  close(area.y, TALL.y - FIT_MARGIN / 2 / view.s);  // the top, with half the margin
  close(view.cx, TALL.x + TALL.w / 2);  // narrower than the column: centred across
  assert.ok(contains(area, input));
  assert.ok(view.s * 9 >= MIN_LABEL_PX);
});

test("firstView of a wide drawing opens at its left end, and of a huge one at its input", () => {
  const vp = { w: 734, h: 120 };
  const left = nv.firstView(WIDE, vp, 9, { x: 4, y: 30, w: 80, h: 30 });
  close(shown(left, vp).x, WIDE.x - FIT_MARGIN / 2 / left.s);
  // the height fits: at the top, the overview's room below it
  close(shown(left, vp).y, WIDE.y - FIT_MARGIN / 2 / left.s);
  assert.equal(nv.overviewCorner(WIDE, { x: 4, y: 30, w: 80, h: 30 }).bottom, true);
  // an input at the bottom: the overview on top, the drawing at the bottom
  const up = shown(nv.firstView(WIDE, vp, 9, { x: 4, y: 60, w: 80, h: 30 }), vp);
  close(up.y + up.h, WIDE.y + WIDE.h + FIT_MARGIN / 2 / left.s);

  const input = { x: 2000, y: 10, w: 100, h: 30 };
  const huge = nv.firstView(HUGE, COLUMN, 9, input);
  const area = shown(huge, COLUMN);
  close(huge.cx, input.x + input.w / 2);  // centred on the input across
  assert.ok(contains(area, input));
  assert.ok(area.y < HUGE.y);  // and at the top
  // an input near the edge: the view stays on the drawing
  const edge = nv.firstView(HUGE, COLUMN, 9, { x: 4900, y: 8900, w: 90, h: 90 });
  const edgeArea = shown(edge, COLUMN);
  close(edgeArea.x + edgeArea.w, HUGE.x + HUGE.w + FIT_MARGIN / 2 / edge.s);
  close(edgeArea.y + edgeArea.h, HUGE.y + HUGE.h + FIT_MARGIN / 2 / edge.s);
  // no input known: the top left corner
  const corner = shown(nv.firstView(HUGE, COLUMN, 9, null), COLUMN);
  assert.ok(corner.x < HUGE.x && corner.y < HUGE.y);
});

test("the first view: whole when readable, never cut at the side when the width reads, else readable", () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const outcomes = { whole: 0, widthWhole: 0, cutBelow: 0, cutSide: 0 };
  for (let i = 0; i < 4000; i++) {
    const box = { x: 0, y: 0, w: 20 + random() * 8000, h: 20 + random() * 8000 };
    const label = 6 + random() * 10;
    const width = 300 + random() * 1500;
    const height = nv.canvasHeight(box, width, label, 800);
    const why = JSON.stringify({ box, label, width, height });
    assert.ok(height >= MIN_HEIGHT && height <= 800, why);
    const vp = { w: width, h: height };
    const view = nv.firstView(box, vp, label, null);
    const area = shown(view, vp);
    const whole = contains(area, box);
    const widthScale = Math.min(PT, (width - FIT_MARGIN) / box.w);
    const px = view.s * label;
    assert.ok(view.s <= PT + 1e-9 || px <= MIN_LABEL_PX + 1e-9, why);  // never blown up past either
    assert.ok(px >= MIN_WIDTH_LABEL_PX - 1e-9 || whole, why);
    if (whole) {
      // readable, or the column's width (labels 8 px or more)
      assert.ok(px >= MIN_LABEL_PX - 1e-9 || Math.abs(view.s - widthScale) < 1e-9, why);
      assert.equal(nv.hidesPart(view, vp, box), false, why);
      outcomes[px >= MIN_LABEL_PX - 1e-9 ? "whole" : "widthWhole"]++;
    } else {
      assert.equal(nv.hidesPart(view, vp, box), true, why);  // so the overview shows
      // a canvas below the limit holds the drawing's height
      assert.ok(height === 800 || box.h * view.s + FIT_MARGIN <= height + 1, why);
      const side = area.x > box.x + 1e-6 || area.x + area.w < box.x + box.w - 1e-6;
      // cut at the side only where the column's width would give labels under 8 px
      if (side) assert.ok(widthScale * label < MIN_WIDTH_LABEL_PX, why);
      else assert.ok(px >= MIN_WIDTH_LABEL_PX - 1e-9, why);
      outcomes[side ? "cutSide" : "cutBelow"]++;
    }
    // a view the reader's moves keep (clampCentre leaves it as it is)
    const kept = nv.clampCentre(view, box, vp);
    close(kept.cx, view.cx, 1e-6);
    close(kept.cy, view.cy, 1e-6);
    if (!whole && height < 800) {
      // cut at the side only: the overview fits beside the drawing, above or below it
      const room = Math.min(area.y + area.h - (box.y + box.h), box.y - area.y) * view.s;
      assert.ok(Math.max(area.y + area.h - (box.y + box.h), box.y - area.y) * view.s >=
                nv.overviewReserve(box, width) - 1, why);
      assert.ok(room <= FIT_MARGIN / 2 + 1e-6, why);
    }
  }
  for (const [k, n] of Object.entries(outcomes)) assert.ok(n >= 10, `${k}: ${n}`);  // all four happen
});

test("canvasHeight: the drawing's height at the first view's scale, bounded", () => {
  // a small drawing: as tall as it is drawn at the column's width (at most natural size)
  assert.equal(nv.canvasHeight(SMALL, 734, 9, 800), Math.round(SMALL.h * PT + FIT_MARGIN));
  // a drawing that is whole at the width: the canvas grows with it, up to the limit
  assert.equal(nv.canvasHeight(BERT, 734, 9, 900), Math.round(BERT.h * (734 - FIT_MARGIN) / BERT.w + FIT_MARGIN));
  assert.equal(nv.canvasHeight(BERT, 734, 9, 700), 700);
  // shrinking a drawing to fit, labels readable: as tall as it then is
  const shrunk = { x: 0, y: 0, w: 300, h: 900 };
  const s = (800 - FIT_MARGIN) / 900;
  assert.ok(s * 12 >= MIN_LABEL_PX);
  assert.equal(nv.canvasHeight(shrunk, 734, 12, 800), Math.round(900 * s + FIT_MARGIN));
  // a tall one: the limit
  assert.equal(nv.canvasHeight(TALL, 734, 9, 800), 800);
  assert.equal(nv.canvasHeight(TALL, 734, 9, 300), 300);
  // a wide, low one: tall enough for readable labels (not 48 px), and the overview below them
  const reserve = nv.overviewReserve(WIDE, 734);
  assert.equal(reserve, 24 + 14);  // a map 7 px tall: the button's height, its frame and gap
  assert.equal(nv.canvasHeight(WIDE, 734, 9, 800), Math.round(WIDE.h * MIN_LABEL_PX / 9 + FIT_MARGIN + reserve));
  // never lower than MIN_HEIGHT
  assert.equal(nv.canvasHeight({ x: 0, y: 0, w: 5000, h: 2 }, 734, 0, 800), MIN_HEIGHT);
});

test("hidesPart: any of the drawing out of view, not Graphviz's pad or half a pixel", () => {
  const vp = { w: 400, h: 300 };
  const box = { x: 0, y: 0, w: 400, h: 300 };
  const s = 1;
  assert.equal(nv.hidesPart({ cx: 200, cy: 150, s }, vp, box), false);
  // the pad around the drawing may be out of view
  assert.equal(nv.hidesPart({ cx: 200 + PAD, cy: 150, s }, vp, box), false);
  assert.equal(nv.hidesPart({ cx: 200 + PAD + 0.4, cy: 150, s }, vp, box), false);
  assert.equal(nv.hidesPart({ cx: 200 + PAD + 1, cy: 150, s }, vp, box), true);
  assert.equal(nv.hidesPart({ cx: 200, cy: 150 - PAD - 1, s }, vp, box), true);
  assert.equal(nv.hidesPart({ cx: 200, cy: 150, s: 1.02 }, vp, box), false);  // zoomed in: the pad
  assert.equal(nv.hidesPart({ cx: 200, cy: 150, s: 1.05 }, vp, box), true);  // zoomed in: the drawing
  assert.equal(nv.hidesPart(nv.fitView(TALL, COLUMN), COLUMN, TALL), false);
  assert.equal(nv.hidesPart(nv.firstView(TALL, COLUMN, 9, null), COLUMN, TALL), true);
  assert.deepEqual(nv.shownArea({ cx: 100, cy: 50, s: 2 }, { w: 400, h: 300 }), { x: 0, y: -25, w: 200, h: 150 });
});

test("overviewSize: the drawing in the space given, at most half its natural size", () => {
  const tall = nv.overviewSize(TALL, 180, 150);
  assert.equal(tall.h, 150);
  assert.equal(tall.w, Math.round(216 * 150 / 1242));
  close(tall.t, 150 / 1242);
  const wide = nv.overviewSize(WIDE, 180, 150);
  assert.equal(wide.w, 180);
  assert.equal(wide.h, Math.round(90 * 180 / 2400));
  const tiny = nv.overviewSize({ x: 0, y: 0, w: 60, h: 40 }, 180, 150);
  assert.deepEqual([tiny.w, tiny.h], [40, 27]);
  assert.deepEqual(nv.overviewSize({ x: 0, y: 0, w: 1e6, h: 1 }, 180, 150), { w: 180, h: 1, t: 180 / 1e6 });
});

test("overviewCorner: the corner farthest from the drawing's start", () => {
  const at = (x, y) => nv.overviewCorner(SMALL, { x: x - 5, y: y - 5, w: 10, h: 10 });
  assert.deepEqual(at(150, 10), { right: true, bottom: true });    // top to bottom: the input on top
  assert.deepEqual(at(10, 200), { right: true, bottom: true });    // left to right
  assert.deepEqual(at(290, 390), { right: false, bottom: false }); // the input at the bottom right
  assert.deepEqual(at(280, 20), { right: false, bottom: true });
  assert.deepEqual(nv.overviewCorner(SMALL, null), { right: true, bottom: true });
});

test("overviewShift keeps the overview in the window, in its half of the canvas", () => {
  // a canvas from 100 to 1000 px in a window 800 tall, the overview 160 px tall at its bottom
  assert.equal(nv.overviewShift(100, 1000, 800, 160, true), -200);
  assert.equal(nv.overviewShift(100, 700, 800, 160, true), 0);  // all of the canvas in the window
  assert.equal(nv.overviewShift(-2000, 900, 300, 160, true), -600);
  // the canvas's top only in the window: never above the canvas's middle
  assert.equal(nv.overviewShift(100, 1000, 200, 160, true), -(450 - 160 - 14));
  assert.equal(nv.overviewShift(100, 400, 200, 160, true), 0);  // no room
  // at the top corner: moves down while the canvas's top is above the window
  assert.equal(nv.overviewShift(-200, 700, 800, 160, false), 200);
  assert.equal(nv.overviewShift(50, 600, 800, 160, false), 0);
  assert.equal(nv.overviewShift(-900, 100, 800, 160, false), 500 - 160 - 14);
  assert.equal(nv.overviewShift(0, 100, 800, 160, true), 0);  // a canvas lower than the overview
});

test("zoomAround keeps the point under the pointer in place", () => {
  const view = { cx: 100, cy: 200, s: 1.5 };
  for (const [s, ox, oy] of [[3, 40, -25], [0.5, -300, 100], [1.5, 10, 10], [2, 0, 0]]) {
    const next = nv.zoomAround(view, s, ox, oy);
    assert.equal(next.s, s);
    close(view.cx + ox / view.s, next.cx + ox / next.s);
    close(view.cy + oy / view.s, next.cy + oy / next.s);
  }
  const centred = nv.zoomAround(view, 4);
  assert.deepEqual([centred.cx, centred.cy], [100, 200]);
});

test("clampCentre with a viewport: a drawing smaller than the view stays wholly in it", () => {
  const vp = { w: 600, h: 600 };  // at s = 1, the view is 600 units across: SMALL fits
  assert.deepEqual(nv.clampCentre({ cx: 50, cy: 380, s: 1 }, SMALL, vp), { cx: 50, cy: 380, s: 1 });
  const strip = { x: 0, y: 0, w: 300, h: 100 };
  const low = nv.clampCentre({ cx: 1000, cy: -1000, s: 1 }, strip, vp);
  assert.deepEqual(low, { cx: 300, cy: -200, s: 1 });  // its left and bottom edges at the view's
  assert.ok(contains(shown(low, vp), strip));
  const big = nv.clampCentre({ cx: 1e5, cy: -1e5, s: 1 }, HUGE, vp);
  assert.deepEqual(big, { cx: HUGE.w, cy: 0, s: 1 });  // bigger: the middle over it, as without vp
});

test("panView moves the drawing with the pointer; clampCentre keeps it in sight", () => {
  const view = nv.panView({ cx: 100, cy: 100, s: 2 }, 40, -20);
  assert.deepEqual(view, { cx: 80, cy: 110, s: 2 });
  assert.deepEqual(nv.clampCentre({ cx: -50, cy: 5000, s: 1 }, SMALL), { cx: 0, cy: 400, s: 1 });
  assert.deepEqual(nv.clampCentre({ cx: 20, cy: 30, s: 1 }, SMALL), { cx: 20, cy: 30, s: 1 });
});

test("centreView: at least natural size, out far enough for the target, within limits", () => {
  const vp = { w: 700, h: 500 };
  const box = { x: 10, y: 20, w: 30, h: 10 };
  const near = nv.centreView(box, vp, 0.2, 0.1);
  assert.deepEqual([near.cx, near.cy, near.s], [25, 25, PT]);
  const big = { x: 0, y: 0, w: 2000, h: 1000 };
  const out = nv.centreView(big, vp, 3, 0.1);
  close(out.s, nv.fitScale(big, vp, 24));
  assert.equal(nv.centreView(big, vp, 3, 0.5).s, 0.5);  // not below the smallest zoom
  assert.equal(nv.centreView({ x: 0, y: 0, w: 0, h: 0 }, vp, 10, 0.1).s, 10);
  assert.equal(nv.centreView({ x: 0, y: 0, w: 0, h: 0 }, vp, 99, 0.1).s, MAX_SCALE);
});

test("viewBoxOf is the view's area, to 1/100 unit", () => {
  assert.deepEqual(nv.viewBoxOf({ cx: 100, cy: 50, s: 2 }, { w: 400, h: 300 }), [0, -25, 200, 150]);
  assert.deepEqual(nv.viewBoxOf({ cx: 1, cy: 1, s: 3 }, { w: 10, h: 10 }), [-0.67, -0.67, 3.33, 3.33]);
});

test("pinch: the ratio of the distances, the new middle and how far it moved", () => {
  const step = nv.pinch({ x: 0, y: 0 }, { x: 10, y: 0 }, { x: -5, y: 2 }, { x: 15, y: 2 });
  assert.deepEqual(step, { factor: 2, mx: 5, my: 2, dx: 0, dy: 2 });
  assert.equal(nv.pinch({ x: 1, y: 1 }, { x: 1, y: 1 }, { x: 1, y: 1 }, { x: 4, y: 5 }).factor, 1);
});

test("ViewState: the first view and the fit follow the viewport, the reader's view stays", () => {
  const state = new nv.ViewState(TALL, 9, { x: 60, y: 4, w: 96, h: 30 });
  assert.deepEqual(state.viewBox(), [0, 0, 216, 1242]);  // no viewport yet: all of it
  state.zoomBy(2);
  assert.deepEqual(state.viewBox(), [0, 0, 216, 1242]);
  state.resize(734, 720);
  assert.equal(state.mode, "first");
  assert.deepEqual(state.view, nv.firstView(TALL, { w: 734, h: 720 }, 9, state.start));
  state.resize(500, 720);  // the column narrows: the first view again
  assert.deepEqual(state.view, nv.firstView(TALL, { w: 500, h: 720 }, 9, state.start));

  state.fit();
  state.resize(734, 720);
  assert.equal(state.mode, "fit");
  assert.deepEqual(state.view, nv.fitView(TALL, { w: 734, h: 720 }));

  state.panBy(0, -100);
  assert.equal(state.mode, null);
  const mine = state.view;
  state.resize(600, 720);
  assert.deepEqual(state.view, mine);
  const [x, y, w, h] = state.viewBox();
  close(w, 600 / mine.s, 0.01);
  close(h, 720 / mine.s, 0.01);
  close(x + w / 2, mine.cx, 0.01);
  close(y + h / 2, mine.cy, 0.01);
});

test("ViewState: zoom stays between a quarter of the fit and MAX_SCALE", () => {
  const state = new nv.ViewState(HUGE, 9, null);
  state.resize(734, 720);
  state.zoomBy(1e6, 100, 100);
  assert.equal(state.view.s, MAX_SCALE);
  state.zoomBy(1e-6);
  close(state.view.s, nv.minScale(HUGE, { w: 734, h: 720 }));
  close(state.view.s, Math.min(PT, nv.fitScale(HUGE, { w: 734, h: 720 })) / 4);
  state.panBy(1e7, 1e7);  // far away: the drawing stays in view, at the view's edge
  const far = shown(state.view, state.vp);
  assert.ok(contains(far, HUGE));
  close(far.x + far.w, HUGE.x + HUGE.w);
  close(far.y + far.h, HUGE.y + HUGE.h);
  state.centreOn({ x: 100, y: 200, w: 50, h: 20 });
  assert.deepEqual([state.view.cx, state.view.cy, state.view.s], [125, 210, PT]);
});

test("ViewState: moveTo (the overview) keeps the scale, and hidesPart follows the view", () => {
  const state = new nv.ViewState(TALL, 9, { x: 60, y: 4, w: 96, h: 30 });
  assert.equal(state.hidesPart(), false);  // no viewport yet
  state.moveTo(100, 100);
  assert.equal(state.view, null);
  state.resize(734, 720);
  assert.equal(state.hidesPart(), true);  // the first view of a tall drawing: its top
  const s = state.view.s;
  state.moveTo(108, 1000);
  assert.deepEqual(state.view, { cx: 108, cy: 1000, s });
  assert.equal(state.mode, null);
  state.moveTo(-500, 5000);  // past the drawing: its edge (the narrow drawing stays in view)
  close(shown(state.view, state.vp).x + shown(state.view, state.vp).w, TALL.w);
  assert.deepEqual([state.view.cy, state.view.s], [1242, s]);
  state.fit();
  assert.equal(state.hidesPart(), false);
});

test("matchingCalls finds paths and classes, in any case, and paths inside folded runs", () => {
  const calls = {
    "3": { path: "layers.1.attn", class: "Attention", paths: ["layers.1.attn", "layers.2.attn", "layers.3.attn"] },
    "1": { path: "embed", class: "Embedding" },
    "12": { path: "layers.1", class: "Block", paths: ["layers.1", "layers.2", "layers.3"] },
    "2": { path: "norm", class: "RMSNorm" },
  };
  assert.deepEqual(nv.matchingCalls(calls, "NORM"), ["2"]);
  assert.deepEqual(nv.matchingCalls(calls, "attention"), ["3"]);
  assert.deepEqual(nv.matchingCalls(calls, "layers.3.attn"), ["3"]);
  assert.deepEqual(nv.matchingCalls(calls, "layers.2"), ["3", "12"]);
  assert.deepEqual(nv.matchingCalls(calls, "layers.30"), []);
  assert.deepEqual(nv.matchingCalls(calls, "  "), []);
  assert.deepEqual(nv.matchingCalls(calls, "e"), ["1", "3", "12"]);  // numeric order, not "norm"
});

test("describe and the number formats", () => {
  assert.equal(nv.describe({ path: "conv.0", class: "Conv2d", out: ["1×16×170×170"] }),
               "conv.0: Conv2d, output 1×16×170×170");
  assert.equal(nv.describe({ path: "layers.1", class: "Block", repeat: 32 }), "layers.1: Block ×32");
  assert.equal(nv.describe({ class: "add" }, "x"), "add");
  assert.equal(nv.describe({}, "input: 1×3"), "input: 1×3");
  assert.equal(nv.formatCount(1216), "1,216");
  assert.equal(nv.formatCount(25557032), "25.6M");
  assert.equal(nv.formatCount(6738415616), "6.7B");
  assert.equal(nv.formatMacs(88040000), "88.0 MMAC");
  assert.equal(nv.formatMacs(999), "999 MAC");
  assert.equal(nv.formatMacs(4.09e9), "4.1 GMAC");
});
