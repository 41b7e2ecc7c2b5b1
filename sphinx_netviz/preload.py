"""Learned preload: the installed libraries the fork server imports before it forks a child.

Pipeline step *isolate* (directive → runner → **server** → child).  A child
that draws a ``transformers`` model spends 3-4 s importing ``transformers``
before any of its own work, and every child paid that again.  So:

* each child reports what it imported of installed distributions (modules
  in a ``site-packages`` or ``dist-packages`` folder, never the project's own
  files) and which packages its import statements named
  (:class:`ImportRecorder`);
* the parent keeps that in ``preload.json`` in the cache folder
  (:class:`Preloads`): written atomically, verified on read (a damaged or
  hostile file is ignored), forgetting a package that no diagram used for
  :data:`UNUSED_BUILDS` builds;
* the next build's server imports the list before it forks its first child
  (:func:`fork_preloaded`), in a forked process that becomes the server
  once every name was tried.  A name whose import raises is left out; one
  that crashes that process or hangs past :data:`PRELOAD_SECONDS` has its
  package left out, and the process is forked again without it.  Every
  such name is reported, and left out of later builds' lists for
  :data:`RETRY_BUILDS` builds: children import it themselves, as before.
  While preloading, importing a module from outside installed distributions
  and the standard library — the project's own code — fails
  (:func:`refusing_project_code`): an edit still re-traces, and model code
  runs only in its own child.

``netviz_preload`` (:func:`check_preload`): ``"auto"`` (the learned list),
module names (exactly those), or an empty list (nothing).  Nothing here
imports torch or Sphinx.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib
import json
import logging
import os
import re
import select
import stat
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from .deps import find_module_file
from .processes import die_with_parent, end_adopted, end_tree
from .values import ValueProblem

logger = logging.getLogger(__name__)

#: the learned list, in the cache folder
PRELOAD_FILE = "preload.json"
FORMAT = 1
#: seconds one preloaded import may take in the server before its package is left out
PRELOAD_SECONDS = 60.0
#: builds that drew diagrams without using a learned package before it is forgotten
UNUSED_BUILDS = 5
#: builds that drew diagrams before a name that failed to preload is tried again
RETRY_BUILDS = 10
#: at most this many module names are kept (in the order children imported them)
MAX_MODULES = 3000
#: a learned list bigger than this is not read
MAX_FILE_BYTES = 512_000
#: the names handed to the server, joined by spaces, stay within this (an environment variable)
MAX_NAMES_BYTES = 100_000
#: the environment variable that hands the server its names
PRELOAD_ENV = "NETVIZ_PRELOAD"
#: the server forks a preloading process at most this many times
ROUNDS = 3
#: never preloaded nor learned: this package (the server has it), and a script's own module
NEVER = frozenset({"sphinx_netviz", "__main__", "__mp_main__"})

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_MAX_NAME = 200


def valid_name(name: object) -> bool:
    """Whether ``name`` is a module name (``transformers.models.bert``) of a sane length."""
    return isinstance(name, str) and len(name) <= _MAX_NAME and _NAME.fullmatch(name) is not None


def top(name: str) -> str:
    """The top-level package of module ``name``."""
    return name.partition(".")[0]


# -- the option ------------------------------------------------------------------------------------

def check_preload(value: object) -> str | tuple[str, ...]:
    """``"auto"``, or the module names to preload (a list, or text separated by commas or
    spaces, as ``-D netviz_preload=a,b`` gives it; empty: preload nothing)."""
    if isinstance(value, str):
        if value.strip() == "auto":
            return "auto"
        value = [part for part in re.split(r"[,\s]+", value) if part]
    if not isinstance(value, (list, tuple)):
        raise ValueProblem('must be "auto" or a list of module names such as ["transformers"] '
                           f"(empty: preload nothing), not {type(value).__name__}")
    names: list[str] = []
    for name in value:
        if not valid_name(name):
            raise ValueProblem(f"must list module names such as 'transformers', not {str(name)[:80]!r}")
        names.append(name)
    return tuple(dict.fromkeys(names))


parse_preload = check_preload


# -- which files are installed libraries -----------------------------------------------------------

@functools.cache
def _roots(keys: tuple[str, ...]) -> tuple[str, ...]:
    roots = set()
    for key in keys:
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    return tuple(sorted(roots))


@functools.lru_cache(maxsize=16384)
def is_installed_file(path: str) -> bool:
    """Whether ``path`` belongs to an installed distribution: it lies in a ``site-packages``
    or ``dist-packages`` folder (the project's own files, an editable install's, do not)."""
    resolved = os.path.realpath(path)
    parts = resolved.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return any(resolved.startswith(root + os.sep) for root in _roots(("purelib", "platlib")))


@functools.lru_cache(maxsize=16384)
def _is_library_file(path: str) -> bool:
    """An installed distribution's file or the standard library's."""
    if is_installed_file(path):
        return True
    resolved = os.path.realpath(path)
    return any(resolved.startswith(root + os.sep) for root in _roots(("stdlib", "platstdlib")))


def _installed_origin(name: str, module: object) -> str | None:
    """The file module ``name`` was loaded from, if it is an installed distribution's and the
    module is what importing ``name`` makes (not an alias, not made at run time); else None."""
    if not isinstance(module, ModuleType):
        return None
    try:
        spec = object.__getattribute__(module, "__dict__").get("__spec__")
        if type(spec) is not ModuleSpec or spec.name != name or not spec.has_location:
            return None
        origin = spec.origin
        return origin if isinstance(origin, str) and is_installed_file(origin) else None
    except Exception:  # noqa: BLE001  (a module model code made: whatever it holds)
        return None


def is_installed_module(name: str, search_path: Sequence[str]) -> bool:
    """Whether ``import name`` along ``search_path`` loads an installed distribution's file
    (found without running any code: :func:`~sphinx_netviz.deps.find_module_file`)."""
    if not valid_name(name) or top(name) in NEVER:
        return False
    path = find_module_file(name, search_path)
    return path is not None and is_installed_file(path)


# -- in the child: what it imported ------------------------------------------------------------------

class ImportRecorder:
    """While a job runs: the top-level packages its ``import`` statements name; then
    :meth:`report`, what it imported of installed distributions."""

    def __init__(self) -> None:
        self.before: set[str] = set()
        self.named: set[str] = set()
        self._real: Callable[..., object] = builtins.__import__
        self._mine: Callable[..., object] | None = None

    def __enter__(self) -> ImportRecorder:
        self.before = set(sys.modules)
        real, named = builtins.__import__, self.named
        self._real = real

        def recording(name: str, globals: object = None, locals: object = None,
                      fromlist: object = (), level: int = 0) -> object:
            if not level and isinstance(name, str):
                named.add(name.partition(".")[0])
            return real(name, globals, locals, fromlist, level)

        self._mine = recording
        builtins.__import__ = recording
        return self

    def __exit__(self, *exc: object) -> None:
        if builtins.__import__ is self._mine:  # model code may have put its own there
            builtins.__import__ = self._real

    def report(self, limit: int = MAX_MODULES) -> tuple[list[str], list[str]]:
        """``(imported, used)``: the installed modules imported since the start, in the order
        they were imported; the installed top-level packages the job's imports named or
        imported (those it found preloaded included)."""
        imported: list[str] = []
        for name, module in list(sys.modules.items()):
            if len(imported) >= limit:
                break
            if name not in self.before and valid_name(name) and top(name) not in NEVER \
                    and _installed_origin(name, module) is not None:
                imported.append(name)
        tops = self.named | {top(name) for name in imported}
        used = sorted(name for name in tops if valid_name(name) and name not in NEVER
                      and _installed_origin(name, sys.modules.get(name)) is not None)
        return imported, used


# -- the learned list ------------------------------------------------------------------------------

@dataclass
class Learned:
    """The learned list: modules in import order (each with the builds since its package was
    last used), and names that failed to preload (builds since, and why)."""

    modules: dict[str, int] = field(default_factory=dict)
    failed: dict[str, tuple[int, str]] = field(default_factory=dict)

    def is_failed(self, name: str) -> bool:
        """Whether ``name`` or a package it is in failed to preload."""
        parts = name.split(".")
        return any(".".join(parts[:i]) in self.failed for i in range(1, len(parts) + 1))

    def to_json(self) -> bytes:
        return json.dumps({"format": FORMAT, "modules": [[n, u] for n, u in self.modules.items()],
                           "failed": [[n, b, w] for n, (b, w) in self.failed.items()]},
                          indent=1).encode()


def _read_bounded(path: Path) -> bytes | None:
    """A regular file's bytes, if it has at most :data:`MAX_FILE_BYTES` (no symbolic link, no
    FIFO, no device); None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        return data if len(data) <= MAX_FILE_BYTES else None
    finally:
        os.close(fd)


