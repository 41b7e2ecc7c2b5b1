"""Which of the project's own source files a model's diagram depends on.

Used to key the cache (so editing the model re-traces) and to tell Sphinx
which files a page depends on.  Starting from the modules that define the
model and its inputs, follows their ``import`` statements (read with
:mod:`ast`) to other *project* modules: files outside the standard library
and ``site-packages``.  Nothing here imports torch.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import sys
import sysconfig
from collections.abc import Iterable
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


def project_sources(modules: Iterable[ModuleType]) -> list[str]:
    """Absolute paths of the project files ``modules`` are made of or import, sorted."""
    found: dict[str, None] = {}
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
        found[str(Path(path).resolve())] = None
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
    return sorted(found)


def file_digest(path: str) -> str | None:
    """SHA-256 of a file's bytes, or None if it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
