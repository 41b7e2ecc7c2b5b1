"""A cached diagram is checked against the files the build that asks would import, not those it
was drawn from: projects sharing a cache, and copies of a project, each get their own model.

The cache keeps a diagram's project modules by name (``nets.model``) and, on every lookup,
finds each name's file along the build's ``sys.path`` without running any code, and compares
its bytes.  Real ``sphinx-build`` runs (fresh processes) of small projects made here; unit
tests of :class:`~sphinx_netviz.cache.DiagramCache` for the ONNX export records and for a
module that cannot be found without running code.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import onnx
import pytest
from conftest import SphinxRun, run_sphinx, soup_of

from sphinx_netviz.artifacts import Artifacts
from sphinx_netviz.cache import DiagramCache
from sphinx_netviz.deps import find_module_file, project_modules

CONF = """\
import os
import sys

sys.path.insert(0, os.path.abspath("."))
extensions = ["sphinx_netviz"]
netviz_cache_dir = "../diagrams"
"""

INDEX = """\
Nets
====

.. netviz:: nets.model:Net
   :input-shape: 1, 3, 8, 8
"""

#: one Linear layer, made by a helper module of the package
LINEAR = """\
from torch import nn

from .layers import head


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = head()

    def forward(self, x):
        return self.head(x)
"""

LAYERS = """\
from torch import nn


def head():
    return nn.Linear(8, 2)
"""

#: two convolutions: another model of the same name, ``nets.model:Net``
CONVS = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(3, 4, 3)
        self.second = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        return self.second(self.first(x))
"""


def make_project(root: Path, model: str = LINEAR) -> Path:
    """``root/src``: conf.py (cache in ``root/diagrams``), index.rst, and the package ``nets``."""
    src = root / "src"
    (src / "nets").mkdir(parents=True)
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text(INDEX)
    (src / "nets" / "__init__.py").write_text("")
    (src / "nets" / "model.py").write_text(model)
    (src / "nets" / "layers.py").write_text(LAYERS)
    return root


def build(root: Path, *args: str) -> SphinxRun:
    return run_sphinx(root / "src", root / "out", "-W", *args, ok=True)


def traced(run: SphinxRun) -> tuple[int, int]:
    """(traced, reused) of the build's summary line."""
    line = next(line for line in run.stdout.splitlines() if line.startswith("netviz: traced"))
    words = line.replace(",", "").split()
    return int(words[2]), int(words[4])


def drawn_layers(root: Path) -> str:
    """The text of the page's diagram (its boxes name the layers)."""
    svg = soup_of(root / "out" / "index.html").select_one("div.netviz svg")
    assert svg is not None, "no diagram on the page"
    return svg.get_text(" ")


