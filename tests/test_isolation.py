"""Model code that hangs, exits, crashes or leaks global state cannot hurt the build.

Real ``sphinx-build`` runs (fresh processes, serial and ``-j 2``) of
``tests/roots/test-isolation``: every hostile directive ends as one located
warning of the right subtype (or a correct diagram), in bounded time, with
the build's exit status of an ordinary warning; the good diagrams on the
same pages are byte-identical to a build that has only them; nothing is
left running or half-written.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import ROOTS, run_sphinx, soup_of, sphinx_command, sphinx_env

ROOT = ROOTS / "test-isolation"
sys.path.insert(0, str(ROOT))
from hostile_code import LEFTOVER_MARKER  # noqa: E402

# (page, line) -> (subtype, words the message must contain); None: drawn, no warning
EXPECTED: dict[tuple[str, int], tuple[str, list[str]]] = {
    ("hangs", 4): ("trace", ["longer than :timeout: 5 s", "while tracing", "netviz_timeout in conf.py"]),
    ("hangs", 8): ("trace", ["longer than netviz_timeout = 6 s", "while tracing"]),
    ("exits", 4): ("trace", ["SystemExit"]),
    ("exits", 7): ("trace", ["building hostile_code:ExitsInInit", "SystemExit"]),
    ("exits", 10): ("import", ["exits_on_import", "SystemExit"]),
    ("exits", 13): ("input", [":inputs: sys:exit", "SystemExit"]),
    ("exits", 17): ("trace", ["exited with code 1 while tracing"]),
    ("exits", 20): ("trace", ["killed by SIGABRT while building"]),
    ("exits", 23): ("trace", ["killed by SIGSEGV while tracing"]),
    ("raises", 4): ("trace", ["Boom: boom"]),
    ("raises", 7): ("trace", ["KeyboardInterrupt"]),
    ("raises", 10): ("trace", ["<unprintable _Unprintable>"]),
    ("leftovers", 4): ("trace", ["left 1 thread(s) running", "forever"]),
    ("memory", 7): ("trace", ["memory limit", "netviz_memory_mb = 3000 MB", "3.22 GB"]),
}
#: pages with a diagram drawn, and how many each must show
DRAWN = {"index": 1, "leftovers": 2, "leaks": 3, "memory": 1}

WARNING = re.compile(r"(\w+)\.rst:(\d+): WARNING: (.*?) \[netviz\.(\w+)\]")


def warnings_by_location(stderr: str) -> dict[tuple[str, int], tuple[str, str]]:
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for page, line, message, subtype in WARNING.findall(stderr):
        assert (page, int(line)) not in found, f"two warnings at {page}:{line}"
        found[(page, int(line))] = (subtype, message)
    return found


def leftovers(build: Path, token: str) -> list[str]:
    """Processes left by a build: the model's marked ones (in new sessions, orphaned: see
    hostile_code._escape), and the worker server (named by its folder)."""
    done = subprocess.run(["pgrep", "-af", f"{LEFTOVER_MARKER}{token}|sphinx_netviz.worker serve .*{build}"],
                          capture_output=True, text=True, check=False)
    return [line for line in done.stdout.splitlines() if "pgrep" not in line]


def marking() -> tuple[str, dict[str, str]]:
    """A token for the processes one build's models leave, and the environment that gives it them."""
    token = f"-{uuid.uuid4().hex}"
    return token, {"NETVIZ_LEFTOVER_TOKEN": token}