def read_learned(path: Path) -> Learned:
    """The learned list in ``path``, verified; empty if it is missing, damaged or not one."""
    data = _read_bounded(path)
    if data is None:
        if path.exists() or path.is_symlink():
            logger.info("netviz: %s is not a regular file of at most %d bytes; not preloading from it",
                        path, MAX_FILE_BYTES)
        return Learned()
    try:
        return _parse(json.loads(data))
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, UnicodeDecodeError) as why:
        logger.info("netviz: %s is not a list of modules to preload (%s); ignored", path, str(why)[:200])
        return Learned()


def _parse(raw: object) -> Learned:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ValueError("not this version's format")
    modules, failed = raw["modules"], raw["failed"]
    if not isinstance(modules, list) or not isinstance(failed, list) or len(modules) > MAX_MODULES \
            or len(failed) > MAX_MODULES:
        raise ValueError("modules and failed must be lists")
    learned = Learned()
    for entry in modules:
        name, unused = entry
        if not valid_name(name) or type(unused) is not int or not 0 <= unused <= UNUSED_BUILDS:
            raise ValueError(f"bad entry {str(entry)[:80]}")
        learned.modules.setdefault(name, unused)
    for entry in failed:
        name, builds, why = entry
        if not valid_name(name) or type(builds) is not int or not 0 <= builds <= RETRY_BUILDS \
                or not isinstance(why, str):
            raise ValueError(f"bad entry {str(entry)[:80]}")
        learned.failed.setdefault(name, (builds, why[:300]))
    return learned


