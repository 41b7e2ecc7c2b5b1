"""How much time, memory, output and page one diagram may take.

Shared by the parent that runs diagrams in child processes
(:mod:`sphinx_netviz.runner`) and the pipeline inside each child
(:mod:`sphinx_netviz.pipeline`): the parent kills a child that passes its
time or memory limit; the pipeline spends the same time budget on its
stages (layouts, fallbacks, the viewer's other depths) so that it finishes
with a smaller drawing rather than being killed.  No torch, no Sphinx.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .options import LimitOptions

#: the ``*_mb`` settings count decimal megabytes, like the sizes in messages
MB = 1_000_000
#: a depth with more boxes than this is not laid out (Graphviz would take minutes)
MAX_LAYOUT_BOXES = 2000
#: the inline SVG of one diagram, every depth together, stays under this many bytes
MAX_INLINE_BYTES = 4 * MB
#: the share of a diagram's time budget its layouts may use when an ONNX export follows
LAYOUT_SHARE_WITH_EXPORT = 0.6
#: what is kept of a child's stdout and stderr together: the first half and the last half
OUTPUT_KEEP_BYTES = 1 * MB
#: set by the runner for its children: how many diagrams it draws at once (they share the CPUs)
DIAGRAMS_AT_ONCE = "NETVIZ_DIAGRAMS_AT_ONCE"


def physical_memory_bytes() -> int | None:
    """Total RAM of this machine, or None where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_jobs() -> int:
    """Diagrams drawn at once by default: one per CPU."""
    return max(1, os.cpu_count() or 1)


def default_memory_mb(jobs: int | None = None) -> float:
    """The default memory cap of one child: 3/4 of the RAM shared by ``jobs`` children (≥ 1 GB)."""
    total = physical_memory_bytes() or 8_000 * MB
    share = 0.75 * total / max(1, jobs or default_jobs())
    return float(max(1_000, round(share / MB)))


@dataclass(frozen=True)
class Limits(LimitOptions):
    """The limits of one diagram's child process: the options of
    :class:`~sphinx_netviz.options.LimitOptions` (``netviz_timeout``, ``netviz_memory_mb``), and how
    messages name the time limit."""

    #: whether ``timeout`` is a directive's ``:timeout:`` (messages then name it, not ``netviz_timeout``)
    timeout_option: bool = False

    @property
    def memory_bytes(self) -> int:
        return int((self.memory_mb or default_memory_mb()) * MB)


class Budget:
    """The time one diagram has left, shared by its stages (a monotonic deadline)."""

    def __init__(self, seconds: float | None = None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds
        #: whether a layout ran out of time (the result then depends on the limits: not kept)
        self.ran_out = False

    def remaining(self) -> float | None:
        """Seconds left (never below 0), or None for no limit."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def seconds(self, cap: float, share: float = 1.0) -> float:
        """At most ``cap`` seconds, and at most ``share`` of what is left."""
        left = self.remaining()
        return cap if left is None else min(cap, left * share)

    def spent(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0.0


class OutOfTime(BaseException):
    """A :func:`deadline` passed.  A ``BaseException``, so that ``except Exception`` in the
    code it interrupts (exporters retry on any error) does not swallow it."""


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`OutOfTime` in the block once ``seconds`` have passed (``None``: no limit).

    A ``SIGALRM`` timer: it interrupts Python code between bytecodes, and a
    long C++ call when it returns.  Only the main thread receives signals;
    elsewhere, and where ``setitimer`` does not exist, the block runs
    unlimited (the runner's kill of the whole process stays the backstop).
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise OutOfTime(f"past its {seconds:.3g} s")

    before = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds or 0.0, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
