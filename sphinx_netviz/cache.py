"""On-disk cache of finished diagrams, keyed by content.

Pipeline step *write* (render/export → **cache**).  A diagram's files are
named by a key made of the spec and the bytes of every project source file
it depends on, so a rebuild where nothing changed finds them without
importing torch, while an edit to the model's file misses.  Files are
written to a temporary name and renamed, and the manifest is written last,
so a crash never leaves a half-written entry that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .artifacts import Artifacts, Problem
from .deps import file_digest

FORMAT = "3"


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


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
    return f"{prefix}{hashlib.sha256(data).hexdigest()[:16]}{suffix}"


class DiagramCache:
    """Diagrams stored under ``root``: ``records/`` per spec, ``files/`` per result."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

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
            return (self.root / "files" / record["onnx"]).read_bytes(), record["mode"]
        except (OSError, KeyError):
            return None

    def store_export(self, export_key: str, made: Artifacts) -> None:
        """Remember a diagram's ONNX file for other drawings of the same model and inputs."""
        if made.onnx is None or made.onnx_mode is None:
            return
        name = content_name(made.onnx, ".onnx")
        _write_if_missing(self.root / "files" / name, made.onnx)
        record = {"sources": made.sources, "digests": {p: file_digest(p) for p in made.sources},
                  "onnx": name, "mode": made.onnx_mode}
        write_atomic(self.root / "exports" / f"{export_key}.json", json.dumps(record, indent=1).encode())

    def _load(self, result_key: str) -> CachedDiagram | None:
        try:
            manifest = json.loads(self._manifest_path(result_key).read_text())
            files = self.root / "files"
            cached = CachedDiagram(
                key=result_key,
                svg_path=files / manifest["svg"],
                dot_path=files / manifest["dot"],
                onnx_path=files / manifest["onnx"] if manifest["onnx"] else None,
                onnx_mode=manifest["onnx_mode"],
                problems=tuple(Problem(stage, message) for stage, message in manifest["problems"]),
                notes=tuple(manifest["notes"]),
                sources=tuple(manifest["sources"]),
                model_name=manifest["model_name"],
                node_count=int(manifest["node_count"]),
                depth=int(manifest["depth"]),
                device=manifest["device"],
                weight_bytes=int(manifest["weight_bytes"]),
                layouts={int(depth): files / name for depth, name in manifest["layouts"].items()},
                details_path=files / manifest["details"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        paths = [cached.svg_path, cached.dot_path, cached.details_path, *cached.layouts.values()]
        paths += [cached.onnx_path] if cached.onnx_path else []
        return cached if all(p.is_file() for p in paths) else None

    def store(self, spec_key: str, made: Artifacts) -> CachedDiagram:
        """Write a finished diagram's files, then its manifest and record."""
        digests = {path: file_digest(path) for path in made.sources}
        result_key = self.result_key(spec_key, digests)
        files = self.root / "files"
        details = json.dumps(made.details, sort_keys=True, ensure_ascii=False).encode()
        manifest: dict[str, object] = {
            "svg": content_name(made.svg, ".svg"),
            "dot": f"{result_key[:16]}.dot",
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
        }
        for depth, svg in made.layouts.items():
            _write_if_missing(files / content_name(svg, ".svg"), svg)
        _write_if_missing(files / str(manifest["details"]), details)
        _write_if_missing(files / str(manifest["svg"]), made.svg)
        _write_if_missing(files / str(manifest["dot"]), made.dot.encode())
        if made.onnx is not None:
            _write_if_missing(files / str(manifest["onnx"]), made.onnx)
        write_atomic(self._manifest_path(result_key), json.dumps(manifest, indent=1).encode())
        record = {"sources": made.sources, "digests": digests}
        write_atomic(self._record_path(spec_key), json.dumps(record, indent=1).encode())
        loaded = self._load(result_key)
        assert loaded is not None
        return loaded


def _write_if_missing(path: Path, data: bytes) -> None:
    """Content-named files never change, so an existing one is left alone (and its mtime)."""
    if not path.exists():
        write_atomic(path, data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
