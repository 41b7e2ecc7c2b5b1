"""What every benchmark shares: the run record, raw results as JSON, fresh-process workers, decimal MB.

A benchmark script measures, then saves one JSON file per run::

    benchmarks/results/<benchmark>/<UTC date and time>-<commit>.json

holding the run record (:func:`start_run`: date, command, git commit and dirty files, versions,
machine) and the script's raw results (every repeat; no medians, no verdicts).
``benchmarks/report.py`` renders the Markdown report from these files and checks the targets
(``benchmarks/targets.py``), so two runs can be compared number by number.

Sizes are decimal, as in the product (``sphinx_netviz.limits.MB``): 1 MB = 1,000,000 bytes.
Peak memory is saved in bytes; ``ru_maxrss`` (KiB on Linux) is converted with :func:`maxrss_bytes`.

This module never imports torch, so the parent side of a benchmark stays light.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Any, Callable, Iterable, Sequence

#: a worker's clock: the scripts import this module first, before torch
WORKER_START = time.perf_counter()

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "results"
SCHEMA = 1

# -- sizes: decimal, like the product ----------------------------------------------------------

KB = 1_000
MB = 1_000_000
GB = 1_000_000_000


def maxrss_bytes(ru_maxrss: int) -> int:
    """``getrusage().ru_maxrss`` (kibibytes on Linux) in bytes."""
    return int(ru_maxrss) * 1024


def fmt_bytes(n: float | None) -> str:
    """Decimal units: ``950 kB``, ``1.5 MB``, ``702 MB``, ``1.52 GB``; ``–`` for None."""
    if n is None:
        return "–"
    if n >= GB:
        return f"{n / GB:.2f} GB"
    if n >= 100 * MB:
        return f"{n / MB:.0f} MB"
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{n / KB:.0f} kB"


def fmt_s(seconds: float | None, digits: int = 1) -> str:
    return "–" if seconds is None else f"{seconds:.{digits}f} s"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 diagram``, ``5 diagrams``."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"


def med(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None; None if there are none."""
    kept = [v for v in values if v is not None]
    return median(kept) if kept else None


def table(head: Sequence[str], rows: Iterable[Sequence[Any]], right: Sequence[int] = ()) -> str:
    """A Markdown table; columns whose index is in ``right`` are right-aligned (numbers)."""
    rule = ["---:" if i in right else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |"
              for row in rows]
    return "\n".join(lines)


# -- the run record ------------------------------------------------------------------------------

#: distributions whose versions every run records
VERSIONED = ("torch", "onnx", "onnxscript", "onnxruntime", "transformers", "diffusers", "torchview",
             "torchviz", "graphviz", "sphinx", "myst-parser")


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def _dot_version() -> str | None:
    try:
        done = subprocess.run(["dot", "-V"], capture_output=True, text=True)
    except OSError:
        return None
    return (done.stderr or done.stdout).strip() or None


def versions() -> dict[str, str | None]:
    """Versions of Python, the measured code, its dependencies, the peers and Graphviz's ``dot``."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    source = (ROOT / "sphinx_netviz" / "__init__.py").read_text()
    found = re.search(r'^__version__\s*=\s*"([^"]+)"', source, re.M)
    out["sphinx-netviz"] = found.group(1) if found else None
    for dist in VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    out["dot"] = _dot_version()
    return out


def machine() -> dict[str, Any]:
    """CPU count, CPU model, RAM (bytes), OS, and the load average now (1, 5 and 15 minutes)."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
                            "cpu": platform.processor() or None, "ram_bytes": None,
                            "os": f"{platform.system()} {platform.release()}",
                            "load_start": list(os.getloadavg())}
    try:
        kib = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        info["ram_bytes"] = int(kib.group(1)) * 1024 if kib else None
        model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        info["cpu"] = model.group(1).strip() if model else info["cpu"]
    except OSError:
        pass
    return info


def code_digest() -> str:
    """A digest of the measured code (``sphinx_netviz/`` and ``docs/``'s models): did it change mid-run?"""
    digest = hashlib.sha256()
    for folder in (ROOT / "sphinx_netviz", DOCS / "example_models"):
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def git_state() -> dict[str, Any]:
    """The commit measured and the files that differed from it (``git status --porcelain``)."""
    dirty = [line for line in _git("status", "--porcelain").splitlines() if line.strip()]
    return {"commit": _git("rev-parse", "HEAD") or None, "commit_short": _git("rev-parse", "--short", "HEAD") or None,
            "dirty": dirty[:200], "root": str(ROOT)}


