#!/usr/bin/env python
"""Draw every model of the zoo (``docs/example_models/zoo.py``) with sphinx-netviz and with torchview; time both.

    python benchmarks/zoo.py                        # every model: about 8 minutes on 2 idle cores
    python benchmarks/zoo.py --models llama,swin --kinds netviz,torchview
    python benchmarks/zoo.py --timeout 60           # seconds each tool may take per model
    python benchmarks/report.py                     # then render docs/benchmarks.md from the JSON

Saves ``benchmarks/results/zoo/<time>-<commit>.json`` (``benchmarks/common.py``).  Each
measurement is a fresh Python process (``zoo.py --worker KIND NAME``), so imports and warm-up
count alike for every model and tool, and a crash or a hang costs one cell, not the run.  A
worker that passes ``--timeout`` is killed with its process tree (Graphviz included); the
stages it finished are still saved.

* ``netviz``: ``make_artifacts`` with the directive's defaults (``:device: auto``,
  ``:onnx: auto``, depth 2 unless the entry says otherwise, one torch thread as in a docs
  build's worker): the diagram, the viewer's other depths and the ONNX file, which is then
  checked with ``onnx.checker.check_model`` (not timed).
* ``diagram``: the same with ``onnx="none"``.
* ``torchview``: the model built under ``torch.device("meta")`` (in the entry's ``:dtype:``),
  ``draw_graph(model, input_data=<the same inputs>, device="meta", depth=3,
  expand_nested=True)`` (torchview's default depth; nested modules drawn as dashed clusters,
  like netviz's), then ``graph.visual_graph.pipe(format="svg")``.

Seconds are counted inside the worker from its first line, so they include importing torch,
the model's library and the tool; the Python start-up (~0.05 s) is left out.  The parent
never imports torch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))  # this checkout's benchmarks and sphinx_netviz, before any installed one

from benchmarks import common  # noqa: E402  (starts the worker's clock)
from benchmarks.common import fmt_bytes, med, table  # noqa: E402

BENCHMARK = "zoo"
TITLE = "The zoo: sphinx-netviz and torchview on `transformers` / `diffusers` architectures"
KINDS = ("netviz", "diagram", "torchview")
TORCHVIEW_DEPTH = 3


# -- workers (each in a fresh process) ------------------------------------------------------------

def worker_netviz(name: str, onnx: str) -> dict[str, Any]:
    sys.path[:0] = [str(ROOT), str(ROOT / "docs")]
    from example_models.zoo import BY_NAME
    from sphinx_netviz.pipeline import PipelineSettings, make_artifacts
    from sphinx_netviz.spec import DiagramSpec

    entry = BY_NAME[name]
    common.stage("import")
    spec = DiagramSpec(**entry.spec_kwargs(), onnx=onnx)
    start = time.perf_counter()
    made = make_artifacts(spec, PipelineSettings(), torch_threads=1)
    done = time.perf_counter()
    result = {"seconds": done - common.WORKER_START, "make_artifacts_s": done - start,
              "onnx_mode": made.onnx_mode, "onnx_bytes": len(made.onnx) if made.onnx else None,
              "device": made.device, "depth": made.depth, "boxes": made.node_count, "svg_bytes": len(made.svg),
              "weight_bytes": made.weight_bytes, "timings": made.timings,
              "time_limited": made.time_limited, "onnx_time_limited": made.onnx_time_limited,
              "problems": [p.message[:500] for p in made.problems], "notes": [n[:500] for n in made.notes],
              "peak_rss_bytes": common.peak_rss_bytes()}
    if made.onnx:
        import onnx

        try:
            onnx.checker.check_model(onnx.load_from_string(made.onnx))
            result["onnx_valid"], result["onnx_check_error"] = True, None
        except Exception as exc:  # noqa: BLE001 - the checker's verdict is the result
            result["onnx_valid"], result["onnx_check_error"] = False, common.first_line(exc)
    return result


def worker_torchview(name: str) -> dict[str, Any]:
    import torch

    sys.path[:0] = [str(ROOT), str(ROOT / "docs")]
    from example_models.zoo import BY_NAME
    from torchview import draw_graph

    entry = BY_NAME[name]
    common.stage("import")
    start = time.perf_counter()
    torch.manual_seed(0)
    with torch.device("meta"):
        model = entry.build()
    args, kwargs = entry.example_inputs()
    build = time.perf_counter() - start
    common.stage("build", build_s=build)
    start = time.perf_counter()
    graph = draw_graph(model, input_data=kwargs if kwargs else list(args), device="meta",
                       depth=TORCHVIEW_DEPTH, expand_nested=True)
    draw = time.perf_counter() - start
    common.stage("draw", build_s=build, draw_s=draw)
    start = time.perf_counter()
    svg = graph.visual_graph.pipe(format="svg")
    render = time.perf_counter() - start
    return {"seconds": time.perf_counter() - common.WORKER_START, "build_s": build, "draw_s": draw,
            "render_s": render, "boxes": svg.count(b'class="node"'), "svg_bytes": len(svg),
            "peak_rss_bytes": common.peak_rss_bytes()}


def worker_main(kind: str, name: str) -> int:
    if kind == "torchview":
        return common.worker(worker_torchview, name)
    return common.worker(worker_netviz, name, "auto" if kind == "netviz" else "none")


# -- measuring ------------------------------------------------------------------------------------

def entries() -> list[dict[str, str]]:
    """The zoo's table (read in a subprocess: importing the zoo imports torch)."""
    code = ("import json; from example_models.zoo import ZOO; print(json.dumps([dict(name=e.name, "
            "family=e.family, config=e.config, directive=e.directive()) for e in ZOO]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=True, env=common.worker_env())
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", help="comma-separated zoo names (default: all)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per model and tool")
    common.add_common_arguments(parser)
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(*args.worker)
    kinds = [k for k in args.kinds.split(",") if k]
    if set(kinds) - set(KINDS):
        parser.error(f"unknown kind(s): {', '.join(sorted(set(kinds) - set(KINDS)))}")
    run = common.start_run(BENCHMARK, argv, {"models": args.models, "kinds": kinds, "timeout_s": args.timeout,
                                             "torchview_depth": TORCHVIEW_DEPTH})
    table_ = entries()
    if args.models:
        wanted = args.models.split(",")
        unknown = set(wanted) - {e["name"] for e in table_}
        if unknown:
            parser.error(f"not in the zoo: {', '.join(sorted(unknown))}")
        table_ = [e for e in table_ if e["name"] in wanted]
    models = []
    for entry in table_:
        row: dict[str, Any] = dict(entry)
        for kind in KINDS:
            row[kind] = (common.run_worker(__file__, [kind, entry["name"]], args.timeout,
                                           label=f"{kind} {entry['name']}")
                         if kind in kinds else None)
        models.append(row)
    path = common.finish_run(run, {"models": models}, args.results)
    print(f"saved {path}", file=sys.stderr)
    return 0


# -- the report (from the JSON) -------------------------------------------------------------------

def _ok(result: dict[str, Any] | None) -> bool:
    return bool(result) and bool(result.get("ok"))


def _sec(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """The numbers the report and the targets read: counts and medians, per kind."""
    models = run["results"]["models"]
    out: dict[str, Any] = {"models": len(models)}
    for kind in KINDS:
        ran = [m for m in models if m.get(kind) is not None]
        drawn = [m[kind] for m in ran if _ok(m[kind])]
        out[kind] = {"ran": len(ran), "drawn": len(drawn), "median_s": med(r["seconds"] for r in drawn)}
    both = [m for m in models if all(_ok(m.get(k)) for k in KINDS)]
    out["all_drew"] = len(both)
    out["both_median_s"] = {k: med(m[k]["seconds"] for m in both) for k in KINDS}
    pair = [m for m in models if _ok(m.get("diagram")) and _ok(m.get("torchview"))]
    out["diagram_vs_torchview"] = {"models": len(pair), "diagram_s": med(m["diagram"]["seconds"] for m in pair),
                                   "torchview_s": med(m["torchview"]["seconds"] for m in pair)}
    drawn_nv = [m for m in models if _ok(m.get("netviz"))]
    out["onnx_kinds"] = {}
    for m in drawn_nv:
        kind = m["netviz"].get("onnx_mode") or "none"
        out["onnx_kinds"][kind] = out["onnx_kinds"].get(kind, 0) + 1
    out["without_valid_onnx"] = [m["name"] for m in models if m.get("netviz") is not None and not (
        _ok(m["netviz"]) and m["netviz"].get("onnx_bytes") and m["netviz"].get("onnx_valid"))]
    out["onnx_time_limited"] = [m["name"] for m in drawn_nv if m["netviz"].get("onnx_time_limited")]
    return out


def metrics(run: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    """Every number worth comparing between two runs: ``name -> (value, unit)``."""
    s = summary(run)
    out: dict[str, tuple[float | None, str]] = {}
    for kind in KINDS:
        out[f"{kind}: models drawn"] = (s[kind]["drawn"], "count")
        out[f"{kind}: median s per drawn model"] = (s[kind]["median_s"], "s")
    for m in run["results"]["models"]:
        for kind in KINDS:
            if _ok(m.get(kind)):
                out[f"{m['name']}, {kind}"] = (m[kind]["seconds"], "s")
    return out


def render(run: dict[str, Any]) -> str:
    params, models, s = run["params"], run["results"]["models"], summary(run)
    lines = [
        "Each cell is a fresh process; seconds from the worker's first line (importing torch, the "
        "model's library and the tool included). **netviz**: `make_artifacts` with the directive's "
        "defaults (diagram, viewer depths, ONNX file of kind `full`, `structure` or `graph`, then "
        "`onnx.checker`); **diagram only**: the same with `onnx=\"none\"`; **torchview**: model built on "
        f"meta, `draw_graph(..., device=\"meta\", depth={params['torchview_depth']}, expand_nested=True)` + "
        "`visual_graph.pipe(format=\"svg\")`. A process is killed after "
        f"{params['timeout_s']:g} s. The models and inputs are `docs/example_models/zoo.py`'s `ZOO`.", "",
    ]

    def cell(result: dict[str, Any] | None) -> tuple[str, str]:
        if result is None:
            return "not run", "–"
        return ("yes" if _ok(result) else "**no**"), _sec(result.get("seconds"))

    rows = []
    for m in models:
        nv, dg, tv = m.get("netviz"), m.get("diagram"), m.get("torchview")
        (nv_d, nv_s), (dg_d, dg_s), (tv_d, tv_s) = cell(nv), cell(dg), cell(tv)
        if _ok(tv):
            tv_s += f" ({tv['build_s']:.1f} + {tv['draw_s']:.1f} + {tv['render_s']:.1f})"
        onnx = "–"
        if _ok(nv):
            onnx = nv.get("onnx_mode") or "none"
            if nv.get("onnx_bytes"):
                onnx += f", {fmt_bytes(nv['onnx_bytes'])}" + ("" if nv.get("onnx_valid") else ", **invalid**")
        rows.append([m["name"], m["family"], nv_d, onnx, nv_s, dg_d, dg_s, tv_d, tv_s])

    def total(kind: str) -> tuple[str, str]:
        k = s[kind]
        return f"**{k['drawn']} of {k['ran']}**", f"**{_sec(k['median_s'])}**"

    (nv_n, nv_m), (dg_n, dg_m), (tv_n, tv_m) = (total(k) for k in KINDS)
    rows.append(["**models drawn; median s per drawn model**", "", nv_n, "", nv_m, dg_n, dg_m, tv_n, tv_m])
    if s["all_drew"]:
        b = s["both_median_s"]
        rows.append([f"*median s over the {s['all_drew']} models all three drew*", "", "", "",
                     f"*{_sec(b['netviz'])}*", "", f"*{_sec(b['diagram'])}*", "", f"*{_sec(b['torchview'])}*"])
    lines += [table(["model", "family", "netviz: drawn", "ONNX", "s", "diagram only: drawn", "s",
                     "torchview: drawn", "s (build + draw + render)"], rows, right=(4, 6, 8)), ""]

    pair = s["diagram_vs_torchview"]
    if pair["models"]:
        ratio = pair["diagram_s"] / pair["torchview_s"]
        lines += [f"On the {pair['models']} models both drew, the median diagram-only process took "
                  f"{pair['diagram_s']:.1f} s and the median torchview process {pair['torchview_s']:.1f} s "
                  f"(ratio {ratio:.2f}). netviz drew {s['netviz']['drawn']} of {s['netviz']['ran']} models, "
                  f"torchview {s['torchview']['drawn']} of {s['torchview']['ran']}.", ""]

    failures = [(m["name"], kind, m[kind]["error"]) for m in models for kind in KINDS
                if m.get(kind) is not None and not _ok(m[kind])]
    lines += ["### Failures", ""]
    lines += [f"* {name}, {kind}: `{error}`" for name, kind, error in failures] or ["None.", ""]
    if failures:
        lines.append("")
    invalid = [(m["name"], m["netviz"]["onnx_check_error"]) for m in models
               if _ok(m.get("netviz")) and m["netviz"].get("onnx_valid") is False]
    if invalid:
        lines += ["ONNX files `onnx.checker` rejected:", "",
                  *[f"* {name}: `{error}`" for name, error in invalid], ""]
    lesser = [m for m in models if _ok(m.get("netviz")) and m["netviz"].get("onnx_mode") != "structure"]
    if lesser:
        lines += ["ONNX files other than `structure`, with what netviz said about the export:", ""]
        for m in lesser:
            nv = m["netviz"]
            said = [n for n in nv.get("notes", []) + nv.get("problems", []) if "onnx" in n.lower()]
            lines.append(f"* {m['name']}: {nv.get('onnx_mode') or 'no file'}"
                         + (f" ({'; '.join(said)})" if said else ""))
        lines.append("")

    rows = []
    for m in models:
        nv = m.get("netviz")
        if _ok(nv):
            t = nv["timings"]
            rows.append([m["name"], nv["device"], _sec(t.get("build")), _sec(t.get("trace")),
                         _sec(t.get("layout", 0) + t.get("views", 0)), _sec(t.get("onnx")),
                         _sec(nv["make_artifacts_s"]), fmt_bytes(nv.get("peak_rss_bytes"))])
    if rows:
        lines += ["### netviz stages (s, the run with ONNX; `make_artifacts` only)", "",
                  table(["model", "traced on", "build", "trace", "layout + views", "onnx", "make_artifacts",
                         "peak RSS"], rows, right=(2, 3, 4, 5, 6, 7)), ""]
    lines += ["### Configs", "",
              "Library defaults unless listed (`config` in `docs/example_models/zoo.py`).", "",
              table(["model", "config", "directive"],
                    [[m["name"], m["config"], "`" + " ".join(x.strip() for x in m["directive"].splitlines()[1:]) + "`"]
                     for m in models])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
