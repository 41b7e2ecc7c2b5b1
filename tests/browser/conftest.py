"""Fixtures for the viewer tests in a real browser: a built Sphinx site, a local
server for it, and headless Chromium driven by Playwright.

Chromium is Debian's (``/usr/bin/chromium``, installed by scripts/setup.sh in
CI), not a Playwright download.  Without it (or without Playwright) the tests
are skipped, except under CI (``CI=true``), where they fail instead.
Deselect them with ``-m "not browser"``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, ROOTS, run_sphinx

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("NETVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: screenshots go here (gitignored)
OUTPUT = REPO / "test-output"

CONF = f"""\
import sys
sys.path.insert(0, {str(HERE)!r})
extensions = ["sphinx_netviz", "sphinx.ext.intersphinx"]
html_theme = "furo"
project = "netviz viewer tests"
# class links to PyTorch's docs, from a local copy of part of its inventory (no network in tests)
intersphinx_mapping = {{"torch": ("https://docs.pytorch.org/docs/stable/",
                                  {str(ROOTS / "test-links" / "torch-objects.inv")!r})}}
"""

INDEX = """\
Viewer test page
================

The seed CNN
------------

.. netviz:: example_models.cnn:CNNModel
   :input-shape: 16, 3, 512, 512
   :alt: The seed CNN: two convolution stages and a classifier head

A small ResNet
--------------

.. netviz:: example_models.resnet:SmallResNet
   :input-shape: 1, 3, 64, 64
   :depth: 1
   :onnx: none

A model with hostile names
--------------------------

.. netviz:: hostile_models:HostileNet
   :input-shape: 1, 3, 8, 8
   :depth: 1
   :onnx: none
"""


#: a page that shows the same diagram twice (each drawing needs its own element ids)
TWICE = """\
:orphan:

The same diagram twice
======================

.. netviz:: example_models.resnet:SmallResNet
   :input-shape: 1, 3, 64, 64
   :depth: 1
   :onnx: none

.. netviz:: example_models.resnet:SmallResNet
   :input-shape: 1, 3, 64, 64
   :depth: 1
   :onnx: none
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: runs the diagram viewer in headless Chromium (deselect with -m 'not browser')"
    )


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


def build_site(root: Path, index: str, pages: dict[str, str] | None = None, *,
               cache: Path | None = None) -> Path:
    """Build ``index`` (reST), and ``pages`` (name -> reST), with :data:`CONF` under ``root``
    (with the diagram cache ``cache``, else its own); the HTML folder."""
    src, out = root / "src", root / "html"
    src.mkdir()
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    (src / "index.rst").write_text(index, encoding="utf-8")
    for name, text in (pages or {}).items():
        (src / f"{name}.rst").write_text(text, encoding="utf-8")
    run_sphinx(src, out, "-q", "-W", "--keep-going", cache=cache, ok=True, timeout=600)
    return out


def build_themed_site(root: Path, theme: str, index: str, cache: Path) -> Path:
    """``index`` (reST) built under ``root`` as the one page of a project in the HTML theme
    ``theme`` (skipped where the theme is not installed), with the diagram cache ``cache``;
    the HTML folder."""
    pytest.importorskip(theme)
    (root / "src").mkdir()
    (root / "src" / "conf.py").write_text(
        f'extensions = ["sphinx_netviz"]\nhtml_theme = "{theme}"\nproject = "{theme} test"\n')
    (root / "src" / "index.rst").write_text(index)
    run_sphinx(root / "src", root / "html", "-q", cache=cache, ok=True, timeout=600)
    return root / "html"


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>/``, serving ``directory`` from a thread."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, diagram_cache: Path) -> Path:
    """The built HTML of a small Furo project: three diagrams on its index, and
    ``twice.html`` with one diagram drawn twice."""
    return build_site(tmp_path_factory.mktemp("viewer-site"), INDEX, {"twice": TWICE}, cache=diagram_cache)


@pytest.fixture(scope="session")
def server(site: Path):
    """``http://127.0.0.1:<port>/``, serving the built site from a thread."""
    with serve(site) as url:
        yield url


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Problems:
    """What went wrong in a page: console errors, uncaught exceptions, dialogs."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def watch(self, page) -> None:
        def on_console(msg) -> None:
            where = (msg.location or {}).get("url", "")
            # Chromium asks every server for /favicon.ico; the test site has none
            if msg.type == "error" and not where.endswith("/favicon.ico"):
                self.errors.append(f"console: {msg.text} ({where})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("requestfailed", lambda req: self.errors.append(f"request failed: {req.url}"))

        def on_dialog(dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def new_page(chromium, problems: Problems):
    """``new_page(url, **context_options)``: a fresh page at ``url``; every page is
    checked for console errors, uncaught exceptions and dialogs at the end."""
    contexts = []

    def _open(url: str, **options):
        options.setdefault("viewport", {"width": 1200, "height": 900})
        context = chromium.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        page.goto(url)
        page.wait_for_load_state("load")
        # Furo scrolls smoothly: measurements taken while Playwright scrolls would drift
        if options.get("java_script_enabled", True):
            page.add_style_tag(content="html { scroll-behavior: auto !important; }")
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not problems.errors, "errors in the page:\n" + "\n".join(problems.errors)
    assert not problems.dialogs, "dialogs opened:\n" + "\n".join(problems.dialogs)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def docs_html(tmp_path_factory: pytest.TempPathFactory, diagram_cache: Path) -> Path:
    """``docs/`` built once per session (its notebook pages run), into a temporary folder,
    with the session's diagram cache."""
    root = tmp_path_factory.mktemp("docs")
    run_sphinx(REPO / "docs", root / "html", "-q", "-d", str(root / "doctrees"), cache=diagram_cache,
               ok=True, timeout=1200)
    return root / "html"
