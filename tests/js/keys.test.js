// The viewer's arrow keys and layer links without a page (sphinx_netviz/static/netviz.js):
// node --test tests/js  (tests/test_viewer_js.py runs this in the suite).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const nv = require("../../sphinx_netviz/static/netviz.js");

/** a drawing for navStep: boxes {id: [x, y]} 40×20, clusters {id: [x, y, w, h]}, edges [a, b] */
function drawing(boxes, clusters, edges) {
  const items = {}, succ = {}, pred = {};
  for (const [id, [x, y]] of Object.entries(boxes)) items[id] = { x, y, w: 40, h: 20, cluster: false, label: null };
  for (const [id, [x, y, w, h]] of Object.entries(clusters)) {
    items[id] = { x, y, w, h, cluster: true, label: { x: x + 2, y: y + 2, w: 30, h: 8 } };
  }
  for (const [a, b] of edges) {
    (succ[a] = succ[a] || []).push(b);
    (pred[b] = pred[b] || []).push(a);
  }
  return { items, succ, pred, flow: nv.flowOf(items, succ) };
}

const to = (nav, id, key, memo) => (nv.navStep(nav, id, key, memo) || {}).to || null;

test("top to bottom: down and up follow the edges, left and right stay on the rank", () => {
  // in0 -> a -> (b, c) -> d
  const nav = drawing({ in0: [50, 0], a: [50, 40], b: [0, 80], c: [100, 80], d: [50, 120] }, {},
                      [["in0", "a"], ["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"]]);
  assert.deepEqual(nav.flow, { x: 0, y: 1 });
  assert.equal(to(nav, "in0", "ArrowDown"), "a");
  assert.ok(["b", "c"].includes(to(nav, "a", "ArrowDown")));
  assert.equal(to(nav, "b", "ArrowRight"), "c");
  assert.equal(to(nav, "c", "ArrowLeft"), "b");
  assert.equal(to(nav, "c", "ArrowRight"), null);
  assert.equal(to(nav, "d", "ArrowUp", { prev: "c" }), "c"); // back where the reader came from
  assert.equal(to(nav, "in0", "ArrowUp"), null);
});

test("left to right: the axes swap", () => {
  const nav = drawing({ in0: [0, 50], a: [60, 50], b: [120, 0], c: [120, 100] }, {},
                      [["in0", "a"], ["a", "b"], ["a", "c"]]);
  assert.deepEqual(nav.flow, { x: 1, y: 0 });
  assert.equal(to(nav, "in0", "ArrowRight"), "a");
  assert.equal(to(nav, "a", "ArrowLeft"), "in0");
  assert.equal(to(nav, "b", "ArrowDown"), "c");
  assert.equal(to(nav, "c", "ArrowUp"), "b");
});

test("a cluster's label is a stop on the way in and out", () => {
  const nav = drawing({ in0: [50, 0], a: [50, 60], b: [50, 100], out0: [50, 160] }, { k: [30, 45, 80, 90] },
                      [["in0", "a"], ["a", "b"], ["b", "out0"]]);
  const down = nv.navStep(nav, "in0", "ArrowDown");
  assert.deepEqual([down.to, down.then], ["k", "a"]);
  assert.equal(to(nav, "k", "ArrowDown", { next: "a" }), "a");
  assert.equal(to(nav, "k", "ArrowDown"), "a"); // where the cluster starts
  assert.equal(to(nav, "b", "ArrowDown"), "out0"); // out at the bottom: no stop
  assert.equal(to(nav, "a", "ArrowUp"), "k");
  assert.equal(to(nav, "k", "ArrowUp"), "in0");
});

test("layer links: fragments round-trip, folded blocks and ancestors stand in", () => {
  const calls = {
    0: { kind: "module", path: "", repeat: 1, paths: [] },
    1: { kind: "module", path: "layers.0", repeat: 3, paths: ["layers.0", "layers.1", "layers.2"] },
    2: { kind: "module", path: "layers.0.attn", repeat: 1, paths: [] },
    3: { kind: "function", path: "", link: "layers.0.add", repeat: 1, paths: [] },
    4: { kind: "module", path: "head/x", link: "head/x", repeat: 1, paths: [] },
  };
  assert.deepEqual(nv.linkTargets(calls, "layers.2.attn"), ["k2", "k1"]);
  assert.deepEqual(nv.linkTargets(calls, "layers.1.attn.q"), ["k2", "k1"]);
  assert.deepEqual(nv.linkTargets(calls, "layers.2.add"), ["k3", "k1"]);
  assert.deepEqual(nv.linkTargets(calls, "layers.0"), ["k1"]);
  assert.deepEqual(nv.linkTargets(calls, ""), ["k0"]);
  assert.deepEqual(nv.linkTargets(calls, "input-2"), ["in1"]);
  assert.deepEqual(nv.linkTargets(calls, "nothing.here"), []);
  const href = nv.layerFragment("fig one", "head/x");
  assert.equal(href, "#fig%20one/head%2Fx");
  assert.deepEqual(nv.parseFragment(href), { anchor: "fig one", link: "head/x" });
  assert.deepEqual(nv.parseFragment("#a/b/c"), { anchor: "a", link: "b/c" });
  assert.deepEqual(nv.parseFragment("#a"), { anchor: "a", link: null });
  assert.equal(nv.parseFragment(""), null);
});
