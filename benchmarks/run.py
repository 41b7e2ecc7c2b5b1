#!/usr/bin/env python
"""Benchmark sphinx-netviz against torchview and torchviz; write docs/benchmarks.md.

    pip install -c constraints/dev.txt -r benchmarks/requirements.txt
    python benchmarks/run.py                 # everything, about 5 minutes on 2 cores
    python benchmarks/run.py --models cnn,llama --no-peers --no-docs

Every measurement runs in a fresh Python process, cold, like the first
diagram of a docs build: the parent process never imports torch.  Each
worker reports its stage timings and its own peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``).  The docs build is timed on
``sphinx-build`` run under ``/usr/bin/time -v`` (peak RSS of the whole build).

Measured per model (seed CNN, ResNet-50, ViT-B/16, GPT-2 small, LLaMA-7B):

* sphinx-netviz: ``make_artifacts`` with the directive's defaults (depth 2,
  ``onnx="auto"``, ``device="auto"``, one torch thread as in the directive),
  per stage; and the ONNX export in the other mode where that is sensible;
* torchview: ``draw_graph(..., device="meta", depth=2)`` on a model built
  under ``torch.device("meta")``, then ``dot -Tsvg`` on its source;
* torchviz: ``make_dot(model(x), params=...)`` with real CPU weights, then
  ``dot -Tsvg`` (not for LLaMA-7B: 26 GB of weights);
* a cold ``sphinx-build -b html`` of a temporary project with one directive
  per model, and no-change rebuilds of it and of the same project without
  directives.

Results are printed as Markdown tables and written to ``--output``.
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULT = "BENCH-RESULT "
#: Graphviz gets this long on a peer's graph before we give up on it
RENDER_CAP = 120.0
MB = 1024 * 1024


# --------------------------------------------------------------------------- models

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
        return self.shape or _constant(self.file, "INPUT_SHAPE")

    def input_dtype(self) -> str:
        return self.dtype or _constant(self.file, "INPUT_DTYPE")


def _constant(file: str, name: str) -> Any:
    """A literal module constant, read without importing the module (and so torch)."""
    tree = ast.parse((DOCS / "example_models" / file).read_text())
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


# --------------------------------------------------------------------------- workers
# Each runs in its own fresh process (``run.py --worker KIND --model KEY``) and
# prints one ``BENCH-RESULT {json}`` line.

def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


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
        if device == "meta":
            return torch.empty(shape, dtype=dtype, device="meta")
        return torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(dtype)
    return torch.zeros(shape, dtype=dtype, device=device)


def worker_netviz(model: Model, onnx: str) -> dict[str, Any]:
    from sphinx_netviz.pipeline import PipelineSettings, make_artifacts
    from sphinx_netviz.spec import DiagramSpec

    spec = DiagramSpec(model.target, (model.input_shape(),), (model.input_dtype(),), onnx=onnx)
    start = time.perf_counter()
    made = make_artifacts(spec, PipelineSettings(), torch_threads=1)  # as the directive does
    total = time.perf_counter() - start
    _, dot_alone = _dot_svg(made.dot, RENDER_CAP)  # Graphviz alone, on the same DOT
    return {
        "timings": made.timings, "total": total, "peak_rss_mb": _peak_rss_mb(),
        "boxes": _count_boxes(made.svg), "diagram_nodes": made.node_count, "depth": made.depth,
        "svg_bytes": len(made.svg), "onnx_bytes": len(made.onnx) if made.onnx else None,
        "onnx_mode": made.onnx_mode, "device": made.device, "weight_bytes": made.weight_bytes,
        "dot_alone": dot_alone, "problems": [f"{p.stage}: {p.message}" for p in made.problems],
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
    # some models is already the process's first meta operation (the ~1 s warm-up)
    warmup_in_build = "torch._dynamo" in sys.modules

    start = time.perf_counter()
    if model.input_dtype().startswith("float"):
        graph = draw_graph(net, input_size=model.input_shape(), device="meta", depth=2)
    else:
        data = torch.zeros(model.input_shape(), dtype=torch.long, device="meta")
        graph = draw_graph(net, input_data=data, device="meta", depth=2)
    source = graph.visual_graph.source
    t_draw = time.perf_counter() - start

    svg, t_render = _dot_svg(source, RENDER_CAP)
    return {
        "import": t_import, "import_torchview": t_import_tv, "build": t_build, "draw": t_draw,
        "render": t_render, "timed_out": svg is None, "peak_rss_mb": _peak_rss_mb(),
        "boxes": _count_boxes(svg) if svg else None,
        "svg_bytes": len(svg) if svg else None, "warmup_in_build": warmup_in_build,
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
    import torch
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
    graph = make_dot(y, params=dict(net.named_parameters()))
    source = graph.source
    t_make_dot = time.perf_counter() - start

    svg, t_render = _dot_svg(source, RENDER_CAP)
    return {
        "import": t_import, "build": t_build, "forward": t_forward, "make_dot": t_make_dot,
        "render": t_render, "timed_out": svg is None, "peak_rss_mb": _peak_rss_mb(),
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
    return {"import": t_import, "first_meta_op": t_first, "second_meta_op": t_second,
            "dynamo_before": before, "dynamo_after": "torch._dynamo" in sys.modules}


def worker_main(kind: str, key: str | None, onnx: str) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    for path in (str(DOCS), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    model = MODELS[key] if key else None
    if kind == "netviz":
        result = worker_netviz(model, onnx)
    elif kind == "torchview":
        result = worker_torchview(model)
    elif kind == "torchviz":
        result = worker_torchviz(model)
    elif kind == "floor":
        result = worker_floor()
    else:
        raise SystemExit(f"unknown worker {kind!r}")
    print(RESULT + json.dumps(result), flush=True)


# --------------------------------------------------------------------------- parent side

def _env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT), str(DOCS)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def run_worker(kind: str, model: str | None = None, onnx: str = "auto",
               timeout: float = 600.0) -> dict[str, Any]:
    """Run one worker in a fresh process; its result, or ``{"error": ...}``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--onnx", onnx]
    if model:
        cmd += ["--model", model]
    label = f"{kind} {model or ''} {onnx if kind == 'netviz' else ''}".strip()
    print(f"  … {label}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(),
                              cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:g} s"}
    wall = time.perf_counter() - start
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT):])
            result["wall"] = wall
            return result
    tail = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return {"error": tail[-1] if tail else f"exit code {done.returncode}"}


