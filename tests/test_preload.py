"""Learned preload (sphinx_netviz.preload): what children import is learned into the cache
folder, and the next server imports it before it forks; the project's own modules never; a
bad name or a hostile list never breaks drawing.

The installed library the tests learn is a package of their own in a ``site-packages``
folder under ``tmp_path`` (on the server's ``PYTHONPATH`` and the children's ``sys.path``):
it records the process that imported it, and the model module records whether it found it
already imported — the child's own view of what the server preloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import soup_of

from sphinx_netviz import preload
from sphinx_netviz.jobs import TIMELINE_LOG, Drawing, Job
from sphinx_netviz.limits import Limits
from sphinx_netviz.options import OPTIONS, OptionProblem
from sphinx_netviz.pipeline import PipelineSettings, spec_key
from sphinx_netviz.preload import (
    PRELOAD_FILE,
    ImportRecorder,
    Learned,
    Preloads,
    read_learned,
    refusing_project_code,
    write_learned,
)
from sphinx_netviz.runner import DiagramRunner
from sphinx_netviz.spec import DiagramSpec
from sphinx_netviz.worker import DYNAMO_MARKER, wants_dynamo

LIBRARY = "netviz_probe_lib"

MODEL = """\
import json, os, sys
PRELOADED = sorted(n for n in {watched!r} if n in sys.modules)  # before this module imports any
import torch
import {library}

with open(os.environ["NETVIZ_PROBE_RECORD"], "a") as handle:
    handle.write(json.dumps({{"preloaded": PRELOADED, "library_pid": {library}.IMPORTED_IN,
                             "pid": os.getpid()}}) + "\\n")


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, x):
        return torch.relu(self.fc(x))
"""

#: libraries that fail to preload, each its own way
BAD = {
    "netviz_raises": "raise RuntimeError('not today')\n",
    "netviz_exits": "import os\nos._exit(3)\n",
    "netviz_hangs": "import time\ntime.sleep(1000)\n",
}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (``probe_model``, ``project_marker``) and an installed-library folder
    (``tmp/site-packages``: the probe library and :data:`BAD`), both importable by the server
    and by the children; the records the models write."""
    site = tmp_path / "site-packages"
    _write(site / LIBRARY / "__init__.py", "import os\nIMPORTED_IN = os.getpid()\n")
    for name, code in BAD.items():
        _write(site / name / "__init__.py", code)
    src = tmp_path / "proj"
    _write(src / "probe_model.py", MODEL.format(watched=[LIBRARY], library=LIBRARY))
    marker = tmp_path / "project_marker_ran"
    _write(src / "project_marker.py", f"open({str(marker)!r}, 'w').write('ran')\n")
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv("NETVIZ_PROBE_RECORD", str(record))
    # the server finds both along its PYTHONPATH (as it finds a project in its working folder)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(src)]))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(src))
    monkeypatch.setattr(preload, "PRELOAD_SECONDS", 2.0)
    return {"site": site, "src": src, "record": record, "marker": marker, "cache": tmp_path / "cache"}


def _records(project) -> list[dict]:
    return [json.loads(line) for line in project["record"].read_text().splitlines()]


def _draw(project, setting, target: str = "probe_model:Net", *, shapes=((2, 4),), dtypes=None,
          limits: Limits | None = None, **options) -> Preloads:
    """One job drawn by a runner with ``netviz_preload = setting`` (and ``options`` of its spec,
    ``onnx="none"`` unless given); its Preloads."""
    cache = project["cache"]
    options.setdefault("onnx", "none")
    spec = DiagramSpec(target, shapes, depth=1, **({"input_dtypes": dtypes} if dtypes else {}), **options)
    settings = PipelineSettings()
    job = Job((Drawing(spec_key(spec, settings), spec),), spec_key(spec.export_view(), settings), settings,
              limits or Limits(timeout=60, memory_mb=2000), str(cache), tuple(sys.path), ".")
    preloads = Preloads(setting, cache)
    runner = DiagramRunner(cache / "jobs", preload=preloads)
    try:
        runner.submit(job)
        (outcome,) = runner.wait()
    finally:
        runner.close()
    assert outcome.result.failures == {}
    return preloads


# -- the option --------------------------------------------------------------------------------------

