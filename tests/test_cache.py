"""Rebuilds: nothing changed traces nothing; an edit re-traces; the Sphinx process never imports torch.

Real ``sphinx-build`` runs (fresh processes) of ``tests/roots/test-cache``.
The first build is made once (``cache_root_built`` in conftest.py); each
test starts from a copy of it, restored at the same path with the same
times (``cache_project``), so that Sphinx and the diagram cache see exactly
the project the first build left.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import ROOTS, SphinxRun, run_sphinx

from sphinx_netviz.jobs import TIMELINE_LOG


def build(root: Path, *args: str, timeline: Path | None = None) -> SphinxRun:
    """A rebuild of ``root`` (``-W``, must succeed); ``timeline``: where its drawing's steps are
    marked (``NETVIZ_TIMELINE_LOG``)."""
    return run_sphinx(root / "src", root / "out", "-W", *args, ok=True,
                      env={TIMELINE_LOG: str(timeline)} if timeline else None)


def svg_files(outdir: Path) -> set[str]:
    return {p.name for p in (outdir / "_downloads" / "netviz").glob("*.svg")}


def bump_mtime(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


def test_the_first_build_traces_in_a_child_process(cache_root_built):
    _, first, saved = cache_root_built  # as the build left it (tests using cache_project may run first)
    assert "netviz: traced 1, reused 0" in first.stdout
    assert not first.torch_imported  # the model is traced in a child process
    assert len(svg_files(saved / "out")) == 1


def test_nothing_changed_reads_and_traces_nothing(cache_project):
    again = build(cache_project)
    assert "0 changed" in again.stdout or "no targets are out of date" in again.stdout, again.stdout
    assert not again.torch_imported
    assert "netviz: traced 0, reused 1" in again.stdout


def test_a_fresh_environment_takes_the_diagram_from_the_cache(cache_project, tmp_path):
    """Every page is new to a fresh environment, and the cache has each diagram: no fork server
    is started (before: one started with the build, importing torch, to be killed unused)."""
    timeline = tmp_path / "timeline"
    fresh = build(cache_project, "-E", timeline=timeline)
    assert not fresh.torch_imported
    assert "netviz: traced 0, reused 1" in fresh.stdout
    assert not timeline.exists() or "server-start" not in timeline.read_text()


def test_a_fresh_environment_starts_the_server_for_a_diagram_it_lacks(cache_project, tmp_path):
    """... but a page whose diagram is not there yet still gets it drawn, in the same build."""
    index = cache_project / "src" / "index.rst"
    index.write_text(index.read_text().replace(":input-shape: 1, 4", ":input-shape: 2, 4"))
    timeline = tmp_path / "timeline"
    fresh = build(cache_project, "-E", timeline=timeline)
    assert "netviz: traced 1, reused 0" in fresh.stdout
    assert timeline.read_text().count("server-start") == 1


def test_touching_the_model_file_rereads_its_page_but_traces_nothing(cache_project):
    svgs = svg_files(cache_project / "out")
    bump_mtime(cache_project / "src" / "cache_models.py")
    touched = build(cache_project)
    assert "1 changed" in touched.stdout
    assert not touched.torch_imported
    assert "netviz: traced 0, reused 1" in touched.stdout
    assert svg_files(cache_project / "out") == svgs  # its bytes did not change


def test_editing_the_model_retraces_and_gives_a_new_diagram(cache_project):
    svgs = svg_files(cache_project / "out")
    path = cache_project / "src" / "cache_models.py"
    path.write_text(path.read_text().replace("nn.Linear(8, 2)", "nn.Linear(8, 3)"))
    bump_mtime(path)
    edited = build(cache_project)
    assert "netviz: traced 1, reused 0" in edited.stdout
    assert len(svg_files(cache_project / "out") - svgs) == 1
    html = (cache_project / "out" / "index.html").read_text()
    assert "out_features=3" in html and "out_features=2" not in html


def test_editing_a_project_module_the_model_imports_retraces(cache_project):
    helper = cache_project / "src" / "cache_layers.py"
    helper.write_text(helper.read_text().replace("nn.ReLU()", "nn.GELU()"))
    bump_mtime(helper)
    edited = build(cache_project)
    assert "netviz: traced 1, reused 0" in edited.stdout
    assert "GELU" in (cache_project / "out" / "index.html").read_text()


@pytest.mark.slow
def test_a_cache_folder_outside_the_build_survives_a_clean_build(tmp_path):
    """``netviz_cache_dir`` (relative to conf.py's folder): a build into an empty output folder
    takes the diagram from it; nothing is cached under the doctrees."""
    shutil.copytree(ROOTS / "test-cache", tmp_path / "src")
    setting = ("-D", "netviz_cache_dir=../diagrams")
    first = run_sphinx(tmp_path / "src", tmp_path / "out-1", *setting, ok=True)
    assert "netviz: traced 1, reused 0" in first.stdout
    assert len(list((tmp_path / "diagrams" / "files").glob("netviz-*.svg"))) >= 1
    clean = run_sphinx(tmp_path / "src", tmp_path / "out-2", *setting, ok=True)
    assert "netviz: traced 0, reused 1" in clean.stdout
    assert not clean.torch_imported
    for out in ("out-1", "out-2"):
        assert not (tmp_path / out / ".doctrees" / "netviz").exists(), out
    assert svg_files(tmp_path / "out-1") == svg_files(tmp_path / "out-2")