def _median_results(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Field-wise median of several runs' results (numbers, and numbers in nested dicts)."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    out = dict(good[0])
    for name, value in good[0].items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)):
            out[name] = statistics.median(r[name] for r in good)
        elif isinstance(value, dict):
            out[name] = {k: statistics.median(r[name].get(k, 0.0) for r in good) for k in value}
    out["runs"] = len(good)
    return out


def run_repeated(repeat: int, *args: Any, single_over: float = 60.0, **kwargs: Any) -> dict[str, Any]:
    """Median of ``repeat`` fresh runs; one run only if it took over ``single_over`` seconds."""
    runs = [run_worker(*args, **kwargs)]
    if runs[0].get("wall", 0.0) <= single_over:
        runs += [run_worker(*args, **kwargs) for _ in range(repeat - 1)]
    return _median_results(runs)


# --------------------------------------------------------------------------- docs build

_SPHINX = ("import sys; from sphinx.cmd.build import main; rc = main(sys.argv[1:]); "
           "print('TORCH', 'torch' in sys.modules); sys.exit(rc)")


def _write_project(src: Path, models: list[Model], directives: bool) -> None:
    src.mkdir(parents=True)
    (src / "conf.py").write_text(
        'project = "netviz-bench"\nextensions = ["sphinx_netviz"]\nexclude_patterns = ["_build"]\n'
    )
    pages = "\n".join(f"   {m.key}" for m in models)
    (src / "index.rst").write_text(
        f"Benchmark\n=========\n\n.. toctree::\n   :maxdepth: 1\n\n{pages}\n"
    )
    for m in models:
        body = f"{m.title}\n{'=' * len(m.title)}\n\n"
        if directives:
            shape = ", ".join(map(str, m.input_shape()))
            body += (f".. netviz:: {m.target}\n   :input-shape: {shape}\n"
                     f"   :input-dtype: {m.input_dtype()}\n   :depth: 2\n")
        else:
            body += f"The {m.title} page, without a diagram.\n"
        (src / f"{m.key}.rst").write_text(body)