def good_diagrams(outdir: Path) -> dict[str, list[str]]:
    return {page: [str(svg) for svg in soup_of(outdir / f"{page}.html").select("div.netviz svg")]
            for page in DRAWN}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, diagram_cache) -> dict[str, str]:
    """The good diagrams built alone, in a clean project (with the session's diagram cache)."""
    src = tmp_path_factory.mktemp("good")
    shutil.copy(ROOT / "conf.py", src / "conf.py")
    (src / "index.rst").write_text(
        "Good\n====\n\n.. netviz:: example_models.cnn:CNNModel\n   :input-shape: 16, 3, 512, 512\n\n"
        ".. netviz:: example_models.cnn:CNNModel\n   :input-shape: 16, 3, 512, 512\n   :depth: 1\n")
    run_sphinx(src, src / "_build", "-W", cache=diagram_cache, ok=True)
    svgs = [str(svg) for svg in soup_of(src / "_build" / "index.html").select("div.netviz svg")]
    return {"depth 2": svgs[0], "depth 1": svgs[1]}


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [[], ["-j", "2"]], ids=["serial", "j2"])
def test_hostile_models_end_as_located_warnings(tmp_path, reference, jobs):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src)
    token, env = marking()
    start = time.monotonic()
    done = run_sphinx(src, tmp_path / "out", *jobs, timeout=240, env=env)
    seconds = time.monotonic() - start
    # an ordinary build with warnings: exit status 0, no traceback, finished in bounded time
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert seconds < 120, seconds
    found = warnings_by_location(done.stderr)
    assert sorted(found) == sorted(EXPECTED), done.stderr
    for location, (subtype, words) in EXPECTED.items():
        got_subtype, message = found[location]
        assert got_subtype == subtype, (location, message)
        for word in words:
            assert word in message, (location, word, message)

    out = tmp_path / "out"
    drawn = good_diagrams(out)
    assert {page: len(svgs) for page, svgs in drawn.items()} == DRAWN
    # the good diagrams are exactly what a build without the hostile models makes
    assert drawn["index"][0] == reference["depth 2"]
    assert drawn["leaks"][2] == reference["depth 1"]
    # the tiny CNN with a 3.2 GB input is drawn on meta, and not run for real
    assert "on the meta device" in done.stdout and "because that would take" in done.stdout
    # every failed directive has a placeholder
    placeholders = sum(len(soup_of(p).select("div.netviz-error")) for p in out.glob("*.html"))
    assert placeholders == len(EXPECTED) - 1  # the thread warning is on a drawn diagram
    # nothing left running, nothing half-written, no job folders
    time.sleep(0.3)
    assert leftovers(tmp_path, token) == []
    doctrees = out / ".doctrees" / "netviz"
    assert list(doctrees.rglob("*.tmp")) == [] and list(out.rglob("*.tmp")) == []
    assert [p.name for p in (doctrees / "jobs").iterdir()] == ["server.log"]
    assert "netviz: traced 7, reused 0, failed 13" in done.stdout


def test_warnings_as_errors_fail_the_build_like_any_warning(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src)
    for page in ("hangs", "exits", "raises", "leftovers", "leaks", "memory"):
        (src / f"{page}.rst").unlink()
    (src / "index.rst").write_text(
        "Exit\n====\n\n.. netviz:: hostile_code:ExitsInForward\n   :input-shape: 2, 4\n")
    done = run_sphinx(src, tmp_path / "out", "-W")
    assert done.returncode == 1, done.stderr
    assert "build finished with problems, 1 warning (with warnings treated as errors)" in done.stderr + done.stdout
    assert (tmp_path / "out" / "index.html").is_file()