def start_run(benchmark: str, argv: Sequence[str], params: dict[str, Any]) -> dict[str, Any]:
    """The record of a run about to start; :func:`finish_run` completes and saves it."""
    return {
        "schema": SCHEMA, "benchmark": benchmark,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", f"benchmarks/{benchmark}.py", *argv]),
        "params": params, "code": {**git_state(), "digest": code_digest()},
        "versions": versions(), "machine": machine(),
        "_clock": time.perf_counter(),
    }


def finish_run(run: dict[str, Any], results: dict[str, Any], folder: Path | None = None) -> Path:
    """Add the results and what changed during the run; write the JSON file; its path."""
    run["elapsed_s"] = time.perf_counter() - run.pop("_clock")
    run["machine"]["load_end"] = list(os.getloadavg())
    head = _git("rev-parse", "HEAD") or None
    run["code"]["changed_during_run"] = code_digest() != run["code"]["digest"]
    run["code"]["head_after"] = head if head != run["code"]["commit"] else None
    run["results"] = results
    return save_run(run, folder)


def save_run(run: dict[str, Any], folder: Path | None = None) -> Path:
    when = _dt.datetime.fromisoformat(run["date"]).astimezone(_dt.timezone.utc)
    out = (folder or RESULTS) / run["benchmark"]
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{when:%Y%m%dT%H%M%SZ}-{run['code'].get('commit_short') or 'nogit'}.json"
    path.write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n")
    return path


def load_run(path: Path) -> dict[str, Any]:
    run = json.loads(Path(path).read_text())
    run["_path"] = str(path)
    return run


def result_files(benchmark: str, folder: Path | None = None) -> list[Path]:
    """A benchmark's JSON files, oldest first (the names start with the UTC time)."""
    return sorted(((folder or RESULTS) / benchmark).glob("*.json"))


def latest_runs(benchmark: str, n: int = 1, folder: Path | None = None) -> list[dict[str, Any]]:
    """The ``n`` newest runs of a benchmark, newest first."""
    return [load_run(p) for p in reversed(result_files(benchmark, folder)[-n:])]


def add_common_arguments(parser: Any) -> None:
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of the JSON results (default: benchmarks/results of this checkout)")


# -- workers: each measurement in a fresh Python process ----------------------------------------

STAGE = "BENCH-STAGE "
RESULT = "BENCH-RESULT "


def stage(name: str, **more: Any) -> None:
    """Worker side: a stage is done (if the worker is killed later, the stages done are kept)."""
    print(STAGE + json.dumps({"stage": name, "at": time.perf_counter() - WORKER_START, **more}), flush=True)


def peak_rss_bytes() -> int:
    """Worker side: this process's own peak RSS."""
    import resource

    return maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def first_line(exc: BaseException) -> str:
    """``Type: first line`` of the exception, of its innermost cause, and where that was raised."""
    def line(e: BaseException) -> str:
        text = str(e).strip().splitlines()
        return f"{type(e).__name__}: {text[0] if text else ''}".strip().rstrip(":")[:240]

    cause, seen = exc, {id(exc)}
    while cause.__cause__ is not None and id(cause.__cause__) not in seen:
        cause = cause.__cause__
        seen.add(id(cause))
    text = line(exc) if cause is exc else f"{line(exc)} ← {line(cause)}"
    frames = traceback.extract_tb(cause.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {'/'.join(Path(last.filename).parts[-2:])}:{last.lineno} in {last.name})"
    return text


def worker(measure: Callable[..., dict[str, Any]], *args: Any) -> int:
    """Worker side: run ``measure``; print its result (or the error) as one line for the parent."""
    try:
        result = {"ok": True, **measure(*args)}
    except BaseException as exc:  # noqa: BLE001 - any failure is a result
        result = {"ok": False, "error": first_line(exc)}
    result.setdefault("seconds", time.perf_counter() - WORKER_START)
    print(RESULT + json.dumps(result), flush=True)
    return 0