def _sphinx(src: Path, out: Path, timed: bool = False) -> dict[str, Any]:
    """One ``sphinx-build -b html`` (no ``-j``) in a fresh process."""
    cmd = [sys.executable, "-c", _SPHINX, "-b", "html", str(src), str(out)]
    if timed:
        cmd = ["/usr/bin/time", "-v"] + cmd
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=src, timeout=1200)
    wall = time.perf_counter() - start
    result: dict[str, Any] = {"wall": wall, "rc": done.returncode,
                              "torch": "TORCH True" in done.stdout,
                              "warnings": [line for line in done.stderr.splitlines()
                                           if "WARNING" in line or "ERROR" in line]}
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if match:
        result["peak_rss_mb"] = int(match.group(1)) / 1024
    return result


def run_docs(models: list[Model], rebuilds: int) -> dict[str, Any]:
    print("  … docs build", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="netviz-bench-") as tmp:
        base = Path(tmp)
        with_src, empty_src = base / "with" / "src", base / "empty" / "src"
        _write_project(with_src, models, directives=True)
        _write_project(empty_src, models, directives=False)
        timed = Path("/usr/bin/time").exists()
        cold = _sphinx(with_src, base / "with" / "out", timed=timed)
        again = [_sphinx(with_src, base / "with" / "out") for _ in range(rebuilds)]
        empty_cold = _sphinx(empty_src, base / "empty" / "out")
        empty_again = [_sphinx(empty_src, base / "empty" / "out") for _ in range(rebuilds)]
    rebuild = statistics.median(r["wall"] for r in again)
    empty_rebuild = statistics.median(r["wall"] for r in empty_again)
    return {
        "diagrams": len(models), "cold": cold["wall"], "cold_rc": cold["rc"],
        "cold_peak_rss_mb": cold.get("peak_rss_mb"), "cold_warnings": cold["warnings"],
        "cold_torch": cold["torch"], "rebuild": rebuild, "rebuild_runs": len(again),
        "rebuild_torch": any(r["torch"] for r in again),
        "empty_cold": empty_cold["wall"], "empty_rebuild": empty_rebuild,
        "per_diagram": (rebuild - empty_rebuild) / len(models),
    }


# --------------------------------------------------------------------------- machine

def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    ram = "?"
    cpu = platform.processor() or "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kb / 1024 / 1024:.1f} GB"
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    try:
        dot = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.strip()
    except OSError:
        dot = "not found"
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()), "cpu": cpu, "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "torch": _version("torch"),
        "sphinx": _version("sphinx"), "onnx": _version("onnx"), "onnxscript": _version("onnxscript"),
        "graphviz": dot, "torchview": _version("torchview"), "torchviz": _version("torchviz"),
        "sphinx_netviz": _version("sphinx-netviz"), "commit": _commit(),
    }


