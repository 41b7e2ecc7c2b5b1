"""Shared fixtures: Sphinx's own testing fixtures, test roots, HTML helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

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


@pytest.fixture
def build(make_app, rootdir, tmp_path):
    """Copy ``tests/roots/test-<root>`` to a fresh folder, build it, return the app."""
    counter = iter(range(1000))

    def _build(root: str, builder: str = "html", **confoverrides):
        srcdir = tmp_path / f"{root}-{next(counter)}"
        shutil.copytree(rootdir / f"test-{root}", srcdir)
        app = make_app(builder, srcdir=srcdir, confoverrides=confoverrides)
        app.build()
        return app

    return _build


def soup_of(path: Path) -> BeautifulSoup:
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


def run_sphinx(srcdir: Path, outdir: Path, *args: str, builder: str = "html",
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``sphinx-build`` in a fresh process (needed for ``-j``: forking a process
    that already ran torch would hang the workers)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(DOCS), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", builder, *args, str(srcdir), str(outdir)],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )


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
