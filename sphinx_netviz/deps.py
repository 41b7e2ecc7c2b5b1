"""Which of the project's own source files a model's diagram depends on.

Used to key the cache (so editing the model re-traces) and to tell Sphinx
which files a page depends on.  Starting from the modules that define the
model and its inputs, follows their ``import`` statements (read with
:mod:`ast`) to other *project* modules: files outside the standard library
and ``site-packages``.

The cache keeps those modules by *name*, and checks a diagram against the
files the names stand for in the build that asks (:func:`find_module_file`,
which finds a module's file as ``import`` would, without running any code),
not against the files a build of another project, or of an older copy of
this one, imported.  The digest a diagram keeps of each file is that of
the bytes it was drawn from: :func:`digests_as_imported` takes it as the
import reads the file, so a file edited while its diagram is drawn never
passes for the one drawn.  Nothing here imports torch or Sphinx.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import pkgutil
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib.machinery import ModuleSpec, SourceFileLoader
from pathlib import Path
from types import ModuleType


@functools.cache
def _library_roots() -> tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(str(Path(path).resolve()))
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        roots.add(str((Path(prefix) / "lib").resolve()))
    return tuple(sorted(roots))


@functools.lru_cache(maxsize=8192)
def is_project_file(path: str | None) -> bool:
    """True for a ``.py`` file that is not part of Python or an installed package."""
    if not path or not path.endswith(".py"):
        return False
    resolved = str(Path(path).resolve())
    if "site-packages" in resolved or "dist-packages" in resolved:
        return False
    return not any(resolved.startswith(root + "/") for root in _library_roots())


def _imported_names(module: ModuleType, source: str) -> Iterable[str]:
    package = module.__package__ or ""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join(p for p in [*parts, base] if p)
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"


def project_modules(modules: Iterable[ModuleType]) -> dict[str, str]:
    """The project modules ``modules`` are made of or import: module name -> absolute path of its file."""
    found: dict[str, str] = {}
    queue = list(modules)
    seen: set[str] = set()
    while queue:
        module = queue.pop()
        if module.__name__ in seen:
            continue
        seen.add(module.__name__)
        path = getattr(module, "__file__", None)
        if not is_project_file(path):
            continue
        assert path is not None
        found[module.__name__] = str(Path(path).resolve())
        try:
            source = Path(path).read_text(encoding="utf-8")
        except OSError:
            continue
        for name in _imported_names(module, source):
            # a dotted name also imports each parent package
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                dep = sys.modules.get(".".join(parts[:i]))
                if isinstance(dep, ModuleType):
                    queue.append(dep)
    return dict(sorted(found.items()))


def find_module_file(name: str, search_path: Sequence[str]) -> str | None:
    """The file ``import name`` loads with ``sys.path`` set to ``search_path``, found without
    running any code; None if it cannot be found so.

    The top-level name is looked for along ``search_path``, each submodule in
    the folders its parent package's spec names, as
    :class:`importlib.machinery.PathFinder` does (:func:`_find_spec`): no
    ``__init__`` is run, so a package whose code changes its ``__path__``, a
    module that an import hook or a ``sys.path`` change made by model code
    provides, is not found here (or is found elsewhere); a caller compares
    the answer with the file the real import used (see
    :mod:`sphinx_netviz.cache`).  Symbolic links are resolved, as in
    :func:`project_modules`.
    """
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    try:
        spec = _find_spec(parts[0], search_path)
        for depth in range(2, len(parts) + 1):
            if spec is None or spec.submodule_search_locations is None:
                return None
            spec = _find_spec(".".join(parts[:depth]), spec.submodule_search_locations)
        if spec is None or not spec.has_location or not isinstance(spec.origin, str):
            return None
        return str(Path(spec.origin).resolve())
    except (ImportError, ValueError, OSError, RuntimeError, KeyError, AttributeError, TypeError):
        return None


def _find_spec(fullname: str, locations: Iterable[str]) -> ModuleSpec | None:
    """:meth:`PathFinder.find_spec <importlib.machinery.PathFinder.find_spec>` of ``fullname``
    in ``locations``, but a namespace package's spec lists the folders it was found in.

    (``PathFinder.find_spec`` gives a namespace package inside another
    package a path that recomputes itself from the parent package's module,
    which is not imported here.)  Each folder's finder is that of ``import``
    (``sys.path_importer_cache``, ``sys.path_hooks``); finders read folder
    listings, never a module's code.
    """
    portions: list[str] = []
    for entry in list(locations):
        if not isinstance(entry, str):
            continue
        finder = pkgutil.get_importer(entry)
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        spec = find(fullname)
        if spec is None:
            continue
        if spec.loader is not None:
            return spec
        portions.extend(spec.submodule_search_locations or ())
    if not portions:
        return None
    spec = ModuleSpec(fullname, None, is_package=True)
    spec.submodule_search_locations = portions
    return spec


def file_digest(path: str) -> str | None:
    """SHA-256 of a file's bytes, or None if it cannot be read."""
    data = _read_bytes(path)
    return None if data is None else hashlib.sha256(data).hexdigest()


#: the recorders of :func:`digests_as_imported` now active, and the ``get_code`` they wrap
_RECORDERS: list[dict[str, str | None]] = []
_RECORDERS_LOCK = threading.Lock()
_GET_CODE: Callable[[SourceFileLoader, str], object] = SourceFileLoader.get_code


@contextlib.contextmanager
def digests_as_imported() -> Iterator[dict[str, str | None]]:
    """While the block runs, the digest of each project source file (:func:`is_project_file`)
    that an import reads: its resolved path -> SHA-256 of the bytes the module's code was made
    from, or None if the file changed while it was imported.

    The file is read just before and just after the import's own read (of the source, or of
    the bytecode Python checks against the source's size and time); differing bytes are None,
    so a file edited during the import never passes for the one imported.  Only imports that
    :class:`~importlib.machinery.SourceFileLoader` makes are seen (every ``.py`` file of the
    usual finders); a caller digests any other file as it is after the block.
    """
    recorded: dict[str, str | None] = {}
    with _RECORDERS_LOCK:
        if not _RECORDERS:
            SourceFileLoader.get_code = _get_code_digested  # type: ignore[method-assign]
        _RECORDERS.append(recorded)
    try:
        yield recorded
    finally:
        with _RECORDERS_LOCK:
            _RECORDERS.remove(recorded)
            if not _RECORDERS:
                SourceFileLoader.get_code = _GET_CODE  # type: ignore[method-assign]


def _get_code_digested(self: SourceFileLoader, fullname: str) -> object:
    """:meth:`SourceFileLoader.get_code`, noting the digest of a project file's bytes."""
    path = self.get_filename(fullname)
    if not is_project_file(path):
        return _GET_CODE(self, fullname)
    before = _read_bytes(path)
    code = _GET_CODE(self, fullname)
    after = _read_bytes(path)
    digest = hashlib.sha256(before).hexdigest() if before is not None and before == after else None
    resolved = str(Path(path).resolve())
    with _RECORDERS_LOCK:
        for recorded in _RECORDERS:
            recorded[resolved] = digest
    return code


def _read_bytes(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError:
        return None