def _commit() -> str:
    """The commit measured, and whether sphinx_netviz/ differed from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=ROOT, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sphinx_netviz"],
                               capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in sphinx_netviz/" if dirty else "")


# --------------------------------------------------------------------------- report

def s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def size(n: int | None) -> str:
    if n is None:
        return "—"
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{n / 1024:.0f} KB"


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def rss(mb: float | None) -> str:
    return "—" if mb is None else f"{mb:,.0f} MB"


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def cold_diagram(nv: dict[str, Any]) -> float:
    t = nv["timings"]
    return t.get("build", 0.0) + t.get("trace", 0.0) + t.get("layout", 0.0)


def peer_time(tv: dict[str, Any]) -> float:
    return tv["draw"] + tv["render"]


@dataclass
class Results:
    models: list[Model]
    repeat: int
    netviz: dict[str, dict[str, Any]]
    other: dict[str, dict[str, Any]]
    torchview: dict[str, dict[str, Any]]
    torchviz: dict[str, dict[str, Any]]
    floor: dict[str, Any] | None
    docs: dict[str, Any] | None
    machine: dict[str, str]
    elapsed: float


def _ok(result: dict[str, Any] | None) -> bool:
    return bool(result) and "error" not in result


def netviz_table(r: Results) -> str:
    rows = []
    for m in r.models:
        nv = r.netviz[m.key]
        name = f"{m.title} ({'×'.join(map(str, m.input_shape()))} {m.input_dtype()})"
        if not _ok(nv):
            rows.append([name] + [f"failed: {nv['error']}"] + [""] * 12)
            continue
        t = nv["timings"]
        rows.append([
            name, nv["device"], s(t.get("import")), s(t.get("build")), s(t.get("trace")),
            s(t.get("layout")), s(t.get("views")), f"{s(t.get('onnx'))} ({nv['onnx_mode']})",
            s(sum(t.values())),
            rss(nv["peak_rss_mb"]), str(nv["boxes"]), size(nv["svg_bytes"]),
            f"{size(nv['onnx_bytes'])} ({nv['onnx_mode']})",
        ])
    return table(["model (input)", "built on", "import torch", "build", "trace", "graph+layout",
                  "other depths (viewer)", "ONNX (mode)", "total", "peak RSS", "boxes", "SVG",
                  "ONNX file"], rows)


def other_onnx_table(r: Results) -> str:
    rows = []
    for m in r.models:
        if m.key not in r.other:
            reason = ("full: hundreds of MB of weights in the file" if m.key in ("vit", "gpt2")
                      else "full: impossible, 26 GB of weights" if m.key == "llama" else "—")
            rows.append([m.title, "not run", reason, "", ""])
            continue
        o = r.other[m.key]
        if not _ok(o):
            rows.append([m.title, m.other_onnx or "", f"failed: {o['error']}", "", ""])
            continue
        rows.append([m.title, o["onnx_mode"] or f"{m.other_onnx} (failed: {'; '.join(o['problems'])})",
                     s(o["timings"].get("onnx")), size(o["onnx_bytes"]), rss(o["peak_rss_mb"])])
    return table(["model", "ONNX mode", "export", "file", "peak RSS of that process"], rows)


def torchview_table(r: Results) -> str:
    rows = []
    for m in r.models:
        tv = r.torchview.get(m.key)
        if not _ok(tv):
            rows.append([m.title, f"failed: {tv['error'] if tv else 'not run'}"] + [""] * 6)
            continue
        render = f"> {RENDER_CAP:g} s (timed out)" if tv["timed_out"] else s(tv["render"])
        total = f"> {tv['draw'] + RENDER_CAP:.0f} s" if tv["timed_out"] else s(peer_time(tv))
        runs = f" ({tv.get('runs', 1)} run)" if tv.get("runs", 1) < r.repeat else ""
        rows.append([m.title + runs, s(tv["import"]), s(tv["build"]), s(tv["draw"]), render, total,
                     rss(tv["peak_rss_mb"]), str(tv["boxes"]) if tv["boxes"] is not None else "—"])
    return table(["model", "import torch", "build on meta (not counted)", "drawing (draw_graph)",
                  "render (dot)", "drawing + render", "peak RSS", "boxes"], rows)


def torchviz_table(r: Results) -> str:
    rows = []
    for m in r.models:
        if m.no_torchviz:
            rows.append([m.title, m.no_torchviz] + [""] * 6)
            continue
        tz = r.torchviz.get(m.key)
        if not _ok(tz):
            rows.append([m.title, f"failed: {tz['error'] if tz else 'not run'}"] + [""] * 6)
            continue
        render = f"> {RENDER_CAP:g} s (timed out)" if tz["timed_out"] else s(tz["render"])
        rows.append([m.title, s(tz["build"]), s(tz["forward"]), s(tz["make_dot"]), render,
                     s(tz["make_dot"] + tz["render"]), rss(tz["peak_rss_mb"]),
                     str(tz["boxes"]) if tz["boxes"] is not None else "—"])
    return table(["model", "build (real weights)", "forward", "make_dot", "render (dot)",
                  "make_dot + render", "peak RSS", "boxes"], rows)


def ratios(r: Results, with_build: bool = False) -> dict[str, float | None]:
    """netviz's cold diagram ÷ torchview's drawing + render (+ its model build if ``with_build``).

    Where torchview's render timed out the ratio is an upper bound (the cap is used).
    """
    out: dict[str, float | None] = {}
    for m in r.models:
        nv, tv = r.netviz.get(m.key), r.torchview.get(m.key)
        if _ok(nv) and _ok(tv):
            peer = tv["draw"] + (RENDER_CAP if tv["timed_out"] else tv["render"])
            out[m.key] = cold_diagram(nv) / (peer + (tv["build"] if with_build else 0.0))
        else:
            out[m.key] = None
    return out


def ratio_table(r: Results) -> str:
    rows = []
    plain, like = ratios(r), ratios(r, with_build=True)
    for m in r.models:
        nv, tv, q = r.netviz.get(m.key), r.torchview.get(m.key), plain[m.key]
        if q is None:
            rows.append([m.title, s(cold_diagram(nv)) if _ok(nv) else "—"] + ["—"] * 6)
            continue
        bound, more = ("< ", "> ") if tv["timed_out"] else ("", "")
        render = RENDER_CAP if tv["timed_out"] else tv["render"]
        rows.append([
            m.title, f"{s(cold_diagram(nv))} ({nv['device']})",
            f"{more}{s(tv['draw'] + render)}", f"{bound}{q:.2f}", "met" if q <= 0.5 else "**missed**",
            "build" if tv.get("warmup_in_build") else "drawing",
            f"{more}{s(tv['build'] + tv['draw'] + render)}", f"{bound}{like[m.key]:.2f}",
        ])
    return table(["model", "netviz: build + trace + graph/layout (built on)",
                  "torchview: drawing + render", "ratio", "target ≤ 0.5",
                  "torchview's meta warm-up fell in its", "torchview: build + drawing + render",
                  "ratio, both including the build"], rows)


def layout_table(r: Results) -> str:
    rows = []
    for m in r.models:
        nv = r.netviz.get(m.key)
        if not _ok(nv):
            rows.append([m.title, "—", "—", "—", "—"])
            continue
        layout = nv["timings"].get("layout", 0.0)
        rows.append([m.title, str(nv["depth"]), s(layout), s(nv["dot_alone"]),
                     "met" if layout < 1.0 else "**missed**"])
    return table(["model", "depth drawn", "graph + DOT + dot (netviz timing)", "dot alone, same DOT",
                  "target < 1 s"], rows)


def per_diagram(d: dict[str, Any]) -> str:
    ms = d["per_diagram"] * 1000
    return f"{ms:+.0f} ms" + (" (below the run-to-run noise: none measurable)" if ms < 0 else "")


def docs_table(r: Results) -> str:
    d = r.docs
    assert d is not None
    return table(["what", "measured"], [
        [f"cold `sphinx-build -b html`, {plural(d['diagrams'], 'diagram')} (no `-j`)",
         s(d["cold"]) + ("" if d["cold_rc"] == 0 else f" (exit code {d['cold_rc']})")],
        ["peak RSS of that whole build (`/usr/bin/time -v`)", rss(d["cold_peak_rss_mb"])],
        ["warnings in the cold build", str(len(d["cold_warnings"]))],
        [f"no-change rebuild (median of {d['rebuild_runs']})", s(d["rebuild"], 3)],
        ["same project without directives: cold / no-change rebuild",
         f"{s(d['empty_cold'])} / {s(d['empty_rebuild'], 3)}"],
        ["added per diagram on a no-change rebuild", per_diagram(d)],
        ["torch imported during the no-change rebuild", "yes" if d["rebuild_torch"] else "no"],
    ])


def targets(r: Results) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each target of the issue that this run measured."""
    out: list[tuple[str, str, bool | None]] = []
    qs = {k: v for k, v in ratios(r).items() if v is not None}
    if qs:
        out.append(("one cold diagram ≤ ½ of torchview's time, every model",
                     ", ".join(f"{MODELS[k].title} {v:.2f}" for k, v in qs.items()),
                     all(v <= 0.5 for v in qs.values()) and len(qs) == len(r.models)))
    llama = r.netviz.get("llama")
    if _ok(llama):
        diagram = cold_diagram(llama)
        out.append(("LLaMA-7B: diagram < 5 s after import torch", s(diagram), diagram < 5.0))
        if llama["onnx_mode"] == "structure":
            onnx = llama["timings"].get("onnx", 0.0)
            out.append(("LLaMA-7B: structure ONNX < 20 s", s(onnx), onnx < 20.0))
    if r.docs:
        d = r.docs
        if d["cold_peak_rss_mb"] is not None:
            out.append((f"peak RSS of the whole build < 1.5 GB ({plural(d['diagrams'], 'diagram')})",
                        rss(d["cold_peak_rss_mb"]), d["cold_peak_rss_mb"] < 1.5 * 1024))
        out.append(("no-change rebuild: < 50 ms added per diagram", per_diagram(d),
                    d["per_diagram"] < 0.05))
        out.append(("no-change rebuild: torch not imported",
                    "imported" if d["rebuild_torch"] else "not imported", not d["rebuild_torch"]))
    layouts = {m.key: r.netviz[m.key]["timings"].get("layout", 0.0)
               for m in r.models if _ok(r.netviz.get(m.key))}
    if layouts:
        out.append(("layout < 1 s, every model (default depth)",
                    f"max {max(layouts.values()):.2f} s ({MODELS[max(layouts, key=layouts.get)].title})",
                    all(v < 1.0 for v in layouts.values())))
    return out


