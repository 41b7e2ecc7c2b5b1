/* sphinx-netviz viewer: pan and zoom, expand and collapse, search and details
 * for the network diagrams that sphinx-netviz inlines in HTML pages.
 *
 * Plain ES2018, no dependencies, no network: works from file://.  Every
 * div.netviz is set up on DOMContentLoaded; without JavaScript the page keeps
 * the static SVG.  Each diagram holds the SVG of its default depth in
 * .netviz-canvas, one <template class="netviz-layout" data-depth="N"> per
 * other depth (real Graphviz layouts made at build time), and the details of
 * every drawn call in <script type="application/json" class="netviz-data">.
 * SVG ids are <prefix>_n<call> (boxes), <prefix>_c<call> (clusters: the same
 * call drawn expanded), <prefix>_in<k>, _out<k>, _r_n<call>, _e<k>, _graph.
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
  /** a diagram opens at most this fraction of the window tall */
  var MAX_HEIGHT = 0.8;
  var ZOOM_STEP = 1.25;
  /** pixels left around the drawing when it is fitted */
  var FIT_MARGIN = 12;

  // -- small helpers -----------------------------------------------------------

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

  function viewBoxOf(svg) {
    var parts = (svg.getAttribute("viewBox") || "").trim().split(/[\s,]+/).map(Number);
    if (parts.length === 4 && parts.every(isFinite) && parts[2] > 0 && parts[3] > 0) {
      return { x: parts[0], y: parts[1], w: parts[2], h: parts[3] };
    }
    var w = parseFloat(svg.getAttribute("width")) || 100;
    var hgt = parseFloat(svg.getAttribute("height")) || 100;
    return { x: 0, y: 0, w: w, h: hgt };
  }

  var uid = 0;

  // -- one diagram -------------------------------------------------------------

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
    this.info = new WeakMap(); // svg -> {box, edges}
    this.layouts = {};         // depth -> {template, svg, ids}
    this.depth = typeof data.depth === "number" ? data.depth : 0;
    this.layouts[this.depth] = { template: null, svg: this.svg, ids: null };
    var self = this;
    Array.prototype.forEach.call(root.querySelectorAll("template.netviz-layout"), function (t) {
      var d = parseInt(t.getAttribute("data-depth"), 10);
      if (isFinite(d) && !(d in self.layouts)) self.layouts[d] = { template: t, svg: null, ids: null };
    });
    this.depths = Object.keys(this.layouts).map(Number).sort(function (a, b) { return a - b; });
    this.view = null;     // {cx, cy, s}: centre in SVG units, pixels per unit
    this.fitted = true;   // still showing the whole diagram (re-fit on resize)
    this.pointers = new Map();
    this.matches = [];
    this.matchIndex = -1;
    this.lastQuery = "";
    this.build();
  }

  Viewer.prototype.build = function () {
    var root = this.root, canvas = this.canvas, self = this;
    root.classList.add("netviz-js");
    canvas.setAttribute("tabindex", "0");
    // the boxes inside are focusable and labelled: a group, not one image
    canvas.setAttribute("role", "group");
    canvas.setAttribute("aria-roledescription", "network diagram");
    if (!canvas.id) canvas.id = this.id + "-canvas";
    this.buildToolbar();
    this.panel = h("div", { "class": "netviz-panel", id: this.id + "-panel", role: "tooltip", hidden: "" });
    this.hint = h("div", { "class": "netviz-hint", "aria-hidden": "true", hidden: "" });
    root.appendChild(this.panel);
    root.appendChild(this.hint);
    this.prepare(this.svg);
    this.sizeCanvas(false);
    this.fit();
    this.bindEvents();
    if (typeof ResizeObserver === "function") {
      this.resizeObserver = new ResizeObserver(function () { self.onResize(); });
      this.resizeObserver.observe(canvas);
    }
    window.addEventListener("resize", function () { self.onWindowResize(); });
  };

  Viewer.prototype.button = function (name, label, onClick, iconPath, text) {
    var b = h("button", { type: "button", "class": "netviz-btn netviz-" + name, "aria-label": label, title: label,
                          "aria-controls": this.canvas.id });
    if (iconPath) b.appendChild(icon(iconPath));
    if (text) b.appendChild(h("span", { "class": "netviz-btn-text" }, text));
    b.addEventListener("click", onClick);
    return b;
  };

  Viewer.prototype.buildToolbar = function () {
    var self = this;
    var bar = h("div", { "class": "netviz-toolbar", role: "toolbar", "aria-label": "Diagram controls" });
    var view = h("span", { "class": "netviz-group" });
    view.appendChild(this.button("fit", "Fit the diagram (0)", function () { self.fit(); }, ICONS.fit));
    view.appendChild(this.button("zoom-in", "Zoom in (+)", function () { self.zoomBy(ZOOM_STEP); }, ICONS.zoomIn));
    view.appendChild(this.button("zoom-out", "Zoom out (−)", function () { self.zoomBy(1 / ZOOM_STEP); }, ICONS.zoomOut));
    bar.appendChild(view);
    if (this.depths.length > 1) {
      var levels = h("span", { "class": "netviz-group" });
      this.expandBtn = this.button("expand", "Expand one level", function () { self.stepDepth(1); }, ICONS.expand);
      this.collapseBtn = this.button("collapse", "Collapse one level", function () { self.stepDepth(-1); }, ICONS.collapse);
      levels.appendChild(this.collapseBtn);
      levels.appendChild(this.expandBtn);
      var select = h("select", { "class": "netviz-depth", "aria-label": "Depth: collapse to depth N, or expand all",
                                 title: "Collapse to depth N, or expand all" });
      var max = this.depths[this.depths.length - 1];
      this.depths.forEach(function (d) {
        var text = d === max ? "Expand all (depth " + d + ")" : "Depth " + d;
        select.appendChild(h("option", { value: String(d) }, text));
      });
      select.addEventListener("change", function () { self.setDepth(Number(select.value)); });
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
    var timer = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.search(input.value, false); }, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        e.preventDefault();
        clearTimeout(timer);
        self.search(input.value, true, e.shiftKey ? -1 : 1);
      } else if (e.key === "Escape" && input.value) {
        e.preventDefault();
        input.value = "";
        self.search("", false);
      }
    });
    this.searchInput = input;
    find.appendChild(input);
    find.appendChild(this.status);
    bar.appendChild(find);
    var fs = h("span", { "class": "netviz-group netviz-end" });
    this.fullscreenBtn = this.button("fullscreen", "Full screen", function () { self.toggleFullscreen(); },
                                     ICONS.fullscreen);
    fs.appendChild(this.fullscreenBtn);
    bar.appendChild(fs);
    this.toolbar = bar;
    this.root.insertBefore(bar, this.canvas);
    this.updateControls();
  };

  Viewer.prototype.updateControls = function () {
    if (!this.depthSelect) return;
    var i = this.depths.indexOf(this.depth);
    this.depthSelect.value = String(this.depth);
    this.collapseBtn.disabled = i <= 0;
    this.expandBtn.disabled = i >= this.depths.length - 1;
  };

  // -- SVG set-up --------------------------------------------------------------

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

  Viewer.prototype.prepare = function (svg) {
    if (this.info.has(svg)) return this.info.get(svg);
    var self = this;
    var info = { box: viewBoxOf(svg), edges: {}, titles: new WeakMap() };
    svg.setAttribute("width", "100%");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    svg.setAttribute("focusable", "false");
    svg.classList.add("netviz-svg");
    // the viewer's panel replaces the native tooltips of boxes and clusters, and the
    // titles of the drawing and of Graphviz's graph would show over every box
    Array.prototype.forEach.call(svg.querySelectorAll(":scope > title, g.graph > title"), function (t) {
      if (t.parentNode === svg && !svg.hasAttribute("aria-label")) svg.setAttribute("aria-label", t.textContent);
      t.parentNode.removeChild(t);
    });
    Array.prototype.forEach.call(svg.querySelectorAll("g.node[id], g.cluster[id]"), function (g) {
      var local = self.localId(g);
      if (!local) return;
      var title = "";
      Array.prototype.forEach.call(g.querySelectorAll("a"), function (a) {
        title = title || nativeTitle(a);
        a.removeAttributeNS(XLINK_NS, "title");
        a.removeAttribute("xlink:title");
        a.removeAttribute("title");
      });
      Array.prototype.forEach.call(g.children, function (child) {
        if (child.tagName.toLowerCase() === "title") g.removeChild(child);
      });
      info.titles.set(g, title);
      var call = self.callOf(local);
      var isCluster = g.classList.contains("cluster");
      if (isCluster) {
        var label = g.querySelector("text");
        if (label) label.classList.add("netviz-label");
        if (call) {
          g.classList.add("netviz-collapsible");
          g.setAttribute("tabindex", "0");
          g.setAttribute("role", "button");
          g.setAttribute("aria-expanded", "true");
          g.setAttribute("aria-label", self.describe(call, title) + "; expanded, press Enter to collapse");
        }
      } else {
        g.setAttribute("tabindex", "0");
        if (call && call.expandable) {
          g.classList.add("netviz-expandable");
          g.setAttribute("role", "button");
          g.setAttribute("aria-expanded", "false");
          g.setAttribute("aria-label", self.describe(call, title) + "; collapsed, press Enter to expand");
        } else {
          g.setAttribute("role", "img");
          g.setAttribute("aria-label", call ? self.describe(call, title) : title.replace(/\n/g, "; "));
        }
      }
    });
    // which edges touch which box (for highlighting a box's connections)
    Array.prototype.forEach.call(svg.querySelectorAll("g.edge"), function (g) {
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

  Viewer.prototype.describe = function (call, fallback) {
    var name = call.path || "";
    var text = name ? name + ": " + (call["class"] || "") : (call["class"] || fallback || "");
    if (call.repeat > 1) text += " ×" + call.repeat;
    if (call.out && call.out.length) text += ", output " + call.out.join(", ");
    return text;
  };

  /** the local ids drawn in the layout of ``depth`` */
  Viewer.prototype.idsAt = function (depth) {
    var layout = this.layouts[depth];
    if (!layout) return null;
    if (!layout.ids) {
      var scope = layout.svg || layout.template.content;
      var ids = new Set(), self = this;
      Array.prototype.forEach.call(scope.querySelectorAll("g.node[id], g.cluster[id]"), function (g) {
        var local = self.localId(g);
        if (local) ids.add(local);
      });
      layout.ids = ids;
    }
    return layout.ids;
  };

  Viewer.prototype.find = function (local) {
    if (!local || !/^[\w-]+$/.test(local)) return null;
    return this.svg.querySelector("[id='" + this.prefix + "_" + local + "']");
  };

  // -- size and view -----------------------------------------------------------

  Viewer.prototype.isFullscreen = function () {
    return document.fullscreenElement === this.root || document.webkitFullscreenElement === this.root ||
      this.root.classList.contains("netviz-fullscreen");
  };

  /** the canvas height: the diagram at the column's width, at most MAX_HEIGHT of the window */
  Viewer.prototype.sizeCanvas = function (growOnly) {
    if (this.isFullscreen()) {
      this.svg.style.height = "";
      this.svg.removeAttribute("height");
      return;
    }
    var box = this.prepare(this.svg).box;
    this.sizedWidth = this.canvas.clientWidth;
    var width = this.canvas.clientWidth || box.w * PT;
    var scale = Math.min(PT, width / box.w);
    var height = Math.max(48, Math.min(box.h * scale, window.innerHeight * MAX_HEIGHT));
    var current = parseFloat(this.svg.style.height) || 0;
    if (growOnly && this.heightPx) height = Math.max(height, this.heightPx);
    height = Math.round(height);
    this.heightPx = height;
    if (current !== height) {
      this.svg.setAttribute("height", String(height));
      this.svg.style.height = height + "px";
    }
    this.svg.style.width = "100%";
  };

  Viewer.prototype.viewport = function () {
    var r = this.svg.getBoundingClientRect();
    return { w: r.width, h: r.height, left: r.left, top: r.top };
  };

  Viewer.prototype.fitScale = function (box, vp, pad) {
    pad = pad || 0;
    return Math.min((vp.w - pad) / box.w, (vp.h - pad) / box.h);
  };

  Viewer.prototype.minScale = function () {
    var vp = this.viewport();
    var box = this.prepare(this.svg).box;
    return Math.min(PT, this.fitScale(box, vp)) / 4;
  };

  Viewer.prototype.apply = function () {
    var vp = this.viewport();
    var v = this.view;
    if (!v || vp.w <= 0 || vp.h <= 0) return;
    // the middle of the view stays over the drawing: it cannot be panned out of sight
    var box = this.prepare(this.svg).box;
    v.cx = Math.max(box.x, Math.min(box.x + box.w, v.cx));
    v.cy = Math.max(box.y, Math.min(box.y + box.h, v.cy));
    var w = vp.w / v.s, hh = vp.h / v.s;
    var vb = [v.cx - w / 2, v.cy - hh / 2, w, hh].map(function (n) { return Math.round(n * 100) / 100; });
    this.svg.setAttribute("viewBox", vb.join(" "));
  };

  Viewer.prototype.fit = function () {
    var box = this.prepare(this.svg).box;
    var vp = this.viewport();
    var s = vp.w > 0 && vp.h > 0 ? Math.min(PT, this.fitScale(box, vp, FIT_MARGIN)) : PT;
    this.view = { cx: box.x + box.w / 2, cy: box.y + box.h / 2, s: s };
    this.fitted = true;
    if (vp.w > 0 && vp.h > 0) this.apply();
    else this.svg.setAttribute("viewBox", [box.x, box.y, box.w, box.h].join(" "));
  };

  Viewer.prototype.setScale = function (s, clientX, clientY) {
    var v = this.view;
    if (!v) return;
    var vp = this.viewport();
    s = Math.max(this.minScale(), Math.min(MAX_SCALE, s));
    if (clientX === undefined) {
      clientX = vp.left + vp.w / 2;
      clientY = vp.top + vp.h / 2;
    }
    // keep the point under the pointer where it is
    var ox = clientX - vp.left - vp.w / 2, oy = clientY - vp.top - vp.h / 2;
    var px = v.cx + ox / v.s, py = v.cy + oy / v.s;
    this.view = { cx: px - ox / s, cy: py - oy / s, s: s };
    this.fitted = false;
    this.apply();
  };

  Viewer.prototype.zoomBy = function (factor, clientX, clientY) {
    if (this.view) this.setScale(this.view.s * factor, clientX, clientY);
  };

  Viewer.prototype.panBy = function (dx, dy) {
    var v = this.view;
    if (!v) return;
    v.cx -= dx / v.s;
    v.cy -= dy / v.s;
    this.fitted = false;
    this.apply();
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
    if (!el || !this.view) return;
    var box = this.boxOf(el);
    if (!box) return;
    var vp = this.viewport();
    var s = Math.max(this.view.s, PT);
    if (box.w > 0 && box.h > 0) s = Math.min(s, this.fitScale(box, vp, 24));
    s = Math.max(this.minScale(), Math.min(MAX_SCALE, s));
    this.view = { cx: box.x + box.w / 2, cy: box.y + box.h / 2, s: s };
    this.fitted = false;
    this.apply();
  };

  Viewer.prototype.onResize = function () {
    if (!this.view) return;
    // first shown, or the column changed width (a diagram in a closed tab or <details>)
    var width = this.canvas.clientWidth;
    if (width && width !== this.sizedWidth) this.sizeCanvas(false);
    if (this.fitted) this.fit();
    else this.apply();
  };

  Viewer.prototype.onWindowResize = function () {
    var self = this;
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(function () {
      self.sizeCanvas(false);
      self.onResize();
    }, 100);
  };

  // -- layouts -----------------------------------------------------------------

  Viewer.prototype.setDepth = function (depth, focusLocal) {
    var layout = this.layouts[depth];
    if (!layout) return null;
    this.hidePanel();
    if (depth !== this.depth) {
      if (!layout.svg) {
        var fragment = document.importNode(layout.template.content, true);
        layout.svg = fragment.querySelector("svg");
        if (!layout.svg) return null;
        this.prepare(layout.svg);
      }
      this.clearMatches();
      this.canvas.replaceChild(layout.svg, this.svg);
      this.svg = layout.svg;
      this.depth = depth;
      this.updateControls();
    }
    this.sizeCanvas(true);
    this.fit();
    var target = this.find(focusLocal);
    if (target) this.centreOn(target);
    if (this.lastQuery) this.search(this.lastQuery, false, 0, true);
    return target;
  };

  Viewer.prototype.stepDepth = function (step) {
    var i = this.depths.indexOf(this.depth) + step;
    if (i >= 0 && i < this.depths.length) this.setDepth(this.depths[i]);
  };

  /** the nearest layout deeper (dir 1) or shallower (dir -1) than now that draws ``local`` */
  Viewer.prototype.layoutWith = function (local, preferred, dir) {
    if (preferred in this.layouts && this.idsAt(preferred).has(local)) return preferred;
    var list = dir > 0 ? this.depths : this.depths.slice().reverse();
    for (var i = 0; i < list.length; i++) {
      var d = list[i];
      if ((dir > 0 ? d > this.depth : d < this.depth) && this.idsAt(d).has(local)) return d;
    }
    return null;
  };

  Viewer.prototype.expand = function (g, byKeyboard) {
    var local = this.localId(g);
    var call = this.callOf(local);
    if (!call || !call.expandable) return false;
    var key = local.slice(1);
    var preferred = typeof call.depth === "number" ? call.depth + 1 : this.depth + 1;
    var depth = this.layoutWith("c" + key, preferred, 1);
    if (depth === null) {
      // drawn open nowhere (the model itself): the next deeper layout, fitted
      var i = this.depths.indexOf(this.depth);
      if (i < 0 || i >= this.depths.length - 1) return false;
      depth = this.depths[i + 1];
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
    var depth = this.layoutWith("n" + key, preferred, -1);
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

  // -- search ------------------------------------------------------------------

  Viewer.prototype.clearMatches = function () {
    this.matches.forEach(function (el) { el.classList.remove("netviz-match", "netviz-current"); });
    this.matches = [];
    this.matchIndex = -1;
  };

  Viewer.prototype.matchingCalls = function (query) {
    var q = query.toLowerCase();
    var queries = [q];
    var calls = this.calls;
    var keys = Object.keys(calls);
    // a path inside a folded run (layers.3.attn) is drawn as the run's first block (layers.1.attn)
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
  };

  /** find ``query``; ``again`` moves to the next match (by ``step``) when the query is unchanged */
  Viewer.prototype.search = function (query, again, step, keepDepth) {
    query = String(query || "").trim();
    var self = this;
    if (again && query && query === this.lastQuery && this.matches.length) {
      var n = this.matches.length;
      this.matches[this.matchIndex].classList.remove("netviz-current");
      this.matchIndex = (this.matchIndex + (step || 1) + n) % n;
      this.showMatch();
      return;
    }
    this.clearMatches();
    this.lastQuery = query;
    if (!query) {
      this.status.textContent = "";
      return;
    }
    var keys = this.matchingCalls(query);
    var visibleAt = function (d) {
      var ids = self.idsAt(d);
      return keys.some(function (k) { return ids.has("n" + k) || ids.has("c" + k); });
    };
    if (!keepDepth && keys.length && !visibleAt(this.depth)) {
      var d = this.depths.filter(visibleAt)[0];
      if (d !== undefined) {
        this.lastQuery = "";
        this.setDepth(d);
        this.lastQuery = query;
      }
    }
    keys.forEach(function (k) {
      var el = self.find("n" + k) || self.find("c" + k);
      if (el) {
        el.classList.add("netviz-match");
        self.matches.push(el);
      }
    });
    // matches drawn only inside boxes that are closed at this depth
    this.hiddenMatches = keys.length - this.matches.length;
    if (!this.matches.length) {
      this.status.textContent = keys.length ? "not drawn" : "no match";
      return;
    }
    this.matchIndex = 0;
    this.showMatch(keepDepth);
  };

  Viewer.prototype.showMatch = function (quiet) {
    var el = this.matches[this.matchIndex];
    el.classList.add("netviz-current");
    var text = (this.matchIndex + 1) + " of " + this.matches.length;
    if (this.hiddenMatches > 0) text += " (+" + this.hiddenMatches + " inside closed boxes)";
    this.status.textContent = text;
    if (!quiet) this.centreOn(el);
  };

  // -- details panel -----------------------------------------------------------

  Viewer.prototype.showPanel = function (g) {
    var local = this.localId(g);
    if (!local) return;
    clearTimeout(this.hideTimer);
    if (this.panelFor === g && !this.panel.hidden) return;
    this.panelFor = g;
    var panel = this.panel;
    panel.textContent = "";
    var call = this.callOf(local);
    var info = this.prepare(this.svg);
    if (call) {
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
      var each = call.repeat > 1 ? " each" : "";
      if (call.kind !== "function" || call.params) {
        row("parameters", typeof call.params === "number" ? formatCount(call.params) + each : null);
      }
      row("MACs", typeof call.macs === "number" ? formatMacs(call.macs) + each : null);
      if (call.paths && call.paths.length > 1) {
        row(call.paths.length + " identical blocks", call.paths.join(", "));
      }
      panel.appendChild(dl);
      var action = g.classList.contains("cluster") ? "Click the label (or press Enter) to collapse"
        : call.expandable ? "Click (or press Enter) to expand" : "";
      if (action) panel.appendChild(h("div", { "class": "netviz-panel-hint" }, action));
    } else {
      var lines = (info.titles.get(g) || "").split("\n").filter(Boolean);
      if (!lines.length) return;
      panel.appendChild(h("strong", { "class": "netviz-path" }, lines[0]));
      lines.slice(1).forEach(function (line) { panel.appendChild(h("div", null, line)); });
    }
    panel.hidden = false;
    g.setAttribute("aria-describedby", panel.id);
    this.placePanel(g);
    this.highlightEdges(g, true);
  };

  /** beside the box (right, else left), else below it; inside the diagram's div */
  Viewer.prototype.placePanel = function (g) {
    var panel = this.panel;
    var anchor = (g.classList.contains("cluster") && g.querySelector("text")) || g;
    var rr = this.root.getBoundingClientRect();
    var r = anchor.getBoundingClientRect();
    var cr = this.canvas.getBoundingClientRect();
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

  Viewer.prototype.hidePanel = function () {
    clearTimeout(this.hideTimer);
    if (this.panelFor) {
      this.panelFor.removeAttribute("aria-describedby");
      this.highlightEdges(this.panelFor, false);
    }
    this.panelFor = null;
    this.panel.hidden = true;
  };

  Viewer.prototype.hidePanelSoon = function () {
    var self = this;
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(function () { self.hidePanel(); }, 250);
  };

  Viewer.prototype.highlightEdges = function (g, on) {
    var local = this.localId(g);
    if (!local || g.classList.contains("cluster")) return;
    var edges = this.prepare(this.svg).edges[local] || [];
    edges.forEach(function (e) { e.classList.toggle("netviz-linked", on); });
  };

  // -- full screen -------------------------------------------------------------

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

  Viewer.prototype.setFallbackFullscreen = function (on) {
    this.root.classList.toggle("netviz-fullscreen", on);
    document.documentElement.classList.toggle("netviz-noscroll", on);
    this.onFullscreenChange();
  };

  Viewer.prototype.onFullscreenChange = function () {
    var on = this.isFullscreen();
    this.root.classList.toggle("netviz-is-fullscreen", on);
    this.fullscreenBtn.setAttribute("aria-pressed", on ? "true" : "false");
    var label = on ? "Leave full screen" : "Full screen";
    this.fullscreenBtn.setAttribute("aria-label", label);
    this.fullscreenBtn.title = label;
    this.hidePanel();
    this.sizeCanvas(false);
    this.fit();
  };

  // -- events ------------------------------------------------------------------

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

  Viewer.prototype.bindEvents = function () {
    var self = this, canvas = this.canvas;

    canvas.addEventListener("wheel", function (e) {
      if (!(e.ctrlKey || e.metaKey || self.isActive())) {
        self.showHint("Click the diagram (or hold Ctrl) to zoom with the wheel");
        return;
      }
      e.preventDefault();
      var dy = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1);
      self.hidePanel();
      self.zoomBy(Math.exp(-Math.max(-200, Math.min(200, dy)) * 0.002), e.clientX, e.clientY);
    }, { passive: false });

    // drag to pan, two pointers to pinch
    canvas.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      self.dragged = false;
      self.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY, x0: e.clientX, y0: e.clientY });
      if (self.pointers.size === 2) self.dragged = true;
    });
    canvas.addEventListener("pointermove", function (e) {
      var p = self.pointers.get(e.pointerId);
      if (!p) return;
      if (self.pointers.size === 1) {
        if (!self.dragged && Math.abs(e.clientX - p.x0) + Math.abs(e.clientY - p.y0) > 4) {
          self.dragged = true;
          self.hidePanel();
          canvas.classList.add("netviz-dragging");
          try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* already released */ }
        }
        if (self.dragged) self.panBy(e.clientX - p.x, e.clientY - p.y);
        p.x = e.clientX;
        p.y = e.clientY;
      } else if (self.pointers.size === 2) {
        var pts = Array.from(self.pointers.values());
        var before = { d: Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y),
                       mx: (pts[0].x + pts[1].x) / 2, my: (pts[0].y + pts[1].y) / 2 };
        p.x = e.clientX;
        p.y = e.clientY;
        var after = { d: Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y),
                      mx: (pts[0].x + pts[1].x) / 2, my: (pts[0].y + pts[1].y) / 2 };
        self.hidePanel();
        if (before.d > 0 && after.d > 0) self.zoomBy(after.d / before.d, after.mx, after.my);
        self.panBy(after.mx - before.mx, after.my - before.my);
      }
    });
    var release = function (e) {
      if (!self.pointers.delete(e.pointerId)) return;
      if (!self.pointers.size) canvas.classList.remove("netviz-dragging");
    };
    canvas.addEventListener("pointerup", release);
    canvas.addEventListener("pointercancel", release);
    canvas.addEventListener("dragstart", function (e) { e.preventDefault(); });

    // a click after a drag is not a click
    canvas.addEventListener("click", function (e) {
      if (self.dragged) {
        self.dragged = false;
        e.stopPropagation();
        e.preventDefault();
      }
    }, true);
    canvas.addEventListener("click", function (e) {
      var g = self.boxAt(e.target);
      if (!g) return;
      if (g.classList.contains("cluster")) {
        if (e.target.closest("text")) self.collapse(g, false);
      } else if (!self.expand(g, false)) {
        self.showPanel(g);
      }
    });

    canvas.addEventListener("keydown", function (e) {
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
          if (!self.panel.hidden) self.hidePanel();
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
    canvas.addEventListener("pointerover", function (e) {
      if (self.pointers.size && self.dragged) return;
      var g = self.boxAt(e.target);
      if (!g) return;
      if (g.classList.contains("cluster") && !e.target.closest("text")) return;
      self.showPanel(g);
    });
    canvas.addEventListener("pointerout", function (e) {
      var g = self.boxAt(e.target);
      if (g && g === self.panelFor && !(e.relatedTarget && g.contains(e.relatedTarget))) self.hidePanelSoon();
    });
    this.panel.addEventListener("pointerenter", function () { clearTimeout(self.hideTimer); });
    this.panel.addEventListener("pointerleave", function () { self.hidePanelSoon(); });
    canvas.addEventListener("focusin", function (e) {
      var g = self.boxAt(e.target);
      if (g && e.target === g) self.showPanel(g);
      canvas.classList.add("netviz-active");
    });
    canvas.addEventListener("focusout", function (e) {
      if (!canvas.contains(e.relatedTarget)) canvas.classList.remove("netviz-active");
      var g = self.boxAt(e.target);
      if (g && g === self.panelFor && !(e.relatedTarget && self.panel.contains(e.relatedTarget))) self.hidePanelSoon();
    });

    var onFs = function () { self.onFullscreenChange(); };
    document.addEventListener("fullscreenchange", onFs);
    document.addEventListener("webkitfullscreenchange", onFs);
  };

  // -- start -------------------------------------------------------------------

  function initAll() {
    Array.prototype.forEach.call(document.querySelectorAll("div.netviz"), function (root) {
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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
