"""The runner on its own: both ways of starting a child, the limits, and how deaths are told."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import REPO, ROOTS

from sphinx_netviz.cache import DiagramCache
from sphinx_netviz.jobs import Drawing, Job, KeptOutput
from sphinx_netviz.limits import OUTPUT_KEEP_BYTES, Limits
from sphinx_netviz.pipeline import PipelineSettings, spec_key
from sphinx_netviz.processes import start_time
from sphinx_netviz.runner import DiagramRunner
from sphinx_netviz.spec import DiagramSpec

HOSTILE = str(ROOTS / "test-isolation")
sys.path.insert(0, HOSTILE)
from hostile_code import LEFTOVER_MARKER  # noqa: E402


def job(cache: Path, target: str, timeout: float = 30, timeout_option: bool = False, **options) -> Job:
    spec = DiagramSpec(target, ((2, 4),), onnx="none", **options)
    settings = PipelineSettings()
    return Job((Drawing(spec_key(spec, settings), spec),), spec_key(spec.export_view(), settings), settings,
               Limits(timeout=timeout, memory_mb=2000, timeout_option=timeout_option), str(cache),
               (HOSTILE, *sys.path), ".")


def run_all(runner: DiagramRunner, *jobs: Job) -> dict[str, str]:
    """Each job's outcome by target: '' (drawn) or its one failure's ``subtype: message``."""
    try:
        for one in jobs:
            runner.submit(one)
        outcomes = runner.wait()
    finally:
        runner.close()
    said = {}
    for outcome in outcomes:
        failures = [f"{f.stage}: {f.message}" for f in outcome.result.failures.values()]
        said[outcome.job.drawings[0].spec.target] = failures[0] if failures else ""
    return said


@pytest.fixture
def marked(tmp_path, monkeypatch):
    """Processes the hostile models leave, marked for this test: a function listing those still
    running (their command lines), once the ones started are recorded in ``tmp_path/leftover``."""
    token = f"-{uuid.uuid4().hex}"
    record = tmp_path / "leftover"
    record.mkdir()
    monkeypatch.setenv("NETVIZ_LEFTOVER_TOKEN", token)
    monkeypatch.setenv("NETVIZ_LEFTOVER_DIR", str(record))

    def running() -> list[str]:
        found = []
        for entry in os.listdir("/proc"):
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if LEFTOVER_MARKER + token in cmdline:
                found.append(f"{entry}: {cmdline}")
        return found

    def still_running(wait: float = 3.0) -> list[str]:
        """The marked processes still there after ``wait`` s (a kill takes a moment to land)."""
        until = time.monotonic() + wait
        while (left := running()) and time.monotonic() < until:
            time.sleep(0.1)
        return left

    still_running.started = lambda: (record / "started").read_text().split() if (record / "started").exists() \
        else []
    yield still_running
    for line in running():  # never leave them, whatever the test found
        os.kill(int(line.split(":")[0]), signal.SIGKILL)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_both_start_methods_draw_and_tell_deaths(tmp_path, method):
    runner = DiagramRunner(tmp_path / "jobs", jobs=2, start_method=method)
    good = job(tmp_path, "hostile_code:Fine", depth=1)
    dying = job(tmp_path, "hostile_code:HardExit")
    try:
        runner.submit(good)
        runner.submit(dying)
        outcomes = {o.job.drawings[0].spec.target: o for o in runner.wait()}
    finally:
        runner.close()
    assert runner.method == method
    assert outcomes["hostile_code:Fine"].result.failures == {}
    # found along the job's sys.path, where its model module is
    assert DiagramCache(tmp_path, search_path=good.sys_path).lookup(good.drawings[0].key) is not None
    (failure,) = outcomes["hostile_code:HardExit"].result.failures.values()
    assert (failure.stage, failure.message) == ("trace", "the process drawing it exited with code 1 while "
                                                         "tracing the model")
    assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) in ([], ["server.log"])


def test_jobs_past_their_timeout_are_killed_and_the_slots_reused(tmp_path):
    runner = DiagramRunner(tmp_path / "jobs", jobs=1)
    start = time.monotonic()
    try:
        for depth, target in enumerate(("hostile_code:Sleeps", "hostile_code:Sleeps", "hostile_code:Fine")):
            runner.submit(job(tmp_path, target, timeout=2, depth=depth))  # three distinct jobs
        outcomes = runner.wait()
    finally:
        runner.close()
    # one slot: two 2 s timeouts one after the other, then the good job; not 1000 s
    assert time.monotonic() - start < 20
    failures = [o.result.failures for o in outcomes]
    assert [len(f) for f in failures] == [1, 1, 0]
    assert all("took longer than netviz_timeout = 2 s (stopped while tracing" in f.message
               for fs in failures for f in fs.values())


def test_a_server_started_ahead_of_a_job_that_never_came_is_killed_at_once(tmp_path):
    """A build whose diagrams are all in the cache started the fork server ahead of time
    (a new page might draw); closing does not wait for its warm-up (torch's import) to end."""
    runner = DiagramRunner(tmp_path / "jobs")
    runner.prestart(warm_export=True)
    server = runner._server
    assert server is not None and server.poll() is None
    runner.close()
    assert server.returncode == -signal.SIGKILL  # killed, not left to finish warming up
    assert runner._server is None


@pytest.mark.parametrize("method", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])
def test_every_process_a_model_starts_ends_with_its_diagram(tmp_path, marked, method):
    """Processes in a new session, and orphans of a setsid'ed double fork, end when their diagram
    does: drawn, past its time, or ended without a word (before: all six were left running)."""
    timeout = 6 if method == "fork" else 20  # spawned, the child imports torch in its own time
    said = run_all(DiagramRunner(tmp_path / "jobs", jobs=3, start_method=method),
                   job(tmp_path, "hostile_code:Escapes", timeout=60),
                   job(tmp_path, "hostile_code:EscapesAndHangs", timeout=timeout),
                   job(tmp_path, "hostile_code:EscapesAndDies", timeout=60))
    assert said["hostile_code:Escapes"] == ""
    assert said["hostile_code:EscapesAndHangs"].startswith("trace: took longer than netviz_timeout")
    assert said["hostile_code:EscapesAndDies"] == "trace: the process drawing it exited with code 3 while tracing the model"
    assert len(marked.started()) == 6  # each model started its two
    assert marked() == []


