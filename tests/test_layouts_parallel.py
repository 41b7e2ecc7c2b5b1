"""The viewer's depths laid out by several Graphviz runs at once: the same bytes as one after
another, and no ``dot`` left running after a timeout, a failure or an exception."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from sphinx_netviz import layouts
from sphinx_netviz.errors import LayoutTimeout
from sphinx_netviz.fold import find_runs
from sphinx_netviz.graph import build_diagram
from sphinx_netviz.layouts import LayoutSettings, lay_out_depths, layout_workers
from sphinx_netviz.limits import DIAGRAMS_AT_ONCE, Budget
from sphinx_netviz.loader import build_model
from sphinx_netviz.render import run_dot, start_dot
from sphinx_netviz.spec import DiagramSpec
from sphinx_netviz.trace import trace_model

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


def traced(target: str, shape: tuple[int, ...], dtype: str = "float32", fold: bool = True):
    loaded = build_model(DiagramSpec(target, (shape,), input_dtypes=(dtype,)), "meta")
    trace, _ = trace_model(loaded.model, loaded.args, loaded.kwargs, loaded.input_names, loaded.name)
    return trace, find_runs(trace) if fold else []


@pytest.fixture(scope="module")
def resnet50():
    """ResNet-50 on meta, folded: depths 0–4 with 0, 0, 4, 12 and 16 clusters."""
    trace, runs = traced("example_models.resnet50:ResNet50", (1, 3, 224, 224))
    assert [len(build_diagram(trace, d, runs=runs).clusters) for d in range(5)] == [0, 0, 4, 12, 16]
    return trace, runs


def outcome(laid_out: layouts.Layouts) -> tuple:
    return (laid_out.depth, laid_out.svg, laid_out.source, laid_out.by_depth, laid_out.omitted,
            laid_out.notes, laid_out.shown, [p.message for p in laid_out.problems])


def lay_out_with(trace, runs, depth: int, workers: int, budget: Budget | None = None, **settings):
    return lay_out_depths(trace, runs, LayoutSettings(depth, "TB", "nv", workers=workers, **settings),
                          budget or Budget())


def assert_same_for_every_worker_count(trace, runs, depths) -> list[tuple]:
    outcomes = []
    for depth in depths:
        serial = outcome(lay_out_with(trace, runs, depth, workers=1))
        for workers in (2, 4):
            assert outcome(lay_out_with(trace, runs, depth, workers)) == serial, (depth, workers)
        outcomes.append(serial)
    return outcomes


def test_resnet50_the_same_bytes_with_several_runs_at_once(resnet50):
    outcomes = assert_same_for_every_worker_count(*resnet50, depths=(0, 2, 4))
    assert [sorted(o[3]) for o in outcomes] == [[0, 1, 2, 3, 4]] * 3


def test_transformer_and_unfolded_resnet50_the_same_bytes():
    trace, runs = traced("example_models.transformer:TinyTransformer", (2, 16), "int64")
    outcomes = assert_same_for_every_worker_count(trace, runs, depths=(0, 2, 3))
    assert sorted(outcomes[1][3]) == [0, 2, 3, 4]  # depth 1 draws what 2 draws (a ModuleList level)
    trace, runs = traced("example_models.resnet50:ResNet50", (1, 3, 224, 224), fold=False)
    assert_same_for_every_worker_count(trace, runs, depths=(1,))


def test_a_depth_with_too_many_boxes_the_same_omissions():
    trace, runs = traced("big_models:ManyLayers", (1, 4), fold=False)  # depth 3: 3,002 boxes
    [(depth, _, _, by_depth, omitted, *_)] = assert_same_for_every_worker_count(trace, runs, depths=(2,))
    assert (depth, sorted(by_depth), omitted) == (2, [0, 1, 2], [3])


def test_the_pages_inline_bytes_capped_in_depth_order(resnet50, monkeypatch):
    trace, runs = resnet50
    sizes = lay_out_with(trace, runs, 1, workers=1).by_depth
    monkeypatch.setattr(layouts, "MAX_INLINE_BYTES", sum(len(sizes[d]) for d in (0, 1, 2)) + 1)
    [serial] = assert_same_for_every_worker_count(trace, runs, depths=(1,))
    assert (sorted(serial[3]), serial[4]) == ([0, 1, 2], [3, 4])


# -- a Graphviz that is slow or fails on some depths ----------------------------------------------

FAKE_DOT = """#!/bin/sh
# real Graphviz below {slow} clusters (on {fail} clusters exactly, a Graphviz error); from {slow}, 30 s
[ "$1" = "-V" ] && exec dot -V
echo $$ >> {pids}
input=$(cat)
clusters=$(printf '%s' "$input" | grep -c 'subgraph cluster_')
if [ "$clusters" -ge {slow} ]; then
    exec sleep 30
