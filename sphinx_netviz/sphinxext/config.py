"""The ``netviz_*`` settings of ``conf.py``, as one typed dataclass.

Declared with types at setup and checked at ``config-inited``: a bad value
gets a ``netviz.config`` warning and falls back to its default, so the build
goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

from ..limits import Limits, default_jobs, default_memory_mb
from ..pipeline import PipelineSettings
from ..spec import DEVICES, DIRECTIONS, MAX_DEPTH, MODEL_DTYPES, ONNX_MODES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetvizConfig:
    """Project-wide defaults for ``.. netviz::`` (each is ``netviz_<field>`` in conf.py)."""

    #: levels of the module tree to expand (0: one box for the whole model)
    depth: int = 2
    #: Graphviz ``rankdir``: ``TB`` (top to bottom) or ``LR`` (left to right)
    direction: str = "TB"
    #: ONNX download: ``auto`` (``full`` up to ``onnx_max_mb``, else ``structure``),
    #: ``full``, ``structure``, ``none``; ``True``/``False`` mean ``auto``/``none``
    onnx: str | bool = "auto"
    #: weights up to this size (MB) are exported in full with ``onnx = auto``
    onnx_max_mb: float = 25.0
    #: ``auto`` (``meta``; real weights for the ONNX file up to ``meta_above_mb``), ``meta`` or ``cpu``
    device: str = "auto"
    #: the dtype models are built in: ``auto`` (as each builds itself), ``float32``, ``bfloat16``,
    #: ``float16``
    dtype: str = "auto"
    #: with ``device = auto``, models with more weights than this (MB) are traced on ``meta``
    meta_above_mb: float = 128.0
    #: the largest model (MB of weights) built on the CPU when ``meta`` cannot trace it
    cpu_max_mb: float = 4096.0
    #: draw runs of identical sibling blocks once, marked ×N
    fold: bool = True
    #: show the layer summary table under each diagram (HTML)
    summary: bool = True
    #: the Graphviz executable (a name on PATH or a full path)
    dot: str = "dot"
    #: seconds Graphviz may take to lay out one diagram before a coarser depth is drawn
    layout_timeout: float = 30.0
    #: seconds the ONNX exporters may take for one diagram before a graph-only file is written
    export_timeout: float = 60  # a whole number, so that -D works
    #: seconds one diagram may take, every stage together (``:timeout:`` per directive)
    timeout: float = 180  # whole numbers, so that -D netviz_timeout=300 works (Sphinx cannot -D a float)
    #: memory (MB) the process drawing one diagram may allocate; 0: 3/4 of the RAM over ``jobs``
    memory_mb: float = 0
    #: diagrams drawn at once, each in its own process; 0: one per CPU
    jobs: int = 0

    @classmethod
    def from_sphinx(cls, config: Config) -> NetvizConfig:
        return cls(**{f.name: getattr(config, f"netviz_{f.name}") for f in fields(cls)})

    @property
    def onnx_mode(self) -> str:
        if isinstance(self.onnx, bool):
            return "auto" if self.onnx else "none"
        return self.onnx

    @property
    def job_count(self) -> int:
        return self.jobs or default_jobs()

    def limits(self, timeout: float | None = None) -> Limits:
        """The limits of one diagram's process (``timeout`` from ``:timeout:``, if given)."""
        memory = self.memory_mb or default_memory_mb(self.job_count)
        return Limits(timeout=timeout or self.timeout, memory_mb=memory)

    @property
    def pipeline_settings(self) -> PipelineSettings:
        return PipelineSettings(dot=self.dot, layout_timeout=self.layout_timeout,
                                onnx_max_mb=self.onnx_max_mb, meta_above_mb=self.meta_above_mb,
                                cpu_max_mb=self.cpu_max_mb, export_timeout=self.export_timeout)

    def problems(self) -> dict[str, str]:
        """``{field: what is wrong}`` for each invalid value."""
        out = {}
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or not 0 <= self.depth <= MAX_DEPTH:
            out["depth"] = f"must be a whole number from 0 to {MAX_DEPTH}"
        if self.direction not in DIRECTIONS:
            out["direction"] = f"must be one of {', '.join(DIRECTIONS)}"
        if not isinstance(self.onnx, bool) and self.onnx not in ONNX_MODES:
            out["onnx"] = f"must be one of {', '.join(ONNX_MODES)} (or True/False)"
        if self.device not in DEVICES:
            out["device"] = f"must be one of {', '.join(DEVICES)}"
        if self.dtype not in MODEL_DTYPES:
            out["dtype"] = f"must be one of {', '.join(MODEL_DTYPES)}"
        for name in ("fold", "summary"):
            if not isinstance(getattr(self, name), bool):
                out[name] = "must be True or False"
        for name in ("onnx_max_mb", "meta_above_mb", "cpu_max_mb"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                out[name] = "must be a number of megabytes, 0 or more"
        if not isinstance(self.dot, str) or not self.dot:
            out["dot"] = "must be the name or path of the Graphviz dot executable"
        for name in ("layout_timeout", "export_timeout", "timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1e6:
                out[name] = "must be a positive number of seconds"
        if not isinstance(self.memory_mb, (int, float)) or isinstance(self.memory_mb, bool) \
                or not (self.memory_mb == 0 or 100 <= self.memory_mb < 1e9):
            out["memory_mb"] = "must be a number of megabytes, at least 100 (or 0 for the default)"
        if not isinstance(self.jobs, int) or isinstance(self.jobs, bool) or not 0 <= self.jobs <= 256:
            out["jobs"] = "must be a whole number from 0 (one per CPU) to 256"
        return out


_TYPES: dict[str, Any] = {
    "depth": (int,), "direction": (str,), "onnx": (str, bool), "onnx_max_mb": (int, float),
    "meta_above_mb": (int, float),
    "device": (str,), "dtype": (str,), "cpu_max_mb": (int, float), "fold": (bool,), "summary": (bool,), "dot": (str,),
    "layout_timeout": (int, float), "export_timeout": (int, float), "timeout": (int, float),
    "memory_mb": (int, float), "jobs": (int,),
}


def register(app: Sphinx) -> None:
    """Declare every ``netviz_*`` value with its default and type."""
    for f in fields(NetvizConfig):
        # how many processes draw, and with how much memory, does not change a page
        rebuild = "" if f.name in ("jobs", "memory_mb") else "env"
        app.add_config_value(f"netviz_{f.name}", f.default, rebuild, types=_TYPES[f.name])


def check(app: Sphinx, config: Config) -> None:
    """``config-inited``: warn about bad values and put their defaults back."""
    current = NetvizConfig.from_sphinx(config)
    for name, why in current.problems().items():
        default = next(f.default for f in fields(NetvizConfig) if f.name == name)
        logger.warning(
            "netviz_%s = %r %s; using %r", name, getattr(current, name), why, default,
            type="netviz", subtype="config",
        )
        setattr(config, f"netviz_{name}", default)
