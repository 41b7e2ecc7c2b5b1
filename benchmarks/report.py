#!/usr/bin/env python
"""Render the benchmark report from the saved JSON runs; check the targets; compare two runs.

    python benchmarks/report.py                      # docs/benchmarks.md from the newest run of each benchmark
    python benchmarks/report.py --output -           # print it instead
    python benchmarks/report.py targets              # the targets table; exit status 1 if one is missed
    python benchmarks/report.py compare zoo          # the newest two runs of a benchmark, number by number
    python benchmarks/report.py compare OLD.json NEW.json

Nothing here measures: the numbers and every sentence computed from them come from
``benchmarks/results/<benchmark>/*.json`` (written by the benchmark scripts), the targets from
``benchmarks/targets.py``.  Never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402
from benchmarks.common import fmt_bytes, table  # noqa: E402
from benchmarks.targets import RETIRED, TARGETS, Retired, Verdict, check, fmt  # noqa: E402

#: the benchmarks, in the page's order: name → module (each has BENCHMARK, TITLE, render, metrics)
BENCHMARKS = ("floor", "diff_llama", "zoo", "docs_onnx_share", "gallery", "docs_build", "isolation",
              "layout_engines")
PAGE = common.DOCS / "benchmarks.md"


def module(name: str) -> ModuleType:
    return importlib.import_module(f"benchmarks.{name}")


def _where(path: str | None) -> str:
    """``benchmarks/results/<benchmark>/<file>`` (wherever the report was rendered from), else the path."""
    if not path:
        return "–"
    p = Path(path)
    return f"benchmarks/results/{p.parent.name}/{p.name}" if p.parent.parent.name == "results" else path


def run_header(run: dict[str, Any]) -> str:
    """The run record, as a list: date, command, code, machine, versions, the JSON file."""
    code, mach, v = run["code"], run["machine"], run["versions"]
    dirty = code.get("dirty") or []
    state = (f"{len(dirty)} uncommitted change(s): " + ", ".join(f"`{d.strip()}`" for d in dirty[:8])
             + (" …" if len(dirty) > 8 else "")) if dirty else "clean"
    if code.get("changed_during_run"):
        state += "; **the measured code changed during the run** (later results may be of other code)"
    if code.get("head_after"):
        state += f"; HEAD moved to {code['head_after'][:7]} during the run"
    loads = [mach.get("load_start"), mach.get("load_end")]
    load = " and ".join(f"{x[0]:.2f}" for x in loads if x)
    busy = any(x and x[0] > (mach.get("nproc") or 1) for x in loads)
    soft = ", ".join(f"{k} {val}" for k, val in v.items() if val and k != "dot")
    return "\n".join([
        f"* date: {run['date']}; took {run.get('elapsed_s', 0) / 60:.1f} min",
        f"* command: `{run['command']}`",
        f"* code: sphinx-netviz at {code.get('commit_short') or 'unknown commit'} ({state})",
        f"* machine: {mach.get('nproc')} CPUs ({mach.get('cpu') or '?'}), {fmt_bytes(mach.get('ram_bytes'))} RAM, "
        f"{mach.get('os')}; load average (1 min) at the start and end {load}"
        + (" (above the CPU count: other work shared the machine)" if busy else ""),
        f"* versions: {soft}; Graphviz `{v.get('dot')}`",
        f"* raw results: `{_where(run.get('_path'))}`",
    ])


def targets_table(verdicts: list[Verdict]) -> str:
    rows = []
    for v in verdicts:
        status = {"met": "met", "missed": "**missed**", "not measured": "*not measured*"}[v.status]
        when = f"{v.run['date'][:10]}, {v.run['code'].get('commit_short')}" if v.run else "no run"
        rows.append([v.target.text, f"#{v.target.issue}", f"`{v.target.benchmark}`", v.target.key, v.asked,
                     v.shown, status, when])
    return table(["target", "issue", "benchmark", "key", "asked", "measured", "", "run"], rows)


def targets_sentence(verdicts: list[Verdict]) -> str:
    count = {s: sum(1 for v in verdicts if v.status == s) for s in ("met", "missed", "not measured")}
    text = f"Of {len(verdicts)} targets, {count['met']} met, {count['missed']} missed"
    text += f" and {count['not measured']} not measured." if count["not measured"] else "."
    missed = [v.target.key for v in verdicts if v.status == "missed"]
    return text + (f" Missed: {', '.join(missed)}." if missed else "")


def retired_list(retired: list[Retired]) -> str:
    """The targets no longer checked, each with the issue that set it, the one that retired it, and why."""
    return "\n".join(f"* {r.text} (`{r.key}`, issue #{r.issue}), retired by issue #{r.retired_by}: {r.why}."
                     for r in retired)


def newest(results: Path | None = None) -> dict[str, dict[str, Any] | None]:
    out: dict[str, dict[str, Any] | None] = {}
    for name in BENCHMARKS:
        runs = common.latest_runs(name, 1, results)
        out[name] = runs[0] if runs else None
    return out


def page(runs: dict[str, dict[str, Any] | None]) -> str:
    """docs/benchmarks.md: the targets, then each benchmark's newest run."""
    verdicts = check(runs)
    lines = [
        "# Benchmarks", "",
        "<!-- Rendered by benchmarks/report.py from the JSON in benchmarks/results/; do not edit by hand: "
        "re-run a benchmark, then `python benchmarks/report.py`. -->", "",
        "Each benchmark script saves its raw results, with the commit and the machine, as one JSON file per run "
        "in `benchmarks/results/<benchmark>/`; this page is rendered from the newest file of each, and the "
        "targets are checked in one place (`benchmarks/targets.py`). Sizes are decimal: 1 MB = 1,000,000 bytes. "
        "To reproduce, see `benchmarks/README.md`.", "",
        table(["benchmark", "script", "newest run", "runs saved"],
              [[module(n).TITLE, f"`benchmarks/{n}.py`",
                f"{r['date'][:16].replace('T', ' ')} UTC, {r['code'].get('commit_short')}" if r else "none",
                str(len(common.result_files(n, Path(r['_path']).parent.parent if r else None)))]
               for n, r in runs.items()]), "",
        "## Targets", "", targets_sentence(verdicts), "", targets_table(verdicts), "",
    ]
    if RETIRED:
        lines += ["Retired targets, no longer checked:", "", retired_list(RETIRED), ""]
    for name, run in runs.items():
        mod = module(name)
        lines += [f"## {mod.TITLE}", ""]
        if run is None:
            lines += [f"No run saved yet: `python benchmarks/{name}.py`.", ""]
            continue
        lines += [run_header(run), "", mod.render(run).rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Two runs of one benchmark: every number side by side, and the targets of each."""
    if old["benchmark"] != new["benchmark"]:
        raise SystemExit(f"not the same benchmark: {old['benchmark']} and {new['benchmark']}")
    mod = module(new["benchmark"])
    a, b = mod.metrics(old), mod.metrics(new)
    rows = []
    for name in dict.fromkeys([*a, *b]):
        unit = (a.get(name) or b[name])[1]
        va, vb = a.get(name, (None, unit))[0], b.get(name, (None, unit))[0]
        change = f"{(vb - va) / va:+.0%}" if va and vb is not None else "–"
        rows.append([name, "–" if va is None else fmt(va, unit), "–" if vb is None else fmt(vb, unit), change])
    va_, vb_ = (check({new["benchmark"]: r}, [t for t in TARGETS if t.benchmark == new["benchmark"]])
                for r in (old, new))
    trows = [[x.target.key, x.asked, f"{x.shown} ({x.status})", f"{y.shown} ({y.status})"] for x, y in zip(va_, vb_)]
    lines = [f"# {mod.TITLE}: two runs", "", "## Before", "", run_header(old), "", "## After", "", run_header(new), "",
             "## Targets", "", table(["target", "asked", "before", "after"], trows), "",
             "## Numbers", "", table(["measure", "before", "after", "change"], rows, right=(1, 2, 3)), ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("what", nargs="*", help="nothing (the page), 'targets', or 'compare' and a benchmark "
                        "or two JSON files")
    parser.add_argument("--output", default=str(PAGE), help="where the page goes ('-': print it); default docs/benchmarks.md")
    common.add_common_arguments(parser)
    args = parser.parse_args(argv)
    if not args.what:
        text = page(newest(args.results))
        if args.output == "-":
            print(text, end="")
        else:
            Path(args.output).write_text(text)
            print(f"written: {args.output}", file=sys.stderr)
        return 0
    if args.what[0] == "targets":
        verdicts = check(newest(args.results))
        print(targets_sentence(verdicts) + "\n\n" + targets_table(verdicts))
        return 1 if any(v.status == "missed" for v in verdicts) else 0
    if args.what[0] == "compare":
        rest = args.what[1:]
        if len(rest) == 1:
            runs = common.latest_runs(rest[0], 2, args.results)
            if len(runs) < 2:
                parser.error(f"{rest[0]} has {len(runs)} saved run(s); two are needed")
            old, new = runs[1], runs[0]
        elif len(rest) == 2:
            old, new = (common.load_run(Path(p)) for p in rest)
        else:
            parser.error("compare takes a benchmark name or two JSON files")
        print(compare(old, new))
        return 0
    parser.error(f"unknown: {args.what[0]}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
