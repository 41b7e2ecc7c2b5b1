"""The child side: a warm server that forks one child per job, and what each child does.

Pipeline step *isolate* (directive → job → **child**: load → trace → graph →
render/export → cache).  ``python -m sphinx_netviz.worker serve`` imports
torch and runs one operation on the ``meta`` device (the one-off warm-up,
about 2 s), then forks a child for each ``run <job folder>`` line it reads
on stdin.  Each child:

* starts its own session (so a kill reaches everything it starts: Graphviz,
  threads, processes the model spawns) and ignores the terminal's Ctrl-C;
* sends its stdin/stdout/stderr to the job folder, limits its address
  space to what it has plus ``netviz_memory_mb``;
* runs the pipeline for the job's drawings, stores them in the cache
  through the job folder, writes ``result.json``, and leaves with
  ``os._exit`` (no atexit hooks of model code, no waiting for its threads).

The server reports ``started <folder> <pid>`` and ``exited <folder>
<code>`` on stdout (a negative code is a signal), and when its stdin closes
(the parent ended, however) it kills every child's session and exits.
``python -m sphinx_netviz.worker run <folder>`` runs one job in a fresh
process: the fallback where ``fork`` does not exist.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import resource
import selectors
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .options import say
from .artifacts import Artifacts
from .cache import DiagramCache
from .errors import NetvizError, safe_text
from .jobs import JOB_FILE, OUTPUT_FILE, PROGRESS_FILE, RESULT_FILE, Failure, Job, JobResult
from .limits import Budget

#: seconds the pipeline keeps in hand before the parent's deadline, to store its results
#: (at most a tenth of the diagram's time)
MARGIN = 2.0


def warm_up(export: bool = False) -> None:
    """Import torch and run one meta operation: every forked child starts past both.

    With ``export``, also export a tiny model with each exporter: 1.2 s once
    here for dynamo, measured to save 0.9 s in each child that exports
    through it (SmallResNet's structure export: 2.1 s → 1.2 s), and it
    builds the ONNX registry every dynamo export reuses; the TorchScript
    exporter's first export in a process costs about 1 s more than the next.
    """
    import torch

    torch.set_num_threads(1)
    probe = torch.empty(2, 2, device="meta")
    (probe @ probe).relu()
    _no_progress_monitor()
    import sphinx_netviz.pipeline  # noqa: F401  (and the modules it imports)
    import sphinx_netviz.trace  # noqa: F401
    from sphinx_netviz.onnx_export import export_onnx

    if export:
        tiny = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
        for exporter in ("dynamo", "torchscript"):
            try:
                export_onnx(tiny, (torch.zeros(1, 2),), {}, ["input"], ["output"], structure=True,
                            exporter=exporter)
            except Exception:  # noqa: BLE001  (only a warm-up: a child reports real export failures)
                pass


def _no_progress_monitor() -> None:
    """Keep tqdm from starting its monitor thread (torch.fx makes a disabled bar in every export).

    The thread is tqdm's, not the model's, yet a child reports every thread left running.
    """
    if importlib.util.find_spec("tqdm") is None:
        return
    import tqdm

    tqdm.tqdm.monitor_interval = 0


def _progress(folder: Path) -> Callable[[str], None]:
    def stage(name: str) -> None:
        with open(folder / PROGRESS_FILE, "a") as handle:
            handle.write(name + "\n")
    return stage


def _limit_memory(extra_bytes: int) -> None:
    """Cap the address space at what the process has now plus ``extra_bytes``."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        now = pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        now = 2_000_000_000
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = now + extra_bytes
    for inherited in (soft, hard):  # a cap set on the whole build stays in force
        if inherited != resource.RLIM_INFINITY:
            cap = min(cap, inherited)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _isolate(folder: Path) -> None:
    """Own session, no terminal signals, output into the job folder."""
    try:
        os.setsid()
    except OSError:
        pass  # already a session leader (the spawned fallback)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(folder / OUTPUT_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)


def _is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` or an exception behind it is an allocation that the memory cap refused."""
    seen: set[int] = set()
    current: object = exc
    while isinstance(current, BaseException) and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MemoryError):
            return True
        text = safe_text(current, 2000)
        if "can't allocate memory" in text or "Cannot allocate memory" in text:
            return True
        try:
            current = current.__cause__ or current.__context__
        except BaseException:  # noqa: BLE001  (a hostile exception's attributes)
            return False
    return False


def run_job(folder: Path) -> None:
    """Do one job in this process (a forked or spawned child) and write its result."""
    started = time.monotonic()
    stage = _progress(folder)
    stage("start")
    job: Job = pickle.loads((folder / JOB_FILE).read_bytes())
    result = JobResult()
    try:
        _limit_memory(job.limits.memory_bytes)
        sys.path[:] = list(job.sys_path)
        try:
            os.chdir(job.cwd)
        except OSError:
            pass
        result = _draw_job(job, folder, stage, started)
    except BaseException as exc:  # noqa: BLE001  (model code can raise anything, SystemExit too)
        failure = _failure(exc, folder, job)
        result.failures = {drawing.key: failure for drawing in job.drawings}
    # threads the model started are stopped by os._exit; say so
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    if others:
        result.problems.append(Failure("trace", (
            f"model code left {len(others)} thread(s) running ({', '.join(sorted(others)[:3])}); "
            "they were stopped when the diagram was done. Join or stop threads a model starts")))
    (folder / RESULT_FILE).write_bytes(result.to_json())


def _failure(exc: BaseException, folder: Path, job: Job) -> Failure:
    from .jobs import STAGE_SUBTYPES, STAGE_WORDS, last_stage

    where = last_stage(folder)
    if _is_out_of_memory(exc):
        return Failure(STAGE_SUBTYPES[where], (
            f"ran out of its memory limit while {STAGE_WORDS[where]} "
            f"({say('memory_mb', f'{job.limits.memory_bytes / 1e6:g}')} MB): {safe_text(exc, 200)}. "
            f"Raise {say('memory_mb')}, give a smaller {say('input_shapes')}, or set {say('device', 'meta')}"))
    if isinstance(exc, NetvizError):
        return Failure(exc.stage, exc.message)
    return Failure(STAGE_SUBTYPES[where], f"model code raised {safe_text(exc)} while {STAGE_WORDS[where]}")


def _draw_job(job: Job, folder: Path, stage: Callable[[str], None], started: float) -> JobResult:
    from .pipeline import make_group

    # module names are found along the job's sys.path (the parent's), not one model code changed
    cache = DiagramCache(job.cache_root, scratch=folder, search_path=job.sys_path)
    first = job.drawings[0].spec
    known = cache.lookup_export(job.export_key) if first.onnx != "none" else None
    margin = min(MARGIN, 0.1 * job.limits.timeout)
    left = job.limits.timeout - (time.monotonic() - started) - margin
    made = make_group([(f"nv{d.key[:8]}", d.spec) for d in job.drawings], job.settings,
                      torch_threads=1, known_onnx=known, budget=Budget(max(0.0, left)),
                      memory_bytes=job.limits.memory_bytes, on_stage=stage)
    result = JobResult()
    stage("store")
    for drawing, artifacts in zip(job.drawings, made):
        if isinstance(artifacts, NetvizError):
            result.failures[drawing.key] = Failure(artifacts.stage, artifacts.message)
            continue
        if artifacts.onnx is not None and known is None:
            cache.store_export(job.export_key, artifacts)
        try:
            cache.store(drawing.key, artifacts)
        except OSError as exc:
            result.failures[drawing.key] = Failure("write", (
                f"cannot write the diagram into the cache folder {job.cache_root} "
                f"({exc.strerror or exc}); make it writable (it is netviz_cache_dir, by default <doctrees>/netviz)"))
        result.timings = dict(artifacts.timings)
        _log_timings(first.target, artifacts)
    return result


#: environment variable naming a file that gets one JSON line of stage timings per drawing
#: (for benchmarks/docs_onnx_share.py; unset in normal builds)
TIMINGS_LOG = "NETVIZ_TIMINGS_LOG"


def _log_timings(target: str, artifacts: Artifacts) -> None:
    path = os.environ.get(TIMINGS_LOG)
    if not path:
        return
    line = json.dumps({"target": target, "onnx_mode": artifacts.onnx_mode, "device": artifacts.device,
                       "timings": artifacts.timings})
    with open(path, "a") as handle:  # one short write per line: lines of parallel children stay whole
        handle.write(line + "\n")


# -- the server ---------------------------------------------------------------

def serve(warm_export: bool = False) -> None:
    """Fork a child per ``run <folder>`` line on stdin; report starts and exits on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up(warm_export)
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    children: dict[int, str] = {}
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    stdin_open, pending = True, b""
    while stdin_open or children:
        if stdin_open and selector.select(timeout=0.02):
            chunk = os.read(0, 65536)
            if not chunk:
                stdin_open = False
                _kill_all(children)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not line.startswith(b"run "):
                    continue
                folder = os.fsdecode(line[4:])
                pid = os.fork()
                if pid == 0:  # the child
                    _child_main(Path(folder))
                children[pid] = folder
                out.write(f"started {folder} {pid}\n")
                out.flush()
        elif not stdin_open:
            time.sleep(0.02)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                break
            folder = children.pop(pid, None)
            if folder is not None:
                code = os.waitstatus_to_exitcode(status)
                _kill_group(pid)  # whatever the child left running
                if stdin_open:
                    out.write(f"exited {folder} {code}\n")
                    out.flush()


def _child_main(folder: Path) -> None:
    """In the forked child: never return into the server's loop."""
    code = 0
    try:
        _isolate(folder)
        run_job(folder)
    except BaseException:  # noqa: BLE001  (the result file is missing: the parent says so)
        code = 70
    finally:
        os._exit(code)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_all(children: dict[int, str]) -> None:
    for pid in children:
        _kill_group(pid)


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:  # serve [--warm-export] [FOLDER]: the folder only names the build in ps
        serve(warm_export="--warm-export" in argv)
        return 0
    if len(argv) == 2 and argv[0] == "run":
        folder = Path(argv[1])
        _isolate(folder)
        warm_up()
        _child_main(folder)
    print("usage: python -m sphinx_netviz.worker serve [--warm-export] [FOLDER] | run FOLDER", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
