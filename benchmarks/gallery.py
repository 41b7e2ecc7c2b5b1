#!/usr/bin/env python
"""The docs gallery's big models, one cold diagram per process: sphinx-netviz, torchview and torchviz.

    pip install -c constraints/dev.txt -r benchmarks/requirements.txt   # torchview, torchviz
    python benchmarks/gallery.py                     # everything: about 6 minutes on 2 idle cores
    python benchmarks/gallery.py --models cnn,llama --no-peers --repeat 1
    python benchmarks/report.py                      # then render docs/benchmarks.md from the JSON

Saves ``benchmarks/results/gallery/<time>-<commit>.json``.  The models (:data:`MODELS`): the
seed CNN at 16×3×512×512, ResNet-50, ViT-B/16, GPT-2 small and LLaMA-7B from
``docs/example_models``.  Each measurement is a fresh Python process
(``gallery.py --worker KIND …``), cold like the first diagram of a docs build; each reports
its stage timings and its own peak RSS (``ru_maxrss``).

* ``netviz``: ``make_artifacts`` with the directive's defaults (depth 2, ``onnx="auto"``,
  ``device="auto"``, one torch thread), stage by stage, ``--repeat`` times; then ``dot`` alone
  on the same DOT; and once more with the ONNX mode that auto did not choose, where that is
  sensible (``other_onnx``).
* ``torchview``: the model built under ``torch.device("meta")``, then
  ``draw_graph(..., device="meta", depth=2)`` and ``dot -Kdot -Tsvg`` on its source (what
  ``visual_graph.pipe(format="svg")`` runs), capped at ``RENDER_CAP`` seconds; ``--repeat`` times.
* ``torchviz``: real, seeded CPU weights, ``make_dot(model(x), params=...)``, then ``dot``;
  not for LLaMA-7B (26 GB of weights).
* ``floor``: the first and second operation on the ``meta`` device in a fresh process.

Every repeat is saved; the report takes medians.  The peers are benchmark-only, not
dependencies of sphinx-netviz.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))  # this checkout's benchmarks and sphinx_netviz, before any installed one

from benchmarks import common  # noqa: E402
from benchmarks.common import fmt_bytes, fmt_s, med, plural, table  # noqa: E402

BENCHMARK = "gallery"
TITLE = "The gallery's big models: sphinx-netviz, torchview and torchviz"
#: Graphviz gets this long on a peer's graph before we give up on it
RENDER_CAP = 120.0
#: a worker is killed after this long
WORKER_TIMEOUT = RENDER_CAP + 300.0


# -- the models ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Model:
    key: str
    title: str
    target: str
    file: str
    #: the ONNX mode other than auto's choice worth measuring (None: none is)
    other_onnx: str | None
    #: why torchviz cannot run it (None: it can)
    no_torchviz: str | None = None
    shape: tuple[int, ...] | None = None
    dtype: str | None = None

    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.shape or _constant(self.file, "INPUT_SHAPE"))

    def input_dtype(self) -> str:
        return self.dtype or _constant(self.file, "INPUT_DTYPE")


def _constant(file: str, name: str) -> Any:
    """A literal module constant, read without importing the module (and so torch)."""
    tree = ast.parse((common.DOCS / "example_models" / file).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{name} not found in docs/example_models/{file}")


MODELS = {m.key: m for m in [
    Model("cnn", "seed CNN", "example_models.cnn:CNNModel", "cnn.py", "structure",
          shape=(16, 3, 512, 512), dtype="float32"),
    Model("resnet50", "ResNet-50", "example_models.resnet50:resnet50", "resnet50.py", "full"),
    Model("vit", "ViT-B/16", "example_models.vit:vit_b_16", "vit.py", None),
    Model("gpt2", "GPT-2 small", "example_models.gpt2:gpt2", "gpt2.py", None),
    Model("llama", "LLaMA-7B", "example_models.llama:llama_7b", "llama.py", None,
          no_torchviz="cannot run: 26 GB of weights"),
]}


# -- workers (each in a fresh process: ``gallery.py --worker KIND KEY [ONNX]``) --------------------

def _count_boxes(svg: bytes) -> int:
    # Graphviz writes <g id="..." class="node">: the attribute order varies by version
    return len(re.findall(rb'<g\b[^>]*\bclass="node[ "]', svg))


def _dot_svg(source: str, timeout: float) -> tuple[bytes | None, float]:
    """``dot -Kdot -Tsvg`` (what graphviz's ``Digraph.pipe(format="svg")`` runs), with a cap."""
    start = time.perf_counter()
    try:
        done = subprocess.run(["dot", "-Kdot", "-Tsvg"], input=source.encode(), capture_output=True,
                              timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start
    return done.stdout, time.perf_counter() - start


def _build(model: Model, device: str) -> Any:
    """Import the target and build it on ``device`` (seeded, eval mode)."""
    import importlib

    import torch

    module_name, _, attr = model.target.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    torch.manual_seed(0)
    with torch.device(device):
        net = factory()
    return net.eval()


def _example_input(model: Model, device: str) -> Any:
    import torch

    shape, dtype = model.input_shape(), getattr(torch, model.input_dtype())
    if dtype.is_floating_point:
        return torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(dtype)
    return torch.zeros(shape, dtype=dtype, device=device)


def worker_netviz(model: Model, onnx: str) -> dict[str, Any]:
    from sphinx_netviz.pipeline import PipelineSettings, make_artifacts
    from sphinx_netviz.spec import DiagramSpec

    spec = DiagramSpec(model.target, (model.input_shape(),), (model.input_dtype(),), onnx=onnx)
    start = time.perf_counter()
    made = make_artifacts(spec, PipelineSettings(), torch_threads=1)  # as a docs build's worker does
    total = time.perf_counter() - start
    _, dot_alone = _dot_svg(made.dot, RENDER_CAP)  # Graphviz alone, on the same DOT
    return {
        "timings": made.timings, "total_s": total, "peak_rss_bytes": common.peak_rss_bytes(),
        "boxes": _count_boxes(made.svg), "diagram_nodes": made.node_count, "depth": made.depth,
        "svg_bytes": len(made.svg), "onnx_bytes": len(made.onnx) if made.onnx else None,
        "onnx_mode": made.onnx_mode, "device": made.device, "weight_bytes": made.weight_bytes,
        "dot_alone_s": dot_alone, "problems": [f"{p.stage}: {p.message}"[:500] for p in made.problems],
        "dynamo_imported": "torch._dynamo" in sys.modules,
    }


def worker_torchview(model: Model) -> dict[str, Any]:
    start = time.perf_counter()
    import torch
    t_import = time.perf_counter() - start
    start = time.perf_counter()
    from torchview import draw_graph
    t_import_tv = time.perf_counter() - start

    start = time.perf_counter()
    net = _build(model, "meta")
    t_build = time.perf_counter() - start
    # building under torch.device("meta") runs the init functions on meta tensors, which for
    # some models is already the process's first meta operation (the one-off warm-up)
    warmup_in_build = "torch._dynamo" in sys.modules
    common.stage("build", build_s=t_build)

    start = time.perf_counter()
    if model.input_dtype().startswith("float"):
        graph = draw_graph(net, input_size=model.input_shape(), device="meta", depth=2)
    else:
        data = torch.zeros(model.input_shape(), dtype=torch.long, device="meta")
        graph = draw_graph(net, input_data=data, device="meta", depth=2)
    source = graph.visual_graph.source
    t_draw = time.perf_counter() - start
    common.stage("draw", build_s=t_build, draw_s=t_draw)

    svg, t_render = _dot_svg(source, RENDER_CAP)
    return {
        "import_s": t_import, "import_torchview_s": t_import_tv, "build_s": t_build, "draw_s": t_draw,
        "render_s": t_render, "render_timed_out": svg is None, "peak_rss_bytes": common.peak_rss_bytes(),
        "boxes": _count_boxes(svg) if svg else None, "svg_bytes": len(svg) if svg else None,
        "warmup_in_build": warmup_in_build,
    }


def _first_tensor(out: Any) -> Any:
    import dataclasses

    import torch

    if isinstance(out, torch.Tensor):
        return out
    if dataclasses.is_dataclass(out):
        out = [getattr(out, f.name) for f in dataclasses.fields(out)]
    elif isinstance(out, dict):
        out = list(out.values())
    for item in out:
        if isinstance(item, torch.Tensor):
            return item
    raise TypeError(f"no tensor in the output ({type(out).__name__})")


def worker_torchviz(model: Model) -> dict[str, Any]:
    start = time.perf_counter()
    import torch  # noqa: F401
    t_import = time.perf_counter() - start
    from torchviz import make_dot

    start = time.perf_counter()
    net = _build(model, "cpu")
    x = _example_input(model, "cpu")
    t_build = time.perf_counter() - start
    start = time.perf_counter()
    y = _first_tensor(net(x))
    t_forward = time.perf_counter() - start
    start = time.perf_counter()
    source = make_dot(y, params=dict(net.named_parameters())).source
    t_make_dot = time.perf_counter() - start
    svg, t_render = _dot_svg(source, RENDER_CAP)
    return {
        "import_s": t_import, "build_s": t_build, "forward_s": t_forward, "make_dot_s": t_make_dot,
        "render_s": t_render, "render_timed_out": svg is None, "peak_rss_bytes": common.peak_rss_bytes(),
        "boxes": _count_boxes(svg) if svg else None, "svg_bytes": len(svg) if svg else None,
    }


def worker_floor() -> dict[str, Any]:
    """What the first operation on the meta device costs in a fresh process."""
    start = time.perf_counter()
    import torch
    t_import = time.perf_counter() - start
    before = "torch._dynamo" in sys.modules
    start = time.perf_counter()
    layer = torch.nn.Linear(4, 4, device="meta")
    layer(torch.empty(1, 4, device="meta"))
    t_first = time.perf_counter() - start
    start = time.perf_counter()
    layer(torch.empty(1, 4, device="meta"))
    t_second = time.perf_counter() - start
    return {"import_s": t_import, "first_meta_op_s": t_first, "second_meta_op_s": t_second,
            "dynamo_before": before, "dynamo_after": "torch._dynamo" in sys.modules}


def worker_main(kind: str, key: str, onnx: str = "auto") -> int:
    import warnings

    warnings.filterwarnings("ignore")
    sys.path[:0] = [str(ROOT), str(common.DOCS)]
    model = MODELS.get(key)
    if kind == "netviz":
        return common.worker(worker_netviz, model, onnx)
    if kind == "torchview":
        return common.worker(worker_torchview, model)
    if kind == "torchviz":
        return common.worker(worker_torchviz, model)
    return common.worker(worker_floor)


# -- measuring -------------------------------------------------------------------------------------

def _worker(*args: str) -> dict[str, Any]:
    return common.run_worker(__file__, args, WORKER_TIMEOUT)


def _repeated(repeat: int, *args: str, single_over: float = 60.0) -> list[dict[str, Any]]:
    """``repeat`` fresh runs; one only if the first took over ``single_over`` seconds."""
    runs = [_worker(*args)]
    if runs[0]["wall_s"] <= single_over:
        runs += [_worker(*args) for _ in range(repeat - 1)]
    return runs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}")
    parser.add_argument("--no-peers", action="store_true", help="skip torchview, torchviz and the meta floor")
    parser.add_argument("--repeat", type=int, default=3, help="fresh runs of netviz and torchview per model (default 3)")
    common.add_common_arguments(parser)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(*args.worker)
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    run = common.start_run(BENCHMARK, argv, {"models": keys, "peers": not args.no_peers, "repeat": args.repeat,
                                             "render_cap_s": RENDER_CAP})
    if not args.no_peers and None in (run["versions"]["torchview"], run["versions"]["torchviz"]):
        parser.error("torchview/torchviz missing: pip install -c constraints/dev.txt "
                     "-r benchmarks/requirements.txt (or pass --no-peers)")
    models = []
    for key in keys:
        m = MODELS[key]
        print(f"{m.title}:", file=sys.stderr, flush=True)
        row: dict[str, Any] = {**asdict(m), "input_shape": list(m.input_shape()), "input_dtype": m.input_dtype()}
        row["netviz"] = _repeated(args.repeat, "netviz", key, "auto")
        row["netviz_other_onnx"] = _worker("netviz", key, m.other_onnx) if m.other_onnx else None
        row["torchview"] = [] if args.no_peers else _repeated(args.repeat, "torchview", key)
        row["torchviz"] = None if args.no_peers or m.no_torchviz else _worker("torchviz", key)
        models.append(row)
    floor = None if args.no_peers else _worker("floor", "-")
    path = common.finish_run(run, {"models": models, "floor": floor}, args.results)
    print(f"saved {path}", file=sys.stderr)
    return 0


# -- the report (from the JSON) ----------------------------------------------------------------------

def _ok(result: dict[str, Any] | None) -> bool:
    return bool(result) and bool(result.get("ok"))


def cold_diagram_s(run: dict[str, Any]) -> float:
    """netviz's cold diagram: build + trace + graph/layout (no ``import torch``, no other depths, no ONNX)."""
    t = run["timings"]
    return t.get("build", 0.0) + t.get("trace", 0.0) + t.get("layout", 0.0)


def peer_s(run: dict[str, Any], cap: float, with_build: bool = False) -> float:
    """torchview's drawing + render (the cap where the render timed out), + its build if asked."""
    return (run["draw_s"] + (cap if run["render_timed_out"] else run["render_s"])
            + (run["build_s"] if with_build else 0.0))


def summary(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per model: medians over the good repeats of what the report and the targets read."""
    cap = run["params"]["render_cap_s"]
    out = {}
    for m in run["results"]["models"]:
        nv = [r for r in m["netviz"] if _ok(r)]
        tv = [r for r in m["torchview"] if _ok(r)]
        s: dict[str, Any] = {"title": m["title"], "netviz_runs": len(nv), "torchview_runs": len(tv)}
        if nv:
            s["cold_diagram_s"] = med(cold_diagram_s(r) for r in nv)
            for stage in ("import", "build", "trace", "layout", "views", "onnx"):
                s[stage + "_s"] = med(r["timings"].get(stage) for r in nv)
            s["total_s"] = med(sum(r["timings"].values()) for r in nv)
            s["dot_alone_s"] = med(r["dot_alone_s"] for r in nv)
            s["peak_rss_bytes"] = med(r["peak_rss_bytes"] for r in nv)
            last = nv[-1]
            s.update({k: last[k] for k in ("device", "onnx_mode", "onnx_bytes", "boxes", "svg_bytes", "depth")})
        if tv:
            s["torchview_s"] = med(peer_s(r, cap) for r in tv)
            s["torchview_with_build_s"] = med(peer_s(r, cap, with_build=True) for r in tv)
            s["torchview_timed_out"] = any(r["render_timed_out"] for r in tv)
            s["torchview_warmup_in_build"] = any(r["warmup_in_build"] for r in tv)
        if nv and tv:
            s["ratio"] = s["cold_diagram_s"] / s["torchview_s"]
            s["ratio_with_build"] = s["cold_diagram_s"] / s["torchview_with_build_s"]
        out[m["key"]] = s
    return out


def metrics(run: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    out: dict[str, tuple[float | None, str]] = {}
    for s in summary(run).values():
        for name, unit in (("cold_diagram_s", "s"), ("onnx_s", "s"), ("layout_s", "s"), ("total_s", "s"),
                           ("peak_rss_bytes", "bytes"), ("torchview_s", "s"), ("ratio", "ratio")):
            if s.get(name) is not None:
                out[f"{s['title']}: {name}"] = (s[name], unit)
    return out


def render(run: dict[str, Any]) -> str:
    params, results, s = run["params"], run["results"], summary(run)
    cap = params["render_cap_s"]
    by_key = {m["key"]: m for m in results["models"]}
    lines = ["Every number comes from a fresh Python process (cold, like the first diagram of a docs "
             "build); peak RSS is that process's own `ru_maxrss`. netviz runs `make_artifacts` with the "
             "directive's defaults (depth 2, `onnx=\"auto\"`, `device=\"auto\"`, one torch thread). "
             f"Medians of up to {plural(params['repeat'], 'process', 'processes')} per model (one where the first took "
             "over 60 s). "
             "Box counts are the `<g class=\"node\">` elements in the SVG.", ""]
    rows = []
    for key, m in s.items():
        model = by_key[key]
        name = f"{m['title']} ({'×'.join(map(str, model['input_shape']))} {model['input_dtype']})"
        if not m["netviz_runs"]:
            errors = "; ".join(r.get("error", "") for r in model["netviz"])
            rows.append([name, f"failed: {errors}"] + [""] * 12)
            continue
        rows.append([name, m["device"], fmt_s(m["import_s"], 2), fmt_s(m["build_s"], 2), fmt_s(m["trace_s"], 2),
                     fmt_s(m["layout_s"], 2), fmt_s(m["views_s"], 2), f"{fmt_s(m['onnx_s'], 2)} ({m['onnx_mode']})",
                     fmt_s(m["total_s"], 2), fmt_bytes(m["peak_rss_bytes"]), str(m["boxes"]),
                     fmt_bytes(m["svg_bytes"]), fmt_bytes(m["onnx_bytes"]),
                     f"{m['netviz_runs']}"])
    lines += ["### sphinx-netviz, one cold diagram per process", "",
              table(["model (input)", "built on", "import torch", "build", "trace", "graph+layout",
                     "other depths (viewer)", "ONNX (kind)", "total", "peak RSS", "boxes", "SVG", "ONNX file",
                     "runs"], rows), "",
              "*graph+layout* is building the diagram, writing DOT and running Graphviz `dot`; *other depths* "
              "lays out the depths the page's viewer switches between.", ""]

    rows = []
    for key, model in by_key.items():
        o = model.get("netviz_other_onnx")
        if o is None:
            continue
        if not _ok(o):
            rows.append([model["title"], model["other_onnx"], f"failed: {o.get('error')}", "", ""])
        else:
            rows.append([model["title"], o["onnx_mode"] or f"{model['other_onnx']} (no file: {'; '.join(o['problems'])})",
                         fmt_s(o["timings"].get("onnx"), 2), fmt_bytes(o["onnx_bytes"]), fmt_bytes(o["peak_rss_bytes"])])
    if rows:
        lines += ["### ONNX in the other kind", "",
                  table(["model", "ONNX kind", "export", "file", "peak RSS of that process"], rows), ""]

    if params["peers"]:
        rows = []
        for key, model in by_key.items():
            tv = [r for r in model["torchview"] if _ok(r)]
            if not tv:
                rows.append([model["title"], "failed: " + "; ".join(r.get("error", "") for r in model["torchview"])]
                            + [""] * 6)
                continue
            render_s = (f"> {cap:g} s (timed out)" if s[key]["torchview_timed_out"]
                        else fmt_s(med(r["render_s"] for r in tv), 2))
            rows.append([model["title"], fmt_s(med(r["import_s"] for r in tv), 2),
                         fmt_s(med(r["build_s"] for r in tv), 2), fmt_s(med(r["draw_s"] for r in tv), 2),
                         render_s, fmt_s(s[key]["torchview_s"], 2), fmt_bytes(med(r["peak_rss_bytes"] for r in tv)),
                         str(tv[-1]["boxes"] if tv[-1]["boxes"] is not None else "–")])
        lines += ["### torchview", "",
                  "`draw_graph(model, input_size=…, device=\"meta\", depth=2)` (integer inputs: `input_data=` zeros "
                  "on meta) on a model built under `torch.device(\"meta\")`, then `dot -Kdot -Tsvg` on "
                  f"`visual_graph.source`, capped at {cap:g} s.", "",
                  table(["model", "import torch", "build on meta", "drawing (draw_graph)", "render (dot)",
                         "drawing + render", "peak RSS", "boxes"], rows), ""]
        rows = []
        for key, model in by_key.items():
            if model["no_torchviz"]:
                rows.append([model["title"], model["no_torchviz"]] + [""] * 6)
                continue
            tz = model.get("torchviz")
            if not _ok(tz):
                rows.append([model["title"], f"failed: {(tz or {}).get('error', 'not run')}"] + [""] * 6)
                continue
            render_s = f"> {cap:g} s (timed out)" if tz["render_timed_out"] else fmt_s(tz["render_s"], 2)
            rows.append([model["title"], fmt_s(tz["build_s"], 2), fmt_s(tz["forward_s"], 2),
                         fmt_s(tz["make_dot_s"], 2), render_s, fmt_s(tz["make_dot_s"] + tz["render_s"], 2),
                         fmt_bytes(tz["peak_rss_bytes"]), str(tz["boxes"] if tz["boxes"] is not None else "–")])
        lines += ["### torchviz", "",
                  "`make_dot(model(x), params=dict(model.named_parameters()))` with real, seeded CPU weights, "
                  f"then `dot -Kdot -Tsvg` (capped at {cap:g} s); one process per model.", "",
                  table(["model", "build (real weights)", "forward", "make_dot", "render (dot)", "make_dot + render",
                         "peak RSS", "boxes"], rows), ""]

        rows = []
        for key, m in s.items():
            if m.get("ratio") is None:
                continue
            bound = "< " if m["torchview_timed_out"] else ""
            rows.append([m["title"], f"{fmt_s(m['cold_diagram_s'], 2)} ({m['device']})", fmt_s(m["torchview_s"], 2),
                         f"{bound}{m['ratio']:.2f}", "build" if m["torchview_warmup_in_build"] else "drawing",
                         fmt_s(m["torchview_with_build_s"], 2), f"{bound}{m['ratio_with_build']:.2f}"])
        lines += ["### One cold diagram: netviz ÷ torchview", "",
                  table(["model", "netviz: build + trace + graph/layout (built on)", "torchview: drawing + render",
                         "ratio", "torchview's first meta operation fell in its", "torchview: build + drawing + render",
                         "ratio, both with the build"], rows), "",
                  "netviz's side includes importing and building the model; torchview's *drawing + render* does not "
                  "include its build. Neither includes `import torch` or ONNX. A ratio with `<` is a bound: torchview's "
                  "render hit the cap, which is counted as its time.", ""]
        floor = results.get("floor")
        if _ok(floor):
            lines += [f"Measured in a fresh process after `import torch` ({floor['import_s']:.2f} s): the first "
                      f"operation on the `meta` device took {floor['first_meta_op_s']:.2f} s and the second "
                      f"{floor['second_meta_op_s'] * 1000:.1f} ms; `torch._dynamo` was "
                      f"{'imported by it' if floor['dynamo_after'] and not floor['dynamo_before'] else 'not imported by it'}.",
                      ""]

    rows = [[m["title"], str(m["depth"]), fmt_s(m["layout_s"], 2), fmt_s(m["dot_alone_s"], 2)]
            for m in s.values() if m["netviz_runs"]]
    lines += ["### Graphviz layout at the default depth", "",
              table(["model", "depth drawn", "graph + DOT + dot (netviz timing)", "dot alone, same DOT"], rows), ""]
    problems = [f"* {by_key[k]['title']}: {p}" for k in by_key for p in
                next((r.get("problems", []) for r in by_key[k]["netviz"] if _ok(r)), [])]
    if problems:
        lines += ["### Problems netviz reported", "", *problems, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
