#!/usr/bin/env python
"""What drawing each diagram in a child process costs: the last in-process release against now.

    python benchmarks/isolation.py                  # about 4 minutes on 2 cores
    python benchmarks/isolation.py --repeat 3 --output /tmp/isolation.md   # about 9
    python benchmarks/isolation.py --parts builds --only "-j auto"   # re-run some builds

``builds``: cold ``sphinx-build -b html docs OUT`` (fresh OUT), serial and ``-j auto``, of ca00b4e
(a ``git worktree`` on ``PYTHONPATH``) and of the working tree (also ``netviz_onnx=none``, ``netviz_jobs=1``),
in a wrapper that reports Sphinx's ``RUSAGE_SELF`` and ``RUSAGE_CHILDREN`` peaks and who imported torch.
``overhead``: in a subprocess, ``DiagramRunner`` jobs of ``nn.Linear(4, 4)`` (submit -> outcome -> cache
lookup) against ``make_artifacts`` + ``DiagramCache.store`` in a warm process; the server's start-up; and
whether ``RUSAGE_CHILDREN`` covers the server's forked children.  This process never imports torch.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "ca00b4e"
TAG = "ISOLATION-RESULT "
BIG_MIB = 768
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
use = lambda who: resource.getrusage(who).ru_maxrss
print("%s" + json.dumps({"self_kb": use(resource.RUSAGE_SELF), "children_kb": use(resource.RUSAGE_CHILDREN),
      "torch": "torch" in sys.modules, "origins": origins, "netviz": sphinx_netviz.__file__}))
sys.exit(rc)
""" % TAG
TINY = ("import torch.nn as nn\n\nclass Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n")
BIG = f"_BLOB = b'x' * ({BIG_MIB} << 20)  # touched by the child that imports it\nfrom tiny_model import Tiny\n"


@dataclass
class Build:
    code: str  # "before" or "after"
    label: str
    args: list[str]
    seconds: list[float] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    drawn: tuple[int, int] = (0, 0)  # diagrams in the HTML, error boxes in the HTML


BUILDS = [Build("before", "serial", []), Build("after", "serial", []),
          Build("before", "-j auto", ["-j", "auto"]), Build("after", "-j auto", ["-j", "auto"]),
          Build("after", "serial, -D netviz_onnx=none", ["-D", "netviz_onnx=none"]),
          Build("after", "serial, -D netviz_jobs=1", ["-D", "netviz_jobs=1"])]


def run_build(build: Build, tree: Path) -> None:
    """One cold build into a fresh folder: its wall time, the wrapper's report, its warnings."""
    env = dict(os.environ)
    if build.code == "before":
        env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "docs")])
    with tempfile.TemporaryDirectory(prefix="isolation-") as out:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", WRAPPER, "-b", "html", "-q", str(tree / "docs"), out,
                               *build.args], cwd=tree, env=env, capture_output=True, text=True)
        build.seconds.append(time.perf_counter() - started)
        pages = [page.read_text(errors="replace") for page in Path(out).rglob("*.html")]
        build.drawn = (sum(p.count('class="netviz-canvas"') for p in pages),
                       sum(p.count("netviz-error") for p in pages))
    build.report = tagged(done, f"{build.code} {build.label}")
    build.warnings += [line for line in done.stderr.splitlines() if "WARNING" in line]
    if build.code == "before" and not build.report["netviz"].startswith(str(tree)):
        raise SystemExit(f"the before build imported {build.report['netviz']}, not {tree}")
    print(f"  {build.code} {build.label}: {build.seconds[-1]:.1f} s, {build.report['netviz']}", file=sys.stderr)


