"""Every option and setting, declared once: its default, parser, validator, help and spellings.

The option model, first step of the pipeline (**options** → spec → load →
trace → graph → render/export).  Each :class:`Option` says how it is written
in each front end — ``:depth:`` on the directive, ``netviz_depth`` in
``conf.py``, ``--depth`` on the command line, ``depth=`` in Python — its
default, how text becomes a value (:attr:`Option.parse`, for the directive
and the command line) and which values it takes (:attr:`Option.check`, for
``conf.py``, Python callers and :class:`~sphinx_netviz.spec.DiagramSpec`).
The directive's ``option_spec``, the ``add_config_value`` calls, the command
line's flags and the table in ``docs/options.rst`` (checked by a test) all
come from :data:`OPTIONS`.

Messages name options through :func:`say`, in the wording of the front end at
work (:func:`worded_for`): "raise :timeout:" in a docs build, "raise
--layout-timeout" on the command line.  A bad value is an
:class:`OptionProblem`, which knows its option.  Nothing here imports torch or
Sphinx.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from .errors import InputProblem
from .preload import check_preload, parse_preload
from .shading import COLOR_BY
from .values import (
    DEVICES,
    DIRECTIONS,
    MODEL_DTYPE_ALIASES,
    MODEL_DTYPES,
    ValueProblem,
    check_bool,
    check_choice,
    check_css_length,
    check_depth,
    check_dtypes,
    check_executable,
    check_folder,
    check_jobs,
    check_kwargs,
    check_megabytes,
    check_memory_mb,
    check_onnx_mode,
    check_optional_import_path,
    check_seconds,
    check_shapes,
    parse_bool,
    parse_choice,
    parse_depth,
    parse_dtypes,
    parse_import_path,
    parse_kwargs,
    parse_megabytes,
    parse_onnx_mode,
    parse_seconds,
    parse_shapes,
    parse_text,
    parse_whole,
)


class Frontend(str, Enum):
    """Who reads a message: each words options its own way."""

    #: a docs build: ``:depth:`` for directive options, ``netviz_dot`` for the others
    SPHINX = "sphinx"
    #: a ``conf.py`` value: ``netviz_depth``
    CONF = "conf"
    #: the command line: ``--depth``
    CLI = "cli"
    #: Python (``draw(...)``): ``depth=``
    API = "api"


#: which part of the pipeline an option feeds ("build": where a docs build keeps its work)
Scope = Literal["spec", "page", "pipeline", "limits", "build"]

_FRONTEND: contextvars.ContextVar[Frontend] = contextvars.ContextVar("netviz_frontend",
                                                                     default=Frontend.SPHINX)
_UNSET: Any = object()


class OptionProblem(InputProblem):
    """A value an option does not take; ``option`` names it (``depth``)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class Option:
    """One option or setting, in every front end."""

    #: the field name (``DiagramSpec.depth``, ``PipelineSettings.dot``) and Python keyword
    name: str
    default: Any
    #: one line for ``--help`` and the docs table
    help: str
    #: option text (directive, command line) → value; raises :class:`ValueProblem`
    parse: Callable[[str], Any]
    #: value (``conf.py``, Python) → value, normalised; raises :class:`ValueProblem`
    check: Callable[[Any], Any]
    scope: Scope
    #: the directive option (``input-shape``), if the directive takes it
    directive: str | None = None
    #: settable in ``conf.py`` as ``netviz_<name>``
    setting: bool = True
    #: command-line flags, the first as messages name it (``--layout-timeout``, ``--timeout``)
    flags: tuple[str, ...] = ()
    metavar: str | None = None
    #: the Python types ``conf.py`` may give (``add_config_value``)
    types: tuple[type, ...] = ()
    #: what changing it in ``conf.py`` rebuilds (``""``: nothing on the page changes)
    rebuild: str = "env"

    @property
    def conf_name(self) -> str:
        return f"netviz_{self.name}"

    @property
    def keyword(self) -> str:
        """The option's name in Python (``draw(input_shape=…)``): the directive's, with ``_``."""
        return self.directive.replace("-", "_") if self.directive else self.name

    def spelled(self, frontend: Frontend, value: Any = _UNSET, *, setting: bool = False) -> str:
        """How ``frontend`` writes this option (with ``value``, if given).

        ``setting``: the ``conf.py`` setting rather than the directive option, in a docs build.
        """
        given = value is not _UNSET
        if frontend is Frontend.API:
            if given and isinstance(value, str) and isinstance(self.default, str) and value[:1] not in "'\"":
                value = repr(value)  # onnx='none'
            return f"{self.keyword}={value}" if given else self.keyword
        if frontend is Frontend.CLI and self.flags:
            flag = self.flags[0]
            if self.check is check_bool and given:
                return flag if value in (True, "true") else f"--no-{flag[2:]}"
            return f"{flag} {value}" if given else flag
        if frontend is Frontend.SPHINX and self.directive and not setting:
            return f":{self.directive}: {value}" if given else f":{self.directive}:"
        return f"{self.conf_name} = {value}" if given else self.conf_name

    def from_text(self, text: str) -> Any:
        """The value of option text (directive, command line), checked."""
        try:
            return self.check(self.parse(text))
        except ValueProblem as why:
            raise OptionProblem(self.name, f"{say(self.name)} {why}") from None

    def validated(self, value: Any) -> Any:
        """``value`` (``conf.py``, Python) checked and normalised."""
        try:
            return self.check(value)
        except ValueProblem as why:
            raise OptionProblem(self.name, f"{say(self.name)} {why}") from None