def write_learned(path: Path, learned: Learned) -> None:
    """Write ``learned`` to ``path`` atomically (a file beside it, renamed over it)."""
    fd, temporary = tempfile.mkstemp(prefix=".preload-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(learned.to_json())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def names_line(names: Iterable[str]) -> str:
    """``names`` joined by spaces, within :data:`MAX_NAMES_BYTES` (the rest left out)."""
    kept: list[str] = []
    size = 0
    for name in names:
        size += len(name) + 1
        if size > MAX_NAMES_BYTES:
            break
        kept.append(name)
    return " ".join(kept)


class Preloads:
    """What one build's server preloads (``netviz_preload``), and what the build learns for the
    next one, kept in ``folder``/:data:`PRELOAD_FILE` (with ``"auto"``).

    :meth:`learn` and :meth:`failed` may be called from any thread; :meth:`save` once, at the end.
    """

    def __init__(self, setting: str | Sequence[str], folder: str | os.PathLike[str] | None) -> None:
        # a value of netviz_preload, checked where it entered (options.sort_values): not checked again
        self.setting: str | tuple[str, ...] = "auto" if setting == "auto" else tuple(setting)
        self.file = Path(folder) / PRELOAD_FILE if folder is not None and self.setting == "auto" else None
        self._lock = threading.Lock()
        self._imported: dict[str, None] = {}
        self._used: set[str] = set()
        self._failures: dict[str, str] = {}
        self._search_path: tuple[str, ...] = tuple(sys.path)
        #: whether a child reported (the build drew something): only then is the list updated
        self._reported = False

    def names(self) -> tuple[str, ...]:
        """The modules the server is to import, in order."""
        if self.file is None:
            return tuple(name for name in self.setting if valid_name(name))
        learned = read_learned(self.file)
        return tuple(name for name in learned.modules if not learned.is_failed(name) and top(name) not in NEVER)

    def learn(self, imported: Iterable[object], used: Iterable[object], search_path: Sequence[str]) -> None:
        """A child's report (model code could have written anything: only module names are kept)."""
        with self._lock:
            self._reported = True
            self._search_path = tuple(p for p in search_path if isinstance(p, str))
            for name in list(imported)[:MAX_MODULES]:
                if valid_name(name) and len(self._imported) < MAX_MODULES:
                    self._imported[str(name)] = None
            self._used.update(str(name) for name in list(used)[:MAX_MODULES] if valid_name(name))

    def failed(self, name: str, why: str) -> None:
        """The server could not preload ``name`` (a module, or a whole package)."""
        if valid_name(name):
            with self._lock:
                self._failures[name] = why[:300]

    @property
    def failures(self) -> dict[str, str]:
        """The names the server could not preload this build, and why."""
        with self._lock:
            return dict(self._failures)

    def save(self) -> None:
        """Update the learned list (only with ``"auto"``, and after a build that drew)."""
        if self.file is None or not self._reported:
            return
        with self._lock:
            imported, used, failures = list(self._imported), set(self._used), dict(self._failures)
        old = read_learned(self.file)
        learned = Learned()
        for name, (builds, why) in old.failed.items():
            if builds < RETRY_BUILDS:
                learned.failed[name] = (builds + 1, why)
        for name, why in failures.items():
            learned.failed[name] = (0, why)
        used |= {top(name) for name in imported}
        for name, unused in old.modules.items():
            unused = 0 if top(name) in used else unused + 1
            if unused <= UNUSED_BUILDS and not learned.is_failed(name):
                learned.modules[name] = unused
        for name in imported:  # new ones: checked to be installed, not the project's
            if len(learned.modules) >= MAX_MODULES:
                break
            if name not in learned.modules and not learned.is_failed(name) \
                    and is_installed_module(name, self._search_path):
                learned.modules[name] = 0
        if learned != old:
            write_learned(self.file, learned)


# -- in the server: importing the names ------------------------------------------------------------

class _RefuseProjectCode:
    """A finder, first on ``sys.meta_path``: a module found outside installed distributions and
    the standard library (the project's own code) is not imported."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if top(name) in NEVER:
            return None
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is None:
                continue
            origin = spec.origin
            if spec.has_location and isinstance(origin, str) and not _is_library_file(origin):
                raise ImportError(f"{name} is the project's own code ({origin}), never preloaded", name=name)
            return spec
        return None


@contextlib.contextmanager
def refusing_project_code() -> Iterator[None]:
    """While the block runs, importing a module of the project (not an installed distribution's,
    not the standard library's) raises :class:`ImportError`."""
    guard = _RefuseProjectCode()
    sys.meta_path.insert(0, guard)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(guard)


def _one_line(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


def _import_all(names: Sequence[str], tell: Callable[[str], None]) -> None:
    """Import each name (in the preloading process), telling ``try NAME`` before and
    ``fail NAME WHY`` after one that raised; ``done`` at the end."""
    with refusing_project_code():
        for name in names:
            if name in sys.modules:
                continue
            tell(f"try {name}")
            try:
                importlib.import_module(name)
            except BaseException as exc:  # noqa: BLE001  (SystemExit, KeyboardInterrupt too)
                try:
                    why = f"{exc.__class__.__name__}: {exc}"
                except BaseException:  # noqa: BLE001  (an exception that cannot be printed)
                    why = "an exception"
                tell(f"fail {name} importing it raised {_one_line(why)}")
    tell("done")


def fork_preloaded(names: Sequence[str], seconds: float, report: Callable[[str, str], None]) -> int | None:
    """Import ``names`` in a forked process, which is to serve once they were tried.

    Returns None in the process that is to serve: the forked one, or this one if no forked
    process could get through the names (:data:`ROUNDS`).  In this process otherwise, once the
    forked one ended: its exit code (negative: the signal that killed it).  ``report(name,
    why)`` is called (in this process) for each name left out: a module whose import raised,
    or the package of one whose import crashed the forked process or took more than
    ``seconds``.
    """
    todo = [name for name in names if valid_name(name) and top(name) not in NEVER]
    left_out: set[str] = set()

    def leave_out(name: str, why: str) -> None:
        left_out.add(name)
        report(name, why)

    for _ in range(ROUNDS):
        todo = [name for name in todo if name not in left_out]
        if not todo:
            return None
        read, write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            die_with_parent(parent)
            _import_all(todo, lambda line: _tell(write, line))
            os.close(write)
            return None
        os.close(write)
        try:
            name, why = _watch(read, seconds, leave_out)
        finally:
            os.close(read)
        if not name:  # every name was tried: the forked process serves; this one waits for it
            return _wait(pid)
        end_tree(pid)  # it hung, or it died (a zombie until waited for: its pid is not reused)
        code = _wait(pid)
        end_adopted(set())  # what it started, adopted by this process (a subreaper)
        if not why:
            why = (f"the process importing it was killed by signal {-code}" if code < 0 else
                   f"the process importing it exited with code {code}")
        if name == "?":  # it ended before it began: this process serves, without preloading
            return None
        leave_out(top(name), why)
        todo = [n for n in todo if top(n) != top(name)]
    return None


def _tell(fd: int, line: str) -> None:
    os.write(fd, (line + "\n").encode(errors="replace"))


def _watch(fd: int, seconds: float, report: Callable[[str, str], None]) -> tuple[str, str]:
    """Follow the preloading process through its pipe ``fd``: ``("", "")`` once it tried every
    name, else the name it was importing when it ran out of time and why, or when it died and
    ``""``."""
    pending = b""
    current, since = "", time.monotonic()
    while True:
        left = since + seconds - time.monotonic()
        if left <= 0:
            return current or "?", f"importing it took longer than {seconds:g} s"
        if not select.select([fd], [], [], left)[0]:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:  # it died: its exit code says how
            return current or "?", ""
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            kind, _, rest = raw.decode(errors="replace").partition(" ")
            if kind == "try":
                current, since = rest, time.monotonic()
            elif kind == "fail":
                name, _, why = rest.partition(" ")
                report(name, why)
            elif kind == "done":
                return "", ""


def _wait(pid: int) -> int:
    """Wait for child ``pid``; its exit code (negative: the signal that ended it)."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        return os.waitstatus_to_exitcode(status)