def test_the_option_takes_auto_a_list_or_nothing():
    option = OPTIONS["preload"]
    assert option.default == "auto" and option.scope == "build"
    assert option.validated("auto") == "auto"
    assert option.validated([]) == ()
    assert option.validated(["transformers", "timm.models"]) == ("transformers", "timm.models")
    assert option.validated("transformers, diffusers") == ("transformers", "diffusers")  # -D text
    assert option.validated("") == ()
    for bad in (["../evil"], [3], "os; rm -rf", {"a": 1}):
        with pytest.raises(OptionProblem, match="netviz_preload"):
            option.validated(bad)


# -- the learned list, never trusted ---------------------------------------------------------------

def test_a_learned_list_round_trips_in_order(tmp_path):
    learned = Learned({"b": 0, "a": 2, "a.sub": 1}, {"bad": (3, "raised")})
    write_learned(tmp_path / PRELOAD_FILE, learned)
    again = read_learned(tmp_path / PRELOAD_FILE)
    assert again == learned and list(again.modules) == ["b", "a", "a.sub"]
    assert [p.name for p in tmp_path.iterdir()] == [PRELOAD_FILE]  # no temporary file left


@pytest.mark.parametrize("content", [
    b"\x00\xff garbage",
    b"[" * 100_000 + b"]" * 100_000,  # deeper than the parser's recursion
    b'{"format": 99, "modules": [], "failed": []}',
    b'{"format": 1, "modules": [["os.system(\'x\')", 0]], "failed": []}',
    b'{"format": 1, "modules": [["../../etc", 0]], "failed": []}',
    b'{"format": 1, "modules": [["torch", -1]], "failed": []}',
    b'{"format": 1, "modules": [["torch", true]], "failed": []}',
    b'{"format": 1, "modules": {"torch": 0}, "failed": []}',
    b'{"format": 1, "modules": [["torch"]], "failed": []}',
    b'{"format": 1, "modules": [["torch", 0]], "failed": [["x", 0, 5]]}',
    b'{"format": 1, "modules": [["torch", 0]]' + b" " * 600_000 + b", \"failed\": []}",  # too big
])
def test_a_damaged_or_hostile_list_is_ignored(tmp_path, content):
    (tmp_path / PRELOAD_FILE).write_bytes(content)
    assert read_learned(tmp_path / PRELOAD_FILE) == Learned()
    assert Preloads("auto", tmp_path).names() == ()


def test_a_list_that_is_not_a_regular_file_is_not_read(tmp_path):
    (tmp_path / PRELOAD_FILE).symlink_to("/dev/zero")
    assert read_learned(tmp_path / PRELOAD_FILE) == Learned()
    other = tmp_path / "fifo"
    other.mkdir()
    os.mkfifo(other / PRELOAD_FILE)  # opening it to read would wait for a writer forever
    assert read_learned(other / PRELOAD_FILE) == Learned()


def test_what_a_build_learns_ages_and_failures_are_left_out(project):
    cache = project["cache"]
    cache.mkdir()
    search = tuple(sys.path)
    write_learned(cache / PRELOAD_FILE, Learned(
        {"netviz_raises": 0, "old_lib": preload.UNUSED_BUILDS, "kept_lib": 1}, {"gone": (preload.RETRY_BUILDS, "x")}))
    learning = Preloads("auto", cache)
    # a child's report (model code may write anything): the project's own module, a name that
    # is no module, one that is no installed module are not learned
    learning.learn([LIBRARY, "probe_model", "no such", "not_installed_anywhere"], ["kept_lib"], search)
    learning.failed("netviz_raises", "importing it raised RuntimeError: not today")
    learning.save()
    learned = read_learned(cache / PRELOAD_FILE)
    # old_lib was unused one build too many; kept_lib was used; gone may be tried again
    assert learned.modules == {"kept_lib": 0, LIBRARY: 0}
    assert learned.failed == {"netviz_raises": (0, "importing it raised RuntimeError: not today")}
    assert Preloads("auto", cache).names() == ("kept_lib", LIBRARY)
    # a build that drew nothing changes nothing; an explicit list or [] never writes
    (cache / PRELOAD_FILE).unlink()
    Preloads("auto", cache).save()
    for setting in ([], [LIBRARY]):
        explicit = Preloads(setting, cache)
        explicit.learn([LIBRARY], [], search)
        explicit.save()
        assert explicit.names() == tuple(setting)
    assert not (cache / PRELOAD_FILE).exists()


# -- in the child, in the server -----------------------------------------------------------------------

