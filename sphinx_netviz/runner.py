"""The parent side: run jobs in child processes, at most ``jobs`` at once, within their limits.

Pipeline step *isolate* (directive → **runner** → child → cache).  The
calling process (Sphinx, the command line) never imports torch or model
code: it writes each :class:`~sphinx_netviz.jobs.Job` into a fresh folder
and asks a warm server (:mod:`sphinx_netviz.worker`) to fork a child for
it.  A background thread starts queued jobs as slots free up, kills a
child (with every process it started, see :mod:`sphinx_netviz.processes`)
that passes ``netviz_timeout``, and turns every way a child can end into a
:class:`JobOutcome`: a result, or one :class:`~sphinx_netviz.jobs.Failure`
per drawing that says what happened and how to fix it; what the children
imported is learned for the next build's server (:mod:`sphinx_netviz.preload`,
``netviz_preload``).  Where ``fork``
does not exist (or ``NETVIZ_START_METHOD=spawn``), each job runs in a fresh
``python -m sphinx_netviz.worker run`` process instead.  A job folder is
named by the process that made it (pid and start time): a build removes
those whose process is gone (a build killed with ``SIGKILL``), and never
those of another build that is running.
"""

from __future__ import annotations

import os
import pickle
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .limits import DIAGRAMS_AT_ONCE
from .options import say
from .jobs import (
    EXIT_DISK_FULL,
    JOB_FILE,
    RESULT_FILE,
    STAGE_SUBTYPES,
    STAGE_WORDS,
    Failure,
    Job,
    JobResult,
    cut_output,
    disk_full,
    exit_code_for,
    last_output,
    last_stage,
    mark,
)
from . import preload as preloading
from .preload import PRELOAD_ENV, Preloads, names_line
from .processes import end_tree, is_alive, start_time
from .values import size_text

#: the server's stderr, in the scratch folder (its last line explains a server that died)
SERVER_LOG = "server.log"
#: how long the server may take to start (import torch, warm up) before its jobs are given up
SERVER_START_SECONDS = 300.0
#: where the ``sphinx_netviz`` package can be imported from, for the server's ``-m``
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
#: a job folder's name: ``job-<pid>-<start time>-<random>``, the process that made it
_OWNED_FOLDER = re.compile(r"job-(\d+)-(\d+)-")
#: a job folder named without its process (made by an older version) is removed past this age
UNOWNED_FOLDER_SECONDS = 24 * 3600.0
#: seconds a spawned job's process has, once its child was killed past its time, to store the
#: child's output and end by itself
KILL_GRACE_SECONDS = 5.0


@dataclass
class JobOutcome:
    """How one job ended: the child's result (failures per drawing inside), and its timings."""

    job: Job
    result: JobResult
    #: seconds from start to end, as the parent saw them
    seconds: float


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_death(code: int, folder: Path, timed_out: bool, job: Job) -> Failure:
    """One failure for a child that ended without a result (in ``folder``), in the words of its stage."""
    stage = last_stage(folder)
    words = STAGE_WORDS.get(stage, stage)
    subtype = STAGE_SUBTYPES.get(stage, "trace")
    cut = cut_output(folder)
    wrote = (f"; it wrote {size_text(cut[0])} of output (only its beginning and end are kept), which began: "
             f"{cut[1]}" if cut else "")
    if timed_out:
        limit = say("timeout", f"{job.limits.timeout:g}", setting=not job.limits.timeout_option)
        return Failure(subtype, (
            f"took longer than {limit} s (stopped while {words}){wrote}; "
            f"raise {say('timeout')} on the directive or {say('timeout', setting=True)} in conf.py, draw "
            f"fewer levels ({say('depth')}), or skip the download ({say('onnx', 'none')})"))
    if not folder.is_dir():  # the child's exit code (EXIT_FOLDER_GONE) could be model code's own
        return Failure("write", (
            f"its job folder {folder} was removed while the diagram was drawn (by model code?), so it "
            f"could not report; nothing may remove files in {folder.parent} while a build runs"))
    if code == EXIT_DISK_FULL:
        return Failure("write", "the process drawing it could not write into its job folder: "
                                f"{disk_full(job.cache_root)}")
    output = last_output(folder)
    if code < 0:
        how = f"was killed by {_signal_name(-code)}"
        if -code == signal.SIGKILL:
            how += (" (perhaps by the system running out of memory: lower "
                    f"{say('memory_mb', f'{job.limits.memory_bytes / 1e6:g}')} MB or {say('jobs')})")
    else:
        how = f"exited with code {code}"
        if code == 0:
            how += " before it finished (model code called sys.exit() or os._exit()?)"
    said = f"; its last output: {output}" if output else ""
    return Failure(subtype, f"the process drawing it {how} while {words}{wrote}{said}")


