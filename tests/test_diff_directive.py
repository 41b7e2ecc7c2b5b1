"""``.. netviz-diff::`` in real builds (tests/roots/test-diff): two targets with :new-kwargs:, two
identical architectures, a snapshot file (:against: net.json), a git ref (:against: v1 in a
repository made here), and the bad forms, each a located warning. HTML, text and LaTeX get the
Changes table; the Sphinx process never imports torch; a warm build draws nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOTS, run_sphinx, soup_of

pytestmark = pytest.mark.slow  # each build traces six sides in children

MODEL = '''from torch import nn


def make_net(width: int = {width}) -> nn.Module:
    return nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 2))
'''


def project(tmp_path: Path) -> Path:
    """tests/roots/test-diff copied, with the snapshot file its third diff reads (written by the CLI)."""
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-diff", src)
    done = subprocess.run([sys.executable, "-m", "sphinx_netviz", "diff_models:make_net", "-p", str(src),
                           "--input-shape", "2,3,8,8", "--snapshot", str(src / "net.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return src


def rows(table) -> list[list[str]]:
    return [[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])] for row in table.find_all("tr")]


def warnings_of(stderr: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"index\.rst:(\d+): WARNING: (.*)", stderr)}


def test_html_text_and_latex(tmp_path: Path) -> None:
    src = project(tmp_path)
    cache = tmp_path / "cache"
    run = run_sphinx(src, tmp_path / "html", "-q", "-d", str(tmp_path / "doctrees"), cache=cache)
    assert run.returncode == 0 and not run.torch_imported
    said = warnings_of(run.stderr)
    assert said == {
        23: "cannot draw diff_models:make_net: netviz-diff compares two architectures: give OLD NEW, or NEW "
            "with :against: REF (a git tag, branch or commit) or :against: FILE.json (an architecture "
            "snapshot) [netviz.input]",
        26: f"cannot draw diff_models:make_net: {src} is not in a git repository (git found no .git folder "
            "above it): compare against a snapshot file (.json) or build the docs from a clone [netviz.input]",
        30: "cannot draw diff_models:NoSuchModel: 'diff_models' has no attribute 'NoSuchModel' (looking up the "
            "model 'diff_models:NoSuchModel'); it has the classes and functions Block, Moved, Net, make_net "
            "[netviz.import]",
    }, run.stderr
    soup = soup_of(tmp_path / "html" / "index.html")
    figures = soup.select("figure")
    assert len(figures) == 6
    grown, same, against = figures[:3]
    # the merged drawing, in the usual viewer, with its marks and legend
    assert grown.select_one("div.netviz script.netviz-data") is not None
    drawn = grown.find("svg")  # depth 3, unfolded: the two added blocks are clusters
    assert len(drawn.select("g.cluster.netviz-added")) == 2 and drawn.select("g.node.netviz-changed")
    changes, totals = soup.select("table.netviz-changes")[0], soup.select("table.netviz-changes-totals")[0]
    assert rows(changes) == [
        ["Module", "Change", "Class", "What changed"],
        ["<root>", "changed", "Net", "output 2×5 → 2×10"],
        ["conv", "changed", "Conv2d", "kernel_size=(3, 3) → (5, 5); padding=(1, 1) → (2, 2); parameters 448 → 1,216"],
        ["blocks.0", "changed", "Block", "×4 → ×6"],
        ["blocks.4", "added", "Block", "Block (272 parameters, 2 modules inside)"],
        ["blocks.5", "added", "Block", "Block (272 parameters, 2 modules inside)"],
        ["drop", "changed", "Identity", "class Dropout → Identity; -p=0.1"],
        ["head", "changed", "Linear", "out_features=5 → 10; parameters 85 → 170; output 2×5 → 2×10"]]
    assert rows(totals)[1:] == [["parameters", "1,621", "3,018", "+1,397"], ["MACs", "57,504", "156,992", "+99,488"]]
    assert grown.select_one("figcaption").get_text(strip=True).startswith("Net grown")
    assert not grown.select("table.netviz-summary")  # the Changes table takes the summary's place
    # identical: the sentence and the plain diagram
    assert [p.get_text() for p in soup.select("p.netviz-no-change")] == ["No architectural change."]
    assert same.select_one("svg") is not None and not same.select("svg .netviz-changed, svg .netviz-added")
    # against a snapshot file
    assert rows(soup.select("table.netviz-changes")[1])[1:] == [
        ["<root>", "changed", "Net", "output 2×5 → 2×7"],
        ["head", "changed", "Linear", "out_features=5 → 7; parameters 85 → 119; output 2×5 → 2×7"]]
    assert against.select("svg g.netviz-changed")
    # the bad ones: placeholders, no table
    assert len(soup.select("table.netviz-changes")) == 2
    assert "a side of the diff could not be drawn" in figures[5].get_text()
    # a warm build (the pages read again) draws nothing
    again = run_sphinx(src, tmp_path / "html", "-E", "-d", str(tmp_path / "doctrees"), cache=cache)
    assert "netviz: traced 0, reused 3, failed 3" in again.stdout, again.stdout[-2000:]
    # the snapshot file edited (now the new side's architecture): the page is read again, the same
    done = subprocess.run([sys.executable, "-m", "sphinx_netviz", "diff_models:make_net", "-p", str(src),
                           "--input-shape", "2,3,8,8", "--kwargs", '{"classes": 7}', "--snapshot",
                           str(src / "net.json")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    edited = run_sphinx(src, tmp_path / "html", "-d", str(tmp_path / "doctrees"), cache=cache)
    assert "netviz: traced 1, reused 2" in edited.stdout, edited.stdout[-2000:]
    soup = soup_of(tmp_path / "html" / "index.html")
    assert [p.get_text() for p in soup.select("p.netviz-no-change")] == ["No architectural change."] * 2
    # text and LaTeX: the same tables, from the same cache (nothing traced)
    text = run_sphinx(src, tmp_path / "text", "-d", str(tmp_path / "doctrees-text"), builder="text", cache=cache)
    assert "traced 0, reused 3" in text.stdout
    page = (tmp_path / "text" / "index.txt").read_text()
    assert page.count("No architectural change.") == 2 and "| added" in page and "+1,397" in page
    assert re.search(r"\| \"conv\" +\| changed +\| \"Conv2d\" +\| kernel_size=\(3, 3\) → \(5, 5\)", page)
    latex = run_sphinx(src, tmp_path / "latex", "-d", str(tmp_path / "doctrees-latex"), builder="latex",
                       cache=cache)
    assert latex.returncode == 0
    tex = next((tmp_path / "latex").glob("*.tex")).read_text()
    assert "Changes" in tex and "Totals" in tex and "blocks.4" in tex and tex.count("No architectural change.") == 2


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def test_against_a_git_ref(tmp_path: Path) -> None:
    """The docs' repository at v1 (a tag) against the working tree, edited since and not committed:
    the old side is built from v1's files, extracted into the cache; the working tree is untouched."""
    repo = tmp_path / "repo"
    docs = repo / "docs"
    (docs / "models").mkdir(parents=True)
    (docs / "conf.py").write_text("import os, sys\nsys.path.insert(0, os.path.abspath('models'))\n"
                                  "extensions = ['sphinx_netviz']\nnetviz_onnx = 'none'\n")
    (docs / "index.rst").write_text("Net\n===\n\n.. netviz-diff:: netmodels:make_net\n   :against: v1\n"
                                    "   :input-shape: 1, 4\n\n.. netviz-diff:: netmodels:make_net\n"
                                    "   :against: v9\n   :input-shape: 1, 4\n")
    model = docs / "models" / "netmodels.py"
    model.write_text(MODEL.format(width=8))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "tag", "v1")
    model.write_text(MODEL.format(width=32))
    status = git(repo, "status", "--porcelain")
    cache = tmp_path / "cache"
    run = run_sphinx(docs, tmp_path / "html", "-q", "-d", str(tmp_path / "doctrees"), cache=cache)
    assert run.returncode == 0 and not run.torch_imported
    assert warnings_of(run.stderr) == {8: "cannot draw netmodels:make_net: 'v9' is not a tag, branch or commit of "
                                          f"the git repository at {repo} (git rev-parse found no commit by that "
                                          "name): check the spelling, or fetch it [netviz.input]"}, run.stderr
    soup = soup_of(tmp_path / "html" / "index.html")
    assert rows(soup.select_one("table.netviz-changes"))[1:] == [
        ["0", "changed", "Linear", "out_features=8 → 32; parameters 40 → 160; output 1×8 → 1×32"],
        ["1", "changed", "ReLU", "output 1×8 → 1×32"],
        ["2", "changed", "Linear", "in_features=8 → 32; parameters 18 → 66"]]
    commit = git(repo, "rev-parse", "v1^{commit}").strip()
    assert (cache / "git" / commit / "docs" / "models" / "netmodels.py").read_text() == MODEL.format(width=8)
    assert git(repo, "status", "--porcelain") == status and model.read_text() == MODEL.format(width=32)
    # warm: nothing traced, the extracted tree reused; an edit to the working tree's model draws again
    again = run_sphinx(docs, tmp_path / "html", "-E", "-d", str(tmp_path / "doctrees"), cache=cache)
    assert "netviz: traced 0, reused 1, failed 1" in again.stdout, again.stdout[-2000:]
    model.write_text(MODEL.format(width=16))
    edited = run_sphinx(docs, tmp_path / "html", "-d", str(tmp_path / "doctrees"), cache=cache)
    assert "netviz: traced 1" in edited.stdout, edited.stdout[-2000:]
    soup = soup_of(tmp_path / "html" / "index.html")
    assert "out_features=8 → 16" in soup.select_one("table.netviz-changes").get_text()