def _choice(choices: tuple[str, ...], **parse: Any) -> dict[str, Callable[..., Any]]:
    return {"parse": parse_choice(choices, **parse), "check": check_choice(choices)}


_SHAPES = {"parse": parse_shapes, "check": check_shapes}
_SECONDS = {"parse": parse_seconds, "check": check_seconds, "types": (int, float)}
_MEGABYTES = {"parse": parse_megabytes, "check": check_megabytes, "types": (int, float)}

#: every option and setting, in the order the docs and ``--help`` list them
OPTIONS_LIST: tuple[Option, ...] = (
    # -- what to draw: DiagramSpec -------------------------------------------------------------
    Option("input_shapes", (), "shape(s) of the example input(s): '16, 3, 512, 512', '16x3x512x512', "
           "or '(1, 3, 224, 224), (1, 10)' for several", scope="spec", directive="input-shape",
           setting=False, flags=("--input-shape",), metavar="SHAPE", **_SHAPES),
    Option("input_dtypes", (), "dtype of the shaped inputs: one, or one per input (default: the "
           "model's float dtype)", parse_dtypes, check_dtypes, "spec", directive="input-dtype",
           setting=False, flags=("--input-dtype",), metavar="DTYPES"),
    Option("inputs", None, "'package.module:make_inputs', a function returning the example inputs "
           "(a tensor, a tuple of positional inputs or a dict of keyword inputs)", parse_import_path,
           check_optional_import_path, "spec", directive="inputs", setting=False, flags=("--inputs",),
           metavar="PATH"),
    Option("kwargs", {}, "keyword arguments for the model's class or factory, as a Python literal dict",
           parse_kwargs, check_kwargs, "spec", directive="kwargs", setting=False, flags=("--kwargs",),
           metavar="DICT"),
    Option("depth", 2, "levels of nested modules to open up (0: one box for the whole model)",
           parse_depth, check_depth, "spec", directive="depth", flags=("--depth",), metavar="N",
           types=(int,)),
    Option("direction", "TB", "layout direction: TB (top to bottom) or LR (left to right); BT and RL too",
           scope="spec", directive="direction", flags=("--direction",), metavar="TB|LR", types=(str,),
           **_choice(DIRECTIONS, normalise=str.upper)),
    Option("fold", True, "draw runs of identical sibling blocks once, marked ×N",
           parse_bool, check_bool, "spec", directive="fold", flags=("--fold",), types=(bool,)),
    Option("device", "auto", "where the model is built and traced: auto (meta; real weights only for "
           "the ONNX file of a small model), meta (never allocates weights) or cpu",
           scope="spec", directive="device", flags=("--device",), metavar="auto|meta|cpu",
           types=(str,), **_choice(DEVICES)),
    Option("dtype", "auto", "the dtype the model is built in: float32, bfloat16, float16, or auto "
           "(as the model builds itself); float inputs follow it", scope="spec", directive="dtype",
           flags=("--dtype",), metavar="DTYPE", types=(str,),
           **_choice(MODEL_DTYPES, normalise=lambda t: t.lower().removeprefix("torch."),
                     aliases=MODEL_DTYPE_ALIASES)),
    Option("color_by", "none", "shade the module boxes by their share of the model's parameters or "
           "MACs, with a legend: none, params or macs", scope="spec", directive="color-by",
           flags=("--color-by",), metavar="none|params|macs", types=(str,),
           **_choice(COLOR_BY, normalise=str.lower)),
    Option("onnx", "auto", "the ONNX download: auto (full up to onnx_max_mb of weights, else the "
           "structure), full, structure, or none", parse_onnx_mode, check_onnx_mode, "spec",
           directive="onnx", flags=("--onnx-mode",), metavar="MODE", types=(str, bool)),
    # -- the page --------------------------------------------------------------------------------
    Option("summary", True, "show the layer summary table under the diagram", parse_bool, check_bool,
           "page", directive="summary", types=(bool,)),
    Option("height", "", "the viewer canvas's height limit, a CSS length (600px, 60vh); empty: the "
           "page's --netviz-height, else 90vh", parse_text, check_css_length, "page", directive="height",
           types=(str,)),
    # -- the pipeline: PipelineSettings ------------------------------------------------------------
    Option("onnx_max_mb", 25.0, "with onnx auto, weights up to this many megabytes are exported in full",
           scope="pipeline", flags=("--onnx-max-mb",), metavar="MB", **_MEGABYTES),
    Option("meta_above_mb", 128.0, "with device auto, a model with more megabytes of weights is never "
           "built for real for its ONNX file", scope="pipeline", flags=("--meta-above-mb",), metavar="MB",
           **_MEGABYTES),
    Option("cpu_max_mb", 4096.0, "the largest model (megabytes of weights) built for real when it has to "
           "be (a forward that fails on meta, a full ONNX file)", scope="pipeline",
           flags=("--cpu-max-mb",), metavar="MB", **_MEGABYTES),
    Option("dot", "dot", "the Graphviz dot executable: a name on PATH or a full path (dot, when none "
           "is on PATH: graphviz-pure from the pure extra, if installed)", parse_text,
           check_executable, "pipeline", flags=("--dot",), metavar="EXE", types=(str,)),
    Option("layout_timeout", 30.0, "seconds one Graphviz layout may take before a coarser depth is drawn",
           scope="pipeline", flags=("--layout-timeout", "--timeout"), metavar="SECONDS", **_SECONDS),
    Option("export_timeout", 60, "seconds the ONNX exporters may take together before a graph-only file "
           "is written", scope="pipeline", flags=("--export-timeout",), metavar="SECONDS", **_SECONDS),
    # -- each diagram's process: Limits --------------------------------------------------------------
    # whole numbers, so that -D netviz_timeout=300 works (Sphinx cannot -D a float)
    Option("timeout", 180, "seconds one diagram may take, every stage together", scope="limits",
           directive="timeout", **_SECONDS),
    Option("memory_mb", 0, "megabytes the process drawing one diagram may allocate (0: 3/4 of the RAM "
           "over jobs)", parse_megabytes, check_memory_mb, "limits", types=(int, float), rebuild=""),
    Option("jobs", 0, "diagrams drawn at once, each in its own process (0: one per CPU)", parse_whole,
           check_jobs, "limits", types=(int,), rebuild=""),
    # -- where a docs build keeps its diagrams ---------------------------------------------------
    Option("cache_dir", "", "the diagram cache's folder, relative to conf.py's folder (empty: "
           "<doctreedir>/netviz)", parse_text, check_folder, "build", types=(str,)),
    Option("preload", "auto", "the installed libraries (module names) the process that forks each "
           "diagram's process imports first: auto (those the diagrams imported before), a list, or [] "
           "for none", parse_preload, check_preload, "build", types=(str, list, tuple), rebuild=""),
)

#: the options by name
OPTIONS: dict[str, Option] = {option.name: option for option in OPTIONS_LIST}


def defaults(scope: Scope) -> dict[str, Any]:
    """``{name: default}`` of the options of ``scope``."""
    return {o.name: o.default for o in OPTIONS_LIST if o.scope == scope}


def say(name: str, value: Any = _UNSET, *, setting: bool = False) -> str:
    """Option ``name`` (with ``value``) as the front end at work writes it.

    ``setting``: in a docs build, name the ``conf.py`` setting, not the directive option.
    """
    return OPTIONS[name].spelled(_FRONTEND.get(), value, setting=setting)


def frontend() -> Frontend:
    """The front end messages are worded for now."""
    return _FRONTEND.get()


@contextmanager
def worded_for(which: Frontend) -> Iterator[None]:
    """Word the messages made inside for ``which`` front end."""
    token = _FRONTEND.set(which)
    try:
        yield
    finally:
        _FRONTEND.reset(token)
