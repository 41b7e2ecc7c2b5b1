"""What the parent asks of a child process, and what comes back: plain data.

Between the directive and the pipeline (directive → **job** → child:
load → trace → graph → render/export → cache).  A :class:`Job` is written
by the parent (:mod:`sphinx_netviz.runner`) into a fresh job folder and
read by the child (:mod:`sphinx_netviz.worker`); the child writes its
progress (one stage name a line) and, if it lives to the end, a JSON
result; its supervisor writes what it printed, bounded
(:class:`KeptOutput`).  A child that cannot write into its folder says why
by its exit code (:func:`exit_code_for`).  The diagrams themselves go into
the cache, where the parent verifies them.  Nothing here imports torch or
Sphinx.
"""

from __future__ import annotations

import errno
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Stage
from .limits import OUTPUT_KEEP_BYTES, Limits
from .options import say
from .pipeline import PipelineSettings
from .spec import DiagramSpec

#: environment variable naming a file that gets one line per step of a build's drawing, from the
#: runner, the server and each child (``benchmarks/floor.py``'s timeline; unset in normal builds)
TIMELINE_LOG = "NETVIZ_TIMELINE_LOG"


def mark(event: str) -> None:
    """Add ``<unix time> <pid> <event>`` to the timeline file, if the environment names one."""
    path = os.environ.get(TIMELINE_LOG)
    if not path:
        return
    try:
        with open(path, "a") as handle:  # one short write: lines of parallel processes stay whole
            handle.write(f"{time.time():.4f} {os.getpid()} {event}\n")
    except OSError:
        pass  # only a measuring aid


JOB_FILE = "job.pickle"
PROGRESS_FILE = "progress"
RESULT_FILE = "result.json"
OUTPUT_FILE = "output.log"

#: exit codes of a child that cannot write into its job folder (its result cannot say why)
EXIT_FAILED = 70
#: ... because the disk is full (``ENOSPC``, ``EDQUOT``)
EXIT_DISK_FULL = 74
#: ... because the folder is gone (model code removed it)
EXIT_FOLDER_GONE = 75
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}

#: the warning subtype for a failure during each stage the child reports
STAGE_SUBTYPES = {"start": "import", "import": "import", "read": "import", "build": "trace", "trace": "trace",
                  "render": "render", "export": "export", "store": "write"}
#: what the author reads for each stage ("... while tracing the model")
STAGE_WORDS = {"start": "starting", "import": "importing the model", "read": "reading the ONNX file",
               "build": "building the model",
               "trace": "tracing the model", "render": "laying out the diagram",
               "export": "exporting ONNX", "store": "storing the diagram"}


@dataclass(frozen=True)
class Drawing:
    """One diagram a job makes: its spec and the cache key it is stored under."""

    key: str
    spec: DiagramSpec


@dataclass(frozen=True)
class Job:
    """Drawings of one model and inputs, made in one child (one trace, one export)."""

    drawings: tuple[Drawing, ...]
    #: the key of the shared ONNX export (:meth:`DiagramSpec.export_view`)
    export_key: str
    settings: PipelineSettings
    limits: Limits
    cache_root: str
    #: the parent's ``sys.path`` and working folder, so the model imports as it would there
    sys_path: tuple[str, ...] = ()
    cwd: str = "."
    #: conf.py's folder and the source folder: where a message's sys.path hint is measured from
    folders: tuple[str, ...] = ()
    #: what the child makes: ``draw`` (diagrams); for an architecture diff (``netviz-diff``,
    #: :mod:`~sphinx_netviz.archjob`) ``side`` (each drawing's model traced, its snapshot stored)
    #: or ``diff`` (two stored sides merged into the drawing; no model code runs)
    kind: str = "draw"
    #: a ``diff`` job's sides, old and new (:class:`~sphinx_netviz.archjob.Side`)
    sides: tuple[Any, ...] = ()


@dataclass
class Failure:
    """Why one drawing was not made: the warning subtype and the message."""

    stage: Stage
    message: str