fi
if [ "$clusters" -eq {fail} ]; then
    echo "Warning: a font" >&2
    echo "Error: trouble in init_rank" >&2
    exit 1
fi
exec dot "$@" <<EOF
$input
EOF
"""


class FakeDot:
    def __init__(self, folder: Path, slow: int, fail: int = -1) -> None:
        self.pids = folder / "pids"
        self.path = folder / "fake-dot"
        self.path.write_text(FAKE_DOT.format(slow=slow, fail=fail, pids=self.pids))
        self.path.chmod(0o755)

    def started(self) -> list[int]:
        return [int(line) for line in self.pids.read_text().split()] if self.pids.exists() else []

    def assert_none_left(self) -> None:
        """Every process the fake started (the shell, which became ``sleep`` or ``dot``) is
        gone, a zombie this process did not reap included."""
        deadline = time.monotonic() + 5  # an orphan's zombie is reaped by init, soon
        while True:
            processes = _processes()
            alive = [pid for pid in self.started() if _alive(pid, processes)]
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert alive == []


def _processes() -> dict[int, tuple[str, int]]:
    """Every process: its state (``Z``: a zombie) and its parent, by pid (from ``/proc``)."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:  # ended meanwhile
            continue
        if stat:
            state, parent = stat[stat.rindex(")") + 2:].split()[:2]
            found[int(entry.name)] = (state, int(parent))
    return found


def _alive(pid: int, processes: dict[int, tuple[str, int]]) -> bool:
    """Running, or a zombie of this process (one it did not reap)."""
    state, parent = processes.get(pid, ("gone", 0))
    return state != "gone" and (state != "Z" or parent == os.getpid())


@needs_proc
def test_a_timeout_leaves_out_that_depth_and_deeper_ones_and_no_dot_running(resnet50, tmp_path):
    fake = FakeDot(tmp_path, slow=4)
    budget = Budget()
    start = time.monotonic()
    laid_out = lay_out_with(*resnet50, depth=1, workers=2, budget=budget, dot=str(fake.path), timeout=1)
    assert time.monotonic() - start < 15
    assert (laid_out.depth, sorted(laid_out.by_depth), laid_out.omitted, laid_out.notes) == (1, [0, 1], [2, 3, 4], [])
    assert budget.ran_out
    assert len(fake.started()) >= 2 + 2  # depths 0 and 1, then depths 2 and 3 (2 runs at once)
    fake.assert_none_left()


@needs_proc
def test_an_asked_depth_past_its_time_stops_the_runs_started_beside_it(resnet50, tmp_path):
    """The viewer's first depths start while the asked one is laid out; when the asked one
    cannot be drawn, they stop and the viewer is laid out around the depth drawn instead."""
    fake = FakeDot(tmp_path, slow=12)  # depth 3 (12 clusters) runs past its time
    serial, parallel = (lay_out_with(*resnet50, depth=3, workers=workers, budget=Budget(), dot=str(fake.path),
                                     timeout=1) for workers in (1, 2))
    assert outcome(parallel) == outcome(serial)
    assert (parallel.depth, sorted(parallel.by_depth), parallel.omitted) == (2, [0, 1, 2], [3, 4])
    assert "so depth 2 is drawn instead" in parallel.problems[0].message
    fake.assert_none_left()


