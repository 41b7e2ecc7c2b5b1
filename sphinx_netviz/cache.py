"""On-disk cache of finished diagrams, keyed by content, verified on every reuse.

Pipeline step *write* (render/export → **cache**).  A diagram's record is
found by a key made of the spec and the bytes of every project source file
it depends on, so a rebuild where nothing changed finds it without
importing torch, while an edit to the model's file misses.  Every file of a
diagram is named by the hash of its content, and a lookup checks each
file's bytes against its name: a missing, damaged or unreadable file makes
the entry a miss (and says why through ``on_damage``), never a half-drawn
page.  Files are written to a temporary name and renamed, and the manifest
is written last, so a crash never leaves a half-written entry that looks
complete; a child process writes its temporary files into its own scratch
folder, which the parent deletes whatever happened to the child.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .artifacts import Artifacts, Problem
from .deps import file_digest

FORMAT = "4"
#: hex digits of the content hash in a file name (``netviz-<hash>.svg``)
HASH_CHARS = 16


@dataclass(frozen=True)
class CachedDiagram:
    """A finished diagram's files on disk, and what to tell the author about it."""

    key: str
    svg_path: Path
    dot_path: Path
    onnx_path: Path | None
    onnx_mode: str | None
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    sources: tuple[str, ...]
    model_name: str
    node_count: int
    depth: int
    device: str
    weight_bytes: int
    #: every depth's SVG for the page's viewer, by depth
    layouts: dict[int, Path]
    #: the viewer's JSON (details of each box, summary table)
    details_path: Path
    #: drawn short of time (see :attr:`Artifacts.time_limited`)
    time_limited: bool = False


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
    verified_bytes(path)
    _VERIFIED[path] = seen


class DamagedFile(Exception):
    """A cached file is missing, unreadable, or not what its name says."""