@dataclass
class JobResult:
    """What a child reports: per drawing key, ``None`` (stored in the cache) or a failure."""

    failures: dict[str, Failure] = field(default_factory=dict)
    #: problems of the job as a whole, warned about for each of its drawings (threads left running)
    problems: list[Failure] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: the installed modules the child imported, in order, and the installed packages its imports
    #: named (:class:`~sphinx_netviz.preload.ImportRecorder`): unchecked, model code may write anything
    imported: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps({"failures": {k: [f.stage, f.message] for k, f in self.failures.items()},
                           "problems": [[p.stage, p.message] for p in self.problems],
                           "timings": self.timings, "imported": self.imported, "used": self.used},
                          sort_keys=True).encode()

    @classmethod
    def read(cls, path: Path) -> JobResult | None:
        """The result a child wrote, or None if it is missing or malformed (a child died)."""
        try:
            data = json.loads(path.read_bytes())
            failures = {str(k): Failure(str(v[0]), str(v[1])) for k, v in data["failures"].items()}
            problems = [Failure(str(v[0]), str(v[1])) for v in data["problems"]]
            timings = {str(k): float(v) for k, v in data["timings"].items()}
            imported, used = (_strings(data.get(name)) for name in ("imported", "used"))
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None
        return cls(failures, problems, timings, imported, used)


def _strings(value: object) -> list[str]:
    """The strings of a list (a result's module names); [] for anything else."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def last_stage(folder: Path) -> str:
    """The last stage a child reported starting (``start`` if none)."""
    try:
        with open(folder / PROGRESS_FILE, "rb") as handle:  # a few short lines: read no more than that
            lines = handle.read(65536).decode(errors="replace").split()
    except OSError:
        return "start"
    known = [line for line in lines if line in STAGE_SUBTYPES]
    return known[-1] if known else "start"


def last_output(folder: Path, name: str = OUTPUT_FILE, limit: int = 300) -> str:
    """The last line a child printed (a crash's own words), bounded; '' if none."""
    try:
        with open(folder / name, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 4096))
            tail = handle.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""


def exit_code_for(exc: BaseException) -> int:
    """The exit code of a child that failed to write into its job folder with ``exc``."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return EXIT_DISK_FULL
    if isinstance(exc, FileNotFoundError):
        return EXIT_FOLDER_GONE
    return EXIT_FAILED


def disk_full(folder: str | os.PathLike[str]) -> str:
    """What a ``netviz.write`` warning says when nothing more fits on ``folder``'s disk."""
    mount = Path(os.path.abspath(folder))
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    return (f"the disk holding {folder} (mounted at {mount}) is full (No space left on device); free "
            f"some space on it, or set {say('cache_dir', setting=True)} to a folder on another disk")


#: the line between the beginning and the end of an output that was cut
_LEFT_OUT = b"\n[netviz: %d bytes of output left out here]\n"
_LEFT_OUT_PATTERN = re.compile(rb"\n\[netviz: (\d+) bytes of output left out here\]\n")


class KeptOutput:
    """What a child writes to its stdout and stderr, kept within ``keep`` bytes: the first half
    and the last half, with a line saying how much was left out between them."""

    def __init__(self, keep: int = OUTPUT_KEEP_BYTES) -> None:
        self.half = max(1, keep // 2)
        self.head = bytearray()
        self.tail = bytearray()
        #: bytes written in all
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.half:
                del self.tail[:-self.half]

    def write(self, path: Path) -> None:
        tail = bytes(self.tail[-self.half:])
        left_out = self.total - len(self.head) - len(tail)
        with open(path, "wb") as handle:
            handle.write(self.head)
            if left_out:
                handle.write(_LEFT_OUT % left_out)
            handle.write(tail)


def cut_output(folder: Path, limit: int = 200) -> tuple[int, str] | None:
    """``(bytes written, first line)`` of a child's output that was too long to keep; else None."""
    half = OUTPUT_KEEP_BYTES // 2
    try:
        with open(folder / OUTPUT_FILE, "rb") as handle:
            head = handle.read(half)
            note = _LEFT_OUT_PATTERN.match(handle.read(100))
    except OSError:
        return None
    if note is None or len(head) < half:
        return None
    left_out = int(note.group(1))
    first = next((line.strip() for line in head.decode(errors="replace").splitlines() if line.strip()), "")
    return 2 * half + left_out, first[:limit]
