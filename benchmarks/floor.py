#!/usr/bin/env python
"""A cold build of third-party models against the floor: the work a diagram cannot avoid.

    python benchmarks/floor.py                 # 3 rounds: about 5 minutes on 2 idle cores
    python benchmarks/floor.py --repeat 5
    python benchmarks/report.py                # then render docs/benchmarks.md from the JSON

Saves ``benchmarks/results/floor/<time>-<commit>.json``.  A temporary project, as a user would
write it: ``models.py`` builds BERT-base, ResNet-50 (``transformers``' ``ResNetConfig``) and
ViT-B/16 from their default configs (no weights, nothing downloaded), one page and one
``netviz`` directive each (issue 18's measure).  Against two floors, measured in the same run:

* the **trace floor**: one Python process that imports torch and the project's ``models.py``
  (so ``transformers``), builds each model on ``meta`` and runs its forward there, against a
  cold ``-D netviz_onnx=none`` build (diagrams only);
* the **export floor**: the same, plus torch's dynamo exporter run directly on each model
  (``torch.onnx.export(..., dynamo=True, optimize=False)``, the structure saved without
  weights), against a cold default build (ONNX on).

Each round runs the four in turn (a floor, then its build; the next round the build first),
``--repeat`` rounds; the measure is the median of each round's build ÷ the floor run next to it
(on a shared machine a busy minute hits both of a pair), the ratio of the median times beside it.  Cold: a fresh output folder and a fresh
``netviz_cache_dir``.  After each cold default build, a **warm** build: a fresh output folder,
the same cache (a CI job that keeps ``netviz_cache_dir``).  Last, once, a cold default build of
the project with a fourth page drawing BERT and ResNet-50 again at another depth: a model drawn
twice must be exported once.

``--cold learned`` (the default): what the fork server learned to preload (the third-party
libraries the children imported, ``preload.json`` in the cache folder, issue 18) is kept: one
build of each kind at the start learns it, and each cold build starts from a fresh cache folder
holding only that file, as the next cold build of a project does.  ``--cold first``: nothing
kept, a project's first build ever.  Code without learned preload writes no such file: both are
then the same build, and the JSON says no file was kept.

Exports are counted from what the children say they did: every drawing logs its stage
timings (``NETVIZ_TIMINGS_LOG``, see ``sphinx_netviz/worker.py``); a job that ran an
exporter has an ``onnx`` stage, and the drawings of one job log the same timings.  The build's
own summary line (``netviz: traced N, reused M``) and the ONNX files in the cache are kept
too.  Each build and floor is a fresh process timed from its start to its end, the load
average read before each.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))  # this checkout's benchmarks and sphinx_netviz, before any installed one

from benchmarks import common  # noqa: E402
from benchmarks.common import med, table  # noqa: E402

BENCHMARK = "floor"
TITLE = "A cold build of third-party models against the floor"

#: the models: key → (factory in the project's models.py, title, input shape, input dtype)
MODELS: dict[str, tuple[str, str, tuple[int, ...], str]] = {
    "bert": ("BertModel(BertConfig())", "BERT-base", (1, 32), "int64"),
    "resnet": ("ResNetModel(ResNetConfig())", "ResNet-50", (1, 3, 224, 224), "float32"),
    "vit": ("ViTModel(ViTConfig())", "ViT-B/16", (1, 3, 224, 224), "float32"),
}
#: drawn a second time (another depth: another diagram of the same model and inputs) in the "twice" build
AGAIN = ("bert", "resnet")

#: the four kinds of runs of a round, and the ratios: (build, its floor)
PAIRS = {"diagrams": ("cold_diagrams", "trace_floor"), "default": ("cold_default", "export_floor")}
#: with ``--also``: a second diagrams-only cold build in each round, with other settings, against the same trace floor
ALSO = ("cold_diagrams_also", "trace_floor")

#: what the fork server learned to preload, in the cache folder (sphinx_netviz/preload.py's PRELOAD_FILE)
LEARNED = "preload.json"

#: a cold build's timeline (``NETVIZ_TIMELINE_LOG``: marks of the runner, the server and each child, see
#: sphinx_netviz/jobs.py's ``mark``), cut into phases: (phase, the mark it starts at, the mark it ends at);
#: ``start``/``end`` are the build process's, ``child-start``/``child-end`` the first and the last child's
BUILD_PHASES = (
    ("Sphinx starts, reads the pages, starts the fork server", "start", "server-start"),
    ("server: Python, sphinx_netviz", "server-start", "server-python"),
    ("server: import torch, meta warm-up", "server-python", "server-warm"),
    ("server: preload (the learned list: transformers…)", "server-warm", "server-ready"),
    ("children: fork, build, trace, lay out every depth, store (2 at once)", "server-ready", "child-end"),
    ("Sphinx hears the last result", "child-end", "all-drawn"),
    ("the fork server ends", "all-drawn", "server-gone"),
    ("Sphinx writes the pages, exits", "server-gone", "end"),
)
#: the trace floor's phases, from its stages: (phase, its stage before, its stage after; ``last``: the last model's)
FLOOR_PHASES = (
    ("import torch", "start", "import torch"),
    ("import models.py (transformers)", "import torch", "import models"),
    ("each model built and run on meta", "import models", "last"),
    ("Python's start, and its exit (the interpreter's teardown, torch and transformers imported)", "last", "end"),
)

SUMMARY_LINE = re.compile(r"netviz: traced (\d+), reused (\d+)(?:, failed (\d+))?")


# -- the project -------------------------------------------------------------------------------

def project_files(keys: Iterable[str], again: Iterable[str] = ()) -> dict[str, str]:
    """The temporary project: ``conf.py``, ``models.py``, an index, one page per model (and ``again``)."""
    keys, again = list(keys), list(again)
    imports = sorted({name for k in keys for name in re.findall(r"\w+(?=\()", MODELS[k][0])})
    models = ['"""The benchmark\'s models, from transformers\' default configs (no weights, no downloads)."""',
              "import os", "", 'os.environ.setdefault("HF_HUB_OFFLINE", "1")',
              'os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")', "",
              f"from transformers import {', '.join(imports)}  # noqa: E402", ""]
    for k in keys:
        models += ["", f"def {k}():", f"    return {MODELS[k][0]}", ""]
    pages = [*keys, *(["again"] if again else [])]

    def directive(k: str, depth: int) -> str:
        _, _, shape, dtype = MODELS[k]
        return (f".. netviz:: models:{k}\n   :input-shape: {', '.join(map(str, shape))}\n"
                f"   :input-dtype: {dtype}\n   :depth: {depth}\n")

    files = {
        "conf.py": ("import os\nimport sys\n\nsys.path.insert(0, os.path.abspath(os.path.dirname(__file__)))\n\n"
                    'project = "netviz-floor"\nextensions = ["sphinx_netviz"]\nexclude_patterns = ["_build"]\n'),
        "models.py": "\n".join(models).rstrip() + "\n",
        "index.rst": "Floor\n=====\n\n.. toctree::\n\n" + "".join(f"   {p}\n" for p in pages),
    }
    for k in keys:
        title = MODELS[k][1]
        files[f"{k}.rst"] = f"{title}\n{'=' * len(title)}\n\n{directive(k, 2)}"
    if again:
        files["again.rst"] = "Again\n=====\n\n" + "\n".join(directive(k, 1) for k in again)
    return files


