#!/usr/bin/env python
"""What drawing each diagram in a child process costs: the last in-process release against now.

    python benchmarks/isolation.py                  # about 4 minutes on 2 idle cores
    python benchmarks/isolation.py --repeat 3       # about 9
    python benchmarks/isolation.py --parts builds --only "-j auto"   # some builds only
    python benchmarks/report.py                     # then render docs/benchmarks.md from the JSON

Saves ``benchmarks/results/isolation/<time>-<commit>.json``.

``builds``: cold ``sphinx-build -b html docs OUT`` (fresh OUT), serial and ``-j auto``, of
ca00b4e (the last release that drew in the Sphinx process: a ``git worktree`` on
``PYTHONPATH``) and of this checkout (also ``-D netviz_onnx=none`` and ``-D netviz_jobs=1``),
kinds interleaved round by round, each in a wrapper that reports Sphinx's ``RUSAGE_SELF`` and
``RUSAGE_CHILDREN`` peaks and which code imported torch; the diagrams and error boxes in the
HTML; the peak of the build's process tree (sum of PSS, sampled).

``overhead``: in a fresh process, ``DiagramRunner`` jobs of ``nn.Linear(4, 4)`` (submit ->
outcome -> cache lookup) against ``make_artifacts`` + ``DiagramCache.store`` in a warm process;
the server's start-up; and whether ``RUSAGE_CHILDREN`` covers the server's forked children (one
more job imports a module that touches ``BIG_BYTES``).  This process never imports torch.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))  # this checkout's benchmarks and sphinx_netviz, before any installed one

from benchmarks import common  # noqa: E402
from benchmarks.common import fmt_bytes, med, table  # noqa: E402

BENCHMARK = "isolation"
TITLE = "Isolation: diagrams drawn in child processes, against the last in-process release"
BEFORE = "ca00b4e"
BIG_BYTES = 768 << 20

WRAPPER = r"""
import json, re, resource, sys
origins = []
class Spy:  # notes which code (sphinx_netviz or Sphinx) imports torch modules
    @staticmethod
    def find_spec(name, path=None, target=None):
        f = sys._getframe(1) if name.split(".")[0] == "torch" else None
        while f and re.search("importlib|^<", f.f_code.co_filename):
            f = f.f_back
        if f and "/torch/" not in f.f_code.co_filename:
            while f.f_back and not re.search("sphinx_netviz/|/sphinx/", f.f_code.co_filename):
                f = f.f_back
            where = re.search("sphinx_netviz/.*|sphinx/.*|[^/]*$", f.f_code.co_filename).group(0)
            origins.extend([where] if where not in origins else [])
sys.meta_path.insert(0, Spy)
from sphinx.cmd.build import main
rc = main(sys.argv[1:])
import sphinx_netviz
use = lambda who: resource.getrusage(who).ru_maxrss * 1024
print("%s" + json.dumps({"ok": rc == 0, "rc": rc, "sphinx_max_rss_bytes": use(resource.RUSAGE_SELF),
      "children_max_rss_bytes": use(resource.RUSAGE_CHILDREN), "torch_imported": "torch" in sys.modules,
      "torch_origins": origins, "netviz_file": sphinx_netviz.__file__}), flush=True)
