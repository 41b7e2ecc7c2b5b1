#!/usr/bin/env python
"""System Graphviz ``dot`` against graphviz-pure (the ``pure`` extra) on every layout a docs build makes.

    python benchmarks/layout_engines.py                   # about 6 minutes on 2 busy cores
    python benchmarks/layout_engines.py --sources docs/_build/.doctrees/netviz/files --no-builds
    python benchmarks/layout_engines.py --fonts 'Arial;Helvetica' --repeat 1
    python benchmarks/report.py                           # then render docs/benchmarks.md from the JSON

Saves ``benchmarks/results/layout_engines/<time>-<commit>.json``.

1. Builds this checkout's ``docs/`` cold in a fresh process (``common.sphinx_build``) with
   ``netviz_dot`` set to a recording wrapper around the system ``dot``: every DOT source the
   build lays out (each diagram's drawn depth and the viewer's other depths) is kept, and the
   page that shows it is found by its id prefix in the HTML.  Then builds ``docs/`` again with
   ``netviz_dot`` set to graphviz-pure: seconds and warnings of both builds.  (``--sources DIR``
   takes the ``*.dot`` files of a folder instead, such as a built docs cache.)
2. Lays out every distinct source with both engines, ``--repeat`` times, once per font in
   ``--fonts`` (each ``fontname`` in the source replaced; the first font is the one
   ``sphinx_netviz/dot.py`` draws with): wall and CPU seconds, nodes, edges and clusters in the
   SVG, the drawing's size, each engine's distinct stderr lines (missing font metrics, the
   ``×``…), and how the two layouts compare — the boxes' sizes, their positions (the same rank
   and order within the rank, and how far apart in points), and each box's width against the
   system ``dot`` with the current font.  And whether the text fits: each ``<text>`` of a box,
   measured in Arial's metrics (the font file ``fc-match Arial`` names, Liberation Sans here,
   which has Arial's and Helvetica's widths, as a browser draws the diagram) from where the
   engine put it, must end inside its box and before the next piece of text on its line.

Raw per-source numbers are saved; the report sums them per font and engine.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))  # this checkout's benchmarks and sphinx_netviz, before any installed one

from benchmarks import common  # noqa: E402
from benchmarks.common import fmt_s, plural, table  # noqa: E402

BENCHMARK = "layout_engines"
TITLE = "Layout engines: system Graphviz `dot` and graphviz-pure on every layout of `docs/`"

ENGINES = ("dot", "pure")
ENGINE_NAMES = {"dot": "system `dot`", "pure": "graphviz-pure"}
#: the fonts measured besides the current one (sphinx_netviz/dot.py FONT): the list it had before
#: this benchmark, and single names both engines may know
OTHER_FONTS = ("Helvetica,Arial,sans-serif", "Arial", "Helvetica", "sans-serif")
_SVG = "{http://www.w3.org/2000/svg}"
_SHAPES = {_SVG + "polygon", _SVG + "path", _SVG + "ellipse"}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def current_font() -> str:
    from sphinx_netviz.dot import FONT

    return FONT


# -- the sources: what a docs build lays out ------------------------------------------------------

RECORDER = """#!/bin/sh
# netviz_dot for the benchmark: keep the DOT source, then lay it out with the system dot
case "$*" in *-V*) exec {dot} "$@" ;; esac
f=$(mktemp {folder}/src-XXXXXXXX)
cat > "$f"
exec {dot} "$@" < "$f"
"""


def recorded_build(folder: Path, system_dot: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A cold docs build through the recording ``dot``: the build, and its sources with their pages."""
    folder.mkdir(parents=True, exist_ok=True)
    recorder = folder / "dot-recorder"
    recorder.write_text(RECORDER.format(dot=system_dot, folder=folder))
    recorder.chmod(0o755)
    out = folder / "html"
    build = common.sphinx_build(common.DOCS, out, ["-q", "-D", f"netviz_dot={recorder}"],
                                label="recording every layout (system dot)")
    pages = {p: p.read_text(errors="replace") for p in out.rglob("*.html")}
    sources = []
    for path in sorted(folder.glob("src-*")):
        text = path.read_text(errors="replace")
        if text.strip():
            sources.append(describe(text, pages, out))
    return build, sources


