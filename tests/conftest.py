"""Shared fixtures and helpers: test roots, Sphinx builds (in this process and in fresh
ones), the session's diagram cache, HTML helpers."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

# Plain text to parse: Sphinx colours its messages, and redraws its progress lines in place,
# under CI=true even into a pipe or a test's StringIO; in this process (make_app builds) and
# in the Sphinx processes the tests start, which inherit it.
os.environ.setdefault("NO_COLOR", "1")

pytest_plugins = ("sphinx.testing.fixtures",)

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
ROOTS = TESTS / "roots"
DOCS = REPO / "docs"

# the docs' example models (the seed CNN, ResNet, transformer) are test models too
if str(DOCS) not in sys.path:
    sys.path.insert(0, str(DOCS))


@pytest.fixture(scope="session")
def rootdir() -> Path:
    return ROOTS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The zoo and the pip-only install are slow tests too (``-m "not slow"`` leaves them out);
    in a worker of a parallel run, the group of each test (:func:`_worker_group`) is written for
    the scheduler."""
    for item in items:
        if item.get_closest_marker("zoo") or item.get_closest_marker("pip_only"):
            item.add_marker(pytest.mark.slow)
    # in a worker, xdist has set dist to "no" and loadgroup to whether it was --dist loadgroup
    folder = os.environ.get(GROUPS_ENV)
    if hasattr(config, "workerinput") and getattr(config.option, "loadgroup", False) and folder:
        groups = {item.nodeid: _worker_group(item) for item in items}
        path = Path(folder) / f"{config.workerinput['workerid']}.json"
        path.with_suffix(".tmp").write_text(json.dumps(groups), encoding="utf-8")
        path.with_suffix(".tmp").replace(path)


# -- running in parallel (pytest-xdist) ---------------------------------------------------------
#
# The suite runs in pytest-xdist workers (pyproject.toml: ``-n auto --dist loadgroup``), one per
# CPU: most of a test's time is a Sphinx build, a fork server or Graphviz, one process at a
# time, so two workers on two CPUs take about 0.6 of the time of one.  Each worker has its own
# temporary folders and its own session fixtures, the diagram cache among them.

#: the folder where each worker writes the group of each of its tests (``<worker id>.json``), for
#: the scheduler in the main process (:func:`pytest_xdist_make_scheduler`)
GROUPS_ENV = "NETVIZ_TEST_GROUPS"

#: session fixtures that build a whole site: every test using one runs in the same worker, which
#: builds it once (else each worker would build docs/ and the viewer's sites again)
SHARED_BUILDS = ("docs_html", "site", "keys_site", "cache_root_built")


def _worker_group(item: pytest.Item) -> str:
    """The xdist group of a test: the first of :data:`SHARED_BUILDS` it uses, else its file
    (so that a module's fixtures are made once, as ``--dist loadfile`` would)."""
    used = set(getattr(item, "fixturenames", ()))
    for name in SHARED_BUILDS:
        if name in used:
            return name
    return item.nodeid.partition("::")[0]


def pytest_configure(config: pytest.Config) -> None:
    """In the main process of a parallel run: the folder for :data:`GROUPS_ENV` (the workers,
    started after this, inherit the variable)."""
    if getattr(config.option, "dist", "no") == "loadgroup" and not hasattr(config, "workerinput"):
        folder = tempfile.mkdtemp(prefix="netviz-test-groups-")
        os.environ[GROUPS_ENV] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # a hook of pytest-xdist, before its own
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadgroup`` that groups tests by :func:`_worker_group`, as the workers wrote it.

    xdist's own loadgroup reads ``xdist_group`` marks by appending ``@group`` to the node id,
    which pytest 9.2's node ids no longer allow (every test became its own group)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SharedBuildScheduling(LoadGroupScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # read once every worker has collected (and written its file)
                self.groups = {}
                for path in sorted(Path(os.environ[GROUPS_ENV]).glob("*.json")):
                    self.groups.update(json.loads(path.read_text(encoding="utf-8")))
            return self.groups.get(nodeid) or super()._split_scope(nodeid)

    return SharedBuildScheduling(config, log)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """How many workers ``-n auto`` starts: ``NETVIZ_TEST_WORKERS`` if set; none (a run in this
    process, as without xdist) when only test files or tests are named on the command line
    (``pytest tests/test_cli.py -x``: quick to start, ``--pdb`` and ``-s`` work), else one per
    CPU, at most 4."""
    if os.environ.get("NETVIZ_TEST_WORKERS"):
        return int(os.environ["NETVIZ_TEST_WORKERS"])
    if config.args and all("::" in arg or arg.endswith(".py") for arg in config.args):
        return 0
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)


# -- the session's diagram cache ----------------------------------------------------------------