class DiagramCache:
    """Diagrams stored under ``root``: ``records/`` per spec, ``files/`` per result.

    ``scratch`` is where temporary files are made (a child's own folder);
    ``on_damage`` hears why an entry that exists was not reused.
    """

    def __init__(self, root: str | os.PathLike[str], *, scratch: Path | None = None,
                 on_damage: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.scratch = scratch
        self.on_damage = on_damage or (lambda why: None)

    def _write(self, path: Path, data: bytes) -> None:
        write_atomic(path, data, self.scratch)

    def _write_if_missing(self, path: Path, data: bytes) -> None:
        """Content-named files never change: an existing one is kept (and its mtime) if it is sound."""
        try:
            check_file(path)
        except DamagedFile:
            self._write(path, data)

    def _record_path(self, spec_key: str) -> Path:
        return self.root / "records" / f"{spec_key}.json"

    def _manifest_path(self, result_key: str) -> Path:
        return self.root / "files" / f"{result_key}.json"

    @staticmethod
    def result_key(spec_key: str, digests: dict[str, str | None]) -> str:
        blob = json.dumps([FORMAT, spec_key, sorted(digests.items())])
        return hashlib.sha256(blob.encode()).hexdigest()

    @staticmethod
    def _current(path: Path) -> dict | None:
        """A record whose source files are unchanged, or None."""
        try:
            record = json.loads(path.read_text())
            digests = {source: file_digest(source) for source in record["sources"]}
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return record if digests == record.get("digests") else None

    def lookup(self, spec_key: str) -> CachedDiagram | None:
        """The cached diagram for ``spec_key`` if none of its sources changed."""
        record = self._current(self._record_path(spec_key))
        return self._load(self.result_key(spec_key, record["digests"])) if record else None

    def lookup_export(self, export_key: str) -> tuple[bytes, str] | None:
        """ONNX bytes and mode made earlier for the same model and inputs (another drawing of it)."""
        record = self._current(self.root / "exports" / f"{export_key}.json")
        if record is None:
            return None
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
        record = {"sources": made.sources, "digests": {p: file_digest(p) for p in made.sources},
                  "onnx": name, "mode": made.onnx_mode}
        self._write(self.root / "exports" / f"{export_key}.json", json.dumps(record, indent=1).encode())

    def _load(self, result_key: str) -> CachedDiagram | None:
        manifest_path = self._manifest_path(result_key)
        try:
            manifest = json.loads(manifest_path.read_text())
            files = self.root / "files"

            def name(value: object) -> Path:
                if not isinstance(value, str) or "/" in value or value.startswith("."):
                    raise TypeError(f"bad file name {value!r}")
                return files / value

            cached = CachedDiagram(
                key=result_key,
                svg_path=name(manifest["svg"]),
                dot_path=name(manifest["dot"]),
                onnx_path=name(manifest["onnx"]) if manifest["onnx"] else None,
                onnx_mode=str(manifest["onnx_mode"]) if manifest["onnx_mode"] else None,
                problems=tuple(Problem(str(stage), str(message)) for stage, message in manifest["problems"]),
                notes=tuple(str(n) for n in manifest["notes"]),
                sources=tuple(str(s) for s in manifest["sources"]),
                model_name=str(manifest["model_name"]),
                node_count=int(manifest["node_count"]),
                depth=int(manifest["depth"]),
                device=str(manifest["device"]),
                weight_bytes=int(manifest["weight_bytes"]),
                layouts={int(depth): name(file) for depth, file in manifest["layouts"].items()},
                details_path=name(manifest["details"]),
                time_limited=bool(manifest["time_limited"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.on_damage(f"the cached diagram's manifest is damaged ({exc.__class__.__name__}); drawing again")
            return None
        paths = [cached.svg_path, cached.dot_path, cached.details_path, *cached.layouts.values()]
        paths += [cached.onnx_path] if cached.onnx_path else []
        try:
            for path in paths:
                check_file(path)
            json.loads(cached.details_path.read_bytes())
        except (DamagedFile, OSError, ValueError) as exc:
            self.on_damage(f"the cached diagram file {exc}; drawing again")
            return None
        return cached

    def store(self, spec_key: str, made: Artifacts) -> CachedDiagram:
        """Write a finished diagram's files, then its manifest and record."""
        digests = {path: file_digest(path) for path in made.sources}
        result_key = self.result_key(spec_key, digests)
        files = self.root / "files"
        details = json.dumps(made.details, sort_keys=True, ensure_ascii=False).encode()
        manifest: dict[str, object] = {
            "svg": content_name(made.svg, ".svg"),
            "dot": content_name(made.dot.encode(), ".dot"),
            "onnx": content_name(made.onnx, ".onnx") if made.onnx is not None else None,
            "onnx_mode": made.onnx_mode,
            "problems": [[p.stage, p.message] for p in made.problems],
            "notes": made.notes,
            "sources": made.sources,
            "model_name": made.model_name,
            "node_count": made.node_count,
            "depth": made.depth,
            "device": made.device,
            "weight_bytes": made.weight_bytes,
            "layouts": {str(depth): content_name(svg, ".svg") for depth, svg in made.layouts.items()},
            "details": content_name(details, ".json"),
            "time_limited": made.time_limited,
        }
        for depth, svg in made.layouts.items():
            self._write_if_missing(files / content_name(svg, ".svg"), svg)
        self._write_if_missing(files / str(manifest["details"]), details)
        self._write_if_missing(files / str(manifest["svg"]), made.svg)
        self._write_if_missing(files / str(manifest["dot"]), made.dot.encode())
        if made.onnx is not None:
            self._write_if_missing(files / str(manifest["onnx"]), made.onnx)
        self._write(self._manifest_path(result_key), json.dumps(manifest, indent=1).encode())
        record = {"sources": made.sources, "digests": digests}
        self._write(self._record_path(spec_key), json.dumps(record, indent=1).encode())
        loaded = self._load(result_key)
        assert loaded is not None
        return loaded


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