def test_a_killed_server_is_named_by_its_signal_and_leaves_nothing(tmp_path, marked):
    runner = DiagramRunner(tmp_path / "jobs", jobs=1)
    runner.submit(job(tmp_path, "hostile_code:EscapesAndHangs", timeout=120))
    until = time.monotonic() + 60
    while len(marked.started()) < 2 and time.monotonic() < until:  # until the model is in its sleep
        time.sleep(0.1)
    os.kill(runner._server.pid, signal.SIGKILL)
    said = run_all(runner)["hostile_code:EscapesAndHangs"]
    assert said.startswith("import: the netviz worker process (which imports torch and forks the process "
                           "that draws each diagram) was killed by SIGKILL"), said
    assert len(marked.started()) == 2
    assert marked() == []


@pytest.mark.parametrize("method", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])
def test_what_a_child_prints_is_bounded_and_its_beginning_told(tmp_path, method):
    """A model that prints 50 MB: its job folder never holds more than the kept output (before:
    it held all of it), and the warning says how much it printed and how it began."""
    jobs = tmp_path / "jobs"
    biggest = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal biggest
        while not done.is_set():
            size = 0
            for path in jobs.glob("job-*/*"):
                try:
                    size += path.stat().st_size
                except OSError:
                    pass
            biggest = max(biggest, size)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        said = run_all(DiagramRunner(jobs, start_method=method),
                       job(tmp_path, "hostile_code:PrintsALot", timeout=8 if method == "fork" else 20))
    finally:
        done.set()
        watcher.join()
    assert biggest < OUTPUT_KEEP_BYTES + 100_000, biggest
    message = said["hostile_code:PrintsALot"]
    assert message.startswith("trace: took longer than netviz_timeout"), message
    assert "it wrote 50 MB of output (only its beginning and end are kept), which began: " \
           "the first line of PrintsALot;" in message, message


def test_kept_output_is_the_beginning_and_the_end(tmp_path):
    kept = KeptOutput(keep=10)
    for piece in (b"abc", b"defgh", b"ijklmnop", b"qrstuvwxyz"):
        kept.feed(piece)
    kept.write(tmp_path / "output.log")
    assert (tmp_path / "output.log").read_bytes() == b"abcde\n[netviz: 16 bytes of output left out here]\nvwxyz"
    small = KeptOutput(keep=10)
    small.feed(b"0123456789")
    small.write(tmp_path / "small.log")
    assert (tmp_path / "small.log").read_bytes() == b"0123456789"


def test_a_timeout_from_the_directive_is_named_as_the_directive_option(tmp_path):
    said = run_all(DiagramRunner(tmp_path / "jobs"),
                   job(tmp_path, "hostile_code:Sleeps", timeout=2, timeout_option=True))
    assert said["hostile_code:Sleeps"].startswith("trace: took longer than :timeout: 2 s (stopped while tracing "
                                                  "the model)"), said


def test_a_job_folder_removed_by_model_code_is_told(tmp_path, monkeypatch):
    monkeypatch.setenv("NETVIZ_TEST_JOBS", str(tmp_path / "jobs"))
    said = run_all(DiagramRunner(tmp_path / "jobs"), job(tmp_path, "hostile_code:RemovesItsJobFolder"))
    message = said["hostile_code:RemovesItsJobFolder"]
    assert message.startswith(f"write: its job folder {tmp_path / 'jobs'}/job-"), message
    assert "was removed while the diagram was drawn (by model code?)" in message


