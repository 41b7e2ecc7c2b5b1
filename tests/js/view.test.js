// The viewer's DOM-free parts (sphinx_netviz/static/netviz.js) under Node's own test
// runner: node --test tests/js  (tests/test_viewer_js.py runs this in the suite).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const nv = require("../../sphinx_netviz/static/netviz.js");

const { PT, MAX_SCALE, FIT_MARGIN, MIN_LABEL_PX, MIN_HEIGHT } = nv;
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
  close(left.cy, WIDE.y + WIDE.h / 2);  // the height fits: centred

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

test("the first view is readable or whole for drawings of every shape", () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 2000; i++) {
    const box = { x: 0, y: 0, w: 20 + random() * 8000, h: 20 + random() * 8000 };
    const label = 6 + random() * 10;
    const width = 300 + random() * 1500;
    const height = nv.canvasHeight(box, width, label, 800);
    assert.ok(height >= MIN_HEIGHT && height <= 800, `height ${height}`);
    const vp = { w: width, h: height };
    const view = nv.firstView(box, vp, label, null);
    const whole = contains(shown(view, vp), box);
    assert.ok(view.s * label >= MIN_LABEL_PX - 1e-9 || whole, JSON.stringify({ box, label, width, view }));
    assert.ok(view.s <= PT + 1e-9 || view.s * label <= MIN_LABEL_PX + 1e-9);
    // the middle of the view is over the drawing
    assert.ok(view.cx >= box.x && view.cx <= box.x + box.w && view.cy >= box.y && view.cy <= box.y + box.h);
  }
});

test("canvasHeight: the drawing's height at the first view's scale, bounded", () => {
  // a small drawing: as tall as it is drawn at the column's width (at most natural size)
  assert.equal(nv.canvasHeight(SMALL, 734, 9, 800), Math.round(SMALL.h * PT));
  // a tall one: the limit
  assert.equal(nv.canvasHeight(TALL, 734, 9, 800), 800);
  assert.equal(nv.canvasHeight(TALL, 734, 9, 300), 300);
  // a wide, low one: tall enough for readable labels (not 48 px)
  assert.equal(nv.canvasHeight(WIDE, 734, 9, 800), Math.round(WIDE.h * MIN_LABEL_PX / 9 + FIT_MARGIN));
  // never lower than MIN_HEIGHT
  assert.equal(nv.canvasHeight({ x: 0, y: 0, w: 5000, h: 2 }, 734, 0, 800), MIN_HEIGHT);
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
  state.panBy(1e7, 1e7);  // far away: the middle stays on the drawing
  assert.deepEqual([state.view.cx, state.view.cy], [HUGE.x, HUGE.y]);
  state.centreOn({ x: 100, y: 200, w: 50, h: 20 });
  assert.deepEqual([state.view.cx, state.view.cy, state.view.s], [125, 210, PT]);
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