def write_project(src: Path, keys: Iterable[str], again: Iterable[str] = ()) -> None:
    src.mkdir(parents=True, exist_ok=True)
    for name, text in project_files(keys, again).items():
        (src / name).write_text(text)


# -- the floor (in a fresh process) -------------------------------------------------------------

def floor_worker(project: str, keys: str, export: str) -> dict[str, Any]:
    """Import torch and the project's models; on meta, each model's forward (and its dynamo export)."""
    import torch

    common.stage("import torch")
    sys.path.insert(0, project)
    import models  # noqa: F401 - the project's module: imports transformers

    common.stage("import models")
    out: dict[str, Any] = {"torch_threads": torch.get_num_threads(), "models": {}}
    for key in keys.split(","):
        _, _, shape, dtype = MODELS[key]
        t0 = time.perf_counter()
        with torch.device("meta"):
            model = getattr(models, key)().eval()
            x = torch.zeros(shape, dtype=getattr(torch, dtype))
            with torch.no_grad():
                model(x)
        t1 = time.perf_counter()
        one: dict[str, Any] = {"forward_s": t1 - t0}
        if export == "export":
            program = torch.onnx.export(model, (x,), dynamo=True, optimize=False, verbose=False)
            buffer = io.BytesIO()
            program.save(buffer, include_initializers=False, keep_initializers_as_inputs=True)
            one["export_s"] = time.perf_counter() - t1
            one["onnx_bytes"] = len(buffer.getvalue())
        out["models"][key] = one
        common.stage(key)
    return out


