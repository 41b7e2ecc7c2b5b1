"""The runner on its own: both ways of starting a child, the limits, and how deaths are told."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOTS

from sphinx_netviz.cache import DiagramCache
from sphinx_netviz.jobs import Drawing, Job
from sphinx_netviz.limits import Limits
from sphinx_netviz.pipeline import PipelineSettings, spec_key
from sphinx_netviz.runner import DiagramRunner
from sphinx_netviz.spec import DiagramSpec

HOSTILE = str(ROOTS / "test-isolation")


def job(cache: Path, target: str, timeout: float = 30, **options) -> Job:
    spec = DiagramSpec(target, ((2, 4),), onnx="none", **options)
    settings = PipelineSettings()
    return Job((Drawing(spec_key(spec, settings), spec),), spec_key(spec.export_view(), settings), settings,
               Limits(timeout=timeout, memory_mb=2000), str(cache), (HOSTILE, *sys.path), ".")


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