sys.exit(rc)
""" % common.RESULT
TINY = ("import torch.nn as nn\n\nclass Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n")
BIG = f"_BLOB = b'x' * {BIG_BYTES}  # touched by the child that imports it\nfrom tiny_model import Tiny\n"



#: (code, label, extra sphinx-build arguments)
BUILDS = [("before", "serial", []), ("after", "serial", []),
          ("before", "-j auto", ["-j", "auto"]), ("after", "-j auto", ["-j", "auto"]),
          ("after", "serial, -D netviz_onnx=none", ["-D", "netviz_onnx=none"]),
          ("after", "serial, -D netviz_jobs=1", ["-D", "netviz_jobs=1"])]


def run_build(args: list[str], tree: Path, before: bool, label: str) -> dict[str, Any]:
    """One cold build of ``tree``'s docs into a fresh folder."""
    env = common.worker_env()
    if before:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "docs")])
    print(f"  … {label}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="isolation-") as out:
        done = common.run_process([sys.executable, "-c", WRAPPER, "-b", "html", "-q", str(tree / "docs"), out, *args],
                                  1800.0, cwd=tree, env=env, sample_memory=True)
        pages = [page.read_text(errors="replace") for page in Path(out).rglob("*.html")]
    result = common.parse_worker(done, 1800.0)
    result["seconds"] = done.wall_s
    result["diagrams"] = sum(p.count('class="netviz-canvas"') for p in pages)
    result["error_boxes"] = sum(p.count("netviz-error") for p in pages)
    result["warnings"] = [line for line in done.stderr.splitlines() if "WARNING" in line]
    if before and result.get("netviz_file") and not result["netviz_file"].startswith(str(tree)):
        raise SystemExit(f"the before build imported {result['netviz_file']}, not {tree}")
    return result


def builds(repeat: int, only: str | None) -> list[dict[str, Any]]:
    chosen = [{"code": c, "label": lab, "args": a, "runs": []} for c, lab, a in BUILDS
              if not only or only in f"{c} {lab}"]
    tree = Path(tempfile.mkdtemp(prefix="netviz-before-")) / "tree"
    try:
        if any(b["code"] == "before" for b in chosen):
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), BEFORE], cwd=ROOT, check=True,
                           capture_output=True)
        for round_ in range(repeat):  # kinds interleaved, so a busy minute does not hit one kind only
            for b in chosen:
                before = b["code"] == "before"
                b["runs"].append(run_build(b["args"], tree if before else ROOT, before,
                                           f"{b['code']} {b['label']}, round {round_ + 1}"))
    finally:
        if tree.exists():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        shutil.rmtree(tree.parent, ignore_errors=True)
    return chosen


