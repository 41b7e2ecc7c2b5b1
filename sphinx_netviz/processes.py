"""Every process a diagram's child starts ends with it: subreapers, descendants, process identity.

Used on both sides of *isolate* (:mod:`sphinx_netviz.runner`,
:mod:`sphinx_netviz.worker`).  A process that model code starts may leave
the child's process group and session (``start_new_session=True``,
``setsid``) and lose its parent (a double fork), so a kill by group does
not reach it.  On Linux the fork server and each child are *subreapers*
(``prctl(PR_SET_CHILD_SUBREAPER)``): an orphan is adopted by the nearest
living one instead of ``init``, so it stays a descendant, found by a walk
of ``/proc`` by parent pid, and :func:`end_tree` stops the whole tree
(``SIGSTOP``, so that nothing in it forks on) before killing it.  Where
there is no ``prctl`` or ``/proc`` (macOS, the BSDs), these do nothing and
the kill by process group is all there is.  No torch, no Sphinx.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: ``prctl`` option: orphaned descendants are re-parented to this process, not to init
_PR_SET_CHILD_SUBREAPER = 36
#: ``prctl`` option: the signal this process gets when its parent ends
_PR_SET_PDEATHSIG = 1
#: walks of a tree while it is being stopped (each finds what was forked during the last)
_ROUNDS = 50


def become_subreaper() -> bool:
    """Make orphaned descendants of this process its children (Linux); whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int) -> None:
    """Be killed (``SIGKILL``) when the parent process ``parent`` ends (Linux); exit now if it
    already has.  Elsewhere only the second holds."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return data.rpartition(b")")[2].split()


def _parents() -> dict[int, int]:
    """Every process's parent pid, by pid (empty where there is no ``/proc``)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    found: dict[int, int] = {}
    for name in names:
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields and len(fields) > 1 and fields[0] != b"Z":  # a zombie is already dead
                found[int(name)] = int(fields[1])
    return found


def descendants(root: int) -> list[int]:
    """The living descendants of ``root``, parents before their children."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    seen = {root}
    frontier = [root]
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in seen:  # found from its parent, which was found before it
                seen.add(child)
                found.append(child)
                frontier.append(child)
    return found


def _send(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def end_tree(root: int, *, keep_root: bool = False) -> int:
    """Kill ``root`` (unless ``keep_root``) and every descendant; how many were signalled.

    Each is stopped first, walking the tree again until a walk finds no new
    process, so that none forks a process the kill would miss; then all
    are killed.  A process that escaped anyway (forked between a walk and
    its stop) is adopted by the nearest subreaper, which ends it in turn.
    """
    if not keep_root:
        _send(root, signal.SIGSTOP)
    seen: list[int] = []
    for _ in range(_ROUNDS):
        known = set(seen)
        new = [pid for pid in descendants(root) if pid not in known]
        if not new:
            break
        for pid in new:
            _send(pid, signal.SIGSTOP)
        seen.extend(new)
    for pid in ([] if keep_root else [root]) + seen:
        _send(pid, signal.SIGKILL)
    return len(seen) + (0 if keep_root else 1)


def end_adopted(known: set[int]) -> int:
    """Kill every child of this process not in ``known``, with its descendants; how many.

    In a subreaper these are orphans adopted from descendants that ended:
    processes a diagram's child left behind.
    """
    ended = 0
    for _ in range(_ROUNDS):  # a process killed here leaves its children to this one
        me = os.getpid()
        adopted = [pid for pid, parent in _parents().items() if parent == me and pid not in known]
        if not adopted:
            break
        for pid in adopted:
            ended += end_tree(pid)
    return ended


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot; 0 where that is unknown), or None
    if there is no such process.  With the pid, it names a process that is never reused."""
    fields = _stat_fields(pid)
    if fields is not None and len(fields) > 19:
        return int(fields[19])
    if os.path.isdir("/proc/self"):
        return None
    try:  # no /proc: whether the pid exists is all there is to know
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return 0


def is_alive(pid: int, started: int) -> bool:
    """Whether process ``pid``, started at ``started`` (see :func:`start_time`), still runs."""
    return start_time(pid) == started