def test_a_child_reports_installed_modules_never_the_projects(project):
    sys.modules.pop(LIBRARY, None)
    sys.modules.pop("probe_model", None)
    try:
        with ImportRecorder() as recorder:
            __import__("probe_model")
        imported, used = recorder.report()
    finally:
        sys.modules.pop("probe_model", None)
    assert LIBRARY in imported and "probe_model" not in imported
    assert all(name.split(".")[0] not in {"probe_model", "sphinx_netviz"} for name in imported)
    assert LIBRARY in used and "torch" in used and "probe_model" not in used


def test_preloading_refuses_the_projects_own_code(project):
    with refusing_project_code():
        with pytest.raises(ImportError, match="the project's own code"):
            __import__("project_marker")
        __import__(LIBRARY)  # an installed library imports
    assert not project["marker"].exists()
    assert "project_marker" not in sys.modules


# -- end to end, through the fork server ---------------------------------------------------------------

def test_a_build_learns_what_its_children_imported(project):
    """The first build's child imports the library itself; the list it leaves names the library
    and neither the model's module nor the project's other modules."""
    _draw(project, "auto")
    (first,) = _records(project)
    assert first["preloaded"] == [] and first["library_pid"] == first["pid"]
    learned = read_learned(project["cache"] / PRELOAD_FILE)
    assert LIBRARY in learned.modules
    assert not any(name.split(".")[0] in {"probe_model", "project_marker", "sphinx_netviz"}
                   for name in learned.modules)


def test_the_next_server_preloads_the_list_and_drops_what_fails(project):
    """A list (as a build may have learned it, or as a hostile file may say) with names that
    raise, do not exist, exit their process, hang, or are the project's own: the diagram is
    drawn, the library was imported by the server before the child started, and the bad names
    are left out of the list, not imported by the children."""
    cache = project["cache"]
    cache.mkdir()
    names = ["netviz_raises", "netviz_missing", "netviz_exits", "netviz_hangs", "project_marker", LIBRARY]
    write_learned(cache / PRELOAD_FILE, Learned(dict.fromkeys(names, 0)))
    preloads = _draw(project, "auto")
    (record,) = _records(project)
    assert record["preloaded"] == [LIBRARY]  # in the child's sys.modules before its model imported it
    assert record["library_pid"] != record["pid"]  # imported once, by the server
    assert not project["marker"].exists()  # the project's own code was never run by the server
    assert set(preloads.failures) == set(names) - {LIBRARY}
    assert "took longer than 2 s" in preloads.failures["netviz_hangs"]
    assert "exited with code 3" in preloads.failures["netviz_exits"]
    assert "the project's own code" in preloads.failures["project_marker"]
    learned = read_learned(cache / PRELOAD_FILE)
    assert list(learned.modules) == [LIBRARY]
    assert set(learned.failed) == set(names) - {LIBRARY}
    log = (cache / "jobs" / "server.log").read_text()
    assert "netviz: not preloading netviz_hangs: importing it took longer than 2 s" in log


def test_the_server_leaves_at_once_without_exit_hooks(project, monkeypatch):
    """The server ends as soon as its jobs are done and the runner closes its stdin, without the
    interpreter's teardown: a preloaded library's exit hook (here one that writes a file, then
    sleeps) does not run, and closing the runner does not wait for it (it waited 5 s, then killed
    the server: 2-5 s of every build with torch and transformers imported)."""
    cache = project["cache"]
    cache.mkdir()
    ran = project["site"].parent / "exit_hook_ran"
    _write(project["site"] / "netviz_exit_hook" / "__init__.py",
           f"import atexit, time\natexit.register(lambda: (open({str(ran)!r}, 'w').write('ran'), time.sleep(30)))\n")
    write_learned(cache / PRELOAD_FILE, Learned(dict.fromkeys([LIBRARY, "netviz_exit_hook"], 0)))
    seconds: list[float] = []
    close = DiagramRunner.close

    def timed_close(self: DiagramRunner) -> None:
        started = time.monotonic()
        close(self)
        seconds.append(time.monotonic() - started)

    monkeypatch.setattr(DiagramRunner, "close", timed_close)
    preloads = _draw(project, "auto")
    assert preloads.failures == {}  # both preloaded
    assert not ran.exists()
    assert seconds[0] < 4.0, seconds


