"""The child jobs of an architecture diff, run by the runner as the directive's are: a ``side`` job
traces a model and stores its snapshot (checked against its sources as a diagram is), a ``diff``
job merges two stored sides (or a snapshot file) into a drawing stored under the diff's key."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import ROOTS

from sphinx_netviz.archjob import Side, changes_of, diff_key, side_key
from sphinx_netviz.cache import DiagramCache
from sphinx_netviz.jobs import Drawing, Job
from sphinx_netviz.limits import Limits
from sphinx_netviz.pipeline import PipelineSettings, spec_key
from sphinx_netviz.runner import DiagramRunner
from sphinx_netviz.spec import DiagramSpec
from test_runner import run_all

DIFF_ROOT = str(ROOTS / "test-diff")
SETTINGS = PipelineSettings()


def spec(**kwargs: object) -> DiagramSpec:
    return DiagramSpec("diff_models:make_net", ((2, 3, 8, 8),), onnx="none", depth=2, kwargs=kwargs)


def job(kind: str, drawings: tuple[Drawing, ...], cache: Path, sides: tuple[Side, ...] = ()) -> Job:
    return Job(drawings, drawings[0].key, SETTINGS, Limits(timeout=120, memory_mb=3000), str(cache),
               (DIFF_ROOT, *sys.path), ".", kind=kind, sides=sides)


def run(tmp_path: Path, *jobs: Job) -> set[str]:
    """What the jobs came to: '' (drawn) or a failure's ``subtype: message``."""
    return set(run_all(DiagramRunner(tmp_path / "jobs", jobs=2), *jobs).values())


@pytest.mark.slow
def test_sides_then_their_merge(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    old, new = spec(), spec(blocks=6, classes=10)
    keys = side_key(spec_key(old, SETTINGS)), side_key(spec_key(new, SETTINGS))
    assert run(tmp_path, *(job("side", (Drawing(k, s),), cache_dir) for k, s in zip(keys, (old, new)))) == {""}
    cache = DiagramCache(cache_dir, search_path=(DIFF_ROOT, *sys.path))
    found = [cache.lookup_snapshot(k) for k in keys]
    assert all(f is not None for f in found)
    assert found[0].sources == [str(Path(DIFF_ROOT, "diff_models.py"))]
    assert json.loads(found[1].path.read_bytes())["totals"]["params"] == 2_250
    assert cache.lookup(keys[0]) is None  # a side is no diagram
    # the merge: the drawing, stored under the diff's key, depends on the two snapshots
    view = DiagramSpec("diff_models:make_net", ((2, 3, 8, 8),), onnx="none", depth=2)
    key = diff_key(spec_key(view, SETTINGS), *keys)
    sides = (Side(key=keys[0], sys_path=(DIFF_ROOT,), label="the old side"),
             Side(key=keys[1], sys_path=(DIFF_ROOT,), label="the new side"))
    assert run(tmp_path, job("diff", (Drawing(key, view),), cache_dir, sides)) == {""}
    drawn = cache.lookup(key)
    assert drawn is not None and sorted(drawn.sources) == sorted(str(f.path) for f in found)
    assert b"netviz-changed" in drawn.svg_path.read_bytes()  # the folded run, x4 -> x6
    changes = changes_of(json.loads(drawn.details_path.read_bytes()))
    assert changes is not None
    assert [(c.path, c.kind) for c in changes[0].changes] == [
        ("", "changed"), ("blocks.0", "changed"), ("blocks.4", "added"), ("blocks.5", "added"), ("head", "changed")]
    # a side that was never stored: the merge says which, and nothing is stored
    missing = Side(key="0" * 64, label="the old side (v9)")
    said = run(tmp_path, job("diff", (Drawing("f" * 64, view),), cache_dir, (missing, sides[1])))
    assert said == {"input: the old side (v9) was not traced (see the warning about it), so there is nothing "
                    "to compare"}
    # a snapshot file as the old side
    arch = tmp_path / "old.json"
    arch.write_bytes(found[0].path.read_bytes())
    other = diff_key(spec_key(view, SETTINGS), "file", keys[1])
    assert run(tmp_path, job("diff", (Drawing(other, view),), cache_dir, (Side(path=str(arch)), sides[1]))) == {""}
    assert str(arch) in cache.lookup(other).sources
