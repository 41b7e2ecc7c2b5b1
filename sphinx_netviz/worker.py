"""The child side: a warm server that forks one child per job, and what each child does.

Pipeline step *isolate* (directive → job → **child**: load → trace → graph →
render/export → cache).  ``python -m sphinx_netviz.worker serve`` imports
torch and runs one operation on the ``meta`` device (the one-off warm-up,
about 2 s), imports the installed libraries the runner names (learned from
what earlier children imported; in a forked process that then serves, see
:mod:`sphinx_netviz.preload`), then forks a child for each ``run <job
folder>`` line it reads on stdin.  Each child:

* starts its own session, becomes a subreaper (Linux: the processes the
  model starts stay its descendants, even in a new session or after a
  double fork; see :mod:`sphinx_netviz.processes`) and ignores the
  terminal's Ctrl-C;
* reads nothing, writes its stdout and stderr into a pipe the server reads
  (keeping the first and last :data:`~sphinx_netviz.limits.OUTPUT_KEEP_BYTES`
  of it for the job folder's ``output.log``), limits its address space to
  what it has plus ``netviz_memory_mb``;
* runs the pipeline for the job's drawings, stores them in the cache
  through the job folder, writes ``result.json``, kills every process it
  left, and leaves with ``os._exit`` (no atexit hooks of model code, no
  waiting for its threads).  If it cannot write into its job folder (a
  full disk, a folder removed by model code) it leaves at once with an
  exit code that says which (:func:`~sphinx_netviz.jobs.exit_code_for`).
  Its result also names the installed modules it imported (what the next
  build's server preloads).

The server reports ``started <folder> <pid>`` and ``exited <folder>
<code>`` on stdout (a negative code is a signal), once the child's
descendants are killed too, and its output stored; when its stdin closes
(the parent ended, however) it kills every child with its descendants and
exits at once (``os._exit``: the interpreter's teardown with torch and the
preloaded libraries took 2-5 s of every build).  ``python -m sphinx_netviz.worker run <folder>`` runs one job in a
fresh process (which forks the child and supervises it as the server
would): the fallback with ``NETVIZ_START_METHOD=spawn``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import resource
import select
import selectors
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from .options import say
from .artifacts import Artifacts
from .cache import DiagramCache
from .errors import NetvizError, safe_text
from .jobs import (
    EXIT_DISK_FULL,
    EXIT_FOLDER_GONE,
    JOB_FILE,
    OUTPUT_FILE,
    PROGRESS_FILE,
    RESULT_FILE,
    Failure,
    Job,
    JobResult,
    KeptOutput,
    disk_full,
    exit_code_for,
    mark,
)
from .limits import Budget
from .preload import PRELOAD_ENV, PRELOAD_SECONDS, ImportRecorder, fork_preloaded
from .processes import become_subreaper, end_adopted, end_tree

#: seconds the pipeline keeps in hand before the parent's deadline, to store its results
#: (at most a tenth of the diagram's time)
MARGIN = 2.0


#: the module a child imports when it runs torch's dynamo exporter (to build the registry of ONNX
#: functions every dynamo export uses): when the list to preload names it (a child of an earlier
#: build ran dynamo, :mod:`~sphinx_netviz.preload`), the server warms that exporter up too
DYNAMO_MARKER = "onnxscript.function_libs.torch_lib"


def wants_dynamo(names: Sequence[str]) -> bool:
    """Whether the modules to preload say that children ran the dynamo exporter."""
    return any(name == DYNAMO_MARKER or name.startswith(DYNAMO_MARKER + ".") for name in names)


def warm_up(export: bool = False, dynamo: bool = False) -> None:
    """Import torch and run one meta operation: every forked child starts past both.

    With ``export``, also export a tiny model with the TorchScript exporter (0.16 s here, which
    each child would otherwise pay in its first TorchScript export), and with ``dynamo``
    with the dynamo exporter too: 2.2 s once here, which builds the ONNX registry every dynamo
    export reuses and saves each child that exports through dynamo about 1.5 s.  Only models
    on ``meta`` (big ones, or ``:onnx: structure``) go through dynamo, so a build warms it up
    only once a child of an earlier build has run it (:data:`DYNAMO_MARKER`): a build of small
    models does not pay for it.
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
        for exporter in ("torchscript", "dynamo") if dynamo else ("torchscript",):
            try:
                export_onnx(tiny, (torch.zeros(1, 2),), {}, ["input"], ["output"], structure=True,
                            exporter=exporter)
            except Exception:  # noqa: BLE001  (only a warm-up: a child reports real export failures)
                continue
            mark(f"server-warmed {exporter}")


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
        try:
            with open(folder / PROGRESS_FILE, "a") as handle:
                handle.write(name + "\n")
        except OSError as exc:  # nothing can be reported through the job folder: the exit code says why
            _leave(exit_code_for(exc))
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


def _isolate(output: int) -> None:
    """Own session, a subreaper, no terminal signals; stdout and stderr into ``output`` (a pipe)."""
    try:
        os.setsid()
    except OSError:
        pass  # already a session leader
    become_subreaper()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(null)
    if output > 2:
        os.close(output)