def test_the_dynamo_exporter_is_warmed_up_once_a_build_has_run_it(project, tmp_path, monkeypatch):
    """A first build warms up only the TorchScript exporter (small models export through it); a
    child that ran dynamo (a model on meta) teaches the next build's server to warm that one up
    too (2.2 s once, instead of about 1.5 s in each such child)."""
    timeline = tmp_path / "timeline"
    monkeypatch.setenv(TIMELINE_LOG, str(timeline))
    _draw(project, "auto", onnx="auto")  # a small model: TorchScript
    assert "server-warmed torchscript" in timeline.read_text()
    assert "server-warmed dynamo" not in timeline.read_text()
    assert not wants_dynamo(read_learned(project["cache"] / PRELOAD_FILE).modules)
    timeline.unlink()
    _draw(project, "auto", onnx="structure", device="meta")  # on meta: dynamo, not yet warmed up
    assert "server-warmed dynamo" not in timeline.read_text()
    learned = read_learned(project["cache"] / PRELOAD_FILE)
    assert any(name.startswith(DYNAMO_MARKER) for name in learned.modules), list(learned.modules)
    timeline.unlink()
    _draw(project, "auto", onnx="structure", device="meta")
    assert "server-warmed dynamo" in timeline.read_text()


def test_an_empty_list_preloads_nothing(project):
    cache = project["cache"]
    cache.mkdir()
    write_learned(cache / PRELOAD_FILE, Learned({LIBRARY: 0}))
    _draw(project, [])
    (record,) = _records(project)
    assert record["preloaded"] == [] and record["library_pid"] == record["pid"]


# -- a docs build ----------------------------------------------------------------------------------------

CONF = """\
import os, sys
sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz"]
netviz_onnx = "none"
"""


@pytest.mark.slow
@pytest.mark.parametrize("setting", ["auto", []])
def test_a_cold_build_preloads_what_the_build_before_learned(project, make_app, tmp_path, setting):
    """Two cold builds (no doctrees, the diagram cache emptied but its learned list kept): the
    second one's child finds the library imported; with ``netviz_preload = []`` it never does
    and no list is kept."""
    cache = tmp_path / "netviz-cache"

    def build(number: int):
        srcdir = tmp_path / f"build{number}"
        shutil.copytree(project["src"], srcdir)
        _write(srcdir / "conf.py", CONF)
        _write(srcdir / "index.rst", "Probe\n=====\n\n.. netviz:: probe_model:Net\n   :input-shape: 2, 4\n")
        app = make_app("html", srcdir=srcdir, confoverrides={"netviz_cache_dir": str(cache),
                                                             "netviz_preload": setting})
        app.build()
        assert len(soup_of(Path(app.outdir) / "index.html").select("svg g.node")) >= 2
        for entry in cache.iterdir():  # empty the diagram cache; keep the list
            if entry.name != PRELOAD_FILE:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    build(1)
    build(2)
    first, second = _records(project)
    assert first["preloaded"] == []
    if setting == "auto":
        assert second["preloaded"] == [LIBRARY] and second["library_pid"] != second["pid"]
        assert LIBRARY in read_learned(cache / PRELOAD_FILE).modules
    else:
        assert second["preloaded"] == []
        assert not (cache / PRELOAD_FILE).exists()


@pytest.mark.slow
def test_transformers_is_learned_and_preloaded(project, tmp_path):
    """A real library: a tiny BERT from its config. The second server imports transformers and
    the modeling module the first child needed, so the second child finds them imported."""
    pytest.importorskip("transformers")
    watched = ["transformers", "transformers.models.bert.modeling_bert"]
    _write(project["src"] / "bert_model.py", MODEL.format(watched=watched, library=LIBRARY) + textwrap.dedent("""\


        def tiny_bert():
            from transformers import BertConfig, BertModel

            return BertModel(BertConfig(num_hidden_layers=1, hidden_size=32, num_attention_heads=2,
                                        intermediate_size=64, vocab_size=100))
        """))
    cache = project["cache"]
    for _ in range(2):
        _draw(project, "auto", "bert_model:tiny_bert", shapes=((1, 8),), dtypes=("int64",),
              limits=Limits(timeout=120, memory_mb=3000))
        for entry in cache.iterdir():
            if entry.name not in (PRELOAD_FILE, "jobs"):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    first, second = _records(project)
    assert first["preloaded"] == []
    assert second["preloaded"] == sorted(watched)
    learned = read_learned(cache / PRELOAD_FILE)
    assert "transformers.models.bert.modeling_bert" in learned.modules
    assert not any(name.split(".")[0] in {"bert_model", "probe_model"} for name in learned.modules)
