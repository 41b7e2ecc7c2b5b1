#!/usr/bin/env python
"""Draw every model of the zoo (``docs/example_models/zoo.py``) with sphinx-netviz and with torchview; time both.

    python benchmarks/zoo.py                        # every model: about 15-20 minutes on 2 cores
    python benchmarks/zoo.py --models llama,swin --output /tmp/zoo.md
    python benchmarks/zoo.py --timeout 60           # seconds each tool may take per model

Each measurement is a fresh Python process (``zoo.py --worker KIND NAME``), so imports and
warm-up count alike for every model and tool, and a crash or a hang costs one cell of the
table, not the run.  A worker that passes ``--timeout`` is killed with its process group
(Graphviz included); the stages it finished are still reported.

* ``netviz``: ``make_artifacts`` with the directive's defaults (``:device: auto``,
  ``:onnx: auto``, depth 2 unless the entry says otherwise, one torch thread as in a docs
  build's worker): the diagram, the viewer's other depths and the ONNX file.
* ``diagram``: the same with ``onnx="none"``.
* ``torchview``: the model built under ``torch.device("meta")`` (in the entry's
  ``:dtype:``), ``draw_graph(model, input_data=<the same inputs>, device="meta", depth=3,
  expand_nested=True)`` (torchview's default depth; nested modules drawn as dashed
  clusters, like netviz's), then ``graph.visual_graph.pipe(format="svg")``.

Seconds are counted inside the worker from its first line, so they include importing torch,
the model's library and the tool; the Python start-up (~0.05 s) is left out.  The parent
never imports torch.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from statistics import median
from typing import Any

START = time.perf_counter()  # a worker's clock starts here, before torch is imported

ROOT = Path(__file__).resolve().parent.parent
STAGE = "ZOO-STAGE "
RESULT = "ZOO-RESULT "
KINDS = ("netviz", "diagram", "torchview")
TORCHVIEW_DEPTH = 3


# -- workers (each in a fresh process) ------------------------------------------------------

def _stage(name: str, **more: Any) -> None:
    """Tell the parent a stage is done (if the worker is killed later, the stages done are kept)."""
    print(STAGE + json.dumps({"stage": name, "at": time.perf_counter() - START, **more}), flush=True)


def _first_line(exc: BaseException) -> str:
    """``Type: first line`` of the exception, and of its innermost cause if it has one."""
    def line(e: BaseException) -> str:
        text = str(e).strip().splitlines()
        return f"{type(e).__name__}: {text[0] if text else ''}".strip().rstrip(":")[:240]

    cause, seen = exc, {id(exc)}
    while cause.__cause__ is not None and id(cause.__cause__) not in seen:
        cause = cause.__cause__
        seen.add(id(cause))
    text = line(exc) if cause is exc else f"{line(exc)} ← {line(cause)}"
    frames = traceback.extract_tb(cause.__traceback__)
    if frames:  # where it was raised: a bare "KeyError: '1403…'" says little
        last = frames[-1]
        text += f" (at {'/'.join(Path(last.filename).parts[-2:])}:{last.lineno} in {last.name})"
    return text


def worker_netviz(name: str, onnx: str) -> dict[str, Any]:
    sys.path[:0] = [str(ROOT), str(ROOT / "docs")]
    from sphinx_netviz.pipeline import PipelineSettings, make_artifacts
    from sphinx_netviz.spec import DiagramSpec
    from example_models.zoo import BY_NAME

    entry = BY_NAME[name]
    _stage("import")
    spec = DiagramSpec(**entry.spec_kwargs(), onnx=onnx)
    start = time.perf_counter()
    made = make_artifacts(spec, PipelineSettings(), torch_threads=1)
    return {"seconds": time.perf_counter() - START, "make_artifacts": time.perf_counter() - start,
            "onnx_mode": made.onnx_mode, "onnx_bytes": len(made.onnx or b""), "device": made.device,
            "depth": made.depth, "boxes": made.node_count, "svg_bytes": len(made.svg),
            "timings": made.timings, "problems": [p.message for p in made.problems], "notes": made.notes}


def worker_torchview(name: str) -> dict[str, Any]:
    import torch

    sys.path[:0] = [str(ROOT), str(ROOT / "docs")]
    from torchview import draw_graph

    from example_models.zoo import BY_NAME

    entry = BY_NAME[name]
    _stage("import")
    start = time.perf_counter()
    torch.manual_seed(0)
    with torch.device("meta"):
        model = entry.build()
    args, kwargs = entry.example_inputs()
    build = time.perf_counter() - start
    _stage("build", build=build)
    start = time.perf_counter()
    graph = draw_graph(model, input_data=kwargs if kwargs else list(args), device="meta",
                       depth=TORCHVIEW_DEPTH, expand_nested=True)
    draw = time.perf_counter() - start
    _stage("draw", build=build, draw=draw)
    start = time.perf_counter()
    svg = graph.visual_graph.pipe(format="svg")
    render = time.perf_counter() - start
    return {"seconds": time.perf_counter() - START, "build": build, "draw": draw, "render": render,
            "boxes": svg.count(b'class="node"'), "svg_bytes": len(svg)}


def worker_main(kind: str, name: str) -> None:
    try:
        if kind == "torchview":
            result = worker_torchview(name)
        else:
            result = worker_netviz(name, "auto" if kind == "netviz" else "none")
        result["drawn"] = True
    except BaseException as exc:  # noqa: BLE001 - any failure is a result
        result = {"drawn": False, "error": _first_line(exc), "seconds": time.perf_counter() - START}
    print(RESULT + json.dumps(result), flush=True)


# -- the parent -----------------------------------------------------------------------------

def run_worker(kind: str, name: str, timeout: float) -> dict[str, Any]:
    """One worker in a fresh process (its own process group); its result, even if it was killed."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(ROOT / "docs"), env.get("PYTHONPATH", ""))
                                        if p)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, name]
    print(f"  … {kind} {name}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        killed = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its Graphviz
        out, err = proc.communicate()
        killed = True
    wall = time.perf_counter() - started
    stages = [json.loads(line[len(STAGE):]) for line in out.splitlines() if line.startswith(STAGE)]
    results = [json.loads(line[len(RESULT):]) for line in out.splitlines() if line.startswith(RESULT)]
    if results:
        result = results[-1]
    else:
        done = stages[-1] if stages else {"stage": "start"}
        why = (f"timed out after {timeout:g} s (done: {done['stage']})" if killed else
               f"crashed, exit code {proc.returncode} (done: {done['stage']}): "
               + ((err.strip().splitlines() or [""])[-1])[:200])
        result = {"drawn": False, "error": why, "seconds": None, "timed_out": killed,
                  **{k: v for k, v in done.items() if k in ("build", "draw")}}
    result["wall"] = wall
    return result


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def _code_digest() -> str:
    """A digest of sphinx_netviz/'s sources: did the measured code change during the run?"""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "sphinx_netviz").rglob("*.py")):
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _entries() -> list[Any]:
    sys.path.insert(0, str(ROOT))
    # the table only: importing the zoo imports torch, so read it in a subprocess
    code = ("import json; from example_models.zoo import ZOO; print(json.dumps([[e.name, e.family, e.config, "
            "e.directive()] for e in ZOO]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "docs")])))
    return json.loads(done.stdout.strip().splitlines()[-1])


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _cell(result: dict[str, Any], extra: str = "") -> tuple[str, str]:
    """(drawn cell, seconds cell) of one result."""
    if result.get("drawn"):
        return "yes" + extra, _s(result["seconds"])
    return "**no**", _s(result.get("seconds"))


def report(rows: list[tuple[list[str], dict[str, dict[str, Any]]]], argv: list[str], head: str,
           dirty: str, started: str, elapsed: float, load: float) -> str:
    lines = [
        "# The zoo: sphinx-netviz and torchview on real `transformers` / `diffusers` architectures", "",
        f"* date: {started}; {elapsed / 60:.1f} minutes",
        f"* command: `{' '.join(['python', 'benchmarks/zoo.py', *argv])}`",
        f"* code: sphinx-netviz at {head} (uncommitted changes in sphinx_netviz/: {dirty or 'none'})",
        f"* versions: torch {_version('torch')}, transformers {_version('transformers')}, diffusers "
        f"{_version('diffusers')}, onnx {_version('onnx')}, onnxscript {_version('onnxscript')}, "
        f"torchview {_version('torchview')}; Graphviz `{_dot_version()}`; Python {sys.version.split()[0]}",
        f"* machine: nproc {os.cpu_count()}, load average at the start {load:.2f} and the end "
        f"{os.getloadavg()[0]:.2f} "
        "(shared with other work: differences under ~20 % are noise)", "",
        "Each cell is a fresh process; seconds from the worker's first line (importing torch, the "
        "model's library and the tool included). **netviz**: `make_artifacts` with the directive's "
        "defaults (diagram, viewer depths, ONNX: kind `full`, `structure` or `graph`); **diagram "
        "only**: the same with `onnx=\"none\"`; **torchview**: model built on meta, "
        f"`draw_graph(..., device=\"meta\", depth={TORCHVIEW_DEPTH}, expand_nested=True)` + "
        "`visual_graph.pipe(format=\"svg\")`. The models and inputs are `docs/example_models/zoo.py`'s `ZOO`.", "",
        "| model | family | netviz: drawn | ONNX | s | diagram only: drawn | s | torchview: drawn | s "
        "(build + draw + render) |",
        "|---|---|---|---|---:|---|---:|---|---:|",
    ]
    for (name, family, _config, _directive), r in rows:
        nv, dg, tv = r["netviz"], r["diagram"], r["torchview"]
        nv_drawn, nv_s = _cell(nv)
        dg_drawn, dg_s = _cell(dg)
        tv_drawn, tv_s = _cell(tv)
        if tv.get("drawn"):
            tv_s += f" ({tv['build']:.1f} + {tv['draw']:.1f} + {tv['render']:.1f})"
        kind = nv.get("onnx_mode") or ("none" if nv.get("drawn") else "–")
        lines.append(f"| {name} | {family} | {nv_drawn} | {kind} | {nv_s} | {dg_drawn} | {dg_s} | "
                     f"{tv_drawn} | {tv_s} |")

    def summary(kind: str) -> tuple[str, str]:
        drawn = [r[kind] for _, r in rows if r[kind].get("drawn")]
        secs = [r["seconds"] for r in drawn]
        return f"{len(drawn)} of {len(rows)}", _s(median(secs)) if secs else "–"

    (nv_n, nv_m), (dg_n, dg_m), (tv_n, tv_m) = (summary(k) for k in KINDS)
    lines += [f"| **models drawn; median s per drawn model** | | **{nv_n}** | | **{nv_m}** | **{dg_n}** | "
              f"**{dg_m}** | **{tv_n}** | **{tv_m}** |"]
    both = [r for _, r in rows if all(r[k].get("drawn") for k in KINDS)]
    if both:
        nv_b, dg_b, tv_b = (_s(median(r[k]["seconds"] for r in both)) for k in KINDS)
        lines.append(f"| *median s over the {len(both)} models all three drew* | | | | *{nv_b}* | | *{dg_b}* | | "
                     f"*{tv_b}* |")
    lines.append("")

    failures = [(name, kind, r[kind]["error"]) for (name, *_), r in rows for kind in KINDS
                if not r[kind].get("drawn")]
    lines += ["## Failures", ""]
    lines += [f"* {name}, {kind}: `{error}`" for name, kind, error in failures] or ["None."]
    lesser = [(name, r["netviz"]) for (name, *_), r in rows
              if r["netviz"].get("drawn") and r["netviz"].get("onnx_mode") != "structure"]
    notes = [f"* {name}: {kind['onnx_mode']}: " + "; ".join(n for n in kind["notes"] + kind["problems"]
                                                         if "ONNX" in n or "onnx" in n) for name, kind in lesser]
    if notes:
        lines += ["", "ONNX files other than `structure` (with `:onnx: auto`, `full` is for weights up to "
                  "25 MB traced on the CPU):", "", *notes]
    lines += ["", "## netviz stages (s, the ONNX run; `make_artifacts` only)", "",
              "| model | traced on | build | trace | layout + views | onnx | make_artifacts |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for (name, *_), r in rows:
        nv = r["netviz"]
        if nv.get("drawn"):
            t = nv["timings"]
            lines.append(f"| {name} | {nv['device']} | {_s(t.get('build'))} | {_s(t.get('trace'))} | "
                         f"{_s(t.get('layout', 0) + t.get('views', 0))} | {_s(t.get('onnx'))} | "
                         f"{_s(nv['make_artifacts'])} |")
    lines += ["", "## Configs", "",
              "Library defaults unless listed; where the default took more than ~10 s to draw here, "
              "fewer repeated layers (every width, head count and vocabulary kept).", "",
              "| model | config | directive |", "|---|---|---|"]
    for name, _family, config, directive in (row for row, _ in rows):
        options = " ".join(line.strip() for line in directive.splitlines()[1:])
        lines.append(f"| {name} | {config} | `{options}` |")
    return "\n".join(lines) + "\n"


def _dot_version() -> str:
    done = subprocess.run(["dot", "-V"], capture_output=True, text=True)
    return (done.stderr or done.stdout).strip()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", help="comma-separated zoo names (default: all)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per model and tool")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "zoo-results.md")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(*args.worker)
        return 0
    started, load = f"{_dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", os.getloadavg()[0]
    clock = time.perf_counter()
    head, dirty = _git("rev-parse", "--short", "HEAD"), _git("status", "--porcelain", "sphinx_netviz")
    code = _code_digest()
    entries = _entries()
    if args.models:
        wanted = args.models.split(",")
        unknown = set(wanted) - {e[0] for e in entries}
        if unknown:
            parser.error(f"not in the zoo: {', '.join(sorted(unknown))}")
        entries = [e for e in entries if e[0] in wanted]
    kinds = args.kinds.split(",")
    skipped = {"drawn": False, "error": "not run", "seconds": None}
    rows = []
    for entry in entries:
        rows.append((entry, {kind: run_worker(kind, entry[0], args.timeout) if kind in kinds else skipped
                             for kind in KINDS}))
    dirty_after = _git("status", "--porcelain", "sphinx_netviz")
    changed = ", ".join(dict.fromkeys(line.split(maxsplit=1)[-1] for line in [*dirty.splitlines(),
                                                                              *dirty_after.splitlines()]))
    text = report(rows, argv, head, changed, started, time.perf_counter() - clock, load)
    head_after = _git("rev-parse", "--short", "HEAD")
    if _code_digest() != code:
        text += (f"\n**sphinx_netviz/ changed during the run** (a shared working tree; HEAD {head} → "
                 f"{head_after}): later rows may have measured other code.\n")
    elif head_after != head:
        text += f"\nHEAD moved from {head} to {head_after} during the run, with no change to sphinx_netviz/.\n"
    print(text)
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
