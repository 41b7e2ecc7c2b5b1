"""Run Graphviz ``dot`` on DOT source, with a time limit.

Pipeline step *render* (dot → **render**).  Uses the ``dot`` executable
named by ``netviz_dot`` (or on ``PATH``); with the default ``dot`` and none on
``PATH``, the ``graphviz-pure`` executable of the ``pure`` extra
(``pip install graphviz-pure``, what the extra installs: a Rust port of Graphviz from a wheel,
no system Graphviz needed), if it is installed.  Failures become
:class:`~sphinx_netviz.errors.RenderProblem` with a fix in the message.
:func:`run_dot` waits for the result; :func:`start_dot` returns at once, so
that several runs can go on together (the viewer's depths, :mod:`~sphinx_netviz.layouts`).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import IO

from .options import say
from .errors import LayoutTimeout, RenderProblem
from .svgsafe import sanitize_svg


#: the highest PNG resolution the command line and ``Drawing.save`` take (a 300 dpi print is the usual need)
MAX_DPI = 1200

#: the executable and distribution of the ``pure`` extra: Graphviz's ``dot`` from a wheel
PURE = "graphviz-pure"
#: how to install it, as messages say it: the distribution itself, which pip finds wherever it
#: installs from (``sphinx-netviz[pure]`` only resolves where sphinx-netviz itself does)
PURE_INSTALL = "pip install graphviz-pure"
#: what the pure engine cannot write (``graphviz-pure -T?``); LaTeX gets PNG from it instead
PURE_CANNOT = frozenset({"pdf", "ps", "eps"})


def _executable(path: Path) -> str | None:
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


@functools.lru_cache(maxsize=1)
def pure_dot() -> str | None:
    """The ``graphviz-pure`` executable, if its wheel is installed, else ``None``.

    Looked for where the installed wheel says it put it (its ``RECORD``, so a
    venv that is not activated works), then in this interpreter's scripts
    folders (beside :data:`sys.executable`, ``sysconfig``'s, the user's),
    then on ``PATH``.
    """
    names = {PURE, PURE + ".exe"}
    try:
        recorded = [f for f in metadata.files(PURE) or () if f.name in names]
    except metadata.PackageNotFoundError:
        recorded = []
    for file in recorded:
        found = _executable(Path(str(file.locate())).resolve())
        if found:
            return found
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    try:
        folders.append(Path(sysconfig.get_path("scripts", f"{os.name}_user")))
    except KeyError:
        pass
    for folder in folders:
        found = shutil.which(PURE, path=str(folder))
        if found:
            return found
    return shutil.which(PURE)


def find_dot(dot: str = "dot") -> str:
    """The full path of the Graphviz executable, or a :class:`RenderProblem`.

    ``dot`` (the default) that is not on ``PATH`` falls back to
    :func:`pure_dot`, as does ``graphviz-pure`` itself when the venv's
    scripts are not on ``PATH``.
    """
    found = shutil.which(dot)
    if found is None and dot in ("dot", PURE):
        found = pure_dot()
    if found is None:
        raise RenderProblem(
            f"the Graphviz executable {dot!r} was not found; install Graphviz "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
            f"conda: conda install graphviz), or {PURE_INSTALL} for a layout engine from "
            f"a wheel, or point {say('dot')} at it"
        )
    return found


def is_pure(executable: str) -> bool:
    """Is this the pure extra's engine (``graphviz-pure``), by its file name?"""
    return Path(executable).name.lower().removesuffix(".exe") == PURE


def can_write(fmt: str, dot: str = "dot") -> bool:
    """Can the Graphviz that ``dot`` names write ``fmt``?  (``graphviz-pure`` writes no PDF.)"""
    try:
        return not (fmt in PURE_CANNOT and is_pure(find_dot(dot)))
    except RenderProblem:
        return True  # rendering will say what is missing


@functools.lru_cache(maxsize=8)
def dot_version(dot: str = "dot") -> str:
    """``dot -V``'s answer (part of the cache key: a new Graphviz lays out anew)."""
    try:
        done = subprocess.run([find_dot(dot), "-V"], capture_output=True, timeout=30, check=False)
    except (RenderProblem, OSError, subprocess.TimeoutExpired):
        return "missing"
    return (done.stderr or done.stdout).decode(errors="replace").strip()


