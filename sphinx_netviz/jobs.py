"""What the parent asks of a child process, and what comes back: plain data.

Between the directive and the pipeline (directive → **job** → child:
load → trace → graph → render/export → cache).  A :class:`Job` is written
by the parent (:mod:`sphinx_netviz.runner`) into a fresh job folder and
read by the child (:mod:`sphinx_netviz.worker`); the child writes its
progress (one stage name a line) and, if it lives to the end, a JSON
result.  The diagrams themselves go into the cache, where the parent
verifies them.  Nothing here imports torch or Sphinx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Stage
from .limits import Limits
from .pipeline import PipelineSettings
from .spec import DiagramSpec

JOB_FILE = "job.pickle"
PROGRESS_FILE = "progress"
RESULT_FILE = "result.json"
OUTPUT_FILE = "output.log"

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

    def to_json(self) -> bytes:
        return json.dumps({"failures": {k: [f.stage, f.message] for k, f in self.failures.items()},
                           "problems": [[p.stage, p.message] for p in self.problems],
                           "timings": self.timings}, sort_keys=True).encode()

    @classmethod
    def read(cls, path: Path) -> JobResult | None:
        """The result a child wrote, or None if it is missing or malformed (a child died)."""
        try:
            data = json.loads(path.read_bytes())
            failures = {str(k): Failure(str(v[0]), str(v[1])) for k, v in data["failures"].items()}
            problems = [Failure(str(v[0]), str(v[1])) for v in data["problems"]]
            timings = {str(k): float(v) for k, v in data["timings"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None
        return cls(failures, problems, timings)


def last_stage(folder: Path) -> str:
    """The last stage a child reported starting (``start`` if none)."""
    try:
        lines = (folder / PROGRESS_FILE).read_text(errors="replace").split()
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
