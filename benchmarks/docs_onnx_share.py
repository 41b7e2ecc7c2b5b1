#!/usr/bin/env python
"""How much of a cold build of ``docs/`` the ONNX exports take.

    python benchmarks/docs_onnx_share.py              # serial builds (the issue's measure)
    python benchmarks/docs_onnx_share.py -j auto      # or with Sphinx's -j

Builds ``docs/`` into fresh folders, alternating with ONNX (the site as it is) and without
(``-D netviz_onnx=none``), ``--repeat`` times each, and prints the medians and the share:
(with − without) ÷ with.  The builds with ONNX also log each job's stage timings
(``NETVIZ_TIMINGS_LOG``, see ``sphinx_netviz/worker.py``), so the table lists which
exports cost what, and which kind of file each made.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path, extra: list[str], log: Path | None) -> float:
    """Seconds of one cold ``sphinx-build`` of docs/ into ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ)
    if log is not None:
        env["NETVIZ_TIMINGS_LOG"] = str(log)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", *extra, str(ROOT / "docs"), str(out)],
                   check=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def exports(log: Path) -> list[tuple[str, str, str, float]]:
    """(model, kind, device, seconds) of each distinct export in a timings log."""
    seen: dict[tuple[str, str, str], float] = {}
    for line in log.read_text().splitlines():
        row = json.loads(line)
        key = (row["target"], str(row["onnx_mode"]), row["device"])
        seen[key] = max(seen.get(key, 0.0), row["timings"].get("onnx", 0.0))
    return sorted(((*k, v) for k, v in seen.items()), key=lambda r: -r[3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", dest="jobs", help="Sphinx -j (default: a serial build)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    extra = ["-j", args.jobs] if args.jobs else []
    with_onnx, without = [], []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        log = folder / "timings.jsonl"
        for _ in range(args.repeat):
            log.unlink(missing_ok=True)
            with_onnx.append(build(folder / "with", extra, log))
            without.append(build(folder / "without", [*extra, "-D", "netviz_onnx=none"], None))
        rows = exports(log)
    full, bare = median(with_onnx), median(without)
    print(f"cold build of docs/ ({'-j ' + args.jobs if args.jobs else 'serial'}), "
          f"medians of {args.repeat}, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"| build | seconds | runs |\n|---|---:|---|")
    print(f"| with ONNX | {full:.1f} | {', '.join(f'{t:.1f}' for t in with_onnx)} |")
    print(f"| -D netviz_onnx=none | {bare:.1f} | {', '.join(f'{t:.1f}' for t in without)} |")
    print(f"\nONNX share: ({full:.1f} − {bare:.1f}) ÷ {full:.1f} = {(full - bare) / full:.0%}\n")
    print("| model | kind | traced on | export s (last run, in its job) |\n|---|---|---|---:|")
    for target, kind, device, seconds in rows:
        print(f"| {target} | {kind} | {device} | {seconds:.2f} |")
    print(f"| **sum** | | | {sum(r[3] for r in rows):.1f} |")


if __name__ == "__main__":
    main()