def onnx_ops(root: Path) -> set[str]:
    """The operator types of the page's ONNX download."""
    link = soup_of(root / "out" / "index.html").select_one("a.netviz-onnx")
    return {node.op_type for node in onnx.load(str(root / "out" / link["href"])).graph.node}


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (one Linear layer) built once, with its cache beside it (``diagrams/``).

    Tests copy it elsewhere; built again in place, it stays as it is (nothing changed)."""
    root = make_project(tmp_path_factory.mktemp("original") / "project")
    assert traced(build(root)) == (1, 0)
    return root


@pytest.mark.slow  # three cold sphinx-build processes (~16 s)
def test_two_projects_sharing_a_cache_folder_each_draw_their_own_model(tmp_path):
    shared = tmp_path / "shared-cache"
    linear = make_project(tmp_path / "a", LINEAR)
    convs = make_project(tmp_path / "b", CONVS)

    first = run_sphinx(linear / "src", linear / "out", "-W", cache=shared, ok=True)
    assert traced(first) == (1, 0)
    second = run_sphinx(convs / "src", convs / "out", "-W", cache=shared, ok=True)
    assert traced(second) == (1, 0)  # the same spec key, another project's files: drawn, not reused

    a_text, b_text = drawn_layers(linear), drawn_layers(convs)
    assert "Linear" in a_text and "Conv2d" not in a_text
    assert "Conv2d" in b_text and "Linear" not in b_text
    assert len(soup_of(convs / "out" / "index.html").select("div.netviz svg g.node")) > \
        len(soup_of(linear / "out" / "index.html").select("div.netviz svg g.node"))
    # the ONNX export record is not taken across projects either
    assert "Conv" in onnx_ops(convs) and "Conv" not in onnx_ops(linear)

    # the first project, built again: the shared record is now the other's, so it draws its own again
    again = run_sphinx(linear / "src", linear / "out", "-W", cache=shared, ok=True)
    assert traced(again) == (1, 0)
    assert "Linear" in drawn_layers(linear) and "Conv2d" not in drawn_layers(linear)


@pytest.mark.slow  # two builds besides the first (~12 s)
def test_a_copy_of_a_project_edited_draws_its_edit_and_the_original_keeps_its_own(original, tmp_path):
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(original, copy, symlinks=True)  # with its output, environment and cache
    layers = copy / "src" / "nets" / "layers.py"
    layers.write_text(LAYERS.replace("nn.Linear(8, 2)", "nn.Linear(8, 5)"))

    edited = build(copy)
    assert traced(edited) == (1, 0)
    assert "out_features=5" in (copy / "out" / "index.html").read_text()

    kept = build(original, "-E")  # every page read again: the diagram from its own cache
    assert traced(kept) == (0, 1) and not kept.torch_imported
    html = (original / "out" / "index.html").read_text()
    assert "out_features=2" in html and "out_features=5" not in html


def test_an_identical_copy_of_a_project_reuses_its_diagrams(original, tmp_path):
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(original, copy, symlinks=True)
    again = build(copy)  # a new source folder: Sphinx reads every page again
    assert traced(again) == (0, 1)
    assert not again.torch_imported  # nothing was traced: the diagram came from the copied cache
    assert "out_features=2" in (copy / "out" / "index.html").read_text()


# -- unit tests of the records ---------------------------------------------------------------------

def fake_artifacts(modules: dict[str, str]) -> Artifacts:
    """A finished diagram (files in memory) that depends on ``modules`` (name -> imported file)."""
    return Artifacts(svg=b"<svg/>", dot="digraph {}", onnx=b"ONNX bytes", onnx_mode="full",
                     sources=sorted(set(modules.values())), modules=modules, model_name="Net")


def write_package(root: Path, model: str) -> Path:
    (root / "nets").mkdir(parents=True)
    (root / "nets" / "__init__.py").write_text("")
    (root / "nets" / "model.py").write_text(model)
    return root


def test_export_and_diagram_records_are_checked_against_the_asking_projects_files(tmp_path):
    a = write_package(tmp_path / "a", LINEAR)
    b = write_package(tmp_path / "b", CONVS)
    same = write_package(tmp_path / "same", LINEAR)
    made = fake_artifacts({"nets": str((a / "nets" / "__init__.py").resolve()),
                           "nets.model": str((a / "nets" / "model.py").resolve())})
    DiagramCache(tmp_path / "cache", search_path=[str(a)]).store_export("export-key", made)
    DiagramCache(tmp_path / "cache", search_path=[str(a)]).store("spec-key", made)

    for where, hit in [(a, True), (same, True), (b, False), (tmp_path / "nowhere", False)]:
        cache = DiagramCache(tmp_path / "cache", search_path=[str(where)])
        assert (cache.lookup_export("export-key") is not None) is hit, where
        found = cache.lookup("spec-key")
        assert (found is not None) is hit, where
        if found is not None:  # the page depends on this project's files, not the drawing one's
            assert found.sources == [str((where / "nets" / name).resolve()) for name in ("__init__.py", "model.py")]
    assert DiagramCache(tmp_path / "cache", search_path=[str(same)]).lookup_export("export-key") == \
        (b"ONNX bytes", "full")

    (same / "nets" / "model.py").write_text(LINEAR + "\n# edited\n")  # an edit in a copy misses there
    assert DiagramCache(tmp_path / "cache", search_path=[str(same)]).lookup_export("export-key") is None
    assert DiagramCache(tmp_path / "cache", search_path=[str(same)]).lookup("spec-key") is None
    assert DiagramCache(tmp_path / "cache", search_path=[str(a)]).lookup("spec-key") is not None


#: a package that puts a second folder on its ``__path__`` when its code runs (and says so)
EXTENDING_INIT = """\
import os

