"""Run Graphviz ``dot`` on DOT source, with a time limit.

Pipeline step *render* (dot → **render**).  Uses the ``dot`` executable
named by ``netviz_dot`` (or on ``PATH``); failures become
:class:`~sphinx_netviz.errors.RenderProblem` with a fix in the message.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from .options import say
from .errors import LayoutTimeout, RenderProblem
from .svgsafe import sanitize_svg


def find_dot(dot: str = "dot") -> str:
    """The full path of the Graphviz executable, or a :class:`RenderProblem`."""
    found = shutil.which(dot)
    if found is None:
        raise RenderProblem(
            f"the Graphviz executable {dot!r} was not found; install Graphviz "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
            f"conda: conda install graphviz) or point {say('dot')} at it"
        )
    return found


@functools.lru_cache(maxsize=8)
def dot_version(dot: str = "dot") -> str:
    """``dot -V``'s answer (part of the cache key: a new Graphviz lays out anew)."""
    try:
        done = subprocess.run([find_dot(dot), "-V"], capture_output=True, timeout=30, check=False)
    except (RenderProblem, OSError, subprocess.TimeoutExpired):
        return "missing"
    return (done.stderr or done.stdout).decode(errors="replace").strip()


def run_dot(source: str, fmt: str, dot: str = "dot", timeout: float = 60.0) -> bytes:
    """Lay out ``source`` and return the ``fmt`` (``svg``, ``pdf``, ``png``) bytes."""
    executable = find_dot(dot)
    try:
        done = subprocess.run(
            [executable, f"-T{fmt}"], input=source.encode(), capture_output=True,
            timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise LayoutTimeout(
            f"Graphviz did not finish the layout within {timeout:g} s; draw fewer levels "
            f"(a smaller {say('depth')}) or raise {say('layout_timeout')}"
        ) from None
    except OSError as exc:
        raise RenderProblem(f"could not run Graphviz {executable!r}: {exc}") from exc
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise RenderProblem(f"Graphviz failed to render the diagram: {message}")
    return done.stdout


def svg_for_inline(svg: bytes | str) -> str:
    """The ``<svg>`` element alone, ready to inline in HTML: sanitised
    (:func:`~sphinx_netviz.svgsafe.sanitize_svg`), without prolog, doctype or comments."""
    return sanitize_svg(svg)