def reading(r: Results) -> str:
    """One paragraph that says what the numbers mean, generated from them."""
    ts = targets(r)
    met = [t for t, _, ok in ts if ok]
    missed = [f"{t} ({m})" for t, m, ok in ts if ok is False]
    parts = []
    if ts:
        parts.append(f"Of the {len(ts)} targets this run measured, {len(met)} "
                     f"{'was' if len(met) == 1 else 'were'} met"
                     + (f" and {len(missed)} missed: {'; '.join(missed)}." if missed else "."))
    qs = {k: v for k, v in ratios(r).items() if v is not None}
    like = ratios(r, with_build=True)
    if qs:
        good = [MODELS[k].title for k, v in qs.items() if v <= 0.5]
        bad = [k for k, v in qs.items() if v > 0.5]
        sentence = "Against torchview (same model and input, depth 2, drawing + `dot`), "
        if good:
            sentence += f"a cold netviz diagram takes at most half the time for {', '.join(good)}"
        if bad:
            sentence += (("; " if good else "") + "it does not for "
                         + ", ".join(f"{MODELS[k].title} ({qs[k]:.2f})" for k in bad))
        parts.append(sentence + ".")
        in_build = [k for k in bad if r.torchview[k].get("warmup_in_build")]
        if in_build:
            parts.append(
                "For " + ", ".join(MODELS[k].title for k in in_build) + " that ratio is lopsided: "
                "building the model under `torch.device(\"meta\")` runs its weight initialisers "
                "on meta tensors, so torchview's one-off meta warm-up falls in its model build, "
                "which the ratio leaves out, while netviz's falls in its build, which the ratio "
                "counts; with the build on both sides the ratios are "
                + ", ".join(f"{MODELS[k].title} {like[k]:.2f}" for k in in_build) + "."
            )
        meta_bad = [k for k in bad if r.netviz[k]["device"] == "meta"]
        if meta_bad and _ok(r.floor):
            f = r.floor
            parts.append(
                "netviz builds and traces the models too big to build for real on the meta device, "
                f"and the first meta operation in a fresh process took {f['first_meta_op']:.2f} s here "
                f"(it imports torch._dynamo: {'yes' if f['dynamo_after'] and not f['dynamo_before'] else 'no'}; "
                f"the second took {f['second_meta_op'] * 1000:.1f} ms). That is the measured floor: "
                "any meta tracer pays it once per process (torchview too), so a meta-traced cold "
                "diagram cannot cost less than it and cannot be half of a peer's time that is "
                "itself little more than the floor; netviz skips it only where it builds the model "
                "for real on the CPU (weights ≤ 128 MB, `netviz_meta_above_mb`: the seed CNN and ResNet-50 here). In a docs build it is "
                "paid once, by the first meta-traced diagram."
            )
    if r.docs:
        d = r.docs
        parts.append(
            f"A cold docs build of {plural(d['diagrams'], 'diagram')} took {d['cold']:.1f} s (mostly "
            "`import torch` and ONNX export) with a peak RSS of "
            f"{rss(d['cold_peak_rss_mb'])}; a no-change rebuild took {d['rebuild']:.2f} s, "
            f"{per_diagram(d)} per diagram over the same project without directives, "
            f"and {'imported' if d['rebuild_torch'] else 'did not import'} torch."
        )
    parts.append(
        "These are single-machine numbers from fresh processes"
        + (f" (medians of {r.repeat} runs for netviz and torchview)" if r.repeat > 1 else "")
        + "; expect ±20 % between runs, most of it in `import torch` and the meta warm-up."
    )
    return " ".join(parts)


