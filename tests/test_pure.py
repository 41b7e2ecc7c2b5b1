"""A pip-only install: with no system ``dot``, graphviz-pure (the ``pure`` extra) lays the diagrams out.

The fast tests use this venv (which has graphviz-pure from the test extra) with a ``PATH``
that has no ``dot`` on it; the ``pip_only`` test makes a fresh venv with nothing but
``pip install ".[pure]"`` and builds a page with it (a few minutes: it installs torch).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_sphinx

from sphinx_netviz import render
from sphinx_netviz.errors import RenderProblem
from sphinx_netviz.render import PURE_INSTALL, can_write, dot_version, find_dot, is_pure, pure_dot, run_dot

PROJECT = {
    "conf.py": 'import os, sys\nsys.path.insert(0, os.path.abspath("."))\nextensions = ["sphinx_netviz"]\n',
    "index.rst": "Pip only\n========\n\n.. netviz:: tiny_models:Tiny\n   :input-shape: 2, 4\n   :caption: Tiny.\n",
    "tiny_models.py": ("from torch import nn\n\n\nclass Tiny(nn.Module):\n"
                       "    def __init__(self):\n        super().__init__()\n"
                       "        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n\n"
                       "    def forward(self, x):\n        return self.body(x)\n"),
}


def path_without_dot(folder: Path, path: str | None = None) -> str:
    """``PATH`` with every folder that holds a ``dot`` replaced by a folder of links to the rest of it."""
    kept = []
    for i, entry in enumerate((path if path is not None else os.environ["PATH"]).split(os.pathsep)):
        if not entry or not Path(entry, "dot").exists():
            kept.append(entry)
            continue
        links = folder / f"path-{i}"
        links.mkdir(parents=True)
        for item in os.scandir(entry):
            if item.name != "dot":
                (links / item.name).symlink_to(item.path)
        kept.append(str(links))
    return os.pathsep.join(kept)


@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """This process's ``PATH`` without ``dot``; the executable lookups forgotten before and after."""
    monkeypatch.setenv("PATH", path_without_dot(tmp_path / "bin"))
    for cached in (pure_dot, dot_version):
        cached.cache_clear()
    assert shutil.which("dot") is None
    yield os.environ["PATH"]
    for cached in (pure_dot, dot_version):
        cached.cache_clear()


@pytest.fixture
def pure(no_dot: str) -> str:
    found = pure_dot()
    if found is None:
        pytest.skip('graphviz-pure is not installed (pip install -c constraints/dev.txt ".[test]")')
    return found


def write_project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in PROJECT.items():
        (folder / name).write_text(text)
    return folder


def test_without_a_system_dot_the_pure_extra_lays_out(pure: str) -> None:
    assert is_pure(pure) and Path(pure).is_file()
    assert find_dot() == pure
    assert is_pure(find_dot("graphviz-pure"))
    # the cache key names the engine that lays out
    assert "graphviz-pure" in dot_version() and "16.1" in dot_version()
    svg = run_dot('digraph { a -> b [label="2×3"] }', "svg")
    assert b"<svg" in svg and b"graphviz-pure" in svg