def builds(repeat: int, only: str | None) -> list[Build]:
    chosen = [b for b in BUILDS if not only or only in f"{b.code} {b.label}"]
    tree = Path(tempfile.mkdtemp(prefix="netviz-before-")) / "tree"
    try:
        if any(b.code == "before" for b in chosen):
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), BEFORE], cwd=ROOT, check=True,
                           capture_output=True)
        for _ in range(repeat):  # kinds interleaved, so a busy minute does not hit one kind only
            for build in chosen:
                run_build(build, tree if build.code == "before" else ROOT)
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
    out["runner_ms"], out["child_pipeline_ms"] = zip(*(one("tiny_model:Tiny", i) for i in range(n)))
    out["children_kb_open"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    one("big_model:Tiny", 0)
    runner.close()  # the server reaps its children, then is reaped here
    out["children_kb_closed"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
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


def tagged(done: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    """The JSON a measuring subprocess printed after TAG (it failed if there is none)."""
    lines = [line for line in done.stdout.splitlines() if line.startswith(TAG)]
    if done.returncode or not lines:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len(TAG):])


def table_builds(done: list[Build]) -> list[str]:
    rows = ["## Cold build of `docs/`", "", "| code | build | wall s | drawn / error boxes | Sphinx peak MB, last "
            "run | children peak MB, last run | torch in Sphinx (imported from) |", "|---|---|---:|---|---:|---:|---|"]
    for b in done:
        r, runs = b.report, " (" + ", ".join(f"{s:.1f}" for s in b.seconds) + ")" if len(b.seconds) > 1 else ""
        rows.append(f"| {b.code} | {b.label} | {median(b.seconds):.1f}{runs} | {b.drawn[0]} / {b.drawn[1]} | "
                    f"{r['self_kb'] / 1024:.0f} | {r['children_kb'] / 1024:.0f} | {'yes' if r['torch'] else 'no'}"
                    + (" (" + ", ".join(f"`{o}`" for o in r["origins"][:3]) + ")" if r["origins"] else "") + " |")
    by = {(b.code, b.label): b.seconds for b in done}
    pairs = [("serial after ≤ -j auto before", ("after", "serial"), ("before", "-j auto")),
             ("-j auto after ≤ -j auto before", ("after", "-j auto"), ("before", "-j auto")),
             (f"no target: netviz_jobs={os.cpu_count()} (default) ≤ netviz_jobs=1, serial after",
              ("after", "serial"), ("after", "serial, -D netviz_jobs=1"))]
    held = [f"| {name} | {median(by[a]):.1f} | {median(by[b]):.1f} | "
            f"{'yes' if median(by[a]) <= median(by[b]) else 'NO'} | {sum(x <= y for x, y in zip(by[a], by[b]))} "
            f"of {len(by[a])} |" for name, a, b in pairs if a in by and b in by]
    rows += ["", "| target | left s | right s | holds (medians)? | holds within a round |", "|---|---:|---:|---|---|",
             *held] if held else []
    before = [b.report["netviz"] for b in done if b.code == "before"]
    rows += ["", *([f"The before builds imported `{before[0]}` (the worktree's own package)."] if before else []),
             "Children peak: `RUSAGE_CHILDREN`, the largest waited-for descendant (the worker server and its forked "
             "children; Graphviz; Sphinx's `-j` processes). fork + exec keeps the parent's pre-exec high-water mark, "
             "so where both peaks are equal (before, serial) it is Sphinx itself, seen through its `dot` processes."]
    for b in done:
        if b.code == "after" and b.warnings:
            rows += ["", f"WARNING lines of the after build ({b.label}):", "", "```", *dict.fromkeys(b.warnings),
                     "```"]
    quiet = [f"{b.code} {b.label}" for b in done if not b.warnings]
    return rows + (["", f"No WARNING lines in: {'; '.join(quiet)}."] if quiet else [])


def table_overhead(o: dict[str, Any]) -> list[str]:
    a, inner, b = (median(o[k]) for k in ("runner_ms", "child_pipeline_ms", "in_process_ms"))
    n, covered = len(o["runner_ms"]), o["children_kb_closed"] >= BIG_MIB * 1024 > o["children_kb_open"]
    return ["## Per-diagram cost of the child (`nn.Linear(4, 4)`, depth 1, `onnx=\"none\"`)", "",
            "| measure | ms |", "|---|---:|",
            f"| server start-up: import torch, meta warm-up, `{o['ready']}`, median of 3 "
            f"({', '.join(f'{t:.0f}' for t in o['startup_ms'])}) | {median(o['startup_ms']):.0f} |",
            f"| first job, the server's start included | {o['first_job_ms']:.0f} |",
            f"| (a) submit → outcome → cache lookup, median of {n} sequential jobs, server warm | {a:.1f} |",
            f"| … of which the child's pipeline stages (its own timings) | {inner:.1f} |",
            f"| (b) in a warm process: `make_artifacts` + `DiagramCache.store`, median of {n} | {b:.1f} |",
            f"| **child overhead per diagram, (a) − (b)** | **{a - b:.1f}** |", "",
            f"Ranges: (a) {min(o['runner_ms']):.1f}–{max(o['runner_ms']):.1f} ms, (b) "
            f"{min(o['in_process_ms']):.1f}–{max(o['in_process_ms']):.1f} ms. The runner's driver had "
            f"{'imported torch (!)' if o['torch_in_driver'] else 'not imported torch'} before (b) ran.", "",
            f"`RUSAGE_CHILDREN` check: after one more job whose model module touches {BIG_MIB} MiB, the "
            f"driver's children peak was {o['children_kb_open'] / 1024:.0f} MB while the server ran and "
            f"{o['children_kb_closed'] / 1024:.0f} MB once it had been closed and reaped: the server's forked "
            f"children {'are' if covered else 'are NOT'} covered (only after the server exits and is waited for)."]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def tree_state() -> tuple[str, str]:
    """HEAD and the uncommitted changes in what is measured (other people may edit it meanwhile)."""
    return git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "sphinx_netviz", "docs")