def mount_point(path: Path) -> Path:
    while not os.path.ismount(path):
        path = path.parent
    return path


def test_a_full_disk_is_named(tmp_path, monkeypatch):
    """The child's first write into its job folder meets a full disk (its progress file is
    /dev/full): a netviz.write warning that says so, not 'exited with code 70 while starting'."""
    launch = DiagramRunner._launch

    def launch_on_a_full_disk(self, item):
        (item.folder / "progress").symlink_to("/dev/full")
        launch(self, item)

    monkeypatch.setattr(DiagramRunner, "_launch", launch_on_a_full_disk)
    said = run_all(DiagramRunner(tmp_path / "jobs"), job(tmp_path, "hostile_code:Fine"))
    message = said["hostile_code:Fine"]
    assert message == ("write: the process drawing it could not write into its job folder: the disk holding "
                       f"{tmp_path} (mounted at {mount_point(tmp_path)}) is full (No space left on device); free "
                       "some space on it, or set netviz_cache_dir to a folder on another disk"), message


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MB tmpfs, full (skipped where it cannot be mounted: not root, no CAP_SYS_ADMIN)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                      capture_output=True, check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with open(mount / "filler", "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_cache_on_a_full_disk_is_named(tmp_path, full_disk):
    said = run_all(DiagramRunner(full_disk / "jobs"), job(full_disk, "hostile_code:Fine"))
    message = said["hostile_code:Fine"]
    assert message.startswith(f"write: could not prepare its job folder: the disk holding {full_disk} (mounted "
                              f"at {full_disk}) is full (No space left on device)"), message


def test_job_folders_of_a_build_that_is_gone_are_removed(tmp_path):
    """A build killed with SIGKILL leaves its job folders; the next build removes them, and never
    those of a build still running."""
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    other = subprocess.Popen(["sleep", "30"])
    ended = subprocess.Popen(["sleep", "30"])
    try:
        other_start, ended_start = start_time(other.pid), start_time(ended.pid)
        ended.kill()
        ended.wait()
        folders = {"gone": f"job-{ended.pid}-{ended_start}-abcd", "other build": f"job-{other.pid}-{other_start}-efgh",
                   "this build": f"job-{os.getpid()}-{start_time(os.getpid())}-ijkl",
                   "same pid, other process": f"job-{other.pid}-{other_start + 1}-mnop",
                   "unnamed, old": "job-qrst", "unnamed, new": "job-uvwx"}
        for name in folders.values():
            (jobs / name).mkdir()
            (jobs / name / "output.log").write_text("x")
        os.utime(jobs / folders["unnamed, old"], (time.time() - 2 * 86400,) * 2)
        said = run_all(DiagramRunner(jobs), job(tmp_path, "hostile_code:Fine", depth=1))
    finally:
        other.kill()
        other.wait()
    assert said == {"hostile_code:Fine": ""}
    left = {what for what, name in folders.items() if (jobs / name).exists()}
    assert left == {"other build", "this build", "unnamed, new"}


def test_a_runner_that_fails_ends_its_queued_jobs_too(tmp_path, monkeypatch):
    """_abandon gave queued jobs their outcome without counting them done: wait() never returned."""
    def broken(self):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(DiagramRunner, "_start_queued", broken)
    runner = DiagramRunner(tmp_path / "jobs", jobs=1)
    outcomes: list = []
    waiter = threading.Thread(target=lambda: outcomes.extend(_submit_and_wait(runner, tmp_path)), daemon=True)
    waiter.start()
    waiter.join(timeout=10)
    assert not waiter.is_alive(), "wait() did not return"
    runner.close()
    (outcome,) = outcomes
    (failure,) = outcome.result.failures.values()
    assert failure.message == "sphinx-netviz's runner failed (RuntimeError: broken on purpose); please report it"


def _submit_and_wait(runner: DiagramRunner, cache: Path) -> list:
    runner.submit(job(cache, "hostile_code:Fine"))
    return runner.wait()


def test_the_server_reuses_the_pipes_of_children_that_ended(tmp_path):
    """A child whose output ended while it was reaped (not in the select loop) left its pipe's fd
    registered; the next child given that fd crashed the server ('FD 5 is already registered'),
    and every diagram it drew failed. Three children in a row, each reaped that way."""
    script = f"""
import os, sys, time
from pathlib import Path
from sphinx_netviz import worker
supervisor = worker._Supervisor(None)
for n in range(3):
    folder = Path({str(tmp_path)!r}) / f"job{{n}}"
    folder.mkdir()
    supervisor.start(folder)  # the child finds no job in its folder, and exits
    (pid,) = supervisor.children
    while Path(f"/proc/{{pid}}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        time.sleep(0.01)
    supervisor._reap()
    print(n, supervisor.last_code, sorted(supervisor.children), flush=True)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:3] == ["0 75 []", "1 75 []", "2 75 []"]
