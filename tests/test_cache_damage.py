"""A damaged, missing or unwritable cache is a miss or a located warning, never a crash or a half page.

Real ``sphinx-build`` runs of ``tests/roots/test-cache`` (fresh processes),
damaging the cache the ways a disk, a user or ``docs/caching.rst``'s own
advice ("delete the ``netviz/`` directory") do.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import onnx
import pytest
from conftest import ROOTS, run_sphinx, soup_of


def cache_files(out: Path, suffix: str) -> list[Path]:
    return sorted((out / ".doctrees" / "netviz" / "files").glob(f"*{suffix}"))


def assert_page_whole(out: Path) -> None:
    """The page has the diagram (a complete SVG with boxes) and a sound ONNX download."""
    page = soup_of(out / "index.html")
    svg = page.select_one("div.netviz svg")
    assert svg is not None and len(svg.select("g.node")) >= 4
    assert page.select("div.netviz-error") == []
    link = page.select_one("a.netviz-onnx")
    onnx.checker.check_model(onnx.load_from_string((out / link["href"]).read_bytes()))


@pytest.fixture
def project(cache_project):
    """``tests/roots/test-cache`` as its first build left it (conftest.py): (sources, output)."""
    src, out = cache_project / "src", cache_project / "out"
    assert_page_whole(out)
    return src, out


@pytest.mark.parametrize("damage", ["truncated svg", "empty svg", "truncated details", "random onnx",
                                    "missing dot file", "truncated manifest"])
def test_damaged_entry_is_drawn_again(project, damage):
    src, out = project
    if damage.endswith("svg"):
        target = max(cache_files(out, ".svg"), key=lambda p: p.stat().st_size)
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2] if damage.startswith("truncated") else b"")
    elif damage.startswith("truncated"):
        details = damage.endswith("details")  # content-named, or the manifest (named by its key)
        target = next(p for p in cache_files(out, ".json") if p.name.startswith("netviz-") == details)
        target.write_bytes(target.read_bytes()[:40])
    elif damage == "random onnx":
        target = cache_files(out, ".onnx")[0]
        target.write_bytes(bytes(range(256)) * 8)
    else:
        cache_files(out, ".dot")[0].unlink()
    again = run_sphinx(src, out, ok=True)
    # the page is read again and the diagram drawn anew, with an info line saying why
    assert "netviz: traced 1, reused 0" in again.stdout, again.stdout
    assert re.search(r"netviz: the cached (diagram|ONNX) file .* (does not match its content hash|is missing)"
                     r"|netviz: the cached diagram's manifest is damaged", again.stdout), again.stdout
    assert_page_whole(out)


@pytest.mark.parametrize("also", [[], ["-a"], ["html"]], ids=["alone", "with -a", "with the html"])
def test_deleting_the_cache_folder_redraws(project, also):
    """What docs/caching.rst tells users: delete ``netviz/`` to draw every diagram again."""
    src, out = project
    shutil.rmtree(out / ".doctrees" / "netviz")
    if "html" in also:
        (out / "index.html").unlink()
        shutil.rmtree(out / "_downloads")
    again = run_sphinx(src, out, *[a for a in also if a != "html"], ok=True)
    assert "netviz: traced 1, reused 0" in again.stdout, again.stdout
    assert_page_whole(out)


def test_unwritable_download_folder_is_a_located_warning(project):
    src, out = project
    shutil.rmtree(out / "_downloads" / "netviz")
    (out / "_downloads" / "netviz").write_text("a file where the folder should be")  # even root cannot write
    again = run_sphinx(src, out, "-a")
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert re.search(r"index\.rst:4: WARNING: cache_models:Net: cannot write its downloads .* \[netviz\.write\]",
                     again.stderr), again.stderr
    page = soup_of(out / "index.html")
    assert page.select_one("div.netviz svg g.node") is not None  # the diagram is there, without links
    assert page.select("a.netviz-onnx") == []


def test_unwritable_cache_folder_is_a_located_warning(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(ROOTS / "test-cache", src)
    (out / ".doctrees").mkdir(parents=True)
    (out / ".doctrees" / "netviz").write_text("a file where the cache folder should be")
    done = run_sphinx(src, out)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    warnings = re.findall(r"index\.rst:4: WARNING: cannot draw cache_models:Net: (.*) \[netviz\.(\w+)\]", done.stderr)
    assert len(warnings) == 1, done.stderr
    message, subtype = warnings[0]
    assert subtype == "write" and "writable" in message
    assert len(soup_of(out / "index.html").select("div.netviz-error")) == 1