def children_cpu_s() -> float:
    """User + system seconds of every process this one has waited for, with their waited-for descendants."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_floor(project: Path, keys: list[str], export: bool, label: str) -> dict[str, Any]:
    load = os.getloadavg()[0]
    cpu = children_cpu_s()
    result = common.run_worker(__file__, [str(project), ",".join(keys), "export" if export else "trace"],
                               900.0, label=label)
    result["cpu_s"] = children_cpu_s() - cpu
    result["seconds"] = result["wall_s"]  # from the process's start to its end, as a build's
    result["load"] = load
    return result


# -- a build (in a fresh process) ---------------------------------------------------------------

def timeline(lines: Iterable[str], start: float, end: float) -> dict[str, float] | None:
    """A build's phases (:data:`BUILD_PHASES`, seconds) from its timeline file's lines, or None if a mark is
    missing (a build that started no server, or code without marks)."""
    at: dict[str, float] = {"start": start, "end": end}
    for line in lines:
        parts = line.split(" ", 2)
        if len(parts) == 3:
            event, when = parts[2].strip(), float(parts[0])
            # the first child's start, the last child's end; the other marks once
            at[event] = max(at.get(event, when), when) if event == "child-end" else at.get(event, when)
    if not all(a in at and b in at for _, a, b in BUILD_PHASES):
        return None
    return {name: at[b] - at[a] for name, a, b in BUILD_PHASES}


def floor_phases(result: dict[str, Any]) -> dict[str, float] | None:
    """The trace floor's phases (:data:`FLOOR_PHASES`) from its stages."""
    if not result.get("ok") or not result.get("wall_s"):
        return None
    # the stages count from the worker's import of benchmarks.common: the process's start before that clock
    # and its exit after the last stage are the wall time left over (they cannot be told apart)
    stages = {s["stage"]: s["at"] for s in result.get("stages") or []}
    if not stages:
        return None
    last = max(stages.values())  # the last model's forward
    at = {"start": 0.0, "end": max(result["wall_s"], last), "last": last, **stages}
    if not all(a in at and b in at for _, a, b in FLOOR_PHASES):
        return None
    return {name: at[b] - at[a] for name, a, b in FLOOR_PHASES}


def exports_in_log(lines: Iterable[str]) -> dict[str, int]:
    """Per model (directive target), how many jobs ran an exporter, from a timings log's lines.

    Each drawing logs a line; the drawings of one job share its timings, so equal timings of a
    target are one job.  A job that exported has an ``onnx`` stage.
    """
    jobs: set[tuple[str, str]] = set()
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("onnx_mode") is not None and "onnx" in (row.get("timings") or {}):
            jobs.add((row["target"], json.dumps(row["timings"], sort_keys=True)))
    counts: dict[str, int] = {}
    for target, _ in sorted(jobs):
        counts[target] = counts.get(target, 0) + 1
    return counts