ONNX_PAGE = """\
ONNX
====

.. netviz-diff:: net5.onnx net10.onnx
   :depth: 2

.. netviz-diff:: net5.onnx net10.onnx
   :old-kwargs: {"classes": 3}

.. netviz-diff:: net10.onnx
   :against: net5.onnx
   :depth: 2

.. netviz-diff:: net.onnx
   :against: v1
   :depth: 2

.. netviz-diff:: diff_models:Net
   :against: net5.onnx
   :input-shape: 2, 3, 8, 8
"""


def test_onnx_files_on_both_sides(tmp_path: Path) -> None:
    """Two ONNX files (Net with 4 blocks and 5 classes, with 6 and 10) as the two sides: read in
    their side children, merged, in every form: OLD NEW, NEW with :against: OLD.onnx, and an ONNX
    file with :against: a git tag (the file as that commit had it).  :old-kwargs: on an ONNX side,
    and an ONNX file against a model, are located warnings saying what to do."""
    import torch

    sys.path.insert(0, str(ROOTS / "test-diff"))
    from diff_models import Net

    src = tmp_path / "src"
    src.mkdir()
    for name, kwargs in (("net5", {}), ("net10", {"classes": 10, "blocks": 6})):
        torch.onnx.export(Net(**kwargs).eval(), (torch.zeros(2, 3, 8, 8),), str(src / f"{name}.onnx"), dynamo=False)
    (src / "conf.py").write_text("extensions = ['sphinx_netviz']\n")
    (src / "index.rst").write_text(ONNX_PAGE)
    # net.onnx: net5's bytes at the tag v1, net10's in the working tree (not committed)
    shutil.copyfile(src / "net5.onnx", src / "net.onnx")
    git(src, "init", "-q", "-b", "main")
    git(src, "add", ".")
    git(src, "commit", "-q", "-m", "v1")
    git(src, "tag", "v1")
    shutil.copyfile(src / "net10.onnx", src / "net.onnx")
    run = run_sphinx(src, tmp_path / "html", "-q", cache=tmp_path / "cache")
    assert warnings_of(run.stderr) == {
        7: "cannot draw net10.onnx: :old-kwargs: does not apply to an ONNX file (net5.onnx), which is drawn as "
           "it is (no model is built or run); leave it out [netviz.input]",
        18: "cannot draw diff_models:Net: net5.onnx is an ONNX file and diff_models:Net a model: an ONNX file's "
            "layers are operators (Gemm, Conv), a model's are modules (Linear, Conv2d), so every layer would "
            "differ; compare two ONNX files (export the model with torch.onnx.export, or take its netviz "
            "diagram's ONNX download) or two models [netviz.input]"}, run.stderr
    soup = soup_of(tmp_path / "html" / "index.html")
    tables = soup.select("table.netviz-changes")
    assert len(tables) == 3  # OLD NEW, :against: net5.onnx, :against: v1
    expected = [["<root>", "changed"], ["blocks.0", "changed"], ["blocks.4", "added"], ["blocks.5", "added"],
                ["head", "changed"]]
    assert [[row[:2] for row in rows(table)[1:]] for table in tables] == [expected] * 3
    assert rows(tables[1]) == rows(tables[0])
    # an ONNX file's root is named after the file: net5 → net10 is a class change, net → net is not
    assert rows(tables[0])[1][-1] == "class net5 → net10; output 2×5 → 2×10"
    assert rows(tables[2])[1][-1] == "output 2×5 → 2×10" and rows(tables[2])[2:] == rows(tables[0])[2:]
    drawn = [svg for figure in soup.select("figure") if (svg := figure.select_one("svg")) is not None]
    assert len(drawn) == 3 and all(svg.select("g.netviz-changed") for svg in drawn)
    assert git(src, "status", "--porcelain") == " M net.onnx\n"  # the working tree untouched
