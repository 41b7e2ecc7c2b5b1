#!/usr/bin/env python
"""How much of a cold build of ``docs/`` the ONNX exports take.

    python benchmarks/docs_onnx_share.py                 # serial and -j auto, 2 rounds: about 5 minutes idle
    python benchmarks/docs_onnx_share.py --jobs serial   # serial builds only (issue 8's measure)
    python benchmarks/report.py                          # then render docs/benchmarks.md from the JSON

Saves ``benchmarks/results/docs_onnx_share/<time>-<commit>.json``.  For each ``--jobs`` mode
(``serial``: no ``-j``; otherwise Sphinx's ``-j N``), builds this checkout's ``docs/`` into
fresh folders, alternating with ONNX (the site as it is) and without
(``-D netviz_onnx=none``), ``--repeat`` times each.  The report takes the medians and the
share (with − without) ÷ with.  The builds with ONNX also log each job's stage timings
(``NETVIZ_TIMINGS_LOG``, see ``sphinx_netviz/worker.py``), so the report lists what each
export cost and which kind of file it made.  Each build runs in a fresh process
(``common.sphinx_build``), which also records its memory and warnings.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))  # this checkout's benchmarks and sphinx_netviz, before any installed one

from benchmarks import common  # noqa: E402
from benchmarks.common import fmt_bytes, med, table  # noqa: E402

BENCHMARK = "docs_onnx_share"
TITLE = "The ONNX share of a cold build of `docs/`"


def exports(log: Path) -> list[dict[str, Any]]:
    """Each distinct export in a timings log: model, kind, device and its ``onnx`` stage seconds."""
    seen: dict[tuple[str, str, str], float] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            row = json.loads(line)
            if row["onnx_mode"] is None:  # a drawing with no ONNX file (`:onnx: none`)
                continue
            key = (row["target"], str(row["onnx_mode"]), row["device"])
            seen[key] = max(seen.get(key, 0.0), row["timings"].get("onnx", 0.0))
    return [{"target": t, "kind": k, "device": d, "seconds": s}
            for (t, k, d), s in sorted(seen.items(), key=lambda item: -item[1])]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", default="serial,auto",
                        help="comma-separated: serial (no -j) and/or values of Sphinx's -j (default: serial,auto)")
    parser.add_argument("--repeat", type=int, default=2, help="builds of each kind per mode (default 2)")
    common.add_common_arguments(parser)
    args = parser.parse_args(argv)
    modes = [m for m in args.jobs.split(",") if m]
    run = common.start_run(BENCHMARK, argv, {"jobs": modes, "repeat": args.repeat})
    builds = []
    docs = common.DOCS
    with tempfile.TemporaryDirectory(prefix="netviz-onnx-share-") as scratch:
        folder = Path(scratch)
        for mode in modes:
            extra = [] if mode == "serial" else ["-j", mode]
            with_onnx, without = [], []
            for round_ in range(args.repeat):
                log = folder / "timings.jsonl"
                log.unlink(missing_ok=True)
                built = common.sphinx_build(docs, folder / "with", ["-q", *extra],
                                            env=common.worker_env(NETVIZ_TIMINGS_LOG=str(log)),
                                            label=f"with ONNX, round {round_ + 1}")
                built["exports"] = exports(log)
                with_onnx.append(built)
                without.append(common.sphinx_build(docs, folder / "without",
                                                   ["-q", *extra, "-D", "netviz_onnx=none"],
                                                   label=f"without ONNX, round {round_ + 1}"))
            builds.append({"jobs": mode, "with_onnx": with_onnx, "without_onnx": without})
    path = common.finish_run(run, {"builds": builds}, args.results)
    print(f"saved {path}", file=sys.stderr)
    return 0


# -- the report (from the JSON) -------------------------------------------------------------------

def summary(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per mode: median seconds with and without ONNX, the share, each export's median seconds."""
    out = {}
    for b in run["results"]["builds"]:
        good_with = [r for r in b["with_onnx"] if r.get("ok")]
        full = med(r["seconds"] for r in good_with)
        bare = med(r["seconds"] for r in b["without_onnx"] if r.get("ok"))
        per: dict[tuple[str, str, str], list[float]] = {}
        for r in good_with:
            for e in r.get("exports", []):
                if e["kind"] == "None":  # (runs saved before exports() left these out)
                    continue
                per.setdefault((e["target"], e["kind"], e["device"]), []).append(e["seconds"])
        rows = sorted(({"target": t, "kind": k, "device": d, "seconds": med(v)} for (t, k, d), v in per.items()),
                      key=lambda e: -e["seconds"])
        out[b["jobs"]] = {"with_s": full, "without_s": bare,
                          "share": (full - bare) / full if full and bare is not None else None,
                          "exports": rows, "failed": len(b["with_onnx"]) + len(b["without_onnx"])
                          - len(good_with) - sum(1 for r in b["without_onnx"] if r.get("ok"))}
    return out


