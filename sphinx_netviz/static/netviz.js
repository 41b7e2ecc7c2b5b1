/* sphinx-netviz viewer: pan and zoom, expand and collapse, search and details
 * for the network diagrams that sphinx-netviz inlines in HTML pages.
 *
 * Plain ES2018, no dependencies, no network: one classic script, so it works
 * from file:// too.  Every div.netviz is set up on DOMContentLoaded; without
 * JavaScript the page keeps the static SVG.  Each diagram holds the SVG of its
 * default depth in .netviz-canvas, one <template class="netviz-layout"
 * data-depth="N"> per other depth (real Graphviz layouts made at build time),
 * and the details of every drawn call in <script type="application/json"
 * class="netviz-data">.  SVG ids are <prefix>_n<call> (boxes), <prefix>_c<call>
 * (clusters: the same call drawn expanded), <prefix>_in<k>, _out<k>,
 * _r_n<call>, _e<k>, _graph; the prefix is in the data (a page that shows the
 * same diagram twice gives the second one its own).
 *
 * The file is made of small parts:
 *   view maths   DOM-free: fit, first view, zoom, pan, view box (numbers in,
 *                numbers out), and ViewState, which holds one diagram's view;
 *                with the search matching and number formats, exported for
 *                Node's test runner (tests/js) when loaded as a module
 *   Layouts      the depths a diagram was drawn at, and which boxes each draws
 *   Search       finding boxes by attribute path or class
 *   DetailsPanel the panel shown beside a hovered or focused box
 *   Toolbar      the buttons, depth menu and search box above the canvas
 *   Overview     a thumbnail map of the drawing, shown while part of it is
 *                out of view
 *   fullscreen   one document listener for every diagram on the page
 *   Viewer       one diagram: sets the parts up, handles its events, and
 *                dispose() takes it all down again
 *   start        a viewer on every div.netviz; window.sphinxNetviz.init() and
 *                .dispose() start and stop them on a page that swaps content
 *
 * The first view (firstScale): a diagram that fits the column with labels at
 * least MIN_LABEL_PX tall is shown whole, in a canvas that grows with it; one
 * wider than the column is fitted to its width when labels stay at least
 * MIN_WIDTH_LABEL_PX tall (never cut at the side then); else it opens readable
 * at the start of the drawing (its inputs).  While any of it is out of view,
 * the Overview shows in the canvas's corner away from the start; "fit" shows
 * it all.  The drawing's box is what it draws (boxes, clusters, edges, a
 * legend) with Graphviz's pad, measured once it is shown (drawingBox), not
 * Graphviz's viewBox, which gives a legend an undrawn margin.  The canvas is at most --netviz-height tall (CSS, 90vh;
 * data-netviz-height on the div.netviz sets it for one diagram).  The view box
 * is written at most once per animation frame while a pointer drags or
 * pinches or the wheel zooms.
 *
 * Text from the model is only ever inserted with textContent or as an
 * attribute value, never parsed as HTML.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var XLINK_NS = "http://www.w3.org/1999/xlink";
  /** CSS pixels per Graphviz point at the SVG's natural size */
  var PT = 4 / 3;
  /** largest zoom, in pixels per point */
  var MAX_SCALE = 10 * PT;
  /** the canvas's height limit when CSS gives none, as a fraction of the window */
  var MAX_HEIGHT = 0.9;
  /** the lowest canvas, in pixels */
  var MIN_HEIGHT = 48;
  var ZOOM_STEP = 1.25;
  /** pixels left around the drawing when it is fitted */
  var FIT_MARGIN = 12;
  /** the first view shows a drawing whole, or pans over it, with labels at least this tall
   * (font size in pixels of the median label of the drawing) */
  var MIN_LABEL_PX = 10;
  /** ... but a drawing wider than the column is fitted to its width, not cut at the side,
   * when its labels are this tall or more at that scale */
  var MIN_WIDTH_LABEL_PX = 8;
  /** Graphviz's pad around the drawing, in SVG units: part of the view box, not of the drawing */
  var PAD = 4;
  /** the overview's map at most this big in pixels, and this share of the canvas */
  var OVERVIEW_PX = { w: 180, h: 150 };
  var OVERVIEW_SHARE = { w: 0.4, h: 0.45 };
  /** the overview's button (netviz.css), and what its frame and its gap to the canvas's edge add */
  var OVERVIEW_BUTTON = 24, OVERVIEW_CHROME = 8 + 6;
  /** a pointer that moved this many pixels (|dx| + |dy|) drags; less is a click */
  var DRAG_PX = 4;

  // == view maths: no DOM ======================================================
  //
  // Boxes are {x, y, w, h} in SVG units (Graphviz points), viewports {w, h} in
  // CSS pixels, views {cx, cy, s}: the point of the drawing at the middle of
  // the viewport, and pixels per SVG unit.

  function clamp(value, lo, hi) {
    return Math.max(lo, Math.min(hi, value));
  }

  /** the box of an SVG from its viewBox attribute, else its width and height */
  function parseViewBox(viewBox, width, height) {
    var parts = String(viewBox || "").trim().split(/[\s,]+/).map(Number);
    if (parts.length === 4 && parts.every(isFinite) && parts[2] > 0 && parts[3] > 0) {
      return { x: parts[0], y: parts[1], w: parts[2], h: parts[3] };
    }
    return { x: 0, y: 0, w: parseFloat(width) || 100, h: parseFloat(height) || 100 };
  }

  /** the box the view maths use for a drawing: what is drawn (``drawn``: the bounding box of
   * its boxes, clusters, edges, labels and legend, in SVG units) with Graphviz's PAD around it;
   * ``viewBox`` (Graphviz's box) while nothing could be measured (a drawing not shown yet).
   * Graphviz's box can be wider than what it draws: it gives a graph label (the legend of a
   * diff or of :color-by:) a margin on each side, so fitting it would shrink the labels for
   * empty margin and show the overview over a drawing that is all in view */
  function drawingBox(drawn, viewBox) {
    var ok = drawn && [drawn.x, drawn.y, drawn.w, drawn.h].every(isFinite) && drawn.w > 0 && drawn.h > 0;
    if (!ok) return viewBox;
    var lo = function (n) { return Math.floor(n * 100) / 100; }, hi = function (n) { return Math.ceil(n * 100) / 100; };
    var x = lo(drawn.x - PAD), y = lo(drawn.y - PAD);
    return { x: x, y: y, w: hi(drawn.x + drawn.w + PAD - x), h: hi(drawn.y + drawn.h + PAD - y) };
  }

  /** the value at fraction q (0…1) of the sorted numbers, or 0 for none */
  function quantile(values, q) {
    var sorted = values.filter(function (v) { return isFinite(v) && v > 0; })
      .sort(function (a, b) { return a - b; });
    return sorted.length ? sorted[Math.floor((sorted.length - 1) * q)] : 0;
  }

  /** the scale that shows all of ``box`` in ``vp``, ``pad`` pixels to spare */
  function fitScale(box, vp, pad) {
    pad = pad || 0;
    return Math.min((vp.w - pad) / box.w, (vp.h - pad) / box.h);
  }

  /** the scale at which labels of ``labelSize`` units are MIN_LABEL_PX tall (0: no labels) */
  function readableScale(labelSize) {
    return labelSize > 0 ? Math.min(MAX_SCALE, MIN_LABEL_PX / labelSize) : 0;
  }

  /** the whole drawing, centred, at most at its natural size */
  function fitView(box, vp) {
    return { cx: box.x + box.w / 2, cy: box.y + box.h / 2, s: Math.min(PT, fitScale(box, vp, FIT_MARGIN)) };
  }

  /** the first view's scale, and whether all of the drawing is in view ({s, whole}): all of it
   * if that is readable; else the column's width (at most the natural size) if labels stay
   * MIN_WIDTH_LABEL_PX tall or more at that scale; else the readable scale (cut at the side) */
  function firstScale(box, vp, labelSize) {
    var all = Math.min(PT, fitScale(box, vp, FIT_MARGIN));
    var readable = readableScale(labelSize);
    if (all >= readable) return { s: all, whole: true };
    var width = Math.min(PT, (vp.w - FIT_MARGIN) / box.w);
    var s = width * labelSize >= MIN_WIDTH_LABEL_PX ? width : readable;
    // the canvas's height is rounded to whole pixels: a pixel to spare
    return { s: s, whole: box.w * s + FIT_MARGIN <= vp.w + 1 && box.h * s + FIT_MARGIN <= vp.h + 1 };
  }

  /** ``c`` as the middle of a window ``2 * half`` wide over [lo, hi]: centred when the
   * window holds all of it, else as near ``c`` as keeps the window inside */
  function anchor(c, lo, hi, half) {
    if (hi - lo <= 2 * half) return (lo + hi) / 2;
    return clamp(c, lo + half, hi - half);
  }

  /** the first view of ``box`` in ``vp``: see firstScale; a drawing bigger than the
   * viewport shows its start (``start``, the inputs' box; else its top left corner) */
  function firstView(box, vp, labelSize, start) {
    var f = firstScale(box, vp, labelSize);
    var view = { cx: box.x + box.w / 2, cy: box.y + box.h / 2, s: f.s };
    if (f.whole) return view;
    var pad = FIT_MARGIN / 2 / f.s;
    var sx = start ? start.x + start.w / 2 : box.x;
    var sy = start ? start.y + start.h / 2 : box.y;
    view.cx = anchor(sx, box.x - pad, box.x + box.w + pad, vp.w / 2 / f.s);
    var half = vp.h / 2 / f.s;
    if (box.h + 2 * pad < 2 * half) {
      // cut at the side only, in a canvas with room for the overview (canvasHeight): the
      // drawing at the edge away from it
      view.cy = overviewCorner(box, start).bottom ? box.y - pad + half : box.y + box.h + pad - half;
    } else {
      view.cy = anchor(sy, box.y - pad, box.y + box.h + pad, half);
    }
    return view;
  }

  /** the canvas height, in pixels, for ``box`` in a column ``width`` wide: as tall as the
   * drawing at the first view's scale in a canvas ``maxHeight`` tall (see firstScale), between
   * MIN_HEIGHT and ``maxHeight``: a drawing that can be shown whole is, in a canvas that
   * grows with it */
  function canvasHeight(box, width, labelSize, maxHeight) {
    var first = firstScale(box, { w: width, h: maxHeight }, labelSize);
    var height = box.h * first.s + FIT_MARGIN;
    // cut at the side only: room for the overview above or below the drawing
    if (!first.whole) height += overviewReserve(box, width);
    return Math.round(clamp(height, MIN_HEIGHT, Math.max(MIN_HEIGHT, maxHeight)));
  }

  /** the part of the drawing ``view`` shows in ``vp``, as a box in SVG units */
  function shownArea(view, vp) {
    var w = vp.w / view.s, h = vp.h / view.s;
    return { x: view.cx - w / 2, y: view.cy - h / 2, w: w, h: h };
  }

  /** whether ``view`` leaves part of the drawing ``box`` (its view box: the drawing and
   * Graphviz's PAD around it) out of ``vp``; half a pixel is not a part */
  function hidesPart(view, vp, box) {
    var a = shownArea(view, vp), slack = 0.5 / view.s;
    var pad = Math.min(PAD, box.w / 4, box.h / 4);
    return box.x + pad < a.x - slack || box.y + pad < a.y - slack ||
      box.x + box.w - pad > a.x + a.w + slack || box.y + box.h - pad > a.y + a.h + slack;
  }

  /** the overview's size in pixels for ``box``, at most ``maxW`` × ``maxH`` and never larger
   * than half the natural size: {w, h, t} (t: pixels per SVG unit) */
  function overviewSize(box, maxW, maxH) {
    var t = Math.min(maxW / box.w, maxH / box.h, PT / 2);
    return { w: Math.max(1, Math.round(box.w * t)), h: Math.max(1, Math.round(box.h * t)), t: t };
  }

  /** the height the overview of ``box`` takes in a canvas ``width`` pixels wide, with its gap */
  function overviewReserve(box, width) {
    var map = overviewSize(box, Math.min(OVERVIEW_PX.w, OVERVIEW_SHARE.w * width), OVERVIEW_PX.h);
    return Math.max(map.h, OVERVIEW_BUTTON) + OVERVIEW_CHROME;
  }

  /** how far (pixels down) the overview, ``height`` pixels tall in the canvas's bottom corner
   * (``atBottom``) or top corner, moves so that it stays in a window ``winH`` tall while the
   * canvas, from ``top`` to ``bottom`` in the window, runs past the window's edge; it stays in
   * its half of the canvas (away from the drawing's start) */
  function overviewShift(top, bottom, winH, height, atBottom) {
    var room = Math.max(0, (bottom - top) / 2 - height - OVERVIEW_CHROME);
    return atBottom ? 0 - clamp(bottom - winH, 0, room) : clamp(-top, 0, room);
  }

  /** the canvas corner the overview takes: the one farthest from the drawing's ``start``
   * (its inputs' box), so it never covers where the drawing begins; bottom right by default */
  function overviewCorner(box, start) {
    if (!start) return { right: true, bottom: true };
    var sx = start.x + start.w / 2 - (box.x + box.w / 2), sy = start.y + start.h / 2 - (box.y + box.h / 2);
    return { right: sx <= 0, bottom: sy <= 0 };
  }

  /** the smallest zoom: a quarter of the fitted scale */
  function minScale(box, vp) {
    return Math.min(PT, fitScale(box, vp)) / 4;
  }

  /** ``view`` with its middle kept over the drawing: it cannot be panned out of sight; given
   * the viewport ``vp``, a drawing narrower (lower) than the view may also sit anywhere in it */
  function clampCentre(view, box, vp) {
    var hw = vp ? vp.w / 2 / view.s : 0, hh = vp ? vp.h / 2 / view.s : 0;
    return {
      cx: clamp(view.cx, Math.min(box.x, box.x + box.w - hw), Math.max(box.x + box.w, box.x + hw)),
      cy: clamp(view.cy, Math.min(box.y, box.y + box.h - hh), Math.max(box.y + box.h, box.y + hh)),
      s: view.s
    };
  }

  /** ``view`` at scale ``s``, the point ``ox, oy`` pixels from the viewport's middle kept in place */
  function zoomAround(view, s, ox, oy) {
    var px = view.cx + (ox || 0) / view.s, py = view.cy + (oy || 0) / view.s;
    return { cx: px - (ox || 0) / s, cy: py - (oy || 0) / s, s: s };
  }

  /** ``view`` with the drawing moved ``dx, dy`` pixels */
  function panView(view, dx, dy) {
    return { cx: view.cx - dx / view.s, cy: view.cy - dy / view.s, s: view.s };
  }

  /** a view centred on ``target`` (a box): at least the natural size (or ``s`` if more),
   * but out far enough to show all of it */
  function centreView(target, vp, s, lo) {
    s = Math.max(s, PT);
    if (target.w > 0 && target.h > 0) s = Math.min(s, fitScale(target, vp, 24));
    return { cx: target.x + target.w / 2, cy: target.y + target.h / 2, s: clamp(s, lo, MAX_SCALE) };
  }

  /** the viewBox [x, y, w, h] that shows ``view`` in ``vp`` (to 1/100 unit) */
  function viewBoxOf(view, vp) {
    var w = vp.w / view.s, h = vp.h / view.s;
    return [view.cx - w / 2, view.cy - h / 2, w, h].map(function (n) { return Math.round(n * 100) / 100; });
  }

  /** two pointers moved from [a0, b0] to [a1, b1] ({x, y} each): the zoom factor, the
   * middle after, and how far the middle moved */
  function pinch(a0, b0, a1, b1) {
    var d0 = Math.hypot(a0.x - b0.x, a0.y - b0.y), d1 = Math.hypot(a1.x - b1.x, a1.y - b1.y);
    var mx0 = (a0.x + b0.x) / 2, my0 = (a0.y + b0.y) / 2, mx1 = (a1.x + b1.x) / 2, my1 = (a1.y + b1.y) / 2;
    return { factor: d0 > 0 && d1 > 0 ? d1 / d0 : 1, mx: mx1, my: my1, dx: mx1 - mx0, dy: my1 - my0 };
  }

  /** One diagram's view: the drawing's box, the viewport, the view, and how it was
   * chosen (mode "first" or "fit" is chosen again when the viewport changes; null:
   * the reader's, kept).  No DOM: the Viewer gives it sizes and writes viewBox(). */
  function ViewState(box, labelSize, start) {
    this.box = box;
    this.labelSize = labelSize || 0;
    this.start = start || null;
    this.startKnown = !!start;
    this.vp = { w: 0, h: 0 };
    this.view = null;
    this.mode = "first";
  }

  ViewState.prototype.ready = function () {
    return this.vp.w > 0 && this.vp.h > 0;
  };

  /** a new viewport size; the first view or the fit follow it, the reader's view stays */
  ViewState.prototype.resize = function (w, h) {
    this.vp = { w: w, h: h };
    this.refresh();
  };

  ViewState.prototype.refresh = function () {
    if (this.mode === "first") this.first();
    else if (this.mode === "fit") this.fit();
    else if (this.view) this.view = clampCentre(this.view, this.box, this.vp);
  };

  ViewState.prototype.first = function () {
    this.mode = "first";
    this.view = this.ready() ? firstView(this.box, this.vp, this.labelSize, this.start)
      : { cx: this.box.x + this.box.w / 2, cy: this.box.y + this.box.h / 2, s: PT };
  };

  ViewState.prototype.fit = function () {
    this.mode = "fit";
    this.view = this.ready() ? fitView(this.box, this.vp)
      : { cx: this.box.x + this.box.w / 2, cy: this.box.y + this.box.h / 2, s: PT };
  };

  ViewState.prototype.minScale = function () {
    return minScale(this.box, this.vp);
  };

  /** zoom to scale ``s`` about the point ``ox, oy`` pixels from the viewport's middle */
  ViewState.prototype.zoomTo = function (s, ox, oy) {
    if (!this.view || !this.ready()) return;
    s = clamp(s, this.minScale(), MAX_SCALE);
    this.view = clampCentre(zoomAround(this.view, s, ox, oy), this.box, this.vp);
    this.mode = null;
  };

  /** move the view's middle to the point ``cx, cy`` (SVG units) of the drawing (the overview) */
  ViewState.prototype.moveTo = function (cx, cy) {
    if (!this.view || !this.ready()) return;
    this.view = clampCentre({ cx: cx, cy: cy, s: this.view.s }, this.box, this.vp);
    this.mode = null;
  };

  /** whether part of the drawing is out of view (false while there is no viewport) */
  ViewState.prototype.hidesPart = function () {
    return !!this.view && this.ready() && hidesPart(this.view, this.vp, this.box);
  };

  ViewState.prototype.zoomBy = function (factor, ox, oy) {
    if (this.view) this.zoomTo(this.view.s * factor, ox, oy);
  };

  ViewState.prototype.panBy = function (dx, dy) {
    if (!this.view || !this.ready()) return;
    this.view = clampCentre(panView(this.view, dx, dy), this.box, this.vp);
    this.mode = null;
  };

  /** centre ``target`` (a box in SVG units) */
  ViewState.prototype.centreOn = function (target) {
    if (!this.view || !this.ready()) return;
    this.view = clampCentre(centreView(target, this.vp, this.view.s, this.minScale()), this.box, this.vp);
    this.mode = null;
  };

  /** the viewBox to write: the view, or the whole drawing while there is no viewport */
  ViewState.prototype.viewBox = function () {
    if (!this.view || !this.ready()) return [this.box.x, this.box.y, this.box.w, this.box.h];
    return viewBoxOf(this.view, this.vp);
  };

  // -- data without DOM: numbers, descriptions, search matching --------------------

  function formatCount(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(1) + "B";
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function formatMacs(n) {
    var units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < units.length; i++) {
      if (n >= units[i][0]) return (n / units[i][0]).toFixed(1) + " " + units[i][1] + "MAC";
    }
    return n + " MAC";
  }

  /** a box's accessible name: ``path: Class ×N, output shapes`` */
  function describe(call, fallback) {
    var name = call.path || "";
    var text = name ? name + ": " + (call["class"] || "") : (call["class"] || fallback || "");
    if (call.repeat > 1) text += " ×" + call.repeat;
    if (call.out && call.out.length) text += ", output " + call.out.join(", ");
    return text;
  }

  /** the keys of the calls whose path or class contains ``query`` (any case), in order;
   * a path inside a folded run (layers.3.attn) also finds the run's first block (layers.1.attn) */
  function matchingCalls(calls, query) {
    var q = String(query || "").trim().toLowerCase();
    if (!q) return [];
    var queries = [q];
    var keys = Object.keys(calls);
    keys.forEach(function (k) {
      var paths = calls[k].paths || [];
      for (var i = 1; i < paths.length; i++) {
        var p = String(paths[i]).toLowerCase();
        if (q.indexOf(p) === 0 && (q.length === p.length || q.charAt(p.length) === ".")) {
          queries.push(String(paths[0]).toLowerCase() + q.slice(p.length));
        }
      }
    });
    return keys.filter(function (k) {
      var c = calls[k];
      var hay = [c.path, c["class"]].concat(c.paths || []).map(function (s) { return String(s || "").toLowerCase(); });
      return queries.some(function (qq) { return hay.some(function (s) { return s.indexOf(qq) >= 0; }); });
    }).sort(function (a, b) { return Number(a) - Number(b); });
  }

  // -- keys and layer links without DOM: moving along the drawing, links of boxes ----------
  //
  // The arrow keys see a drawing as ``nav``: {items: {id: {x, y, w, h, cluster, label}} in
  // SVG units (a cluster's label box is where it sits in the flow), succ and pred: the
  // edges' ends by id, flow: the unit vector the edges mostly point along ({x: 0, y: 1}
  // top to bottom, {x: 1, y: 0} left to right)}.  The key pointing along the flow goes to
  // the next box (an edge's far end), the opposite key to the previous one, the other two
  // to the neighbours on the same rank; a cluster's label is a stop on the way in (and out).

  var ARROWS = { ArrowDown: { x: 0, y: 1 }, ArrowUp: { x: 0, y: -1 },
                 ArrowRight: { x: 1, y: 0 }, ArrowLeft: { x: -1, y: 0 } };

  function centreOf(b) {
    return { x: b.x + b.w / 2, y: b.y + b.h / 2 };
  }

  /** the unit vector the edges of ``succ`` mostly point along (down when there are none) */
  function flowOf(items, succ) {
    var sx = 0, sy = 0;
    Object.keys(succ).forEach(function (a) {
      if (!items[a]) return;
      succ[a].forEach(function (b) {
        if (!items[b]) return;
        var p = centreOf(items[a]), q = centreOf(items[b]);
        sx += q.x - p.x;
        sy += q.y - p.y;
      });
    });
    if (Math.abs(sx) > Math.abs(sy)) return { x: sx > 0 ? 1 : -1, y: 0 };
    return { x: 0, y: sy < 0 ? -1 : 1 };
  }

  function boxContains(outer, inner) {
    return outer !== inner && inner.x >= outer.x - 0.5 && inner.y >= outer.y - 0.5 &&
      inner.x + inner.w <= outer.x + outer.w + 0.5 && inner.y + inner.h <= outer.y + outer.h + 0.5;
  }

  /** where ``id`` sits in the flow: a cluster's label, else its box */
  function navSpot(nav, id) {
    var it = nav.items[id];
    return it.cluster && it.label ? it.label : it;
  }

  /** the position of ``id`` along the flow (t) and across it (c) */
  function navPos(nav, id) {
    var p = centreOf(navSpot(nav, id)), f = nav.flow;
    return { t: p.x * f.x + p.y * f.y, c: p.x * Math.abs(f.y) + p.y * Math.abs(f.x) };
  }

  /** the clusters around ``id`` (not itself), outermost first */
  function clustersAround(nav, id) {
    var box = nav.items[id];
    return Object.keys(nav.items).filter(function (c) {
      return c !== id && nav.items[c].cluster && boxContains(nav.items[c], box);
    }).sort(function (a, b) {
      return nav.items[b].w * nav.items[b].h - nav.items[a].w * nav.items[a].h;
    });
  }

  function isBox(nav, id) {
    return !!nav.items[id] && !nav.items[id].cluster;
  }

  /** the boxes inside the cluster ``id`` */
  function boxesIn(nav, id) {
    var outer = nav.items[id];
    return Object.keys(nav.items).filter(function (b) { return isBox(nav, b) && boxContains(outer, nav.items[b]); });
  }

  /** of ``ids``, ``prefer`` if there, else the nearest to ``id`` across the flow, then along it */
  function nearestOf(nav, id, ids, prefer) {
    if (prefer && ids.indexOf(prefer) >= 0) return prefer;
    var me = navPos(nav, id), best = null, bestKey = null;
    ids.forEach(function (o) {
      var p = navPos(nav, o), key = [Math.abs(p.c - me.c), Math.abs(p.t - me.t), o];
      if (!bestKey || key[0] < bestKey[0] - 0.5 || (Math.abs(key[0] - bestKey[0]) <= 0.5 && key[1] < bestKey[1])) {
        best = o;
        bestKey = key;
      }
    });
    return best;
  }

  /** the boxes after (dir 1) or before (dir -1) ``id`` along the flow, nearest first: where
   * the edges end (an output, a drawing in pieces) */
  function boxesAhead(nav, id, dir) {
    var me = navPos(nav, id), half = nav.flow.y ? navSpot(nav, id).h / 2 : navSpot(nav, id).w / 2;
    var ahead = Object.keys(nav.items).filter(function (o) {
      return o !== id && isBox(nav, o) && (navPos(nav, o).t - me.t) * dir > half;
    });
    if (!ahead.length) return [];
    var t0 = Math.min.apply(null, ahead.map(function (o) { return (navPos(nav, o).t - me.t) * dir; }));
    var band = Math.max(half, 1);
    return ahead.filter(function (o) { return (navPos(nav, o).t - me.t) * dir <= t0 + band; });
  }

  function unique(list) {
    return list.filter(function (v, i) { return list.indexOf(v) === i; });
  }

  /** the next item along the flow from ``id``: {to, then} (``then``: the box a cluster's
   * label ``to`` leads to), or null */
  function navNext(nav, id, prefer) {
    var it = nav.items[id], target;
    if (it.cluster) {
      var inner = boxesIn(nav, id);
      if (prefer && inner.indexOf(prefer) >= 0) target = prefer;
      else {
        // where the cluster starts: its boxes fed from outside it (or from nothing)
        var entries = inner.filter(function (b) {
          return !(nav.pred[b] || []).some(function (p) { return inner.indexOf(p) >= 0; });
        });
        if (!entries.length) entries = inner;
        var tmin = Math.min.apply(null, entries.map(function (b) { return navPos(nav, b).t; }));
        target = nearestOf(nav, id, entries.filter(function (b) { return navPos(nav, b).t <= tmin + 1; }), null);
      }
      if (!target) return null;
      var within = clustersAround(nav, target).filter(function (c) { return boxContains(it, nav.items[c]); });
      return within.length ? { to: within[0], then: target } : { to: target, then: null };
    }
    var next = unique((nav.succ[id] || []).filter(function (b) { return isBox(nav, b); }));
    if (!next.length) next = boxesAhead(nav, id, 1);
    target = nearestOf(nav, id, next, prefer);
    if (!target) return null;
    var entered = clustersAround(nav, target).filter(function (c) { return !boxContains(nav.items[c], it); });
    return entered.length ? { to: entered[0], then: target } : { to: target, then: null };
  }

  /** the previous item along the flow from ``id``, as navNext */
  function navPrev(nav, id, prefer) {
    var it = nav.items[id], before = [];
    if (it.cluster) {
      var inner = boxesIn(nav, id);
      inner.forEach(function (b) {
        (nav.pred[b] || []).forEach(function (p) {
          if (isBox(nav, p) && inner.indexOf(p) < 0) before.push(p);
        });
      });
      before = unique(before);
      if (!before.length) {
        var around = clustersAround(nav, id);
        if (around.length) return { to: around[around.length - 1], then: null };
      }
    } else {
      before = unique((nav.pred[id] || []).filter(function (b) { return isBox(nav, b); }));
    }
    if (!before.length) before = boxesAhead(nav, id, -1);
    var target = nearestOf(nav, id, before, prefer);
    if (!target) return null;
    // the clusters this leaves, innermost first: their labels come first on the way up
    var leaving = clustersAround(nav, id).filter(function (c) {
      return !boxContains(nav.items[c], nav.items[target]);
    }).reverse();
    return leaving.length ? { to: leaving[0], then: target } : { to: target, then: null };
  }

  /** the nearest item on the same rank as ``id`` in the direction ``a`` ({x, y}), or null */
  function navAcross(nav, id, a) {
    var f = nav.flow, sign = a.x * Math.abs(f.y) + a.y * Math.abs(f.x);
    var me = navSpot(nav, id), mc = navPos(nav, id).c, best = null, bestD = Infinity;
    var span = function (b) { return f.y ? [b.y, b.y + b.h] : [b.x, b.x + b.w]; };
    var ms = span(me);
    Object.keys(nav.items).forEach(function (o) {
      if (o === id || (!nav.items[id].cluster && nav.items[o].cluster)) return;
      var s = span(navSpot(nav, o));
      if (Math.min(ms[1], s[1]) - Math.max(ms[0], s[0]) <= 0) return; // not on this rank
      var d = (navPos(nav, o).c - mc) * sign;
      if (d > 0.5 && d < bestD) {
        best = o;
        bestD = d;
      }
    });
    return best;
  }

  /** where arrow ``key`` moves from ``id``: {to, then, dir} (dir "next", "prev" or "across";
   * ``then``: where the same key goes after a cluster's label), or null.  ``memo``: {next,
   * prev}, the items to choose among equals (where the reader came from) */
  function navStep(nav, id, key, memo) {
    var a = ARROWS[key];
    if (!a || !nav.items[id]) return null;
    var along = a.x * nav.flow.x + a.y * nav.flow.y;
    var step;
    if (along > 0) step = navNext(nav, id, memo && memo.next);
    else if (along < 0) step = navPrev(nav, id, memo && memo.prev);
    else {
      var to = navAcross(nav, id, a);
      step = to ? { to: to, then: null } : null;
    }
    if (step) step.dir = along > 0 ? "next" : along < 0 ? "prev" : "across";
    return step;
  }

  /** the link of a drawn call (the data's, else a module's attribute path), or null */
  function linkOfCall(call) {
    if (!call) return null;
    if (typeof call.link === "string") return call.link;
    return call.kind === "module" ? String(call.path || "") : null;
  }

  /** ``#<anchor>/<link>``, each part percent-encoded */
  function layerFragment(anchor, link) {
    return "#" + encodeURIComponent(anchor) + "/" + encodeURIComponent(link);
  }

  /** {anchor, link} of a fragment (``#a/b``; link null for ``#a``), or null */
  function parseFragment(hash) {
    var s = String(hash || "").replace(/^#/, "");
    if (!s) return null;
    var decode = function (p) {
      try {
        return decodeURIComponent(p);
      } catch (err) {
        return p;
      }
    };
    var i = s.indexOf("/");
    return i < 0 ? { anchor: decode(s), link: null } : { anchor: decode(s.slice(0, i)), link: decode(s.slice(i + 1)) };
  }

  /** the boxes that may stand for ``link``, best first: local ids (``n12`` or ``c12`` as
   * "k12", the call's key; ``in0``, ``out1``): the call of that link, the same place in the
   * first block of a folded run, then its ancestors' calls */
  function linkTargets(calls, link) {
    link = String(link);
    var io = /^(input|output)-(\d+)$/.exec(link);
    if (io && Number(io[2]) >= 1) return [(io[1] === "input" ? "in" : "out") + (Number(io[2]) - 1)];
    var keys = Object.keys(calls).sort(function (a, b) { return Number(a) - Number(b); });
    var byLink = {};
    keys.forEach(function (k) {
      var l = linkOfCall(calls[k]);
      if (l !== null && !Object.prototype.hasOwnProperty.call(byLink, l)) byLink[l] = k;
    });
    var has = function (l) { return Object.prototype.hasOwnProperty.call(byLink, l); };
    /** ``l`` inside the n-th block of a folded run, at the same place in its first block */
    var folded = function (l) {
      for (var i = 0; i < keys.length; i++) {
        var paths = calls[keys[i]].paths || [];
        for (var j = 1; j < paths.length; j++) {
          var p = String(paths[j]);
          if (l === p || l.indexOf(p + ".") === 0) return String(paths[0]) + l.slice(p.length);
        }
      }
      return null;
    };
    var out = [];
    var add = function (l) {
      if (has(l) && out.indexOf("k" + byLink[l]) < 0) out.push("k" + byLink[l]);
    };
    var l = link;
    var f = folded(l);
    if (f !== null) l = f;
    for (;;) {
      add(l);
      var cut = l.lastIndexOf(".");
      if (cut < 0) break;
      l = l.slice(0, cut);
    }
    return out;
  }

  var exported = {
    PT: PT, MAX_SCALE: MAX_SCALE, MIN_HEIGHT: MIN_HEIGHT, FIT_MARGIN: FIT_MARGIN, MIN_LABEL_PX: MIN_LABEL_PX,
    MIN_WIDTH_LABEL_PX: MIN_WIDTH_LABEL_PX, PAD: PAD, shownArea: shownArea, hidesPart: hidesPart,
    overviewSize: overviewSize, overviewCorner: overviewCorner, overviewReserve: overviewReserve,
    overviewShift: overviewShift,
    clamp: clamp, parseViewBox: parseViewBox, drawingBox: drawingBox, quantile: quantile, fitScale: fitScale,
    readableScale: readableScale, fitView: fitView, firstScale: firstScale, firstView: firstView,
    canvasHeight: canvasHeight, minScale: minScale, clampCentre: clampCentre, zoomAround: zoomAround,
    panView: panView, centreView: centreView, viewBoxOf: viewBoxOf, pinch: pinch, ViewState: ViewState,
    formatCount: formatCount, formatMacs: formatMacs, describe: describe, matchingCalls: matchingCalls
  };
  // keys and layer links (see above)
  [["navStep", navStep], ["flowOf", flowOf], ["linkOfCall", linkOfCall], ["layerFragment", layerFragment],
   ["parseFragment", parseFragment], ["linkTargets", linkTargets]].forEach(function (e) { exported[e[0]] = e[1]; });
  if (typeof module === "object" && module && module.exports) module.exports = exported;
  if (typeof document === "undefined") return; // Node: the parts below need a page
  // loaded again (each notebook output of draw() carries the script): start the new diagrams only
  if (window.sphinxNetviz) {
    window.sphinxNetviz.init();
    return;
  }

  // == DOM helpers ===============================================================

  function h(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** a 20×20 stroked icon for a toolbar button */
  function icon(d) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  var ICONS = {
    fit: "M2 7V2h5M13 2h5v5M18 13v5h-5M7 18H2v-5M7 7h6v6H7z",
    zoomIn: "M8.5 3.5a5 5 0 1 0 0 10a5 5 0 1 0 0-10M12.2 12.2L17 17M6 8.5h5M8.5 6v5",
    zoomOut: "M8.5 3.5a5 5 0 1 0 0 10a5 5 0 1 0 0-10M12.2 12.2L17 17M6 8.5h5",
    expand: "M3 3h14v14H3zM10 6.5v7M6.5 10h7",
    collapse: "M3 3h14v14H3zM6.5 10h7",
    fullscreen: "M2 7V2h5M2 2l5.5 5.5M13 2h5v5M18 2l-5.5 5.5M18 13v5h-5M18 18l-5.5-5.5M7 18H2v-5M2 18l5.5-5.5",
    overview: "M2 5l5-2 6 2 5-2v12l-5 2-6-2-5 2zM7 3v12M13 5v12"
  };

  /** an http(s) or relative link, or null: a class link never runs script */
  function safeHref(href) {
    if (typeof href !== "string" || !href) return null;
    try {
      var url = new URL(href, document.baseURI);
      return /^(https?|file):$/.test(url.protocol) ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  function nativeTitle(a) {
    return a.getAttributeNS(XLINK_NS, "title") || a.getAttribute("xlink:title") || a.getAttribute("title") || "";
  }

  function readData(root) {
    var script = root.querySelector("script.netviz-data");
    if (!script) return {};
    try {
      var data = JSON.parse(script.textContent);
      return data && typeof data === "object" ? data : {};
    } catch (err) {
      return {};
    }
  }

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  /** the font size of the median label of ``svg``, in SVG units */
  function labelSizeOf(svg) {
    var sizes = [];
    each(svg.querySelectorAll("text"), function (t) {
      sizes.push(parseFloat(t.getAttribute("font-size")));
    });
    return quantile(sizes, 0.5);
  }

  // == Layouts: the depths a diagram was drawn at ================================

  /** ``svg`` (drawn at ``depth``) and the other depths' templates in ``root`` */
  function Layouts(root, svg, depth, localId) {
    this.localId = localId;
    this.byDepth = {}; // depth -> {template, svg, ids}
    this.byDepth[depth] = { template: null, svg: svg, ids: null };
    var self = this;
    each(root.querySelectorAll("template.netviz-layout"), function (t) {
      var d = parseInt(t.getAttribute("data-depth"), 10);
      if (isFinite(d) && !(d in self.byDepth)) self.byDepth[d] = { template: t, svg: null, ids: null };
    });
    this.depths = Object.keys(this.byDepth).map(Number).sort(function (a, b) { return a - b; });
  }

  Layouts.prototype.has = function (depth) {
    return depth in this.byDepth;
  };

  /** the SVG of ``depth``, made from its template the first time (null if it has none) */
  Layouts.prototype.svgAt = function (depth) {
    var layout = this.byDepth[depth];
    if (!layout) return null;
    if (!layout.svg) {
      var fragment = document.importNode(layout.template.content, true);
      layout.svg = fragment.querySelector("svg");
    }
    return layout.svg;
  };

  /** the local ids drawn in the layout of ``depth`` */
  Layouts.prototype.idsAt = function (depth) {
    var layout = this.byDepth[depth];
    if (!layout) return null;
    if (!layout.ids) {
      var scope = layout.svg || layout.template.content;
      var ids = new Set(), localId = this.localId;
      each(scope.querySelectorAll("g.node[id], g.cluster[id]"), function (g) {
        var local = localId(g);
        if (local) ids.add(local);
      });
      layout.ids = ids;
    }
    return layout.ids;
  };

  /** the nearest depth deeper (dir 1) or shallower (dir -1) than ``current`` that draws
   * ``local``, ``preferred`` first; null if none */
  Layouts.prototype.nearestWith = function (local, preferred, dir, current) {
    if (this.has(preferred) && this.idsAt(preferred).has(local)) return preferred;
    var list = dir > 0 ? this.depths : this.depths.slice().reverse();
    for (var i = 0; i < list.length; i++) {
      var d = list[i];
      if ((dir > 0 ? d > current : d < current) && this.idsAt(d).has(local)) return d;
    }
    return null;
  };

  // == Search ======================================================================

  function Search(viewer) {
    this.viewer = viewer;
    this.matches = [];
    this.index = -1;
    this.query = "";
    this.hidden = 0; // matches drawn only inside boxes that are closed at this depth
  }

  Search.prototype.clear = function () {
    this.matches.forEach(function (el) { el.classList.remove("netviz-match", "netviz-current"); });
    this.matches = [];
    this.index = -1;
  };

  /** find ``query``; ``again`` moves to the next match (by ``step``) when the query is
   * unchanged; ``keepDepth``: mark the matches of this layout, move nowhere */
  Search.prototype.run = function (query, again, step, keepDepth) {
    var viewer = this.viewer, layouts = viewer.layouts, status = viewer.toolbar.status;
    query = String(query || "").trim();
    if (again && query && query === this.query && this.matches.length) {
      var n = this.matches.length;
      this.matches[this.index].classList.remove("netviz-current");
      this.index = (this.index + (step || 1) + n) % n;
      this.show();
      return;
    }
    this.clear();
    this.query = query;
    if (!query) {
      status.textContent = "";
      return;
    }
    var keys = matchingCalls(viewer.calls, query);
    var visibleAt = function (d) {
      var ids = layouts.idsAt(d);
      return keys.some(function (k) { return ids.has("n" + k) || ids.has("c" + k); });
    };
    if (!keepDepth && keys.length && !visibleAt(viewer.depth)) {
      var d = layouts.depths.filter(visibleAt)[0];
      if (d !== undefined) {
        this.query = ""; // setDepth marks the matches again when a query is set
        viewer.setDepth(d);
        this.query = query;
      }
    }
    var self = this;
    keys.forEach(function (k) {
      var el = viewer.find("n" + k) || viewer.find("c" + k);
      if (el) {
        el.classList.add("netviz-match");
        self.matches.push(el);
      }
    });
    this.hidden = keys.length - this.matches.length;
    if (!this.matches.length) {
      status.textContent = keys.length ? "not drawn" : "no match";
      return;
    }
    this.index = 0;
    this.show(keepDepth);
  };

  Search.prototype.show = function (quiet) {
    var el = this.matches[this.index];
    el.classList.add("netviz-current");
    var text = (this.index + 1) + " of " + this.matches.length;
    if (this.hidden > 0) text += " (+" + this.hidden + " inside closed boxes)";
    this.viewer.toolbar.status.textContent = text;
    if (!quiet) this.viewer.centreOn(el);
  };

  // == DetailsPanel ================================================================

  /** what an architecture diff's kinds say in the panel (as the tooltips and the legend do) */
  var DIFF_WORDS = { added: "added (only in the new model)", removed: "removed (only in the old model)",
                     changed: "changed" };

  function DetailsPanel(viewer) {
    this.viewer = viewer;
    this.el = h("div", { "class": "netviz-panel", id: viewer.id + "-panel", role: "tooltip", hidden: "" });
    this.box = null; // the box (g) it describes
    this.timer = 0;
    viewer.root.appendChild(this.el);
  }

  DetailsPanel.prototype.isOpen = function () {
    return !this.el.hidden;
  };

  DetailsPanel.prototype.show = function (g) {
    var viewer = this.viewer;
    var local = viewer.localId(g);
    if (!local) return;
    clearTimeout(this.timer);
    if (this.box === g && this.isOpen()) return;
    if (this.box && this.box !== g) this.highlightEdges(this.box, false);
    this.box = g;
    var panel = this.el;
    panel.textContent = "";
    var call = viewer.callOf(local);
    if (call) {
      this.fillCall(call, g);
    } else {
      var lines = (viewer.prepare(viewer.svg).titles.get(g) || "").split("\n").filter(Boolean);
      if (!lines.length) return;
      panel.appendChild(h("strong", { "class": "netviz-path" }, lines[0]));
      lines.slice(1).forEach(function (line) { panel.appendChild(h("div", null, line)); });
    }
    this.addPermalink(g);
    panel.hidden = false;
    g.setAttribute("aria-describedby", panel.id);
    this.place(g);
    this.highlightEdges(g, true);
  };

  DetailsPanel.prototype.fillCall = function (call, g) {
    var panel = this.el;
    var head = h("div", { "class": "netviz-panel-head" });
    if (call.path) head.appendChild(h("strong", { "class": "netviz-path" }, call.path));
    if (call.repeat > 1) head.appendChild(h("span", { "class": "netviz-repeat" }, "×" + call.repeat));
    var cls = call["class"] || "";
    var href = safeHref(call.href);
    var clsEl = href ? h("a", { "class": "netviz-class", href: href, title: call.qualname || cls }, cls)
      : h("code", { "class": "netviz-class", title: call.qualname || cls }, cls);
    head.appendChild(clsEl);
    panel.appendChild(head);
    this.addDiff(call, g);
    var dl = h("dl");
    var row = function (name, value) {
      if (value === undefined || value === null || value === "") return;
      dl.appendChild(h("dt", null, name));
      dl.appendChild(h("dd", null, value));
    };
    row("hyper-parameters", call.hparams);
    row(call["in"] && call["in"].length > 1 ? "inputs" : "input", (call["in"] || []).join(", "));
    row(call.out && call.out.length > 1 ? "outputs" : "output", (call.out || []).join(", "));
    var eachOne = call.repeat > 1 ? " each" : "";
    if (call.kind !== "function" || call.params) {
      row("parameters", typeof call.params === "number" ? formatCount(call.params) + eachOne : null);
    }
    row("MACs", typeof call.macs === "number" ? formatMacs(call.macs) + eachOne : null);
    if (call.paths && call.paths.length > 1) {
      row(call.paths.length + " identical blocks", call.paths.join(", "));
    }
    panel.appendChild(dl);
    var action = g.classList.contains("cluster") ? "Click the label (or press Enter) to collapse"
      : call.expandable ? "Click (or press Enter) to expand" : "";
    if (action) panel.appendChild(h("div", { "class": "netviz-panel-hint" }, action));
  };

  /** an architecture diff's mark (``calls[id].diff``: kind and what changed, old → new) as
   * ``div.netviz-panel-diff.netviz-<kind>``: the kind in words, then one line per change; a box
   * drawn closed over changed modules (class netviz-changed, no diff of its own): changes inside */
  DetailsPanel.prototype.addDiff = function (call, g) {
    var diff = call.diff;
    if (!diff && g.classList.contains("netviz-changed")) diff = { kind: "changed", what: ["changes inside"] };
    if (!diff || !Object.prototype.hasOwnProperty.call(DIFF_WORDS, diff.kind)) return;
    var box = h("div", { "class": "netviz-panel-diff netviz-" + diff.kind });
    box.appendChild(h("strong", { "class": "netviz-diff-kind" }, DIFF_WORDS[diff.kind]));
    var what = Array.isArray(diff.what) ? diff.what : [];
    if (what.length) {
      var list = h("ul");
      what.forEach(function (line) { list.appendChild(h("li", null, line)); });
      box.appendChild(list);
    }
    this.el.appendChild(box);
  };

  /** the box's layer link, ``<a class="netviz-permalink" href="#<anchor>/<link>">`` */
  DetailsPanel.prototype.addPermalink = function (g) {
    var viewer = this.viewer, link = viewer.linkOf(g), anchor = viewer.anchor();
    if (link === null || !anchor) return;
    var href = layerFragment(anchor, link);
    var div = h("div", { "class": "netviz-panel-link" });
    div.appendChild(h("a", { "class": "netviz-permalink", href: href,
                             title: "A link to this box: copy it, or open it to come back here" },
                      "Link to this box"));
    this.el.appendChild(div);
  };

  /** beside the box (right, else left), else below it; inside the diagram's div */
  DetailsPanel.prototype.place = function (g) {
    var panel = this.el, viewer = this.viewer;
    var target = (g.classList.contains("cluster") && g.querySelector("text")) || g;
    var rr = viewer.root.getBoundingClientRect();
    var r = target.getBoundingClientRect();
    var cr = viewer.canvas.getBoundingClientRect();
    panel.style.left = "0px";
    panel.style.top = "0px";
    var pw = panel.offsetWidth, ph = panel.offsetHeight, gap = 8;
    var left, top = Math.max(cr.top, Math.min(r.top, cr.bottom - ph));
    if (r.right + gap + pw <= rr.right) {
      left = r.right + gap;
    } else if (r.left - gap - pw >= rr.left) {
      left = r.left - gap - pw;
    } else {
      left = Math.max(rr.left, Math.min(rr.right - pw, r.left));
      top = r.bottom + gap;
    }
    panel.style.left = Math.round(left - rr.left) + "px";
    panel.style.top = Math.round(Math.max(0, top - rr.top)) + "px";
  };

  DetailsPanel.prototype.hide = function () {
    clearTimeout(this.timer);
    if (this.box) {
      this.box.removeAttribute("aria-describedby");
      this.highlightEdges(this.box, false);
    }
    this.box = null;
    this.el.hidden = true;
  };

  DetailsPanel.prototype.hideSoon = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.hide(); }, 250);
  };

  DetailsPanel.prototype.keep = function () {
    clearTimeout(this.timer);
  };

  DetailsPanel.prototype.highlightEdges = function (g, on) {
    var viewer = this.viewer;
    var local = viewer.localId(g);
    if (!local || g.classList.contains("cluster")) return;
    var edges = viewer.prepare(viewer.svg).edges[local] || [];
    edges.forEach(function (e) { e.classList.toggle("netviz-linked", on); });
  };

  DetailsPanel.prototype.dispose = function () {
    this.hide();
    this.el.remove();
  };

  // == Toolbar =====================================================================

  function Toolbar(viewer) {
    this.viewer = viewer;
    this.searchTimer = 0;
    var self = this;
    var bar = h("div", { "class": "netviz-toolbar", role: "toolbar", "aria-label": "Diagram controls" });
    var view = h("span", { "class": "netviz-group" });
    view.appendChild(this.button("fit", "Fit the diagram (0)", function () { viewer.fit(); }, ICONS.fit));
    view.appendChild(this.button("zoom-in", "Zoom in (+)", function () { viewer.zoomBy(ZOOM_STEP); }, ICONS.zoomIn));
    view.appendChild(this.button("zoom-out", "Zoom out (−)", function () { viewer.zoomBy(1 / ZOOM_STEP); },
                                 ICONS.zoomOut));
    bar.appendChild(view);
    var depths = viewer.layouts.depths;
    if (depths.length > 1) {
      var levels = h("span", { "class": "netviz-group" });
      this.expandBtn = this.button("expand", "Expand one level", function () { viewer.stepDepth(1); }, ICONS.expand);
      this.collapseBtn = this.button("collapse", "Collapse one level", function () { viewer.stepDepth(-1); },
                                     ICONS.collapse);
      levels.appendChild(this.collapseBtn);
      levels.appendChild(this.expandBtn);
      var select = h("select", { "class": "netviz-depth", "aria-label": "Depth: collapse to depth N, or expand all",
                                 title: "Collapse to depth N, or expand all" });
      var max = depths[depths.length - 1];
      depths.forEach(function (d) {
        var text = d === max ? "Expand all (depth " + d + ")" : "Depth " + d;
        select.appendChild(h("option", { value: String(d) }, text));
      });
      select.addEventListener("change", function () { viewer.setDepth(Number(select.value)); });
      this.depthSelect = select;
      levels.appendChild(select);
      bar.appendChild(levels);
    }
    var find = h("span", { "class": "netviz-group netviz-find" });
    var input = h("input", { type: "search", "class": "netviz-search", placeholder: "Find a layer…",
                             "aria-label": "Find layers by attribute path or class (Enter: next match)",
                             title: "Find layers by attribute path or class (Enter: next match)",
                             autocomplete: "off", spellcheck: "false" });
    this.status = h("span", { "class": "netviz-status", role: "status", "aria-live": "polite" });
    input.addEventListener("input", function () {
      clearTimeout(self.searchTimer);
      self.searchTimer = setTimeout(function () { viewer.search.run(input.value, false); }, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        e.preventDefault();
        clearTimeout(self.searchTimer);
        viewer.search.run(input.value, true, e.shiftKey ? -1 : 1);
      } else if (e.key === "Escape" && input.value) {
        e.preventDefault();
        input.value = "";
        viewer.search.run("", false);
      }
    });
    this.searchInput = input;
    find.appendChild(input);
    find.appendChild(this.status);
    bar.appendChild(find);
    var fs = h("span", { "class": "netviz-group netviz-end" });
    this.fullscreenBtn = this.button("fullscreen", "Full screen", function () { viewer.toggleFullscreen(); },
                                     ICONS.fullscreen);
    fs.appendChild(this.fullscreenBtn);
    bar.appendChild(fs);
    this.el = bar;
    viewer.root.insertBefore(bar, viewer.canvas);
    this.update();
  }

  Toolbar.prototype.button = function (name, label, onClick, iconPath) {
    var b = h("button", { type: "button", "class": "netviz-btn netviz-" + name, "aria-label": label, title: label,
                          "aria-controls": this.viewer.canvas.id });
    if (iconPath) b.appendChild(icon(iconPath));
    b.addEventListener("click", onClick);
    return b;
  };

  /** the depth menu and the expand and collapse buttons, for the depth shown */
  Toolbar.prototype.update = function () {
    if (!this.depthSelect) return;
    var depths = this.viewer.layouts.depths, depth = this.viewer.depth;
    var i = depths.indexOf(depth);
    this.depthSelect.value = String(depth);
    this.collapseBtn.disabled = i <= 0;
    this.expandBtn.disabled = i >= depths.length - 1;
  };

  Toolbar.prototype.setFullscreen = function (on) {
    var label = on ? "Leave full screen" : "Full screen";
    this.fullscreenBtn.setAttribute("aria-pressed", on ? "true" : "false");
    this.fullscreenBtn.setAttribute("aria-label", label);
    this.fullscreenBtn.title = label;
  };

  Toolbar.prototype.dispose = function () {
    clearTimeout(this.searchTimer);
    this.el.remove();
  };

  // == Overview: a map of the whole drawing while part of it is out of view ===========

  /** the parts of a Graphviz shape the map copies: geometry, no colours, no ids */
  var SHAPE_ATTRS = ["d", "points", "cx", "cy", "rx", "ry", "x", "y", "width", "height", "transform"];

  /** a thumbnail of the whole drawing in a corner of the canvas (the one away from its start),
   * with the area in view drawn on it: shown while part of the drawing is out of view; a click
   * or a drag on it moves the view there; its button folds it away and back.  It is the
   * canvas's last child (the drawing's SVG stays its first); the thumbnail is made of copies
   * of the layout's shapes: no text, no ids, hidden from assistive technology. */
  function Overview(viewer) {
    var self = this;
    this.viewer = viewer;
    this.svg = null;       // the layout the thumbnail shows
    this.box = null;       // and the box it was drawn for
    this.open = true;      // the reader's choice, kept across depths
    this.pointer = null;   // the pointer dragging on the map
    this.size = null;
    this.corner = "";
    this.el = h("div", { "class": "netviz-overview", hidden: "" });
    this.button = h("button", { type: "button", "class": "netviz-btn netviz-overview-toggle",
                                "aria-label": "Overview map", "aria-expanded": "true", title: "Hide the overview" });
    this.button.appendChild(icon(ICONS.overview));
    this.map = document.createElementNS(SVG_NS, "svg");
    this.map.setAttribute("class", "netviz-overview-map");
    this.map.setAttribute("aria-hidden", "true");
    this.map.setAttribute("focusable", "false");
    this.shapes = document.createElementNS(SVG_NS, "g");
    this.frame = document.createElementNS(SVG_NS, "rect");
    this.frame.setAttribute("class", "netviz-overview-view");
    this.map.appendChild(this.shapes);
    this.map.appendChild(this.frame);
    this.el.appendChild(this.button);
    this.el.appendChild(this.map);
    viewer.canvas.appendChild(this.el);

    this.button.addEventListener("click", function () { self.setOpen(!self.open); });
    // the canvas's own handlers (drag, zoom, keys, details) stay out of the overview
    ["pointerdown", "pointerup", "click", "dblclick", "wheel", "pointerover", "pointerout"].forEach(function (type) {
      self.el.addEventListener(type, function (e) { e.stopPropagation(); });
    });
    this.el.addEventListener("keydown", function (e) {
      if (e.key !== "Tab") e.stopPropagation();
    });
    this.map.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      e.preventDefault();
      self.pointer = e.pointerId;
      try { self.map.setPointerCapture(e.pointerId); } catch (err) { /* not active: no capture */ }
      self.moveTo(e, false);
    });
    this.map.addEventListener("pointermove", function (e) {
      if (self.pointer === e.pointerId) {
        e.stopPropagation();
        self.moveTo(e, true);
      }
    });
    var release = function (e) {
      if (self.pointer === e.pointerId) self.pointer = null;
    };
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (type) {
      self.map.addEventListener(type, release);
    });
    // a canvas taller than the window: the overview stays in the window as the page scrolls
    this.placed = "";     // what the overview was last placed for
    this.placing = 0;     // a requested animation frame that places it
    this.onScroll = function () { self.placeSoon(); };
    viewer.listen(window, "scroll", this.onScroll, { passive: true });
    viewer.listen(window, "resize", this.onScroll);
  }

  Overview.prototype.placeSoon = function () {
    var self = this;
    if (this.el.hidden || this.placing || typeof requestAnimationFrame !== "function") return;
    this.placing = requestAnimationFrame(function () {
      self.placing = 0;
      self.place();
    });
  };

  /** keep the overview in the window (see overviewShift) */
  Overview.prototype.place = function () {
    if (this.el.hidden) return;
    var r = this.viewer.canvas.getBoundingClientRect();
    var shift = this.viewer.isFullscreen() ? 0
      : overviewShift(r.top, r.bottom, window.innerHeight, this.el.offsetHeight, /^bottom/.test(this.corner));
    var transform = shift ? "translateY(" + Math.round(shift) + "px)" : "";
    if (this.el.style.transform !== transform) this.el.style.transform = transform;
  };

  Overview.prototype.setOpen = function (open) {
    this.open = open;
    this.el.classList.toggle("netviz-overview-closed", !open);
    this.button.setAttribute("aria-expanded", open ? "true" : "false");
    this.button.title = open ? "Hide the overview" : "Show the overview";
    this.place(); // another height
  };

  /** centre the view on the point of the drawing under the pointer */
  Overview.prototype.moveTo = function (e, later) {
    var viewer = this.viewer, box = viewer.state.box;
    var r = this.map.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0)) return;
    viewer.panel.hide();
    viewer.measure();
    viewer.state.moveTo(box.x + clamp((e.clientX - r.left) / r.width, 0, 1) * box.w,
                        box.y + clamp((e.clientY - r.top) / r.height, 0, 1) * box.h);
    viewer.render(later);
  };

  /** the thumbnail of ``svg``: its clusters, edges and boxes, in their colours */
  Overview.prototype.draw = function (svg) {
    this.svg = svg;
    this.size = null;
    var box = this.box = this.viewer.prepare(svg).box;
    var shapes = document.createElementNS(SVG_NS, "g");
    var graph = svg.querySelector("g.graph");
    if (graph && graph.getAttribute("transform")) shapes.setAttribute("transform", graph.getAttribute("transform"));
    each(svg.querySelectorAll("g.cluster, g.edge, g.node"), function (src) {
      var kind = src.classList.contains("node") ? "box" : src.classList.contains("edge") ? "edge" : "cluster";
      var out = document.createElementNS(SVG_NS, "g");
      var classes = ["netviz-ov-" + kind];
      each(src.classList, function (c) { if (/^nv-/.test(c)) classes.push(c); });
      out.setAttribute("class", classes.join(" "));
      each(src.querySelectorAll("path, polygon, polyline, ellipse, rect"), function (shape) {
        if (kind === "edge" && shape.tagName.toLowerCase() !== "path") return; // not the arrowheads
        var copy = document.createElementNS(SVG_NS, shape.tagName.toLowerCase());
        SHAPE_ATTRS.forEach(function (a) {
          var v = shape.getAttribute(a);
          if (v !== null) copy.setAttribute(a, v);
        });
        out.appendChild(copy);
      });
      if (out.firstChild) shapes.appendChild(out);
    });
    this.map.replaceChild(shapes, this.shapes);
    this.shapes = shapes;
    this.map.setAttribute("viewBox", [box.x, box.y, box.w, box.h].join(" "));
  };

  /** show or hide the overview for the view now written, and draw the area in view on it */
  Overview.prototype.update = function () {
    var viewer = this.viewer, state = viewer.state;
    var show = state.hidesPart();
    if (this.el.hidden === show) this.el.hidden = !show;
    if (!show) {
      this.placed = "";
      return;
    }
    if (this.svg !== viewer.svg || this.box !== state.box) this.draw(viewer.svg);
    var box = state.box;
    var size = overviewSize(box, Math.min(OVERVIEW_PX.w, OVERVIEW_SHARE.w * state.vp.w),
                            Math.min(OVERVIEW_PX.h, OVERVIEW_SHARE.h * state.vp.h));
    if (!this.size || this.size.w !== size.w || this.size.h !== size.h) {
      this.size = size;
      this.map.setAttribute("width", String(size.w));
      this.map.setAttribute("height", String(size.h));
    }
    var c = overviewCorner(box, state.start);
    var corner = (c.bottom ? "bottom" : "top") + "-" + (c.right ? "right" : "left");
    if (corner !== this.corner) {
      if (this.corner) this.el.classList.remove("netviz-overview-" + this.corner);
      this.el.classList.add("netviz-overview-" + corner);
      this.corner = corner;
    }
    var a = shownArea(state.view, state.vp);
    var x0 = clamp(a.x, box.x, box.x + box.w), y0 = clamp(a.y, box.y, box.y + box.h);
    var x1 = clamp(a.x + a.w, box.x, box.x + box.w), y1 = clamp(a.y + a.h, box.y, box.y + box.h);
    var frame = this.frame;
    [["x", x0], ["y", y0], ["width", x1 - x0], ["height", y1 - y0]].forEach(function (kv) {
      frame.setAttribute(kv[0], String(Math.round(kv[1] * 100) / 100));
    });
    // shown again, another size or corner, another canvas: placed in the window again
    var placed = [corner, size.w, size.h, state.vp.w, state.vp.h, this.open].join(" ");
    if (placed !== this.placed) {
      this.placed = placed;
      this.placeSoon();
    }
  };

  Overview.prototype.dispose = function () {
    if (this.placing) cancelAnimationFrame(this.placing);
    this.placing = 0;
    this.el.remove();
  };

  // == full screen: one listener on the document for all diagrams ==================

  var fullscreenViewers = new Set();

  /** the diagrams whose full-screen state changed react; the others keep their view */
  function onFullscreenChange() {
    fullscreenViewers.forEach(function (viewer) {
      if (viewer.isFullscreen() !== viewer.fullscreenOn) viewer.onFullscreenChange();
    });
  }

  function watchFullscreen(viewer) {
    if (!fullscreenViewers.size) {
      document.addEventListener("fullscreenchange", onFullscreenChange);
      document.addEventListener("webkitfullscreenchange", onFullscreenChange);
    }
    fullscreenViewers.add(viewer);
  }

  function unwatchFullscreen(viewer) {
    if (!fullscreenViewers.delete(viewer) || fullscreenViewers.size) return;
    document.removeEventListener("fullscreenchange", onFullscreenChange);
    document.removeEventListener("webkitfullscreenchange", onFullscreenChange);
  }

  // == Viewer: one diagram ===========================================================

  var uid = 0;

  function Viewer(root) {
    this.root = root;
    this.canvas = root.querySelector(".netviz-canvas");
    this.svg = this.canvas && this.canvas.querySelector("svg");
    if (!this.svg) return;
    this.ok = true;
    this.id = "netviz-ui-" + (++uid);
    var data = readData(root);
    this.calls = data.calls && typeof data.calls === "object" ? data.calls : {};
    var graph = this.svg.querySelector("g.graph[id]");
    this.prefix = typeof data.prefix === "string" ? data.prefix
      : graph ? graph.id.replace(/_graph$/, "") : root.id.replace(/^netviz-/, "");
    this.info = new WeakMap(); // svg -> {box, labelSize, edges, titles}
    this.depth = typeof data.depth === "number" ? data.depth : 0;
    this.firstDepth = this.depth;
    this.layouts = new Layouts(root, this.svg, this.depth, this.localId.bind(this));
    this.listeners = [];  // [target, type, handler, options]: removed by dispose()
    this.pointers = new Map();
    this.frame = 0;       // a requested animation frame that writes the view box
    this.fullscreenOn = false;
    this.build();
  }

  /** ``target.addEventListener``, undone by dispose() */
  Viewer.prototype.listen = function (target, type, handler, options) {
    target.addEventListener(type, handler, options);
    this.listeners.push([target, type, handler, options]);
  };

  Viewer.prototype.build = function () {
    var root = this.root, canvas = this.canvas, self = this;
    root.classList.add("netviz-js");
    var height = root.getAttribute("data-netviz-height");
    if (height && /^\s*\d+(\.\d+)?\s*$/.test(height)) height = height.trim() + "px";
    if (height) root.style.setProperty("--netviz-height", height.trim());
    // focusable by a click (the arrow keys pan it then); in the Tab order is one box (labelBox)
    canvas.setAttribute("tabindex", "-1");
    // the boxes inside are focusable and labelled: a group, not one image
    canvas.setAttribute("role", "group");
    canvas.setAttribute("aria-roledescription", "network diagram");
    if (!canvas.id) {
      canvas.id = this.id + "-canvas";
      this.madeCanvasId = true;
    }
    this.toolbar = new Toolbar(this);
    this.search = new Search(this);
    this.panel = new DetailsPanel(this);
    this.hint = h("div", { "class": "netviz-hint", "aria-hidden": "true", hidden: "" });
    root.appendChild(this.hint);
    this.prepare(this.svg);
    this.state = this.stateFor(this.svg);
    this.overview = new Overview(this);
    this.sizeCanvas(false);
    this.first();
    this.bindEvents();
    this.resetTabStop();
    if (typeof ResizeObserver === "function") {
      this.resizeObserver = new ResizeObserver(function () { self.onResize(); });
      this.resizeObserver.observe(canvas);
    }
    this.listen(window, "resize", function () { self.onWindowResize(); });
    watchFullscreen(this);
  };

  // -- SVG set-up ----------------------------------------------------------------------

  Viewer.prototype.localId = function (el) {
    var id = el && el.id;
    var p = this.prefix + "_";
    return id && id.indexOf(p) === 0 ? id.slice(p.length) : null;
  };

  /** the call behind a box or cluster (n12, c12 → calls["12"]) */
  Viewer.prototype.callOf = function (local) {
    var m = /^[nc](\d+)$/.exec(local || "");
    return m && Object.prototype.hasOwnProperty.call(this.calls, m[1]) ? this.calls[m[1]] : null;
  };

  Viewer.prototype.find = function (local) {
    if (!local || !/^[\w-]+$/.test(local)) return null;
    return this.svg.querySelector("[id='" + this.prefix + "_" + local + "']");
  };

  /** make ``svg`` ready for the viewer (once): sized by CSS, boxes focusable and labelled,
   * native tooltips moved out of the way; what it learnt about it */
  Viewer.prototype.prepare = function (svg) {
    if (this.info.has(svg)) return this.info.get(svg);
    var self = this;
    var viewBox = parseViewBox(svg.getAttribute("viewBox"), svg.getAttribute("width"), svg.getAttribute("height"));
    // box: what is drawn (drawingBox), measured once the SVG is shown (measureDrawing)
    var info = { viewBox: viewBox, box: viewBox, measured: false,
                 labelSize: labelSizeOf(svg), edges: {}, titles: new WeakMap(),
                 width: svg.getAttribute("width"), height: svg.getAttribute("height") };
    svg.setAttribute("width", "100%");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    svg.setAttribute("focusable", "false");
    svg.classList.add("netviz-svg");
    // the viewer's panel replaces the native tooltips of boxes and clusters, and the
    // titles of the drawing and of Graphviz's graph would show over every box
    each(svg.querySelectorAll(":scope > title, g.graph > title"), function (t) {
      if (t.parentNode === svg && !svg.hasAttribute("aria-label")) svg.setAttribute("aria-label", t.textContent);
      t.parentNode.removeChild(t);
    });
    each(svg.querySelectorAll("g.node[id], g.cluster[id]"), function (g) {
      var local = self.localId(g);
      if (!local) return;
      var title = "";
      each(g.querySelectorAll("a"), function (a) {
        title = title || nativeTitle(a);
        a.removeAttributeNS(XLINK_NS, "title");
        a.removeAttribute("xlink:title");
        a.removeAttribute("title");
      });
      each(g.children, function (child) {
        if (child.tagName.toLowerCase() === "title") g.removeChild(child);
      });
      // kept on the box too: a viewer started again after dispose() finds it there
      if (title) g.setAttribute("data-netviz-title", title);
      else title = g.getAttribute("data-netviz-title") || "";
      info.titles.set(g, title);
      self.labelBox(g, local, title);
    });
    // which edges touch which box (for highlighting a box's connections)
    each(svg.querySelectorAll("g.edge"), function (g) {
      var t = g.querySelector("title");
      var m = t && /^(.*?)(?::\w+)?->(.*?)(?::\w+)?$/.exec(t.textContent.trim());
      if (!m) return;
      [m[1], m[2]].forEach(function (end) {
        (info.edges[end] = info.edges[end] || []).push(g);
      });
    });
    this.info.set(svg, info);
    return info;
  };

  /** a box's or cluster's role, focusability and accessible name.  One tab stop per
   * diagram (roving tabindex): every box is focusable (-1), the current one (setTabStop)
   * is in the Tab order; the arrow keys move between them.  The name starts with the text
   * drawn in the box, so what a reader sees is what a screen reader says (and speech
   * control finds it by that text); the details drawn nowhere follow */
  Viewer.prototype.labelBox = function (g, local, title) {
    var call = this.callOf(local);
    var shown = [];
    each(g.querySelectorAll("text"), function (t) {
      var line = t.textContent.replace(/\s+/g, " ").trim();
      if (line) shown.push(line);
    });
    var name = shown.join(" ") || (call ? describe(call, title) : title.replace(/\n/g, "; "));
    if (call) {
      if (call.path && name.indexOf(call.path) < 0) name += "; " + call.path + ": " + (call["class"] || "");
      if (call.repeat > 1 && name.indexOf("×" + call.repeat) < 0) name += " ×" + call.repeat;
      if (call.out && call.out.length) name += "; output " + call.out.join(", ");
    }
    if (g.classList.contains("cluster")) {
      var label = g.querySelector("text");
      if (label) label.classList.add("netviz-label");
      if (call) {
        g.classList.add("netviz-collapsible");
        g.setAttribute("tabindex", "-1");
        g.setAttribute("role", "button");
        g.setAttribute("aria-expanded", "true");
        g.setAttribute("aria-label", name);
      }
    } else {
      g.setAttribute("tabindex", "-1");
      if (call && call.expandable) {
        g.classList.add("netviz-expandable");
        g.setAttribute("role", "button");
        g.setAttribute("aria-expanded", "false");
        g.setAttribute("aria-label", name);
      } else {
        g.setAttribute("role", "img");
        g.setAttribute("aria-label", name);
      }
    }
  };

  // -- size and view -------------------------------------------------------------------

  /** a ViewState for ``svg`` (the box of its inputs found once it is in the page) */
  Viewer.prototype.stateFor = function (svg) {
    var info = this.measureDrawing(svg);
    return new ViewState(info.box, info.labelSize, null);
  };

  /** the bounding box of what ``svg`` draws (Graphviz's g.graph, in the SVG's units), or null
   * while it is not shown (out of the page, in a closed <details>: nothing to measure) */
  Viewer.prototype.drawnBox = function (svg) {
    var graph = svg.querySelector("g.graph");
    if (!graph || !svg.isConnected || typeof graph.getBBox !== "function") return null;
    var b;
    try {
      b = graph.getBBox();
    } catch (err) {
      return null;
    }
    if (!(b.width > 0 && b.height > 0)) return null;
    // getBBox is in g.graph's own units: Graphviz's transform (translate(4 H)) maps them to the SVG's
    var list = graph.transform && graph.transform.baseVal, t = list && list.numberOfItems ? list.consolidate() : null;
    var m = t ? t.matrix : { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 };
    var xs = [], ys = [];
    [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]].forEach(function (p) {
      xs.push(m.a * p[0] + m.c * p[1] + m.e);
      ys.push(m.b * p[0] + m.d * p[1] + m.f);
    });
    var x = Math.min.apply(null, xs), y = Math.min.apply(null, ys);
    return { x: x, y: y, w: Math.max.apply(null, xs) - x, h: Math.max.apply(null, ys) - y };
  };

  /** measure what ``svg`` (the one shown, by default) draws, once it can be: its box becomes the
   * drawing's box (drawingBox) for the view maths, the overview and the canvas's height */
  Viewer.prototype.measureDrawing = function (svg) {
    svg = svg || this.svg;
    var info = this.prepare(svg);
    if (!info.measured) {
      var drawn = this.drawnBox(svg);
      if (drawn) {
        info.box = drawingBox(drawn, info.viewBox);
        info.measured = true;
      }
    }
    if (svg === this.svg && this.state && this.state.box !== info.box) this.state.box = info.box;
    return info;
  };

  Viewer.prototype.isFullscreen = function () {
    return document.fullscreenElement === this.root || document.webkitFullscreenElement === this.root ||
      this.root.classList.contains("netviz-fullscreen");
  };

  /** the canvas's height limit in pixels: the SVG's CSS max-height (--netviz-height, 80vh
   * by default), or MAX_HEIGHT of the window where CSS gives none in pixels */
  Viewer.prototype.maxHeight = function () {
    var css = getComputedStyle(this.svg).maxHeight;
    var limit = /px$/.test(css) ? parseFloat(css) : 0;
    return limit > 0 ? limit : window.innerHeight * MAX_HEIGHT;
  };

  /** the canvas height: what the first view needs at the column's width, bounded (see
   * canvasHeight); ``growOnly`` never makes it lower (switching depths) */
  Viewer.prototype.sizeCanvas = function (growOnly) {
    if (this.isFullscreen()) {
      this.svg.style.height = "";
      this.svg.removeAttribute("height");
      return;
    }
    var info = this.measureDrawing();
    this.sizedWidth = this.canvas.clientWidth;
    var width = this.canvas.clientWidth || info.box.w * PT;
    var height = canvasHeight(info.box, width, info.labelSize, this.maxHeight());
    if (growOnly && this.heightPx) height = Math.max(height, this.heightPx);
    this.heightPx = height;
    if ((parseFloat(this.svg.style.height) || 0) !== height) {
      this.svg.setAttribute("height", String(height));
      this.svg.style.height = height + "px";
    }
    this.svg.style.width = "100%";
  };

  Viewer.prototype.viewport = function () {
    var r = this.svg.getBoundingClientRect();
    return { w: r.width, h: r.height, left: r.left, top: r.top };
  };

  /** tell the view state the viewport's size; the viewport, in client pixels */
  Viewer.prototype.measure = function () {
    var vp = this.viewport();
    if (vp.w !== this.state.vp.w || vp.h !== this.state.vp.h) this.state.resize(vp.w, vp.h);
    return vp;
  };

  /** write the view box: now, or (``later``) once in the next animation frame */
  Viewer.prototype.render = function (later) {
    var self = this;
    if (later && typeof requestAnimationFrame === "function") {
      if (!this.frame) this.frame = requestAnimationFrame(function () { self.frame = 0; self.writeViewBox(); });
      return;
    }
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    this.writeViewBox();
  };

  Viewer.prototype.writeViewBox = function () {
    var vb = this.state.viewBox().join(" ");
    if (this.svg.getAttribute("viewBox") !== vb) this.svg.setAttribute("viewBox", vb);
    if (this.overview) this.overview.update();
  };

  /** the box of the drawing's inputs (its start), in SVG units, or null */
  Viewer.prototype.startBox = function () {
    var self = this, union = null;
    each(this.svg.querySelectorAll("g.node[id]"), function (g) {
      if (!/^in\d+$/.test(self.localId(g) || "")) return;
      var b = self.boxOf(g);
      if (!b) return;
      union = union ? { x: Math.min(union.x, b.x), y: Math.min(union.y, b.y),
                        w: Math.max(union.x + union.w, b.x + b.w) - Math.min(union.x, b.x),
                        h: Math.max(union.y + union.h, b.y + b.h) - Math.min(union.y, b.y) } : b;
    });
    return union;
  };

  /** the first view: readable, at the drawing's start (see firstView) */
  Viewer.prototype.first = function () {
    this.measureDrawing();
    var state = this.state;
    if (!state.startKnown) {
      // the inputs' box, measured with the whole drawing in view (before any paint)
      state.vp = { w: 0, h: 0 };
      state.fit();
      this.writeViewBox();
      var vp = this.viewport();
      if (vp.w > 0 && vp.h > 0) {
        state.start = this.startBox();
        state.startKnown = true;
      }
    }
    this.measure();
    state.first();
    this.render();
  };

  /** all of the drawing (the fit button, 0) */
  Viewer.prototype.fit = function () {
    this.measure();
    this.state.fit();
    this.render();
  };

  Viewer.prototype.zoomBy = function (factor, clientX, clientY, later) {
    var vp = this.measure();
    var ox = clientX === undefined ? 0 : clientX - vp.left - vp.w / 2;
    var oy = clientY === undefined ? 0 : clientY - vp.top - vp.h / 2;
    this.state.zoomBy(factor, ox, oy);
    this.render(later);
  };

  Viewer.prototype.panBy = function (dx, dy, later) {
    this.measure();
    this.state.panBy(dx, dy);
    this.render(later);
  };

  /** the bounding box of an element of the SVG, in SVG units */
  Viewer.prototype.boxOf = function (el) {
    var m = this.svg.getScreenCTM();
    if (!m) return null;
    var r = el.getBoundingClientRect();
    var inv = m.inverse();
    var p = this.svg.createSVGPoint();
    p.x = r.left; p.y = r.top;
    var a = p.matrixTransform(inv);
    p.x = r.right; p.y = r.bottom;
    var b = p.matrixTransform(inv);
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(b.x - a.x), h: Math.abs(b.y - a.y) };
  };

  /** centre ``el``; zoom to at least the natural size, but out far enough to show all of it */
  Viewer.prototype.centreOn = function (el) {
    if (!el) return;
    this.render(); // boxOf reads the view box
    var box = this.boxOf(el);
    if (!box) return;
    this.measure();
    this.state.centreOn(box);
    this.render();
  };

  Viewer.prototype.onResize = function () {
    // first shown, or the column changed width (a diagram in a closed tab or <details>)
    var width = this.canvas.clientWidth;
    if (width && width !== this.sizedWidth) this.sizeCanvas(false);
    if (this.state.mode === "first" && !this.state.startKnown) {
      this.first(); // hidden until now: its start could not be measured
      return;
    }
    this.measure();
    this.state.refresh();
    this.render();
  };

  Viewer.prototype.onWindowResize = function () {
    var self = this;
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(function () {
      self.sizeCanvas(false);
      self.onResize();
    }, 100);
  };

  // -- layouts ---------------------------------------------------------------------------

  /** show the layout of ``depth`` at its first view, then centre ``focusLocal`` in it if it
   * is drawn there; the element centred, or null */
  Viewer.prototype.setDepth = function (depth, focusLocal) {
    if (!this.layouts.has(depth)) return null;
    this.panel.hide();
    if (depth !== this.depth) {
      var svg = this.layouts.svgAt(depth);
      if (!svg) return null;
      this.prepare(svg);
      this.search.clear();
      this.canvas.replaceChild(svg, this.svg);
      this.svg = svg;
      this.state = this.stateFor(svg);
      this.depth = depth;
      this.toolbar.update();
    }
    this.sizeCanvas(true);
    this.first();
    var target = this.find(focusLocal);
    if (target) this.centreOn(target);
    if (this.search.query) this.search.run(this.search.query, false, 0, true);
    this.resetTabStop(target);
    return target;
  };

  Viewer.prototype.stepDepth = function (step) {
    var depths = this.layouts.depths;
    var i = depths.indexOf(this.depth) + step;
    if (i >= 0 && i < depths.length) this.setDepth(depths[i]);
  };

  Viewer.prototype.expand = function (g, byKeyboard) {
    var local = this.localId(g);
    var call = this.callOf(local);
    if (!call || !call.expandable) return false;
    var key = local.slice(1), depths = this.layouts.depths;
    var preferred = typeof call.depth === "number" ? call.depth + 1 : this.depth + 1;
    var depth = this.layouts.nearestWith("c" + key, preferred, 1, this.depth);
    if (depth === null) {
      // drawn open nowhere (the model itself): the next deeper layout
      var i = depths.indexOf(this.depth);
      if (i < 0 || i >= depths.length - 1) return false;
      depth = depths[i + 1];
    }
    var target = this.setDepth(depth, "c" + key);
    this.refocus(target, byKeyboard);
    return true;
  };

  Viewer.prototype.collapse = function (g, byKeyboard) {
    var local = this.localId(g);
    var call = this.callOf(local);
    if (!call) return false;
    var key = local.slice(1);
    var preferred = typeof call.depth === "number" ? call.depth : this.depth - 1;
    var depth = this.layouts.nearestWith("n" + key, preferred, -1, this.depth);
    if (depth === null) return false;
    var target = this.setDepth(depth, "n" + key);
    this.refocus(target, byKeyboard);
    return true;
  };

  Viewer.prototype.refocus = function (target, byKeyboard) {
    var el = byKeyboard && target ? target : this.canvas;
    try {
      el.focus({ preventScroll: true });
    } catch (err) {
      el.focus();
    }
  };

  // -- keys and focus: one tab stop, the arrow keys along the drawing -----------------------

  /** the drawing as the arrow keys see it (see navStep), made once per SVG */
  Viewer.prototype.navOf = function () {
    var info = this.prepare(this.svg);
    if (info.nav) return info.nav;
    var self = this, items = {}, succ = {}, pred = {};
    each(this.svg.querySelectorAll("g.node[id][tabindex], g.cluster[id][tabindex]"), function (g) {
      var local = self.localId(g), b;
      try {
        b = g.getBBox();
      } catch (err) {
        return;
      }
      if (!local || !(b.width > 0 || b.height > 0)) return;
      var item = { x: b.x, y: b.y, w: b.width, h: b.height, cluster: g.classList.contains("cluster"), label: null };
      var text = item.cluster && g.querySelector("text");
      if (text) {
        var t = text.getBBox();
        item.label = { x: t.x, y: t.y, w: t.width, h: t.height };
      }
      items[local] = item;
    });
    each(this.svg.querySelectorAll("g.edge"), function (g) {
      var t = g.querySelector("title");
      var m = t && /^(.*?)(?::\w+)?->(.*?)(?::\w+)?$/.exec(t.textContent.trim());
      if (!m) return;
      (succ[m[1]] = succ[m[1]] || []).push(m[2]);
      (pred[m[2]] = pred[m[2]] || []).push(m[1]);
    });
    info.nav = { items: items, succ: succ, pred: pred, flow: flowOf(items, succ) };
    return info.nav;
  };

  /** make ``g`` the diagram's one stop in the page's Tab order */
  Viewer.prototype.setTabStop = function (g) {
    if (this.tabStop && this.tabStop !== g && this.tabStop.getAttribute("tabindex") === "0") {
      this.tabStop.setAttribute("tabindex", "-1");
    }
    if (g) g.setAttribute("tabindex", "0");
    this.tabStop = g || null;
  };

  /** the tab stop of a new drawing: ``g`` if given, else the first input, else the first box */
  Viewer.prototype.resetTabStop = function (g) {
    if (this.tabStop && this.svg.contains(this.tabStop) && !g) return;
    this.setTabStop(g || this.find("in0") || this.svg.querySelector("g.node[tabindex]"));
  };

  /** move the view so that ``g`` (a cluster: its label) is inside the canvas, by as
   * little as it takes (centred when it does not fit) */
  Viewer.prototype.bringIntoView = function (g) {
    var el = (g.classList.contains("cluster") && g.querySelector("text")) || g;
    var vp = this.measure(), r = el.getBoundingClientRect(), pad = 12;
    if (!vp.w || !vp.h) return;
    var shift = function (lo, size, rlo, rsize) {
      if (rsize > size - 2 * pad) return lo + size / 2 - (rlo + rsize / 2);
      if (rlo < lo + pad) return lo + pad - rlo;
      if (rlo + rsize > lo + size - pad) return lo + size - pad - (rlo + rsize);
      return 0;
    };
    var dx = shift(vp.left, vp.w, r.left, r.width), dy = shift(vp.top, vp.h, r.top, r.height);
    if (Math.abs(dx) >= 0.5 || Math.abs(dy) >= 0.5) this.panBy(dx, dy);
  };

  /** scroll the page so ``g`` is in the window: centred (``centre``), else by as little as it takes */
  Viewer.prototype.scrollToBox = function (g, centre) {
    var el = (g.classList.contains("cluster") && g.querySelector("text")) || g;
    var r = el.getBoundingClientRect(), h = window.innerHeight || document.documentElement.clientHeight;
    var dy = 0;
    if (centre) dy = r.top + r.height / 2 - h / 2;
    else if (r.top < 8) dy = r.top - 8;
    else if (r.bottom > h - 8) dy = Math.min(r.bottom - h + 8, r.top - 8);
    if (Math.abs(dy) < 1) return;
    var before = window.pageYOffset;
    try {
      window.scrollBy({ top: dy, left: 0, behavior: "instant" });
    } catch (err) {
      window.scrollBy(0, dy);
    }
    if (window.pageYOffset === before) {
      // the theme scrolls an element, not the window
      this.canvas.scrollIntoView({ block: centre ? "center" : "nearest" });
    }
    this.canvas.scrollTop = 0;
    this.canvas.scrollLeft = 0;
  };

  /** give ``g`` keyboard focus, in view in the canvas and in the window (``quiet``: without
   * opening its details panel) */
  Viewer.prototype.focusBox = function (g, centre, quiet) {
    if (!g) return;
    this.setTabStop(g);
    this.keyFocus = quiet ? "quiet" : true; // the focusin handler: already brought into view here
    try {
      g.focus({ preventScroll: true });
    } catch (err) {
      g.focus();
    }
    this.keyFocus = false;
    this.bringIntoView(g);
    this.scrollToBox(g, centre);
  };

  /** a box got focus (Tab, a click, the keys): it becomes the tab stop and comes into view */
  Viewer.prototype.onBoxFocus = function (g) {
    this.setTabStop(g);
    if (this.keyFocus || this.pointers.size) return;
    this.bringIntoView(g);
    this.scrollToBox(g, false);
  };

  /** an arrow key on the box ``g``: focus the next, previous or neighbouring box */
  Viewer.prototype.moveFocus = function (g, key) {
    var nav = this.navOf(), id = this.localId(g);
    var memo = this.navMemo && this.navMemo.at === id ? this.navMemo : null;
    var step = navStep(nav, id, key, memo);
    var to = step && this.find(step.to);
    if (!to) return false;
    if (step.dir === "next") this.navMemo = { at: step.to, prev: id, next: step.then };
    else if (step.dir === "prev") this.navMemo = { at: step.to, next: id, prev: step.then };
    else this.navMemo = null;
    this.focusBox(to, false);
    return true;
  };

  /** Home, End: focus the first input (``in``) or the last output (``out``) */
  Viewer.prototype.focusEnd = function (which) {
    var self = this, found = [];
    each(this.svg.querySelectorAll("g.node[id]"), function (g) {
      var m = new RegExp("^" + which + "(\\d+)$").exec(self.localId(g) || "");
      if (m) found[Number(m[1])] = g;
    });
    found = found.filter(Boolean);
    var g = which === "in" ? found[0] : found[found.length - 1];
    if (!g) return false;
    this.navMemo = null;
    this.focusBox(g, false);
    return true;
  };

  /** + and - with a box focused: zoom about the box, which stays in view */
  Viewer.prototype.zoomKey = function (factor, g) {
    if (!g) {
      this.zoomBy(factor);
      return;
    }
    var r = g.getBoundingClientRect();
    this.zoomBy(factor, r.left + r.width / 2, r.top + r.height / 2);
    this.bringIntoView(g);
  };

  /** the keys on the canvas and its boxes; true when the key was used */
  Viewer.prototype.onKey = function (e) {
    var g = this.boxAt(e.target), panel = this.panel;
    switch (e.key) {
      case "+": case "=": this.zoomKey(ZOOM_STEP, g); return true;
      case "-": case "_": this.zoomKey(1 / ZOOM_STEP, g); return true;
      case "0": this.fit(); if (g) this.bringIntoView(g); return true;
      case "ArrowLeft": case "ArrowRight": case "ArrowUp": case "ArrowDown":
        if (g) {
          this.moveFocus(g, e.key);
          return true;
        }
        // the canvas itself (clicked): the arrows pan
        this.panBy(e.key === "ArrowLeft" ? 60 : e.key === "ArrowRight" ? -60 : 0,
                   e.key === "ArrowUp" ? 60 : e.key === "ArrowDown" ? -60 : 0);
        return true;
      case "Tab":
        // the panel's links come next after the box
        if (!g || e.shiftKey || !panel.isOpen() || panel.box !== g) return false;
        var first = panel.el.querySelector("a[href], button");
        if (first) first.focus();
        return !!first;
      case "Home": return this.focusEnd("in");
      case "End": return this.focusEnd("out");
      case "Escape":
        if (panel.isOpen()) {
          panel.hide();
          return true;
        }
        if (this.root.classList.contains("netviz-fullscreen")) {
          this.setFallbackFullscreen(false);
          return true;
        }
        return false;
      case "Enter": case " ":
        if (g && g.classList.contains("cluster")) return this.collapse(g, true);
        if (g) return this.expand(g, true);
        return false;
      default: return false;
    }
  };

  // -- layer links: #<anchor>/<link> ------------------------------------------------------

  /** the diagram's anchor: the id its layer links start with */
  Viewer.prototype.anchor = function () {
    return this.root.getAttribute("data-netviz-anchor") || this.root.id || "";
  };

  /** the link of the box or cluster ``g`` (``layers.0.attn``, ``input-1``), or null */
  Viewer.prototype.linkOf = function (g) {
    var local = this.localId(g) || "";
    var io = /^(in|out)(\d+)$/.exec(local);
    if (io) return (io[1] === "in" ? "input-" : "output-") + (Number(io[2]) + 1);
    return linkOfCall(this.callOf(local));
  };

  /** the depth to show for ``local`` ("k12": call 12, drawn as n12 or c12; "in0"): the
   * one shown if it draws it, else the shallowest that draws it as a box, else as a
   * cluster; {depth, local} or null */
  Viewer.prototype.depthFor = function (local) {
    var layouts = this.layouts, depths = layouts.depths, i, ids;
    var names = local.charAt(0) === "k" ? ["n" + local.slice(1), "c" + local.slice(1)] : [local];
    ids = layouts.idsAt(this.depth);
    for (i = 0; i < names.length; i++) if (ids && ids.has(names[i])) return { depth: this.depth, local: names[i] };
    for (var n = 0; n < names.length; n++) {
      for (i = 0; i < depths.length; i++) {
        if (layouts.idsAt(depths[i]).has(names[n])) return { depth: depths[i], local: names[n] };
      }
    }
    return null;
  };

  /** open the layer ``link``: the depth that draws it, the box centred, highlighted
   * (netviz-target) and focused, the diagram in the window; false if no box stands for it */
  Viewer.prototype.openLink = function (link) {
    var targets = linkTargets(this.calls, link), place = null;
    for (var i = 0; i < targets.length && !place; i++) place = this.depthFor(targets[i]);
    if (!place) {
      this.canvas.scrollIntoView({ block: "nearest" });
      return false;
    }
    var g = this.setDepth(place.depth, place.local) || this.find(place.local);
    if (!g) return false;
    this.centreOn(g);
    if (this.target && this.target !== g) this.target.classList.remove("netviz-target");
    g.classList.add("netviz-target");
    this.target = g;
    this.navMemo = null;
    this.focusBox(g, true);
    return true;
  };

  // -- full screen -----------------------------------------------------------------------

  Viewer.prototype.toggleFullscreen = function () {
    var self = this, root = this.root;
    if (document.fullscreenElement === root) {
      document.exitFullscreen();
      return;
    }
    if (document.webkitFullscreenElement === root) {
      document.webkitExitFullscreen();
      return;
    }
    if (root.classList.contains("netviz-fullscreen")) {
      this.setFallbackFullscreen(false);
      return;
    }
    var request = root.requestFullscreen || root.webkitRequestFullscreen;
    if (!request) {
      this.setFallbackFullscreen(true);
      return;
    }
    try {
      var result = request.call(root);
      if (result && typeof result.catch === "function") {
        result.catch(function () { self.setFallbackFullscreen(true); });
      }
    } catch (err) {
      this.setFallbackFullscreen(true);
    }
  };

  /** a fixed overlay where the Fullscreen API is missing or refused */
  Viewer.prototype.setFallbackFullscreen = function (on) {
    this.root.classList.toggle("netviz-fullscreen", on);
    document.documentElement.classList.toggle("netviz-noscroll", on);
    this.onFullscreenChange();
  };

  Viewer.prototype.onFullscreenChange = function () {
    var on = this.isFullscreen();
    this.fullscreenOn = on;
    this.root.classList.toggle("netviz-is-fullscreen", on);
    this.toolbar.setFullscreen(on);
    this.panel.hide();
    this.sizeCanvas(false);
    this.first();
  };

  // -- events ----------------------------------------------------------------------------

  Viewer.prototype.isActive = function () {
    return this.isFullscreen() || this.canvas.contains(document.activeElement);
  };

  Viewer.prototype.showHint = function (text) {
    var hint = this.hint;
    hint.textContent = text;
    hint.hidden = false;
    clearTimeout(this.hintTimer);
    this.hintTimer = setTimeout(function () { hint.hidden = true; }, 1500);
  };

  Viewer.prototype.boxAt = function (target) {
    if (!target || !target.closest) return null;
    var g = target.closest("g.node, g.cluster");
    return g && this.svg.contains(g) ? g : null;
  };

  /** the end of a drag or pinch: a pointer went up, was cancelled or lost its capture */
  Viewer.prototype.release = function (pointerId) {
    if (!this.pointers.delete(pointerId)) return;
    if (!this.pointers.size) {
      this.canvas.classList.remove("netviz-dragging");
      this.render(); // the last moves, now
    }
  };

  Viewer.prototype.bindEvents = function () {
    var self = this, canvas = this.canvas, panel = this.panel, listen = this.listen.bind(this);

    listen(canvas, "wheel", function (e) {
      if (!(e.ctrlKey || e.metaKey || self.isActive())) {
        self.showHint("Click the diagram (or hold Ctrl) to zoom with the wheel");
        return;
      }
      e.preventDefault();
      var dy = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1);
      panel.hide();
      self.zoomBy(Math.exp(-clamp(dy, -200, 200) * 0.002), e.clientX, e.clientY, true);
    }, { passive: false });

    // drag to pan, two pointers to pinch; the canvas keeps the pointer from the start, so a
    // drag that leaves it goes on, and ends however the pointer goes away
    listen(canvas, "pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      if (self.pointers.size === 0) self.dragged = false;
      self.downTarget = e.target;
      self.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY, x0: e.clientX, y0: e.clientY });
      if (self.pointers.size === 2) self.dragged = true;
      try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* not active: no capture */ }
    });
    listen(canvas, "pointermove", function (e) {
      var p = self.pointers.get(e.pointerId);
      if (!p) return;
      if (self.pointers.size === 1) {
        if (!self.dragged && Math.abs(e.clientX - p.x0) + Math.abs(e.clientY - p.y0) > DRAG_PX) {
          self.dragged = true;
          panel.hide();
          canvas.classList.add("netviz-dragging");
        }
        if (self.dragged) self.panBy(e.clientX - p.x, e.clientY - p.y, true);
        p.x = e.clientX;
        p.y = e.clientY;
      } else if (self.pointers.size === 2) {
        var pts = Array.from(self.pointers.values());
        var a0 = { x: pts[0].x, y: pts[0].y }, b0 = { x: pts[1].x, y: pts[1].y };
        p.x = e.clientX;
        p.y = e.clientY;
        var step = pinch(a0, b0, pts[0], pts[1]);
        panel.hide();
        self.zoomBy(step.factor, step.mx, step.my, true);
        self.panBy(step.dx, step.dy, true);
      }
    });
    var release = function (e) { self.release(e.pointerId); };
    listen(canvas, "pointerup", release);
    listen(canvas, "pointercancel", release);
    listen(canvas, "lostpointercapture", release);
    listen(canvas, "dragstart", function (e) { e.preventDefault(); });

    // a click after a drag is not a click
    listen(canvas, "click", function (e) {
      if (self.dragged) {
        self.dragged = false;
        e.stopPropagation();
        e.preventDefault();
      }
    }, true);
    listen(canvas, "click", function (e) {
      // the canvas holds the pointer, so a click on a box may be aimed at the canvas
      var target = e.target === canvas || e.target === self.svg ? self.downTarget : e.target;
      self.downTarget = null;
      var g = self.boxAt(target);
      if (!g) return;
      if (g.classList.contains("cluster")) {
        if (target.closest("text")) self.collapse(g, false);
      } else if (!self.expand(g, false)) {
        panel.show(g);
      }
    });

    listen(canvas, "keydown", function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (self.onKey(e)) e.preventDefault();
    });

    // details on hover and on focus
    listen(canvas, "pointerover", function (e) {
      if (self.pointers.size && self.dragged) return;
      var g = self.boxAt(e.target);
      if (!g) return;
      if (g.classList.contains("cluster") && !e.target.closest("text")) return;
      panel.show(g);
    });
    listen(canvas, "pointerout", function (e) {
      var g = self.boxAt(e.target);
      if (g && g === panel.box && !(e.relatedTarget && g.contains(e.relatedTarget))) panel.hideSoon();
    });
    listen(panel.el, "pointerenter", function () { panel.keep(); });
    // Tab from a box goes into its panel (its links, see onKey) and on from the box; Esc
    // there gives focus back to the box
    listen(panel.el, "keydown", function (e) {
      var g = panel.box && self.svg.contains(panel.box) ? panel.box : self.tabStop;
      var stops = panel.el.querySelectorAll("a[href], button");
      if (e.key === "Escape") {
        e.preventDefault();
        panel.hide();
        self.focusBox(g, false, true);
      } else if (e.key === "Tab" && g && stops.length) {
        var first = e.target === stops[0], last = e.target === stops[stops.length - 1];
        if (e.shiftKey && first) {
          e.preventDefault();
          self.focusBox(g, false);
        } else if (!e.shiftKey && last) {
          self.focusBox(g, false); // and the browser tabs on from the box
        }
      }
    });
    listen(panel.el, "focusout", function (e) {
      var to = e.relatedTarget;
      if (!(to && (panel.el.contains(to) || to === panel.box))) panel.hideSoon();
    });
    listen(panel.el, "pointerleave", function () { panel.hideSoon(); });
    listen(canvas, "focusin", function (e) {
      var g = self.boxAt(e.target);
      if (g && e.target === g) {
        var quiet = self.keyFocus === "quiet";
        self.onBoxFocus(g);
        if (!quiet) panel.show(g);
      }
      canvas.classList.add("netviz-active");
    });
    listen(canvas, "focusout", function (e) {
      if (!canvas.contains(e.relatedTarget)) canvas.classList.remove("netviz-active");
      var g = self.boxAt(e.target);
      if (g && g === panel.box && !(e.relatedTarget && panel.el.contains(e.relatedTarget))) panel.hideSoon();
    });
  };

  // -- dispose ---------------------------------------------------------------------------

  /** take the viewer down: listeners, observers, timers, controls and full screen; the
   * canvas shows the default depth's SVG again, whole; initAll() can start it again */
  Viewer.prototype.dispose = function () {
    if (!this.ok) return;
    this.ok = false;
    this.listeners.forEach(function (l) { l[0].removeEventListener(l[1], l[2], l[3]); });
    this.listeners = [];
    if (this.resizeObserver) this.resizeObserver.disconnect();
    unwatchFullscreen(this);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    clearTimeout(this.resizeTimer);
    clearTimeout(this.hintTimer);
    if (this.root.classList.contains("netviz-fullscreen")) {
      this.root.classList.remove("netviz-fullscreen");
      document.documentElement.classList.remove("netviz-noscroll");
    } else if (document.fullscreenElement === this.root && document.exitFullscreen) {
      document.exitFullscreen().catch(function () { /* left already */ });
    }
    this.search.clear();
    this.panel.dispose();
    this.toolbar.dispose();
    this.overview.dispose();
    this.hint.remove();
    this.pointers.clear();
    var first = this.layouts.svgAt(this.firstDepth);
    if (first && first !== this.svg) this.canvas.replaceChild(first, this.svg);
    this.svg = first || this.svg;
    var info = this.prepare(this.svg), svg = this.svg;
    svg.setAttribute("viewBox", [info.viewBox.x, info.viewBox.y, info.viewBox.w, info.viewBox.h].join(" "));
    [["width", info.width], ["height", info.height]].forEach(function (a) {
      if (a[1] === null) svg.removeAttribute(a[0]);
      else svg.setAttribute(a[0], a[1]);
    });
    svg.style.height = "";
    svg.style.width = "";
    var canvas = this.canvas;
    ["tabindex", "role", "aria-roledescription"].forEach(function (a) { canvas.removeAttribute(a); });
    canvas.setAttribute("role", "img"); // as written at build time
    canvas.classList.remove("netviz-active", "netviz-dragging");
    if (this.madeCanvasId) canvas.removeAttribute("id");
    this.root.classList.remove("netviz-js", "netviz-is-fullscreen");
    this.root.style.removeProperty("--netviz-height");
    if (this.root.netvizViewer === this) delete this.root.netvizViewer;
  };

  // == start ==========================================================================

  /** start a viewer on every div.netviz that has none */
  function initAll() {
    each(document.querySelectorAll("div.netviz"), function (root) {
      if (root.netvizViewer || root.classList.contains("netviz-error")) return;
      try {
        var viewer = new Viewer(root);
        if (viewer.ok) root.netvizViewer = viewer;
      } catch (err) {
        // leave the static diagram as it is
        root.classList.remove("netviz-js");
        if (window.console && console.warn) console.warn("netviz: viewer not started:", err);
      }
    });
  }

  /** take down every viewer (a page that replaces its content, say) */
  function disposeAll() {
    each(document.querySelectorAll("div.netviz"), function (root) {
      if (root.netvizViewer) root.netvizViewer.dispose();
    });
  }

  // markup: the DOM version this viewer reads (viewer_page.VIEWER_MARKUP): notebook outputs
  // without the script start a viewer already on the page only if it reads their markup
  window.sphinxNetviz = { init: initAll, dispose: disposeAll, markup: 1 };

  // -- layer links: the page opened at #<anchor>/<link>, or a link to one followed ----------

  /** the viewer of the diagram with ``anchor`` (data-netviz-anchor; else an element with
   * that id: the div.netviz, or the figure around it), or null */
  function viewerForAnchor(anchor) {
    var roots = document.querySelectorAll("div.netviz[data-netviz-anchor]");
    for (var i = 0; i < roots.length; i++) {
      if (roots[i].getAttribute("data-netviz-anchor") === anchor) return roots[i].netvizViewer || null;
    }
    var el = anchor ? document.getElementById(anchor) : null;
    var root = el && (el.matches("div.netviz") ? el : el.querySelector("div.netviz"));
    return (root && root.netvizViewer) || null;
  }

  var linked = null; // the viewer that opened the last layer link

  /** open the layer link of the page's fragment, if it is one */
  function openFragment() {
    var f = parseFragment(window.location.hash);
    if (!f || f.link === null) return;
    var viewer = viewerForAnchor(f.anchor);
    if (viewer && viewer.ok) {
      viewer.openLink(f.link);
      linked = viewer;
    }
  }

  function start() {
    initAll();
    openFragment();
  }

  window.addEventListener("hashchange", openFragment);
  // a link to the fragment the page is at already changes nothing: open it again
  document.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("a[href]") : null;
    if (!a || e.defaultPrevented || !a.hash || a.hash !== window.location.hash) return;
    if (a.pathname === window.location.pathname) setTimeout(openFragment, 0);
  });
  // images and fonts may move the page until it has loaded: the target back into the window
  window.addEventListener("load", function () {
    var g = linked && linked.target;
    if (g && document.activeElement === g) linked.scrollToBox(g, true);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
