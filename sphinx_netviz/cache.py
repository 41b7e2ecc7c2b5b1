"""On-disk cache of finished diagrams, keyed by content, verified on every reuse.

Pipeline step *write* (render/export → **cache**).  A diagram's record is
found by its spec's key and holds the project modules it depends on *by
name*, with the digest of the file each was imported from.  A lookup finds
each name's file as the build that asks would import it (along its
``sys.path``, without running any code: :func:`~.deps.find_module_file`)
and compares the bytes, so a rebuild where nothing changed finds the
diagram without importing torch, while an edit to the model's file misses,
and so does another project (or a moved copy of this one) whose modules of
the same names are other files with other contents.  A module that cannot
be found without running code (a package that changes its ``__path__``, an
import hook) is not tracked by name: its record never matches.  The digests
are of the bytes the diagram was drawn from (taken as the child imported or
read them), so a file edited while it was drawn misses the next lookup.
Every file of a diagram is named by the hash of its content (also the
renders :meth:`DiagramCache.derived` makes from it), and a lookup checks
each file's bytes against its name; records and manifests are named by a
key and name it inside.  A missing, damaged or unreadable file, or a record
or manifest under a key it does not name, makes the entry a miss (and says
why through ``on_damage``), never a half-drawn page or another diagram.  Files are written to a temporary name and renamed, and the manifest
is written last, so a crash never leaves a half-written entry that looks
complete; a child process writes its temporary files into its own scratch
folder, which the parent deletes whatever happened to the child.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

from .artifacts import Artifacts, DiagramInfo
from .bounds import MAX_DETAILS_BYTES
from .limits import MB
from .deps import file_digest, find_module_file

#: 6: sources kept by module name, checked against the files the names stand for where asked;
#: 7: each call of the viewer's data has its ``link`` (layer fragments, issue 16)
#: 8: a record, export record and manifest name their key (and are checked against it); each
#: module's digest is of the bytes the drawing imported; LaTeX/texinfo renders are content-named
FORMAT = "8"
#: hex digits of the content hash in a file name (``netviz-<hash>.svg``)
HASH_CHARS = 16


@dataclass(kw_only=True)
class CachedDiagram(DiagramInfo):
    """A finished diagram as the cache holds it: its facts, and its verified files on disk."""

    key: str
    svg_path: Path
    dot_path: Path
    onnx_path: Path | None
    #: every depth's SVG for the page's viewer, by depth
    layouts: dict[int, Path]
    #: the viewer's JSON (details of each box, summary table)
    details_path: Path
    #: sources whose bytes changed since the diagram was drawn (see :meth:`DiagramCache.lookup`)
    changed: list[str] = field(default_factory=list)


def write_atomic(path: Path, data: bytes, scratch: Path | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never part.

    The temporary file is made in ``scratch`` (same file system) when given,
    else beside ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=scratch or path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def content_name(data: bytes, suffix: str, prefix: str = "netviz-") -> str:
    """``netviz-<16 hex of sha256>.svg``: an output file name from its content."""
    return f"{prefix}{hashlib.sha256(data).hexdigest()[:HASH_CHARS]}{suffix}"


#: files already verified by this process: path -> (size, mtime, inode) when checked
_VERIFIED: dict[Path, tuple[int, int, int]] = {}


def verified_bytes(path: Path) -> bytes:
    """The bytes of a content-named file, if they still match its name; else :class:`DamagedFile`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DamagedFile(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    if not is_content_named(path, data):
        raise DamagedFile(f"{path.name} does not match its content hash")
    return data


def is_content_named(path: Path, data: bytes) -> bool:
    """Whether ``data`` hashes to the hash in ``path``'s name."""
    stem = path.name.rsplit(".", 1)[0]
    return stem.endswith(hashlib.sha256(data).hexdigest()[:HASH_CHARS]) and len(stem) >= HASH_CHARS


def check_file(path: Path) -> None:
    """Verify a content-named file (once per process while it is unchanged on disk)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise DamagedFile(f"{path.name} is missing ({exc.strerror or exc})") from None
    seen = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if _VERIFIED.get(path) == seen:
        return
    try:  # hashed in pieces: checking a big file (an ONNX download) takes no memory
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise DamagedFile(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    stem = path.name.rsplit(".", 1)[0]
    if len(stem) < HASH_CHARS or not stem.endswith(digest[:HASH_CHARS]):
        raise DamagedFile(f"{path.name} does not match its content hash")
    _VERIFIED[path] = seen


class DamagedFile(Exception):
    """A cached file is missing, unreadable, or not what its name says."""


class DiagramCache:
    """Diagrams stored under ``root``: ``records/`` per spec, ``files/`` per result.

    ``scratch`` is where temporary files are made (a child's own folder);
    ``on_damage`` hears why an entry that exists was not reused;
    ``search_path`` is where module names are looked for: the ``sys.path``
    the model is (or would be) imported with.  By default ``sys.path`` as it
    is when the cache is made: in the Sphinx process that is the one
    :mod:`~.sphinxext.collect` gives each job, in a child the job's (before
    model code can change it).  Relative entries are taken from the working
    folder then, as the child does (it works in the parent's).  ``remember``:
    each source file is hashed, and each module name found, once for the
    life of this object (one build's lookups; :meth:`forget_sources` after
    drawing).
    """

    def __init__(self, root: str | os.PathLike[str], *, scratch: Path | None = None,
                 on_damage: Callable[[str], None] | None = None,
                 search_path: Sequence[str] | None = None, remember: bool = False) -> None:
        self.root = Path(root)
        self._digests_seen: dict[str, str | None] | None = {} if remember else None
        self._modules_seen: dict[str, str | None] | None = {} if remember else None
        self.scratch = scratch
        self.on_damage = on_damage or (lambda why: None)
        self.search_path = tuple(os.path.abspath(entry) if isinstance(entry, str) else entry
                                 for entry in (sys.path if search_path is None else search_path))

    @functools.cached_property
    def real_root(self) -> Path:
        """:attr:`root` with its links resolved (once)."""
        return self.root.resolve()

    def _write(self, path: Path, data: bytes) -> None:
        write_atomic(path, data, self.scratch)

    def _write_if_missing(self, path: Path, data: bytes) -> None:
        """Content-named files never change: an existing one is kept (and its mtime) if it is sound."""
        try:
            check_file(path)
        except DamagedFile:
            self._write(path, data)

    def holds_diagrams(self) -> bool:
        """Whether any diagram was ever stored here (a record exists; whether it is sound is for
        :meth:`lookup` to say).  An unreadable folder holds none."""
        try:
            with os.scandir(self.root / "records") as entries:
                return any(entry.name.endswith(".json") for entry in entries)
        except OSError:
            return False

    def _record_path(self, spec_key: str) -> Path:
        return self.root / "records" / f"{spec_key}.json"

    def _manifest_path(self, result_key: str) -> Path:
        return self.root / "files" / f"{result_key}.json"

    @staticmethod
    def result_key(spec_key: str, digests: dict[str, str | None]) -> str:
        blob = json.dumps([FORMAT, spec_key, sorted(digests.items())])
        return hashlib.sha256(blob.encode()).hexdigest()

    def _sources_record(self, made: Artifacts) -> dict[str, Any]:
        """What a record keeps of a diagram's sources: its project modules by name, other
        sources (an ONNX file) by path, each with the digest of its bytes.

        Each digest is that of the bytes the drawing was made from
        (:attr:`~.artifacts.Artifacts.source_digests`, taken as the child
        imported or read them), not of the file as it is now: a file edited
        while its diagram was drawn misses the next lookup.  ``imported`` is
        the file each module was imported from; a module that
        :func:`~.deps.find_module_file` does not find there (its import ran
        code to find it) is ``unresolved``, and makes the record match only in
        :meth:`lookup` with ``just_stored``.
        """
        modules = {str(name): str(path) for name, path in made.modules.items()}
        named = set(modules.values())

        def drawn_from(path: str) -> str | None:
            """The digest of the bytes the drawing read (a file changed since never matches)."""
            return made.source_digests[path] if path in made.source_digests else file_digest(path)

        return {"modules": {name: drawn_from(path) for name, path in sorted(modules.items())},
                "files": {path: drawn_from(path) for path in sorted(made.sources) if path not in named},
                "imported": modules,
                "unresolved": sorted(name for name, path in modules.items()
                                     if find_module_file(name, self.search_path) != path)}

    @staticmethod
    def _digests(record: dict[str, Any]) -> dict[str, str | None]:
        """A record's digests, by module name and by file path: what its result key is made of."""
        return {**{f"module {name}": digest for name, digest in record["modules"].items()},
                **{f"file {path}": digest for path, digest in record["files"].items()}}

    def _digest(self, path: str) -> str | None:
        """A source file's digest (remembered for the life of a cache made with ``remember``)."""
        if self._digests_seen is None:
            return file_digest(path)
        if path not in self._digests_seen:
            self._digests_seen[path] = file_digest(path)
        return self._digests_seen[path]

    def _module_file(self, name: str) -> str | None:
        """The file module ``name`` stands for here (remembered as :meth:`_digest` is)."""
        if self._modules_seen is None:
            return find_module_file(name, self.search_path)
        if name not in self._modules_seen:
            self._modules_seen[name] = find_module_file(name, self.search_path)
        return self._modules_seen[name]

    def forget_sources(self) -> None:
        """Forget the digests and module files remembered so far (the sources may have changed:
        diagrams were drawn meanwhile)."""
        if self._digests_seen is not None:
            self._digests_seen.clear()
        if self._modules_seen is not None:
            self._modules_seen.clear()

    def _current(self, path: Path, key: str, just_stored: bool = False,
                 drawn: bool = False) -> tuple[dict[str, Any], list[str], list[str]] | None:
        """The record at ``path`` if it names ``key`` (a record copied or moved under another key
        is no record) and its sources are, here, the bytes it was made from; the files they are
        here; and those whose bytes differ (only with ``drawn``: else such a record is None).

        Each module name is looked for along :attr:`search_path` (no code
        runs), so another project's files of the same names are never taken
        for this one's.  A record with an ``unresolved`` module does not
        match, unless ``just_stored``: then that module is checked at the file
        it was imported from.
        """
        try:
            record = json.loads(path.read_text())
            if record["key"] != key:
                self.on_damage(f"the cache's record {path.parent.name}/{path.name} belongs to another "
                               "diagram; drawing again")
                return None
            unresolved = set(record["unresolved"])
            if unresolved and not just_stored:
                return None
            found: list[str] = []
            changed: list[str] = []
            named = [(str(record["imported"][name]) if name in unresolved else self._module_file(name), digest)
                     for name, digest in record["modules"].items()]
            for file, digest in [*named, *record["files"].items()]:
                if file is None:
                    return None
                if digest is None or self._digest(file) != digest:
                    if not drawn:
                        return None
                    changed.append(file)
                found.append(file)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return record, sorted(set(found)), sorted(set(changed))

    def lookup(self, spec_key: str, *, just_stored: bool = False, drawn: bool = False) -> CachedDiagram | None:
        """The cached diagram for ``spec_key`` if its sources, as this build finds them, are
        unchanged; its ``sources`` are then those files.

        ``just_stored``: for a diagram a job of this build has just drawn and
        stored (collect's outcomes, and the pages written after them), a
        module found only by running code is checked at the file it was
        imported from.  Any other lookup of such a diagram misses.
        ``drawn``: for the outcome of this build's job, the diagram as it was
        drawn also if a source changed since it was imported (its
        ``changed`` names them; any later lookup misses, so the next build
        draws it again).
        """
        current = self._current(self._record_path(spec_key), spec_key, just_stored, drawn)
        if current is None:
            return None
        record, sources, changed = current
        found = self._load(self.result_key(spec_key, self._digests(record)))
        if found is not None:
            found.sources, found.changed = sources, changed
        return found

    def lookup_export(self, export_key: str) -> tuple[bytes, str] | None:
        """ONNX bytes and mode made earlier for the same model and inputs (another drawing of it)."""
        current = self._current(self.root / "exports" / f"{export_key}.json", export_key)
        if current is None:
            return None
        record, _, _ = current
        try:
            return verified_bytes(self.root / "files" / str(record["onnx"])), str(record["mode"])
        except KeyError:
            return None
        except DamagedFile as exc:
            self.on_damage(f"the cached ONNX file {exc}; exporting again")
            return None

    def store_export(self, export_key: str, made: Artifacts) -> None:
        """Remember a diagram's ONNX file for other drawings of the same model and inputs.

        A file made because an exporter ran out of time is not: with more time
        the next drawing may make a better one.
        """
        if made.onnx is None or made.onnx_mode is None or made.onnx_time_limited:
            return
        name = content_name(made.onnx, ".onnx")
        self._write_if_missing(self.root / "files" / name, made.onnx)
        record = {"key": export_key, **self._sources_record(made), "onnx": name, "mode": made.onnx_mode}
        self._write(self.root / "exports" / f"{export_key}.json", json.dumps(record, indent=1).encode())

    def _load(self, result_key: str) -> CachedDiagram | None:
        """The diagram stored under ``result_key``, if its manifest is sound and every file checks out."""
        path = self._manifest_path(result_key)
        try:
            manifest = json.loads(path.read_text())
            if manifest["key"] != result_key:  # another diagram's manifest, copied or moved here
                self.on_damage(f"the cached diagram's manifest {path.name} belongs to another diagram; "
                               "drawing again")
                return None
            cached = CachedDiagram.from_manifest(manifest, key=result_key, **self._files(manifest["files"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.on_damage(f"the cached diagram's manifest is damaged ({exc.__class__.__name__}); drawing again")
            return None
        paths = [cached.svg_path, cached.dot_path, cached.details_path, *cached.layouts.values()]
        paths += [cached.onnx_path] if cached.onnx_path else []
        try:  # the details are parsed where a page uses them (once per page written); here only sized
            for path in paths:
                check_file(path)
            if cached.details_path.stat().st_size > MAX_DETAILS_BYTES:
                raise DamagedFile(f"{cached.details_path.name} is more than the {MAX_DETAILS_BYTES / MB:g} MB "
                                  "a page takes")
        except (DamagedFile, OSError) as exc:
            self.on_damage(f"the cached diagram file {exc}; drawing again")
            return None
        return cached

    def _file(self, name: object) -> Path:
        """The path of a file of ``files/`` a manifest or record names (a bad name raises)."""
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise TypeError(f"bad file name {name!r}")
        return self.root / "files" / name

    def _files(self, names: dict[str, Any]) -> dict[str, Any]:
        """A manifest's file names as the paths of :class:`CachedDiagram` (a bad name raises)."""
        path = self._file
        return {"svg_path": path(names["svg"]), "dot_path": path(names["dot"]),
                "onnx_path": path(names["onnx"]) if names["onnx"] is not None else None,
                "details_path": path(names["details"]),
                "layouts": {int(depth): path(name) for depth, name in names["layouts"].items()}}

    def derived(self, source: Path, kind: str, make: Callable[[bytes], bytes], suffix: str) -> Path:
        """A file made from a cached file by ``make`` (Graphviz's PDF of a DOT file), made once.

        ``source`` is a content-named file of the cache, checked before it is
        read; ``kind`` says how the file is made from it (format, resolution,
        the tool's version): a different ``kind`` is another file.  The file
        is stored as every cache file, named by its content (``suffix``), and
        found again through ``renders/<hash of source name and kind>.json``, a
        record that names its key and the file; the file is checked against
        its name when reused.  A missing or damaged one is made again.
        """
        key = hashlib.sha256(json.dumps([FORMAT, source.name, kind]).encode()).hexdigest()
        record_path = self.root / "renders" / f"{key}.json"
        try:
            record = json.loads(record_path.read_text())
            if record["key"] == key:
                path = self._file(record["file"])
                check_file(path)
                return path
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError, DamagedFile) as exc:
            self.on_damage(f"the cached {suffix.lstrip('.').upper()} of a diagram is damaged ({exc}); "
                           "making it again")
        data = make(verified_bytes(source))
        path = self.root / "files" / content_name(data, suffix)
        self._write_if_missing(path, data)
        self._write(record_path, json.dumps({"key": key, "file": path.name}, indent=1).encode())
        return path

    def store(self, spec_key: str, made: Artifacts) -> CachedDiagram:
        """Write a finished diagram's files, then its manifest and record; return it as stored."""
        record = {"key": spec_key, **self._sources_record(made)}
        result_key = self.result_key(spec_key, self._digests(record))
        details = json.dumps(made.details, sort_keys=True, ensure_ascii=False).encode()
        contents: dict[str, bytes] = {"svg": made.svg, "dot": made.dot.encode(), "details": details}
        if made.onnx is not None:
            contents["onnx"] = made.onnx
        suffixes = {"svg": ".svg", "dot": ".dot", "details": ".json", "onnx": ".onnx"}
        names: dict[str, Any] = {role: content_name(data, suffixes[role]) for role, data in contents.items()}
        names.setdefault("onnx", None)
        names["layouts"] = {str(depth): content_name(svg, ".svg") for depth, svg in made.layouts.items()}
        for depth, svg in made.layouts.items():
            self._write_if_missing(self.root / "files" / names["layouts"][str(depth)], svg)
        for role, data in contents.items():
            self._write_if_missing(self.root / "files" / names[role], data)
        manifest = {"key": result_key, **made.info().to_manifest(), "files": names}
        self._write(self._manifest_path(result_key), json.dumps(manifest, indent=1).encode())
        self._write(self._record_path(spec_key), json.dumps(record, indent=1).encode())
        return CachedDiagram.from_manifest(manifest, key=result_key, **self._files(names))

    # -- an architecture diff's sides (sphinx_netviz.archjob) ----------------------------

    def _snapshot_record(self, key: str) -> Path:
        return self.root / "snapshots" / f"{key}.json"

    def store_snapshot(self, key: str, made: Artifacts) -> CachedSnapshot:
        """Keep one side of an architecture diff: its snapshot (``made.details``; the rest of
        ``made`` is its facts and sources), checked against its sources on lookup as a diagram is."""
        data = json.dumps(made.details, sort_keys=True, ensure_ascii=False).encode()
        path = self.root / "files" / content_name(data, ".json", "netviz-arch-")
        self._write_if_missing(path, data)
        record = {"key": key, **self._sources_record(made), "info": made.info().to_manifest(),
                  "snapshot": path.name}
        self._write(self._snapshot_record(key), json.dumps(record, indent=1).encode())
        return CachedSnapshot.from_manifest(record["info"], key=key, path=path)

    def lookup_snapshot(self, key: str, *, just_stored: bool = False, drawn: bool = False) -> CachedSnapshot | None:
        """The side stored under ``key`` if its sources, as this cache finds them, are unchanged
        (``just_stored``, ``drawn``: as for :meth:`lookup`)."""
        current = self._current(self._snapshot_record(key), key, just_stored, drawn)
        if current is None:
            return None
        record, sources, changed = current
        try:
            found = CachedSnapshot.from_manifest(record["info"], key=key, path=self._file(record["snapshot"]))
            check_file(found.path)
        except (DamagedFile, KeyError, TypeError, ValueError) as exc:
            self.on_damage(f"the cached architecture snapshot is damaged ({exc}); tracing again")
            return None
        found.sources, found.changed = sources, changed
        return found


@dataclass(kw_only=True)
class CachedSnapshot(DiagramInfo):
    """One side of an architecture diff as the cache holds it: its facts and its snapshot file."""

    key: str
    path: Path
    #: sources whose bytes changed since it was traced (see :meth:`DiagramCache.lookup`)
    changed: list[str] = field(default_factory=list)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