def header(argv: list[str], head: str, status: str) -> list[str]:
    dirty = ", ".join(line.split(maxsplit=1)[-1] for line in status.splitlines()) or "none"
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return ["# Isolation: diagrams drawn in child processes vs in the Sphinx process", "",
            f"* date: {_dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            f"* after: the working tree at {head} (uncommitted changes in sphinx_netviz/ and docs/: {dirty}); "
            f"before: {BEFORE}, the last release that drew in the Sphinx process",
            f"* machine: nproc {os.cpu_count()}, RAM {ram:.1f} GiB, load average at start "
            f"{os.getloadavg()[0]:.2f} (shared with other work); Python {sys.version.split()[0]}",
            f"* command: `{' '.join(['python', 'benchmarks/isolation.py', *argv])}`", ""]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="cold builds of each kind (median reported)")
    parser.add_argument("--jobs-n", type=int, default=20, help="sequential trivial jobs to time")
    parser.add_argument("--parts", default="overhead,builds", help="comma-separated: overhead, builds")
    parser.add_argument("--only", help="run only the builds whose 'code label' contains this")
    parser.add_argument("--output", type=Path, help="also write the Markdown here")
    parser.add_argument("--overhead-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.overhead_worker is not None:
        print(TAG + json.dumps(overhead_worker(args.overhead_worker)))
        return 0
    state = tree_state()
    lines = header(argv, *state)
    if "overhead" in args.parts:
        done = subprocess.run([sys.executable, __file__, "--overhead-worker", str(args.jobs_n)],
                              capture_output=True, text=True)
        lines += table_overhead(tagged(done, "the overhead measurement")) + [""]
    if "builds" in args.parts:
        lines += table_builds(builds(max(1, args.repeat), args.only)) + [
            "", f"Wall seconds: median of {args.repeat} cold run(s) of each kind, kinds interleaved."]
    if tree_state() != state:
        lines += ["", f"**The working tree changed during the run** (now at {tree_state()[0]}): "
                  "later runs may have measured other code."]
    text = "\n".join(lines).rstrip() + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