open(os.path.join(os.path.dirname(__file__), "..", "init-ran"), "w").close()
__path__.append(os.path.join(os.path.dirname(__file__), "..", "more"))
"""


def test_a_module_found_only_by_running_code_never_matches(tmp_path, monkeypatch):
    root = tmp_path / "project"
    (root / "pathpkg").mkdir(parents=True)
    (root / "more").mkdir()
    (root / "pathpkg" / "__init__.py").write_text(EXTENDING_INIT)
    (root / "more" / "extra.py").write_text("WIDTH = 8\n")
    search_path = [str(root)]

    # found without running code: the package is, its module from the added folder is not
    assert find_module_file("pathpkg", search_path) == str((root / "pathpkg" / "__init__.py").resolve())
    assert find_module_file("pathpkg.extra", search_path) is None
    assert not (root / "init-ran").exists()  # no __init__ ran

    monkeypatch.syspath_prepend(str(root))
    try:
        extra = importlib.import_module("pathpkg.extra")  # the real import runs __init__
        modules = project_modules([extra])
    finally:
        for name in ("pathpkg", "pathpkg.extra"):
            sys.modules.pop(name, None)
    assert (root / "init-ran").exists()
    assert modules["pathpkg.extra"] == str((root / "more" / "extra.py").resolve())

    cache = DiagramCache(tmp_path / "cache", search_path=search_path)
    made = fake_artifacts(modules)
    stored = cache.store("spec-key", made)
    cache.store_export("export-key", made)
    assert stored.sources == made.sources
    assert cache.lookup("spec-key") is None  # never, though nothing changed
    assert cache.lookup_export("export-key") is None
    # the build that has just drawn it still writes it on its page, checked at the imported file
    assert cache.lookup("spec-key", just_stored=True) is not None
    (root / "more" / "extra.py").write_text("WIDTH = 9\n")
    assert cache.lookup("spec-key", just_stored=True) is None


PATH_EXTENDING_PROJECT_INIT = """\
import os

__path__.append(os.path.join(os.path.dirname(__file__), "..", "more"))
"""

EXTRA_MODEL = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(x)
"""


@pytest.mark.slow  # three cold builds (~11 s)
def test_a_model_found_only_by_running_code_is_drawn_on_every_build(tmp_path):
    """Its record never matches (the safe side), yet each build that draws it shows it."""
    root = make_project(tmp_path / "project")
    (root / "src" / "nets" / "__init__.py").write_text(PATH_EXTENDING_PROJECT_INIT)
    (root / "src" / "more").mkdir()
    (root / "src" / "more" / "extra.py").write_text(EXTRA_MODEL)
    (root / "src" / "index.rst").write_text(INDEX.replace("nets.model:Net", "nets.extra:Net"))

    for _ in range(2):
        run = build(root)
        assert traced(run) == (1, 0)
        assert "out_features=3" in (root / "out" / "index.html").read_text()


def test_modules_of_namespace_packages_are_found_and_matched(tmp_path):
    """A folder without ``__init__.py`` inside a package, or at the top: found without its parent
    package imported, so a diagram of a model there is reused."""
    (tmp_path / "pkg" / "plain").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "plain" / "model.py").write_text(LINEAR)
    (tmp_path / "top" / "nested").mkdir(parents=True)
    (tmp_path / "top" / "nested" / "model.py").write_text(CONVS)
    modules = {name: find_module_file(name, [str(tmp_path)]) for name in ("pkg.plain.model", "top.nested.model")}
    assert modules == {"pkg.plain.model": str((tmp_path / "pkg" / "plain" / "model.py").resolve()),
                       "top.nested.model": str((tmp_path / "top" / "nested" / "model.py").resolve())}
    assert "pkg" not in sys.modules and "top" not in sys.modules

    cache = DiagramCache(tmp_path / "cache", search_path=[str(tmp_path)])
    cache.store("spec-key", fake_artifacts(modules))
    assert cache.lookup("spec-key") is not None