def worker_env(**extra: str) -> dict[str, str]:
    """This checkout first on the path (and docs/ for ``example_models``); offline; fixed hash seed."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONHASHSEED="0", **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(DOCS), os.environ.get("PYTHONPATH", "")) if p)
    return env


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (by parent id, so children that left its session count too)."""
    children, out, todo = _proc_children(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _pss_bytes(pid: int) -> int:
    """A process's proportional set size (shared pages split between their users), else its RSS."""
    try:
        found = re.search(r"^Pss:\s+(\d+) kB", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.M)
        if found:
            return int(found.group(1)) * 1024
    except OSError:
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def tree_memory_bytes(pid: int) -> int:
    """The memory of a process and all its descendants now: the sum of their PSS."""
    return sum(_pss_bytes(p) for p in [pid, *descendants(pid)])


def kill_tree(pid: int) -> None:
    """SIGKILL a process, its process group and every descendant (the worker and its Graphviz)."""
    below = descendants(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    for p in [pid, *below]:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


@dataclass
class Finished:
    """A finished (or killed) process."""

    returncode: int | None
    stdout: str
    stderr: str
    wall_s: float
    timed_out: bool
    #: the largest sum of PSS over the process tree seen while it ran (``sample_memory=True``)
    peak_tree_bytes: int | None = None


def run_process(cmd: Sequence[str], timeout: float, *, cwd: Path = ROOT, env: dict[str, str] | None = None,
                sample_memory: bool = False, interval: float = 0.25) -> Finished:
    """Run a command in a session of its own; kill its whole tree if it runs past ``timeout`` s.

    With ``sample_memory``, the memory of the process tree is read every ``interval`` seconds
    (sum of PSS; a peak shorter than the interval can be missed).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, text=True, cwd=cwd,
                                env=env if env is not None else worker_env(), start_new_session=True)
        peak, timed_out = (0 if sample_memory else None), False
        while True:
            try:
                proc.wait(timeout=interval)
                break
            except subprocess.TimeoutExpired:
                pass
            if peak is not None:
                peak = max(peak, tree_memory_bytes(proc.pid))
            if time.perf_counter() - started > timeout:
                kill_tree(proc.pid)
                proc.wait()
                timed_out = True
                break
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Finished(proc.returncode, out.read(), err.read(), wall, timed_out, peak)


def parse_worker(done: Finished, timeout: float) -> dict[str, Any]:
    """The worker's result line, or a failure result that says how far it got."""
    lines = done.stdout.splitlines()
    stages = [json.loads(line[len(STAGE):]) for line in lines if line.startswith(STAGE)]
    results = [json.loads(line[len(RESULT):]) for line in lines if line.startswith(RESULT)]
    if results:
        result = results[-1]
    else:
        last = stages[-1] if stages else {"stage": "start"}
        tail = (done.stderr.strip().splitlines() or [""])[-1][:200]
        why = (f"timed out after {timeout:g} s (done: {last['stage']})" if done.timed_out else
               f"crashed, exit code {done.returncode} (done: {last['stage']}): {tail}")
        result = {"ok": False, "error": why, "seconds": None,
                  **{k: v for k, v in last.items() if k not in ("stage", "at")}}
    result["wall_s"] = done.wall_s
    result["timed_out"] = done.timed_out
    if stages:
        result["stages"] = stages
    if done.peak_tree_bytes is not None:
        result["peak_tree_bytes"] = done.peak_tree_bytes
    return result


def run_worker(script: Path | str, args: Sequence[str], timeout: float, *, label: str | None = None,
               env: dict[str, str] | None = None, sample_memory: bool = False) -> dict[str, Any]:
    """``python SCRIPT --worker ARGS…`` in a fresh process; its result, even if it was killed."""
    print(f"  … {label or ' '.join(args)}", file=sys.stderr, flush=True)
    done = run_process([sys.executable, str(script), "--worker", *args], timeout, env=env,
                       sample_memory=sample_memory)
    return parse_worker(done, timeout)


# -- a Sphinx build in a fresh process ------------------------------------------------------------

SPHINX_WRAPPER = """
import json, resource, sys
from sphinx.cmd.build import main
rc = main(sys.argv[1:])
use = lambda who: resource.getrusage(who).ru_maxrss * 1024
print(%r + json.dumps({"ok": rc == 0, "rc": rc, "sphinx_max_rss_bytes": use(resource.RUSAGE_SELF),
      "children_max_rss_bytes": use(resource.RUSAGE_CHILDREN), "torch_imported": "torch" in sys.modules}),
      flush=True)
sys.exit(rc)
""" % RESULT


def sphinx_build(src: Path, out: Path, extra: Sequence[str] = (), *, fresh: bool = True,
                 env: dict[str, str] | None = None, timeout: float = 1800.0, label: str = "") -> dict[str, Any]:
    """One ``sphinx-build -b html`` in a fresh process: seconds, memory, torch imported?, warnings.

    Memory: the Sphinx process's own peak RSS and its largest waited-for descendant's
    (``RUSAGE_SELF``/``RUSAGE_CHILDREN``), and the peak of the whole tree's PSS, sampled.
    """
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    print(f"  … sphinx-build {' '.join(extra)} {label}".rstrip(), file=sys.stderr, flush=True)
    done = run_process([sys.executable, "-c", SPHINX_WRAPPER, "-b", "html", *extra, str(src), str(out)],
                       timeout, cwd=ROOT, env=env if env is not None else worker_env(), sample_memory=True)
    result = parse_worker(done, timeout)
    result["seconds"] = done.wall_s
    result["warnings"] = [line for line in done.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    return result