@pytest.fixture(scope="session")
def diagram_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One diagram cache (``netviz_cache_dir``) for the builds of this session that draw the same
    diagrams again and again (the seed CNN, the test roots' models): the first build draws
    them, the others reuse them.

    The cache is keyed by content and checks every file on reuse, so sharing it is sound for
    builds of unedited test roots and of ``docs/``'s models.  A test that counts what was
    traced, reads the notes of a drawing, edits a model or tests the cache itself keeps a
    cache of its own (the default)."""
    return tmp_path_factory.mktemp("diagram-cache")


# -- builds in this process ---------------------------------------------------------------------

@pytest.fixture
def build(make_app, rootdir, tmp_path, diagram_cache):
    """``build(root, builder="html", **confoverrides)``: copy ``tests/roots/test-<root>`` to a
    fresh folder, build it with the session's diagram cache, return the app."""
    counter = iter(range(1000))

    def _build(root: str, builder: str = "html", **confoverrides):
        srcdir = tmp_path / f"{root}-{next(counter)}"
        shutil.copytree(rootdir / f"test-{root}", srcdir)
        confoverrides.setdefault("netviz_cache_dir", str(diagram_cache))
        app = make_app(builder, srcdir=srcdir, confoverrides=confoverrides)
        app.build()
        return app

    return _build


def soup_of(path: Path) -> BeautifulSoup:
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


# -- builds in a fresh process ------------------------------------------------------------------

#: ``sphinx-build``, then two lines for the tests: did the build import torch (it should not:
#: models are traced in child processes), and its peak memory
_SPHINX_BUILD = """
import resource, sys
from sphinx.cmd.build import main
code = main(sys.argv[1:])
print("netviz-test: torch imported:", "torch" in sys.modules)
print("netviz-test: peak RSS MB:", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
sys.exit(code)
"""


def sphinx_env(**extra: str) -> dict[str, str]:
    """The environment of a Sphinx process: this repository and ``docs/`` (the example models)
    importable, and ``extra`` variables (no colours: see NO_COLOR above)."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), str(DOCS), os.environ.get("PYTHONPATH")) if p)
    return env


def sphinx_command(srcdir: Path, outdir: Path, *args: str, builder: str = "html",
                   cache: Path | None = None) -> list[str]:
    """The command line of ``sphinx-build -b builder args srcdir outdir`` (see :func:`run_sphinx`)."""
    if cache is not None:
        args = (*args, "-D", f"netviz_cache_dir={cache}")
    return [sys.executable, "-c", _SPHINX_BUILD, "-b", builder, *args, str(srcdir), str(outdir)]


@dataclass(frozen=True)
class SphinxRun:
    """What a ``sphinx-build`` process said."""

    returncode: int
    stdout: str
    stderr: str

    def _said(self, what: str) -> str:
        found = re.search(rf"^netviz-test: {what}: (\S+)$", self.stdout, re.MULTILINE)
        assert found, f"the build did not finish:\n{self.stdout[-2000:]}{self.stderr[-3000:]}"
        return found.group(1)

    @property
    def torch_imported(self) -> bool:
        """Whether the Sphinx process imported torch."""
        return self._said("torch imported") == "True"

    @property
    def peak_rss_mb(self) -> int:
        """The Sphinx process's peak resident memory (its children not counted), in MiB."""
        return int(self._said("peak RSS MB"))


def run_sphinx(srcdir: Path, outdir: Path, *args: str, builder: str = "html", cache: Path | None = None,
               ok: bool = False, env: dict[str, str] | None = None, timeout: float = 300,
               preexec_fn: Callable[[], None] | None = None) -> SphinxRun:
    """``sphinx-build -b builder args srcdir outdir`` in a fresh process: needed for ``-j``
    (forking a process that already ran torch would hang the workers), for memory limits and
    to see what the Sphinx process itself imports.

    ``cache``: the diagram cache to use (``netviz_cache_dir``), else the build's own
    (``<doctreedir>/netviz``); ``ok``: the build must succeed without a traceback; ``env``:
    extra environment variables."""
    done = subprocess.run(sphinx_command(srcdir, outdir, *args, builder=builder, cache=cache),
                          capture_output=True, text=True, env=sphinx_env(**(env or {})), timeout=timeout,
                          preexec_fn=preexec_fn, check=False)
    run = SphinxRun(done.returncode, done.stdout, done.stderr)
    if ok:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
        assert "Traceback" not in run.stderr, run.stderr[-4000:]
    return run


# -- tests/roots/test-cache, built once ---------------------------------------------------------

@pytest.fixture(scope="session")
def cache_root_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SphinxRun, Path]:
    """``tests/roots/test-cache`` built once, in a fresh process, with its own diagram cache:
    (its folder, holding ``src/`` and ``out/``; the build; a saved copy of the folder)."""
    base = tmp_path_factory.mktemp("test-cache")
    root = base / "project"
    shutil.copytree(ROOTS / "test-cache", root / "src")
    first = run_sphinx(root / "src", root / "out", "-W", ok=True)
    saved = base / "saved"
    shutil.copytree(root, saved, symlinks=True)  # copy2: the same modification times
    return root, first, saved


@pytest.fixture
def cache_project(cache_root_built) -> Path:
    """``tests/roots/test-cache`` as its first build left it (sources, output, environment and
    diagram cache), restored at the same path with the same times: a rebuild sees exactly
    that project, whatever an earlier test did to it."""
    root, _, saved = cache_root_built
    shutil.rmtree(root)
    shutil.copytree(saved, root, symlinks=True)
    return root


# -- a slow Graphviz ----------------------------------------------------------------------------

SLOW_DOT = """#!/bin/sh
# a Graphviz that takes too long on any diagram with clusters
[ "$1" = "-V" ] && exec dot -V
input=$(cat)
case "$input" in *cluster_*) sleep 5 ;; esac
printf '%s' "$input" | exec dot "$@"
"""


@pytest.fixture
def slow_dot(tmp_path) -> Path:
    """A Graphviz ``dot`` that takes 5 s on any diagram with clusters (for layout time limits)."""
    path = tmp_path / "slow-dot"
    path.write_text(SLOW_DOT)
    path.chmod(0o755)
    return path