def start_hanging_build(tmp_path: Path, env: dict[str, str], **popen: object) -> subprocess.Popen[str]:
    """A build of one diagram whose model starts processes that escape its session, then sleeps:
    returned once the model sleeps."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text((ROOT / "conf.py").read_text().replace("netviz_timeout = 6",
                                                                        "netviz_timeout = 300"))
    shutil.copy(ROOT / "hostile_code.py", src)
    (src / "index.rst").write_text("Sleep\n=====\n\n.. netviz:: hostile_code:EscapesAndHangs\n"
                                   "   :input-shape: 2, 4\n")
    started = tmp_path / "started"
    started.mkdir()
    build = subprocess.Popen(sphinx_command(src, tmp_path / "out"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env=sphinx_env(NETVIZ_LEFTOVER_DIR=str(started), **env), **popen)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the model has started its processes, and sleeps
        if (started / "started").exists() and len((started / "started").read_text().split()) == 2:
            return build
        time.sleep(0.1)
    build.kill()
    pytest.fail("the model never started its processes")


def test_ctrl_c_stops_the_build_and_every_child(tmp_path):
    token, env = marking()
    # faulthandler: a build that does not stop is made to print where each of its threads is.
    # SIGINT at its default, as in a terminal: a test run started in the background of a
    # non-interactive shell (a CI runner) inherits it ignored, and Python keeps it so.
    build = start_hanging_build(tmp_path, {**env, "PYTHONFAULTHANDLER": "1"},
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    build.send_signal(signal.SIGINT)
    try:
        _, stderr = build.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        build.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack, then it ends
        try:
            _, stacks = build.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            build.kill()
            _, stacks = build.communicate()
        pytest.fail(f"Ctrl-C did not stop the build; where it was:\n{stacks[-6000:]}")
    assert build.returncode != 0
    assert "Interrupted" in stderr or "KeyboardInterrupt" in stderr, stderr[-2000:]
    time.sleep(0.3)
    assert leftovers(tmp_path, token) == []


@pytest.mark.slow
def test_a_build_killed_with_sigkill_leaves_nothing_after_the_next(tmp_path):
    """Its processes end with it (the server sees its stdin close); its job folder stays, and
    the next build that may draw removes it (before: it stayed, also after a build with -E)."""
    token, env = marking()
    build = start_hanging_build(tmp_path, env)
    jobs = tmp_path / "out" / ".doctrees" / "netviz" / "jobs"
    (left,) = [p.name for p in jobs.glob("job-*")]
    build.kill()
    build.communicate()
    deadline = time.monotonic() + 10
    while leftovers(tmp_path, token) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers(tmp_path, token) == []
    assert (jobs / left).is_dir()
    (tmp_path / "src" / "index.rst").write_text("Fine\n====\n\n.. netviz:: hostile_code:Fine\n"
                                                "   :input-shape: 2, 4\n")
    run_sphinx(tmp_path / "src", tmp_path / "out", "-E", ok=True, env=env)
    assert sorted(p.name for p in jobs.iterdir()) == ["server.log"]


@pytest.mark.slow
def test_raising_the_memory_limit_retries_the_failed_diagram(tmp_path):
    """``netviz_memory_mb`` re-reads no page by itself; a diagram that ran out of memory is tried again."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "hostile_code.py", src)
    # 16×3×1024×1024 on the CPU: 0.2 GB of input and 1.1 GB of activations
    (src / "index.rst").write_text("Memory\n======\n\n.. netviz:: hostile_code:TinyCNN\n"
                                   "   :input-shape: 16, 3, 1024, 1024\n   :device: cpu\n")
    # the limit under test is memory: a loaded machine must not turn the real forward into a timeout
    (src / "conf.py").write_text((ROOT / "conf.py").read_text().replace("netviz_timeout = 6",
                                                                        "netviz_timeout = 120"))
    assert "netviz_timeout = 120" in (src / "conf.py").read_text()
    small = run_sphinx(src, tmp_path / "out", "-D", "netviz_memory_mb=1000")
    assert "netviz_memory_mb = 1000 MB" in small.stderr and "[netviz.trace]" in small.stderr, small.stderr
    assert "failed 1" in small.stdout
    same = run_sphinx(src, tmp_path / "out", "-D", "netviz_memory_mb=1000")
    assert "netviz: traced 0, reused 0, failed 1" in same.stdout  # nothing read again: same limits
    bigger = run_sphinx(src, tmp_path / "out", "-D", "netviz_memory_mb=4000")
    assert "netviz: traced 1, reused 0" in bigger.stdout, bigger.stdout + bigger.stderr
    assert "WARNING" not in bigger.stderr
    assert soup_of(tmp_path / "out" / "index.html").select_one("div.netviz svg g.node") is not None


def test_a_diagram_drawn_short_of_time_is_drawn_again_when_read_again(tmp_path, slow_dot):
    from sphinx_netviz.cache import DiagramCache
    from sphinx_netviz.pipeline import PipelineSettings, make_artifacts
    from sphinx_netviz.spec import DiagramSpec


    spec = DiagramSpec("example_models.cnn:CNNModel", ((1, 3, 512, 512),), depth=2, onnx="none")
    made = make_artifacts(spec, PipelineSettings(dot=str(slow_dot), layout_timeout=1))
    assert made.time_limited and made.depth < 2
    cache = DiagramCache(tmp_path / "cache")
    assert cache.store("k", made).time_limited  # the directive treats it as a miss when it reads the page
    fast = make_artifacts(spec)
    assert not fast.time_limited and not cache.store("k2", fast).time_limited