def _ended_by(code: int) -> str:
    """``was killed by SIGKILL``, ``exited with code 1``: how a process with exit code ``code`` ended."""
    return f"was killed by {_signal_name(-code)}" if code < 0 else f"exited with code {code}"


def _owner() -> str:
    """``<pid>-<start time>`` of this process: what a job folder's name begins with."""
    pid = os.getpid()
    return f"{pid}-{start_time(pid) or 0}"


def remove_abandoned_folders(scratch_root: Path) -> list[str]:
    """Remove the job folders whose process is gone (a build killed with SIGKILL); their names.

    The folders of a build still running (this one, another sharing the
    cache) stay; so does a folder named without its process (an older
    version's) for :data:`UNOWNED_FOLDER_SECONDS`.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(scratch_root))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith("job-"):
            continue
        owner = _OWNED_FOLDER.match(entry.name)
        try:
            gone = (not is_alive(int(owner.group(1)), int(owner.group(2))) if owner
                    else time.time() - entry.stat(follow_symlinks=False).st_mtime > UNOWNED_FOLDER_SECONDS)
        except OSError:
            continue
        if gone:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed


class _Running:
    def __init__(self, job: Job, folder: Path) -> None:
        self.job = job
        self.folder = folder
        #: the child (fork), or the process that runs and supervises it (spawn)
        self.pid: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.started = time.monotonic()
        self.deadline: float | None = None
        self.timed_out = False
        #: whether its outcome was given (once: by its end, its server's, or the runner's)
        self.ended = False


class DiagramRunner:
    """Runs jobs in child processes; ``on_done`` is called (from a thread) as each one ends."""

    def __init__(self, scratch_root: Path, *, jobs: int = 1,
                 on_done: Callable[[JobOutcome], None] | None = None,
                 start_method: str | None = None, preload: Preloads | None = None) -> None:
        self.scratch_root = Path(scratch_root)
        #: what the fork server imports before its first child, and learns for the next build
        self.preload = preload
        self.slots = max(1, jobs)
        self.on_done = on_done or (lambda outcome: None)
        method = start_method or os.environ.get("NETVIZ_START_METHOD") or "fork"
        self.method = "fork" if method == "fork" and hasattr(os, "fork") else "spawn"
        self._queue: list[_Running] = []
        self._running: dict[str, _Running] = {}  # by folder
        self._events: queue.Queue[tuple[str, str, int]] = queue.Queue()
        self._lock = threading.Condition()
        self._server: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._outstanding = 0
        #: whether any job was submitted (a server started ahead of a first job that never came is killed)
        self._used = False
        self._outcomes: list[JobOutcome] = []
        #: whether the scratch folder was made and cleared of abandoned job folders
        self._prepared = False

    def _prepare(self) -> None:
        """Make the scratch folder; the first time, remove the job folders of builds that are gone."""
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        if not self._prepared:
            self._prepared = True
            remove_abandoned_folders(self.scratch_root)

    # -- the caller's side ------------------------------------------------
    def submit(self, job: Job) -> None:
        """Queue ``job``; it starts as soon as a slot is free.

        A job of the same model and inputs still waiting in the queue takes
        the new drawings in (one child, one trace, one export for all).
        """
        self._prepare()
        with self._lock:
            self._used = True
            for waiting in self._queue:
                if (waiting.job.export_key, waiting.job.limits, waiting.job.settings) == \
                        (job.export_key, job.limits, job.settings):
                    known = {d.key for d in waiting.job.drawings}
                    added = tuple(d for d in job.drawings if d.key not in known)
                    waiting.job = replace(waiting.job, drawings=waiting.job.drawings + added)
                    return
            folder = Path(tempfile.mkdtemp(prefix=f"job-{_owner()}-", dir=self.scratch_root))
            self._queue.append(_Running(job, folder))
            self._outstanding += 1
        self._ensure_thread()
        self._events.put(("wake", "", 0))

    def prestart(self, *, warm_export: bool) -> None:
        """Start the fork server now, ahead of the first job (it warms up while the caller works).

        Only a head start: if the scratch folder cannot be made, the first job says so.
        """
        if self.method == "fork":
            try:
                self._prepare()
                self._ensure_server(warm_export)
            except OSError:
                pass

    def wait(self) -> list[JobOutcome]:
        """Every job's outcome, once all have ended (Ctrl-C kills them all, then goes on up)."""
        try:
            with self._lock:
                while self._outstanding and not self._closed:
                    self._lock.wait(timeout=0.2)
                done, self._outcomes = self._outcomes, []
            mark("all-drawn")
        except BaseException:
            self.close()
            raise
        return done

    def close(self) -> None:
        """Kill every child and the server; remove the job folders."""
        with self._lock:
            self._closed = True
            running = list(self._running.values())
            queued, self._queue = self._queue, []
        for item in running:
            self._kill(item)
        if self._server is not None and not self._used:
            # started ahead of a job that never came (every diagram was in the cache): no need to
            # wait for its warm-up (torch's import) to end
            self._kill_group(self._server.pid)
            self._server.wait()
            self._server = None
        if self._server is not None:
            try:
                self._server.stdin.close()  # the server kills its children and exits
            except OSError:
                pass
            try:
                self._server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._server.kill()
            self._server = None
        mark("server-gone")
        self._events.put(("stop", "", 0))
        for item in [*running, *queued]:
            shutil.rmtree(item.folder, ignore_errors=True)
        if self.preload is not None:
            try:
                self.preload.save()
            except OSError:
                pass  # a full disk or a read-only cache: the next build learns it again

    # -- the thread -------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="netviz-runner", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        try:
            self._serve_events()
        except Exception as exc:  # noqa: BLE001  (a bug here must not leave wait() hanging)
            self._abandon(f"sphinx-netviz's runner failed ({exc.__class__.__name__}: {exc}); please report it")

    def _abandon(self, why: str) -> None:
        """End every job still running or queued with ``why`` (the runner cannot go on)."""
        with self._lock:
            items = [*self._running.values(), *self._queue]
            self._queue = []
        for item in items:
            self._kill(item)
            self._done(item, JobResult({d.key: Failure("trace", why) for d in item.job.drawings}))

    def _serve_events(self) -> None:
        while True:
            self._start_queued()
            try:
                kind, folder, value = self._events.get(timeout=self._next_wait())
            except queue.Empty:
                kind, folder, value = "tick", "", 0
            if kind == "stop":
                return
            if kind == "started":
                with self._lock:
                    item = self._running.get(folder)
                if item is not None:
                    item.pid = value
                    item.started = time.monotonic()
                    item.deadline = item.started + item.job.limits.timeout
            elif kind == "exited":
                self._finish(folder, value)
            elif kind == "lost":
                self._lose_all(value)
            self._kill_overdue()

    def _next_wait(self) -> float:
        with self._lock:
            deadlines = [r.deadline for r in self._running.values() if r.deadline]
        if not deadlines:
            return 0.5
        return max(0.01, min(deadlines) - time.monotonic())

    def _start_queued(self) -> None:
        """Start queued jobs while slots are free; a job waits while its model is being exported
        by another (then it finds the export in the cache instead of making it again)."""
        while True:
            with self._lock:
                if self._closed or len(self._running) >= self.slots:
                    return
                exporting = {r.job.export_key for r in self._running.values() if _exports(r.job)}
                ready = [q for q in self._queue if not _exports(q.job) or q.job.export_key not in exporting]
                # a model drawn several times is likely a big one documented at length: it goes first
                item = max(ready, key=lambda q: len(q.job.drawings), default=None)
                if item is None:
                    return
                self._queue.remove(item)
                self._running[str(item.folder)] = item
            try:
                (item.folder / JOB_FILE).write_bytes(pickle.dumps(item.job, protocol=pickle.HIGHEST_PROTOCOL))
                self._launch(item)
            except OSError as exc:
                failure = Failure("write", f"could not prepare its job folder: {disk_full(item.job.cache_root)}"
                                  if exit_code_for(exc) == EXIT_DISK_FULL else
                                  f"could not start a process to draw it ({exc.strerror or exc})")
                self._done(item, JobResult({d.key: failure for d in item.job.drawings}))

    def _launch(self, item: _Running) -> None:
        if self.method == "spawn":
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([_PACKAGE_ROOT, *sys.path]),
                       **{DIAGRAMS_AT_ONCE: str(self.slots)})  # each diagram's share of the CPUs
            process = subprocess.Popen(
                [sys.executable, "-m", "sphinx_netviz.worker", "run", str(item.folder)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=env, start_new_session=True)
            item.process = process
            self._events.put(("started", str(item.folder), process.pid))
            threading.Thread(target=self._wait_spawned, args=(str(item.folder), process), daemon=True).start()
            return
        # until the server reports the child started: its own start-up may take a while, not forever
        item.deadline = time.monotonic() + SERVER_START_SECONDS + item.job.limits.timeout
        server = self._ensure_server(warm_export=_exports(item.job))
        assert server.stdin is not None
        server.stdin.write(b"run " + os.fsencode(str(item.folder)) + b"\n")
        server.stdin.flush()

    def _wait_spawned(self, folder: str, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        self._kill_group(process.pid)
        self._events.put(("exited", folder, code))

    def _ensure_server(self, warm_export: bool) -> subprocess.Popen[bytes]:
        """The fork server, started for the first job (warmed up for exports if that job exports)."""
        if self._server is not None and self._server.poll() is None:
            return self._server
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([_PACKAGE_ROOT, env_path()]),
                   **{DIAGRAMS_AT_ONCE: str(self.slots)})  # each diagram's share of the CPUs
        env.pop(PRELOAD_ENV, None)
        names = names_line(self.preload.names()) if self.preload is not None else ""
        if names:  # the libraries the children of earlier builds imported (sphinx_netviz.preload)
            env[PRELOAD_ENV] = names
        mark("server-start")
        with open(self.scratch_root / SERVER_LOG, "wb") as log:
            self._server = subprocess.Popen(
                # the scratch folder names the build in ps (and in the tests' leftover checks)
                [sys.executable, "-m", "sphinx_netviz.worker", "serve",
                 *(["--warm-export"] if warm_export else []),
                 *(["--preload-seconds", f"{preloading.PRELOAD_SECONDS:g}"] if names else []),
                 str(self.scratch_root)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                env=env, start_new_session=True, cwd=os.getcwd())
        threading.Thread(target=self._read_server, args=(self._server,), daemon=True).start()
        return self._server

    def _read_server(self, server: subprocess.Popen[bytes]) -> None:
        assert server.stdout is not None
        for raw in server.stdout:
            if raw.startswith(b"preload-failed ") and self.preload is not None:
                _, name, why = (raw.decode(errors="replace").rstrip("\n").split(" ", 2) + [""])[:3]
                self.preload.failed(name, why)
                continue
            words = raw.decode(errors="replace").rstrip("\n").rsplit(" ", 1)
            head, _, folder = words[0].partition(" ")
            if head in ("started", "exited") and len(words) == 2:
                try:
                    self._events.put((head, folder, int(words[1])))
                except ValueError:
                    continue
        server.wait()
        self._events.put(("lost", "", server.returncode))  # the jobs it still had end here

    def _lose_all(self, code: int) -> None:
        """The server ended: a job it had not reported ending fails with how the server ended and
        its last words."""
        with self._lock:
            lost = list(self._running.values()) if not self._closed else []
        said = last_output(self.scratch_root, SERVER_LOG)
        for item in lost:
            self._kill(item)
            failure = Failure("import", "the netviz worker process (which imports torch and forks the "
                              f"process that draws each diagram) {_ended_by(code)}"
                              f"{'; its last output: ' + said if said else ''}")
            self._done(item, JobResult({d.key: failure for d in item.job.drawings}))

    def _kill_overdue(self) -> None:
        now = time.monotonic()
        with self._lock:
            overdue = [r for r in self._running.values() if r.deadline and now >= r.deadline and not r.timed_out]
        for item in overdue:
            if item.pid is None:  # the server never started it: the server is stuck
                if self._server is not None:
                    self._server.kill()  # its jobs then end as lost, with its last words
                continue
            if item.timed_out:  # a spawned job's process did not end in its grace time
                item.deadline = None
                self._kill(item)
                continue
            item.timed_out = True
            # a spawned job's own process stays, to store the child's output and end as it did
            item.deadline = now + KILL_GRACE_SECONDS if self.method == "spawn" else None
            self._kill(item, keep_supervisor=self.method == "spawn")

    def _kill(self, item: _Running, *, keep_supervisor: bool = False) -> None:
        """Kill the job's child and every process it started (with ``keep_supervisor``, not the
        spawned process that supervises the child)."""
        if item.pid is None or (item.process is not None and item.process.returncode is not None):
            return  # not started, or ended and waited for (its pid may be another's now)
        if keep_supervisor and end_tree(item.pid, keep_root=True):
            return
        end_tree(item.pid)
        self._kill_group(item.pid)

    @staticmethod
    def _kill_group(pid: int) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _finish(self, folder: str, code: int) -> None:
        with self._lock:
            item = self._running.get(folder)
        if item is None:
            return
        result = None if item.timed_out else JobResult.read(item.folder / RESULT_FILE)
        if result is not None and self.preload is not None:
            self.preload.learn(result.imported, result.used, item.job.sys_path)
        if result is None:
            failure = describe_death(code, item.folder, item.timed_out, item.job)
            result = JobResult({d.key: failure for d in item.job.drawings})
        self._done(item, result)

    def _done(self, item: _Running, result: JobResult) -> None:
        """Give the job's outcome (once, whether it ran or was still queued) and remove its folder."""
        with self._lock:
            if item.ended:
                return
            item.ended = True
        shutil.rmtree(item.folder, ignore_errors=True)
        outcome = JobOutcome(item.job, result, time.monotonic() - item.started)
        try:
            self.on_done(outcome)
        finally:
            with self._lock:
                self._running.pop(str(item.folder), None)
                self._outstanding -= 1
                self._outcomes.append(outcome)
                self._lock.notify_all()


def _exports(job: Job) -> bool:
    """Whether the job runs an ONNX exporter (an ONNX file's download is the file itself)."""
    spec = job.drawings[0].spec
    return spec.onnx != "none" and not spec.is_onnx_file


def env_path() -> str:
    """The ``PYTHONPATH`` the server starts with (the job brings the caller's ``sys.path``)."""
    return os.environ.get("PYTHONPATH", "")
