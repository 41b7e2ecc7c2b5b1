#!/usr/bin/env python
"""A docs build of the gallery's big models: cold build memory, and what a no-change rebuild adds per diagram.

    python benchmarks/docs_build.py                  # about 2 minutes on 2 idle cores
    python benchmarks/docs_build.py --models cnn,llama --rebuilds 3
    python benchmarks/report.py                      # then render docs/benchmarks.md from the JSON

Saves ``benchmarks/results/docs_build/<time>-<commit>.json``.  A temporary project with one page
per model of ``benchmarks/gallery.py``'s ``MODELS`` and one ``netviz`` directive each (depth 2,
the default ONNX) is built cold, then rebuilt ``--rebuilds`` times with nothing changed; the
comparison project has the same pages without the directives.  Each build is a fresh process
(``common.sphinx_build``, no ``-j``) that reports the Sphinx process's peak RSS, its largest
child's, whether torch was imported, and the peak of the whole process tree's memory (sum of
PSS, sampled every 0.25 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))  # this checkout's benchmarks and sphinx_netviz, before any installed one

from benchmarks import common  # noqa: E402
from benchmarks.common import fmt_bytes, fmt_s, med, plural, table  # noqa: E402
from benchmarks.gallery import MODELS, Model  # noqa: E402

BENCHMARK = "docs_build"
TITLE = "A docs build of the gallery's big models: memory and no-change rebuilds"


def write_project(src: Path, models: list[Model], directives: bool) -> None:
    src.mkdir(parents=True)
    (src / "conf.py").write_text(
        'project = "netviz-bench"\nextensions = ["sphinx_netviz"]\nexclude_patterns = ["_build"]\n')
    pages = "\n".join(f"   {m.key}" for m in models)
    (src / "index.rst").write_text(f"Benchmark\n=========\n\n.. toctree::\n   :maxdepth: 1\n\n{pages}\n")
    for m in models:
        body = f"{m.title}\n{'=' * len(m.title)}\n\n"
        if directives:
            shape = ", ".join(map(str, m.input_shape()))
            body += (f".. netviz:: {m.target}\n   :input-shape: {shape}\n"
                     f"   :input-dtype: {m.input_dtype()}\n   :depth: 2\n")
        else:
            body += f"The {m.title} page, without a diagram.\n"
        (src / f"{m.key}.rst").write_text(body)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}")
    parser.add_argument("--rebuilds", type=int, default=5, help="no-change rebuilds of each project (default 5)")
    common.add_common_arguments(parser)
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    if set(keys) - set(MODELS):
        parser.error(f"unknown model(s); choose from {', '.join(MODELS)}")
    models = [MODELS[k] for k in keys]
    run = common.start_run(BENCHMARK, argv, {"models": keys, "rebuilds": args.rebuilds, "jobs": "serial"})
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="netviz-docs-build-") as tmp:
        for name, directives in (("with", True), ("without", False)):
            src, out = Path(tmp) / name / "src", Path(tmp) / name / "out"
            write_project(src, models, directives)
            cold = common.sphinx_build(src, out, label=f"{name} directives, cold")
            again = [common.sphinx_build(src, out, fresh=False, label=f"{name} directives, rebuild {i + 1}")
                     for i in range(args.rebuilds)]
            results[name] = {"cold": cold, "rebuilds": again}
    path = common.finish_run(run, {"diagrams": len(models), **results}, args.results)
    print(f"saved {path}", file=sys.stderr)
    return 0


# -- the report (from the JSON) -------------------------------------------------------------------

def summary(run: dict[str, Any]) -> dict[str, Any]:
    r = run["results"]
    w, wo = r["with"], r["without"]
    rebuild, empty_rebuild = (med(b["seconds"] for b in x["rebuilds"]) for x in (w, wo))
    return {
        "diagrams": r["diagrams"], "cold_s": w["cold"]["seconds"], "cold_ok": w["cold"].get("ok"),
        "cold_peak_tree_bytes": w["cold"].get("peak_tree_bytes"),
        "cold_sphinx_max_rss_bytes": w["cold"].get("sphinx_max_rss_bytes"),
        "cold_children_max_rss_bytes": w["cold"].get("children_max_rss_bytes"),
        "cold_warnings": w["cold"].get("warnings", []),
        "rebuild_s": rebuild, "rebuilds": len(w["rebuilds"]),
        "rebuilds_importing_torch": sum(1 for b in w["rebuilds"] if b.get("torch_imported")),
        "empty_cold_s": wo["cold"]["seconds"], "empty_rebuild_s": empty_rebuild,
        "per_diagram_s": (rebuild - empty_rebuild) / r["diagrams"]
        if rebuild is not None and empty_rebuild is not None else None,
    }


def metrics(run: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    s = summary(run)
    return {"cold build": (s["cold_s"], "s"), "cold build: peak memory of the tree": (s["cold_peak_tree_bytes"], "bytes"),
            "cold build: Sphinx process peak RSS": (s["cold_sphinx_max_rss_bytes"], "bytes"),
            "no-change rebuild": (s["rebuild_s"], "s"), "added per diagram on a rebuild": (s["per_diagram_s"], "s"),
            "without directives: cold": (s["empty_cold_s"], "s"),
            "without directives: rebuild": (s["empty_rebuild_s"], "s")}


def render(run: dict[str, Any]) -> str:
    s = summary(run)
    models = ", ".join(MODELS[k].title if k in MODELS else k for k in run["params"]["models"])
    ms = None if s["per_diagram_s"] is None else s["per_diagram_s"] * 1000
    rows = [
        [f"cold `sphinx-build -b html`, {plural(s['diagrams'], 'diagram')} (no `-j`)",
         fmt_s(s["cold_s"]) + ("" if s["cold_ok"] else " (failed)")],
        ["peak memory of the whole build (sum of PSS over the process tree, sampled)",
         fmt_bytes(s["cold_peak_tree_bytes"])],
        ["peak RSS of the Sphinx process / of its largest child (`getrusage`)",
         f"{fmt_bytes(s['cold_sphinx_max_rss_bytes'])} / {fmt_bytes(s['cold_children_max_rss_bytes'])}"],
        ["warnings in the cold build", str(len(s["cold_warnings"]))],
        [f"no-change rebuild (median of {s['rebuilds']})", fmt_s(s["rebuild_s"], 3)],
        ["same project without directives: cold / no-change rebuild",
         f"{fmt_s(s['empty_cold_s'])} / {fmt_s(s['empty_rebuild_s'], 3)}"],
        ["added per diagram on a no-change rebuild", "–" if ms is None else f"{ms:+.0f} ms"],
        ["no-change rebuilds that imported torch", f"{s['rebuilds_importing_torch']} of {s['rebuilds']}"],
    ]
    lines = [f"A temporary project, one page per model ({models}), one `netviz` directive each (depth 2, "
             "default ONNX), built cold in a fresh process, then rebuilt with nothing changed; the comparison "
             "project has the same pages without the directives.", "", table(["what", "measured"], rows), ""]
    if s["cold_warnings"]:
        lines += ["Warnings of the cold build:", "", "```text", *s["cold_warnings"], "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