def folder_sources(folder: Path) -> list[dict[str, Any]]:
    return [describe(p.read_text(errors="replace"), {}, folder) for p in sorted(folder.glob("*.dot"))]


def describe(text: str, pages: dict[Path, str], out: Path) -> dict[str, Any]:
    """A source: its text, digest, graph name, direction, box count and the page that shows it."""
    name = re.match(r"\s*(?:strict\s+)?digraph\s+(\S+)", text)
    prefix = re.search(r"\bid=\"?(\w+?)_graph\b", text)
    page = None
    if prefix:
        needle = f'{prefix.group(1)}_graph'
        page = next((str(p.relative_to(out).with_suffix("")) for p, html in pages.items() if needle in html), None)
    direction = re.search(r"\brankdir=\"?(\w+)", text)
    return {"text": text, "sha": hashlib.sha256(text.encode()).hexdigest()[:16], "bytes": len(text.encode()),
            "graph": name.group(1) if name else "?", "page": page,
            "direction": direction.group(1) if direction else "TB",
            "boxes": len(re.findall(r"^\s*\w+ \[label=", text, re.M))}


# -- one layout ---------------------------------------------------------------------------------

def with_font(text: str, font: str) -> str:
    return re.sub(r'fontname="[^"]*"|fontname=[^\s\]]+', lambda _: f'fontname="{font}"', text)


class TextWidth:
    """Text widths in points in Arial's metrics: the regular and bold files ``fc-match`` names."""

    def __init__(self) -> None:
        from PIL import ImageFont

        self.files: dict[str, str] = {}
        self.fonts = {}
        for bold in (False, True):
            done = subprocess.run(["fc-match", "-f", "%{file}", "Arial" + (":bold" if bold else "")],
                                  capture_output=True, text=True, check=True)
            self.files["bold" if bold else "regular"] = done.stdout.strip()
            self.fonts[bold] = ImageFont.truetype(done.stdout.strip(), 1000)

    def __call__(self, text: str, size: float, bold: bool) -> float:
        return self.fonts[bold].getlength(text) / 1000 * size


def text_width() -> TextWidth | None:
    try:
        return TextWidth()
    except Exception as exc:  # noqa: BLE001 - no Pillow, no fontconfig, no font: fit not measured
        print(f"text fit not measured: {exc}", file=sys.stderr)
        return None