@needs_proc
def test_a_graphviz_failure_is_a_note_and_deeper_runs_are_killed(resnet50, tmp_path):
    fake = FakeDot(tmp_path, slow=12, fail=4)
    budget = Budget()
    start = time.monotonic()
    laid_out = lay_out_with(*resnet50, depth=1, workers=3, budget=budget, dot=str(fake.path), timeout=60)
    assert time.monotonic() - start < 15  # depths 3 and 4 (30 s each) were not waited for
    assert (sorted(laid_out.by_depth), laid_out.omitted) == ([0, 1], [2, 3, 4])
    assert laid_out.notes == ["depth 2 could not be laid out for the page's viewer (Graphviz failed to render the "
                              "diagram: Error: trouble in init_rank); the viewer leaves it and the deeper ones out"]
    assert not budget.ran_out
    fake.assert_none_left()
    serial = lay_out_with(*resnet50, depth=1, workers=1, dot=str(fake.path), timeout=60)
    assert outcome(serial) == outcome(laid_out)


@needs_proc
def test_an_exception_midway_kills_the_runs_started(resnet50, tmp_path, monkeypatch):
    fake = FakeDot(tmp_path, slow=4)
    calls = []
    shown_calls = layouts._shown_calls

    def interrupted(diagram):
        calls.append(diagram)
        if len(calls) == 2:  # the first viewer depth taken (the drawn one was the first)
            raise KeyboardInterrupt
        return shown_calls(diagram)

    monkeypatch.setattr(layouts, "_shown_calls", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lay_out_with(*resnet50, depth=0, workers=3, dot=str(fake.path), timeout=60)
    assert len(fake.started()) >= 2 + 2  # depths 0 and 1, then (at least) depths 2 and 3
    fake.assert_none_left()


@needs_proc
def test_several_runs_go_on_at_once(resnet50, tmp_path):
    """Three depths whose Graphviz sleeps past its 1 s: about 1 s with 3 runs at once, not 3."""
    fake = FakeDot(tmp_path, slow=4)
    start = time.monotonic()
    laid_out = lay_out_with(*resnet50, depth=1, workers=3, dot=str(fake.path), timeout=1)
    assert laid_out.omitted == [2, 3, 4]
    assert len(fake.started()) == 2 + 3  # depths 2, 3 and 4 were all started
    assert time.monotonic() - start < 2.8
    fake.assert_none_left()


@needs_proc
def test_run_dot_kills_and_reaps_graphviz_past_its_time(tmp_path):
    fake = FakeDot(tmp_path, slow=0)
    start = time.monotonic()
    with pytest.raises(LayoutTimeout, match="within 0.5 s"):
        run_dot("digraph { a -> b }", "svg", str(fake.path), timeout=0.5)
    assert time.monotonic() - start < 5
    fake.assert_none_left()
    running = start_dot("digraph { a -> b }", "svg", str(fake.path), timeout=60)
    assert not running.done()
    running.kill()
    running.kill()  # twice is fine
    fake.assert_none_left()


def test_run_dot_still_renders_and_says_what_graphviz_said():
    assert b"<svg" in run_dot("digraph { a -> b }", "svg")
    running = start_dot("digraph { a -> ", "svg")
    with pytest.raises(layouts.RenderProblem, match="Graphviz failed to render the diagram: .*syntax error"):
        running.result()


def test_workers_share_the_cpus_with_the_diagrams_drawn_at_once(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.delenv(DIAGRAMS_AT_ONCE, raising=False)
    assert layout_workers() == 4
    for at_once, workers in (("1", 4), ("2", 2), ("3", 1), ("8", 1), ("0", 4), ("many", 4)):
        monkeypatch.setenv(DIAGRAMS_AT_ONCE, at_once)
        assert layout_workers() == workers, at_once


@needs_proc
def test_graphviz_runs_end_with_the_process_group_of_their_diagram(tmp_path):
    """The runner ends a diagram that runs past its time by killing the child's process group:
    the Graphviz runs the child started are in that group, so none outlives it."""
    import subprocess
    import sys

    fake = FakeDot(tmp_path, slow=0)
    code = ("import sys, time; from sphinx_netviz.render import start_dot; "
            "runs = [start_dot('digraph { a -> b }', 'svg', sys.argv[1], timeout=60) for _ in range(2)]; "
            "print('started', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(fake.path)], stdout=subprocess.PIPE,
                             start_new_session=True)  # as the runner starts a diagram's child
    try:
        assert child.stdout.readline() == b"started\n"
        deadline = time.monotonic() + 5
        while len(fake.started()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(fake.started()) == 2
        os.killpg(child.pid, signal.SIGKILL)  # what DiagramRunner does past netviz_timeout
    finally:
        child.kill()
        child.wait()
    fake.assert_none_left()
