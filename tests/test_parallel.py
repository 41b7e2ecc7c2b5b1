"""``-j 2`` gives the same pages and files as a serial build (in fresh processes)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import ROOTS, run_sphinx, soup_of


def outputs(outdir: Path) -> tuple[dict[str, str], dict[str, str]]:
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted((outdir / "_downloads" / "netviz").iterdir())}
    svgs = {p.name: str(soup_of(p).select_one("div.netviz svg"))
            for p in sorted(outdir.glob("p*.html"))}
    return files, svgs


@pytest.mark.slow
def test_parallel_build_matches_serial_build(tmp_path):
    serial = run_sphinx(ROOTS / "test-parallel", tmp_path / "serial", "-W")
    assert serial.returncode == 0, serial.stderr
    parallel = run_sphinx(ROOTS / "test-parallel", tmp_path / "parallel", "-W", "-j", "2")
    assert parallel.returncode == 0, parallel.stderr
    assert "netviz: traced 6, reused 0" in parallel.stdout
    files_serial, svgs_serial = outputs(tmp_path / "serial")
    files_parallel, svgs_parallel = outputs(tmp_path / "parallel")
    assert len(svgs_serial) == 6 and all(svgs_serial.values())
    # 6 SVGs (all differ) and 2 ONNX files: p1-p4 differ only in drawing options, so they share one
    # content-named file; p5 has other weights; p6 has :onnx: false
    assert sum(name.endswith(".svg") for name in files_serial) == 6
    assert sum(name.endswith(".onnx") for name in files_serial) == 2
    # same bytes from two separate processes: the output is deterministic
    assert files_parallel == files_serial
    assert svgs_parallel == svgs_serial
