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
 *   fullscreen   one document listener for every diagram on the page
 *   Viewer       one diagram: sets the parts up, handles its events, and
 *                dispose() takes it all down again
 *   start        a viewer on every div.netviz; window.sphinxNetviz.init() and
 *                .dispose() start and stop them on a page that swaps content
 *
 * The first view keeps labels readable: a diagram that fits its canvas with
 * labels at least MIN_LABEL_PX tall is shown whole; a bigger one opens fitted
 * to the column's width (at most its natural size), never smaller than that,
 * at the start of the drawing (its inputs), and "fit" shows it all.  The canvas
 * is at most --netviz-height tall (CSS, 80vh; data-netviz-height on the
 * div.netviz sets it for one diagram).  The view box is written at most once
 * per animation frame while a pointer drags or pinches or the wheel zooms.
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
  var MAX_HEIGHT = 0.8;
  /** the lowest canvas, in pixels */
  var MIN_HEIGHT = 48;
  var ZOOM_STEP = 1.25;
  /** pixels left around the drawing when it is fitted */
  var FIT_MARGIN = 12;
  /** the first view draws labels at least this tall (font size in pixels of the
   * lower quartile of the drawing's labels: most labels are that size or bigger) */
  var MIN_LABEL_PX = 10;
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

  /** the first view's scale: all of it if that is readable ({whole: true}), else the
   * column's width (at most the natural size), never below the readable scale */
  function firstScale(box, vp, labelSize) {
    var all = Math.min(PT, fitScale(box, vp, FIT_MARGIN));
    var readable = readableScale(labelSize);
    if (all >= readable) return { s: all, whole: true };
    return { s: Math.max(readable, Math.min(PT, (vp.w - FIT_MARGIN) / box.w)), whole: false };
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
    view.cy = anchor(sy, box.y - pad, box.y + box.h + pad, vp.h / 2 / f.s);
    return view;
  }

  /** the canvas height, in pixels, for ``box`` in a column ``width`` wide: as tall as the
   * first view needs, between MIN_HEIGHT and ``maxHeight`` */
  function canvasHeight(box, width, labelSize, maxHeight) {
    // the drawing at the column's width (or its natural size)
    var natural = Math.max(MIN_HEIGHT, Math.min(box.h * Math.min(PT, width / box.w), maxHeight));
    var first = firstScale(box, { w: width, h: natural }, labelSize);
    if (first.whole) return Math.round(natural);
    return Math.round(Math.max(MIN_HEIGHT, Math.min(box.h * first.s + FIT_MARGIN, maxHeight)));
  }

  /** the smallest zoom: a quarter of the fitted scale */
  function minScale(box, vp) {
    return Math.min(PT, fitScale(box, vp)) / 4;
  }

  /** ``view`` with its middle kept over the drawing: it cannot be panned out of sight */
  function clampCentre(view, box) {
    return { cx: clamp(view.cx, box.x, box.x + box.w), cy: clamp(view.cy, box.y, box.y + box.h), s: view.s };
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
    else if (this.view) this.view = clampCentre(this.view, this.box);
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
    this.view = clampCentre(zoomAround(this.view, s, ox, oy), this.box);
    this.mode = null;
  };

  ViewState.prototype.zoomBy = function (factor, ox, oy) {
    if (this.view) this.zoomTo(this.view.s * factor, ox, oy);
  };

  ViewState.prototype.panBy = function (dx, dy) {
    if (!this.view || !this.ready()) return;
    this.view = clampCentre(panView(this.view, dx, dy), this.box);
    this.mode = null;
  };

  /** centre ``target`` (a box in SVG units) */
  ViewState.prototype.centreOn = function (target) {
    if (!this.view || !this.ready()) return;
    this.view = clampCentre(centreView(target, this.vp, this.view.s, this.minScale()), this.box);
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

  var exported = {
    PT: PT, MAX_SCALE: MAX_SCALE, MIN_HEIGHT: MIN_HEIGHT, FIT_MARGIN: FIT_MARGIN, MIN_LABEL_PX: MIN_LABEL_PX,
    clamp: clamp, parseViewBox: parseViewBox, quantile: quantile, fitScale: fitScale,
    readableScale: readableScale, fitView: fitView, firstScale: firstScale, firstView: firstView,
    canvasHeight: canvasHeight, minScale: minScale, clampCentre: clampCentre, zoomAround: zoomAround,
    panView: panView, centreView: centreView, viewBoxOf: viewBoxOf, pinch: pinch, ViewState: ViewState,
    formatCount: formatCount, formatMacs: formatMacs, describe: describe, matchingCalls: matchingCalls
  };
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
    fullscreen: "M2 7V2h5M2 2l5.5 5.5M13 2h5v5M18 2l-5.5 5.5M18 13v5h-5M18 18l-5.5-5.5M7 18H2v-5M2 18l5.5-5.5"
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

  /** the font size of most labels of ``svg`` (their lower quartile), in SVG units */
  function labelSizeOf(svg) {
    var sizes = [];
    each(svg.querySelectorAll("text"), function (t) {
      sizes.push(parseFloat(t.getAttribute("font-size")));
    });
    return quantile(sizes, 0.25);
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
    canvas.setAttribute("tabindex", "0");
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
    this.sizeCanvas(false);
    this.first();
    this.bindEvents();
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
    var info = { box: parseViewBox(svg.getAttribute("viewBox"), svg.getAttribute("width"), svg.getAttribute("height")),
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

  /** a box's or cluster's role, focusability and accessible name */
  Viewer.prototype.labelBox = function (g, local, title) {
    var call = this.callOf(local);
    if (g.classList.contains("cluster")) {
      var label = g.querySelector("text");
      if (label) label.classList.add("netviz-label");
      if (call) {
        g.classList.add("netviz-collapsible");
        g.setAttribute("tabindex", "0");
        g.setAttribute("role", "button");
        g.setAttribute("aria-expanded", "true");
        g.setAttribute("aria-label", describe(call, title) + "; expanded, press Enter to collapse");
      }
    } else {
      g.setAttribute("tabindex", "0");
      if (call && call.expandable) {
        g.classList.add("netviz-expandable");
        g.setAttribute("role", "button");
        g.setAttribute("aria-expanded", "false");
        g.setAttribute("aria-label", describe(call, title) + "; collapsed, press Enter to expand");
      } else {
        g.setAttribute("role", "img");
        g.setAttribute("aria-label", call ? describe(call, title) : title.replace(/\n/g, "; "));
      }
    }
  };

  // -- size and view -------------------------------------------------------------------

  /** a ViewState for ``svg`` (the box of its inputs found once it is in the page) */
  Viewer.prototype.stateFor = function (svg) {
    var info = this.prepare(svg);
    return new ViewState(info.box, info.labelSize, null);
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
    var info = this.prepare(this.svg);
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
      var g = self.boxAt(e.target);
      var handled = true;
      switch (e.key) {
        case "+": case "=": self.zoomBy(ZOOM_STEP); break;
        case "-": case "_": self.zoomBy(1 / ZOOM_STEP); break;
        case "0": self.fit(); break;
        case "ArrowLeft": self.panBy(60, 0); break;
        case "ArrowRight": self.panBy(-60, 0); break;
        case "ArrowUp": self.panBy(0, 60); break;
        case "ArrowDown": self.panBy(0, -60); break;
        case "Escape":
          if (panel.isOpen()) panel.hide();
          else if (self.root.classList.contains("netviz-fullscreen")) self.setFallbackFullscreen(false);
          else handled = false;
          break;
        case "Enter": case " ":
          if (g && g.classList.contains("cluster")) handled = self.collapse(g, true);
          else if (g) handled = self.expand(g, true);
          else handled = false;
          break;
        default: handled = false;
      }
      if (handled) e.preventDefault();
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
    listen(panel.el, "pointerleave", function () { panel.hideSoon(); });
    listen(canvas, "focusin", function (e) {
      var g = self.boxAt(e.target);
      if (g && e.target === g) panel.show(g);
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
    this.hint.remove();
    this.pointers.clear();
    var first = this.layouts.svgAt(this.firstDepth);
    if (first && first !== this.svg) this.canvas.replaceChild(first, this.svg);
    this.svg = first || this.svg;
    var info = this.prepare(this.svg), svg = this.svg;
    svg.setAttribute("viewBox", [info.box.x, info.box.y, info.box.w, info.box.h].join(" "));
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

  window.sphinxNetviz = { init: initAll, dispose: disposeAll };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