def lay_out(engine: str, text: str, repeat: int, timeout: float, width: TextWidth | None = None) -> dict[str, Any]:
    """``engine -Tsvg`` on ``text``, ``repeat`` times: seconds (wall, CPU), stderr, the SVG's geometry."""
    wall, cpu, done = [], [], None
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        try:
            done = subprocess.run([engine, "-Tsvg"], input=text.encode(), capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timed out after {timeout:g} s", "wall_s": [], "cpu_s": []}
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    assert done is not None
    lines = [line.rstrip() for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
    result: dict[str, Any] = {"ok": done.returncode == 0 and bool(done.stdout), "wall_s": wall, "cpu_s": cpu,
                              "stderr": list(dict.fromkeys(lines))[:6], "svg_bytes": len(done.stdout)}
    if not result["ok"]:
        result["error"] = next((x for x in lines if not x.startswith("Warning")), lines[0] if lines else
                               f"exit code {done.returncode}")
        return result
    result.update(geometry(done.stdout, width))
    return result


def geometry(svg: bytes, width: TextWidth | None = None) -> dict[str, Any]:
    """Nodes (title → centre x, y, width, height in points), edge and cluster counts, drawing size;
    with ``width``, the boxes whose text does not fit (by how many points)."""
    root = ET.fromstring(svg)
    nodes: dict[str, list[float]] = {}
    overflow: dict[str, float] = {}
    edges = clusters = 0
    for group in root.iter(_SVG + "g"):
        kinds = (group.get("class") or "").split()
        if "edge" in kinds:
            edges += 1
        elif "cluster" in kinds:
            clusters += 1
        elif "node" in kinds:
            title = group.find(_SVG + "title")
            shape = next((e for e in group.iter() if e.tag in _SHAPES), None)
            if title is not None and shape is not None:
                nodes[title.text or ""] = _box(shape)
                if width is not None:
                    overflow[title.text or ""] = _overflow(shape, list(group.iter(_SVG + "text")), width)
    size = [float(_NUMBER.match(root.get(k, "0")).group()) for k in ("width", "height")]  # type: ignore[union-attr]
    out = {"nodes": len(nodes), "edges": edges, "clusters": clusters, "width_pt": size[0], "height_pt": size[1],
           "layout": nodes}
    if width is not None:
        out["overflow_nodes"] = sum(1 for v in overflow.values() if v > 0.5)
        out["overflow_max_pt"] = max(overflow.values(), default=0.0)
    return out


def _overflow(shape: ET.Element, texts: list[ET.Element], width: TextWidth) -> float:
    """How far (points) the box's text, drawn in Arial's metrics, runs out of the box or into the next
    piece of text on its line; 0 if it fits."""
    spans = []
    for t in texts:
        size = float(t.get("font-size", "14"))
        w = width(t.text or "", size, t.get("font-weight") == "bold")
        x = float(t.get("x", 0))
        start = {"middle": x - w / 2, "end": x - w}.get(t.get("text-anchor", "start"), x)
        spans.append((float(t.get("y", 0)), start, start + w))
    if shape.tag == _SVG + "ellipse":
        cx, cy, rx, ry = (float(shape.get(k, 0)) for k in ("cx", "cy", "rx", "ry"))

        def inside(y: float) -> tuple[float, float]:
            half = rx * math.sqrt(max(0.0, 1 - ((y - cy) / ry) ** 2))
            return cx - half, cx + half
    else:
        cx, _, w, _ = _box(shape)

        def inside(y: float) -> tuple[float, float]:
            return cx - w / 2, cx + w / 2
    worst = 0.0
    spans.sort()
    for i, (y, start, end) in enumerate(spans):
        left, right = inside(y)
        worst = max(worst, left - start, end - right)
        if i + 1 < len(spans) and spans[i + 1][0] == y:
            worst = max(worst, end - spans[i + 1][1])
    return worst


def _box(shape: ET.Element) -> list[float]:
    if shape.tag == _SVG + "ellipse":
        cx, cy, rx, ry = (float(shape.get(k, 0)) for k in ("cx", "cy", "rx", "ry"))
        return [cx, cy, 2 * rx, 2 * ry]
    values = [float(v) for v in _NUMBER.findall(shape.get("points") or shape.get("d") or "")]
    xs, ys = values[0::2], values[1::2]
    return [(min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)]


# -- two layouts side by side ----------------------------------------------------------------------

def _ranks(layout: dict[str, list[float]], direction: str) -> dict[str, tuple[int, int]]:
    """Each node's rank (by its centre across the flow) and its place within the rank."""
    flow, across = (0, 1) if direction in ("LR", "RL") else (1, 0)
    levels = sorted({round(v[flow], 1) for v in layout.values()})
    index = {level: i for i, level in enumerate(levels)}
    by_rank: dict[int, list[tuple[float, str]]] = {}
    for name, v in layout.items():
        by_rank.setdefault(index[round(v[flow], 1)], []).append((v[across], name))
    return {name: (rank, place) for rank, row in by_rank.items() for place, (_, name) in enumerate(sorted(row))}


def compare(a: dict[str, Any], b: dict[str, Any], direction: str) -> dict[str, Any]:
    """Two layouts of one source: same boxes? sizes and positions how far apart? same ranks and order?"""
    la, lb = a["layout"], b["layout"]
    common_nodes = sorted(set(la) & set(lb))
    if not common_nodes:
        return {"same_nodes": False, "same_counts": False}
    size = [max(abs(la[n][2] - lb[n][2]), abs(la[n][3] - lb[n][3])) for n in common_nodes]
    moved = [math.dist(la[n][:2], lb[n][:2]) for n in common_nodes]
    ra, rb = _ranks(la, direction), _ranks(lb, direction)
    return {
        "same_nodes": set(la) == set(lb),
        "same_counts": (a["nodes"], a["edges"], a["clusters"]) == (b["nodes"], b["edges"], b["clusters"]),
        "size_max_pt": max(size), "size_differ": sum(1 for s in size if s > 0.5),
        "moved_max_pt": max(moved), "moved_median_pt": median(moved),
        "moved_over_1pt": sum(1 for m in moved if m > 1.0),
        "same_rank": sum(1 for n in common_nodes if ra[n][0] == rb[n][0]),
        "same_place": sum(1 for n in common_nodes if ra[n] == rb[n]),
        "compared": len(common_nodes),
        "area_ratio": b["width_pt"] * b["height_pt"] / (a["width_pt"] * a["height_pt"])
        if a["width_pt"] and a["height_pt"] else None,
    }


def rounded(value: Any, digits: int = 3) -> Any:
    """Floats to ``digits`` decimals, all the way down (the JSON stays small)."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


def against_reference(ref: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Box widths against the reference (system ``dot``, current font): the narrowest ratio, how many narrower."""
    shared = [n for n in ref["layout"] if n in other["layout"] and ref["layout"][n][2] > 0]
    ratios = [other["layout"][n][2] / ref["layout"][n][2] for n in shared]
    if not ratios:
        return {}
    return {"width_ratio_min": min(ratios), "width_ratio_median": median(ratios),
            "narrower_2pt": sum(1 for n in shared if other["layout"][n][2] < ref["layout"][n][2] - 2.0),
            "wider_2pt": sum(1 for n in shared if other["layout"][n][2] > ref["layout"][n][2] + 2.0),
            "boxes": len(shared)}


def measure(sources: list[dict[str, Any]], engines: dict[str, str], fonts: list[str], repeat: int,
            timeout: float, width: TextWidth | None, messages: dict[str, int]) -> list[dict[str, Any]]:
    """Every source with both engines and every font; each run's stderr lines become indexes
    into ``messages`` (the same warnings repeat in every layout)."""
    out = []
    for i, source in enumerate(sources):
        print(f"  … {i + 1}/{len(sources)} {source['page'] or '?'}: {source['graph']} ({source['boxes']} boxes)",
              file=sys.stderr, flush=True)
        runs: dict[str, dict[str, Any]] = {}
        for font in fonts:
            text = source["text"] if font == fonts[0] else with_font(source["text"], font)
            runs[font] = {e: lay_out(path, text, repeat if font == fonts[0] else 1, timeout, width)
                          for e, path in engines.items()}
        ref = runs[fonts[0]]["dot"]
        entry = {k: v for k, v in source.items() if k != "text"}
        entry["compare"], entry["vs_reference"] = {}, {}
        for font in fonts:
            a, b = runs[font]["dot"], runs[font]["pure"]
            if a["ok"] and b["ok"]:
                entry["compare"][font] = compare(a, b, source["direction"])
            if ref["ok"]:
                entry["vs_reference"][font] = {e: against_reference(ref, r) for e, r in runs[font].items() if r["ok"]}
        entry["runs"] = {font: {e: {**{k: v for k, v in r.items() if k != "layout"},
                                     "stderr": [messages.setdefault(line, len(messages)) for line in r["stderr"]]}
                                 for e, r in by.items()} for font, by in runs.items()}
        out.append(rounded(entry))
    return out


def engine_info(path: str) -> dict[str, Any]:
    done = subprocess.run([path, "-V"], capture_output=True, text=True)
    return {"path": path, "version": (done.stderr or done.stdout).strip()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sources", type=Path, help="lay out the *.dot files of this folder instead of recording "
                        "a docs build (e.g. docs/_build/.doctrees/netviz/files)")
    parser.add_argument("--no-builds", action="store_true", help="with --sources: no docs builds")
    parser.add_argument("--fonts", help="';'-separated fonts to measure besides the current one "
                        f"(default: {';'.join(OTHER_FONTS)})")
    parser.add_argument("--repeat", type=int, default=3, help="layouts per source and engine with the current "
                        "font (default 3; other fonts once)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per layout (default 120)")
    parser.add_argument("--dot", default=shutil.which("dot"), help="the system dot (default: the one on PATH)")
    parser.add_argument("--pure", help="graphviz-pure (default: the one sphinx_netviz.render finds)")
    common.add_common_arguments(parser)
    args = parser.parse_args(argv)
    from sphinx_netviz.render import pure_dot

    pure = args.pure or pure_dot()
    if not args.dot or not pure:
        parser.error(f"need both engines: dot {args.dot!r}, graphviz-pure {pure!r} "
                     "(pip install -c constraints/dev.txt graphviz-pure)")
    fonts = [current_font()]
    fonts += [f for f in (args.fonts.split(";") if args.fonts else OTHER_FONTS) if f and f not in fonts]
    engines = {"dot": args.dot, "pure": pure}
    run = common.start_run(BENCHMARK, argv, {"fonts": fonts, "repeat": args.repeat, "timeout_s": args.timeout,
                                             "sources": str(args.sources) if args.sources else "recorded docs build"})
    builds: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="netviz-layout-engines-") as scratch:
        if args.sources:
            sources = folder_sources(args.sources)
        else:
            builds["dot"], sources = recorded_build(Path(scratch) / "dot", args.dot)
        if not args.no_builds:
            builds["pure"] = common.sphinx_build(common.DOCS, Path(scratch) / "pure-html",
                                                 ["-q", "-D", f"netviz_dot={pure}"], label="graphviz-pure")
    distinct = list({s["sha"]: s for s in sources}.values())
    print(f"{len(sources)} layouts, {len(distinct)} distinct; {len(fonts)} fonts", file=sys.stderr)
    width = text_width()
    messages: dict[str, int] = {}
    measured = measure(distinct, engines, fonts, args.repeat, args.timeout, width, messages)
    results = {"engines": {e: engine_info(p) for e, p in engines.items()}, "fonts": fonts,
               "recorded": len(sources), "builds": builds, "fit_fonts": width.files if width else None,
               "messages": list(messages), "sources": measured}
    path = common.finish_run(run, results, args.results)
    print(f"saved {path}", file=sys.stderr)
    return 0


# -- the report (from the JSON) -------------------------------------------------------------------

def _seconds(r: dict[str, Any], key: str) -> float | None:
    return median(r[key]) if r.get(key) else None


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """Per font and engine: layouts made, failures, seconds, counts, warnings; per font: how alike."""
    res = run["results"]
    out: dict[str, Any] = {"fonts": {}, "sources": len(res["sources"]), "recorded": res.get("recorded")}
    messages = res.get("messages")  # stderr lines by index (older runs kept the lines themselves)
    for font in res["fonts"]:
        per: dict[str, Any] = {}
        for e in ENGINES:
            rows = [s["runs"][font][e] for s in res["sources"] if font in s["runs"]]
            ok = [r for r in rows if r["ok"]]
            warnings: dict[str, int] = {}
            for r in rows:
                for line in r.get("stderr", []):
                    line = messages[line] if messages is not None and isinstance(line, int) else line
                    if line.startswith("Warning"):
                        warnings[line] = warnings.get(line, 0) + 1
            refs = [s["vs_reference"].get(font, {}).get(e) for s in res["sources"]]
            refs = [x for x in refs if x]
            per[e] = {
                "layouts": len(rows), "ok": len(ok),
                "failed": [f"{s['page'] or '?'} {s['graph']} ({s['boxes']} boxes): {s['runs'][font][e].get('error')}"
                           for s in res["sources"] if font in s["runs"] and not s["runs"][font][e]["ok"]],
                "wall_s": sum(_seconds(r, "wall_s") or 0 for r in ok), "cpu_s": sum(_seconds(r, "cpu_s") or 0 for r in ok),
                "nodes": sum(r["nodes"] for r in ok), "edges": sum(r["edges"] for r in ok),
                "clusters": sum(r["clusters"] for r in ok), "warnings": warnings,
                "width_ratio_min": min((x["width_ratio_min"] for x in refs), default=None),
                "width_ratio_median": median([x["width_ratio_median"] for x in refs]) if refs else None,
                "narrower_2pt": sum(x["narrower_2pt"] for x in refs), "wider_2pt": sum(x["wider_2pt"] for x in refs),
                "boxes": sum(x["boxes"] for x in refs),
                "overflow_nodes": sum(r.get("overflow_nodes", 0) for r in ok),
                "overflow_layouts": sum(1 for r in ok if r.get("overflow_nodes")),
                "overflow_max_pt": max((r["overflow_max_pt"] for r in ok if "overflow_max_pt" in r), default=None),
            }
        cmp = [s["compare"][font] for s in res["sources"] if font in s.get("compare", {})]
        both = [c for c in cmp if "compared" in c]
        per["compare"] = {
            "pairs": len(cmp), "same_counts": sum(1 for c in cmp if c.get("same_counts")),
            "same_nodes": sum(1 for c in cmp if c.get("same_nodes")),
            "boxes": sum(c["compared"] for c in both),
            "size_differ": sum(c["size_differ"] for c in both),
            "size_max_pt": max((c["size_max_pt"] for c in both), default=None),
            "moved_over_1pt": sum(c["moved_over_1pt"] for c in both),
            "moved_median_pt": median([c["moved_median_pt"] for c in both]) if both else None,
            "moved_max_pt": max((c["moved_max_pt"] for c in both), default=None),
            "same_rank": sum(c["same_rank"] for c in both), "same_place": sum(c["same_place"] for c in both),
            "identical_layouts": sum(1 for c in both if c["size_differ"] == 0 and c["moved_over_1pt"] == 0
                                     and c["same_counts"]),
        }
        out["fonts"][font] = per
    return out


def metrics(run: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    s = summary(run)
    out: dict[str, tuple[float | None, str]] = {}
    for font, per in s["fonts"].items():
        for e in ENGINES:
            out[f"{font}: {e} CPU seconds, all layouts"] = (per[e]["cpu_s"], "s")
            out[f"{font}: {e} failed layouts"] = (float(len(per[e]["failed"])), "")
            out[f"{font}: {e} boxes whose text does not fit"] = (float(per[e]["overflow_nodes"]), "")
        out[f"{font}: boxes of another size"] = (float(per["compare"]["size_differ"]), "")
        out[f"{font}: boxes moved > 1 pt"] = (float(per["compare"]["moved_over_1pt"]), "")
    return out


def _pct(n: int, of: int) -> str:
    return f"{n:,} of {of:,}" + (f" ({n / of:.0%})" if of else "")


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def render(run: dict[str, Any]) -> str:
    s = summary(run)
    res = run["results"]
    fonts = res["fonts"]
    eng = res["engines"]
    lines = [
        f"Every layout a cold build of `docs/` makes ({plural(s['recorded'] or s['sources'], 'Graphviz run')}: each "
        f"diagram's drawn depth and the viewer's other depths; {s['sources']} distinct DOT sources), laid out by "
        f"the system `dot` (`{eng['dot']['version']}`) and by graphviz-pure (`{eng['pure']['version']}`), "
        f"with the font the diagrams use now (`{fonts[0]}`) and with "
        + ", ".join(f"`{f}`" for f in fonts[1:]) + " in its place. Seconds are the sum over the layouts of "
        f"each one's median of {run['params']['repeat']} runs (other fonts: 1 run).", "",
    ]
    builds = res.get("builds") or {}
    if builds:
        said = {e: [w for w in b.get("warnings", []) if "WARNING:" in w or "ERROR:" in w] for e, b in builds.items()}
        rows = [[ENGINE_NAMES[e], fmt_s(b.get("seconds")), "yes" if b.get("ok") else "**no**", str(len(said[e]))]
                for e, b in builds.items()]
        lines += ["Cold builds of `docs/` (`sphinx-build -b html`, no `-j`; Sphinx's warnings):", "",
                  table(["netviz_dot", "build", "passed", "warnings"], rows), ""]
        for e in builds:
            if said[e]:
                lines += [f"Warnings of the build with {ENGINE_NAMES[e]}:", "", "```text",
                          *[w[:400] for w in said[e]], "```", ""]
    rows = []
    for font in fonts:
        per = s["fonts"][font]
        for e in ENGINES:
            p = per[e]
            rows.append([f"`{font}`", ENGINE_NAMES[e], f"{p['ok']} of {p['layouts']}", f"{p['wall_s']:.1f} s",
                         f"{p['cpu_s']:.1f} s", f"{p['nodes']:,} / {p['edges']:,} / {p['clusters']:,}",
                         _ratio(p["width_ratio_min"]), _ratio(p["width_ratio_median"]),
                         f"{p['narrower_2pt']:,} / {p['wider_2pt']:,}",
                         "–" if p["overflow_max_pt"] is None else
                         f"{p['overflow_nodes']:,} in {p['overflow_layouts']} / {p['overflow_max_pt']:.1f} pt",
                         str(len(p["warnings"]))])
    fit = res.get("fit_fonts") or {}
    lines += ["Each engine, each font: layouts made; seconds (wall, CPU); nodes, edges and clusters in the SVGs; "
              "box widths against the system `dot` with the current font (the narrowest ratio, the median, how "
              "many boxes are more than 2 pt narrower or wider); boxes whose text does not fit when drawn in "
              "Arial's metrics, as a browser draws it (in how many layouts / by how much at worst: text that "
              "runs out of its box or into the next piece of text on its line"
              + (f"; measured with `{Path(fit['regular']).name}` and `{Path(fit['bold']).name}`" if fit else "")
              + "); distinct warnings.", "",
              table(["font", "engine", "laid out", "wall", "CPU", "nodes / edges / clusters", "narrowest",
                     "median width", "narrower / wider", "text does not fit", "warnings"], rows,
                    right=(2, 3, 4, 6, 7)), ""]
    rows = []
    for font in fonts:
        c = s["fonts"][font]["compare"]
        rows.append([f"`{font}`", f"{c['same_counts']} of {c['pairs']}",
                     _pct(c["boxes"] - c["size_differ"], c["boxes"]),
                     "–" if c["size_max_pt"] is None else f"{c['size_max_pt']:.1f} pt",
                     _pct(c["same_rank"], c["boxes"]), _pct(c["same_place"], c["boxes"]),
                     "–" if c["moved_median_pt"] is None else f"{c['moved_median_pt']:.1f} / {c['moved_max_pt']:.0f} pt",
                     f"{c['identical_layouts']} of {c['pairs']}"])
    lines += ["The two engines side by side, per font: layouts with the same node, edge and cluster counts; "
              "boxes of the same size (within 0.5 pt) and the largest difference; boxes on the same rank, and "
              "also in the same place within it; how far the boxes' centres moved (median of the layouts' "
              "medians / the largest); layouts identical to 1 pt.", "",
              table(["font", "same counts", "same size", "largest size difference", "same rank",
                     "same rank and place", "moved (median / max)", "identical"], rows, right=(1, 2, 3, 4, 5, 6, 7)),
              ""]
    slow = sorted((x for x in res["sources"] if all(x["runs"][fonts[0]][e]["ok"] for e in ENGINES)),
                  key=lambda x: -(_seconds(x["runs"][fonts[0]]["dot"], "cpu_s") or 0))[:8]
    rows = [[f"{x['page'] or '?'}: {x['graph']}", str(x["boxes"]),
             *[f"{_seconds(x['runs'][fonts[0]][e], 'wall_s'):.2f} s / {_seconds(x['runs'][fonts[0]][e], 'cpu_s'):.2f} s"
               for e in ENGINES]] for x in slow]
    lines += [f"The slowest layouts (with `{fonts[0]}`; wall / CPU, medians):", "",
              table(["layout", "boxes", *[ENGINE_NAMES[e] for e in ENGINES]], rows, right=(1, 2, 3)), ""]
    for font in fonts:
        for e in ENGINES:
            p = s["fonts"][font][e]
            if p["warnings"] or p["failed"]:
                lines += [f"{ENGINE_NAMES[e]} with `{font}`:", "", "```text",
                          *[f"{w}   ({plural(n, 'layout')})" for w, n in sorted(p["warnings"].items())],
                          *[f"failed: {f[:300]}" for f in p["failed"]], "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