def metrics(run: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    out: dict[str, tuple[float | None, str]] = {}
    for mode, s in summary(run).items():
        out[f"{mode}: with ONNX"] = (s["with_s"], "s")
        out[f"{mode}: without ONNX"] = (s["without_s"], "s")
        out[f"{mode}: ONNX share"] = (s["share"], "share")
        for e in s["exports"]:
            out[f"{mode}: export {e['target']} ({e['kind']}, {e['device']})"] = (e["seconds"], "s")
    return out


def _runs(results: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['seconds']:.1f}" + ("" if r.get("ok") else " (failed)") for r in results)


def render(run: dict[str, Any]) -> str:
    s = summary(run)
    builds = {b["jobs"]: b for b in run["results"]["builds"]}
    lines = [f"Cold builds of `docs/` into fresh folders, with the site's ONNX downloads and with "
             f"`-D netviz_onnx=none`, alternating, {run['params']['repeat']} of each per mode; medians. "
             "Share = (with − without) ÷ with: information, no longer a target (issue 18 retired it; the export "
             "floor is the measure). Memory: the peak of the build's process tree (sum of PSS, sampled every 0.25 s).",
             ""]
    rows = []
    for mode, m in s.items():
        b = builds[mode]
        mem = max((r.get("peak_tree_bytes") or 0 for r in b["with_onnx"]), default=0)
        rows.append([f"`-j {mode}`" if mode != "serial" else "serial",
                     f"{common.fmt_s(m['with_s'])} ({_runs(b['with_onnx'])})",
                     f"{common.fmt_s(m['without_s'])} ({_runs(b['without_onnx'])})",
                     "–" if m["share"] is None else f"**{m['share']:.0%}**", fmt_bytes(mem or None)])
    lines += [table(["build", "with ONNX", "`-D netviz_onnx=none`", "ONNX share", "peak memory, with ONNX"],
                    rows, right=(1, 2, 3, 4)), ""]
    warnings = sorted({w for b in builds.values() for r in b["with_onnx"] + b["without_onnx"]
                       for w in r.get("warnings", [])})
    lines += [f"Warnings in these builds: {len(warnings)}.", ""]
    if warnings:
        lines += ["```text", *warnings[:40], "```", ""]
    for mode, m in s.items():
        if not m["exports"]:
            continue
        lines += [f"### Each export in the {'serial' if mode == 'serial' else '-j ' + mode} builds", "",
                  "A job's `onnx` stage (every exporter it tried), median over the builds with ONNX.", "",
                  table(["model", "kind", "traced on", "export s"],
                        [[e["target"], e["kind"], e["device"], f"{e['seconds']:.2f}"] for e in m["exports"]]
                        + [["**sum**", "", "", f"**{sum(e['seconds'] for e in m['exports']):.1f}**"]],
                        right=(3,)), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