class RunningDot:
    """A Graphviz run started by :func:`start_dot`: ask whether it is :meth:`done`, wait for its
    :meth:`result`, or :meth:`kill` it.

    Its input and output are anonymous temporary files, not pipes, so several runs can go on at
    once without a thread each to keep their pipes flowing.  It stays in the caller's process
    group: a diagram's child process is killed with its whole group when it runs past its time
    (:mod:`sphinx_netviz.runner`), and its Graphviz runs must end with it.
    """

    def __init__(self, executable: str, fmt: str, timeout: float, args: list[str], source: str) -> None:
        self.executable, self.fmt, self.timeout = executable, fmt, timeout
        self._files: list[IO[bytes]] = []
        try:
            stdin, self._out, self._err = (self._file() for _ in range(3))
            stdin.write(source.encode())
            stdin.seek(0)
            self._process = subprocess.Popen([executable, *args], stdin=stdin, stdout=self._out, stderr=self._err)
        except OSError as exc:
            self._close()
            raise RenderProblem(f"could not run Graphviz {executable!r}: {exc}") from exc
        self.deadline = time.monotonic() + timeout

    def _file(self) -> IO[bytes]:
        self._files.append(tempfile.TemporaryFile())
        return self._files[-1]

    def done(self) -> bool:
        """Has it ended, or run out of time (so that :meth:`result` would not wait)?"""
        return self._process.poll() is not None or time.monotonic() >= self.deadline

    def result(self) -> bytes:
        """Wait until it ends or its time is up; the ``fmt`` bytes, or :class:`LayoutTimeout` or
        :class:`RenderProblem`.  Whatever happens (Ctrl-C included), the process is gone after."""
        try:
            try:
                self._process.wait(timeout=max(0.0, self.deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise LayoutTimeout(
                    f"Graphviz did not finish the layout within {self.timeout:g} s; draw fewer levels "
                    f"(a smaller {say('depth')}) or raise {say('layout_timeout')}"
                ) from None
            out, err = (self._read(f) for f in (self._out, self._err))
        finally:
            self.kill()
        if self._process.returncode != 0 or not out:
            if self.fmt in PURE_CANNOT and is_pure(self.executable):
                raise RenderProblem(f"{PURE} (the layout engine of the pure extra) cannot write "
                                    f"{self.fmt.upper()}; install Graphviz for it, or write SVG or PNG")
            raise RenderProblem(f"Graphviz failed to render the diagram: {_failure(err, self._process.returncode)}")
        return out

    @staticmethod
    def _read(file: IO[bytes]) -> bytes:
        file.seek(0)
        return file.read()

    def kill(self) -> None:
        """End it if it still runs, reap it, close its files; idempotent."""
        process = self._process
        if process.returncode is None:
            try:
                process.kill()
            except OSError:
                pass  # it ended meanwhile
            process.wait()
        self._close()

    def _close(self) -> None:
        for file in self._files:
            file.close()


def start_dot(source: str, fmt: str, dot: str = "dot", timeout: float = 60.0, dpi: int | None = None) -> RunningDot:
    """Start laying out ``source`` as ``fmt`` (a PNG at ``dpi``) and return at once.

    The caller must end it: with :meth:`RunningDot.result`, or :meth:`RunningDot.kill` in a
    ``finally`` when it gives up (no ``dot`` is left behind).  Its ``timeout`` counts from now.
    """
    return RunningDot(find_dot(dot), fmt, timeout, [f"-T{fmt}", *([f"-Gdpi={dpi}"] if dpi else [])], source)


def run_dot(source: str, fmt: str, dot: str = "dot", timeout: float = 60.0, dpi: int | None = None) -> bytes:
    """Lay out ``source`` and return the ``fmt`` (``svg``, ``pdf``, ``png``) bytes (a PNG at ``dpi``)."""
    return start_dot(source, fmt, dot, timeout, dpi).result()


def _failure(stderr: bytes, returncode: int) -> str:
    """What Graphviz said when it failed: its errors before its warnings (font metrics…)."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith("Warning:")]
    return "\n".join(errors or lines) or f"exit code {returncode}"


def svg_for_inline(svg: bytes | str) -> str:
    """The ``<svg>`` element alone, ready to inline in HTML: sanitised
    (:func:`~sphinx_netviz.svgsafe.sanitize_svg`), without prolog, doctype or comments."""
    return sanitize_svg(svg)