def report(r: Results, command: str) -> str:
    mc = r.machine
    out = [
        "# Benchmarks",
        "",
        "<!-- Written by benchmarks/run.py; do not edit by hand: re-run the script. -->",
        "",
        f"- **Date:** {mc['date']}",
        f"- **Machine:** {mc['nproc']} CPUs ({mc['cpu']}), {mc['ram']} RAM, {mc['os']}",
        f"- **Software:** Python {mc['python']}, torch {mc['torch']}, {mc['graphviz']}, "
        f"Sphinx {mc['sphinx']}, onnx {mc['onnx']}, onnxscript {mc['onnxscript']}, "
        f"sphinx-netviz {mc['sphinx_netviz']} (commit {mc['commit']}); peers: torchview {mc['torchview']}, "
        f"torchviz {mc['torchviz']}",
        f"- **Reproduce:** `{command}` (after `pip install -c constraints/dev.txt -r "
        "benchmarks/requirements.txt`); this run took "
        f"{r.elapsed / 60:.1f} min",
        "",
        reading(r),
        "",
        "Every number comes from a fresh Python process (cold, like the first diagram of a docs "
        "build); peak RSS is that process's `ru_maxrss`. netviz runs `make_artifacts` with the "
        "directive's defaults (depth 2, `onnx=\"auto\"`, `device=\"auto\"`, one torch thread): "
        "models with at most 128 MB of weights (`netviz_meta_above_mb`) are built with real weights on the CPU, bigger ones "
        "on the `meta` device. Box counts are the `<g class=\"node\">` elements in the SVG.",
        "",
    ]
    if r.models:
        out += ["## Targets", "",
                table(["target", "measured", "met?"],
                      [[t, m, "met" if ok else "**missed**"] for t, m, ok in targets(r)]), ""]
    many = f"Medians of {r.repeat} fresh processes per model. " if r.repeat > 1 else ""
    out += ["## sphinx-netviz, one cold diagram per process", "", netviz_table(r), "", many +
            "*graph+layout* is building the diagram, writing DOT and running Graphviz `dot`; "
            "*other depths (viewer)* lays out the other depths the page's expand/collapse controls "
            "switch between (not part of the comparison with torchview, which draws one depth); "
            "*import torch* is not part of a diagram's cost once a build has imported torch.", "",
            "### ONNX in the other mode", "", other_onnx_table(r), ""]
    if r.torchview:
        out += ["## torchview", "",
                "`draw_graph(model, input_size=…, device=\"meta\", depth=2)` (int64 inputs: "
                "`input_data=torch.zeros(shape, dtype=torch.long, device=\"meta\")`) on a model built "
                "under `torch.device(\"meta\")`, then `dot -Kdot -Tsvg` on `visual_graph.source` — the "
                f"command `visual_graph.pipe(format=\"svg\")` runs — capped at {RENDER_CAP:g} s.", "",
                torchview_table(r), "",
                "## torchviz", "",
                "`make_dot(model(x), params=dict(model.named_parameters()))` with real, seeded CPU "
                f"weights, then `dot -Kdot -Tsvg` (capped at {RENDER_CAP:g} s).", "",
                torchviz_table(r), "",
                "## One cold diagram: netviz ÷ torchview", "", ratio_table(r), "",
                "netviz's side includes importing and building the model; torchview's side does not "
                "(its build is listed separately above). Neither includes `import torch` or ONNX.", ""]
        if _ok(r.floor):
            f = r.floor
            out += [f"Measured floor: in a fresh process, after `import torch` ({f['import']:.2f} s), "
                    f"the first operation on the `meta` device took {f['first_meta_op']:.2f} s and the "
                    f"second {f['second_meta_op'] * 1000:.1f} ms; `torch._dynamo` was "
                    f"{'imported by it' if f['dynamo_after'] and not f['dynamo_before'] else 'not imported by it'}.",
                    ""]
    out += ["## Graphviz layout at the default depth", "", layout_table(r), ""]
    if r.docs:
        out += ["## Docs build", "",
                f"A temporary project (one page per model, one `netviz` directive each, depth 2, "
                "default ONNX) built with `python -c \"...; from sphinx.cmd.build import main; ...\" "
                "-b html src out` in a fresh process, then rebuilt with nothing changed; the "
                "comparison project has the same pages without the directives.", "",
                docs_table(r), ""]
        if r.docs["cold_warnings"]:
            out += ["Warnings of the cold build:", "", "```text",
                    *r.docs["cold_warnings"], "```", ""]
    problems = [f"{MODELS[k].title}: {p}" for k, nv in r.netviz.items() if _ok(nv)
                for p in nv.get("problems", [])]
    if problems:
        out += ["## Problems netviz reported", "", *[f"- {p}" for p in problems], ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated subset of {', '.join(MODELS)}")
    parser.add_argument("--no-peers", action="store_true", help="skip torchview and torchviz")
    parser.add_argument("--no-docs", action="store_true", help="skip the docs build")
    parser.add_argument("--output", default=str(DOCS / "benchmarks.md"),
                        help="Markdown file to write (default: docs/benchmarks.md)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh runs of netviz and torchview per model; medians are reported")
    parser.add_argument("--rebuilds", type=int, default=5, help="no-change rebuilds to take the median of")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--onnx", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker, args.model, args.onnx)
        return 0

    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    if shutil.which("dot") is None:
        parser.error("Graphviz `dot` is not on PATH")
    if not args.no_peers and "not installed" in (_version("torchview"), _version("torchviz")):
        parser.error("torchview/torchviz missing: pip install -c constraints/dev.txt "
                     "-r benchmarks/requirements.txt (or pass --no-peers)")
    models = [MODELS[k] for k in keys]
    started = time.perf_counter()

    netviz, other, torchview, torchviz = {}, {}, {}, {}
    for m in models:
        print(f"{m.title}:", file=sys.stderr, flush=True)
        netviz[m.key] = run_repeated(args.repeat, "netviz", m.key, "auto")
        if m.other_onnx:
            other[m.key] = run_worker("netviz", m.key, m.other_onnx)
        if not args.no_peers:
            torchview[m.key] = run_repeated(args.repeat, "torchview", m.key,
                                            timeout=RENDER_CAP + 300)
            if not m.no_torchviz:
                torchviz[m.key] = run_worker("torchviz", m.key, timeout=RENDER_CAP + 300)
    floor = run_worker("floor") if not args.no_peers else None
    docs = None if args.no_docs else run_docs(models, args.rebuilds)

    results = Results(models, args.repeat, netviz, other, torchview, torchviz, floor, docs,
                      machine(), time.perf_counter() - started)
    command = "python benchmarks/run.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])
                                            if (argv if argv is not None else sys.argv[1:]) else "")
    text = report(results, command)
    print(text)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