def jobs_in_log(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Each job's target, ONNX kind and stage timings (the drawings of one job log the same timings)."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        if line.strip():
            row = json.loads(line)
            key = (row["target"], json.dumps(row.get("timings") or {}, sort_keys=True))
            seen.setdefault(key, {"target": row["target"], "onnx_mode": row.get("onnx_mode"),
                                  "timings": row.get("timings") or {}})
    return list(seen.values())


def drawings_in_log(lines: Iterable[str]) -> int:
    """How many drawings children made (one line each)."""
    return sum(1 for line in lines if line.strip())


def summary_line(stdout: str) -> dict[str, int] | None:
    """The build's ``netviz: traced N, reused M[, failed K]`` line, as numbers (None if it printed none)."""
    found = SUMMARY_LINE.findall(stdout)
    if not found:
        return None
    traced, reused, failed = found[-1]
    return {"traced": int(traced), "reused": int(reused), "failed": int(failed or 0)}


def run_build(src: Path, out: Path, cache: Path, extra: list[str], label: str, fresh_cache: bool,
              learned: Path | None = None) -> dict[str, Any]:
    """One ``sphinx-build -b html`` into a fresh ``out``; ``cache`` is its ``netviz_cache_dir``
    (with ``fresh_cache``, emptied first, then given the ``learned`` preload file if there is one)."""
    shutil.rmtree(out, ignore_errors=True)
    if fresh_cache:
        shutil.rmtree(cache, ignore_errors=True)
        if learned is not None and learned.is_file():
            cache.mkdir(parents=True)
            shutil.copyfile(learned, cache / LEARNED)
    kept = (cache / LEARNED).is_file()
    log = out.parent / f"{out.name}-timings.jsonl"
    log.unlink(missing_ok=True)
    marks = out.parent / f"{out.name}-timeline.txt"
    marks.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    print(f"  … {label}", file=sys.stderr, flush=True)
    cpu = children_cpu_s()
    started = time.time()
    done = common.run_process(
        [sys.executable, "-c", common.SPHINX_WRAPPER, "-b", "html", "-D", f"netviz_cache_dir={cache}", *extra,
         str(src), str(out)], 1800.0, env=common.worker_env(NETVIZ_TIMINGS_LOG=str(log),
                                                            NETVIZ_TIMELINE_LOG=str(marks)))
    phases = timeline(marks.read_text().splitlines() if marks.exists() else [], started, started + done.wall_s)
    result = common.parse_worker(done, 1800.0)
    result["timeline"] = phases
    # the whole tree's CPU time (Sphinx, the fork server, its children, dot): each is waited for by its parent
    result["cpu_s"] = children_cpu_s() - cpu
    result["seconds"] = done.wall_s
    result["load"] = load
    logged = log.read_text().splitlines() if log.exists() else []
    result["drawings_made"] = drawings_in_log(logged)
    result["exports"] = exports_in_log(logged)
    result["jobs"] = jobs_in_log(logged)
    result["summary"] = summary_line(done.stdout)
    result["onnx_files"] = len(list(cache.rglob("*.onnx"))) if cache.exists() else 0
    result["cache_entries"] = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
    result["preload_kept"] = kept  # the build started with a learned preload list
    result["preload_written"] = (cache / LEARNED).is_file()
    pages = [p.read_text(errors="replace") for p in out.rglob("*.html")]
    result["diagrams"] = sum(p.count('class="netviz-canvas"') for p in pages)
    result["warnings"] = [line for line in done.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    return result


# -- the run -------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (each: both floors, both cold builds, "
                        "a warm build); default 3")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}")
    parser.add_argument("--no-twice", action="store_true", help="skip the build with models drawn twice")
    parser.add_argument("--cold", choices=("learned", "first"), default="learned",
                        help="learned: cold builds keep what the server learned to preload (default); "
                        "first: nothing kept (a project's first build)")
    parser.add_argument("--define", "-D", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every build, as sphinx-build's -D (e.g. 'netviz_preload=' turns "
                        "learned preload off)")
    parser.add_argument("--also", action="append", default=[], metavar="NAME=VALUE",
                        help="in each round, a second cold -D netviz_onnx=none build with these settings too, "
                        "beside the first (e.g. 'netviz_preload=': the same code with learned preload off)")
    parser.add_argument("--note", default="", help="a word on what this run measures (kept in the JSON)")
    common.add_common_arguments(parser)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return common.worker(floor_worker, *args.worker)
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    if not keys or set(keys) - set(MODELS):
        parser.error(f"choose models from {', '.join(MODELS)}")
    again = [k for k in AGAIN if k in keys] if not args.no_twice else []
    run = common.start_run(BENCHMARK, argv, {"repeat": args.repeat, "models": keys, "again": again,
                                             "jobs": "serial", "cold": args.cold, "define": args.define,
                                             "also": args.also,
                                             "note": args.note})
    defined = [x for d in args.define for x in ("-D", d)]
    rounds: list[dict[str, Any]] = []
    twice = None
    with tempfile.TemporaryDirectory(prefix="netviz-floor-") as scratch:
        tmp = Path(scratch)
        src = tmp / "project"
        write_project(src, keys)
        learning: dict[str, Any] = {}
        learned = {"diagrams": None, "default": None}
        if args.cold == "learned":  # one build of each kind learns what the next one preloads
            for kind, extra in (("diagrams", ["-D", "netviz_onnx=none"]), ("default", [])):
                cache = tmp / f"learn-{kind}"
                learning[kind] = run_build(src, tmp / "out", cache, [*defined, *extra], f"learning build, {kind}",
                                           True)
                if (cache / LEARNED).is_file():
                    learned[kind] = tmp / f"{kind}-{LEARNED}"
                    shutil.copyfile(cache / LEARNED, learned[kind])
        for i in range(max(1, args.repeat)):
            n = f"round {i + 1}"
            r: dict[str, Any] = {}

            def floor(export: bool) -> None:
                kind = "export_floor" if export else "trace_floor"
                r[kind] = run_floor(src, keys, export, f"{kind.replace('_', ' ')}, {n}")

            def build(default: bool) -> None:
                if default:
                    r["cold_default"] = run_build(src, tmp / "out", tmp / "cache", defined, f"cold default build, {n}",
                                                  True, learned["default"])
                    r["warm_default"] = run_build(src, tmp / "out", tmp / "cache", defined, f"warm default build, {n}",
                                                  False)
                    return
                extra = [*defined, "-D", "netviz_onnx=none"]
                kinds = [("cold_diagrams", extra, "")]
                if args.also:
                    kinds.append(("cold_diagrams_also", [*extra, *(x for d in args.also for x in ("-D", d))],
                                  " " + " ".join(f"-D {d}" for d in args.also)))
                for kind, more, label in kinds if i % 2 == 0 else kinds[::-1]:
                    r[kind] = run_build(src, tmp / "out", tmp / "cache", more,
                                        f"cold -D netviz_onnx=none{label} build, {n}", True, learned["diagrams"])

            steps = [lambda: floor(False), lambda: build(False), lambda: floor(True), lambda: build(True)]
            if i % 2:  # every other round the build first, so a busy minute does not always hit one side
                steps = [steps[1], steps[0], steps[3], steps[2]]
            for step in steps:
                step()
            rounds.append(r)
            print(f"  {n}: " + ", ".join(f"{k} {v['seconds']:.1f} s" for k, v in r.items()), file=sys.stderr)
        if again:
            twice_src = tmp / "twice"
            write_project(twice_src, keys, again)
            twice = run_build(twice_src, tmp / "out-twice", tmp / "cache-twice", defined,
                              f"cold default build, {', '.join(again)} drawn twice", True, learned["default"])
    path = common.finish_run(run, {"rounds": rounds, "twice": twice, "learning": learning}, args.results)
    print(f"saved {path}", file=sys.stderr)
    s = summary(run)
    print(render_table(s))
    return 0