def _leave(code: int) -> None:
    """End this child: kill every process it left running (its descendants), then exit."""
    try:
        end_tree(os.getpid(), keep_root=True)
    finally:
        os._exit(code)


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
    mark("child-start")
    stage = _progress(folder)
    stage("start")
    job: Job = pickle.loads((folder / JOB_FILE).read_bytes())
    result = JobResult()
    recorder = ImportRecorder()
    try:
        _limit_memory(job.limits.memory_bytes)
        sys.path[:] = list(job.sys_path)
        try:
            os.chdir(job.cwd)
        except OSError:
            pass
        from .loader import project_folders

        # a package that does not import is looked for from conf.py's folder (the sys.path hint)
        with project_folders(job.folders), recorder:
            result = _draw_job(job, folder, stage, started)
    except BaseException as exc:  # noqa: BLE001  (model code can raise anything, SystemExit too)
        failure = _failure(exc, folder, job)
        result.failures = {drawing.key: failure for drawing in job.drawings}
    try:  # what the server may preload for the next build (sphinx_netviz.preload)
        result.imported, result.used = recorder.report()
    except Exception:  # noqa: BLE001  (sys.modules as model code left it)
        pass
    # threads the model started are stopped by os._exit; say so
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    if others:
        result.problems.append(Failure("trace", (
            f"model code left {len(others)} thread(s) running ({', '.join(sorted(others)[:3])}); "
            "they were stopped when the diagram was done. Join or stop threads a model starts")))
    (folder / RESULT_FILE).write_bytes(result.to_json())
    mark("child-end")


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
    budget = Budget(max(0.0, left))
    store = cache.store_snapshot if job.kind == "side" else cache.store
    if job.kind == "draw":
        made = make_group([(f"nv{d.key[:8]}", d.spec) for d in job.drawings], job.settings,
                          torch_threads=1, known_onnx=known, budget=budget,
                          memory_bytes=job.limits.memory_bytes, on_stage=stage)
    else:  # an architecture diff's side, or its merged drawing
        from .archjob import make_diffs, make_sides

        made = make_sides(job, stage, budget) if job.kind == "side" else make_diffs(job, stage, budget, cache)
    result = JobResult()
    stage("store")
    for drawing, artifacts in zip(job.drawings, made):
        if isinstance(artifacts, NetvizError):
            result.failures[drawing.key] = Failure(artifacts.stage, artifacts.message)
            continue
        if artifacts.onnx is not None and known is None:
            cache.store_export(job.export_key, artifacts)
        try:
            store(drawing.key, artifacts)
        except OSError as exc:
            if not folder.is_dir():  # model code removed it: the runner says so
                _leave(EXIT_FOLDER_GONE)
            full = exit_code_for(exc) == EXIT_DISK_FULL
            result.failures[drawing.key] = Failure("write", disk_full(job.cache_root) if full else (
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

class _Child:
    """A forked child as its supervisor sees it: its job folder, and the pipe of its output."""

    def __init__(self, pid: int, folder: Path, fd: int) -> None:
        self.pid = pid
        self.folder = folder
        self.fd = fd
        self.output = KeptOutput()
        #: whether its output may go on (some process still holds the pipe's other end)
        self.open = True

    def read(self, chunks: int = 16) -> None:
        """Keep what is in the pipe now (at most ``chunks`` reads)."""
        for _ in range(chunks):
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.open = False
                return
            self.output.feed(data)


class _Supervisor:
    """Forks a child per job, keeps its output, and when it ends kills what it left, stores its
    output in its folder and reports ``exited`` (to ``out``, while someone listens)."""

    def __init__(self, out: TextIO | None, warm_children: bool = False) -> None:
        self.out = out
        self.warm_children = warm_children
        self.children: dict[int, _Child] = {}
        self.selector = selectors.DefaultSelector()
        #: the exit code of the last child that ended
        self.last_code = 0

    def _say(self, line: str) -> None:
        if self.out is not None:
            self.out.write(line + "\n")
            self.out.flush()

    def start(self, folder: Path) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: none of the other children's pipes, nor the server's reports
            os.close(read)
            for other in self.children.values():
                os.close(other.fd)
            if self.out is not None and self.out.fileno() > 2:
                os.close(self.out.fileno())
            _child_main(folder, write, warm=self.warm_children)
        os.close(write)
        os.set_blocking(read, False)
        child = self.children[pid] = _Child(pid, folder, read)
        self.selector.register(read, selectors.EVENT_READ, child)
        self._say(f"started {folder} {pid}")

    def run(self, listen: bool) -> int:
        """Until stdin closes (if ``listen``: a ``run <folder>`` line starts a job) and every child ended."""
        if listen:
            self.selector.register(0, selectors.EVENT_READ, None)
        pending = b""
        while listen or self.children:
            for key, _ in self.selector.select(timeout=0.02):
                child = key.data
                if child is not None:
                    child.read()
                    if not child.open:
                        self.selector.unregister(child.fd)
                    continue
                chunk = os.read(0, 65536)
                if not chunk:  # the parent is gone: so are its jobs
                    listen, self.out = False, None
                    self.selector.unregister(0)
                    for pid in self.children:
                        end_tree(pid)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.startswith(b"run "):
                        self.start(Path(os.fsdecode(line[4:])))
            self._reap()
        end_adopted(set())
        return self.last_code

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is None:
                continue  # a process adopted from a job that ended, now ended too
            _kill_group(pid)
            end_adopted(set(self.children))  # whatever the child left running, wherever it went
            self._store_output(child)
            self.last_code = os.waitstatus_to_exitcode(status)
            self._say(f"exited {child.folder} {self.last_code}")

    def _store_output(self, child: _Child) -> None:
        """The rest of the child's output (its writers are dead; at most 1 s more), into its folder."""
        until = time.monotonic() + 1.0
        while child.open and time.monotonic() < until:
            if select.select([child.fd], [], [], max(0.0, until - time.monotonic()))[0]:
                child.read()
        if child.fd in self.selector.get_map():
            self.selector.unregister(child.fd)
        os.close(child.fd)
        if child.output.total:
            try:
                child.output.write(child.folder / OUTPUT_FILE)
            except OSError:
                pass  # the folder is gone or the disk full: the runner says so


def serve(warm_export: bool = False, preload_seconds: float = PRELOAD_SECONDS) -> None:
    """Fork a child per ``run <folder>`` line on stdin; report starts and exits on stdout.

    With module names in the environment variable :data:`~sphinx_netviz.preload.PRELOAD_ENV`,
    a forked process imports them first and serves (:func:`~sphinx_netviz.preload.fork_preloaded`;
    ``preload-failed <name> <why>`` for each left out); what they print goes to stderr.
    """
    mark("server-python")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    become_subreaper()
    names = os.environ.pop(PRELOAD_ENV, "").split()  # the children need not see it
    warm_up(warm_export, dynamo=wants_dynamo(names))
    mark("server-warm")
    out = sys.stdout
    if names:
        out = _private_stdout()
        code = fork_preloaded(names, preload_seconds, lambda name, why: _preload_failed(out, name, why))
        if code is not None:  # the forked process served, and ended so
            end_adopted(set())  # what its children left, if it died before them
            _exit_as(code)
        become_subreaper()  # (a forked process is not one)
    mark("server-ready")
    out.write("ready\n")
    out.flush()
    _Supervisor(out).run(listen=True)
    _leave_server(out)


def _leave_server(out: TextIO) -> None:
    """Exit at once, every child ended: without the interpreter's teardown, which with torch and the
    preloaded libraries imported took 2-5 s (freeing their modules, running their atexit hooks) while
    the build waited for it (the runner gives the server 5 s to end before killing it)."""
    for stream in (out, sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # the reader is gone, or the stream closed
    os._exit(0)


def _private_stdout() -> TextIO:
    """The server's report stream on a file descriptor of its own; stdout (fd 1) becomes stderr,
    so that nothing a preloaded library prints passes for a report."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return out


def _preload_failed(out: TextIO, name: str, why: str) -> None:
    print(f"netviz: not preloading {name}: {why}", file=sys.stderr, flush=True)
    out.write(f"preload-failed {name} {' '.join(why.split())}\n")
    out.flush()


def keep(folder: Path) -> int:
    """Run one job in a forked child supervised as the server's are (the spawned fallback); its
    exit code."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    become_subreaper()
    supervisor = _Supervisor(None, warm_children=True)
    supervisor.start(folder)
    return supervisor.run(listen=False)


def _child_main(folder: Path, output: int, warm: bool = False) -> None:
    """In the forked child: never return into the server's loop."""
    code = 0
    try:
        _isolate(output)
        if warm:
            warm_up()
        run_job(folder)
    except BaseException as exc:  # noqa: BLE001  (the result file is missing: the exit code says why)
        code = exit_code_for(exc)
    finally:
        _leave(code)


def _exit_as(code: int) -> None:
    """Exit with ``code`` as the child did: by the same signal if it was killed by one."""
    if code < 0:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            signal.signal(-code, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # SIGKILL's cannot be changed
        os.kill(os.getpid(), -code)
        code = 128 - code
    os._exit(code)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:  # serve [--warm-export] [--preload-seconds N] [FOLDER]: the folder
        seconds = PRELOAD_SECONDS  # only names the build in ps
        if "--preload-seconds" in argv[:-1]:
            seconds = float(argv[argv.index("--preload-seconds") + 1])
        serve(warm_export="--warm-export" in argv, preload_seconds=seconds)
        return 0
    if len(argv) == 2 and argv[0] == "run":
        _exit_as(keep(Path(argv[1])))
    print("usage: python -m sphinx_netviz.worker serve [--warm-export] [--preload-seconds N] [FOLDER] "
          "| run FOLDER", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