def overhead_worker(n: int) -> dict[str, Any]:
    """(In a subprocess of its own.) The runner's cost per trivial diagram, then the in-process cost."""
    import resource

    folder = Path(tempfile.mkdtemp(prefix="isolation-overhead-"))
    for name, text in (("tiny_model.py", TINY), ("big_model.py", BIG)):
        (folder / name).write_text(text)
    sys.path.insert(0, str(folder))
    os.chdir(folder)
    from sphinx_netviz.cache import DiagramCache
    from sphinx_netviz.jobs import Drawing, Job
    from sphinx_netviz.limits import Limits
    from sphinx_netviz.pipeline import PipelineSettings, spec_key
    from sphinx_netviz.runner import DiagramRunner
    from sphinx_netviz.spec import DiagramSpec

    out: dict[str, Any] = {"startup_ms": []}
    for _ in range(3):  # the server alone: import torch, meta warm-up, until it says "ready"
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "sphinx_netviz.worker", "serve"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out["ready"] = server.stdout.readline().strip()  # type: ignore[union-attr]
        out["startup_ms"].append(1000 * (time.perf_counter() - started))
        server.communicate()  # EOF on its stdin ends it
    settings = PipelineSettings()
    runner = DiagramRunner(folder / "jobs", jobs=1)

    def one(target: str, i: int) -> tuple[float, float]:
        spec = DiagramSpec(target, ((1, 4),), onnx="none", depth=1)
        key, cache_root = spec_key(spec, settings), folder / f"cache-{target[:3]}-{i}"  # a fresh cache each
        job = Job((Drawing(key, spec),), spec_key(spec.export_view(), settings), settings, Limits(timeout=60),
                  str(cache_root), tuple(sys.path), str(folder))
        t0 = time.perf_counter()
        runner.submit(job)
        [outcome] = runner.wait()
        if outcome.result.failures or DiagramCache(cache_root).lookup(key) is None:
            raise SystemExit(f"job failed: {outcome.result}")
        return 1000 * (time.perf_counter() - t0), 1000 * sum(outcome.result.timings.values())

    out["first_job_ms"] = one("tiny_model:Tiny", -1)[0]  # the server's start included
    timed, inner = zip(*(one("tiny_model:Tiny", i) for i in range(n)))
    out["runner_ms"], out["child_pipeline_ms"] = list(timed), list(inner)
    out["children_max_rss_bytes_open"] = common.maxrss_bytes(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    one("big_model:Tiny", 0)
    runner.close()  # the server reaps its children, then is reaped here
    out["children_max_rss_bytes_closed"] = common.maxrss_bytes(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    out["torch_in_driver"] = "torch" in sys.modules
    from sphinx_netviz.pipeline import make_artifacts  # torch comes in here: in-process from now on

    spec = DiagramSpec("tiny_model:Tiny", ((1, 4),), onnx="none", depth=1)
    out["in_process_ms"] = []
    for i in range(-2, n):  # two warm-up runs first
        t0, made = time.perf_counter(), make_artifacts(spec, settings, torch_threads=1)
        DiagramCache(folder / f"inproc-{i}").store(spec_key(spec, settings), made)
        out["in_process_ms"] += [1000 * (time.perf_counter() - t0)] if i >= 0 else []
    shutil.rmtree(folder, ignore_errors=True)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="cold builds of each kind (the report takes medians)")
    parser.add_argument("--jobs-n", type=int, default=20, help="sequential trivial jobs to time")
    parser.add_argument("--parts", default="overhead,builds", help="comma-separated: overhead, builds")
    parser.add_argument("--only", help="run only the builds whose 'code label' contains this")
    common.add_common_arguments(parser)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return common.worker(overhead_worker, int(args.worker[1]))
    run = common.start_run(BENCHMARK, argv, {"repeat": args.repeat, "jobs_n": args.jobs_n, "parts": args.parts,
                                             "only": args.only, "before": BEFORE, "big_bytes": BIG_BYTES})
    results: dict[str, Any] = {"overhead": None, "builds": []}
    if "overhead" in args.parts:
        results["overhead"] = common.run_worker(__file__, ["overhead", str(args.jobs_n)], 900.0, label="overhead")
    if "builds" in args.parts:
        results["builds"] = builds(max(1, args.repeat), args.only)
    path = common.finish_run(run, results, args.results)
    print(f"saved {path}", file=sys.stderr)
    return 0


# -- the report (from the JSON) -------------------------------------------------------------------

def _median_s(results: dict[str, Any], code: str, label: str) -> float | None:
    for b in results["builds"]:
        if (b["code"], b["label"]) == (code, label):
            return med(r["seconds"] for r in b["runs"] if r.get("ok"))
    return None


def summary(run: dict[str, Any]) -> dict[str, Any]:
    r = run["results"]
    out: dict[str, Any] = {f"{b['code']} {b['label']}": med(x["seconds"] for x in b["runs"] if x.get("ok"))
                           for b in r["builds"]}
    o = r.get("overhead")
    if o and o.get("ok"):
        out["runner_ms"], out["in_process_ms"] = med(o["runner_ms"]), med(o["in_process_ms"])
        out["child_overhead_ms"] = out["runner_ms"] - out["in_process_ms"]
    return out


def metrics(run: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    return {k: (v / 1000 if k.endswith("_ms") else v, "s") for k, v in summary(run).items()}


def _render_overhead(o: dict[str, Any], big: int) -> list[str]:
    if not o.get("ok"):
        return [f"The overhead measurement failed: `{o.get('error')}`", ""]
    a, inner, b = (med(o[k]) for k in ("runner_ms", "child_pipeline_ms", "in_process_ms"))
    n = len(o["runner_ms"])
    opened, closed = o["children_max_rss_bytes_open"], o["children_max_rss_bytes_closed"]
    covered = closed >= big > opened
    return ["### Per-diagram cost of the child (`nn.Linear(4, 4)`, depth 1, `onnx=\"none\"`)", "",
            table(["measure", "ms"], [
                [f"server start-up: import torch, meta warm-up, `{o['ready']}`, median of {len(o['startup_ms'])} "
                 f"({', '.join(f'{t:.0f}' for t in o['startup_ms'])})", f"{med(o['startup_ms']):.0f}"],
                ["first job, the server's start included", f"{o['first_job_ms']:.0f}"],
                [f"(a) submit → outcome → cache lookup, median of {n} sequential jobs, server warm", f"{a:.1f}"],
                ["… of which the child's pipeline stages (its own timings)", f"{inner:.1f}"],
                [f"(b) in a warm process: `make_artifacts` + `DiagramCache.store`, median of {n}", f"{b:.1f}"],
                ["**child overhead per diagram, (a) − (b)**", f"**{a - b:.1f}**"]], right=(1,)), "",
            f"Ranges: (a) {min(o['runner_ms']):.1f}–{max(o['runner_ms']):.1f} ms, (b) "
            f"{min(o['in_process_ms']):.1f}–{max(o['in_process_ms']):.1f} ms. The runner's driver had "
            f"{'imported torch' if o['torch_in_driver'] else 'not imported torch'} before (b) ran.", "",
            f"`RUSAGE_CHILDREN` check: after one more job whose model module touches {fmt_bytes(big)}, the "
            f"driver's children peak was {fmt_bytes(opened)} while the server ran and {fmt_bytes(closed)} once it "
            f"had been closed and reaped: the server's forked children {'are' if covered else 'are not'} covered.", ""]


def render(run: dict[str, Any]) -> str:
    r, params = run["results"], run["params"]
    lines: list[str] = []
    if r.get("overhead") is not None:
        lines += _render_overhead(r["overhead"], params["big_bytes"])
    if r["builds"]:
        rows = []
        for b in r["builds"]:
            runs = b["runs"]
            last = runs[-1]
            secs = med(x["seconds"] for x in runs if x.get("ok"))
            each = ", ".join(f"{x['seconds']:.1f}" + ("" if x.get("ok") else " (failed)") for x in runs)
            origins = last.get("torch_origins") or []
            rows.append([b["code"], b["label"], f"{common.fmt_s(secs)} ({each})",
                         f"{last.get('diagrams')} / {last.get('error_boxes')}",
                         fmt_bytes(last.get("sphinx_max_rss_bytes")), fmt_bytes(last.get("children_max_rss_bytes")),
                         fmt_bytes(max((x.get("peak_tree_bytes") or 0) for x in runs) or None),
                         ("yes" if last.get("torch_imported") else "no")
                         + (" (" + ", ".join(f"`{o}`" for o in origins[:3]) + ")" if origins else "")])
        lines += [f"### Cold builds of `docs/`: {params['before']} (before) and this commit (after)", "",
                  f"Median of {params['repeat']} cold run(s) of each kind, kinds interleaved. Peaks of the last run: "
                  "the Sphinx process's own (`RUSAGE_SELF`) and its largest waited-for descendant's (`RUSAGE_CHILDREN`: "
                  "the worker server and its forked children, Graphviz, Sphinx's `-j` processes); the tree's peak is the "
                  "sum of PSS over every process of the build, sampled every 0.25 s.", "",
                  table(["code", "build", "wall s (runs)", "diagrams / error boxes", "Sphinx peak RSS",
                         "children peak RSS", "tree peak", "torch in Sphinx (imported from)"], rows), ""]
        pairs = [("serial after ÷ -j auto before", ("after", "serial"), ("before", "-j auto")),
                 ("-j auto after ÷ -j auto before", ("after", "-j auto"), ("before", "-j auto")),
                 ("netviz_jobs default ÷ netviz_jobs=1, serial after", ("after", "serial"),
                  ("after", "serial, -D netviz_jobs=1"))]
        rows = []
        for name, a, b in pairs:
            x, y = _median_s(r, *a), _median_s(r, *b)
            if x is not None and y is not None:
                rows.append([name, f"{x:.1f}", f"{y:.1f}", f"{x / y:.2f}"])
        if rows:
            lines += [table(["comparison", "left s", "right s", "ratio"], rows, right=(1, 2, 3)), ""]
        warned = [f"{b['code']} {b['label']}" for b in r["builds"] if any(x.get("warnings") for x in b["runs"])]
        lines += [f"Builds with WARNING lines: {', '.join(warned) if warned else 'none'}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