# -- the report (from the JSON) -------------------------------------------------------------------

def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def medians(rounds: list[dict[str, Any]], kind: str, what: str = "seconds") -> tuple[float | None, list[float | None]]:
    """The median seconds (``what="cpu_s"``: CPU seconds) of one kind of run over the rounds (failed runs and
    runs that did not measure it left out), and every run's."""
    runs = [r.get(kind) for r in rounds if r.get(kind) is not None]
    each = [x.get(what) if x.get("ok") else None for x in runs]
    return med(each), each


def _phase_medians(runs: list[dict[str, float] | None]) -> dict[str, Any] | None:
    """Each phase's median seconds over the runs that measured them, and how many did."""
    measured = [r for r in runs if r]
    if not measured:
        return None
    return {"runs": len(measured), "phases": {name: med([r.get(name) for r in measured]) for name in measured[0]}}


def phases_table(s: dict[str, Any]) -> str | None:
    """Where a cold diagrams-only build's time goes, beside the trace floor's (medians of the rounds)."""
    build, floor = s.get("build_phases"), s.get("floor_phases")
    if not build:
        return None
    rows = [[name, common.fmt_s(value, 2)] for name, value in build["phases"].items()]
    rows.append(["**sum of the medians**", f"**{common.fmt_s(sum(build['phases'].values()), 2)}**"])
    if floor:
        rows += [[f"trace floor: {name}", common.fmt_s(value, 2)] for name, value in floor["phases"].items()]
        rows.append(["**trace floor: sum of the medians**", f"**{common.fmt_s(sum(floor['phases'].values()), 2)}**"])
    return table(["phase of a cold `-D netviz_onnx=none` build (then of the trace floor)",
                  f"median s ({build['runs']} builds)"], rows, right=(1,))


