"""Rebuilds: nothing changed traces nothing; an edit re-traces; the Sphinx process never imports torch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, ROOTS

BUILD = """
import sys
from sphinx.cmd.build import main
code = main(sys.argv[1:])
print("TORCH IMPORTED:", "torch" in sys.modules)
sys.exit(code)
"""


def build(srcdir: Path, outdir: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", BUILD, "-W", "-b", "html", *args, str(srcdir), str(outdir)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def svg_files(outdir: Path) -> set[str]:
    return {p.name for p in (outdir / "_downloads" / "netviz").glob("*.svg")}


def bump_mtime(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


def test_rebuilds_reuse_and_edits_retrace(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(ROOTS / "test-cache", src)

    first = build(src, out)
    assert "netviz: traced 1, reused 0" in first
    assert "TORCH IMPORTED: False" in first  # the model is traced in a child process
    svgs = svg_files(out)
    assert len(svgs) == 1

    # nothing changed: nothing read, nothing traced, no torch
    again = build(src, out)
    assert "TORCH IMPORTED: False" in again
    assert "netviz: traced 0, reused 1" in again

    # a fresh environment re-reads every page, but the diagram comes from the cache
    fresh = build(src, out, "-E")
    assert "TORCH IMPORTED: False" in fresh
    assert "netviz: traced 0, reused 1" in fresh

    # touching the model file re-reads its page, but its bytes did not change: no trace
    bump_mtime(src / "cache_models.py")
    touched = build(src, out)
    assert "1 changed" in touched
    assert "TORCH IMPORTED: False" in touched
    assert "netviz: traced 0, reused 1" in touched
    assert svg_files(out) == svgs

    # editing the model re-traces and gives a new diagram
    path = src / "cache_models.py"
    path.write_text(path.read_text().replace("nn.Linear(8, 2)", "nn.Linear(8, 3)"))
    bump_mtime(path)
    edited = build(src, out)
    assert "netviz: traced 1, reused 0" in edited
    assert len(svg_files(out) - svgs) == 1
    html = (out / "index.html").read_text()
    assert "out_features=3" in html and "out_features=2" not in html

    # so does editing a project module the model imports
    helper = src / "cache_layers.py"
    helper.write_text(helper.read_text().replace("nn.ReLU()", "nn.GELU()"))
    bump_mtime(helper)
    helper_edit = build(src, out)
    assert "netviz: traced 1, reused 0" in helper_edit
    assert "GELU" in (out / "index.html").read_text()