def test_the_pure_engine_is_found_from_the_installed_wheel_with_nothing_on_path(
        pure: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a venv that is not activated: its bin folder is not on PATH, the wheel's RECORD says where it is
    monkeypatch.setenv("PATH", str(tmp_path))
    pure_dot.cache_clear()
    assert pure_dot() == pure
    assert find_dot("graphviz-pure") == pure
    with pytest.raises(RenderProblem):
        find_dot("neato")  # only dot (and graphviz-pure itself) fall back


def test_with_neither_engine_the_message_names_both_ways_to_get_one(
        no_dot: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "pure_dot", lambda: None)
    with pytest.raises(RenderProblem) as caught:
        find_dot()
    message = caught.value.message
    assert "'dot' was not found" in message and "apt-get install graphviz" in message
    # the engine's own distribution, installable wherever pip is: not the extra, which only
    # resolves from a checkout or wherever sphinx-netviz itself is published
    assert PURE_INSTALL == "pip install graphviz-pure" and PURE_INSTALL in message
    assert "sphinx-netviz[pure]" not in message
    assert dot_version() == "missing"


def test_a_system_dot_on_path_comes_first() -> None:
    if shutil.which("dot") is None:
        pytest.skip("no system dot")
    assert not is_pure(find_dot()) and can_write("pdf")


def test_the_pure_engine_writes_no_pdf_and_says_so(pure: str) -> None:
    assert not can_write("pdf") and can_write("png") and can_write("svg")
    with pytest.raises(RenderProblem, match="graphviz-pure .* cannot write PDF"):
        run_dot("digraph { a -> b }", "pdf")
    png = run_dot("digraph { a -> b }", "png", dpi=300)
    assert png.startswith(b"\x89PNG")


def _assert_drawn(out: Path) -> None:
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "netviz-canvas" in html and "<svg" in html
    assert html.count('class="node') >= 4  # input, two Linear, ReLU… laid out


@pytest.mark.slow
def test_a_page_builds_with_the_pure_engine_when_no_dot_is_on_path(pure: str, no_dot: str, tmp_path: Path) -> None:
    src = write_project(tmp_path / "src")
    run_sphinx(src, tmp_path / "html", "-W", "-q", env={"PATH": no_dot}, ok=True, timeout=600)
    _assert_drawn(tmp_path / "html")
    # LaTeX: graphviz-pure writes no PDF, so the figure is a 300 dpi PNG, which only it gives
    run_sphinx(src, tmp_path / "latex", "-W", "-q", builder="latex", env={"PATH": no_dot}, ok=True, timeout=600)
    tex = next((tmp_path / "latex").glob("*.tex")).read_text(encoding="utf-8")
    images = sorted(p.name for p in (tmp_path / "latex").iterdir() if p.suffix in (".png", ".pdf"))
    assert len(images) == 1 and images[0].endswith(".png") and images[0] in tex, images


@pytest.mark.slow
def test_the_command_line_draws_svg_and_png_with_the_pure_engine_and_says_it_writes_no_pdf(
        pure: str, no_dot: str, tmp_path: Path) -> None:
    src = write_project(tmp_path / "src")

    def draw(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sphinx_netviz", "tiny_models:Tiny", "--input-shape", "2,4",
                               "-p", str(src), "-o", str(tmp_path / name)], capture_output=True, text=True,
                              env=dict(os.environ, PATH=no_dot, PYTHONPATH=str(REPO)), timeout=300, check=False)

    done = draw("tiny.svg")
    assert done.returncode == 0, done.stderr
    assert 'font-family="Arial"' in (tmp_path / "tiny.svg").read_text()
    done = draw("tiny.png")
    assert done.returncode == 0 and (tmp_path / "tiny.png").read_bytes().startswith(b"\x89PNG"), done.stderr
    done = draw("tiny.pdf")
    assert done.returncode != 0 and not (tmp_path / "tiny.pdf").exists()
    assert "graphviz-pure (the layout engine of the pure extra) cannot write PDF" in done.stderr


# -- a fresh venv with nothing but pip install ".[pure]" --------------------------------------------

#: what a wheel of sphinx-netviz is built from (a copy, so that the build leaves nothing in the checkout)
SOURCES = ("pyproject.toml", "README.md", "sphinx_netviz")


@pytest.mark.pip_only
def test_a_fresh_venv_with_only_the_pure_extra_builds_a_page(tmp_path: Path) -> None:
    source = tmp_path / "sphinx-netviz"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    # the dev constraints keep torch at the CPU build pinned there (no multi-GB CUDA download)
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "-c", str(REPO / "constraints" / "dev.txt"), f"{source}[pure]"],
                          capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    # the new venv and the system's folders without dot: not this checkout's .venv, no graphviz-pure
    system = [p for p in os.environ["PATH"].split(os.pathsep) if p and not Path(p, "graphviz-pure").exists()
              and REPO not in Path(p).resolve().parents]
    path = os.pathsep.join([str(venv / "bin"), path_without_dot(tmp_path / "bin", os.pathsep.join(system))])
    env = dict(os.environ, PATH=path)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    probe = subprocess.run([python, "-c", "import shutil, sphinx_netviz.render as r; "
                            "print(shutil.which('dot')); print(r.find_dot()); print(r.dot_version()); "
                            "print(r.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    which_dot, found, version, module = probe.stdout.splitlines()
    assert which_dot == "None" and Path(found).name == "graphviz-pure" and "graphviz-pure" in version
    assert str(venv) in module  # the installed package, not this checkout
    src = write_project(tmp_path / "src")
    built = subprocess.run([str(venv / "bin" / "sphinx-build"), "-W", "-q", "-b", "html", str(src),
                            str(tmp_path / "html")], capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=600, check=False)
    assert built.returncode == 0, built.stderr
    _assert_drawn(tmp_path / "html")