def _cpu(out: dict[str, Any], rounds: list[dict[str, Any]], name: str, build: str, floor: str) -> None:
    """CPU seconds (user + system of the process tree) of ``build`` and ``floor``, and their ratios, into ``out``."""
    for kind in (build, floor):
        out[f"{kind}_cpu"], out[f"{kind}_cpu_each"] = medians(rounds, kind, "cpu_s")
    out[f"{name}_cpu_ratio_each"] = [ratio(b, f) for b, f in zip(out[f"{build}_cpu_each"], out[f"{floor}_cpu_each"])]
    out[f"{name}_cpu_ratio"] = med(out[f"{name}_cpu_ratio_each"])


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """Medians of each kind, the two ratios, what the warm builds and the twice build exported."""
    rounds = run["results"]["rounds"]
    out: dict[str, Any] = {"rounds": len(rounds), "models": run["params"]["models"]}
    for kind in ("trace_floor", "cold_diagrams", "export_floor", "cold_default", "warm_default"):
        out[kind], out[f"{kind}_each"] = medians(rounds, kind)
    for name, (build, floor) in PAIRS.items():
        # each round's build ÷ the floor run next to it (a busy minute on a shared machine hits both),
        # and their median: the measure; the ratio of the medians (issue 18's way) is shown beside it
        out[f"{name}_ratio_each"] = [ratio(b, f) for b, f in zip(out[f"{build}_each"], out[f"{floor}_each"])]
        out[f"{name}_ratio"] = med(out[f"{name}_ratio_each"])
        out[f"{name}_ratio_of_medians"] = ratio(out[build], out[floor])
        _cpu(out, rounds, name, build, floor)
    out["also"] = run["params"].get("also") or []
    if out["also"]:
        build, floor = ALSO
        out[build], out[f"{build}_each"] = medians(rounds, build)
        out["also_ratio_each"] = [ratio(b, f) for b, f in zip(out[f"{build}_each"], out[f"{floor}_each"])]
        out["also_ratio"] = med(out["also_ratio_each"])
        out["also_ratio_of_medians"] = ratio(out[build], out[floor])
        _cpu(out, rounds, "also", build, floor)
    out["build_phases"] = _phase_medians([(r.get("cold_diagrams") or {}).get("timeline") for r in rounds])
    out["floor_phases"] = _phase_medians([floor_phases(r["trace_floor"]) if r.get("trace_floor") else None
                                          for r in rounds])
    warm = [r["warm_default"] for r in rounds if r.get("warm_default")]
    out["warm_builds"] = len(warm)
    out["warm_exports"] = (sum(sum(w.get("exports", {}).values()) for w in warm)
                           if warm and all(w.get("ok") for w in warm) else None)
    out["warm_drawings_made"] = sum(w.get("drawings_made", 0) for w in warm) if warm else None
    out["warm_lines"] = sorted({"netviz: traced {traced}, reused {reused}".format(**w["summary"])
                                for w in warm if w.get("summary")})
    cold = [r["cold_default"] for r in rounds if r.get("cold_default") and r["cold_default"].get("ok")]
    twice = run["results"].get("twice")
    checked = cold + ([twice] if twice and twice.get("ok") else [])
    counts: dict[str, int] = {}
    for b in checked:
        for target, n in b.get("exports", {}).items():
            counts[target] = max(counts.get(target, 0), n)
    out["most_exports_of_one_model"] = max(counts.values()) if checked and counts else None
    out["exports_by_model"] = counts
    out["twice"] = None if not twice else {
        "ok": twice.get("ok"), "seconds": twice["seconds"], "exports": twice.get("exports", {}),
        "drawings_made": twice.get("drawings_made"), "diagrams": twice.get("diagrams"),
        "summary": twice.get("summary"), "onnx_files": twice.get("onnx_files")}
    colds = [r[k] for r in rounds for k in ("cold_diagrams", "cold_default") if r.get(k)]
    out["cold"] = run["params"].get("cold", "first")
    out["cold_builds"], out["cold_with_preload"] = len(colds), sum(1 for b in colds if b.get("preload_kept"))
    loads = [x["load"] for r in rounds for x in r.values() if x and x.get("load") is not None]
    out["load_min"], out["load_max"] = (min(loads), max(loads)) if loads else (None, None)
    out["warnings"] = sorted({w for r in rounds for x in r.values() if x for w in x.get("warnings", [])})
    out["failed"] = [f"{k} (round {i + 1}): {x.get('error')}" for i, r in enumerate(rounds) for k, x in r.items()
                     if x and not x.get("ok")]
    return out


def metrics(run: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    s = summary(run)
    return {"trace floor": (s["trace_floor"], "s"), "cold build, -D netviz_onnx=none": (s["cold_diagrams"], "s"),
            "diagrams-only ÷ trace floor": (s["diagrams_ratio"], "ratio"),
            "diagrams-only: ratio of the medians": (s["diagrams_ratio_of_medians"], "ratio"),
            "export floor": (s["export_floor"], "s"), "cold default build": (s["cold_default"], "s"),
            "default ÷ export floor": (s["default_ratio"], "ratio"),
            "default: ratio of the medians": (s["default_ratio_of_medians"], "ratio"),
            "warm default build": (s["warm_default"], "s"),
            "exports in the warm builds": (s["warm_exports"], "count"),
            "most exports of one model in a build": (s["most_exports_of_one_model"], "count"),
            "diagrams-only ÷ trace floor, CPU time": (s["diagrams_cpu_ratio"], "ratio"),
            "default ÷ export floor, CPU time": (s["default_cpu_ratio"], "ratio"),
            **({"--also build ÷ trace floor": (s["also_ratio"], "ratio")} if s["also"] else {})}


def _each(values: list[float | None]) -> str:
    return ", ".join("failed" if v is None else f"{v:.1f}" for v in values)


def render_table(s: dict[str, Any]) -> str:
    rows = []
    pairs = {**PAIRS, **({"also": ALSO} if s.get("also") else {})}
    also = "".join(f", `-D {d}`" for d in s.get("also", []))
    for name, (build, floor) in pairs.items():
        r = s[f"{name}_ratio"]
        rows.append([{"diagrams": "cold build, `-D netviz_onnx=none`", "default": "cold build, default (ONNX)",
                      "also": f"cold build, `-D netviz_onnx=none`{also}"}[name],
                     f"{common.fmt_s(s[build])} ({_each(s[build + '_each'])})",
                     {"diagrams": "trace floor", "default": "export floor", "also": "trace floor"}[name],
                     f"{common.fmt_s(s[floor])} ({_each(s[floor + '_each'])})",
                     ("–" if r is None else f"**{r:.2f}**") + " ("
                     + ", ".join("–" if x is None else f"{x:.2f}" for x in s[f"{name}_ratio_each"]) + ")",
                     _ratio(s[f"{name}_ratio_of_medians"]), _cpu_cell(s, name, build, floor)])
    return table(["build", "median s (runs)", "floor", "median s (runs)", "build ÷ floor: median of the rounds' "
                  "(each round's)", "ratio of the medians", "CPU time (user + sys of the process tree): build s ÷ "
                  "floor s, median of the rounds' ratios"], rows, right=(4, 5, 6))


def _cpu_cell(s: dict[str, Any], name: str, build: str, floor: str) -> str:
    """``18.0 s ÷ 9.5 s: 1.89 (1.85, 1.9, …)``, or – for runs saved before CPU time was measured."""
    r = s.get(f"{name}_cpu_ratio")
    if r is None:
        return "–"
    return (f"{common.fmt_s(s[build + '_cpu'])} ÷ {common.fmt_s(s[floor + '_cpu'])}: **{r:.2f}** ("
            + ", ".join("–" if x is None else f"{x:.2f}" for x in s[f"{name}_cpu_ratio_each"]) + ")")


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def history(run: dict[str, Any]) -> list[dict[str, Any]]:
    """This run and the saved runs before it (the files beside it, oldest first)."""
    path = run.get("_path")
    if not path:
        return [run]
    files = [f for f in common.result_files(BENCHMARK, Path(path).parent.parent) if f.name <= Path(path).name]
    return [common.load_run(f) for f in files]


def history_table(runs: list[dict[str, Any]]) -> str:
    rows = []
    for r in runs:
        s = summary(r)
        load = "–" if s["load_min"] is None else f"{s['load_min']:.1f}–{s['load_max']:.1f}"
        rows.append([f"{r['date'][:16].replace('T', ' ')}, {r['code'].get('commit_short')}", r["params"].get("note") or "",
                     f"{s['cold_with_preload']} of {s['cold_builds']}", str(s["rounds"]), load,
                     *(f"{_ratio(s[f'{k}_ratio'])} ({_ratio(s[f'{k}_ratio_of_medians'])})" for k in PAIRS),
                     (", ".join(f"`-D {d}`" for d in s["also"]) + f": {_ratio(s['also_ratio'])} "
                      f"({_ratio(s['also_ratio_of_medians'])})") if s["also"] else "–"])
    return table(["run", "note", "cold builds with a learned preload list", "rounds", "load",
                  "diagrams-only ÷ trace floor (ratio of the medians)", "default ÷ export floor (ratio of the medians)",
                  "`--also`: diagrams-only with … ÷ trace floor"], rows, right=(3, 5, 6))


def _cold_sentence(s: dict[str, Any]) -> str:
    kept = f"{s['cold_with_preload']} of {s['cold_builds']}"
    if s["cold"] == "learned":
        return (f"Each cold build kept what the fork server had learned to preload in an earlier build of the same "
                f"kind (`{LEARNED}` in the cache folder, the next cold build of a project): {kept} cold builds "
                "started with it" + (" (this code writes none)." if not s["cold_with_preload"] else "."))
    return f"Nothing was kept from earlier builds (a project's first build): {kept} cold builds had a preload list."


def render(run: dict[str, Any]) -> str:
    s = summary(run)
    titles = ", ".join(MODELS[k][1] if k in MODELS else k for k in s["models"])
    note = run["params"].get("note")
    defined = "".join(f", `-D {d}`" for d in run["params"].get("define") or [])
    defined = f" (every build with {defined[2:]})" if defined else ""
    lines = [f"A temporary project with {titles} from `transformers`' default configs (no weights, no downloads), "
             "one page and one `netviz` directive each (depth 2), built serially into a fresh folder with a fresh "
             "`netviz_cache_dir`, against the floor measured in the same run: one Python process that imports "
             "torch and the project's `models.py` (so `transformers`) and runs each model's forward on `meta` "
             "(the **trace floor**), and the same plus torch's dynamo exporter run directly on each model, "
             "`torch.onnx.export(..., dynamo=True, optimize=False)`, saved without weights (the **export floor**). "
             f"Floors and builds alternate, {s['rounds']} rounds; every time is a fresh process's, from its start "
             f"to its end{defined}. Each round's build is divided by the floor run next to it, and the median of "
             "these ratios is the measure (a busy minute on a shared machine hits both of a pair); the ratio of the "
             "median times is shown beside it. " + _cold_sentence(s)
             + (f" This run: {note}." if note else ""), "",
             render_table(s), ""]
    phases = phases_table(s)
    if phases:
        lines += ["Where a cold diagrams-only build's time goes (the marks of the runner, the fork server and its "
                  "children, `NETVIZ_TIMELINE_LOG`; the children run 2 at once, so their phase is the time from the "
                  "server's being ready to the last child's end), beside the trace floor's stages. Since 2917678 the "
                  "fork server leaves with `os._exit`, without the interpreter's teardown (2-5 s with torch and "
                  "transformers imported, which the build waited for); the trace floor, one plain Python process, "
                  "pays its own (its last phase, with Python's start):", "", phases, ""]
    if s["load_min"] is not None:
        lines += [f"Load average (1 min) before each run: {s['load_min']:.1f} to {s['load_max']:.1f} on "
                  f"{run['machine'].get('nproc')} CPUs.", ""]
    warm = s["warm_exports"]
    lines += [f"Warm builds (a fresh output folder, the cold default build's cache), {s['warm_builds']}: median "
              f"{common.fmt_s(s['warm_default'])} ({_each(s['warm_default_each'])}); models exported: "
              f"{'–' if warm is None else warm}; drawings made by a child: {s['warm_drawings_made']}; the builds "
              f"said: {'; '.join(f'`{x}`' for x in s['warm_lines']) or 'nothing'}.", ""]
    t = s["twice"]
    if t:
        exports = ", ".join(f"`{k}` {v}" for k, v in sorted(t["exports"].items())) or "none"
        lines += [f"A cold default build with {', '.join(run['params']['again'])} drawn a second time on another page "
                  f"(another depth: another diagram of the same model and inputs): {common.fmt_s(t['seconds'])}, "
                  f"{t['diagrams']} diagrams, {t['drawings_made']} drawings made; exports per model: {exports}.", ""]
    if s["exports_by_model"]:
        lines += ["Most exports of one model in one build (the cold default builds and the build above): "
                  f"{s['most_exports_of_one_model']}.", ""]
    if s["failed"]:
        lines += ["Failed runs:", "", "```text", *s["failed"], "```", ""]
    lines += [f"Warnings in these builds: {len(s['warnings'])}.", ""]
    if s["warnings"]:
        lines += ["```text", *s["warnings"][:20], "```", ""]
    runs = history(run)
    if len(runs) > 1:
        lines += ["### The saved runs", "", "This run and the ones before it (`python benchmarks/report.py compare floor` "
                  "puts the newest two side by side).", "", history_table(runs), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
